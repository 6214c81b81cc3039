"""``python -m checker``: see checker.cli."""

from __future__ import annotations

import sys

from checker.cli import main

sys.exit(main())
