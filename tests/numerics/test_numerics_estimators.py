"""numerics.estimators: formulas of Alg. 1 / eq. (6), sampling law, validation."""

import numpy as np
import pytest

from stecheck.numerics import estimators as est
from stecheck.numerics import losses as L
from stecheck.numerics.noise import get_noise
from stecheck.numerics.seeding import make_rng, task_seed
from stecheck.errors import InvalidArgument, NonFiniteValue

N = 4
RNG = np.random.default_rng(99)
W = RNG.normal(size=(3, N))
Y = RNG.normal(size=3)
A = np.array([-0.8, 0.0, 0.3, 1.7])
NOISE = get_noise("logistic")


def rng(key="e"):
    return make_rng(task_seed(5, key))


def test_sample_states_law_and_sign_convention():
    X = est.sample_states(rng(), A, NOISE, 20_000)
    assert X.shape == (20_000, N) and set(np.unique(X)) <= {-1.0, 1.0}
    p = NOISE.cdf(A)
    se = np.sqrt(p * (1 - p) / X.shape[0])
    assert np.all(np.abs((X > 0).mean(axis=0) - p) <= 4 * se)
    assert np.array_equal(est.deterministic_state([0.0, -0.0, -1e-300, 2.0]), [1.0, 1.0, -1.0, 1.0])


def test_st_family_formulas():
    loss = L.Quadratic(W, Y)
    X = est.sample_states(rng(), A, NOISE, 5)
    G = loss.grad(X)
    np.testing.assert_allclose(est.st_estimates(loss, A, NOISE, X), 2 * NOISE.pdf(A) * G)
    np.testing.assert_allclose(est.identity_st_estimates(loss, A, NOISE, X), G)
    xs = np.where(A >= 0, 1.0, -1.0)
    det = est.deterministic_st_estimates(loss, A, NOISE, X)
    np.testing.assert_allclose(det, np.tile(2 * NOISE.pdf(A) * loss.grad(xs[None])[0], (5, 1)))


def test_local_expectations_formula():
    loss = L.Quadratic(W, Y)
    X = est.sample_states(rng(), A, NOISE, 6)
    out = est.local_expectations_estimates(loss, A, NOISE, X)
    for b in range(6):
        for i in range(N):
            plus, minus = X[b].copy(), X[b].copy()
            plus[i], minus[i] = 1.0, -1.0
            ref = NOISE.pdf(A[i]) * (loss.value(plus[None])[0] - loss.value(minus[None])[0])
            assert out[b, i] == pytest.approx(ref, rel=1e-12, abs=1e-12)


def test_st_is_exact_for_linear_loss():
    """Sec. 2.2 I: for linear L, ST has zero variance and equals the true gradient 2 F'(a) c."""
    c = RNG.normal(size=N)
    out = est.estimate_batch("st", L.Linear(c), A, NOISE, rng(), 50)
    np.testing.assert_allclose(out, np.tile(2 * NOISE.pdf(A) * c, (50, 1)))


def test_estimate_batch_reproducible_and_sampler_picklable():
    import pickle

    s = est.EstimatorSampler("local_expectations", L.QuadraticMultilinear(W, Y), A, "gaussian")
    s2 = pickle.loads(pickle.dumps(s))
    assert np.array_equal(s(rng("k"), 7), s2(rng("k"), 7))
    assert s(rng("k"), 7).shape == (7, N)


def test_duck_typed_loss_is_accepted_and_checked():
    class MyLoss:
        def value(self, X):
            return X.sum(axis=1)

        def grad(self, X):
            return np.ones_like(X)

    out = est.estimate_batch("identity_st", MyLoss(), A, NOISE, rng(), 3)
    np.testing.assert_array_equal(out, 1.0)


def test_bad_inputs():
    loss = L.Quadratic(W, Y)
    with pytest.raises(InvalidArgument, match="valid names"):
        est.estimate_batch("no_such_estimator", loss, A, NOISE, rng(), 3)
    with pytest.raises(InvalidArgument, match="length 3"):
        est.estimate_batch("st", loss, A[:3], NOISE, rng(), 3)
    with pytest.raises(InvalidArgument, match=r"is not \+-1"):
        est.st_estimates(loss, A, NOISE, np.zeros((2, N)))
    with pytest.raises(InvalidArgument, match="not a loss"):
        est.estimate_batch("st", object(), A, NOISE, rng(), 3)
    with pytest.raises(InvalidArgument, match="size"):
        est.estimate_batch("st", loss, A, NOISE, rng(), 0)
    nan_loss = L.Callable(lambda X: np.where(X[:, 1] > 0, np.nan, 0.0), lambda X: np.zeros_like(X), n=N)
    with pytest.raises(NonFiniteValue, match="sample index"):
        est.estimate_batch("local_expectations", nan_loss, A, NOISE, rng(), 50)


@pytest.mark.parametrize("fn", [est.gumbel_softmax_estimates, est.st_gumbel_softmax_estimates])
@pytest.mark.parametrize("Z,what", [
    (np.zeros(N), "not 2-d"),                        # each condition of the guard alone
    (np.zeros((2, N + 1)), "wrong width"),
    (np.array([[0.0, np.nan, 0.0, 0.0]]), "not finite"),
])
def test_gumbel_softmax_noise_draws_are_validated(fn, Z, what):
    with pytest.raises(InvalidArgument, match=r"Z must be a finite \(B, 4\) array"):
        fn(L.Quadratic(W, Y), A, NOISE, Z, tau=0.5)


def test_sign_of_zero_is_plus_one():
    # mutation survivors "a >= 0.0" -> "a > 0.0" (deterministic_state) and "eta_t >= 0" -> "> 0" (BayesBiNN (108)):
    # sign(0) = +1 (Sec. 2.2 V; the authors' code)
    import numpy as np

    from stecheck.numerics import bayesbinn as bb
    from stecheck.numerics.estimators import deterministic_state

    assert deterministic_state(np.array([0.0, -0.0, -1e-300]), "pm1").tolist() == [1.0, 1.0, -1.0]
    assert deterministic_state(np.array([0.0, -1.0]), "01").tolist() == [1.0, 0.0]
    seen = []
    bb.eq108_step(np.array([0.0, -2.0]), lambda w: seen.append(w.copy()) or np.zeros(2), alpha=0.1)
    assert seen[0].tolist() == [1.0, -1.0]


@pytest.mark.parametrize("field", ["lr", "temperature"])
def test_bayesbinn_rates_must_be_positive_on_both_sides_of_zero(field):
    """The guard of BayesBiNNSettings: lr and temperature > 0 (0 and below refused; the least positive float kept),
    eps >= 0 (0 kept, below refused)."""
    from stecheck.errors import InvalidArgument
    from stecheck.numerics import bayesbinn as bb

    for bad in (0, 0.0, -5e-324):
        with pytest.raises(InvalidArgument, match=field):
            bb.BayesBiNNSettings(10, **{field: bad})
    assert getattr(bb.BayesBiNNSettings(10, **{field: 5e-324}), field) == 5e-324
    assert bb.BayesBiNNSettings(10, eps=0.0).eps == 0.0
    with pytest.raises(InvalidArgument, match="eps"):
        bb.BayesBiNNSettings(10, eps=-5e-324)


def test_bayesbinn_minibatches_cut_epochs_into_full_batches():
    """n // batch full, disjoint batches per epoch on both sides of a multiple of the batch (and its self-test ran)."""
    import numpy as np

    from stecheck.numerics import bayesbinn as bb

    for n in (6, 7, 8, 9):
        out = bb.minibatches(np.random.default_rng(0), n, 4, 2 * (n // 4))
        assert all(len(set(b.tolist())) == 4 for b in out) and len(out) == 2 * (n // 4)
    assert bb._minibatches_selftest.passed


def test_bayesbinn_diagnostics_selftest_passes_and_catches_a_wrong_clean_test(monkeypatch):
    """The diagnostics self-test passes on the tree and refuses a step record whose soft-weight count is off by one
    (so a clean step is no longer counted as clean: its unexplained mismatches vanish)."""
    from dataclasses import replace as dc_replace

    from stecheck.numerics import bayesbinn as bb

    assert bb._diagnostics_selftest_failures() == []
    step = bb.bayesbinn_step

    def off_by_one(*args, **kwargs):
        new, mu, info = step(*args, **kwargs)
        return new, mu, dc_replace(info, soft=info.soft + 1)

    monkeypatch.setattr(bb, "bayesbinn_step", off_by_one)
    assert any("stepwise_equivalence" in b for b in bb._diagnostics_selftest_failures())


def test_bayesbinn_diagnostics_selftest_catches_a_scale_ratio_divided_by_tau(monkeypatch):
    """A record of ``scale / tau`` for ``scale * tau`` agrees at ``tau = 1``: only the ``tau = 2`` case sees it
    (simulated by a step whose reported scale is divided by ``tau^2``)."""
    from dataclasses import replace as dc_replace

    from stecheck.numerics import bayesbinn as bb

    step = bb.bayesbinn_step

    def divided(lam, mu, grad_fn, u, s):
        new, mu2, info = step(lam, mu, grad_fn, u, s)
        return new, mu2, dc_replace(info, scale=info.scale / s.temperature**2)

    monkeypatch.setattr(bb, "bayesbinn_step", divided)
    bad = bb._diagnostics_selftest_failures()
    assert len(bad) == 1 and "at temperature 2" in bad[0] and "[0.25]" in bad[0]


def test_bayesbinn_init_selftest_passes_and_catches_an_unfair_sign(monkeypatch):
    """init_natural's signs must be a fair coin (exact binomial test at a fixed seed) and its values +-lamda."""
    import numpy as np

    from stecheck.numerics import bayesbinn as bb

    assert bb._init_selftest_failures() == []
    for wrong in (lambda rng, size, lam=10.0: np.where(rng.integers(0, 3, size) == 1, lam, -lam).astype(np.float64),
                  lambda rng, size, lam=10.0: np.where(rng.integers(0, 2, size) == 1, lam, lam).astype(np.float64)):
        monkeypatch.setattr(bb, "init_natural", wrong)
        bad = bb._init_selftest_failures()
        assert len(bad) == 1 and "init_natural" in bad[0]


def test_bayesbinn_diagnostics_selftest_counts_nonfinite_steps(monkeypatch):
    """A non-finite step counted twice (or not at all) is refused: the self-test makes BayesBiNN's step overflow."""
    from stecheck.numerics import bayesbinn as bb

    real = bb.stepwise_equivalence

    def doubled(*args, **kwargs):
        rec = real(*args, **kwargs)
        rec.nonfinite *= 2
        return rec

    monkeypatch.setattr(bb, "stepwise_equivalence", doubled)
    bad = bb._diagnostics_selftest_failures()
    assert len(bad) == 1 and "non-finite step counts are 2 (run_side_by_side, 2 steps) and 2" in bad[0]


@pytest.mark.parametrize("U", [np.full((4, 3), 0.5)[:, :2],            # wrong width, valid uniforms
                               np.full(3, 0.5),                          # one row as a vector
                               np.array([[0.2, 1.5, 0.3]]),              # a value above 1
                               np.array([[0.2, 2.0, 0.3]]),              # 2: just outside [0, 1] too
                               np.array([[0.2, -1e-300, 0.3]])])         # a value below 0
def test_arm_estimates_refuses_u_outside_the_unit_cube_or_of_the_wrong_shape(U):
    """The guard of arm_estimates: U must be (B, n) with every entry in [0, 1]; each condition alone refuses."""
    loss = L.Linear(np.array([1.0, -2.0, 0.5]))
    with pytest.raises(InvalidArgument, match=r"arm_estimates: U must be a \(B, 3\) array of uniforms in \[0, 1\]"):
        est.arm_estimates(loss, np.array([0.1, -0.3, 0.7]), "logistic", U)
    ok = est.arm_estimates(loss, np.array([0.1, -0.3, 0.7]), "logistic", np.array([[0.0, 1.0, 0.5]]))
    assert ok.shape == (1, 3)
