"""The estimator zoo: unbiased ones vs the exact gradient, biased ones vs their enumerated expectation,
both encodings, ARM / REINFORCE / Gumbel-Softmax / ST-GS / Alg. 2, and their input validation."""

import itertools

import numpy as np
import pytest
import sympy

from stecheck.numerics import enumeration as en
from stecheck.numerics import estimators as est
from stecheck.numerics import losses as L
from stecheck.numerics.encodings import Reencoded
from stecheck.numerics.montecarlo import monte_carlo_mean
from stecheck.numerics.noise import NOISES, get_noise
from stecheck.numerics.seeding import make_rng, task_seed
from stecheck.errors import InvalidArgument, NonFiniteValue

RNG = np.random.default_rng(7)
N = 4
W = RNG.normal(size=(3, N))
Y = RNG.normal(size=3)
A = np.array([-0.6, 0.1, 0.45, -0.2])
QUAD = L.Quadratic(W, Y)
#: The same function of the on/off pattern, written for {0,1} states.
QUAD01 = Reencoded(QUAD, source="pm1")
UNBIASED = ("local_expectations", "arm", "reinforce")
BIASED = ("st", "identity_st", "deterministic_st", "st_weights")


def loss_for(encoding):
    return QUAD if encoding == "pm1" else QUAD01


def test_registry_names_kinds_and_flags():
    for name in ("st", "identity_st", "deterministic_st", "local_expectations", "arm", "reinforce",
                 "gumbel_softmax", "st_gumbel_softmax", "st_weights"):
        assert name in est.ESTIMATORS
    assert {n for n, e in est.ESTIMATORS.items() if e.unbiased} == set(UNBIASED)
    assert est.ESTIMATORS["reinforce"].defaults == {"baseline": "loo", "samples": 2}
    assert est.ESTIMATORS["gumbel_softmax"].defaults == {"tau": 1.0}
    assert all(e.sample in est.SAMPLE_KINDS and e.formula for e in est.ESTIMATORS.values())


@pytest.mark.parametrize("encoding", ["pm1", "01"])
@pytest.mark.parametrize("noise_name", sorted(NOISES))
def test_unbiased_estimators_equal_exact_gradient_by_enumeration(noise_name, encoding):
    """E[LE], E[ARM], E[REINFORCE] (exact enumeration) == d E[L]/da within the rounding bounds."""
    loss = loss_for(encoding)
    g = en.exact_gradient(loss, A, noise_name, encoding=encoding)
    for name, params in [("local_expectations", {}), ("arm", {}), ("reinforce", {}),
                         ("reinforce", {"samples": 3}), ("reinforce", {"baseline": 0.7, "samples": 1})]:
        r = en.expected_estimator(name, loss, A, noise_name, encoding=encoding, **params)
        assert np.all(np.abs(r.value - g.value) <= r.error_bound + g.error_bound), (name, params)


def test_arm_and_reinforce_enumerations_apply_the_estimator_code():
    """REINFORCE: linearity shortcut == full enumeration of K-tuples; ARM: itertools brute force over patterns."""
    n = 3
    loss, a = L.Quadratic(W[:, :n], Y), A[:n]
    for noise in ("logistic", "triangular"):
        lin = en.expected_estimator("reinforce", loss, a, noise, samples=3)
        full = en.expected_transform("reinforce", loss, a, noise, samples=3)
        assert np.all(np.abs(lin.value - full.value) <= lin.error_bound + full.error_bound)
    noise = get_noise("gaussian")
    p, q = noise.cdf(a), noise.sf(a)
    m = np.minimum(p, q)
    ref = np.zeros(n)
    for pattern in itertools.product(range(3), repeat=n):
        prob, u = 1.0, np.zeros(n)
        for i, k in enumerate(pattern):
            lo, hi = [(0.0, m[i]), (m[i], 1 - m[i]), (1 - m[i], 1.0)][k]
            prob *= hi - lo
            u[i] = (lo + hi) / 2
        ref += prob * est.arm_estimates(loss, a, noise, u[None, :])[0]
    np.testing.assert_allclose(en.expected_estimator("arm", loss, a, noise).value, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", UNBIASED)
def test_unbiased_estimators_monte_carlo_interval_contains_exact_gradient(name):
    """30k draws, CLT interval at 99.9% jointly over coordinates (fixed seeds: deterministic)."""
    for encoding in ("pm1", "01"):
        loss = loss_for(encoding)
        g = en.exact_gradient(loss, A, "logistic", encoding=encoding).value
        res = monte_carlo_mean(est.EstimatorSampler(name, loss, A, "logistic", encoding=encoding), 30_000,
                               task_seed(11, f"zoo/{name}/{encoding}"), confidence=0.999, simultaneous=True)
        assert np.all((res.low <= g) & (g <= res.high)), (name, encoding, res.mean, g)


@pytest.mark.parametrize("name", BIASED)
def test_biased_estimators_agree_with_their_enumerated_expectation(name):
    g = en.exact_gradient(QUAD, A, "gaussian")
    exp = en.expected_estimator(name, QUAD, A, "gaussian")
    res = monte_carlo_mean(est.EstimatorSampler(name, QUAD, A, "gaussian"), 20_000,
                           task_seed(12, f"zoo/{name}"), confidence=0.999, simultaneous=True)
    assert np.all((res.low <= exp.value) & (exp.value <= res.high))
    assert np.max(np.abs(exp.value - g.value)) > 1e-2  # biased for the quadratic loss


def _symbolic(F_name):
    from stecheck.theory import bernoulli_layer as bl
    from stecheck.theory.noise import get_noise as theory_noise

    xs = sympy.symbols("x1:3")
    a_syms = sympy.symbols("a1:3", real=True)
    Ls = (xs[0] + 2 * xs[1] - sympy.Rational(1, 2)) ** 2 + xs[0] * xs[1] ** 3
    fam = theory_noise(F_name)
    st = [sympy.lambdify(a_syms, e) for e in bl.expected_st_gradient(Ls, xs, a_syms, fam)]
    ex = [sympy.lambdify(a_syms, e) for e in bl.exact_gradient(Ls, xs, a_syms, fam)]
    val = sympy.lambdify([xs], Ls)
    grad = [sympy.lambdify([xs], sympy.diff(Ls, x)) for x in xs]
    loss = L.Callable(lambda X: np.array([val(r) for r in X]),
                      lambda X: np.array([[d(r) for d in grad] for r in X]), n=2)
    return st, ex, loss


@pytest.mark.parametrize("noise_name", ["logistic", "gaussian"])
def test_st_matches_theory_closed_form_small_symbolic_case(noise_name):
    """E[ST] by enumeration == theory.bernoulli_layer.expected_st_gradient (sympy), n = 2, both encodings."""
    st, ex, loss = _symbolic(noise_name)
    for a in ([0.3, -0.7], [-1.1, 0.05]):
        want = np.array([f(*a) for f in st], dtype=float)
        got = en.expected_estimator("st", loss, a, noise_name).value
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
        got01 = en.expected_estimator("st", Reencoded(loss, "pm1"), a, noise_name, encoding="01").value
        np.testing.assert_allclose(got01, want, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(en.exact_gradient(loss, a, noise_name).value,
                                   np.array([f(*a) for f in ex], dtype=float), rtol=1e-12, atol=1e-13)


def test_encodings_give_the_same_estimates_except_identity_proxies():
    """Same draws, L01 vs Lpm = L01((1+s)/2): equal estimates; identity ST / Alg. 2 differ by the span 2."""
    for name, e in est.ESTIMATORS.items():
        noise = "logistic"
        outs = {}
        for enc in ("pm1", "01"):
            loss = QUAD if enc == "pm1" else QUAD01
            outs[enc] = est.estimate_batch(name, loss, A, noise, make_rng(task_seed(3, name)), 50, encoding=enc)
        factor = 2.0 if name in ("identity_st", "st_weights") else 1.0
        np.testing.assert_allclose(outs["01"], factor * outs["pm1"], rtol=1e-11, atol=1e-12, err_msg=name)


def test_st_backward_factor_per_encoding():
    """Alg. 1 line 5: 2 F'(a) for +-1 states, F'(a) for {0,1} states (App. D.1)."""
    noise = get_noise("triangular")
    X01 = est.sample_states(make_rng(task_seed(4, "x")), A, noise, 6, "01")
    assert set(np.unique(X01)) <= {0.0, 1.0}
    np.testing.assert_allclose(est.st_estimates(QUAD01, A, noise, X01, encoding="01"),
                               noise.pdf(A) * QUAD01.grad(X01))
    np.testing.assert_allclose(est.st_estimates(QUAD, A, noise, 2 * X01 - 1), 2 * noise.pdf(A) * QUAD.grad(2 * X01 - 1))
    np.testing.assert_array_equal(est.deterministic_state([0.0, -1.0], "01"), [1.0, 0.0])
    with pytest.raises(InvalidArgument, match="is not 0 or 1"):
        est.st_estimates(QUAD01, A, noise, 2 * X01 - 1, encoding="01")


def test_alg2_st_weights_is_linearised_gradient_in_probabilities():
    """Alg. 2 (identity backward): for multilinear L, E[dL/dw] = (1/c) dE[L]/dtheta, theta = F(eta)."""
    ml = L.QuadraticMultilinear(W, Y)
    eta = np.array([0.3, -0.2, 0.8, -0.5])
    for noise in ("logistic", "uniform"):
        dtheta = en.exact_gradient(ml, eta, noise).value / get_noise(noise).pdf(eta)
        for enc, c in (("pm1", 2.0), ("01", 1.0)):
            loss = ml if enc == "pm1" else Reencoded(ml, "pm1")
            r = en.expected_estimator("st_weights", loss, eta, noise, encoding=enc)
            np.testing.assert_allclose(r.value, dtheta / c, rtol=1e-11, atol=1e-12)


# ---------------------------------------------------------------------------- Gumbel-Softmax (App. E)

ONE = np.array([0.4])


def _true_n1(loss, encoding="pm1"):
    return en.exact_gradient(loss, ONE, "logistic", encoding=encoding).value[0]


@pytest.mark.parametrize("encoding", ["pm1", "01"])
def test_gs_quadrature_matches_monte_carlo(encoding):
    loss = L.Power(3)
    for name in ("gumbel_softmax", "st_gumbel_softmax"):
        q = en.expected_estimator(name, loss, ONE, "logistic", encoding=encoding, tau=0.5)
        assert isinstance(q, en.QuadratureResult) and q.error_bound[0] < 1e-8
        res = monte_carlo_mean(est.EstimatorSampler(name, loss, ONE, "logistic", encoding=encoding, tau=0.5),
                               40_000, task_seed(5, f"gs/{name}/{encoding}"), confidence=0.999)
        assert res.low[0] <= q.value[0] <= res.high[0], (name, res.mean, q.value)


@pytest.mark.parametrize("encoding", ["pm1", "01"])
def test_gs_expectation_tends_to_true_gradient_with_bias_order_tau(encoding):
    """Prop. E.1: E[GS_tau] -> dE/da as tau -> 0, bias O(tau); for linear L still biased, O(tau^2).

    (Eq. (86): the O(tau) term is c1 int L'(v) logit(v) dv, zero whenever L' is symmetric about the
    midpoint of the relaxed interval -- linear L, but also e.g. y^3 in pm1; (y + 1/2)^2 has neither.)
    """
    for loss, order in ((L.Quadratic([[1.0]], [-0.5]), 1), (L.Linear([1.5]), 2), (L.Power(3), 2 if encoding == "pm1" else 1)):
        true = _true_n1(loss, encoding)
        bias = [en.expected_estimator("gumbel_softmax", loss, ONE, "logistic", encoding=encoding, tau=t).value[0] - true
                for t in (0.04, 0.02, 0.01)]
        assert abs(bias[-1]) < 0.05 * abs(true)
        assert abs(bias[-1]) > 1e-7  # never exactly unbiased at tau > 0, even for linear L
        ratios = [bias[0] / bias[1], bias[1] / bias[2]]
        assert all(abs(r - 2.0**order) < 0.25 * 2.0**order for r in ratios), (loss, ratios)


def test_gs_per_sample_vanishes_while_second_moment_grows():
    """Only in expectation (Props. E.2-E.4): most draws give ~0, tau E[G^2] stays of order 1."""
    loss = L.Linear([1.0])
    frac = []
    for tau in (0.5, 0.05):
        G = est.estimate_batch("gumbel_softmax", loss, ONE, "logistic", make_rng(task_seed(6, str(tau))), 20_000, tau=tau)
        frac.append(np.mean(np.abs(G) > 1e-6))
    assert frac[1] < 0.5 * frac[0]
    m2 = [t * en.expected_transform("gumbel_softmax", loss, ONE, "logistic", lambda E: E * E, tau=t).value[0]
          for t in (0.02, 0.01)]
    assert 0.8 < m2[0] / m2[1] < 1.25


@pytest.mark.parametrize("encoding", ["pm1", "01"])
def test_st_gs_limit_is_average_of_endpoint_derivatives(encoding):
    """ST-GS (eq. (98)) as tau -> 0 tends to c F'(a) (L'(on) + L'(off)) / 2 -- computed, not the printed claim.

    For linear L this equals the true gradient; for L = x^3 it is biased (3x in pm1).
    """
    noise = get_noise("logistic")
    c, lo = (2.0, -1.0) if encoding == "pm1" else (1.0, 0.0)
    for loss in (L.Linear([1.5]), L.Power(3)):
        d = loss.grad(np.array([[1.0], [lo]]))[:, 0]
        limit = c * noise.pdf(ONE[0]) * (d[0] + d[1]) / 2
        v = en.expected_estimator("st_gumbel_softmax", loss, ONE, "logistic", encoding=encoding, tau=1e-3).value[0]
        assert v == pytest.approx(limit, rel=5e-3)
        if isinstance(loss, L.Linear):  # both regions z < a and z > a each give half: no factor 1/2 overall
            assert limit == pytest.approx(_true_n1(loss, encoding), rel=1e-12)
    true3 = _true_n1(L.Power(3), encoding)
    if encoding == "pm1":
        assert limit == pytest.approx(3 * true3, rel=1e-12)


def test_one_neuron_st_gs_stays_stochastic_st_does_not():
    loss = L.Linear([1.5])
    st = est.estimate_batch("st", loss, ONE, "logistic", make_rng(task_seed(8, "a")), 100)
    stgs = est.estimate_batch("st_gumbel_softmax", loss, ONE, "logistic", make_rng(task_seed(8, "a")), 100, tau=0.5)
    assert np.ptp(st) == 0.0 and np.ptp(stgs) > 0.1


def test_gs_validation():
    with pytest.raises(InvalidArgument, match="tau"):
        est.estimate_batch("gumbel_softmax", QUAD, A, "logistic", make_rng(task_seed(1, "t")), 3, tau=0.0)
    with pytest.raises(InvalidArgument, match="tau"):
        est.EstimatorSampler("st_gumbel_softmax", QUAD, A, "logistic", tau=-1.0)
    with pytest.raises(InvalidArgument, match="logistic"):
        est.estimate_batch("gumbel_softmax", QUAD, A, "gaussian", make_rng(task_seed(1, "t")), 3)
    with pytest.raises(InvalidArgument, match="Monte Carlo"):
        en.expected_estimator("gumbel_softmax", QUAD, A, "logistic", tau=0.5)


# ---------------------------------------------------------------------------- validation, errors

def test_parameters_are_validated():
    r = make_rng(task_seed(1, "p"))
    with pytest.raises(InvalidArgument, match="unknown parameter"):
        est.estimate_batch("st", QUAD, A, "logistic", r, 3, tau=1.0)
    with pytest.raises(InvalidArgument, match="unknown parameter"):
        est.estimate_batch("reinforce", QUAD, A, "logistic", r, 3, baselin="loo")
    with pytest.raises(InvalidArgument, match="baseline"):
        est.estimate_batch("reinforce", QUAD, A, "logistic", r, 3, baseline="mean")
    with pytest.raises(InvalidArgument, match="samples"):
        est.estimate_batch("reinforce", QUAD, A, "logistic", r, 3, samples=1)
    with pytest.raises(InvalidArgument, match="encoding"):
        est.estimate_batch("st", QUAD, A, "logistic", r, 3, encoding="+-1")
    with pytest.raises(InvalidArgument, match="support"):
        est.estimate_batch("arm", QUAD, [1.0, 0.0, 0.0, 0.0], "uniform", r, 3)
    out = est.estimate_batch("arm", QUAD, [2.0, 0.0, 0.0, 0.0], "uniform", r, 50)
    assert np.all(out[:, 0] == 0.0)  # F' = 0 outside the support: so is the gradient
    with pytest.raises(InvalidArgument, match="identity"):
        en.expected_transform("arm", QUAD, A, "logistic", lambda E: E * E)


@pytest.mark.parametrize("name", sorted(est.ESTIMATORS))
def test_non_finite_loss_is_reported_with_sample_and_coordinates(name):
    bad = L.Callable(lambda X: np.where(X[:, 1] > 0.5, np.nan, X.sum(axis=1)),
                     lambda X: np.where(X > 0.5, np.inf, 1.0), n=N)
    with pytest.raises(NonFiniteValue, match="sample index"):
        est.estimate_batch(name, bad, np.full(N, 0.5), "logistic", make_rng(task_seed(2, name)), 200)


def test_sampler_with_params_is_picklable_and_reproducible():
    import pickle

    s = est.EstimatorSampler("reinforce", QUAD01, A, "logistic", encoding="01", samples=3)
    s2 = pickle.loads(pickle.dumps(s))
    assert np.array_equal(s(make_rng(task_seed(1, "k")), 9), s2(make_rng(task_seed(1, "k")), 9))
    assert "samples=3" in repr(s2)
