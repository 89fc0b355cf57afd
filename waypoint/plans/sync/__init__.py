"""Learning-plan synchronisation (SPEC §2): gather → decide → apply."""
