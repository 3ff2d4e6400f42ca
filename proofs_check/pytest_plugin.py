"""pytest plugin ``stecheck`` (registered through the ``pytest11`` entry point): claim checks in a test suite.

Gives every test session a ``stecheck`` fixture::

    def test_prop_b2_still_holds(stecheck):
        stecheck.check("SBN-B2", expect="VERIFIED")   # fails with the evidence if the verdict changed

    def test_every_claim_decides(stecheck):
        for claim_id in stecheck.claim_ids():
            stecheck.check(claim_id)                   # fails on ERROR or INCONCLUSIVE (like --strict)

Options: ``--stecheck-seed N`` (default 0), ``--stecheck-tier quick|full``
(default quick) and ``--stecheck-profile dev|ci|thorough``: the effort of the
estimator battery (:func:`proofs_check.testing.parametrize_with_checks`:
examples per check, Monte Carlo samples per example) and the Hypothesis
settings profile ``stecheck-<name>`` loaded for the session's own ``@given``
tests (``ci`` is derandomized).  Claims run in-process, once per session each.  For property
tests of your own estimators see :mod:`proofs_check.testing`.  Importing this
plugin imports nothing heavy; the checker loads on first use.
"""

from __future__ import annotations

import pytest

__all__ = ["StecheckSession"]


def pytest_addoption(parser):
    group = parser.getgroup("stecheck", "stecheck claim checks")
    group.addoption("--stecheck-seed", type=int, default=0, help="run seed for the stecheck fixture (default 0)")
    group.addoption("--stecheck-tier", choices=("quick", "full"), default="quick",
                    help="effort tier for the stecheck fixture (default quick)")
    group.addoption("--stecheck-profile", choices=("dev", "ci", "thorough"), default=None,
                    help="estimator-battery effort and Hypothesis profile stecheck-<name> (default: battery ci, "
                         "Hypothesis settings untouched)")


def pytest_configure(config):
    profile = config.getoption("--stecheck-profile", default=None)
    if profile:
        from hypothesis import settings

        from stecheck.proofs_check.battery.api import register_hypothesis_profiles, set_default_profile

        register_hypothesis_profiles()
        settings.load_profile(f"stecheck-{profile}")
        set_default_profile(profile)


class StecheckSession:
    """Runs claims on demand (once each) and asserts on their verdicts."""

    def __init__(self, seed: int = 0, tier: str = "quick"):
        self.seed, self.tier = seed, tier
        self._results: dict[str, object] = {}

    def claim_ids(self) -> list[str]:
        from stecheck.proofs_check.registry import default_registry

        return default_registry().ids()

    def result(self, claim_id: str):
        """The :class:`proofs_check.ClaimResult` of ``claim_id`` for this session's seed and tier."""
        from stecheck.proofs_check.registry import default_registry
        from stecheck.proofs_check.runner import run_claims

        claim = default_registry().get(claim_id)
        if claim.id not in self._results:
            run = run_claims([claim], seed=self.seed, tier=self.tier, workers=0)
            self._results[claim.id] = run.claims[0]
        return self._results[claim.id]

    def check(self, claim_id: str, expect: str | None = None):
        """Assert the claim's verdict equals ``expect`` (if given) and is neither ERROR nor INCONCLUSIVE."""
        from stecheck.proofs_check.verdict import Verdict

        res = self.result(claim_id)
        problems = []
        if expect is not None and res.verdict.value != str(expect).upper():
            problems.append(f"expected {str(expect).upper()}, got {res.verdict.value}")
        if res.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE):
            problems.append(f"verdict {res.verdict.value}")
        if problems:
            methods = "; ".join(f"{m.name}={m.verdict.value}" + (f" ({m.error})" if m.error else "")
                                for m in res.methods)
            details = "\n  - ".join(res.discrepancies) or "(none)"
            pytest.fail(f"{res.claim_id}: {', '.join(problems)}\nmethods: {methods}\n"
                        f"discrepancies:\n  - {details}\n{res.replay}", pytrace=False)
        return res


@pytest.fixture(scope="session")
def stecheck(pytestconfig) -> StecheckSession:
    """A :class:`StecheckSession` with the seed and tier given on the command line."""
    return StecheckSession(seed=pytestconfig.getoption("--stecheck-seed"),
                           tier=pytestconfig.getoption("--stecheck-tier"))
