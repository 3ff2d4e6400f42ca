"""numerics.montecarlo: moments, bit-reproducibility under any map, interval coverage, sequential decisions."""

import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from stecheck.numerics import enumeration as en
from stecheck.numerics import losses as L
from stecheck.numerics.estimators import EstimatorSampler
from stecheck.numerics.montecarlo import (
    RunningMoments,
    clt_interval,
    dask_map,
    empirical_bernstein_interval,
    monte_carlo_decide,
    monte_carlo_mean,
)
from stecheck.numerics.seeding import task_seed
from stecheck.errors import InvalidArgument, NonFiniteValue


def normal_chunk(rng, size):
    return rng.normal(loc=[1.0, -2.0, 0.0], scale=[1.0, 3.0, 0.5], size=(size, 3))


def reversed_map(fn, items):
    return list(map(fn, list(items)[::-1]))


def shuffled_map(fn, items):
    items = list(items)
    random.Random(4).shuffle(items)
    return [fn(it) for it in items]


def threaded_map(fn, items):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(fn, items))


def same_bits(r1, r2):
    return all(
        np.array_equal(getattr(r1, f), getattr(r2, f)) for f in ("mean", "std_error", "low", "high")
    ) and (r1.n, r1.n_chunks) == (r2.n, r2.n_chunks)


def test_moments_merge_matches_numpy():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(1000, 2)) * [1.0, 1e3] + [1e6, -5.0]
    parts = [RunningMoments.from_samples(Y[i : i + 137]) for i in range(0, 1000, 137)]
    m = RunningMoments.merge_all(parts)
    assert m.count == 1000
    np.testing.assert_allclose(m.mean, Y.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(m.variance, Y.var(axis=0, ddof=1), rtol=1e-10)
    np.testing.assert_array_equal(m.minimum, Y.min(axis=0))
    assert RunningMoments.empty(2).merge(m) is m


@pytest.mark.parametrize("map_fn", [reversed_map, shuffled_map, threaded_map, dask_map()], ids=["reversed", "shuffled", "threads", "dask"])
def test_any_map_gives_identical_bits(map_fn):
    seq = task_seed(11, "mc-bits")
    ref = monte_carlo_mean(normal_chunk, 10_001, seq, chunk_size=1000)
    other = monte_carlo_mean(normal_chunk, 10_001, seq, chunk_size=1000, map=map_fn)
    assert ref.n_chunks == 11 and ref.n == 10_001
    assert same_bits(ref, other)


@pytest.mark.cluster
def test_distributed_client_gives_identical_bits():
    distributed = pytest.importorskip("distributed")
    seq = task_seed(11, "mc-bits")
    ref = monte_carlo_mean(normal_chunk, 5000, seq, chunk_size=700)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        other = monte_carlo_mean(normal_chunk, 5000, seq, chunk_size=700, map=dask_map(client))
    assert same_bits(ref, other)


def test_chunk_size_changes_streams_but_seed_fixes_them():
    seq = task_seed(1, "cs")
    a = monte_carlo_mean(normal_chunk, 4000, seq, chunk_size=1000)
    b = monte_carlo_mean(normal_chunk, 4000, seq, chunk_size=500)
    assert not np.array_equal(a.mean, b.mean)
    assert same_bits(a, monte_carlo_mean(normal_chunk, 4000, task_seed(1, "cs"), chunk_size=1000))


@pytest.mark.parametrize("method", ["clt", "empirical_bernstein"])
def test_interval_coverage_on_known_mean(method):
    """Bernoulli(0.3): 300 intervals at 90%; CLT covers ~90%, empirical Bernstein at least 90%."""

    def bern(rng, size):
        return (rng.random((size, 1)) < 0.3).astype(float)

    hits = 0
    reps = 300
    for r in range(reps):
        res = monte_carlo_mean(
            bern, 400, task_seed(r, f"cov-{method}"), chunk_size=400, confidence=0.9, method=method, value_range=(0.0, 1.0)
        )
        hits += bool(res.low[0] <= 0.3 <= res.high[0])
    sd = np.sqrt(reps * 0.9 * 0.1)
    assert hits >= reps * 0.9 - 3.5 * sd
    if method == "clt":
        assert hits <= reps * 0.9 + 3.5 * sd


def test_st_monte_carlo_agrees_with_exact_expectation():
    n = 5
    rng = np.random.default_rng(3)
    loss = L.Quadratic(rng.normal(size=(3, n)), rng.normal(size=3))
    a = rng.normal(size=n)
    exact = en.expected_estimator("st", loss, a, "logistic").value
    res = monte_carlo_mean(
        EstimatorSampler("st", loss, a, "logistic"), 20_000, task_seed(0, "st-mc"), confidence=0.999, simultaneous=True
    )
    assert np.all((res.low <= exact) & (exact <= res.high))


def test_zero_variance_interval_contains_exact_value():
    """ST for a linear loss is exact (Sec. 2.2 I): a degenerate interval must still contain the truth."""
    c = np.array([0.1, 0.7, -0.3])
    a = np.array([0.2, -1.0, 0.5])
    truth = en.exact_gradient(L.Linear(c), a, "gaussian").value
    res = monte_carlo_mean(EstimatorSampler("st", L.Linear(c), a, "gaussian"), 3000, task_seed(0, "lin"))
    assert np.all(res.std_error == 0.0)
    assert np.all((res.low <= truth) & (truth <= res.high))


def sign_predicate(low, high):
    if low[0] > 0:
        return "positive"
    if high[0] < 0:
        return "negative"
    return None


def test_decide_stops_early_and_matches_fixed_run():
    def shifted(rng, size):
        return rng.normal(loc=0.5, size=(size, 1))

    seq = task_seed(2, "decide")
    d = monte_carlo_decide(shifted, sign_predicate, 200_000, seq, chunk_size=100)
    assert d.decision == "positive"
    assert d.result.n < 200_000 and d.looks < d.looks_planned
    assert d.result.confidence == pytest.approx(1 - 0.01 / d.looks_planned)
    fixed = monte_carlo_mean(shifted, d.result.n, seq, chunk_size=100, confidence=d.result.confidence)
    assert same_bits(d.result, fixed)


def test_decide_reports_undecided_when_budget_runs_out():
    def centred(rng, size):
        return rng.normal(size=(size, 1))

    d = monte_carlo_decide(centred, sign_predicate, 3000, task_seed(0, "undecided"), chunk_size=500)
    assert d.decision is None and d.result.n == 3000 and d.looks == d.looks_planned


def test_non_finite_sample_is_named():
    def bad(rng, size):
        Y = rng.normal(size=(size, 2))
        Y[3, 1] = np.nan
        return Y

    with pytest.raises(NonFiniteValue, match=r"chunk 0.*sample index 3, coordinates \[1\]"):
        monte_carlo_mean(bad, 100, task_seed(0, "nan"))


def test_bad_arguments():
    seq = task_seed(0, "bad")
    with pytest.raises(InvalidArgument, match="method"):
        monte_carlo_mean(normal_chunk, 100, seq, method="bootstrap")
    with pytest.raises(InvalidArgument, match="value_range"):
        monte_carlo_mean(normal_chunk, 100, seq, method="empirical_bernstein")
    with pytest.raises(InvalidArgument, match="outside value_range"):
        monte_carlo_mean(normal_chunk, 100, seq, method="empirical_bernstein", value_range=(-1, 1))
    with pytest.raises(InvalidArgument, match="confidence"):
        monte_carlo_mean(normal_chunk, 100, seq, confidence=1.0)
    with pytest.raises(InvalidArgument, match="SeedSequence"):
        monte_carlo_mean(normal_chunk, 100, 42)
    with pytest.raises(InvalidArgument, match="n_samples"):
        monte_carlo_mean(normal_chunk, 1, seq)
    with pytest.raises(InvalidArgument, match="one result per item"):
        monte_carlo_mean(normal_chunk, 100, seq, chunk_size=10, map=lambda f, xs: [f(x) for x in list(xs)[:-1]])
    m = RunningMoments.from_samples(np.ones((1, 2)))
    with pytest.raises(InvalidArgument, match="at least 2"):
        clt_interval(m)
    with pytest.raises(InvalidArgument, match="dimension"):
        m.merge(RunningMoments.from_samples(np.ones((3, 1))))
    with pytest.raises(InvalidArgument, match="pair"):
        empirical_bernstein_interval(RunningMoments.from_samples(np.ones((3, 2))), 5.0)


def test_clt_interval_survives_values_whose_squares_underflow():
    from stecheck.numerics.montecarlo import RunningMoments, clt_interval

    tiny = 4.45e-310
    Y = np.array([[tiny], [-tiny]] * 50)
    low, high = clt_interval(RunningMoments.from_samples(Y), 0.99)
    assert low[0] < 0.0 < high[0]  # the true mean 0 is inside, although Y**2 == 0


def test_clt_interval_popoviciu_regime_starts_strictly_below_1e_150():
    # the convention at the boundary: a coordinate whose largest magnitude is exactly the double 1e-150 keeps its
    # sample standard error (its squares, 1e-300, are normal doubles); one ulp below, Popoviciu's range bound
    # (max - min) / 2 / sqrt(N), larger here than the sample sd, takes over
    from scipy import special

    from stecheck.numerics.montecarlo import RunningMoments, clt_interval

    def half_width(top):
        Y = np.array([[top]] + [[0.0]] * 9 + [[-top]])  # sample sd < range / 2
        m = RunningMoments.from_samples(Y)
        low, high = clt_interval(m, 0.99)
        z = float(special.ndtri(1.0 - 0.01 / 2.0))
        return (high[0] - low[0]) / 2, z * m.std_error[0], z * (2 * top) / 2 / np.sqrt(11)

    width, clt, popoviciu = half_width(1e-150)
    assert popoviciu > 1.5 * clt and width < 1.01 * clt
    width, clt, popoviciu = half_width(np.nextafter(1e-150, 0.0))
    assert width >= popoviciu


def test_two_observations_are_the_smallest_sample_with_a_variance():
    """The boundary of the guard ``count < 2``: two draws have the unbiased variance (x1 - x2)^2 / 2 and an interval;
    one draw has neither (one clear error)."""
    two = RunningMoments.from_samples(np.array([[1.0, -2.0], [4.0, 2.0]]))
    np.testing.assert_array_equal(two.variance, [4.5, 8.0])
    np.testing.assert_allclose(two.std_error, [1.5, 2.0], rtol=1e-15)
    lo, hi = clt_interval(two, 0.9)
    assert np.all(lo < two.mean) and np.all(two.mean < hi)
    one = RunningMoments.from_samples(np.array([[1.0, -2.0]]))
    for get in (lambda: one.variance, lambda: clt_interval(one, 0.9)):
        with pytest.raises(InvalidArgument):
            get()


def test_montecarlo_known_answer_self_test_passes():
    from stecheck.numerics import montecarlo

    assert montecarlo._selftest_failures() == []


def test_selftest_sees_a_mean_without_its_compensation(monkeypatch):
    """The merge of 2^53, 1, -2^53 keeps the 1 only in the compensation: a mean that drops or subtracts it fails."""
    from stecheck.numerics import montecarlo as mc

    assert mc._selftest_failures() == []
    for wrong in (lambda self: self.total / self.count, lambda self: (self.total - self.comp) / self.count):
        monkeypatch.setattr(mc.RunningMoments, "mean", property(wrong))
        bad = mc._selftest_failures()
        assert any("merge of the samples 2^53, 1, -2^53" in b for b in bad)


def test_bernstein_audit_recomputes_the_interval_and_needs_the_rounding_term():
    """proofs_check.battery.core.audit_bernstein (used by SBN-E3 and the estimator battery) agrees with the library's
    empirical Bernstein interval (mpmath, 16 u tolerance), and refuses the same interval without its rounding term
    gamma_{N+2} max|Y| (N u max|Y| >> 16 u (|mean| + half) at N = 10^5)."""
    from stecheck.errors import SelfCheckFailed
    from stecheck.proofs_check.battery.core import audit_bernstein

    Y = np.random.default_rng(4).uniform(0.0, 1.0, size=(100_000, 2)) ** 3
    mom = RunningMoments.from_samples(Y)
    conf = 0.999
    lo, hi = empirical_bernstein_interval(mom, (0.0, 1.0), conf)
    assert audit_bernstein(mom, (0.0, 1.0), 1 - conf, lo, hi) <= 1.0
    rb = mom.rounding_bound
    with pytest.raises(SelfCheckFailed, match="Bernstein"):
        audit_bernstein(mom, (0.0, 1.0), 1 - conf, lo + 2 * rb, hi - 2 * rb)
    lo_s, hi_s = empirical_bernstein_interval(mom, (0.0, 1.0), conf, simultaneous=True)  # alpha / 2 per coordinate
    assert audit_bernstein(mom, (0.0, 1.0), (1 - conf) / 2, lo_s, hi_s) <= 1.0
    with pytest.raises(SelfCheckFailed, match="Bernstein"):
        audit_bernstein(mom, (0.0, 1.0), 1 - conf, lo_s, hi_s)
