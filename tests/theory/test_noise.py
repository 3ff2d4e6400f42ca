"""Tests of theory.noise: each family is a density, consistent, scaled, and its proxies are right."""

import math

import numpy as np
import pytest
import sympy
from scipy import integrate

from stecheck.errors import InvalidArgument
from stecheck.theory.noise import (
    A,
    NOISE_FAMILIES,
    Z,
    NoiseFamily,
    get_noise,
    proxy_backward,
    proxy_forward,
)

NAMES = sorted(NOISE_FAMILIES)
# points avoiding the kinks of the piecewise families
GRID = np.array([-2.7, -1.9, -1.3, -0.8, -0.3, 0.2, 0.6, 1.1, 1.7, 2.4])


def _support(name):
    return {"uniform": (-1, 1), "triangular": (-2, 2)}.get(name, (-np.inf, np.inf))


def test_registry_has_the_four_families():
    assert set(NAMES) == {"logistic", "uniform", "triangular", "gaussian"}
    for name, fam in NOISE_FAMILIES.items():
        assert fam.name == name and fam.symbol == Z


@pytest.mark.parametrize("name", NAMES)
def test_pdf_integrates_to_one_sympy(name):
    fam = NOISE_FAMILIES[name]
    assert sympy.simplify(sympy.integrate(fam.pdf, (Z, -sympy.oo, sympy.oo)) - 1) == 0


@pytest.mark.parametrize("name", NAMES)
def test_pdf_integrates_to_one_quad_and_is_nonnegative(name):
    pdf, _, _ = NOISE_FAMILIES[name].numpy_functions()
    lo, hi = _support(name)
    with np.errstate(over="ignore"):
        mass, err = integrate.quad(lambda t: float(pdf(t)), lo, hi)
        assert abs(mass - 1) < 1e-8 and err < 1e-6
        assert np.all(np.asarray(pdf(np.linspace(-6, 6, 241)), dtype=float) >= 0)


@pytest.mark.parametrize("name", NAMES)
def test_cdf_derivative_is_pdf(name):
    fam = NOISE_FAMILIES[name]
    diff = sympy.diff(fam.cdf, Z) - fam.pdf
    assert sympy.simplify(sympy.piecewise_fold(diff).rewrite(sympy.exp)) == 0
    # independent numeric route: central differences of the cdf
    pdf, cdf, _ = fam.numpy_functions()
    h = 1e-6
    fd = (np.asarray(cdf(GRID + h), dtype=float) - np.asarray(cdf(GRID - h), dtype=float)) / (2 * h)
    assert np.max(np.abs(fd - np.asarray(pdf(GRID), dtype=float))) < 1e-7


@pytest.mark.parametrize("name", NAMES)
def test_cdf_limits(name):
    fam = NOISE_FAMILIES[name]
    if fam.cdf.has(sympy.Piecewise):  # compact support: exact values outside it
        assert fam.cdf_at(-10) == 0 and fam.cdf_at(10) == 1
    else:
        assert sympy.limit(fam.cdf, Z, -sympy.oo) == 0
        assert sympy.limit(fam.cdf, Z, sympy.oo) == 1


@pytest.mark.parametrize("name", NAMES)
def test_icdf_inverts_cdf_on_a_grid(name):
    _, cdf, icdf = NOISE_FAMILIES[name].numpy_functions()
    lo, hi = _support(name)
    z = np.linspace(max(lo, -3.0) + 1e-3, min(hi, 3.0) - 1e-3, 57)
    assert np.max(np.abs(np.asarray(icdf(np.asarray(cdf(z), dtype=float)), dtype=float) - z)) < 1e-8
    u = np.linspace(0.01, 0.99, 41)
    assert np.max(np.abs(np.asarray(cdf(np.asarray(icdf(u), dtype=float)), dtype=float) - u)) < 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_twice_density_at_zero_is_one(name):
    fam = NOISE_FAMILIES[name]
    assert proxy_backward(fam).subs(A, 0) == 1
    assert 2 * fam.pdf_at(0) == 1


def test_scaling_check_can_fail():
    """A unit-scale logistic (F = sigmoid(z)) is refused by the same 2F'(0) test."""
    wrong = NoiseFamily("logistic-unit", sympy.Integer(0), 1 / (1 + sympy.exp(-Z)), sympy.Integer(0))
    assert proxy_backward(wrong).subs(A, 0) == sympy.Rational(1, 2)


@pytest.mark.parametrize("name", NAMES)
def test_proxy_forward_matches_monte_carlo(name):
    fam = NOISE_FAMILIES[name]
    _, _, icdf = fam.numpy_functions()
    rng = np.random.default_rng(12345)
    z = np.asarray(icdf(rng.random(100_000)), dtype=float)
    fwd = sympy.lambdify(A, proxy_forward(fam), modules=["scipy", "numpy"])
    for a0 in (-1.7, -0.4, 0.0, 0.3, 0.9, 2.2):
        exact = float(fwd(a0))
        mc = float(np.mean(np.sign(a0 - z)))
        sd = math.sqrt(max(1 - exact**2, 0.0) / z.size)
        assert abs(mc - exact) <= 5 * sd + 1e-12, (name, a0, mc, exact)


@pytest.mark.parametrize("name", NAMES)
def test_proxy_backward_is_twice_the_density(name):
    fam = NOISE_FAMILIES[name]
    pdf, _, _ = fam.numpy_functions()
    bwd = sympy.lambdify(A, proxy_backward(fam), modules=["scipy", "numpy"])
    assert np.max(np.abs(np.asarray(bwd(GRID), dtype=float) - 2 * np.asarray(pdf(GRID), dtype=float))) < 1e-12


def test_forward_proxies_are_the_empirical_ones():
    """Fig. A.1: tanh (logistic), Htanh (uniform), ApproxSign(a/2) (triangular, Liu et al. 2018)."""
    assert sympy.simplify((proxy_forward("logistic") - sympy.tanh(A)).rewrite(sympy.exp)) == 0

    def approx_sign(x):
        return np.where(x < -1, -1.0, np.where(x < 0, 2 * x + x**2, np.where(x < 1, 2 * x - x**2, 1.0)))

    grid = np.linspace(-3, 3, 61)
    uni = sympy.lambdify(A, proxy_forward("uniform"))
    tri = sympy.lambdify(A, proxy_forward("triangular"))
    assert np.max(np.abs(uni(grid) - np.clip(grid, -1, 1))) < 1e-14
    assert np.max(np.abs(tri(grid) - approx_sign(grid / 2))) < 1e-14


def test_triangular_density_is_the_max_form():
    pdf, _, _ = get_noise("triangular").numpy_functions()
    grid = np.linspace(-3, 3, 121)
    assert np.max(np.abs(pdf(grid) - np.maximum(0, (2 - np.abs(grid)) / 4))) < 1e-15


def test_gaussian_has_the_stated_std():
    fam = get_noise("gaussian")
    var = sympy.integrate(Z**2 * fam.pdf, (Z, -sympy.oo, sympy.oo))
    assert sympy.simplify(var - 2 / sympy.pi) == 0


def test_unknown_noise_lists_valid_names():
    with pytest.raises(InvalidArgument) as info:
        get_noise("laplace")
    msg = str(info.value)
    assert "'laplace'" in msg and all(n in msg for n in NAMES)


def test_proxy_rejects_non_family():
    with pytest.raises(InvalidArgument, match="NoiseFamily"):
        proxy_forward(3.0)
    assert proxy_forward("uniform") == proxy_forward(get_noise("uniform"))
