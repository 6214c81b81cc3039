"""Session bodies of the noxfile's sessions, behind checker.noxglue."""
