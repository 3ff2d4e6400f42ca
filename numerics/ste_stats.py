"""Statistics for the STE-dynamics experiments: binomial intervals, sample-size thresholds, exponent fits.

* :func:`clopper_pearson` -- the exact two-sided binomial interval (scipy.stats.binomtest,
  ``method="exact"``); coverage >= the stated confidence for every ``p``.
* :func:`lower_bound` / :func:`upper_bound` -- one-sided exact (Clopper-Pearson) bounds.
* :func:`find_threshold` -- the sample size ``m*`` at which the success probability
  ``p(m)`` crosses a level (1/2, 0.9), located by an adaptive search over ``m`` (bracket by
  doubling, then bisection in ``log m``) with every evaluation kept; the estimate is the
  crossing of the isotonic (non-decreasing, weighted least-squares, scipy
  ``isotonic_regression``) fit of the evaluated success rates, interpolated linearly in
  ``log m``.  The returned bracket ``[m_lo, m_hi]`` is an interval for ``m*`` under
  monotonicity of ``p(m)``: ``p(m_lo) < level < p(m_hi)`` each at the stated confidence
  (Clopper-Pearson), or ``None`` where the evaluations did not separate.
* :func:`fit_exponent` -- ``log m* = a + b log n`` by least squares, with a parametric
  bootstrap interval for ``b`` (every evaluated cell resampled ``Binomial(N, p_hat)``,
  thresholds recomputed by the same rule, the fit redone; percentile interval).  The
  interval's error: Monte Carlo error of the bootstrap quantiles (``n_boot`` replicates) plus
  the bootstrap approximation itself; stated as such, not as an exact coverage.
* :func:`recurrence_test` -- an exact one-sided binomial test that more than a given
  fraction of trials return to ``w*`` in the second half of the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.optimize import isotonic_regression

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.selftest import OncePerProcess

__all__ = ["clopper_pearson", "lower_bound", "upper_bound", "Threshold", "find_threshold", "crossing",
           "ExponentFit", "fit_exponent", "recurrence_test"]


def _check(k: int, n: int) -> None:
    if not (0 <= k <= n) or n < 1:
        raise InvalidArgument(f"binomial counts k={k}, n={n} are invalid; expected 0 <= k <= n and n >= 1")


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact two-sided ``confidence`` interval for a binomial proportion with ``k`` of ``n`` successes."""
    _check(k, n)
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def lower_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact (Clopper-Pearson) lower confidence bound: ``P(p >= bound) >= confidence``
    (``scipy.stats.binomtest(..., alternative="greater")``; 0 for ``k = 0``)."""
    _check(k, n)
    ci = stats.binomtest(int(k), int(n), alternative="greater").proportion_ci(confidence_level=confidence,
                                                                               method="exact")
    return float(ci.low)


def upper_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound: ``P(p <= bound) >= confidence``
    (``scipy.stats.binomtest(..., alternative="less")``; 1 for ``k = n``)."""
    _check(k, n)
    ci = stats.binomtest(int(k), int(n), alternative="less").proportion_ci(confidence_level=confidence,
                                                                            method="exact")
    return float(ci.high)


def crossing(ms, ks, ns, level: float) -> float | None:
    """The ``m`` where the isotonic fit of ``k/n`` against ``m`` first reaches ``level`` (log-linear interpolation).

    ``None`` if the fit never reaches ``level``; the smallest evaluated ``m`` if it starts above it.
    """
    order = np.argsort(ms)
    ms = np.asarray(ms, float)[order]
    p = np.asarray(ks, float)[order] / np.asarray(ns, float)[order]
    fit = isotonic_regression(p, weights=np.asarray(ns, float)[order], increasing=True).x
    above = np.nonzero(fit >= level)[0]
    if above.size == 0:
        return None
    i = int(above[0])
    if i == 0:
        return float(ms[0])
    lo, hi = fit[i - 1], fit[i]
    frac = (level - lo) / (hi - lo) if hi > lo else 1.0
    return float(math.exp(math.log(ms[i - 1]) + frac * (math.log(ms[i]) - math.log(ms[i - 1]))))


@dataclass
class Threshold:
    """The result of :func:`find_threshold` for one ``n``: every evaluation and the crossing."""

    level: float
    evaluations: dict[int, tuple[int, int]]  # m -> (successes, trials)
    m_star: float | None
    bracket: tuple[int | None, int | None]
    confidence: float

    def as_evidence(self) -> dict:
        return {"level": self.level, "m_star": self.m_star, "bracket (CP-separated)": list(self.bracket),
                "confidence": self.confidence,
                "evaluations": {str(m): {"successes": k, "trials": N, "rate": k / N,
                                         "clopper_pearson": clopper_pearson(k, N, self.confidence)}
                                for m, (k, N) in sorted(self.evaluations.items())}}


def find_threshold(success: Callable[[int], tuple[int, int]], level: float, m_start: int, *,
                   m_max: int, rel_tol: float = 0.12, confidence: float = 0.99,
                   evaluations: dict[int, tuple[int, int]] | None = None) -> Threshold:
    """Adaptive search for the crossing of ``level`` by ``m -> success(m) = (successes, trials)``.

    Doubles ``m`` from ``m_start`` until the rate reaches ``level`` (or ``m_max``), halves it until the
    rate is below ``level`` (or ``m = 1``), then bisects the bracket in ``log m`` until
    ``m_hi / m_lo <= 1 + rel_tol`` or the two are adjacent integers.  ``evaluations`` may pre-seed (and
    is shared with) other levels' searches, so no cell is run twice.
    """
    if not 0 < level < 1:
        raise InvalidArgument(f"level={level} must lie strictly between 0 and 1")
    _search_selftest_once()
    ev = evaluations if evaluations is not None else {}

    def rate(m: int) -> float:
        if m not in ev:
            ev[m] = success(m)
        k, N = ev[m]
        return k / N

    m = max(1, int(m_start))
    if rate(m) >= level:
        hi = m
        lo = m
        while lo > 1 and rate(lo) >= level:
            lo = max(1, lo // 2)
        if rate(lo) >= level:  # succeeds already at m = 1
            return _threshold(level, ev, (None, lo), confidence)
        hi = min(m_ for m_ in ev if m_ > lo and ev[m_][0] / ev[m_][1] >= level)
    else:
        lo = m
        hi = m
        while hi < m_max and rate(hi) < level:
            lo = hi
            hi = min(m_max, hi * 2)
        if rate(hi) < level:
            return _threshold(level, ev, (hi, None), confidence)
    while hi > lo + 1 and hi / lo > 1 + rel_tol:
        mid = int(round(math.sqrt(lo * hi)))
        mid = min(max(mid, lo + 1), hi - 1)
        if rate(mid) >= level:
            hi = mid
        else:
            lo = mid
    below = [m_ for m_, (k, N) in ev.items() if upper_bound(k, N, confidence) < level]
    above = [m_ for m_, (k, N) in ev.items() if lower_bound(k, N, confidence) > level]
    b_lo = max([m_ for m_ in below if not above or m_ < min(above)], default=None)
    b_hi = min([m_ for m_ in above if b_lo is None or m_ > b_lo], default=None)
    return _threshold(level, ev, (b_lo, b_hi), confidence)


#: Known answers of the search on a deterministic step ``p(m) = 1{m >= 37}`` (7 trials per evaluation), level 1/2,
#: default ``rel_tol = 0.12`` and ``confidence = 0.99``, derived by hand from the docstring's rule:
#: from ``m_start = 4`` the doubling visits 4, 8, 16, 32, 64; the log-bisection then visits round(sqrt(32*64)) = 45
#: (>= 37: hi), round(sqrt(32*45)) = 38 (hi), round(sqrt(32*38)) = 35 (lo) and stops at 38/35 <= 1.12.  From
#: ``m_start = 100`` the halving visits 100, 50, 25 (hi = 50, the least evaluated m above 25 with rate >= 1/2), then
#: 35 (lo), round(sqrt(35*50)) = 42 (hi), round(sqrt(35*42)) = 38 (hi), and stops.  The isotonic fit is the step
#: itself, so the crossing is the log-midpoint sqrt(35*38); the one-sided 99 % bounds with 0 or 7 of 7 successes are
#: 1 - 0.01^(1/7) = 0.48 < 1/2 and 0.01^(1/7) = 0.52 > 1/2, so the CP bracket is (35, 38).
_SEARCH_KNOWN = {4: ((4, 8, 16, 32, 35, 38, 45, 64), (35, 38)), 100: ((25, 35, 38, 42, 50, 100), (35, 38))}


def _search_selftest() -> list[str]:
    """:func:`find_threshold` on the deterministic step of :data:`_SEARCH_KNOWN` (a doubling and a halving start),
    compared with the hand-derived evaluation sets, crossing ``sqrt(35 * 38)`` (relative 1e-12) and bracket; also
    the two one-sided bounds at ``0/7`` and ``7/7`` against their closed forms ``1 - 0.01^(1/7)``, ``0.01^(1/7)``
    (relative 1e-9), the two-sided interval at ``0/7`` and ``7/7`` (``(0, 1 - 0.005^(1/7))``, ``(0.005^(1/7), 1)``),
    :func:`recurrence_test` at ``0, 7, 10`` of ``10`` against the exact binomial tail ``sum_(j >= k) C(10, j) / 2^10``
    (its rejection at ``alpha = 0.001``) and the closed-form bounds ``0.001^(1/10)``, ``1 - 0.001^(1/10)`` at ``k = 10``
    and ``k = 0``; and hand-derived searches the claims' cells do not make: a halving down to ``m = 1`` (the
    rate is already reached there), a bisection step with ``mid = lo + 1`` (the clamp ``lo + 1 <= mid <= hi - 1``
    never binds: for ``hi >= lo + 2``, ``sqrt(lo hi) >= sqrt((lo + 1)^2 - 1) > lo + 1/2`` and ``< hi - 1``), and a
    doubling and a halving start on a rate exactly at the level (``>= level`` against ``> level``); a rate strictly
    between 0 and the level, the stop rule at ``m_hi / m_lo = 1 + rel_tol`` exactly, a rate at the level down to
    ``m = 1``, the ``m_max`` cap, pre-seeded (shared, non-monotone) evaluations, and levels equal to a one-sided bound
    (the bracket's strict inequalities); the default confidence 0.95 of the bounds.
    Returns the mismatches (empty when all agree).  About 10 ms."""
    bad = []
    for start, (evals, bracket) in _SEARCH_KNOWN.items():
        th = find_threshold(lambda m: (7 if m >= 37 else 0, 7), 0.5, start, m_max=10**4)
        if tuple(sorted(th.evaluations)) != evals:
            bad.append(f"m_start={start}: evaluated m {sorted(th.evaluations)}, expected {list(evals)}")
        if th.m_star is None or not math.isclose(th.m_star, math.sqrt(35 * 38), rel_tol=1e-12):
            bad.append(f"m_start={start}: crossing {th.m_star}, expected sqrt(35*38) = {math.sqrt(35 * 38)}")
        if tuple(th.bracket) != bracket:
            bad.append(f"m_start={start}: bracket {th.bracket}, expected {bracket}")
    # The halving down to m = 1 and the bisection's lower clamp mid >= lo + 1, derived by hand from the same rule:
    # * p(m) = 1{m >= 3} from m_start = 3: rate(3) = 1, halving to 3 // 2 = 1 (rate 0) stops; hi = 3; the bisection's
    #   round(sqrt(3)) = 2 (rate 0, lo = 2), adjacent to 3: evaluated {1, 2, 3}, bracket (2, 3), crossing sqrt(6);
    # * p(m) = 1 for every m, from m_start = 4: halving visits 4, 2, 1, all at rate 1; it succeeds already at m = 1,
    #   so the bracket is (None, 1) and the crossing the smallest evaluated m, 1 (the docstring of crossing).  Run
    #   only when the first case passed: a halving that stops above 1 would loop forever here;
    # * p(m) = 1{m >= 3} from m_start = 5: rate(5) = 1, halving to 5 // 2 = 2 (rate 0) stops; hi = 5; the bisection's
    #   round(sqrt(2 * 5)) = 3 lies in [lo + 1, hi - 1] = [3, 4] (rate 1, hi = 3), and 2, 3 are adjacent: evaluated
    #   {2, 3, 5}, bracket (2, 3) by the 0/7 and 7/7 bounds below, crossing the log-midpoint sqrt(6).
    cases = ((lambda m: (7 if m >= 3 else 0, 7), 3, (1, 2, 3), (2, 3), math.sqrt(6)),
             (lambda m: (7, 7), 4, (1, 2, 4), (None, 1), 1.0),
             (lambda m: (7 if m >= 3 else 0, 7), 5, (2, 3, 5), (2, 3), math.sqrt(6)))
    for i, (fn, start, evals, bracket, m_star) in enumerate(cases):
        if i == 1 and bad:
            continue
        th = find_threshold(fn, 0.5, start, m_max=100)
        if (tuple(sorted(th.evaluations)), tuple(th.bracket)) != (evals, bracket) or th.m_star is None \
                or not math.isclose(th.m_star, m_star, rel_tol=1e-12):
            bad.append(f"m_start={start} ({'p = 1' if i == 1 else 'p(m) = 1{m >= 3}'}): evaluated m "
                       f"{sorted(th.evaluations)}, bracket {th.bracket}, crossing {th.m_star}; expected {list(evals)}, "
                       f"{bracket}, {m_star}")
    # A rate exactly at the level (every comparison of the search is >= level / < level; the claims' rates k/N can
    # equal 1/2): p(m) = 4/8 for m >= 6, 0/8 below, level 1/2, derived by hand from the same rule:
    # * from m_start = 2: rate(2) = 0 < 1/2, doubling 4 (0), 8 (1/2: reached, stop); the bisection's round(sqrt(32))
    #   = 6 (rate 1/2 >= 1/2: hi = 6), round(sqrt(24)) = 5 (0: lo = 5), adjacent to 6: evaluated {2, 4, 5, 6, 8};
    # * from m_start = 16: rate(16) = 1/2 >= 1/2, halving 8 (1/2), 4 (0) stops; hi = 8 (the least evaluated m above 4
    #   at rate >= 1/2), then 6 (hi) and 5 (lo): evaluated {4, 5, 6, 8, 16}.
    # Both: the isotonic fit is the data, first >= 1/2 at m = 6 right after 0 at m = 5, so the crossing is 6; the 99 %
    # upper bound at 0/8 is 1 - 0.01^(1/8) = 0.438 < 1/2 and the lower bound at 4/8 is 0.121 < 1/2, so the bracket is
    # (5, None).  A search that took "reached" as "> level" would double past 8 (or not halve from 16).
    for start, evals in ((2, (2, 4, 5, 6, 8)), (16, (4, 5, 6, 8, 16))):
        th = find_threshold(lambda m: (4 if m >= 6 else 0, 8), 0.5, start, m_max=100)
        if (tuple(sorted(th.evaluations)), tuple(th.bracket)) != (evals, (5, None)) or th.m_star is None \
                or not math.isclose(th.m_star, 6.0, rel_tol=1e-12):
            bad.append(f"m_start={start} (p(m) = 4/8 for m >= 6, exactly the level 1/2): evaluated m "
                       f"{sorted(th.evaluations)}, bracket {th.bracket}, crossing {th.m_star}; expected {list(evals)}, "
                       f"(5, None), 6")
    # More hand-derived searches (same rule), each for a comparison or branch the cases above leave open:
    # * rel_tol = 1/2 and p(m) = 2/8 for m < 5, 8/8 from 5, m_start = 4: rate(4) = 1/4 (strictly between 0 and the
    #   level), doubling to 8 (1), bisection round(sqrt(32)) = 6 (1: hi = 6); 6/4 = 1.5 is not > 1 + rel_tol: stop.
    #   Evaluated {4, 6, 8}; the 99 % upper bound at 2/8 is 0.71 > 1/2 (no m below), the lower one at 8/8 is
    #   0.01^(1/8) = 0.56 > 1/2: bracket (None, 6); the fit rises from 1/4 at 4 to 1 at 6, so the crossing is
    #   exp(log 4 + (1/3)(log 6 - log 4)) = (4^2 6)^(1/3) = 96^(1/3);
    # * p(m) = 1{m >= 3} from m_start = 1 (the least start): doubling 1, 2 (0), 4 (1); the bisection's round(sqrt(8)) =
    #   3 (1: hi = 3), adjacent to 2: evaluated {1, 2, 3, 4}, bracket (2, 3), crossing sqrt(6);
    # * p(m) = 4/8 for every m (exactly the level), m_start = 4: halving 4, 2, 1, all at the level: (None, 1), crossing 1;
    # * p(m) = 0 for every m, m_start = 4, m_max = 20: doubling 4, 8, 16, then the cap 20: evaluated {4, 8, 16, 20},
    #   bracket (m_max, None) = (20, None), no crossing;
    # * the first case's step 1{m >= 37} from m_start = 100 on pre-seeded evaluations {2: 7/7, 30: 1/8} (a shared dict,
    #   as the claims' second level gets it; non-monotone on purpose): halving 100, 50, 25; hi = 50 (the least m above
    #   25 at rate >= 1/2 -- not 2, below lo, nor 30, at 1/8); then 35, 42, 38 as before.  Evaluated {2, 25, 30, 35, 38,
    #   42, 50, 100}, all added to the shared dict; above (lower bound 0.518 at 7/7) = {2, 38, 42, 50, 100}, so no m
    #   below lies under min(above) = 2: bracket (None, 2);
    # * the step 1{m >= 37} from m_start = 4 at a level equal to a bound: level = upper_bound(0, 7, 0.99) = 0.482 (the
    #   evaluations are the first case's), so no m is *strictly* below it: bracket (None, 38); level =
    #   lower_bound(7, 7, 0.99) = 0.518, no m strictly above: bracket (35, None).
    step37 = lambda m: (7 if m >= 37 else 0, 7)  # noqa: E731
    shared = {2: (7, 7), 30: (1, 8)}
    more = (("rel_tol = 1/2, p(4) = 1/4", lambda: find_threshold(lambda m: (8 if m >= 5 else 2, 8), 0.5, 4, m_max=100,
                                                                   rel_tol=0.5), (4, 6, 8), (None, 6), 96 ** (1 / 3)),
            ("p(m) = 1{m >= 3} from m_start = 1", lambda: find_threshold(lambda m: (7 if m >= 3 else 0, 7), 0.5, 1,
                                                                         m_max=100), (1, 2, 3, 4), (2, 3), math.sqrt(6)),
            ("p = 4/8 everywhere", lambda: find_threshold(lambda m: (4, 8), 0.5, 4, m_max=100), (1, 2, 4), (None, 1), 1.0),
            ("p = 0, m_max = 20", lambda: find_threshold(lambda m: (0, 8), 0.5, 4, m_max=20), (4, 8, 16, 20), (20, None),
             None),
            ("pre-seeded {2: 7/7, 30: 1/8}", lambda: find_threshold(step37, 0.5, 100, m_max=10**4, evaluations=shared),
             (2, 25, 30, 35, 38, 42, 50, 100), (None, 2), "any"),
            ("level = upper_bound(0, 7)", lambda: find_threshold(step37, upper_bound(0, 7, 0.99), 4, m_max=10**4),
             (4, 8, 16, 32, 35, 38, 45, 64), (None, 38), "any"),
            ("level = lower_bound(7, 7)", lambda: find_threshold(step37, lower_bound(7, 7, 0.99), 4, m_max=10**4),
             (4, 8, 16, 32, 35, 38, 45, 64), (35, None), "any"))
    for name, run, evals, bracket, m_star in more:
        th = run()
        star_ok = (m_star == "any" or (th.m_star is None if m_star is None
                                       else th.m_star is not None and math.isclose(th.m_star, m_star, rel_tol=1e-12)))
        if (tuple(sorted(th.evaluations)), tuple(th.bracket)) != (evals, bracket) or not star_ok:
            bad.append(f"{name}: evaluated m {sorted(th.evaluations)}, bracket {th.bracket}, crossing {th.m_star}; "
                       f"expected {list(evals)}, {bracket}" + ("" if m_star == "any" else f", {m_star}"))
    if tuple(sorted(shared)) != (2, 25, 30, 35, 38, 42, 50, 100):
        bad.append(f"the shared evaluations dict holds {sorted(shared)} after the search; expected every evaluated m")
    # closed forms of the exact bounds at k = 0 and k = N (one-sided level a: a^(1/N); two-sided: (a/2)^(1/N)), and of
    # recurrence_test's exact p-value P(Bin(10, 1/2) >= k) = sum_{j >= k} C(10, j) / 2^10 (math.comb, exact rationals)
    cp0, cp7 = clopper_pearson(0, 7, 0.99), clopper_pearson(7, 7, 0.99)
    checks = [(upper_bound(0, 7, 0.99), 1 - 0.01 ** (1 / 7), "upper_bound(0, 7, 0.99)"),
              (lower_bound(7, 7, 0.99), 0.01 ** (1 / 7), "lower_bound(7, 7, 0.99)"),
              (cp0[0], 0.0, "clopper_pearson(0, 7, 0.99) low"), (cp0[1], 1 - 0.005 ** (1 / 7), "clopper_pearson(0, 7, 0.99) high"),
              (cp7[0], 0.005 ** (1 / 7), "clopper_pearson(7, 7, 0.99) low"), (cp7[1], 1.0, "clopper_pearson(7, 7, 0.99) high"),
              # the documented default confidence 0.95
              (lower_bound(7, 7), 0.05 ** (1 / 7), "lower_bound(7, 7)"), (upper_bound(0, 7), 1 - 0.05 ** (1 / 7),
                                                                          "upper_bound(0, 7)"),
              (clopper_pearson(7, 7)[0], 0.025 ** (1 / 7), "clopper_pearson(7, 7)")]
    for k in (0, 7, 10):
        rt = recurrence_test(k, 10)  # fraction 1/2, alpha 0.001
        p = math.fsum(math.comb(10, j) for j in range(k, 11)) / 2**10
        checks += [(rt["p_value"], p, f"recurrence_test({k}, 10) p-value"),
                   (float(rt["rejected"]), float(p < 0.001), f"recurrence_test({k}, 10) rejected (p = {p:.6g})")]
        if k in (0, 10):  # the one-sided 0.999 bounds have closed forms at the ends only
            checks += [(rt["lower_bound"], 0.001 ** (1 / 10) if k == 10 else 0.0, f"recurrence_test({k}, 10) lower bound"),
                       (rt["upper_bound"], 1.0 if k == 10 else 1 - 0.001 ** (1 / 10), f"recurrence_test({k}, 10) upper bound")]
    for got, want, name in checks:
        if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-15):
            bad.append(f"{name} = {got}, expected {want}")
    return bad


#: :func:`_search_selftest` once per process, at the first :func:`find_threshold` call (its own calls skip the
#: check); a failure raises :class:`~stecheck.errors.SelfCheckFailed` (the search does not follow its stated rule).
_search_selftest_once = OncePerProcess(
    _search_selftest, what="ste_stats.find_threshold fails its known-answer self-test (threshold search, exact "
                           "bounds, recurrence_test)",
    remedy="Fix the doubling/halving, the log-bisection stop rule m_hi/m_lo <= 1 + rel_tol, the crossing or the "
           "Clopper-Pearson bracket.")


def _threshold(level: float, ev: dict[int, tuple[int, int]], bracket, confidence: float) -> Threshold:
    """The Threshold of the evaluations made so far: a copy of them, so that a later search sharing ``ev`` (the
    next level's) does not add evaluations to this one's evidence that its crossing never used."""
    snapshot = dict(ev)
    return Threshold(level, snapshot, crossing(*_cols(snapshot), level), bracket, confidence)


def _cols(ev: dict[int, tuple[int, int]]):
    ms = sorted(ev)
    return ms, [ev[m][0] for m in ms], [ev[m][1] for m in ms]


@dataclass
class ExponentFit:
    """``log m* = a + b log n``: least-squares estimate and a bootstrap interval for ``b``."""

    ns: list[int]
    m_stars: list[float]
    a: float
    b: float
    b_interval: tuple[float, float]
    confidence: float
    n_boot: int
    b_stderr: float
    boot_failures: int = 0
    details: dict = field(default_factory=dict)

    def as_evidence(self) -> dict:
        return {"n": self.ns, "m_star": self.m_stars, "intercept_a": self.a, "exponent_b": self.b,
                "b_interval": list(self.b_interval), "confidence": self.confidence,
                "bootstrap": f"parametric, {self.n_boot} replicates (percentile interval)",
                "b_least_squares_stderr": self.b_stderr, "bootstrap_replicates_without_crossing": self.boot_failures}


def fit_exponent(thresholds: dict[int, Threshold], *, rng: np.random.Generator, n_boot: int = 2000,
                 confidence: float = 0.95) -> ExponentFit:
    """Fit ``log m* = a + b log n`` over the ``n`` whose search found a crossing, with a bootstrap interval on ``b``."""
    ns = sorted(n for n, th in thresholds.items() if th.m_star is not None)
    if len(ns) < 3:
        raise InvalidArgument(f"an exponent fit needs thresholds at >= 3 sizes n, got {ns}")
    x = np.log(np.asarray(ns, float))
    y = np.log([thresholds[n].m_star for n in ns])
    lr = stats.linregress(x, y)
    # the bootstrap's slope rule (np.polyfit, least squares through a Vandermonde solve) must give the point estimate
    # on the observed thresholds: scipy's linregress (closed-form covariance ratio) is the independent computation
    b_rule = _slope(x, y)
    if not math.isclose(b_rule, float(lr.slope), rel_tol=1e-9, abs_tol=1e-12):
        raise SelfCheckFailed(f"fit_exponent: the bootstrap's slope rule gives {b_rule} on the observed log m*, but "
                              f"scipy.stats.linregress gives {lr.slope}; the bootstrap would not resample the fitted "
                              "exponent b. Fix ste_stats._slope (a degree-1 least-squares fit, slope coefficient).")
    boot, failures = [], 0
    cols = {n: _cols(thresholds[n].evaluations) for n in ns}
    for _ in range(n_boot):
        ys = []
        for n in ns:
            ms, ks, Ns = cols[n]
            kb = rng.binomial(Ns, np.asarray(ks, float) / np.asarray(Ns, float))
            c = crossing(ms, kb, Ns, thresholds[n].level)
            ys.append(math.log(c) if c is not None else math.log(max(ms)))
            failures += c is None
        boot.append(_slope(x, ys))
    alpha = 1 - confidence
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    _check_percentiles(boot, alpha, float(lo), float(hi))
    return ExponentFit(ns=ns, m_stars=[thresholds[n].m_star for n in ns], a=float(lr.intercept), b=float(lr.slope),
                       b_interval=(float(lo), float(hi)), confidence=confidence, n_boot=n_boot,
                       b_stderr=float(lr.stderr), boot_failures=failures)


def _check_percentiles(boot, alpha: float, lo: float, hi: float) -> None:
    """The percentile interval ``[q(alpha/2), q(1 - alpha/2)]`` of the bootstrap slopes, recomputed independently of
    ``np.quantile``: sort the ``B`` replicates (``s_0 <= ... <= s_{B-1}``) and interpolate between the order
    statistics at ``h = (B - 1) p`` (Hyndman-Fan type 7, numpy's default), ``s_j + (h - j) (s_{j+1} - s_j)``,
    ``j = floor(h)``.  Tolerance: the interpolation is a subtraction, a product and an addition of floats (plus the
    rounding of ``h``), so both routes agree to ``4`` ulps of the larger of the two order statistics; a
    disagreement raises :class:`SelfCheckFailed` (the interval would not be at the stated confidence)."""
    s = sorted(float(t) for t in boot)
    for p, got in ((alpha / 2, lo), (1 - alpha / 2, hi)):
        h = (len(s) - 1) * p
        j = min(int(math.floor(h)), len(s) - 1)
        j1 = min(j + 1, len(s) - 1)
        want = s[j] + (h - j) * (s[j1] - s[j])
        tol = 4 * math.ulp(max(abs(s[j]), abs(s[j1])))
        if not abs(got - want) <= tol:
            raise SelfCheckFailed(f"fit_exponent: the bootstrap percentile at p = {p:.6g} is {got!r}, but the order "
                                  f"statistics of the {len(s)} replicates give {want!r} (tolerance {tol:.3g}); the "
                                  "interval on b is not the stated percentile interval. Fix numerics/ste_stats.py.")


def _slope(x: np.ndarray, ys) -> float:
    """The least-squares slope of ``ys`` over ``x`` (the bootstrap's rule; checked against linregress in
    :func:`fit_exponent`)."""
    return float(np.polyfit(x, ys, 1)[0])


def recurrence_test(returning: int, trials: int, *, fraction: float = 0.5, alpha: float = 0.001) -> dict:
    """Exact one-sided binomial test of ``H0: P(a trial returns to w* in the second half) <= fraction``.

    ``rejected`` True means: with error probability <= ``alpha``, more than ``fraction`` of the trials keep returning.
    Also reports the one-sided lower and upper ``1 - alpha`` Clopper-Pearson bounds.
    """
    _check(returning, trials)
    _search_selftest_once()
    res = stats.binomtest(int(returning), int(trials), p=fraction, alternative="greater")
    return {"returning": int(returning), "trials": int(trials), "h0_fraction": fraction, "p_value": float(res.pvalue),
            "alpha": alpha, "rejected": bool(res.pvalue < alpha),
            "lower_bound": lower_bound(returning, trials, 1 - alpha),
            "upper_bound": upper_bound(returning, trials, 1 - alpha)}
