"""One wheel's bytes: the folder listing, the archive, its members, RECORD, exports, the lock
pins and the per-wheel result model (fragment)."""
