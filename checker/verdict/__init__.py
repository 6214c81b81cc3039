"""The verdict: the whitelist, the report model and its exit code, whitelist upkeep."""
