"""native-import-checker: prove that every native extension in a folder of wheels loads."""

from __future__ import annotations

__version__ = "0.1.0"
