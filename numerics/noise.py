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

from stecheck.errors import InvalidArgument

from ._validation import short_repr

__all__ = ["Noise", "NOISES", "get_noise", "resolve_noise"]

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
    """Accept a :class:`Noise` or its registered name."""
    if isinstance(noise, Noise):
        return noise
    return get_noise(noise)
