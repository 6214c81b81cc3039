"""``native-import-checker``: the static audit without nox (imports need nox's sessions).

    native-import-checker audit [FOLDER] [NAME...]

Takes the same NATIVE_CHECK_* settings as the nox sessions; FOLDER overrides
NATIVE_CHECK_PACKAGES. Exit 0 when every wheel passed or is whitelisted, 1 otherwise, 2 for a
usage or setup error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from checker.config.context import make_context
from checker.config.selection import parse_posargs, selected_wheels
from checker.config.settings import load_settings
from checker.errors import CheckerError, exit_code_for
from checker.reports.console import render_console
from checker.reports.progress import color_enabled
from checker.runs.audit import run_audit
from checker.textio import console_safe
from checker.wheel.discover import discover


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="native-import-checker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    audit = commands.add_parser("audit", help="static audit of a folder of wheels, no install")
    audit.add_argument("folder", nargs="?", type=Path, help="the packages folder")
    audit.add_argument("names", nargs="*", help="wheel file names, globs or project names")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    console_safe()
    args = _parser().parse_args(argv)
    environ = dict(os.environ)
    if args.folder is not None:
        environ["NATIVE_CHECK_PACKAGES"] = str(args.folder.absolute())
    try:
        settings = load_settings(Path.cwd(), environ)
        ctx = make_context(settings, None, "cli")
        every = discover(ctx.packages)
        refs = selected_wheels(every, parse_posargs(args.names, settings.shard))
        report = run_audit(ctx, refs, every)
    except CheckerError as exc:
        print(f"native-import-checker: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    print(render_console(report, color=color_enabled(sys.stdout)))
    return report.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
