"""Tests of theory.population (claim QSTE-POP): closed forms vs Monte Carlo, quadrature, finite differences.

Every Monte Carlo comparison is also run against a deliberately wrong formula
(a mutated Gaussian plane integral, re-assembled by ``derive_population``),
which must be refuted by the same 3-standard-error criterion.
"""

import dataclasses
import math

import numpy as np
import pytest
import sympy
from scipy import integrate

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.theory import population as pop
from stecheck.theory.derivations import get_derivation, list_derivations

TH, NW, NWS = pop.THETA, pop.W_NORM, pop.W_STAR_NORM
SQ3 = math.sqrt(3)
Z_LIMIT = 3.0


@pytest.fixture(scope="module")
def formulas():
    return pop.derive_population()


# ------------------------------------------------------------------ plane integrals


def _phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def test_plane_moments_match_cartesian_quadrature(formulas):
    """The polar/by-parts sympy integrals against scipy dblquad over {s > 0 or 0 < s < r} x {t > -s cot}."""
    th, r = 1.1, 0.7
    cot = 1 / math.tan(th)
    m = formulas.moments

    def quad2(fn, s_hi):
        val, err = integrate.dblquad(lambda t, s: fn(s, t) * _phi(s) * _phi(t), 0, s_hi, lambda s: -s * cot, np.inf)
        return val

    def ev(e):
        return float(e.subs({TH: th, pop.R: r}))

    assert ev(m.p_both) == pytest.approx(quad2(lambda s, t: 1.0, np.inf), abs=1e-8)
    assert ev(m.m_both[0]) == pytest.approx(quad2(lambda s, t: s, np.inf), abs=1e-8)
    assert ev(m.m_both[1]) == pytest.approx(quad2(lambda s, t: t, np.inf), abs=1e-8)
    assert ev(m.m_strip_ws[0]) == pytest.approx(quad2(lambda s, t: s, r), abs=1e-8)
    assert ev(m.m_strip_ws[1]) == pytest.approx(quad2(lambda s, t: t, r), abs=1e-8)
    assert ev(m.m_strip[0]) == pytest.approx(integrate.quad(lambda s: s * _phi(s), 0, r)[0], abs=1e-10)
    assert m.m_strip[1] == 0 and m.m_all == (0, 0) and m.p_w == sympy.Rational(1, 2)


def test_f_depends_on_w_only_through_theta(formulas):
    assert not formulas.f.free_symbols & {NW, NWS}
    assert sympy.simplify(pop.same_teacher(formulas.f) - pop.V_SQ * TH / (2 * sympy.pi)) == 0
    w_star = np.array([1.0, 1.0, -1.0]) / SQ3
    w = np.array([1.0, -1.0, 1.0]) / SQ3
    v = np.array([1.0, -2.0, 0.5])
    assert pop.population_loss(5.0 * w, 0.1 * w_star, v) == pytest.approx(pop.population_loss(w, w_star, v))


def test_grad_f_matches_sympy_differentiation_in_3d():
    """grad f from the angle formula vs sympy's d/dw of |v|^2 acos(<w, w*>/(|w||w*|))/(2 pi) (explicit coordinates)."""
    ws = sympy.symbols("w1:4", real=True)
    wstar = sympy.Matrix([0.3, -1.2, 0.5])
    w_vec = sympy.Matrix(ws)
    theta = sympy.acos(w_vec.dot(wstar) / (w_vec.norm() * wstar.norm()))
    v = np.array([2.0, -1.0])
    f = float(v @ v) * theta / (2 * sympy.pi)
    point = {ws[0]: 0.7, ws[1]: 0.4, ws[2]: -0.9}
    grad_sym = np.array([float(sympy.diff(f, wi).subs(point)) for wi in ws])
    grad = pop.population_loss_gradient([0.7, 0.4, -0.9], np.array(wstar, dtype=float).ravel(), v)
    assert np.max(np.abs(grad - grad_sym)) < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grad_f_matches_finite_differences_general_vstar(seed):
    rng = np.random.default_rng(seed)
    n, k = 4, 3
    w, w_star, v, v_star = rng.normal(size=n), rng.normal(size=n), rng.normal(size=k), rng.normal(size=k)
    h = 1e-6
    fd = np.array([(pop.population_loss(w + h * e, w_star, v, v_star=v_star)
                    - pop.population_loss(w - h * e, w_star, v, v_star=v_star)) / (2 * h) for e in np.eye(n)])
    assert np.max(np.abs(fd - pop.population_loss_gradient(w, w_star, v, v_star=v_star))) < 1e-7


# ------------------------------------------------------------------ Monte Carlo, 10^7 samples

INSTANCES = {
    # k = 1, n = 3; w, w* in Q1 = {+-1/sqrt(n)}^n, w rescaled to 0.8 so that the clip at z.w = 1 matters
    "k1_n3": dict(w=0.8 * np.array([1.0, -1.0, 1.0]) / SQ3, w_star=np.array([1.0, 1.0, 1.0]) / SQ3,
                  v=np.array([1.0]), v_star=None, n_samples=10**7, seed=11),
    # k = 2, n = 3, general w (|w| = 1.0)
    "k2_n3": dict(w=np.array([0.5, -0.5, 0.7071]), w_star=np.array([1.0, 1.0, -1.0]) / SQ3,
                  v=np.array([1.0, -2.0]), v_star=None, n_samples=10**7, seed=12),
    # outside the claim's model: a different teacher layer v* != v (Yin et al.'s setting), k = 2, n = 2
    "k2_n2_vstar": dict(w=np.array([1.5, 0.2]), w_star=np.array([0.6, 0.8]),
                        v=np.array([1.0, 1.0]), v_star=np.array([1.0, 3.0]), n_samples=2 * 10**6, seed=13),
}


def _mutants():
    m = pop.plane_moments()
    return {
        # the angle factor of the orthant probability: (pi - theta)/pi instead of /(2 pi)
        "orthant_over_pi": dataclasses.replace(m, p_both=(sympy.pi - TH) / sympy.pi),
        # E[z 1{z.w>0, z.w*>0}] without its factor 1/2
        "both_moment_doubled": dataclasses.replace(m, m_both=tuple(2 * e for e in m.m_both)),
        # E[z 1{z.w*>0}] with the e2 component of the wrong sign
        "ws_moment_e2_flipped": dataclasses.replace(m, m_ws=(m.m_ws[0], -m.m_ws[1])),
        # clipped ReLU treated as ReLU: the window z.w < 1 forgotten
        "clip_ignored": dataclasses.replace(m, m_strip=m.m_w, m_strip_ws=m.m_both),
    }


#: which comparison each mutant must fail: "f" or a proxy
MUTANT_TARGET = {"orthant_over_pi": "f", "both_moment_doubled": "relu", "ws_moment_e2_flipped": "identity",
                 "clip_ignored": "clipped_relu"}


@pytest.fixture(scope="module", params=sorted(INSTANCES))
def mc_case(request):
    case = INSTANCES[request.param]
    mc = pop.monte_carlo(case["w"], case["w_star"], case["v"], v_star=case["v_star"],
                         n_samples=case["n_samples"], seed=case["seed"])
    return request.param, case, mc


def _z_scores(case, mc, formulas):
    args = (case["w"], case["w_star"], case["v"])
    zs = {"f": mc.loss_z(pop.population_loss(*args, v_star=case["v_star"], formulas=formulas))}
    for proxy in pop.PROXIES:
        zs[proxy] = mc.grad_z(proxy, pop.expected_ste_gradient(*args, proxy, v_star=case["v_star"], formulas=formulas))
    return zs


def test_closed_forms_agree_with_monte_carlo_and_mutants_are_refuted(mc_case, formulas):
    name, case, mc = mc_case
    assert mc.n_samples >= (10**7 if case["v_star"] is None else 10**6)
    zs = _z_scores(case, mc, formulas)
    assert max(zs.values()) < Z_LIMIT, f"{name}: z-scores {zs}"
    for mutant, moments in _mutants().items():
        target = MUTANT_TARGET[mutant]
        z_bad = _z_scores(case, mc, pop.derive_population(moments))[target]
        assert z_bad > Z_LIMIT, f"{name}: mutant {mutant} not refuted on {target} (z = {z_bad:.2f})"


def test_clipped_relu_quadrature_matches_monte_carlo(mc_case):
    name, case, mc = mc_case
    q = pop.clipped_relu_quadrature(case["w"], case["w_star"], case["v"], v_star=case["v_star"])
    assert mc.grad_z("clipped_relu", q.value) < Z_LIMIT


def test_monte_carlo_is_reproducible_and_seeded():
    args = ([0.3, -0.2], [0.1, 0.5], [1.0, 2.0])
    a = pop.monte_carlo(*args, n_samples=5000, seed=3, chunk_size=1000)
    b = pop.monte_carlo(*args, n_samples=5000, seed=3, chunk_size=1000)
    c = pop.monte_carlo(*args, n_samples=5000, seed=4, chunk_size=1000)
    assert a.loss_mean == b.loss_mean and np.array_equal(a.grad_mean["relu"], b.grad_mean["relu"])
    assert a.loss_mean != c.loss_mean


# ------------------------------------------------------------------ clipped ReLU: closed form vs quadrature


@pytest.mark.parametrize("theta", [0.05, 0.9, 2.0, 3.1])
@pytest.mark.parametrize("w_norm", [0.2, 1.0, 5.0])
def test_clipped_relu_closed_form_vs_quadrature(theta, w_norm):
    w = w_norm * np.array([1.0, 0.0, 0.0])
    w_star = 2.0 * np.array([math.cos(theta), math.sin(theta), 0.0])
    for v, v_star in (([1.0, -0.5], None), ([1.0, 1.0], [0.5, 3.0])):
        q = pop.clipped_relu_quadrature(w, w_star, v, v_star=v_star, dps=25)
        closed = pop.expected_ste_gradient(w, w_star, v, "clipped_relu", v_star=v_star)
        assert np.all(np.abs(closed - q.value) <= q.error + 1e-12), (closed, q)


def test_clipped_relu_tends_to_relu_for_small_w_and_to_zero_for_large_w():
    w_star = np.array([0.6, 0.8, 0.0])
    relu = pop.expected_ste_gradient([1e-3, 0.0, 0.0], w_star, [1.0], "relu")
    assert np.allclose(pop.expected_ste_gradient([1e-3, 0.0, 0.0], w_star, [1.0], "clipped_relu"), relu, atol=1e-12)
    big = pop.expected_ste_gradient([1e6, 0.0, 0.0], w_star, [1.0], "clipped_relu")
    assert np.max(np.abs(big)) < 1e-6


# ------------------------------------------------------------------ signs


def test_symbolic_signs_relu_identity(formulas):
    for proxy, scale in (("relu", 1), ("identity", 2)):
        ig = formulas.inner_with_gradient(proxy)
        idisp = formulas.inner_with_displacement(proxy)
        c = sympy.sqrt(2) * scale / (8 * sympy.pi ** sympy.Rational(3, 2))
        assert sympy.simplify(ig - c * pop.V_SQ**2 * sympy.sin(TH) / NW) == 0
        assert sympy.simplify(idisp - 2 * c * sympy.pi * pop.V_SQ * (NW + NWS) * (1 - sympy.cos(TH))) == 0
    # E[g_identity] = 2 E[g_relu] when v* = v
    for a, b in zip(formulas.g["identity"], formulas.g["relu"]):
        assert sympy.simplify(pop.same_teacher(a - 2 * b)) == 0


def test_clipped_gradient_inner_product_is_positive_symbolically(formulas):
    ig = formulas.inner_with_gradient("clipped_relu")
    # = positive constant * |v|^4 sin(theta) erf(1/(sqrt(2) |w| sin(theta))) / |w|
    ratio = sympy.simplify(ig / (pop.V_SQ**2 * sympy.sin(TH) / NW))
    assert ratio.has(sympy.erf) and not ratio.has(pop.W_STAR_NORM)
    for th in (0.01, 1.0, 3.1):
        for nw in (0.01, 1.0, 100.0):
            assert float(ratio.subs({TH: th, NW: nw})) > 0


@pytest.mark.parametrize("seed", range(4))
def test_inner_products_positive_on_random_instances(seed):
    rng = np.random.default_rng(100 + seed)
    n, k = 5, 3
    for _ in range(10):
        w, w_star, v = rng.normal(size=n) * rng.uniform(0.1, 5), rng.normal(size=n), rng.normal(size=k)
        for proxy in pop.PROXIES:
            ip = pop.inner_products(w, w_star, v, proxy)
            assert ip["g.grad_f"] > 0 and ip["g.(w - w*)"] > 0, (proxy, ip)


def test_displacement_sign_can_flip_when_teacher_layer_differs():
    ip = pop.inner_products([3.0, 0.0], [math.cos(0.3), math.sin(0.3)], [1.0, 1.0], "relu", v_star=[1.0, 3.0])
    assert ip["g.grad_f"] > 0 > ip["g.(w - w*)"]


def test_gradient_inner_product_nonnegative_general_vstar(formulas):
    for proxy in ("relu", "identity"):
        expr = formulas.inner_with_gradient(proxy, teacher_v_equals_v=False)
        assert sympy.simplify(expr / (pop.V_DOT**2 * sympy.sin(TH) / NW)).is_positive


def test_ste_gradient_vanishes_at_teacher_direction():
    w_star = np.array([0.5, -0.5, 0.5, 0.5])
    for proxy in pop.PROXIES:
        assert np.max(np.abs(pop.expected_ste_gradient(2.0 * w_star, w_star, [1.0, -1.0], proxy))) < 1e-8


# ------------------------------------------------------------------ bad input


def test_monte_carlo_accepts_the_smallest_valid_arguments():
    # the boundary of each guard: n_samples = 2, seed = 0, chunk_size = 1 are valid (numpy integers too)
    mc = pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=2, seed=0, chunk_size=1)
    assert (mc.n_samples, mc.seed, mc.chunk_size) == (2, 0, 1)
    mc = pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=np.int64(3), seed=np.int64(0), chunk_size=np.int64(2))
    assert (mc.n_samples, mc.chunk_size) == (3, 2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: pop.population_loss([0.0, 0.0], [1.0, 0.0], [1.0]), "zero vector"),
        (lambda: pop.population_loss([1.0, 0.0], [0.0, 0.0], [1.0]), "zero vector"),
        (lambda: pop.population_loss([1.0, 0.0], [1.0, 0.0, 1.0], [1.0]), "length 3 but must have length 2"),
        (lambda: pop.population_loss([1.0, 0.0], [1.0, 2.0], [1.0], v_star=[1.0, 2.0]), "v_star has length 2"),
        (lambda: pop.population_loss([[1.0, 0.0]], [1.0, 2.0], [1.0]), "1-D"),
        (lambda: pop.population_loss([1.0, np.nan], [1.0, 2.0], [1.0]), "non-finite"),
        (lambda: pop.population_loss("ab", [1.0, 2.0], [1.0]), "real numbers"),
        (lambda: pop.expected_ste_gradient([1.0, 0.0], [1.0, 2.0], [1.0], "tanh"), "unknown proxy"),
        (lambda: pop.population_loss_gradient([1.0, 1.0], [2.0, 2.0], [1.0]), "parallel"),
        (lambda: pop.clipped_relu_quadrature([1.0, 1.0], [2.0, 2.0], [1.0]), "parallel"),
        (lambda: pop.clipped_relu_quadrature([1.0, 0.0], [1.0, 2.0], [1.0], dps=5), "dps"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=1), "n_samples"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=10, seed=-1), "seed"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=10, chunk_size=0), "chunk_size"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=True), "n_samples"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=10, seed=1.0), "seed"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=10, seed=True), "seed"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=2.0), "n_samples"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=10, chunk_size=1.0), "chunk_size"),
        (lambda: pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=10, chunk_size=True), "chunk_size"),
        (lambda: pop.derive_population("moments"), "PlaneMoments"),
    ],
)
def test_bad_input_raises_invalid_argument(call, match):
    with pytest.raises(InvalidArgument, match=match) as info:
        call()
    msg = str(info.value)
    assert any(word in msg for word in ("pass", "Pass", "Use")), msg


# ------------------------------------------------------------------ catalog


@pytest.fixture(scope="module")
def catalog_result():
    return get_derivation("population-ste").compute()


def test_population_derivation_is_registered_and_complete(catalog_result):
    assert "population-ste" in [d.name for d in list_derivations()]
    res = catalog_result
    for key in ("f", "grad_f", "g_relu", "g_clipped_relu", "g_identity", "<g_relu, grad_f>",
                "<g_relu, w - w*>", "<g_identity, grad_f>", "<g_clipped_relu, grad_f>"):
        assert isinstance(res.result[key], sympy.Basic), key
    text = " ".join(res.checks)
    assert "Monte Carlo" in text and "100000 samples" in text and "quadrature" in text
    assert res.result["f"] == pop.V_SQ * TH / (2 * sympy.pi)
    assert any("Yin et al." in n for n in res.notes)


def test_clipped_relu_quadrature_error_covers_a_higher_precision_evaluation():
    # the stated error (quadrature estimate + working precision + the measured float64 conversion) covers the
    # distance to the same integrals at 60 digits, and is not inflated beyond a few float64 ulps
    for w, w_star in (([0.3, -0.2, 0.1], [0.5, 0.5, 0.5]), ([2.0, 1.0], [-1.0, 3.0])):
        q = pop.clipped_relu_quadrature(w, w_star, [1.0, -0.5], dps=20)
        ref = pop.clipped_relu_quadrature(w, w_star, [1.0, -0.5], dps=60)
        assert np.all(np.abs(q.value - ref.value) <= q.error)
        assert np.all(q.error <= 4 * np.spacing(np.abs(q.value)) + 1e-17)


def test_clipped_relu_quadrature_parallel_guard_boundary():
    """sin(theta) = 1.5e-12 is just above the 1e-12 parallel threshold (accepted); 0.5e-12 is below it (refused)."""
    from stecheck.errors import InvalidArgument
    from stecheck.theory import population as _pop

    _pop.clipped_relu_quadrature([1.0, 0.0], [1.0, 1.5e-12], [1.0])
    with pytest.raises(InvalidArgument, match="parallel"):
        _pop.clipped_relu_quadrature([1.0, 0.0], [1.0, 0.5e-12], [1.0])


def test_parallel_guards_at_their_exact_thresholds():
    """The parallel guards are strict: ``sin(theta) = 1e-12`` exactly (w = e1, w* = (1, 1e-12): the residual is
    (0, 1e-12), its norm exactly 1e-12) is accepted by the quadrature (whose guard is ``< 1e-12``), and
    ``sin(theta) = 1.5e-12`` is accepted by grad f (guard ``< 1e-12``; a threshold 2e-12 would refuse it).  The
    quadrature agrees with the closed form within its stated error + 1e-12; grad f is finite."""
    from stecheck.theory import population as _pop

    inst = _pop._instance([1.0, 0.0], [1.0, 1e-12], [1.0, -0.5], None)
    assert _pop._plane_basis(inst)[2] == 1e-12
    q = _pop.clipped_relu_quadrature([1.0, 0.0], [1.0, 1e-12], [1.0, -0.5])
    closed = _pop.expected_ste_gradient([1.0, 0.0], [1.0, 1e-12], [1.0, -0.5], "clipped_relu")
    assert np.all(np.abs(closed - q.value) <= q.error + 1e-12)
    inst = _pop._instance([1.0, 0.0], [1.0, 1.5e-12], [1.0, -0.5], None)
    assert 1e-12 < _pop._plane_basis(inst)[2] < 2e-12
    grad = _pop.population_loss_gradient([1.0, 0.0], [1.0, 1.5e-12], [1.0, -0.5])
    assert np.all(np.isfinite(grad))


def test_invalid_arguments_fail_fast_even_if_a_guard_let_them_pass():
    """The guard cases above use n_samples = 10: a guard that let chunk_size = True or 1.0 through would run 10 chunks
    and return at once (the test then fails), not 10**7 chunks of one sample (a run that would time out)."""
    mc = pop.monte_carlo([1.0, 0.0], [1.0, 2.0], [1.0], n_samples=10, chunk_size=1)
    assert mc.n_samples == 10 and mc.chunk_size == 1


def test_vector_display_is_checked_against_its_coefficients(formulas):
    expr = formulas.vector(formulas.g["relu"])
    assert sympy.simplify(expr.coeff(pop.W_STAR_HAT) - formulas.g["relu"][1]) == 0
    # coefficients that contain a placeholder do not give back a linear combination: refused
    with pytest.raises(SelfCheckFailed, match="display form"):
        formulas.vector((sympy.Integer(1), pop.W_STAR_HAT))


def test_mc_selftest_passes_and_says_no(monkeypatch):
    assert pop._mc_selftest() == []
    monkeypatch.setattr(pop._mc_selftest_once, "passed", True)  # the patched runs below must not re-run it
    real_z = pop.MonteCarloEstimate.loss_z
    monkeypatch.setattr(pop.MonteCarloEstimate, "loss_z", lambda self, ref: -real_z(self, ref))
    assert any("loss_z" in b for b in pop._mc_selftest())
    monkeypatch.undo()
    monkeypatch.setattr(pop._mc_selftest_once, "passed", True)
    real_mc = pop.monte_carlo

    def wide_se(*a, **kw):  # a standard error twice too large (e.g. a wrong second moment)
        import dataclasses

        mc = real_mc(*a, **kw)
        return dataclasses.replace(mc, loss_se=2 * mc.loss_se)

    monkeypatch.setattr(pop, "monte_carlo", wide_se)
    bad = pop._mc_selftest()
    assert any("two-point law" in b for b in bad) and any("the draws give" in b for b in bad)


def test_quadrature_selftest_passes_and_refuses_an_inflated_error(monkeypatch):
    assert pop._quadrature_selftest() == []
    real = pop._quadrature

    def inflated(*a, **kw):
        q = real(*a, **kw)
        return pop.QuadratureEstimate(q.value, q.error * 1e3, q.dps)

    monkeypatch.setattr(pop, "_quadrature", inflated)
    assert any("exceeds 4 ulps" in b for b in pop._quadrature_selftest())
