"""Whole-run jobs: judging a run's fragments into report files, auditing a folder, pinning
packages.lock."""
