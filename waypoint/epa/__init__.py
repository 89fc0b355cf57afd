"""The end-point-assessment platform (epaPRO): connections, registrations and what Waypoint sends them."""
