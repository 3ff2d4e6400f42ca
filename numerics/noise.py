"""Noise distributions of the stochastic binary units, eq. (1) of the paper.

A binary state is ``x_i = sign(a_i - z_i)`` with ``z_i`` iid with cdf ``F``,
so ``P(x_i = +1) = F(a_i)`` (paper, Sec. 2, eq. (1)).  Alg. 1 (ST) scales the
loss gradient by ``2 F'(a_i)``.  Every family here is a symmetric density
scaled so that ``2 F'(0) = 1``, i.e. the ST scale is 1 at ``a = 0``
(compare Fig. A.1 of the paper):

=============  =====================================  ==========================
name           density ``F'(z)``                      cdf ``F(z)``
=============  =====================================  ==========================
``logistic``   ``2 s(2z)(1 - s(2z))``                 ``s(2z)``, s = sigmoid
``uniform``    ``1/2`` on ``[-1, 1]``                 ``clip((z + 1)/2, 0, 1)``
``triangular`` ``max(0, (2 - |z|)/4)``                piecewise quadratic
``gaussian``   normal, std ``sqrt(2/pi)``             ``Phi(z / sqrt(2/pi))``
=============  =====================================  ==========================

Accuracy.  ``pdf``, ``cdf``, ``sf`` and ``icdf`` are closed forms evaluated
with numpy / ``scipy.special`` (``expit``, ``logit``, ``ndtr``, ``ndtri``);
their relative error is a few units in the last place (``<= 4 eps`` is the
working assumption used by :mod:`numerics.enumeration`; it is what the
libraries deliver in practice but they do not guarantee it).  ``sf(z) =
1 - F(z)`` is computed as ``F(-z)`` (all families are symmetric), so it has
full relative accuracy even where ``F(z)`` is close to 1.  ``sample`` draws
exact samples up to floating-point rounding of the generator's transform.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from stecheck.errors import InvalidArgument, SelfCheckFailed

from ._validation import short_repr

__all__ = ["Noise", "NOISES", "audit_family", "get_noise", "resolve_noise"]

_GAUSS_STD = math.sqrt(2.0 / math.pi)


def _as_array(z: Any) -> np.ndarray:
    return np.asarray(z, dtype=np.float64)


class Noise:
    """A symmetric noise distribution with ``2 F'(0) = 1``.

    Subclasses implement ``_pdf``, ``_cdf``, ``_icdf`` and ``_sample``; the
    public methods convert and validate their inputs.
    """

    #: Registry name (``get_noise(name)``).
    name: str = ""
    #: Support ``(lo, hi)`` of the density (infinite for unbounded families).
    support: tuple[float, float] = (-math.inf, math.inf)

    def pdf(self, z: Any) -> np.ndarray:
        """Density ``F'(z)`` (elementwise)."""
        return self._pdf(_as_array(z))

    def cdf(self, z: Any) -> np.ndarray:
        """Distribution function ``F(z) = P(Z <= z)`` (elementwise)."""
        return self._cdf(_as_array(z))

    def sf(self, z: Any) -> np.ndarray:
        """Survival function ``1 - F(z)``, computed as ``F(-z)`` (symmetry) for full relative accuracy."""
        return self._cdf(-_as_array(z))

    def icdf(self, u: Any) -> np.ndarray:
        """Quantile function ``F^{-1}(u)`` for ``u`` in ``[0, 1]`` (``+-inf`` at the ends if unbounded)."""
        uu = _as_array(u)
        bad = ~((uu >= 0.0) & (uu <= 1.0))
        if np.any(bad):
            raise InvalidArgument(
                f"{self.name}.icdf: u={short_repr(uu)} has entries outside [0, 1] "
                f"(e.g. {uu[bad].ravel()[:5].tolist()}); expected probabilities in [0, 1]."
            )
        return self._icdf(uu)

    def sample(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
        """``shape`` iid draws of ``z`` from this distribution using ``rng``."""
        if not isinstance(rng, np.random.Generator):
            raise InvalidArgument(
                f"{self.name}.sample: rng={short_repr(rng)} is not a numpy.random.Generator; "
                "create one with numerics.seeding.make_rng(seed_sequence)."
            )
        return self._sample(rng, shape)

    def __repr__(self) -> str:
        return f"get_noise({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Noise) and type(other) is type(self)

    def __hash__(self) -> int:
        return hash(self.name)

    # --- to be provided by the families -------------------------------------------------
    def _pdf(self, z: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _cdf(self, z: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _icdf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(self, rng: np.random.Generator, shape: Any) -> np.ndarray:
        return self._icdf(rng.random(shape))


class Logistic(Noise):
    """Logistic noise with scale 1/2: ``F(z) = sigmoid(2 z)``."""

    name = "logistic"

    def _pdf(self, z):
        s = special.expit(2.0 * z)
        return 2.0 * s * special.expit(-2.0 * z)

    def _cdf(self, z):
        return special.expit(2.0 * z)

    def _icdf(self, u):
        with np.errstate(divide="ignore"):
            return 0.5 * special.logit(u)

    def _sample(self, rng, shape):
        return rng.logistic(loc=0.0, scale=0.5, size=shape)


class Uniform(Noise):
    """Uniform noise on ``[-1, 1]``: ``F(z) = clip((z + 1)/2, 0, 1)``."""

    name = "uniform"
    support = (-1.0, 1.0)

    def _pdf(self, z):
        return np.where((z >= -1.0) & (z <= 1.0), 0.5, 0.0)

    def _cdf(self, z):
        return np.clip(0.5 * z + 0.5, 0.0, 1.0)

    def _icdf(self, u):
        return 2.0 * u - 1.0

    def _sample(self, rng, shape):
        return rng.uniform(-1.0, 1.0, size=shape)


class Triangular(Noise):
    """Triangular noise on ``[-2, 2]`` with density ``max(0, (2 - |z|)/4)``."""

    name = "triangular"
    support = (-2.0, 2.0)

    def _pdf(self, z):
        return np.maximum(0.0, (2.0 - np.abs(z)) * 0.25)

    def _cdf(self, z):
        # F(z) = (2 + z)^2 / 8 on [-2, 0];  1 - (2 - z)^2 / 8 on [0, 2].
        lo = np.clip(z, -2.0, 0.0)
        hi = np.clip(z, 0.0, 2.0)
        return np.where(z <= 0.0, (2.0 + lo) ** 2 * 0.125, 1.0 - (2.0 - hi) ** 2 * 0.125)

    def _icdf(self, u):
        left = -2.0 + np.sqrt(8.0 * np.minimum(u, 0.5))
        right = 2.0 - np.sqrt(8.0 * (1.0 - np.maximum(u, 0.5)))
        return np.where(u <= 0.5, left, right)

    def _sample(self, rng, shape):
        return rng.triangular(-2.0, 0.0, 2.0, size=shape)


class Gaussian(Noise):
    """Gaussian noise with standard deviation ``sqrt(2/pi)`` (so ``F'(0) = 1/2``)."""

    name = "gaussian"
    std = _GAUSS_STD

    def _pdf(self, z):
        t = z / _GAUSS_STD
        return np.exp(-0.5 * t * t) / (_GAUSS_STD * math.sqrt(2.0 * math.pi))

    def _cdf(self, z):
        return special.ndtr(z / _GAUSS_STD)

    def _icdf(self, u):
        return _GAUSS_STD * special.ndtri(u)

    def _sample(self, rng, shape):
        return _GAUSS_STD * rng.standard_normal(size=shape)


#: The registered families, by name.
NOISES: dict[str, Noise] = {cls.name: cls() for cls in (Logistic, Uniform, Triangular, Gaussian)}


def get_noise(name: str) -> Noise:
    """The noise family called ``name`` (one of :data:`NOISES`)."""
    if not isinstance(name, str) or name not in NOISES:
        raise InvalidArgument(
            f"unknown noise {short_repr(name)}; valid names are {sorted(NOISES)}. "
            "Pass one of them, e.g. get_noise('logistic')."
        )
    return NOISES[name]


def resolve_noise(noise: Noise | str) -> Noise:
    """Accept a :class:`Noise` or its registered name.  A registered family is audited at its first use in a
    process (:func:`audit_family`) and refused with :class:`~stecheck.errors.SelfCheckFailed` if it fails; other
    families are taken as given (some are deliberately broken premises of negative controls; audit your own with
    :func:`audit_family`)."""
    fam = noise if isinstance(noise, Noise) else get_noise(noise)
    key = (type(fam), fam.name)
    if key not in _AUDITED and NOISES.get(fam.name) == fam:
        failures = audit_family(fam)
        if failures:
            raise SelfCheckFailed(f"noise family {fam.name!r} fails its consistency audit: " + "; ".join(failures))
        _AUDITED.add(key)
    return fam


_AUDITED: set = set()
#: Points of the audit grid (and their negatives and 0), away from the kinks at 1 (uniform) and 2 (triangular).
_AUDIT_Z = np.array([0.03, 0.21, 0.37, 0.58, 0.81, 0.93, 1.17, 1.33, 1.62, 1.88, 2.4, 3.1])
_AUDIT_U = np.array([1e-6, 0.013, 0.1, 0.25, 0.41, 0.5, 0.59, 0.75, 0.9, 0.987, 1 - 1e-6])
#: Step of the central difference of ``F`` compared with ``F'``: truncation error ``h^2 max|F^(3)| / 6`` (below
#: ``1e-10`` for these families: ``|F^(3)| <= 4``) plus rounding ``eps / h`` (about ``2e-11``); tolerance ``1e-8``.
_AUDIT_H = 1e-5
#: Draws of the sampler compared with ``F`` by a Kolmogorov-Smirnov test, and the p-value below which the audit
#: fails (seeded: the same draws in every run, so the audit's outcome is deterministic).
_AUDIT_DRAWS, _AUDIT_P_MIN = 20000, 1e-6


def _roundtrip_failures(cdf, icdf) -> list[str]:
    """``[]`` if ``cdf(icdf(u)) = u`` to ``1e-12`` (absolute) on the audit grid, else one message."""
    u = _AUDIT_U
    back = cdf(icdf(u))
    if not np.allclose(back, u, rtol=0.0, atol=1e-12):
        return [f"F(F^-1(u)) != u at u = {u[~np.isclose(back, u, rtol=0.0, atol=1e-12)].tolist()}"]
    return []


def audit_family(fam: Noise) -> list[str]:
    """What is wrong with ``fam``'s contract, or ``[]``: on a fixed grid, ``F(F^{-1}(u)) = u`` (to ``1e-12``),
    ``F(z) + F(-z) = 1`` (the family is symmetric, to ``2e-16``), ``F'`` equal to the central difference of ``F``
    (to ``1e-8``), ``2 F'(0) = 1`` (to ``1e-15``), ``F'`` zero outside the support, ``==`` the bool "same
    family class" (against itself, its name and the other registered families), and the sampler's
    law equal to ``F`` (Kolmogorov-Smirnov test on 20000 draws from a fixed seed, p >= 1e-6).

    Every estimator and claim reads ``F``, ``F'``, ``F^{-1}`` or draws ``z``; a family in which one of them
    disagrees with the others would give each computation a different noise law."""
    from scipy import stats

    out = []
    z = np.concatenate((-_AUDIT_Z[::-1], [0.0], _AUDIT_Z))
    u = _AUDIT_U
    out += _roundtrip_failures(fam.cdf, fam.icdf)
    # the round-trip check on two controls on either side of its tolerance (uniform on [-1, 1], exact in binary64
    # up to 1e-16): F^-1 exact must pass, F^-1 off by 3e-12 (F(F^-1(u)) = u + 1.5e-12) must be flagged
    if _roundtrip_failures(lambda t: 0.5 * t + 0.5, lambda v: 2.0 * v - 1.0) \
            or not _roundtrip_failures(lambda t: 0.5 * t + 0.5, lambda v: 2.0 * v - 1.0 + 3e-12):
        out.append("the F(F^-1(u)) = u check (to 1e-12) misjudges its controls: an exact uniform F^-1 must pass and "
                   "one off by 1.5e-12 in F(F^-1(u)) must fail; fix _roundtrip_failures in numerics/noise.py")
    sym = fam.cdf(z) + fam.cdf(-z)
    if not np.allclose(sym, 1.0, rtol=0.0, atol=2e-16):
        out.append(f"F(z) + F(-z) != 1 at z = {z[~np.isclose(sym, 1.0, rtol=0.0, atol=2e-16)].tolist()}")
    h, zs = _AUDIT_H, z[z != 0.0]  # z = 0 is the triangular density's peak (F^(3) jumps); 2 F'(0) = 1 is below
    diff = (fam.cdf(zs + h) - fam.cdf(zs - h)) / (2 * h)
    pdf = fam.pdf(zs)
    if not np.allclose(pdf, diff, rtol=0.0, atol=1e-8):
        out.append(f"F' != dF/dz at z = {zs[~np.isclose(pdf, diff, rtol=0.0, atol=1e-8)].tolist()}")
    if abs(2.0 * float(fam.pdf(0.0)) - 1.0) > 1e-15:
        out.append(f"2 F'(0) = {2.0 * float(fam.pdf(0.0))!r}, not 1")
    lo, hi = fam.support
    outside = z[(z < lo) | (z > hi)]
    if outside.size and np.any(fam.pdf(outside) != 0.0):
        out.append(f"F' != 0 outside the support {fam.support} at z = {outside[fam.pdf(outside) != 0.0].tolist()}")
    # identity: resolve_noise, the caches and the reports compare families with ==; it must be the bool "same
    # family class" (True with itself, False with every registered family of another class and with its name)
    others = [g for g in NOISES.values() if type(g) is not type(fam)]
    if (fam == fam) is not True or any((fam == g) is not False or (g == fam) is not False for g in others) \
            or (fam == fam.name) is not False:
        out.append(f"== is not the bool 'same family class': {fam.name} == itself gives {fam == fam!r}, "
                   f"== the other registered families gives {[fam == g for g in others]!r}")
    draws = fam.sample(np.random.default_rng(np.random.SeedSequence(20261130)), _AUDIT_DRAWS)
    ks = stats.kstest(draws, lambda t: fam.cdf(t))
    if not ks.pvalue >= _AUDIT_P_MIN:
        out.append(f"the sampler's law is not F (Kolmogorov-Smirnov D = {ks.statistic:.4f}, p = {ks.pvalue:.1e} "
                   f"over {_AUDIT_DRAWS} draws)")
    return out
