"""The set check: the folder as one environment (collisions, co-install, co-import, runtimes)."""
