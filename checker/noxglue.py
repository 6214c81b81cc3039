"""The thin layer between nox sessions and the library: plans, errors, exit codes.

The noxfile calls only this module. Errors that stop a run end nox with exit code 2;
findings end the aggregate with exit code 1 (``session.error``); probe sessions never fail
for a finding.
"""

from __future__ import annotations

from checker.sessions.probes import audit, check_native, probe
from checker.sessions.upkeep import clean, fetch, lock, matrix, whitelist
from checker.sessions.variants import probe_variant

__all__ = [
    "audit", "check_native", "clean", "fetch", "lock", "matrix", "probe", "probe_variant",
    "whitelist",
]  # fmt: skip
