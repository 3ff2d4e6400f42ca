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

(``"SBN-EX1": "VERIFIED"`` -- the version-1 form written by ``stecheck run --write-expect`` --
pins the checked verdict only; ``stecheck-write-expect`` via ``--stecheck-write-expect FILE``
writes the version-2 form from the session's results.)  Claims run in-process, once per session each.  For property
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


def _verdict_names():
    from stecheck.proofs_check.verdict import Verdict

    return {v.value for v in Verdict}


def read_expect(path: str, known_ids, seed: int, tier: str, allow_other: bool) -> dict:
    """Validate an expect file (v1 or v2) before any computing; returns ``{id: {"checked", "printed", "readings"}}``."""
    import json
    from pathlib import Path

    from stecheck.errors import MalformedFile

    fix = "write one with `pytest --stecheck=IDS --stecheck-write-expect FILE` or `stecheck run --write-expect FILE`"
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise MalformedFile(f"--stecheck-expect file {path!r} does not exist; {fix}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedFile(f"--stecheck-expect file {path!r} cannot be read as JSON ({exc}); {fix}") from None
    if not isinstance(data, dict) or not isinstance(data.get("verdicts"), dict) or not data["verdicts"]:
        raise MalformedFile(f"--stecheck-expect file {path!r} must have a non-empty \"verdicts\" object; {fix}")
    for key, want in (("seed", seed), ("tier", tier)):
        if key in data and data[key] != want and not allow_other:
            raise MalformedFile(f"--stecheck-expect file {path!r} pins {key} {data[key]!r} but this session uses "
                                f"{want!r}; pass --stecheck-{key} {data[key]} or --stecheck-allow-other-seed")
    valid = _verdict_names()
    out = {}
    for cid, v in data["verdicts"].items():
        if cid not in known_ids:
            raise MalformedFile(f"--stecheck-expect file {path!r} names unknown claim id {cid!r}; see `stecheck list`")
        entry = {"checked": v} if isinstance(v, str) else v
        if not isinstance(entry, dict) or set(entry) - {"checked", "printed", "readings"}:
            raise MalformedFile(f"--stecheck-expect file {path!r}: {cid} must be a verdict or an object with "
                                "checked, printed and readings")
        pins = [entry.get("checked"), entry.get("printed"), *dict(entry.get("readings") or {}).values()]
        bad = [p for p in pins if p is not None and (not isinstance(p, str) or p.upper() not in valid)]
        if bad:
            raise MalformedFile(f"--stecheck-expect file {path!r}: {cid} has verdict {bad[0]!r}, not one of "
                                f"{', '.join(sorted(valid))}")
        out[cid] = {"checked": entry.get("checked"), "printed": entry.get("printed"),
                    "readings": dict(entry.get("readings") or {})}
    return out


class ClaimItem(pytest.Item):
    """One claim as a test item: its verdicts against the pins (or: neither ERROR nor INCONCLUSIVE)."""

    def __init__(self, *, claim_id, session_obj, pins, **kw):
        super().__init__(**kw)
        self.claim_id, self.session_obj, self.pins = claim_id, session_obj, pins

    def runtest(self):
        from stecheck.proofs_check.verdict import Verdict

        res = self.session_obj.result(self.claim_id)
        got = {"checked": res.verdict.value, "printed": res.verdict_as_printed.value,
               "readings": {k: v.value for k, v in res.reading_verdicts.items()}}
        self.user_properties += [("verdict_checked", got["checked"]), ("verdict_printed", got["printed"])]
        self.user_properties += [(f"verdict_reading_{k}", v) for k, v in got["readings"].items()]
        self.config.stash.setdefault(_RESULTS, {})[self.claim_id] = got
        problems = []
        if self.pins is None:
            if res.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE):
                problems.append(f"verdict {res.verdict.value}")
        else:
            for which in ("checked", "printed"):
                want = self.pins.get(which)
                if want is not None and want.upper() != got[which]:
                    problems.append(f"{which}: expected {want.upper()}, got {got[which]}")
            for rid, want in self.pins["readings"].items():
                if want.upper() != got["readings"].get(rid):
                    problems.append(f"reading {rid}: expected {want.upper()}, got {got['readings'].get(rid, 'none')}")
        if problems:
            raise _ClaimMismatch(f"{self.claim_id}: {'; '.join(problems)}\n{res.replay}")
        n = 1 if self.pins is None else (sum(self.pins.get(w) is not None for w in ("checked", "printed"))
                                         + len(self.pins["readings"]))
        self.config.stash[_MATCHED] = self.config.stash.get(_MATCHED, 0) + n

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
            pins = read_expect(expect, registry.ids(), seed, tier, config.getoption("--stecheck-allow-other-seed"))
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

        Path(out).write_text(json.dumps({"format": "stecheck-expect", "version": 2,
                                         "seed": config.getoption("--stecheck-seed"),
                                         "tier": config.getoption("--stecheck-tier"),
                                         "verdicts": config.stash[_RESULTS]}, indent=2, sort_keys=True) + "\n")
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
