"""numerics.metrics: eqs. (61)-(67) -- formulas, exact vs Monte Carlo, the optimal step (64)-(65)."""

import numpy as np
import pytest
import sympy

from stecheck.numerics import enumeration as en
from stecheck.numerics import losses as L
from stecheck.numerics import metrics as M
from stecheck.numerics.encodings import Reencoded
from stecheck.numerics.seeding import task_seed
from stecheck.errors import InvalidArgument

RNG = np.random.default_rng(31)
N = 4
LOSS = L.Quadratic(RNG.normal(size=(3, N)), RNG.normal(size=3))
A = np.array([0.5, -0.3, 0.1, -0.8])


def test_per_sample_terms_formulas():
    G = np.array([[1.0, 0.0], [0.0, 0.0], [-2.0, 2.0]])
    g = np.array([3.0, 4.0])
    T = M.per_sample_terms(G, g)
    np.testing.assert_allclose(T[:, 0], [0.6, 0.0, (-6 + 8) / (np.sqrt(8) * 5)])
    np.testing.assert_allclose(T[:, 1], [3.0, 0.0, 2.0])
    np.testing.assert_allclose(T[:, 2], [1.0, 0.0, 8.0])
    np.testing.assert_allclose(T[:, 3], [4 + 16, 25, 25 + 4])
    with pytest.raises(InvalidArgument, match="zero"):
        M.per_sample_terms(G, [0.0, 0.0])


def test_metrics_formulas_from_means():
    m = M.metrics_from_means([0.5, 2.0, 4.0, 9.0], [0.4, 1.0, 3.0, 8.0], [0.6, 3.0, 5.0, 10.0],
                             eps=0.5, method="test", confidence=None)
    assert m.improvement.value == pytest.approx(-1.0)  # -E<G,g>/sqrt(E|G|^2), eq. (66)
    assert m.optimal_step.value == pytest.approx(0.25)  # eps E<G,g>/E|G|^2, eq. (64)
    assert m.optimal_objective.value == pytest.approx(-0.25)  # -(eps/2) E<G,g>^2/E|G|^2, eq. (65)
    assert m.rmse.value == pytest.approx(3.0)
    assert m.improvement.low == pytest.approx(-3 / np.sqrt(3)) and m.improvement.high == pytest.approx(-1 / np.sqrt(5))
    assert m.rmse.low == pytest.approx(np.sqrt(8)) and m.rmse.high == pytest.approx(np.sqrt(10))
    wide = M.metrics_from_means([0.5, 2.0, 0.1, 9.0], [0.4, -1.0, -0.1, 8.0], [0.6, 3.0, 0.3, 10.0],
                                method="test", confidence=None)
    assert wide.improvement.low == -np.inf and wide.improvement.high == np.inf


def test_optimal_step_by_symbolic_minimisation():
    alpha_star, value, second = M.optimal_step_derivation()
    A_, eps, Q = sympy.Symbol("A", real=True), sympy.Symbol("epsilon", positive=True), sympy.Symbol("Q", positive=True)
    assert sympy.simplify(alpha_star - eps * A_ / Q) == 0
    assert sympy.simplify(value + eps * A_**2 / (2 * Q)) == 0
    assert sympy.simplify(second - Q / eps) == 0 and (Q / eps).is_positive
    # numerically: the metric's alpha* minimises the sample version of (63)
    G = RNG.normal(size=(500, 3)) + 1.0
    g = np.array([1.0, 0.5, 2.0])
    m = M.metrics_from_samples(G, g, eps=0.3)

    def objective(alpha):
        return np.mean(-alpha * (G @ g) + alpha**2 * np.einsum("bi,bi->b", G, G) / (2 * 0.3))

    a_star = m.optimal_step.value
    assert objective(a_star) == pytest.approx(m.optimal_objective.value, rel=1e-12)
    assert objective(a_star) < min(objective(a_star * 1.01), objective(a_star * 0.99))


@pytest.mark.parametrize("name", ["st", "identity_st", "local_expectations", "reinforce", "arm"])
def test_exact_metrics_inside_monte_carlo_intervals(name):
    g = en.exact_gradient(LOSS, A, "logistic").value
    ex = M.exact_metrics(name, LOSS, A, "logistic")
    mc = M.monte_carlo_metrics(name, LOSS, A, "logistic", g, 20_000, task_seed(21, name), confidence=0.999)
    assert ex.method == "exact" and mc.method == "clt" and mc.n_samples == 20_000
    for field in ("improvement", "rmse", "optimal_step", "optimal_objective"):
        e, s = getattr(ex, field), getattr(mc, field)
        assert e.low <= e.value <= e.high and s.low <= e.value <= s.high, (name, field, e, s)
    if name == "arm":
        assert np.isnan(ex.cosine.value) and (ex.cosine.low, ex.cosine.high) == (-1.0, 1.0)
    else:
        assert mc.cosine.low <= ex.cosine.value <= mc.cosine.high


def test_exact_metrics_special_cases():
    # linear loss: ST is exact with zero variance (Sec. 2.2 I): ECS 1, EI -|g|, RMSE 0
    lin = L.Linear([1.0, -2.0, 0.5, 3.0])
    g = en.exact_gradient(lin, A, "gaussian").value
    m = M.exact_metrics("st", lin, A, "gaussian")
    assert m.cosine.value == pytest.approx(1.0) and m.rmse.value == pytest.approx(0.0, abs=1e-12)
    assert m.improvement.value == pytest.approx(-np.linalg.norm(g))
    # Example 2 (L = x - sin(2 pi x)): ST points exactly opposite to the true gradient: ECS -1, EI > 0
    wrong = M.exact_metrics("st", L.Ex2(), [0.7, -0.2], "logistic")
    assert wrong.cosine.value == pytest.approx(-1.0) and wrong.improvement.value > 0
    # {0,1} encoding and Gumbel-Softmax by quadrature at n = 1
    m01 = M.exact_metrics("st", Reencoded(LOSS, "pm1"), A, "logistic", encoding="01")
    mpm = M.exact_metrics("st", LOSS, A, "logistic")
    assert m01.cosine.value == pytest.approx(mpm.cosine.value, rel=1e-12)
    q = M.exact_metrics("gumbel_softmax", L.Quadratic([[1.0]], [0.3]), [0.2], "logistic", tau=0.5)
    assert q.method == "quadrature" and q.rmse.low <= q.rmse.value <= q.rmse.high


def test_metrics_from_samples_interval_and_zero_fraction():
    G = np.zeros((10, 2))
    G[:5] = [1.0, 1.0]
    m = M.metrics_from_samples(G, [1.0, 1.0])
    assert m.zero_fraction == 0.5 and m.cosine.value == pytest.approx(0.5)
    assert m.cosine.low <= 0.5 <= m.cosine.high and m.confidence == 0.99


def test_metrics_from_means_refuses_eps_zero():
    # mutation survivor: the guard "eps > 0.0" -> ">= 0.0" (the step-size scale must be > 0)
    import numpy as np
    import pytest

    from stecheck.errors import InvalidArgument
    from stecheck.numerics import metrics as M

    v = np.array([0.5, 1.0, 2.0, 1.0])
    M.metrics_from_means(v, v, v, eps=1e-300, method="exact", confidence=None)
    with pytest.raises(InvalidArgument, match="eps=0.0"):
        M.metrics_from_means(v, v, v, eps=0.0, method="exact", confidence=None)


def test_cosine_of_a_zero_estimate_is_zero():
    # mutation survivor "np.where(norm > 0.0, ..., 0.0)" -> "1.0": cos(0, g) := 0 (the metrics' convention)
    import numpy as np

    from stecheck.numerics import metrics as M

    T = M.per_sample_terms(np.array([[0.0, 0.0], [1.0, 0.0], [-2.0, 0.0]]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(T[:, 0], [0.0, 2**-0.5, -(2**-0.5)], rtol=1e-15)


def test_monte_carlo_metrics_refuses_a_sampler_with_a_wrong_column_count(monkeypatch):
    """MetricTermSampler documents (size, 5) rows; a sixth column (it would change the simultaneous intervals)
    makes monte_carlo_metrics raise SelfCheckFailed."""
    from stecheck.errors import SelfCheckFailed

    call = M.MetricTermSampler.__call__
    monkeypatch.setattr(M.MetricTermSampler, "__call__",
                        lambda self, rng, size: np.concatenate([call(self, rng, size), np.zeros((size, 1))], axis=1))
    g = en.exact_gradient(LOSS, A, "logistic").value
    with pytest.raises(SelfCheckFailed, match=r"expected \(5,\)"):
        M.monte_carlo_metrics("st", LOSS, A, "logistic", g, 2000, task_seed(21, "cols"))
