"""Population loss and expected STE gradients of a one-hidden-layer Heaviside net, Gaussian input.

Mathematical object (claim QSTE-POP; model of seeds 000/001, Jeong, Xin & Yin):

* input ``Z`` in ``R^(k x n)`` with i.i.d. ``N(0, 1)`` entries; its rows
  ``z_1, ..., z_k`` are independent ``N(0, I_n)`` vectors;
* hidden layer ``sigma(Z w)`` with the Heaviside step ``sigma(t) = 1 if t > 0
  else 0`` (the value at ``t = 0`` is irrelevant: ``P(z.w = 0) = 0`` for
  ``w != 0``);
* output ``v^T sigma(Z w)`` with a *fixed* second layer ``v`` in ``R^k``;
* label ``y = v*^T sigma(Z w*)`` from a teacher ``w*``; the model of the claim
  has ``v* = v`` (the default everywhere); ``v* != v`` is allowed so that the
  setting of Yin et al. (2019, ICLR, "Understanding straight-through estimator
  in training activation quantized neural nets") can be compared;
* population loss ``f(w) = 1/2 E_Z[(v^T sigma(Z w) - y)^2]``;
* STE ("coarse") gradient of one sample: the chain rule with ``sigma'``
  replaced by a proxy ``mu'`` in the backward pass only (the forward pass keeps
  the Heaviside step)::

      g(w; Z) = (v^T sigma(Z w) - y) * sum_i v_i mu'(z_i . w) z_i

  and its expectation ``E_Z[g(w; Z)]`` for the proxies (:data:`PROXIES`)
  ``relu`` (``mu'(t) = 1{t > 0}``), ``clipped_relu`` (``mu'(t) = 1{0 < t < 1}``,
  the derivative of ``min(max(t, 0), 1)``) and ``identity`` (``mu'(t) = 1``).

Derivation (:func:`plane_moments`, :func:`derive_population`): every
expectation reduces to a 2-D Gaussian integral in the plane of ``w, w*``.
With ``theta = angle(w, w*)``, the orthonormal basis ``e1 = w/|w|``,
``e2 = (w*/|w*| - cos(theta) e1) / sin(theta)`` and the coordinates
``s = z.e1``, ``t = z.e2`` (i.i.d. ``N(0,1)``), one has ``z.w = |w| s`` and
``z.w* = |w*| (s cos(theta) + t sin(theta))``; the component of ``z``
orthogonal to the plane is independent of both indicators and has mean zero.
sympy integrates, in polar coordinates ``(rho, phi)``, the densities over the
half-planes and their intersection (angular intervals below), and, for the
clipped proxy, over the strip ``0 < s < 1/|w|`` (Cartesian, with one
integration by parts done in code).  Nothing of the final formulas is typed
in; the tests compare them with Monte Carlo and show that mutated moments
(e.g. ``(pi - theta)/pi`` for the orthant probability) are refuted.

Vectors are reported by their coefficients on ``(w_hat, w_star_hat)``
(``w_hat = w/|w|``, ``w_star_hat = w*/|w*|``); the symbolic forms use the
commutative placeholders :data:`W_HAT`, :data:`W_STAR_HAT` for these unit
vectors.  Scalars of ``v`` enter through :data:`V_SQ` (``|v|^2``),
:data:`V_DOT` (``v.v*``), :data:`V_STAR_SQ` (``|v*|^2``), :data:`SUM_V`
(``1^T v``), :data:`SUM_V_STAR` (``1^T v*``).

Numeric routines return a value *and* its error: closed forms are exact up
to floating point; :func:`clipped_relu_quadrature` returns mpmath's error
estimate; :func:`monte_carlo` returns standard errors.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.selftest import OncePerProcess

__all__ = [
    "THETA",
    "R",
    "W_NORM",
    "W_STAR_NORM",
    "V_SQ",
    "V_DOT",
    "V_STAR_SQ",
    "SUM_V",
    "SUM_V_STAR",
    "W_HAT",
    "W_STAR_HAT",
    "PROXIES",
    "PlaneVector",
    "PlaneMoments",
    "plane_moments",
    "PopulationFormulas",
    "derive_population",
    "same_teacher",
    "population_loss",
    "population_loss_gradient",
    "expected_ste_gradient",
    "inner_products",
    "QuadratureEstimate",
    "clipped_relu_quadrature",
    "MonteCarloEstimate",
    "monte_carlo",
]

#: Angle between ``w`` and ``w*``; the formulas are derived for ``theta`` in ``(0, pi)``.
THETA = sympy.Symbol("theta", positive=True)
#: ``1/|w|``: the clipped-ReLU window ``0 < z.w < 1`` is ``0 < s < R`` in the plane.
R = sympy.Symbol("r", positive=True)
W_NORM = sympy.Symbol("w_norm", positive=True)
W_STAR_NORM = sympy.Symbol("w_star_norm", positive=True)
V_SQ = sympy.Symbol("v_sq", nonnegative=True)
V_DOT = sympy.Symbol("v_dot_vstar", real=True)
V_STAR_SQ = sympy.Symbol("vstar_sq", nonnegative=True)
SUM_V = sympy.Symbol("sum_v", real=True)
SUM_V_STAR = sympy.Symbol("sum_vstar", real=True)
#: Placeholders for the unit vectors ``w/|w|`` and ``w*/|w*|`` in displayed vector formulas.
W_HAT = sympy.Symbol("w_hat")
W_STAR_HAT = sympy.Symbol("w_star_hat")

#: The backward proxies ``mu'`` of the STE, by name.
PROXIES: dict[str, str] = {
    "relu": "mu'(t) = 1{t > 0} (derivative of ReLU)",
    "clipped_relu": "mu'(t) = 1{0 < t < 1} (derivative of min(max(t, 0), 1))",
    "identity": "mu'(t) = 1 (derivative of the identity)",
}

_S, _T = sympy.symbols("s t", real=True)
_RHO = sympy.Symbol("rho", positive=True)
_PHI = sympy.Symbol("phi", real=True)
_C = sympy.Symbol("c", real=True)  # cot(theta) during the strip integrals
_Q = sympy.Symbol("q", positive=True)  # 1/sin(theta) = sqrt(1 + c^2) during the strip integrals
_MODULES = ["scipy", "numpy"]

# Vector = (coefficient on e1, coefficient on e2) in the plane of w, w*.
PlaneVector = tuple[sympy.Expr, sympy.Expr]


#: The standard normal density in s and in t.
_PDF_S = sympy.exp(-(_S**2) / 2) / sympy.sqrt(2 * sympy.pi)
_PDF_T = _PDF_S.subs(_S, _T)


# ---------------------------------------------------------------------- plane moments


@dataclass(frozen=True)
class PlaneMoments:
    """Gaussian integrals in the plane of ``w, w*`` (``s, t`` i.i.d. ``N(0,1)``, ``u = s cos + t sin``).

    ``p_*`` are probabilities, ``m_*`` are vectors ``E[z 1{region}]`` given by
    their coefficients on ``(e1, e2)``; regions: ``w`` = ``{s > 0}``
    (``z.w > 0``), ``ws`` = ``{u > 0}`` (``z.w* > 0``), ``both`` = their
    intersection, ``all`` = the whole plane, ``strip`` = ``{0 < s < R}``
    (``0 < z.w < 1``), ``strip_ws`` = ``strip`` and ``u > 0``.
    Expressions are in :data:`THETA` and :data:`R`, valid for ``theta`` in ``(0, pi)``.
    """

    p_w: sympy.Expr
    p_ws: sympy.Expr
    p_both: sympy.Expr
    m_w: PlaneVector
    m_ws: PlaneVector
    m_both: PlaneVector
    m_all: PlaneVector
    m_strip: PlaneVector
    m_strip_ws: PlaneVector


def _definite(expr, var, lo, hi) -> sympy.Expr:
    """``int_lo^hi expr d var`` as ``F(hi) - F(lo)`` from sympy's antiderivative ``F``.

    Faster than sympy's definite-integration machinery for the Gaussian and
    trigonometric integrands used here; ``F`` is continuous on ``[lo, hi]`` for
    each of them.  At an infinite limit ``F`` is substituted (``erf(oo) = 1``)
    and ``sympy.limit`` is used when that is not finite.
    """
    anti = sympy.integrate(expr, var, manual=True)
    if isinstance(anti, sympy.Integral) or anti.has(sympy.Integral):
        raise ArithmeticError(f"sympy found no antiderivative of {expr} in {var}")

    def at(x):
        if x not in (sympy.oo, -sympy.oo):
            return anti.subs(var, x)
        value = anti.subs(var, x)  # fast path: erf(oo) = 1, exp(-oo) = 0
        return value if value.is_finite else sympy.limit(anti, var, x)

    return at(hi) - at(lo)


@functools.lru_cache(maxsize=8)
def _radial(degree: int) -> sympy.Expr:
    """``int_0^oo rho^degree exp(-rho^2/2) rho / (2 pi) d rho`` (the radial part of a degree-``degree`` monomial)."""
    return sympy.integrate(_RHO**degree * sympy.exp(-(_RHO**2) / 2) * _RHO / (2 * sympy.pi), (_RHO, 0, sympy.oo))


def _sector(lo, hi, monomial) -> sympy.Expr:
    """``E[monomial(s, t) 1{phi in (lo, hi)}]`` for ``(s, t) = rho (cos phi, sin phi)`` standard normal.

    ``monomial`` is homogeneous (1, s or t): it factors as ``rho^d * a(phi)``.
    """
    polar = sympy.expand(monomial.subs({_S: _RHO * sympy.cos(_PHI), _T: _RHO * sympy.sin(_PHI)}))
    degree = sympy.degree(polar, _RHO)
    angular = _definite(polar / _RHO**degree, _PHI, lo, hi)
    return sympy.factor(_radial(int(degree)) * angular)


def _sector_moments(lo, hi) -> tuple[sympy.Expr, PlaneVector]:
    return _sector(lo, hi, sympy.Integer(1)), (_sector(lo, hi, _S), _sector(lo, hi, _T))


def _strip_moment(monomial, above_ws: bool) -> sympy.Expr:
    """``E[monomial 1{0 < s < R} (1{u > 0} if above_ws)]`` for ``monomial`` in ``{s, t}``.

    Cartesian; with ``above_ws`` the result is in ``c = cot(theta)`` and
    ``q = 1/sin(theta) = sqrt(1 + c^2)``.  ``u > 0`` is ``t > -c s`` for
    ``sin(theta) > 0``.  The t-integral is done first; for the s-moment the
    outer integral ``int_0^R s phi(s) Phi(c s) ds`` (which sympy does not find)
    is integrated by parts in code: ``[V Phi(c s)]_0^R - int_0^R V d/ds Phi(c s) ds``
    with ``V' = s phi(s)``.  (The strip probability, an Owen T function, is not needed.)
    """
    phi_s = _PDF_S
    if not above_ws:
        inner_t = _definite(monomial * _PDF_T, _T, -sympy.oo, sympy.oo)
        return sympy.simplify(_definite(inner_t * phi_s, _S, 0, R))
    t_factor = _T if monomial == _T else sympy.Integer(1)
    inner = sympy.simplify(_definite(t_factor * _PDF_T, _T, -_C * _S, sympy.oo))
    boundary = sympy.Integer(0)
    if monomial == _T:
        integrand = inner * phi_s
    else:
        antideriv = sympy.integrate(_S * phi_s, _S, manual=True)
        boundary = (antideriv * inner).subs(_S, R) - (antideriv * inner).subs(_S, 0)
        integrand = -antideriv * sympy.diff(inner, _S)
    # exp(-s^2/2) exp(-c^2 s^2/2) = exp(-q^2 s^2/2): sympy integrates this form quickly
    integrand = sympy.powsimp(sympy.expand(sympy.simplify(integrand))).subs(_C**2, _Q**2 - 1)
    return boundary + _definite(integrand, _S, 0, R)


def _to_theta(expr: sympy.Expr) -> sympy.Expr:
    return expr.subs({_Q: 1 / sympy.sin(THETA)}).subs({_C: sympy.cos(THETA) / sympy.sin(THETA)})


@functools.lru_cache(maxsize=1)
def plane_moments() -> PlaneMoments:
    """The Gaussian plane integrals, derived by sympy (1-2 s, cached).

    Angular intervals (polar angle ``phi`` of ``(s, t)``, ``theta`` in ``[0, pi]``):
    ``s > 0`` is ``(-pi/2, pi/2)``; ``u = rho cos(phi - theta) > 0`` is
    ``(theta - pi/2, theta + pi/2)``; their intersection is ``(theta - pi/2, pi/2)``.
    """
    half = sympy.pi / 2
    p_w, m_w = _sector_moments(-half, half)
    p_ws, m_ws = _sector_moments(THETA - half, THETA + half)
    p_both, m_both = _sector_moments(THETA - half, half)
    _, m_all = _sector_moments(-sympy.pi, sympy.pi)
    m_strip = (_strip_moment(_S, False), _strip_moment(_T, False))
    m_strip_ws = (_to_theta(_strip_moment(_S, True)), _to_theta(_strip_moment(_T, True)))
    return PlaneMoments(p_w, p_ws, p_both, m_w, m_ws, m_both, m_all, m_strip, m_strip_ws)


# ------------------------------------------------------------------- formulas


@dataclass(frozen=True)
class PopulationFormulas:
    """Closed forms, assembled from :class:`PlaneMoments`, for general ``v, v*``.

    ``f``: population loss (in THETA and the ``v`` scalars; it does not depend
    on ``|w|``, ``|w*|``, nor on ``w`` except through ``theta``);
    ``df_dtheta``; ``grad_f``: coefficients of ``grad_w f`` on
    ``(w_hat, w_star_hat)`` (in THETA, W_NORM, ...; valid for ``theta`` in
    ``(0, pi)``); ``g[proxy]``: coefficients of ``E[g(w; Z)]`` on
    ``(w_hat, w_star_hat)`` (the clipped proxy also depends on W_NORM).
    ``grad_f_plane``, ``g_plane[proxy]``: the same vectors on the orthonormal
    ``(e1, e2)`` (used for inner products: no trigonometric identities needed).
    """

    moments: PlaneMoments
    f: sympy.Expr
    df_dtheta: sympy.Expr
    grad_f: tuple[sympy.Expr, sympy.Expr]
    g: dict[str, tuple[sympy.Expr, sympy.Expr]] = field(hash=False)
    grad_f_plane: PlaneVector = (sympy.Integer(0), sympy.Integer(0))
    g_plane: dict[str, PlaneVector] = field(default_factory=dict, hash=False)

    def vector(self, coefs: tuple[sympy.Expr, sympy.Expr]) -> sympy.Expr:
        """``coefs[0] * W_HAT + coefs[1] * W_STAR_HAT`` (display form).

        Checked on every call, exactly (sympy substitution, no tolerance): the form must give back ``coefs[0]`` at
        ``(W_HAT, W_STAR_HAT) = (1, 0)``, ``coefs[1]`` at ``(0, 1)`` and ``0`` at ``(0, 0)``, i.e. be this linear
        combination; a display that is not raises :class:`~stecheck.errors.SelfCheckFailed`."""
        expr = coefs[0] * W_HAT + coefs[1] * W_STAR_HAT
        for (a, b), want in (((1, 0), coefs[0]), ((0, 1), coefs[1]), ((0, 0), sympy.Integer(0))):
            got = expr.subs({W_HAT: a, W_STAR_HAT: b})
            if not (got == want or sympy.simplify(got - want) == 0):
                raise SelfCheckFailed(f"theory.population: the display form {expr} of the vector with coefficients "
                                      f"{tuple(coefs)} gives {got} at (w_hat, w_star_hat) = ({a}, {b}); expected "
                                      f"{want}. Fix PopulationFormulas.vector.")
        return expr

    def inner_with_gradient(self, proxy: str, *, teacher_v_equals_v: bool = True) -> sympy.Expr:
        """``<E[g], grad f>``, factored; by default in the claim's model ``v* = v``."""
        g = self.g_plane[_check_proxy(proxy)]
        # (on e1 grad f is identically 0: f depends on w only through theta; kept for the general form)
        expr = sum(a * b for a, b in zip(g, self.grad_f_plane, strict=True))
        return sympy.factor(_same_teacher_subs(expr) if teacher_v_equals_v else expr)

    def inner_with_displacement(self, proxy: str, *, teacher_v_equals_v: bool = True) -> sympy.Expr:
        """``<E[g], w - w*>`` (positive: ``-E[g]`` has a positive component towards ``w*``), factored.

        ``w - w* = (|w| - |w*| cos) e1 - |w*| sin e2``.
        """
        g = self.g_plane[_check_proxy(proxy)]
        displacement = (W_NORM - W_STAR_NORM * sympy.cos(THETA), -W_STAR_NORM * sympy.sin(THETA))
        expr = sum(a * b for a, b in zip(g, displacement, strict=True))
        expr = sympy.expand(_same_teacher_subs(expr) if teacher_v_equals_v else expr)
        return sympy.factor(expr.subs(sympy.sin(THETA) ** 2, 1 - sympy.cos(THETA) ** 2))

    @functools.cached_property
    def _numeric(self) -> dict[str, Callable]:
        args = (THETA, W_NORM, V_SQ, V_DOT, V_STAR_SQ, SUM_V, SUM_V_STAR)
        # expand: exp(1/(2|w|^2)) * exp(-1/(2|w|^2)) cancels symbolically instead of inf * 0 for small |w|
        out = {"f": sympy.lambdify(args, self.f, modules=_MODULES),
               "grad_f": sympy.lambdify(args, list(self.grad_f), modules=_MODULES)}
        for name, coefs in self.g.items():
            out[name] = sympy.lambdify(args, [sympy.expand(c) for c in coefs], modules=_MODULES)
        return out


def _e_to_hat(vec: PlaneVector) -> tuple[sympy.Expr, sympy.Expr]:
    """``x e1 + y e2`` on ``(w_hat, w_star_hat)``: ``e2 = (w_star_hat - cos w_hat)/sin``."""
    x, y = vec
    sin, cos = sympy.sin(THETA), sympy.cos(THETA)
    return sympy.factor(sympy.expand(x - y * cos / sin)), sympy.factor(sympy.expand(y / sin))


def _hat_to_e(vec: tuple[sympy.Expr, sympy.Expr]) -> PlaneVector:
    """``a w_hat + b w_star_hat`` on ``(e1, e2)``: ``w_hat = e1``, ``w_star_hat = cos e1 + sin e2``."""
    a, b = vec
    return a + b * sympy.cos(THETA), b * sympy.sin(THETA)


def _proxy_moments(m: PlaneMoments) -> dict[str, tuple[PlaneVector, PlaneVector, PlaneVector]]:
    """Per proxy: ``(E[mu'(z.w) z 1{z.w>0}], E[mu'(z.w) z 1{z.w*>0}], E[mu'(z.w) z])`` on ``(e1, e2)``."""
    strip = tuple(e.subs(R, 1 / W_NORM) for e in m.m_strip)
    strip_ws = tuple(e.subs(R, 1 / W_NORM) for e in m.m_strip_ws)
    return {
        "relu": (m.m_w, m.m_both, m.m_w),  # 1{s>0} 1{s>0} = 1{s>0}
        "clipped_relu": (strip, strip_ws, strip),  # strip inside {s > 0}
        "identity": (m.m_w, m.m_ws, m.m_all),
    }


def _assemble(m: PlaneMoments) -> PopulationFormulas:
    # rows independent: E[a_i a_j] = p_w (i = j), p_w^2 (i != j); E[a_i b_j] = p_both, p_w p_ws; ...
    off_vv = SUM_V**2 - V_SQ  # sum_{i != j} v_i v_j
    off_vvs = SUM_V * SUM_V_STAR - V_DOT
    off_vsvs = SUM_V_STAR**2 - V_STAR_SQ
    second = (V_SQ * m.p_w + off_vv * m.p_w**2
              - 2 * (V_DOT * m.p_both + off_vvs * m.p_w * m.p_ws)
              + V_STAR_SQ * m.p_ws + off_vsvs * m.p_ws**2)
    f = sympy.factor(sympy.expand(second / 2))
    df = sympy.factor(sympy.diff(f, THETA))
    # theta = acos(c), c = <w, w*>/(|w||w*|); grad_w c = (w_star_hat - c w_hat)/|w|
    x = sympy.Symbol("x", real=True)
    dtheta_dc = sympy.diff(sympy.acos(x), x).subs(x, sympy.cos(THETA))
    # sqrt(1 - cos^2) = |sin| = sin on (0, pi)
    dtheta_dc = dtheta_dc.subs(sympy.sqrt(1 - sympy.cos(THETA) ** 2), sympy.sin(THETA))
    # d acos(c)/dc = -1/sqrt(1 - c^2) = -1/sin(theta): the substitution must leave exactly that (a sympy whose
    # derivative of acos had another form would leave the square root, or a wrong factor, behind)
    if sympy.simplify(dtheta_dc * sympy.sin(THETA)) != -1:
        raise ArithmeticError(f"unexpected form of d acos(c)/dc: {dtheta_dc} (expected -1/sin(theta))")
    grad_c = (-sympy.cos(THETA) / W_NORM, 1 / W_NORM)
    grad_f = tuple(sympy.factor(df * dtheta_dc * gc) for gc in grad_c)
    grad_f_plane = tuple(sympy.factor(sympy.expand(e)) for e in _hat_to_e(grad_f))
    g, g_plane = {}, {}
    for name, (m_a, m_b, m_0) in _proxy_moments(m).items():
        # E[g] = sum_i v_i [v_i E[mu' z a] - v*_i E[mu' z b]] + E[mu' z] sum_{i != j} v_i (v_j p_w - v*_j p_ws)
        cross = off_vv * m.p_w - off_vvs * m.p_ws
        vec = tuple(V_SQ * m_a[i] - V_DOT * m_b[i] + cross * m_0[i] for i in range(2))
        g_plane[name] = vec
        g[name] = _e_to_hat(vec)
    return PopulationFormulas(m, f, df, grad_f, g, grad_f_plane, g_plane)


def derive_population(moments: PlaneMoments | None = None) -> PopulationFormulas:
    """Closed forms of ``f``, ``grad f`` and ``E[g]`` per proxy, from ``moments`` (default: :func:`plane_moments`).

    Passing other (e.g. deliberately wrong) moments re-assembles the formulas
    from them; the tests use this to show that the Monte Carlo comparison
    refutes a wrong orthant integral.
    """
    if moments is None:
        return _default_formulas()
    if not isinstance(moments, PlaneMoments):
        raise InvalidArgument(
            f"moments must be a PlaneMoments, got {type(moments).__name__}; pass plane_moments() "
            f"or dataclasses.replace(plane_moments(), ...)."
        )
    return _assemble(moments)


@functools.lru_cache(maxsize=1)
def _default_formulas() -> PopulationFormulas:
    return _assemble(plane_moments())


def _same_teacher_subs(expr: sympy.Expr) -> sympy.Expr:
    return expr.subs({V_DOT: V_SQ, V_STAR_SQ: V_SQ, SUM_V_STAR: SUM_V})


def same_teacher(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` in the claim's model ``v* = v``, factored.

    Substitutes ``V_DOT = V_STAR_SQ = V_SQ`` and ``SUM_V_STAR = SUM_V``.
    """
    return sympy.factor(sympy.expand(_same_teacher_subs(expr)))


# ------------------------------------------------------------------ validation


@dataclass(frozen=True)
class _Instance:
    w: np.ndarray
    w_star: np.ndarray
    v: np.ndarray
    v_star: np.ndarray

    @property
    def theta(self) -> float:
        c = float(np.dot(self.w, self.w_star) / (np.linalg.norm(self.w) * np.linalg.norm(self.w_star)))
        return math.acos(min(1.0, max(-1.0, c)))

    @property
    def scalars(self) -> tuple[float, ...]:
        v, vs = self.v, self.v_star
        return (float(np.linalg.norm(self.w)), float(v @ v), float(v @ vs), float(vs @ vs),
                float(v.sum()), float(vs.sum()))

    @property
    def units(self) -> tuple[np.ndarray, np.ndarray]:
        return self.w / np.linalg.norm(self.w), self.w_star / np.linalg.norm(self.w_star)


def _vector(x, name: str, length: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"{name} must be a 1-D array of real numbers, got {type(x).__name__} {x!r}; "
            f"pass e.g. np.array([1.0, -1.0, 1.0])."
        ) from None
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidArgument(
            f"{name} must be a non-empty 1-D array, got shape {arr.shape}; pass a vector such as [1.0, -1.0]."
        )
    if length is not None and arr.size != length:
        raise InvalidArgument(
            f"{name} has length {arr.size} but must have length {length} (the same as "
            f"{'w' if name == 'w_star' else 'v'}); pass vectors of matching shapes."
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidArgument(f"{name} = {arr.tolist()} has non-finite entries; pass finite numbers.")
    return arr


def _instance(w, w_star, v, v_star) -> _Instance:
    w = _vector(w, "w")
    w_star = _vector(w_star, "w_star", w.size)
    v = _vector(v, "v")
    v_star = v.copy() if v_star is None else _vector(v_star, "v_star", v.size)
    for name, arr in (("w", w), ("w_star", w_star)):
        if not np.linalg.norm(arr) > 0:
            raise InvalidArgument(
                f"{name} = {arr.tolist()} is the zero vector; the angle theta = angle(w, w*) and the "
                f"model sigma(Z {name}) (constant 0) need {name} != 0. Pass a non-zero vector."
            )
    return _Instance(w, w_star, v, v_star)


def _check_proxy(proxy: str) -> str:
    if not isinstance(proxy, str) or proxy not in PROXIES:
        raise InvalidArgument(
            f"unknown proxy {proxy!r}; expected one of {', '.join(PROXIES)}. Pass e.g. proxy='relu'."
        )
    return proxy


def _formulas(formulas: PopulationFormulas | None) -> PopulationFormulas:
    if formulas is None:
        return _default_formulas()
    if not isinstance(formulas, PopulationFormulas):
        raise InvalidArgument(
            f"formulas must be a PopulationFormulas, got {type(formulas).__name__}; pass derive_population()."
        )
    return formulas


_EDGE = 1e-9  # theta is evaluated in [_EDGE, pi - _EDGE]: the clipped forms contain cot(theta)


def _call(fn, inst: _Instance, *, clamp: bool = True):
    th = inst.theta
    if clamp:
        th = min(max(th, _EDGE), math.pi - _EDGE)
    with np.errstate(all="ignore"):
        return fn(th, *inst.scalars)


# ------------------------------------------------------------------ numeric API


def population_loss(w, w_star, v, *, v_star=None, formulas: PopulationFormulas | None = None) -> float:
    """``f(w) = 1/2 E_Z[(v^T sigma(Z w) - v*^T sigma(Z w*))^2]`` from the closed form (exact; no error term).

    Shapes: ``w``, ``w_star`` of length ``n``; ``v``, ``v_star`` (default ``v``) of length ``k``.
    """
    inst = _instance(w, w_star, v, v_star)
    return float(_call(_formulas(formulas)._numeric["f"], inst, clamp=False))


def _plane_basis(inst: _Instance) -> tuple[np.ndarray, np.ndarray, float]:
    """``(w_hat, w_star_hat, sin(theta))`` with ``sin(theta) = |w_star_hat - cos(theta) w_hat|``.

    Checked on every call: the residual must be orthogonal to ``w_hat`` and ``sin^2 + cos^2 = 1`` (both to
    ``1e-12``); a wrong residual (e.g. a sign) never gets ``sin(theta)`` near 0, so the parallel-vector guards of the
    callers would never fire.  Raises :class:`~stecheck.errors.SelfCheckFailed` (a fault of this module)."""
    w_hat, ws_hat = inst.units
    resid = ws_hat - np.dot(ws_hat, w_hat) * w_hat
    sin_theta = float(np.linalg.norm(resid))
    cos_theta = float(np.dot(w_hat, ws_hat))
    ortho = abs(float(np.dot(resid, w_hat)))
    if ortho > 1e-12 or abs(sin_theta**2 + cos_theta**2 - 1.0) > 1e-12:
        raise SelfCheckFailed(
            f"theory.population._plane_basis: the residual w*_hat - cos(theta) w_hat has <resid, w_hat> = {ortho:.3g} "
            f"and |resid|^2 + cos^2 = {sin_theta**2 + cos_theta**2:.15g}; expected 0 and 1 (to 1e-12). "
            "Fix the plane basis in theory/population.py."
        )
    return w_hat, ws_hat, sin_theta


def population_loss_gradient(w, w_star, v, *, v_star=None, formulas: PopulationFormulas | None = None) -> np.ndarray:
    """``grad_w f`` (exists for ``theta`` in ``(0, pi)``; at ``theta`` in ``{0, pi}`` ``f`` has a kink).

    ``w`` parallel to ``w_star`` raises :class:`InvalidArgument`.
    """
    inst = _instance(w, w_star, v, v_star)
    w_hat, ws_hat, sin_theta = _plane_basis(inst)
    if sin_theta < 1e-12:
        raise InvalidArgument(
            f"w and w_star are parallel (theta = {inst.theta:.3g}); f = const + theta * v.v*/(2 pi) "
            f"is not differentiable at theta = 0 or pi. Pass w not parallel to w_star."
        )
    a, b = _call(_formulas(formulas)._numeric["grad_f"], inst)
    return float(a) * w_hat + float(b) * ws_hat


def expected_ste_gradient(w, w_star, v, proxy: str = "relu", *, v_star=None,
                          formulas: PopulationFormulas | None = None) -> np.ndarray:
    """``E_Z[g(w; Z)]`` for ``proxy`` in :data:`PROXIES`, from the closed form.

    At ``theta`` in ``{0, pi}`` the (continuous) value is evaluated at
    ``theta = 1e-9`` resp. ``pi - 1e-9`` (error ``O(1e-9)``).
    """
    _check_proxy(proxy)
    inst = _instance(w, w_star, v, v_star)
    w_hat, ws_hat = inst.units
    a, b = _call(_formulas(formulas)._numeric[proxy], inst)
    return float(a) * w_hat + float(b) * ws_hat


def inner_products(w, w_star, v, proxy: str = "relu", *, v_star=None) -> dict[str, float]:
    """``{"g.grad_f": <E[g], grad f>, "g.(w - w*)": <E[g], w - w*>}`` from the closed forms.

    ``grad f`` needs ``theta`` in ``(0, pi)`` (w not parallel to w_star).
    """
    g = expected_ste_gradient(w, w_star, v, proxy, v_star=v_star)
    grad = population_loss_gradient(w, w_star, v, v_star=v_star)
    inst = _instance(w, w_star, v, v_star)
    return {"g.grad_f": float(g @ grad), "g.(w - w*)": float(g @ (inst.w - inst.w_star))}


# ---------------------------------------------------------- independent routes


@dataclass(frozen=True)
class QuadratureEstimate:
    """A vector computed by quadrature and a bound on its absolute error per coordinate."""

    value: np.ndarray
    error: np.ndarray
    dps: int


def clipped_relu_quadrature(w, w_star, v, *, v_star=None, dps: int = 20) -> QuadratureEstimate:
    """``E[g]`` for the clipped-ReLU proxy from 1-D integrals (mpmath, tanh-sinh), not from the closed form.

    With ``r = 1/|w|``, ``c = cot(theta)``, ``Phi``/``phi`` the standard normal cdf/pdf:
    ``E[z 1{0<z.w<1}] = A0 e1``, ``A0 = int_0^r s phi(s) ds``;
    ``E[z 1{0<z.w<1} 1{z.w*>0}] = A e1 + B e2``, ``A = int_0^r s phi(s) Phi(c s) ds``,
    ``B = int_0^r phi(s) phi(c s) ds`` (the t-integrals done analytically).

    Everything after reading the float64 inputs (exact binary numbers) is done in mpmath at ``dps`` digits:
    the plane basis ``e1 = w/|w|``, ``e2``, ``theta``, the ``v`` scalars, the integrals and the vector.
    ``error`` per coordinate is the sum of (i) mpmath's quadrature error estimates (difference between the
    two finest levels of the tanh-sinh rule; an estimate, not a rigorous bound) propagated with the absolute
    coefficients, (ii) the working-precision rounding of the basis and of the combination, bounded by
    ``|x| |e1_i| + |y| |e2_i| + ...`` times ``2^(4 - prec)`` (at most 16 roundings of relative size
    ``2^-prec`` each reach a coordinate), and (iii) the rounding of the final conversion to float64, measured
    (``|float(v_i) - v_i|`` in mpmath), not bounded.  Requires ``theta`` in ``(0, pi)``.
    """
    if isinstance(dps, bool) or not isinstance(dps, int) or not 10 <= dps <= 100:
        raise InvalidArgument(f"dps={dps!r} must be an int in [10, 100]; pass e.g. dps=20.")
    _quadrature_selftest_once()
    return _quadrature(w, w_star, v, v_star, dps)


def _quadrature(w, w_star, v, v_star, dps: int) -> QuadratureEstimate:
    """:func:`clipped_relu_quadrature` after its argument check and self-test (the self-test calls this directly)."""
    inst = _instance(w, w_star, v, v_star)
    if _plane_basis(inst)[2] < 1e-12:
        raise InvalidArgument(
            f"w and w_star are parallel (theta = {inst.theta:.3g}); the plane basis e2 is undefined. "
            f"Use expected_ste_gradient(..., proxy='clipped_relu') for this case."
        )
    with mpmath.workdps(dps):
        mp = lambda a: [mpmath.mpf(float(t)) for t in a]  # noqa: E731  (exact: float64 -> mpf)
        wm, wsm, vm, vsm = mp(inst.w), mp(inst.w_star), mp(inst.v), mp(inst.v_star)
        dot = lambda a, b: mpmath.fsum(p * q for p, q in zip(a, b))  # noqa: E731
        w_norm, ws_norm = mpmath.sqrt(dot(wm, wm)), mpmath.sqrt(dot(wsm, wsm))
        w_hat = [t / w_norm for t in wm]
        ws_hat = [t / ws_norm for t in wsm]
        cos_t = dot(w_hat, ws_hat)
        resid = [q - cos_t * p for p, q in zip(w_hat, ws_hat)]
        sin_t = mpmath.sqrt(dot(resid, resid))
        e2 = [t / sin_t for t in resid]
        c, r = cos_t / sin_t, 1 / w_norm
        v_sq, v_dot = dot(vm, vm), dot(vm, vsm)
        s_v, s_vs = mpmath.fsum(vm), mpmath.fsum(vsm)
        pdf = mpmath.npdf
        a0, e_a0 = mpmath.quad(lambda s: s * pdf(s), [0, r], error=True)
        a, e_a = mpmath.quad(lambda s: s * pdf(s) * mpmath.ncdf(c * s), [0, r], error=True)
        b, e_b = mpmath.quad(lambda s: pdf(s) * pdf(c * s), [0, r], error=True)
        p_w = p_ws = mpmath.mpf(1) / 2
        cross = (s_v**2 - v_sq) * p_w - (s_v * s_vs - v_dot) * p_ws
        x = v_sq * a0 - v_dot * a + cross * a0
        y = -v_dot * b
        ex = abs(v_sq) * e_a0 + abs(v_dot) * e_a + abs(cross) * e_a0
        ey = abs(v_dot) * e_b
        exact = [x * p + y * q for p, q in zip(w_hat, e2)]
        value = np.array([float(t) for t in exact])
        working = mpmath.ldexp(1, 4 - mpmath.mp.prec)
        error = np.array([float(ex * abs(p) + ey * abs(q) + working * (abs(x * p) + abs(y * q) + abs(y) / sin_t)
                                + abs(mpmath.mpf(float(t)) - t)) for p, q, t in zip(w_hat, e2, exact)])
    return QuadratureEstimate(value, error, dps)


#: The instances of :func:`_quadrature_selftest` (``w``, ``w*``, ``v``, ``v*``): a latent ``|w| < 1`` in 3-D and an
#: obtuse angle in 2-D with ``v* = v`` (then the cross term of ``x`` vanishes exactly), and the first with a teacher
#: layer ``v* = (4, 3) != v`` (the cross term and its error at work).
_QUAD_SELFTEST = (([0.3, -0.2, 0.1], [0.5, 0.5, 0.5], [1.0, -0.5], None), ([2.0, 1.0], [-1.0, 3.0], [1.0, -0.5], None),
                  ([0.3, -0.2, 0.1], [0.5, 0.5, 0.5], [1.0, -0.5], [4.0, 3.0]))


def _quadrature_selftest() -> list[str]:
    """The stated error of :func:`clipped_relu_quadrature` at 20 digits, both ways, on :data:`_QUAD_SELFTEST`:

    * it covers the distance to the same integrals at 40 digits (whose own stated error is added), and so does the
      stated error at 10 digits (37 bits, where the working-precision term is the error: ``~1e-10`` against a float64
      conversion that is exact);
    * it is not inflated: at 20 digits (70 bits) the working-precision term is ``<= 2^-66`` times ``O(1)`` sums and
      mpmath's estimates for these smooth integrands are of the same order, so the error is the float64 conversion
      (``<= 1/2`` ulp of the value) plus ``~1e-19``; the check allows ``4`` ulps ``+ 1e-17``.  A larger stated error
      would make the claim's precision rule (and every gap compared with it) meaningless.

    Returns the failures (empty when both hold).  About 0.3 s."""
    bad = []
    for w, w_star, v, v_star in _QUAD_SELFTEST:
        q = _quadrature(w, w_star, v, v_star, 20)
        ref = _quadrature(w, w_star, v, v_star, 40)
        low = _quadrature(w, w_star, v, v_star, 10)  # 37 bits: the working-precision term dominates, the conversion is exact
        for digits, est in ((20, q), (10, low)):
            gap = np.abs(est.value - ref.value)
            if not np.all(gap <= est.error + ref.error):
                bad.append(f"w = {w}, w* = {w_star}: the {digits}-digit value differs from the 40-digit one by "
                           f"{gap.tolist()}, more than the stated errors {(est.error + ref.error).tolist()}")
        cap = 4 * np.spacing(np.abs(q.value)) + 1e-17
        if not np.all(q.error <= cap):
            bad.append(f"w = {w}, w* = {w_star}: stated error {q.error.tolist()} at 20 digits exceeds 4 ulps + 1e-17 "
                       f"= {cap.tolist()} (the float64 conversion and ~1e-19 of quadrature and working precision)")
    return bad


_quadrature_selftest_once = OncePerProcess(
    _quadrature_selftest, what="theory.population.clipped_relu_quadrature fails its error self-test",
    remedy="Fix the error terms of clipped_relu_quadrature (quadrature estimates, working precision, conversion).")


@dataclass(frozen=True)
class MonteCarloEstimate:
    """Sample means and standard errors of the loss and of each proxy's STE gradient.

    ``loss_*`` are scalars, ``grad_*[proxy]`` arrays of length ``n``; the
    standard error is ``sd / sqrt(n_samples)`` per coordinate.
    """

    n_samples: int
    seed: int
    chunk_size: int
    loss_mean: float
    loss_se: float
    grad_mean: dict[str, np.ndarray]
    grad_se: dict[str, np.ndarray]

    def loss_z(self, reference: float) -> float:
        """``|loss_mean - reference| / loss_se``."""
        return abs(self.loss_mean - reference) / self.loss_se

    def grad_z(self, proxy: str, reference) -> float:
        """Largest ``|grad_mean - reference| / grad_se`` over the coordinates."""
        ref = np.asarray(reference, dtype=float)
        return float(np.max(np.abs(self.grad_mean[_check_proxy(proxy)] - ref) / self.grad_se[proxy]))


def _mu_prime(proxy: str, pre: np.ndarray) -> np.ndarray:
    if proxy == "relu":
        return (pre > 0).astype(pre.dtype)
    if proxy == "clipped_relu":
        return ((pre > 0) & (pre < 1)).astype(pre.dtype)
    return np.ones_like(pre)


def monte_carlo(w, w_star, v, *, v_star=None, n_samples: int = 10**7, seed: int = 0,
                chunk_size: int = 200_000) -> MonteCarloEstimate:
    """Plain Monte Carlo of ``f`` and of ``E[g]`` for every proxy, drawing full ``Z`` in ``R^(k x n)``.

    Independent of the closed forms: each sample draws ``Z`` (float32 normals;
    sums in float64), evaluates the per-sample loss and the STE gradient
    ``(v^T sigma(Z w) - y) sum_i v_i mu'(z_i.w) z_i`` of every proxy (samples
    with zero residual contribute exactly 0 and are skipped).  Chunk ``j`` uses
    ``np.random.default_rng(SeedSequence(seed).spawn(...)[j])``, so the result
    depends on ``(seed, chunk_size)``; memory is ``O(chunk_size * k * n)``.
    Standard errors are ``sd / sqrt(n_samples)`` (normal approximation).
    """
    inst = _instance(w, w_star, v, v_star)
    # one guard per argument, each bound inside its own test (so a unit test pins each boundary)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise InvalidArgument(f"n_samples={n_samples!r} must be an int >= 2; pass e.g. n_samples=10**6.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgument(f"seed={seed!r} must be an int >= 0; pass e.g. seed=0.")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InvalidArgument(f"chunk_size={chunk_size!r} must be an int >= 1; pass e.g. chunk_size=200_000.")
    _mc_selftest_once()
    k, n = inst.v.size, inst.w.size
    n_chunks = -(-n_samples // chunk_size)
    children = np.random.SeedSequence(int(seed)).spawn(n_chunks)
    w32, ws32 = inst.w.astype(np.float32), inst.w_star.astype(np.float32)
    v32, vs32 = inst.v.astype(np.float32), inst.v_star.astype(np.float32)
    s1_loss = s2_loss = 0.0
    s1 = {p: np.zeros(n) for p in PROXIES}
    s2 = {p: np.zeros(n) for p in PROXIES}
    done = 0  # samples assigned to chunks so far
    drawn = 0  # samples actually drawn, counted apart from the chunking
    for child in children:
        m = min(chunk_size, n_samples - done)
        done += m
        # float32 samples (relative rounding 6e-8, far below the Monte Carlo error); sums in float64
        z = np.random.default_rng(child).standard_normal((m, k, n), dtype=np.float32)
        drawn += z.shape[0]
        pre = z @ w32
        resid = (pre > 0) @ v32 - (z @ ws32 > 0) @ vs32
        loss = 0.5 * resid.astype(np.float64) ** 2
        s1_loss += float(loss.sum())
        s2_loss += float((loss**2).sum())
        # samples with resid = 0 contribute exactly 0 to every STE gradient: drop them
        keep = resid != 0
        z, pre, resid = z[keep], pre[keep], resid[keep]
        for p in PROXIES:
            weights = _mu_prime(p, pre) * v32 * resid[:, None]  # (m', k)
            g = np.einsum("mk,mkn->mn", weights, z)
            s1[p] += g.sum(axis=0, dtype=np.float64)
            s2[p] += np.einsum("mn,mn->n", g, g, dtype=np.float64)

    if drawn != n_samples:  # the means below divide by n_samples
        raise SelfCheckFailed(f"population.monte_carlo drew {drawn} samples in {n_chunks} chunks of {chunk_size}, "
                              f"not n_samples = {n_samples}; the chunking is wrong.")

    def mean_se(a1, a2):
        mean = a1 / n_samples
        var = np.maximum(a2 / n_samples - mean**2, 0.0) * n_samples / (n_samples - 1)
        return mean, np.sqrt(var / n_samples)

    lm, lse = mean_se(s1_loss, s2_loss)
    gm, gse = {}, {}
    for p in PROXIES:
        gm[p], gse[p] = mean_se(s1[p], s2[p])
    return MonteCarloEstimate(n_samples, int(seed), chunk_size, float(lm), float(lse), gm, gse)



def _mc_selftest() -> list[str]:
    """Known answers of :class:`MonteCarloEstimate` and :func:`monte_carlo`'s statistics, each against an independent
    computation:

    * ``loss_z`` and ``grad_z`` on a hand-made estimate (dyadic numbers, exact): ``|1 - 1/2| / (1/4) = 2`` from either
      side, and the largest coordinate ``max(|1 - 0| / (1/2), |-2 + 1| / (1/4)) = 4``;
    * ``k = 2``, ``v = (1/4, 1/2)``, ``w* = -w``: every residual is ``v . (s_1, s_2)`` with signs ``s_i = +-1``, so the
      per-sample loss takes only the values ``1/32`` and ``9/32``; with ``p`` the share of ``9/32`` read off the mean
      (``p n`` must be an integer), the sample standard error is ``(1/4) sqrt(p (1 - p) / (n - 1))`` (two-point law;
      variances below 1, so a floor or a cap of the variance at 1 shows);
    * the same run (1000 samples in chunks of 400: the last one short) recomputed from its draws (the same seeds,
      float32 normals) sample by sample in float64 with a loop over the hidden units, and summarized two-pass (mean,
      ``std(ddof=1) / sqrt(n)``): the loss exactly up to summation order (relative 1e-12), the gradient means within
      ``1e-6`` of the largest ``|g|`` and the standard errors relative 1e-5 (the run forms each ``g`` in float32, relative
      rounding 6e-8, a hundred times below these tolerances).

    Returns the failures (empty when all agree).  A few milliseconds."""
    bad = []
    one = np.array([1.0, -2.0])
    est = MonteCarloEstimate(4, 0, 4, 1.0, 0.25, {p: one for p in PROXIES}, {p: np.array([0.5, 0.25]) for p in PROXIES})
    for got, want, what in ((est.loss_z(0.5), 2.0, "loss_z(1/2)"), (est.loss_z(1.5), 2.0, "loss_z(3/2)"),
                            (est.grad_z("identity", [0.0, -1.0]), 4.0, "grad_z at (0, -1)")):
        if got != want:
            bad.append(f"MonteCarloEstimate.{what} with mean 1, se 1/4 (gradient mean (1, -2), se (1/2, 1/4)) is {got}; "
                       f"expected {want}")
    w, w_star, v = np.array([1.0, 0.5]), np.array([-1.0, -0.5]), np.array([0.25, 0.5])
    n, chunk, seed = 1000, 400, 7
    mc = monte_carlo(w, w_star, v, n_samples=n, seed=seed, chunk_size=chunk)
    p = (mc.loss_mean - 1 / 32) / 0.25
    se = 0.25 * math.sqrt(max(p * (1.0 - p), 0.0) / (n - 1))
    if not (abs(p * n - round(p * n)) <= 1e-9 and 0 < p < 1 and math.isclose(mc.loss_se, se, rel_tol=1e-9)):
        bad.append(f"monte_carlo on w* = -w, v = (1/4, 1/2): loss mean {mc.loss_mean}, se {mc.loss_se}; the two-point "
                   f"law (losses 1/32 and 9/32, share {p * n:.6g}/{n} of 9/32) gives se {se}")
    losses, grads = [], {q: [] for q in PROXIES}
    for child in np.random.SeedSequence(seed).spawn(-(-n // chunk)):
        m = min(chunk, n - len(losses))
        z = np.random.default_rng(child).standard_normal((m, v.size, w.size), dtype=np.float32).astype(np.float64)
        for row in z:
            pre, pre_star = row @ w, row @ w_star
            resid = float(v @ (pre > 0) - v @ (pre_star > 0))
            losses.append(resid * resid / 2)
            for q in PROXIES:
                mu = [(t > 0) if q == "relu" else (0 < t < 1) if q == "clipped_relu" else True for t in pre]
                grads[q].append(resid * sum(v[i] * mu[i] * row[i] for i in range(v.size)))
    if len(losses) != n:
        bad.append(f"the self-test's own draw count is {len(losses)}, not {n}")
        return bad
    if not (math.isclose(mc.loss_mean, float(np.mean(losses)), rel_tol=1e-12)
            and math.isclose(mc.loss_se, float(np.std(losses, ddof=1) / math.sqrt(n)), rel_tol=1e-12)):
        bad.append(f"monte_carlo loss mean/se {mc.loss_mean}/{mc.loss_se}; the draws give "
                   f"{np.mean(losses)}/{np.std(losses, ddof=1) / math.sqrt(n)}")
    for q in PROXIES:
        g = np.array(grads[q])
        mean, sd = g.mean(axis=0), g.std(axis=0, ddof=1) / math.sqrt(n)
        if not (np.all(np.abs(mc.grad_mean[q] - mean) <= 1e-6 * np.max(np.abs(g)))
                and np.allclose(mc.grad_se[q], sd, rtol=1e-5, atol=0.0)):
            bad.append(f"monte_carlo {q} gradient mean {mc.grad_mean[q].tolist()}, se {mc.grad_se[q].tolist()}; the "
                       f"draws give {mean.tolist()}, {sd.tolist()}")
    return bad


#: :func:`_mc_selftest` once per process, at the first :func:`monte_carlo` call (its own call skips the check).
_mc_selftest_once = OncePerProcess(
    _mc_selftest, what="theory.population.monte_carlo fails its known-answer self-test",
    remedy="Fix the per-sample loss / STE gradient, the running sums, the standard errors or MonteCarloEstimate's "
           "z-scores in theory/population.py.")
