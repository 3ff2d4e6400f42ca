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
tests (``ci`` is derandomized).

Claims as test items: ``pytest --stecheck=SBN-B2,SBN-EX1`` (or ``--stecheck=all``)
adds one item ``stecheck::<ID>`` per claim; ``--stecheck-expect FILE`` pins, per
claim, the verdict as checked, the verdict as printed and the verdict of each
reading.  The file is validated before anything is computed; a seed or tier
different from the file's is a usage error unless ``--stecheck-allow-other-seed``.
Each item records its verdicts as JUnit properties (``pytest --junitxml``), and
the terminal summary ends with "N verdicts match".  Expect file::

    {"format": "stecheck-expect", "version": 2, "seed": 0, "tier": "quick",
     "verdicts": {"SBN-EX1": {"checked": "VERIFIED", "printed": "REFUTED", "readings": {}}}}

(``"SBN-EX1": "VERIFIED"`` -- the version-1 form -- pins the checked verdict only;
``--stecheck-write-expect FILE`` and ``stecheck run --write-expect FILE`` write the version-2 form.
Reading, validation and comparison are :mod:`proofs_check.pins`, shared with ``stecheck run --expect``.)  Claims run in-process, once per session each.  For property
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


    group.addoption("--stecheck", default=None, metavar="IDS",
                    help="add one test item per claim (comma-separated ids, or 'all')")
    group.addoption("--stecheck-expect", default=None, metavar="FILE",
                    help="pinned verdicts (checked, printed, per reading) for the --stecheck items")
    group.addoption("--stecheck-write-expect", default=None, metavar="FILE",
                    help="write the --stecheck items' verdicts as a version-2 expect file")
    group.addoption("--stecheck-allow-other-seed", action="store_true",
                    help="allow a seed or tier different from the one pinned in --stecheck-expect")


def read_expect(path: str, known_ids, seed: int, tier: str, allow_other: bool):
    """Validate an expect file (v1 or v2) before any computing: :func:`proofs_check.pins.read_expect`."""
    from stecheck.proofs_check.pins import read_expect as _read

    return _read(path, known_ids, seed=seed, tier=tier, allow_other=allow_other, flag="--stecheck-expect",
                 seed_flag="--stecheck-seed", tier_flag="--stecheck-tier",
                 allow_flag="--stecheck-allow-other-seed").pins


class ClaimItem(pytest.Item):
    """One claim as a test item: its verdicts against the pins (or: neither ERROR nor INCONCLUSIVE)."""

    def __init__(self, *, claim_id, session_obj, pins, **kw):
        super().__init__(**kw)
        self.claim_id, self.session_obj, self.pins = claim_id, session_obj, pins

    def runtest(self):
        from stecheck.proofs_check.pins import compare, verdicts_of
        from stecheck.proofs_check.verdict import Verdict

        res = self.session_obj.result(self.claim_id)
        got = verdicts_of(res)
        self.user_properties += [("verdict_checked", got["checked"]), ("verdict_printed", got["printed"])]
        self.user_properties += [(f"verdict_reading_{k}", v) for k, v in got["readings"].items()]
        self.config.stash.setdefault(_RESULTS, {})[self.claim_id] = got
        if self.pins is None:
            problems = [f"verdict {res.verdict.value}"] if res.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE) else []
            matched = 1
        else:
            matched, problems = compare(self.pins, got, self.claim_id)
            problems = [p.removeprefix(f"{self.claim_id} ") for p in problems]
        if problems:
            raise _ClaimMismatch(f"{self.claim_id}: {'; '.join(problems)}\n{res.replay}")
        self.config.stash[_MATCHED] = self.config.stash.get(_MATCHED, 0) + matched

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, _ClaimMismatch):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return "stecheck", None, f"claim {self.claim_id}"


class _ClaimMismatch(Exception):
    pass


_RESULTS = pytest.StashKey[dict]()
_MATCHED = pytest.StashKey[int]()


def pytest_collection_modifyitems(session, config, items):
    ids = config.getoption("--stecheck", default=None)
    if not ids:
        return
    from stecheck.errors import StecheckError
    from stecheck.proofs_check.registry import default_registry

    registry = default_registry()
    wanted = registry.ids() if ids.strip().lower() == "all" else [i.strip() for i in ids.split(",") if i.strip()]
    seed, tier = config.getoption("--stecheck-seed"), config.getoption("--stecheck-tier")
    pins = None
    expect = config.getoption("--stecheck-expect")
    try:  # every input is validated before any claim is computed; a problem is one line (pytest exit 4)
        claims = registry.select(wanted)
        if expect:
            pins = read_expect(expect, list(registry), seed, tier, config.getoption("--stecheck-allow-other-seed"))
    except StecheckError as exc:
        raise pytest.UsageError(f"stecheck: {exc}") from None
    sess = StecheckSession(seed=seed, tier=tier)
    config.stash[_MATCHED] = 0
    for c in claims:
        if pins is not None and c.id not in pins:
            continue
        items.append(ClaimItem.from_parent(session, name=f"stecheck::{c.id}", claim_id=c.id, session_obj=sess,
                                           pins=None if pins is None else pins[c.id]))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if config.getoption("--stecheck", default=None) and config.getoption("--stecheck-expect", default=None):
        terminalreporter.write_line(f"stecheck: {config.stash.get(_MATCHED, 0)} verdicts match")
    out = config.getoption("--stecheck-write-expect", default=None)
    if out and config.stash.get(_RESULTS, None):
        import json
        from pathlib import Path

        from stecheck.proofs_check.pins import expect_document

        doc = expect_document(config.stash[_RESULTS], seed=config.getoption("--stecheck-seed"),
                              tier=config.getoption("--stecheck-tier"))
        Path(out).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        terminalreporter.write_line(f"stecheck: wrote {out}")


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
