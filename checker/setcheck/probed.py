"""What this run's probes recorded: the set check reads a module's result there instead of
importing the module alone once more (checker.setcheck.coimport).

A probe writes its wheel's fragment when it ends; the set check runs beside the probes, so a
fragment may not be there yet: when the wheel's probe is importing at that moment, its result
is waited for (checker.probe.underway), otherwise the module is imported alone, as before.
Only a fragment of this run (its ``run_id``) for the same bytes (its ``sha256``) counts: an
older one says nothing about this run's per-wheel check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from checker.config.context import RunContext
from checker.errors import InputFileError
from checker.findings import ModuleResult
from checker.probe.underway import result_if_importing
from checker.wheel.fragment import Fragment, fragment_path, read_fragment


def probes_of_this_run(
    ctx: RunContext, sha256_of: Mapping[str, str]
) -> Callable[[str, str], ModuleResult | None]:
    """``(wheel file name, module) -> ModuleResult | None`` from the fragments this run's
    probes wrote; ``sha256_of`` maps each wheel file name to the digest of its bytes."""
    read: dict[str, Fragment | None] = {}

    def fragment(wheel: str) -> Fragment | None:
        if read.get(wheel) is None:  # not there yet: look again next time
            path = fragment_path(ctx.fragments_dir, wheel)
            try:
                found = read_fragment(path)
            except InputFileError:
                found = None
            if found is None or found.run_id != ctx.run_id:
                found = result_if_importing(path) or found  # seconds away: waited for
            ours = (
                found is not None
                and found.run_id == ctx.run_id
                and found.sha256 == sha256_of.get(wheel)
            )
            read[wheel] = found if ours else None
        return read[wheel]

    def result(wheel: str, module: str) -> ModuleResult | None:
        found = fragment(wheel)
        if found is None:
            return None
        return next((m for m in found.modules if m.module == module), None)

    return result
