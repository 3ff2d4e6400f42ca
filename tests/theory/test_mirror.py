"""Tests of theory.mirror (SBN-PGD, SBN-P1, SBN-P2) and the mirror-map / vb-step derivations."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from stecheck.errors import InvalidArgument
from stecheck.theory import mirror as mr
from stecheck.theory.derivations import get_derivation
from stecheck.theory.mirror_catalog import CVX_TOL, pgd_trajectories
from stecheck.theory.result import from_json, to_json

FAMILIES = ("logistic", "uniform", "triangular", "gaussian")
T, TT = mr.THETA, mr.THETA_T


def _zero(e) -> bool:
    e = sympy.expand_log(sympy.piecewise_fold(e), force=True)
    return sympy.expand(e) == 0 or sympy.simplify(e) == 0


def _inputs(seed, m=16, scale=2.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.03, 0.97, m), rng.normal(scale=scale, size=m), rng.uniform(0.1, 1.0, m)


# ------------------------------------------------------------------ mirror map and divergence


@pytest.mark.parametrize("name", FAMILIES)
def test_mirror_map_is_the_integral_of_the_quantile(name):
    phi = mr.mirror_map(name)
    assert _zero(sympy.diff(phi, T) - mr.mirror_gradient(name))
    # Phi(0) = 0, numerically (independent of the sympy limit used by the derivation)
    f = sympy.lambdify(T, phi, modules=["scipy", "numpy"])
    assert abs(float(f(1e-12))) < 1e-9


@pytest.mark.parametrize("name", FAMILIES)
def test_mirror_map_matches_quadrature(name):
    from scipy.integrate import quad

    _, _, icdf = get_noise_np(name)
    f = sympy.lambdify(T, mr.mirror_map(name), modules=["scipy", "numpy"])
    for th in (0.1, 0.5, 0.8):
        val, _ = quad(icdf, 0, th, limit=200)
        assert abs(float(f(th)) - val) < 1e-7


def get_noise_np(name):
    from stecheck.theory.noise import get_noise

    return get_noise(name).numpy_functions()


def test_logistic_mirror_map_is_half_the_negative_entropy():
    assert _zero(mr.mirror_map("logistic") + mr.bernoulli_entropy() / 2)


def test_kl_factor():
    assert mr.kl_factor("logistic") == sympy.Rational(1, 2)
    assert _zero(mr.bregman_divergence("logistic") - mr.bernoulli_kl() / 2)
    for name in ("uniform", "triangular", "gaussian"):
        assert mr.kl_factor(name) is None
    assert _zero(mr.bregman_divergence("uniform") - (T - TT) ** 2)


@pytest.mark.parametrize("name", FAMILIES)
def test_bregman_divergence_is_nonnegative_and_zero_on_the_diagonal(name):
    d = mr.bregman_numpy(name)
    grid = np.linspace(0.01, 0.99, 25)
    a, b = np.meshgrid(grid, grid)
    assert np.nanmin(d(a, b)) >= -1e-12
    assert np.max(np.abs(d(grid, grid))) < 1e-12


# ------------------------------------------------------------------ the MD step


@pytest.mark.parametrize("name", FAMILIES)
def test_md_step_closed_form_is_the_proximal_solution(name):
    th, g, eps = _inputs(1)
    g[:4] *= 10  # bounded families reach 0 or 1
    closed = mr.md_step_numpy(name)(th, g, eps)
    solved = mr.prox_step_scalar(name, g, th, eps)
    assert np.max(np.abs(closed - solved)) < 1e-6
    # the symbolic step evaluates to the same numbers
    f = sympy.lambdify((TT, mr.EPS, mr.G), mr.md_step(name), modules=["scipy", "numpy"])
    sym = np.array([float(f(a, e, b)) for a, b, e in zip(th, g, eps)])
    assert np.max(np.abs(sym - closed)) < 1e-12


@settings(max_examples=25, deadline=None)
@given(st.floats(0.01, 0.99), st.floats(-30, 30), st.floats(0.01, 2.0), st.sampled_from(FAMILIES))
def test_md_step_matches_scalar_prox_property(theta_t, g, eps, name):
    closed = mr.md_step_numpy(name)(theta_t, g, eps)
    solved = mr.prox_step_scalar(name, g, theta_t, eps)
    assert abs(float(closed) - float(solved)) < 1e-6


def test_cvxpy_prox_logistic_equals_closed_form_and_rejects_wrong_step():
    th, g, eps = _inputs(2)
    solved = mr.prox_step_cvxpy("logistic", g, th, eps)  # D_Phi = KL/2, exponential cone
    step = mr.md_step_numpy("logistic")
    assert np.max(np.abs(solved - step(th, g, eps))) < CVX_TOL
    assert np.max(np.abs(solved - step(th, g, 2 * eps))) > 1e-2  # eps' = 2 eps is wrong
    # (12) with the plain KL (paper's D) is the latent step with eps/2 under F = sigmoid(2z)
    plain = mr.prox_step_cvxpy("logistic", g, th, eps, kl_scale=1)
    assert np.max(np.abs(plain - step(th, g, eps / 2))) < CVX_TOL
    assert np.max(np.abs(plain - step(th, g, eps))) > 1e-2


def test_cvxpy_prox_uniform_is_clipped_pgd():
    th, g, eps = _inputs(3, scale=6.0)
    solved = mr.prox_step_cvxpy("uniform", g, th, eps)
    assert np.any(solved <= 1e-9) and np.any(solved >= 1 - 1e-9)
    assert np.max(np.abs(solved - mr.md_step_numpy("uniform")(th, g, eps))) < CVX_TOL
    assert np.max(np.abs(solved - mr.pgd_theta_step(th, g, eps / 2))) < CVX_TOL


def test_logistic_md_step_is_sgd_on_latent_weights():
    th, g, eps = _inputs(4)
    _, cdf, icdf = get_noise_np("logistic")
    eta_next = icdf(th) - eps * g  # eq. (49)
    assert np.max(np.abs(cdf(eta_next) - mr.md_step_numpy("logistic")(th, g, eps))) < 1e-12


# ------------------------------------------------------------------ eqs. (10)-(11)


def test_pgd_eps_prime_is_four_eps():
    assert mr.pgd_eps_prime() == 4 * mr.EPS


def test_pgd_equivalence_proved_for_four_refuted_for_two():
    assert mr.pgd_equivalence(4).verdict == "PROVED"
    r = mr.pgd_equivalence(2)
    assert r.verdict == "REFUTED"
    th, g, e = (float(r.counterexample[k]) for k in ("theta", "g", "epsilon"))
    # replay numerically with the numpy steps
    theta_next = mr.pgd_theta_step(th, g, e)
    eta_next = mr.pgd_latent_step(2 * th - 1, g / 2, 2 * e)
    assert abs((2 * theta_next - 1) - eta_next) > 1e-9


def test_pgd_trajectories_agree_only_with_four():
    assert pgd_trajectories(4.0) < 1e-12
    assert pgd_trajectories(2.0) > 1e-3
    assert pgd_trajectories(8.0) > 1e-3


# ------------------------------------------------------------------ Prop. 2


def test_vb_step_printed():
    res = mr.vb_step("kl")
    assert _zero(res["eta_next"] - (mr.ETA_T - mr.EPS * mr.G) / (1 + mr.EPS * mr.LAM))
    assert _zero(res["eta_next"] - res["eq57"])
    assert res["latent_decay"] == mr.LAM
    assert _zero(res["difference_58_minus_57"] - (res["eq58"] - res["eq57"]))


def test_vb_step_sigmoid2z_has_decay_two_lambda():
    res = mr.vb_step("bregman")
    assert res["latent_decay"] == 2 * mr.LAM
    assert _zero(res["eta_next"] - (mr.ETA_T - mr.EPS * mr.G) / (1 + 2 * mr.EPS * mr.LAM))


@pytest.mark.parametrize("divergence, scale", [("kl", 1.0), ("bregman", 0.5)])
def test_vb_step_equals_cvxpy_solution_of_55(divergence, scale):
    th, g, eps = _inputs(5)
    lam = np.random.default_rng(6).uniform(0.05, 2.0, th.shape)
    solved = mr.vb_prox_cvxpy(g, th, eps, lam, kl_scale=scale)
    assert np.max(np.abs(solved - mr.vb_step_numpy(divergence)(th, g, eps, lam))) < CVX_TOL
    dropped = mr.vb_step_numpy(divergence, drop_factor=True)(th, g, eps, lam)
    assert np.max(np.abs(solved - dropped)) > 1e-3
    # lambda = 0: no prior, the plain MD step
    zero = mr.vb_step_numpy(divergence)(th, g, eps, 0.0)
    assert np.max(np.abs(zero - mr.md_step_numpy("logistic")(th, g, eps / (2 * scale)))) < 1e-12


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mr.mirror_map("cauchy"), "unknown noise family"),
        (lambda: mr.mirror_map(3), "noise must be"),
        (lambda: mr.md_step_numpy("logistic")(1.2, 0.0, 1.0), r"theta_t must lie in \(0, 1\)"),
        (lambda: mr.md_step_numpy("logistic")(0.5, 0.0, -1.0), "eps must be positive"),
        (lambda: mr.md_step_numpy("logistic")(0.5, np.nan, 1.0), "g must be finite"),
        (lambda: mr.md_step_numpy("logistic")([0.5, 0.5], [1.0, 2.0, 3.0], 1.0), "incompatible shapes"),
        (lambda: mr.md_step_numpy("logistic")("a", 0.0, 1.0), "theta_t must be numeric"),
        (lambda: mr.pgd_theta_step(1.5, 0.0, 1.0), r"\[0, 1\]"),
        (lambda: mr.pgd_latent_step(1.5, 0.0, 1.0), r"\[-1, 1\]"),
        (lambda: mr.pgd_latent_step(-1.5, 0.0, 1.0), r"\[-1, 1\]"),
        (lambda: mr.md_step_numpy("logistic")(-0.2, 0.0, 1.0), r"theta_t must lie in \(0, 1\)"),
        (lambda: mr.pgd_theta_step(-0.5, 0.0, 1.0), r"\[0, 1\]"),
        (lambda: mr.pgd_equivalence("four"), "eps_factor"),
        (lambda: mr.vb_step("l2"), "divergence must be"),
        (lambda: mr.prox_step_cvxpy("triangular", 0.0, 0.5, 1.0), "prox_step_scalar"),
        (lambda: mr.prox_step_cvxpy("logistic", 0.0, 0.5, 1.0, kl_scale=-1), "kl_scale"),
        (lambda: mr.prox_step_cvxpy("logistic", 0.0, 0.5, 1.0, kl_scale=0), "kl_scale"),
        (lambda: mr.vb_prox_cvxpy(0.0, 0.5, 1.0, 0.0, kl_scale=0), "kl_scale"),
        (lambda: mr.vb_prox_cvxpy(0.0, 0.5, 1.0, 0.0, kl_scale=-1e-300), "kl_scale"),
        (lambda: mr.vb_prox_cvxpy(0.0, 0.5, 1.0, -1.0), "lam"),
    ],
)
def test_bad_input_raises_invalid_argument(call, match):
    with pytest.raises(InvalidArgument, match=match):
        call()


def test_smallest_positive_kl_scale_is_accepted():
    """The other side of the kl_scale > 0 guards: a tiny positive scale is a valid (nearly divergence-free) problem."""
    assert 0.0 <= float(mr.vb_prox_cvxpy(0.0, 0.5, 1.0, 0.0, kl_scale=1e-3)[()]) <= 1.0
    assert 0.0 <= float(mr.prox_step_cvxpy("logistic", 0.0, 0.5, 1.0, kl_scale=1e-3)[()]) <= 1.0


def test_pgd_hypotheses_describe_the_stated_domain():
    """pgd_equivalence's z3 hypotheses are audited against points on both sides of theta = 0, theta = 1, eps = 0."""
    mr._audit_domain("t", (mr.sympy.Symbol("a") >= 0,), (mr.sympy.Symbol("a"),), (((0,), True), ((-1,), False)))
    with pytest.raises(mr.SelfCheckFailed, match="reject"):
        mr._audit_domain("t", (mr.sympy.Symbol("a") > 0,), (mr.sympy.Symbol("a"),), (((0,), True),))


def test_a_solver_point_outside_the_box_is_an_error():
    assert np.array_equal(mr._box_solution([-1e-9, 0.5, 1 + 1e-9], "t"), [0.0, 0.5, 1.0])
    with pytest.raises(mr.SelfCheckFailed, match="outside the feasible box"):
        mr._box_solution([0.5, 1.5], "t")


def test_domain_boundaries_are_accepted():
    """The closed ends of the domains are valid inputs: eta = -1 and 1 for (11), theta = 0 and 1 for (10)."""
    assert np.array_equal(mr.pgd_latent_step([-1.0, 1.0], 0.0, 1.0), [-1.0, 1.0])
    assert np.array_equal(mr.pgd_theta_step([0.0, 1.0], 0.0, 1.0), [0.0, 1.0])


# ------------------------------------------------------------------ derivations


@pytest.fixture(scope="module")
def derived():
    return {name: get_derivation(name).compute() for name in ("mirror-map", "vb-step")}


def test_mirror_map_derivation(derived):
    res = derived["mirror-map"]
    assert res.name == "mirror-map" and res.checks and res.notes
    assert res.result["kl_factor_logistic"] == sympy.Rational(1, 2)
    assert res.result["pgd_eps_prime"] == 4 * mr.EPS
    for name in FAMILIES:
        assert {f"Phi_{name}", f"D_{name}", f"step_{name}"} <= set(res.result)
    assert any("cvxpy" in c for c in res.checks)
    assert from_json(to_json(res)).result == res.result


def test_vb_step_derivation(derived):
    res = derived["vb-step"]
    assert res.result["dropped_factor"] == 1 / (mr.EPS * mr.LAM + 1)
    assert res.result["kl_to_half_plus_entropy"] == sympy.log(2)
    assert _zero(res.result["eq58_as_eq57_step"] - mr.EPS / (1 - mr.EPS * mr.LAM))
    assert any("cvxpy" in c for c in res.checks)
    assert from_json(to_json(res)).result == res.result


# ------------------------------------------------------------------ session 13: vb_step_numpy's self-test


def test_vb_numpy_selftest_passes_and_refuses_a_swapped_step_or_a_refused_lambda_zero(monkeypatch):
    """The closed-form self-test of vb_step_numpy (lam = 0 included) passes on the tree; it says no when the step
    uses eq. (58) for eq. (57), and when lam = 0 is refused as an argument (the guard's boundary)."""
    assert mr._vb_numpy_selftest_failures() == []
    real = mr.vb_step

    def swapped(divergence):
        res = real(divergence)
        return res | {"eq57": res["eq58"], "eq58": res["eq57"]}

    monkeypatch.setattr(mr, "vb_step", swapped)
    assert len(mr._vb_numpy_selftest_failures()) == 4
    monkeypatch.setattr(mr, "vb_step", real)
    real_finite = mr._finite_array

    def refuse_zero_lam(x, name):
        out = real_finite(x, name)
        if name == "lam" and np.any(out == 0):
            raise InvalidArgument("lam must be > 0")
        return out

    monkeypatch.setattr(mr, "_finite_array", refuse_zero_lam)
    failures = mr._vb_numpy_selftest_failures()
    assert len(failures) == 4 and all("refuses the valid points" in f for f in failures)


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_vb_prox_cvxpy_accepts_lambda_zero_and_gives_the_mirror_descent_step(scale):
    """lam = 0 (no prior) is valid for the cvxpy solver too (the guard's boundary): eq. (55) is then the mirror
    step, theta' = sigmoid(logit(theta) - eps g / kl_scale), in closed form; solver tolerance CVX_TOL."""
    th, g, eps = np.array([0.3, 0.8]), np.array([0.7, -1.1]), np.array([0.5, 0.2])
    got = mr.vb_prox_cvxpy(g, th, eps, 0.0, kl_scale=scale)
    want = 1.0 / (1.0 + np.exp(-(np.log(th / (1 - th)) - eps * g / scale)))
    assert np.max(np.abs(got - want)) < CVX_TOL
    with pytest.raises(InvalidArgument, match="lam must be >= 0"):
        mr.vb_prox_cvxpy(g, th, eps, -1e-12, kl_scale=scale)
