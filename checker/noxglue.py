"""The thin layer between nox sessions and the library: plans, errors, exit codes.

The noxfile calls only this module. Errors that stop a run end nox with exit code 2;
findings end the aggregate with exit code 1 (``session.error``); probe sessions never fail
for a finding.
"""

from __future__ import annotations

import nox

from checker.config.plan import Plan
from checker.sessions import probes, variants
from checker.sessions.across import across
from checker.sessions.probes import audit, check_native, probe
from checker.sessions.upkeep import clean, fetch, lock, matrix, whitelist
from checker.sessions.variants import probe_variant


def set_check(session: nox.Session, plan: Plan, variant: str | None) -> None:
    """Session body of set-check (set-check-{variant}): the folder as one environment."""
    if variant is None:
        probes.set_check(session, plan)
    else:
        variants.set_check_variant(session, plan, variant)


__all__ = [
    "across", "audit", "check_native", "clean", "fetch", "lock", "matrix", "probe", "probe_variant",
    "set_check", "whitelist",
]  # fmt: skip
