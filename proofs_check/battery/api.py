"""Three front ends of one generator of checks: ``check_estimator``, ``parametrize_with_checks`` and the CLI.

Modelled on scikit-learn's ``check_estimator`` / ``parametrize_with_checks``:
:func:`iter_checks` yields ``(spec, check)`` pairs; each is run by
:func:`run_check` as a Hypothesis property (shrinking to a minimal
counterexample) and gives a :class:`CheckRecord` ``(estimator, check, status,
evidence, replay, seconds)``.  Nothing stops at the first failure.

Statuses: ``PASS``; ``FAIL`` (evidence against the property, or a broken
contract); ``ERROR`` (the estimator raised); ``INCONCLUSIVE`` (the data could
not decide, e.g. values beyond the default range); ``SKIP`` (the tags make the
check inapplicable); ``XFAIL`` / ``XPASS`` (a declared known failure failed /
passed).  ``FAIL`` and ``ERROR`` are failures.

Profiles (examples per check, Monte Carlo samples per example): ``dev`` (5, 10 000),
``ci`` (12, 20 000), ``thorough`` (100, 50 000).  False-alarm rate of a correct
estimator within its declared range: ``<= 1e-6`` per example, so ``<= examples * 1e-6``
per check (every example is an independent seeded decision; shrinking starts only
after a failure).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from stecheck.errors import InvalidArgument

from .checks import CHECKS, Check, CheckFailure, Outcome, get_check
from .core import EstimatorContractError
from .estimator import TAGS, EstimatorSpec, as_spec, load_estimator
from .strategies import LossSpec

__all__ = ["PROFILES", "CheckRecord", "iter_checks", "run_check", "check_estimator", "parametrize_with_checks",
           "replay_check", "FAILED_STATUSES", "register_hypothesis_profiles", "set_default_profile"]

#: ``profile -> (examples per check, Monte Carlo samples per example)``.
PROFILES = {"dev": (5, 10_000), "ci": (12, 20_000), "thorough": (100, 50_000)}
FAILED_STATUSES = ("FAIL", "ERROR")
_DEFAULT_PROFILE = ["ci"]


def set_default_profile(name: str) -> None:
    if name not in PROFILES:
        raise InvalidArgument(f"unknown profile {name!r}; valid: {sorted(PROFILES)}.")
    _DEFAULT_PROFILE[0] = name


def register_hypothesis_profiles() -> None:
    """Register Hypothesis settings profiles ``dev``, ``ci`` and ``thorough`` (for users' own ``@given`` tests)."""
    from hypothesis import HealthCheck, settings

    for name, (examples, _) in PROFILES.items():
        settings.register_profile(f"stecheck-{name}", max_examples=max(examples * 4, 10), deadline=None,
                                  derandomize=(name == "ci"), suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class CheckRecord:
    estimator: str
    check: str
    status: str
    evidence: str
    replay: str = ""
    seconds: float = 0.0
    examples: int = 0

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def as_dict(self) -> dict:
        return asdict(self)


def _replay_line(spec: EstimatorSpec, check: str, example: dict, profile: str) -> str:
    ref = repr(spec.ref) if spec.ref else "'<module>:<function> (define the estimator at module level)'"
    return (f"from stecheck.testing import replay_check, LossSpec; "
            f"replay_check({ref}, {check!r}, {example!r}, profile={profile!r})")


def replay_check(estimator: Any, check: str, example: dict, *, profile: str | None = None) -> Outcome:
    """Run one check on one example (the line printed with a failure); raises ``AssertionError`` if it fails."""
    spec = load_estimator(estimator) if isinstance(estimator, str) else as_spec(estimator)
    c = get_check(check)
    samples = PROFILES[profile or _DEFAULT_PROFILE[0]][1]
    if not isinstance(example, dict) or not isinstance(example.get("loss", LossSpec("linear", 1, (1.0, 0.0))),
                                                        LossSpec):
        raise InvalidArgument("example must be the dict printed in the replay line (loss=LossSpec(...), a=..., ...).")
    out = c.run(spec, example, samples)
    print(f"{spec.name} / {c.name}: {out.status} -- {out.evidence}")
    return out


def iter_checks(estimators: Iterable[Any]) -> Iterator[tuple[EstimatorSpec, Check]]:
    """Every ``(spec, check)`` pair, estimators in the given order, checks in :data:`CHECKS` order."""
    for est in estimators:
        spec = load_estimator(est) if isinstance(est, str) else as_spec(est)
        for c in CHECKS:
            yield spec, c


def _one_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def run_check(spec: EstimatorSpec, check: Check, *, profile: str | None = None, seed: int = 0) -> CheckRecord:
    """Run ``check`` on ``spec`` as a Hypothesis property; never raises for estimator problems."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis import target as htarget
    from hypothesis.errors import Flaky

    profile = profile or _DEFAULT_PROFILE[0]
    if profile not in PROFILES:
        raise InvalidArgument(f"unknown profile {profile!r}; valid: {sorted(PROFILES)}.")
    examples, samples = PROFILES[profile]
    t0 = time.perf_counter()

    def record(status, evidence, replay="", n=0):
        return CheckRecord(spec.name, check.name, status, evidence, replay, round(time.perf_counter() - t0, 3), n)

    reason = check.applies(spec)
    if reason is not None:
        return record("SKIP", reason)
    state: dict[str, Any] = {"last": None, "counts": {}}

    def body(ex):
        state["last"] = ex
        out = check.run(spec, ex, samples)
        state["counts"][out.status] = state["counts"].get(out.status, 0) + 1
        if out.margin is not None and out.margin == out.margin:
            htarget(float(out.margin), label="violation margin")

    prop = settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                    report_multiple_bugs=False, print_blob=False, verbosity=Verbosity.quiet,
                    phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
                    suppress_health_check=list(HealthCheck))(given(check.examples(spec))(body))
    prop = hseed(seed)(prop)
    status = evidence = replay = None
    try:
        prop()
    except (CheckFailure, EstimatorContractError) as exc:
        status, evidence = "FAIL", _one_line(exc)
    except Flaky as exc:  # a failure that did not reproduce on the same example and seed
        status = "FAIL"
        evidence = (f"estimator {spec.name!r} in check {check.name!r}: a failure did not reproduce on the same example "
                    f"and seed ({type(exc).__name__}); draw all randomness from the rng argument")
    except Exception as exc:  # the estimator itself raised: the battery continues
        status = "ERROR"
        evidence = (f"estimator {spec.name!r} raised {type(exc).__name__} in check {check.name!r}: {_one_line(exc)}; "
                    "fix the estimator (or declare the noises it supports)")
    n = sum(state["counts"].values())
    if status is not None:
        replay = _replay_line(spec, check.name, state["last"], profile) if state["last"] is not None else ""
        evidence = f"{evidence}; minimal example: {state['last']!r}" if state["last"] is not None else evidence
    else:
        counts = state["counts"]
        if counts.get("inconclusive"):
            status = "INCONCLUSIVE" if not counts.get("pass") else "PASS"
        else:
            status = "PASS"
        evidence = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" of {n} examples ({check.source})"
    if check.name in spec.xfail:
        if status in FAILED_STATUSES:
            status, evidence = "XFAIL", f"known failure ({spec.xfail[check.name]}): {evidence}"
        elif status == "PASS":
            status, evidence = "XPASS", f"declared a known failure ({spec.xfail[check.name]}) but passed: {evidence}"
    return record(status, evidence, replay, n)


def check_estimator(estimator: Any, *, profile: str | None = None, seed: int = 0,
                    checks: Iterable[str] | None = None) -> list[CheckRecord]:
    """Run the whole battery on one estimator; one :class:`CheckRecord` per check (never stops early).

    ``estimator``: a callable (optionally decorated with :func:`estimator`), an
    :class:`EstimatorSpec` or ``"module:function"``.
    """
    spec = load_estimator(estimator) if isinstance(estimator, str) else as_spec(estimator)
    out = []
    if spec.bad_tags:
        out.append(CheckRecord(spec.name, "tags", "ERROR",
                               f"estimator {spec.name!r} has unknown tag(s) {list(spec.bad_tags)}; valid tags are "
                               f"{list(TAGS)} (the other checks ran without them)"))
    unknown_xfail = sorted(set(spec.xfail) - {c.name for c in CHECKS})
    if unknown_xfail:
        out.append(CheckRecord(spec.name, "xfail", "ERROR",
                               f"xfail names unknown check(s) {unknown_xfail}; valid: {[c.name for c in CHECKS]}"))
    wanted = None if checks is None else {get_check(c).name for c in checks}
    for s, c in iter_checks([spec]):
        if wanted is None or c.name in wanted:
            out.append(run_check(s, c, profile=profile, seed=seed))
    return out


def parametrize_with_checks(estimators: Iterable[Any], *, profile: str | None = None, seed: int = 0):
    """A ``pytest.mark.parametrize`` over every ``(estimator, check)`` pair (one test id each).

    ::

        @parametrize_with_checks([my_st, my_arm])
        def test_battery(estimator, check):
            check(estimator)
    """
    import pytest

    pairs = list(iter_checks(estimators))
    ids = [f"{s.name}-{c.name}" for s, c in pairs]

    def make(c: Check):
        def run(spec):
            rec = run_check(spec, c, profile=profile, seed=seed)
            if rec.status == "SKIP":
                pytest.skip(rec.evidence)
            if rec.status == "XFAIL":
                pytest.xfail(rec.evidence)
            if rec.failed:
                pytest.fail(f"{rec.estimator} / {rec.check}: {rec.status}: {rec.evidence}\nreplay: {rec.replay}",
                            pytrace=False)
            return rec

        run.__name__ = c.name
        return run

    return pytest.mark.parametrize("estimator, check", [(s, make(c)) for s, c in pairs], ids=ids)
