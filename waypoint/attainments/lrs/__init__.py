"""The Learning Records Service (LRS): our own types, the SOAP client, and an emulator of the service."""
