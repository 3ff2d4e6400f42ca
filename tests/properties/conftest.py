"""tests/properties: the `slow` tests (minutes) run only when asked: `pytest -m slow` or STECHECK_SLOW=1."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.getoption("-m") or "") or os.environ.get("STECHECK_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with `pytest -m slow` or STECHECK_SLOW=1")
    for item in items:
        if "slow" in item.keywords and "tests/properties" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)
