"""One run of every registered claim (seed 0, quick tier, in-process) shared by all claim tests."""

import pytest

from stecheck.proofs_check.registry import default_registry
from stecheck.proofs_check.runner import run_claims


@pytest.fixture(scope="session")
def run():
    return run_claims(default_registry().select([]), seed=0, workers=0)
