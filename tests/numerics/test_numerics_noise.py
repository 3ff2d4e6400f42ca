"""numerics.noise: normalisation, inverse cdf, ST scale 2F'(0) = 1, sampling law of eq. (1)."""

import math

import numpy as np
import pytest
from scipy import integrate

from stecheck.numerics.noise import NOISES, get_noise
from stecheck.numerics.seeding import make_rng, task_seed
from stecheck.errors import InvalidArgument

NAMES = sorted(NOISES)


def test_registry_has_the_four_families():
    assert NAMES == ["gaussian", "logistic", "triangular", "uniform"]


@pytest.mark.parametrize("name", NAMES)
def test_pdf_integrates_to_one(name):
    noise = get_noise(name)
    lo, hi = noise.support
    if math.isinf(lo):
        total, err = integrate.quad(lambda z: float(noise.pdf(z)), -np.inf, np.inf)
    else:
        total, err = integrate.quad(lambda z: float(noise.pdf(z)), lo, hi, points=[0.0])
    assert abs(total - 1.0) <= max(err, 1e-12) * 10


@pytest.mark.parametrize("name", NAMES)
def test_cdf_is_integral_of_pdf(name):
    noise = get_noise(name)
    lo = noise.support[0] if not math.isinf(noise.support[0]) else -np.inf
    for z in (-0.7, 0.0, 0.3, 1.2):
        val, _ = integrate.quad(lambda t: float(noise.pdf(t)), lo, z)
        assert float(noise.cdf(z)) == pytest.approx(val, abs=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_cdf_inverts_icdf(name):
    noise = get_noise(name)
    u = np.linspace(1e-6, 1 - 1e-6, 1001)
    np.testing.assert_allclose(noise.cdf(noise.icdf(u)), u, rtol=0, atol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_st_scale_is_one_at_zero(name):
    assert 2.0 * float(get_noise(name).pdf(0.0)) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_sf_is_one_minus_cdf_and_symmetric(name):
    noise = get_noise(name)
    z = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(noise.sf(z), 1.0 - noise.cdf(z), atol=1e-15)
    np.testing.assert_allclose(noise.pdf(z), noise.pdf(-z), rtol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_sign_of_noisy_preactivation_has_mean_2F_minus_1(name):
    noise = get_noise(name)
    rng = make_rng(task_seed(7, f"noise-{name}"))
    a = np.array([-1.5, -0.4, 0.0, 0.25, 1.0])
    N = 40_000
    x = np.where(a >= noise.sample(rng, (N, a.size)), 1.0, -1.0)
    mean = x.mean(axis=0)
    target = 2.0 * noise.cdf(a) - 1.0
    se = np.sqrt(np.maximum(1.0 - target**2, 1e-12) / N)
    assert np.all(np.abs(mean - target) <= 4 * se + 1e-12)


def test_unknown_noise_lists_valid_names():
    with pytest.raises(InvalidArgument, match="logistic") as info:
        get_noise("cauchy")
    assert "cauchy" in str(info.value)


def test_icdf_rejects_out_of_range():
    with pytest.raises(InvalidArgument, match=r"outside \[0, 1\]"):
        get_noise("logistic").icdf([0.5, 1.5])


def test_sample_rejects_legacy_random_state():
    with pytest.raises(InvalidArgument, match="Generator"):
        get_noise("uniform").sample(np.random.RandomState(0), 3)


# --- the consistency audit every family passes at its first use (numerics.noise.audit_family) -------------------

import pytest as _pytest  # noqa: E402

from stecheck.errors import SelfCheckFailed  # noqa: E402
from stecheck.numerics import noise as _noise  # noqa: E402


@_pytest.mark.parametrize("name", sorted(_noise.NOISES))
def test_every_registered_family_passes_its_consistency_audit(name):
    assert _noise.audit_family(_noise.NOISES[name]) == []


class _Shifted(_noise.Uniform):
    """Uniform noise whose quantile function is off by -1 (the seed-13 mutation survivor of ``_icdf``)."""

    name = "uniform-shifted-icdf"

    def _icdf(self, u):
        return 2.0 * u - 2.0


class _Skewed(_noise.Logistic):
    name = "logistic-skewed-cdf"

    def _cdf(self, z):
        return super()._cdf(z + 0.01)


class _Halved(_noise.Gaussian):
    name = "gaussian-halved-pdf"

    def _pdf(self, z):
        return 0.5 * super()._pdf(z)


class _WideSampler(_noise.Triangular):
    name = "triangular-wide-sampler"

    def _sample(self, rng, shape):
        return rng.triangular(-2.2, 0.0, 2.2, size=shape)


@_pytest.mark.parametrize("family, says", [
    (_Shifted(), "F(F^-1(u)) != u"),
    (_Skewed(), "F(z) + F(-z) != 1"),
    (_Halved(), "2 F'(0) = 0.5, not 1"),
    (_Halved(), "F' != dF/dz"),
    (_WideSampler(), "the sampler's law is not F"),
])
def test_the_audit_names_what_a_broken_family_gets_wrong(family, says):
    failures = _noise.audit_family(family)
    assert any(f.startswith(says) for f in failures), failures


def test_a_broken_registered_family_is_refused_at_its_first_use(monkeypatch):
    monkeypatch.setattr(_noise, "_AUDITED", set())
    monkeypatch.setattr(_noise.Uniform, "_icdf", _Shifted._icdf)
    with _pytest.raises(SelfCheckFailed, match="'uniform' fails its consistency audit: F\\(F\\^-1"):
        _noise.resolve_noise("uniform")
    assert not isinstance(SelfCheckFailed("x"), _noise.InvalidArgument)  # a bug, not the user's mistake


def test_an_unregistered_family_is_taken_as_given():
    assert _noise.resolve_noise(_Shifted()).name == "uniform-shifted-icdf"  # negative controls need broken premises
