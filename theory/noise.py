"""Noise families of the noisy sign model and the ST proxies they induce.

Mathematical object: a real noise variable ``z`` with density ``p``, cdf ``F``
and quantile function ``F^{-1}``, used in the noisy sign activation of the
paper (SBN, eq. (1)): ``x = sign(a - z)``, so that ``P(x = +1) = F(a)``.

Each family is scaled so that ``2 F'(0) = 1`` (SBN section 4, the
initialization argument; Fig. A.1):

* ``logistic``:   ``F(z) = sigmoid(2 z)`` (Fig. A.1 (d), gives the tanh proxy),
* ``uniform``:    density ``1/2`` on ``[-1, 1]`` (Fig. A.1 (c), Htanh),
* ``triangular``: density ``max(0, (2 - |z|)/4)`` (Fig. A.1 (e), scaled ApproxSign),
* ``gaussian``:   centred normal with standard deviation ``sqrt(2/pi)``.

Each :class:`NoiseFamily` *states* ``pdf``, ``cdf`` and ``icdf`` as sympy
expressions (piecewise where needed); their mutual consistency (the density
integrates to one, ``cdf' = pdf``, ``icdf(cdf(z)) = z``) is not assumed but
checked by the tests.  What is *derived* here are the two proxies of
Fig. A.1: the forward proxy ``E_z[sign(a - z)] = P(z <= a) - P(z > a)
= 2 F(a) - 1`` and the backward proxy ``2 F'(a)`` (Alg. 1, line 5), as
expressions in the symbol :data:`A`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy

from stecheck.errors import InvalidArgument

__all__ = [
    "Z",
    "U",
    "A",
    "NoiseFamily",
    "NOISE_FAMILIES",
    "get_noise",
    "proxy_forward",
    "proxy_backward",
]

#: The noise variable in which ``pdf`` and ``cdf`` are written.
Z = sympy.Symbol("z", real=True)
#: The probability level in which ``icdf`` is written (meaningful on ``(0, 1)``).
U = sympy.Symbol("u", real=True)
#: The pre-activation in which the proxies are written.
A = sympy.Symbol("a", real=True)


@dataclass(frozen=True)
class NoiseFamily:
    """A noise distribution given by sympy expressions.

    ``pdf`` and ``cdf`` are expressions in ``symbol``; ``icdf`` is the
    quantile function, an expression in ``level`` (a probability in ``(0, 1)``).
    """

    name: str
    pdf: sympy.Expr
    cdf: sympy.Expr
    icdf: sympy.Expr
    symbol: sympy.Symbol = Z
    level: sympy.Symbol = U

    def cdf_at(self, value: sympy.Expr) -> sympy.Expr:
        """``F(value)`` as a sympy expression."""
        return self.cdf.subs(self.symbol, value)

    def pdf_at(self, value: sympy.Expr) -> sympy.Expr:
        """``F'(value)`` as a sympy expression (the density at ``value``)."""
        return self.pdf.subs(self.symbol, value)

    def numpy_functions(self):
        """``(pdf, cdf, icdf)`` as vectorized numpy/scipy callables."""
        mods = ["scipy", "numpy"]
        return (
            sympy.lambdify(self.symbol, self.pdf, modules=mods),
            sympy.lambdify(self.symbol, self.cdf, modules=mods),
            sympy.lambdify(self.level, self.icdf, modules=mods),
        )


def _logistic() -> NoiseFamily:
    cdf = 1 / (1 + sympy.exp(-2 * Z))  # sigmoid(2 z), Fig. A.1 (d)
    pdf = 1 / (2 * sympy.cosh(Z) ** 2)  # = 2 sigmoid'(2z), in a form that does not overflow
    icdf = sympy.log(U / (1 - U)) / 2
    return NoiseFamily("logistic", pdf, cdf, icdf)


def _uniform() -> NoiseFamily:
    half = sympy.Rational(1, 2)
    pdf = sympy.Piecewise((0, Z < -1), (half, Z <= 1), (0, True))
    cdf = sympy.Piecewise((0, Z < -1), ((Z + 1) / 2, Z <= 1), (1, True))
    icdf = 2 * U - 1
    return NoiseFamily("uniform", pdf, cdf, icdf)


def _triangular() -> NoiseFamily:
    pdf = sympy.Piecewise(
        (0, Z < -2), ((2 + Z) / 4, Z <= 0), ((2 - Z) / 4, Z <= 2), (0, True)
    )
    cdf = sympy.Piecewise(
        (0, Z < -2),
        ((Z + 2) ** 2 / 8, Z <= 0),
        (1 - (2 - Z) ** 2 / 8, Z <= 2),
        (1, True),
    )
    icdf = sympy.Piecewise(
        (-2 + 2 * sympy.sqrt(2 * U), U <= sympy.Rational(1, 2)),
        (2 - 2 * sympy.sqrt(2 * (1 - U)), True),
    )
    return NoiseFamily("triangular", pdf, cdf, icdf)


def _gaussian() -> NoiseFamily:
    std = sympy.sqrt(2 / sympy.pi)
    pdf = sympy.exp(-(Z**2) / (2 * std**2)) / (std * sympy.sqrt(2 * sympy.pi))
    cdf = (1 + sympy.erf(Z / (std * sympy.sqrt(2)))) / 2
    icdf = std * sympy.sqrt(2) * sympy.erfinv(2 * U - 1)
    return NoiseFamily("gaussian", pdf, cdf, icdf)


#: The noise families of Fig. A.1 (plus Gaussian), by name.
NOISE_FAMILIES: dict[str, NoiseFamily] = {
    fam.name: fam for fam in (_logistic(), _uniform(), _triangular(), _gaussian())
}


def get_noise(name: str) -> NoiseFamily:
    """The noise family called ``name``; an unknown name raises ``InvalidArgument``."""
    try:
        return NOISE_FAMILIES[name]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(NOISE_FAMILIES))
        raise InvalidArgument(
            f"unknown noise family {name!r}; expected one of: {valid}. "
            f"Pass one of these names (e.g. get_noise('logistic'))."
        ) from None


def _as_family(noise: NoiseFamily | str) -> NoiseFamily:
    if isinstance(noise, NoiseFamily):
        return noise
    if isinstance(noise, str):
        return get_noise(noise)
    raise InvalidArgument(
        f"noise must be a NoiseFamily or a family name, got {type(noise).__name__} "
        f"{noise!r}; pass e.g. get_noise('logistic') or 'logistic'."
    )


def proxy_forward(noise: NoiseFamily | str) -> sympy.Expr:
    """Forward proxy ``E_z[sign(a - z)]`` in the symbol :data:`A` (Fig. A.1, upper row), simplified.

    ``sign(a - z) = +1`` with probability ``P(z <= a) = F(a)`` and ``-1``
    with probability ``1 - F(a)`` (SBN eq. (1)), hence ``2 F(a) - 1``.
    """
    return _forward(_as_family(noise))


@functools.lru_cache(maxsize=64)
def _forward(fam: NoiseFamily) -> sympy.Expr:
    p_plus = fam.cdf_at(A)
    return sympy.simplify((+1) * p_plus + (-1) * (1 - p_plus))


def proxy_backward(noise: NoiseFamily | str) -> sympy.Expr:
    """Backward proxy ``2 F'(a)`` of Alg. 1 line 5, in the symbol :data:`A` (Fig. A.1, lower row).

    Obtained by differentiating the forward proxy ``2 F(a) - 1`` in ``a``.
    """
    return _backward(_as_family(noise))


@functools.lru_cache(maxsize=64)
def _backward(fam: NoiseFamily) -> sympy.Expr:
    return sympy.simplify(sympy.diff(_forward(fam), A))
