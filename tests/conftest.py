"""Suite-wide options: network tests run only when NATIVE_CHECK_NETWORK_TESTS=1."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("NATIVE_CHECK_NETWORK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="downloads from PyPI: set NATIVE_CHECK_NETWORK_TESTS=1")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)
