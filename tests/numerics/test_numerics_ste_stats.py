"""Statistics of the STE-dynamics experiments: exact intervals, the adaptive threshold search, the exponent fit."""

import math

import numpy as np
import pytest
from scipy import stats

from stecheck.errors import InvalidArgument
from stecheck.numerics import ste_stats as st


def test_clopper_pearson_matches_the_beta_quantiles():
    lo, hi = st.clopper_pearson(7, 20, 0.95)
    assert lo == pytest.approx(stats.beta.ppf(0.025, 7, 14)) and hi == pytest.approx(stats.beta.ppf(0.975, 8, 13))
    assert st.clopper_pearson(0, 10)[0] == 0.0 and st.clopper_pearson(10, 10)[1] == 1.0
    # one-sided bound with all successes: (1 - confidence)^(1/n)
    assert st.lower_bound(60, 60, 0.99) == pytest.approx(0.01 ** (1 / 60))
    assert st.upper_bound(0, 60, 0.99) == pytest.approx(1 - 0.01 ** (1 / 60))


def test_bad_counts_are_rejected():
    with pytest.raises(InvalidArgument, match="0 <= k <= n"):
        st.clopper_pearson(5, 3)


def _logistic_success(m_half: float, width: float, trials: int, rng):
    def success(m: int):
        p = 1 / (1 + math.exp(-(math.log(m) - math.log(m_half)) / width))
        return int(rng.binomial(trials, p)), trials
    return success


def test_threshold_search_finds_a_known_crossing_and_brackets_it():
    rng = np.random.default_rng(1)
    th = st.find_threshold(_logistic_success(300.0, 0.15, 400, rng), 0.5, 16, m_max=10**5)
    assert th.m_star == pytest.approx(300, rel=0.15)
    lo, hi = th.bracket
    assert lo is not None and hi is not None and lo < 300 < hi
    assert len(th.evaluations) <= 14  # adaptive: doubling + bisection, not a grid


def test_threshold_search_reports_no_crossing():
    th = st.find_threshold(lambda m: (0, 50), 0.9, 8, m_max=200)
    assert th.m_star is None and th.bracket[1] is None


def test_exponent_fit_recovers_a_known_power():
    rng = np.random.default_rng(2)
    ths = {n: st.find_threshold(_logistic_success(3.0 * n ** 1.5, 0.1, 400, rng), 0.5, 2 * n, m_max=10**7)
           for n in (8, 16, 32, 64, 128)}
    fit = st.fit_exponent(ths, rng=np.random.default_rng(3), n_boot=300)
    assert fit.b == pytest.approx(1.5, abs=0.1)
    assert fit.b_interval[0] < 1.5 + 0.1 and fit.b_interval[1] > 1.5 - 0.1


def test_recurrence_test_rejects_only_with_a_clear_majority():
    assert st.recurrence_test(40, 40)["rejected"]
    assert not st.recurrence_test(22, 40)["rejected"]
    assert st.recurrence_test(5, 40)["upper_bound"] < 0.5


def test_count_guard_boundary_n_equals_one():
    """n = 1 is the smallest valid number of trials (both outcomes); n = 0 is refused, as is k = -1 or k = n + 1."""
    assert st.clopper_pearson(0, 1)[0] == 0.0 and st.clopper_pearson(1, 1)[1] == 1.0
    assert st.lower_bound(1, 1, 0.9) == pytest.approx(0.1)  # closed form (1 - confidence)^(1/n)
    assert st.upper_bound(0, 1, 0.9) == pytest.approx(0.9)
    assert st.recurrence_test(1, 1)["trials"] == 1
    for k, n in ((0, 0), (-1, 1), (2, 1)):
        with pytest.raises(InvalidArgument, match="n >= 1"):
            st.clopper_pearson(k, n)


def test_search_selftest_passes_and_catches_a_wrong_stop_rule(monkeypatch):
    assert st._search_selftest() == []
    real = st.find_threshold

    def too_fine(success, level, m_start, **kw):  # the stop rule m_hi/m_lo <= 1 - rel_tol: bisects to adjacent m
        return real(success, level, m_start, **{**kw, "rel_tol": -0.12})

    monkeypatch.setattr(st, "find_threshold", too_fine)
    assert any("evaluated m" in b for b in st._search_selftest())


def test_search_selftest_failure_raises_once_per_process(monkeypatch):
    from stecheck.errors import SelfCheckFailed

    monkeypatch.setattr(st._search_selftest_once, "passed", False)
    monkeypatch.setattr(st._search_selftest_once, "failures", lambda: ["planted"])
    with pytest.raises(SelfCheckFailed, match="find_threshold fails its known-answer self-test.*planted"):
        st.find_threshold(lambda m: (0, 5), 0.5, 4, m_max=8)
    assert st._search_selftest_once.passed is False  # a failure is not remembered as a pass


def test_exponent_fit_refuses_a_bootstrap_slope_rule_that_is_not_the_fit(monkeypatch):
    from stecheck.errors import SelfCheckFailed

    rng = np.random.default_rng(2)
    ths = {n: st.find_threshold(_logistic_success(3.0 * n ** 1.5, 0.1, 400, rng), 0.5, 2 * n, m_max=10**7)
           for n in (8, 16, 32)}
    monkeypatch.setattr(st, "_slope", lambda x, ys: float(np.polyfit(x, ys, 2)[0]))  # quadratic coefficient
    with pytest.raises(SelfCheckFailed, match="linregress"):
        st.fit_exponent(ths, rng=np.random.default_rng(3), n_boot=10)


def test_level_guard_boundaries():
    """The level must lie strictly inside (0, 1): 0, 1 and values beyond are refused; values just inside pass."""
    for level in (0.0, 1.0, 1.5, -0.5):
        with pytest.raises(InvalidArgument, match="strictly between 0 and 1"):
            st.find_threshold(lambda m: (1, 2), level, 4, m_max=8)
    for level in (1e-9, 1 - 1e-9):
        assert st.find_threshold(lambda m: (1, 2), level, 4, m_max=8).level == level


def test_search_selftest_catches_a_rate_at_the_level_taken_as_not_reached(monkeypatch):
    """The self-test's case p(m) = 4/8 (exactly the level 1/2) for m >= 6: a search that compares the rate with '>'
    (a reached level counted as not reached) evaluates other m and is reported."""
    real = st.find_threshold

    def strict(success, level, m_start, **kw):  # the level nudged up by one ulp: a rate at the level does not reach it
        return real(success, math.nextafter(level, 1.0), m_start, **kw)

    monkeypatch.setattr(st, "find_threshold", strict)
    bad = st._search_selftest()
    assert any("exactly the level 1/2" in b for b in bad)
    assert not any("p(m) = 1{m >= 37}" in b or "m_start=4:" in b for b in bad)  # the other cases do not see it


def test_search_selftest_checks_the_recurrence_test_against_the_exact_tail(monkeypatch):
    monkeypatch.setattr(st._search_selftest_once, "passed", True)
    real = st.recurrence_test

    def halved(returning, trials, **kw):  # a p-value half the exact binomial tail
        out = real(returning, trials, **kw)
        return {**out, "p_value": out["p_value"] / 2}

    monkeypatch.setattr(st, "recurrence_test", halved)
    assert any("p-value" in b for b in st._search_selftest())


def test_search_selftest_checks_shared_evaluations_and_the_cap(monkeypatch):
    """A search that ignored the pre-seeded (shared) evaluations, or one that ran past m_max, is reported."""
    monkeypatch.setattr(st._search_selftest_once, "passed", True)
    real = st.find_threshold

    def private(success, level, m_start, **kw):  # a fresh dict each time: the shared evaluations are lost
        kw.pop("evaluations", None)
        return real(success, level, m_start, **kw)

    monkeypatch.setattr(st, "find_threshold", private)
    assert any(b.startswith("pre-seeded") for b in st._search_selftest())

    def uncapped(success, level, m_start, **kw):  # m_max ignored: doubling past the cap
        return real(success, level, m_start, **{**kw, "m_max": 10**3})

    monkeypatch.setattr(st, "find_threshold", uncapped)
    assert any(b.startswith("p = 0, m_max = 20") for b in st._search_selftest())


def test_bootstrap_percentiles_are_checked_against_order_statistics():
    """fit_exponent's interval is recomputed from the sorted replicates (type-7 interpolation): numpy's quantiles
    pass (also with ties), a quantile at the wrong level (alpha * 2 instead of alpha / 2) is refused."""
    from stecheck.errors import SelfCheckFailed

    boot = list(np.random.default_rng(5).normal(size=2000)) + [0.5] * 100
    alpha = 0.05
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    st._check_percentiles(boot, alpha, float(lo), float(hi))
    wrong = float(np.quantile(boot, alpha * 2))
    with pytest.raises(SelfCheckFailed, match="percentile"):
        st._check_percentiles(boot, alpha, wrong, float(hi))
    with pytest.raises(SelfCheckFailed, match="percentile"):
        st._check_percentiles(boot, alpha, float(lo), float(np.quantile(boot, 1 - alpha * 2)))
