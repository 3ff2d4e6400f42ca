"""Exact and straight-through gradients of one layer of Bernoulli units, by enumeration.

Mathematical object: ``x in {-1,1}^n`` with independent ``x_i = sign(a_i - z_i)``,
``P(x_i = +1) = F(a_i)`` (SBN eq. (1)), and a loss ``L(x)`` given as a
differentiable sympy expression.  Every quantity is a finite sum over the
``2^n`` states, so it is exact and polynomial in ``F(a_i)``, ``F'(a_i)``:

* expected loss ``E[L] = sum_x prod_i p(x_i) L(x)`` (SBN eq. (3), LHS),
* exact gradient ``d E[L] / d a_i`` (eq. (4)); :func:`local_expectation_gradient`
  computes the same by the local-expectation form
  ``F'(a_i) E_{x_-i}[L(x_i=+1) - L(x_i=-1)]`` (eqs. (5)-(6)),
* expected ST gradient ``E[2 F'(a_i) dL/dx_i(x)]`` (Alg. 1; eqs. (7)-(9)),
* expected identity-ST gradient ``E[dL/dx_i(x)]`` (Cor. B.1, ``2F'`` dropped),
* deterministic ST ``2 F'(a_i) dL/dx_i(x*)`` at ``x* = sign(a)`` (section 2.2 V),
* the ST bias ``E[ST] - exact`` (zero for multilinear L: Prop. B.2).

``F`` is either a :class:`theory.noise.NoiseFamily` (concrete cdf) or an
undefined sympy function such as ``sympy.Function("F")`` (generic cdf; then
``F'(a_i)`` appears as ``Derivative(F(a_i), a_i)``).  A concrete family is
handled by computing with a generic cdf (results expanded as polynomials in
``F(a_i)``, ``F'(a_i)``) and substituting the family's cdf and density at the end.
Small n only (``n <= 4``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import sympy
from sympy.core.function import UndefinedFunction

from stecheck.errors import InvalidArgument

from .noise import NoiseFamily

__all__ = [
    "MAX_N",
    "cdf_expr",
    "density_expr",
    "expected_loss",
    "exact_gradient",
    "local_expectation_gradient",
    "expected_st_gradient",
    "expected_identity_st_gradient",
    "deterministic_st_gradient",
    "st_bias",
    "with_noise",
]

#: Enumeration over 2^n states with symbolic weights: keep n small.
MAX_N = 4

Cdf = NoiseFamily | UndefinedFunction


def cdf_expr(F: Cdf, a: sympy.Expr) -> sympy.Expr:
    """``F(a)`` as a sympy expression, for a noise family or a generic function ``F``."""
    if isinstance(F, NoiseFamily):
        return F.cdf_at(a)
    if isinstance(F, UndefinedFunction):
        return F(a)
    raise InvalidArgument(
        f"F must be a theory.noise.NoiseFamily or an undefined sympy function, got "
        f"{type(F).__name__} {F!r}; pass e.g. get_noise('logistic') or sympy.Function('F')."
    )


def density_expr(F: Cdf, a: sympy.Symbol) -> sympy.Expr:
    """``F'(a)``, obtained by differentiating :func:`cdf_expr` in ``a``."""
    return sympy.diff(cdf_expr(F, a), a)


def _validate(L, xs, a_syms) -> tuple[sympy.Expr, tuple, tuple]:
    xs, a_syms = tuple(xs), tuple(a_syms)
    if not all(isinstance(s, sympy.Symbol) for s in xs + a_syms):
        raise InvalidArgument(
            f"xs and a_syms must be sympy Symbols, got xs={xs!r}, a_syms={a_syms!r}; "
            f"create them with sympy.symbols('x1:3') and sympy.symbols('a1:3', real=True)."
        )
    if len(xs) != len(a_syms):
        raise InvalidArgument(
            f"got {len(xs)} state symbols but {len(a_syms)} pre-activation symbols; "
            f"pass one a_i per x_i."
        )
    if not 1 <= len(xs) <= MAX_N:
        raise InvalidArgument(
            f"n={len(xs)} binary variables is out of range; expected 1 <= n <= {MAX_N} "
            f"(symbolic enumeration of 2^n states). Use numeric enumeration for larger n."
        )
    if len(set(xs + a_syms)) != 2 * len(xs):
        raise InvalidArgument(
            f"xs and a_syms must be {2 * len(xs)} distinct symbols, got {xs!r} and {a_syms!r}."
        )
    try:
        L = sympy.sympify(L)
    except sympy.SympifyError as exc:
        raise InvalidArgument(f"L={L!r} is not a sympy expression ({exc}).") from None
    clash = L.free_symbols & set(a_syms)
    if clash:
        raise InvalidArgument(
            f"L must not depend on the pre-activations, but it contains {sorted(map(str, clash))}; "
            f"L is a function of the binary state xs only."
        )
    return L, xs, a_syms


#: Placeholder generic cdf used when a concrete NoiseFamily is given.
_GENERIC = sympy.Function("F_noise")


def _generic(F: Cdf, a_syms):
    """A generic cdf to compute with, and the map that substitutes the real one at the end."""
    if isinstance(F, UndefinedFunction):
        return F, (lambda e: e)
    cdf_expr(F, a_syms[0])  # validates the type
    return _GENERIC, (lambda e: with_noise(e, a_syms, F, _GENERIC))


def _states(n: int):
    return itertools.product((-1, 1), repeat=n)


def _weight(state, a_syms, G) -> sympy.Expr:
    w = sympy.Integer(1)
    for s, a in zip(state, a_syms):
        w *= G(a) if s == 1 else 1 - G(a)
    return w


def _at(expr, xs, state) -> sympy.Expr:
    return expr.xreplace({x: sympy.Integer(s) for x, s in zip(xs, state)})


def _expectation(values_of_state, xs, a_syms, G) -> sympy.Expr:
    total = sympy.Integer(0)
    for state in _states(len(xs)):
        total += _weight(state, a_syms, G) * values_of_state(state)
    return sympy.expand(total)


def _expected_loss(L, xs, a_syms, G) -> sympy.Expr:
    return _expectation(lambda st: _at(L, xs, st), xs, a_syms, G)


def _exact_gradient(L, xs, a_syms, G) -> tuple[sympy.Expr, ...]:
    e = _expected_loss(L, xs, a_syms, G)
    return tuple(sympy.expand(sympy.diff(e, a)) for a in a_syms)


def _expected_backward(L, xs, a_syms, G, scale_by_density: bool) -> tuple[sympy.Expr, ...]:
    out = []
    for x, a in zip(xs, a_syms):
        g = sympy.diff(L, x)
        mean = _expectation(lambda st: _at(g, xs, st), xs, a_syms, G)
        out.append(sympy.expand(2 * sympy.diff(G(a), a) * mean) if scale_by_density else mean)
    return tuple(out)


def expected_loss(L, xs: Sequence[sympy.Symbol], a_syms: Sequence[sympy.Symbol], F: Cdf) -> sympy.Expr:
    """``E_x[L(x)] = sum_{x in {-1,1}^n} prod_i p(x_i | a_i) L(x)`` with ``p(+1) = F(a_i)``."""
    L, xs, a_syms = _validate(L, xs, a_syms)
    G, finish = _generic(F, a_syms)
    return finish(_expected_loss(L, xs, a_syms, G))


def exact_gradient(L, xs, a_syms, F: Cdf) -> tuple[sympy.Expr, ...]:
    """``(d E[L] / d a_i)_i``, by differentiating :func:`expected_loss`."""
    L, xs, a_syms = _validate(L, xs, a_syms)
    G, finish = _generic(F, a_syms)
    return tuple(finish(g) for g in _exact_gradient(L, xs, a_syms, G))


def local_expectation_gradient(L, xs, a_syms, F: Cdf) -> tuple[sympy.Expr, ...]:
    """``F'(a_i) E_{x_-i}[L(x_i=+1) - L(x_i=-1)]`` (SBN eqs. (5)-(6)), independent of :func:`exact_gradient`."""
    L, xs, a_syms = _validate(L, xs, a_syms)
    G, finish = _generic(F, a_syms)
    out = []
    for i, a in enumerate(a_syms):
        diff_i = L.xreplace({xs[i]: 1}) - L.xreplace({xs[i]: -1})
        rest_x = xs[:i] + xs[i + 1:]
        rest_a = a_syms[:i] + a_syms[i + 1:]
        if rest_x:
            mean = _expectation(lambda st: _at(diff_i, rest_x, st), rest_x, rest_a, G)
        else:
            mean = diff_i
        out.append(finish(sympy.expand(sympy.diff(G(a), a) * mean)))
    return tuple(out)


def expected_st_gradient(L, xs, a_syms, F: Cdf) -> tuple[sympy.Expr, ...]:
    """``(E_x[2 F'(a_i) dL/dx_i(x)])_i``: the expectation of Alg. 1's estimate."""
    L, xs, a_syms = _validate(L, xs, a_syms)
    G, finish = _generic(F, a_syms)
    return tuple(finish(g) for g in _expected_backward(L, xs, a_syms, G, True))


def expected_identity_st_gradient(L, xs, a_syms, F: Cdf) -> tuple[sympy.Expr, ...]:
    """``(E_x[dL/dx_i(x)])_i``: identity ST, the backward ``2 F'(a_i)`` replaced by 1."""
    L, xs, a_syms = _validate(L, xs, a_syms)
    G, finish = _generic(F, a_syms)
    return tuple(finish(g) for g in _expected_backward(L, xs, a_syms, G, False))


def deterministic_st_gradient(L, xs, a_syms, F: Cdf, sign_pattern: Sequence[int]) -> tuple[sympy.Expr, ...]:
    """``(2 F'(a_i) dL/dx_i(x*))_i`` at the deterministic state ``x* = sign(a) = sign_pattern``.

    The sign pattern stands for the region of ``a`` where ``sign(a) = x*``; the
    result is valid there (SBN section 2.2 V, Prop. B.7).
    """
    L, xs, a_syms = _validate(L, xs, a_syms)
    pattern = tuple(sign_pattern)
    if len(pattern) != len(xs) or any(s not in (-1, 1) for s in pattern):
        raise InvalidArgument(
            f"sign_pattern={pattern!r} is not a point of {{-1,1}}^{len(xs)}; expected "
            f"{len(xs)} entries each -1 or +1 (the signs of a_1..a_{len(xs)})."
        )
    G, finish = _generic(F, a_syms)
    return tuple(
        finish(sympy.expand(2 * sympy.diff(G(a), a) * _at(sympy.diff(L, x), xs, pattern)))
        for x, a in zip(xs, a_syms)
    )


def st_bias(L, xs, a_syms, F: Cdf) -> tuple[sympy.Expr, ...]:
    """``E[ST]_i - d E[L]/d a_i`` for each i (zero for multilinear L, Prop. B.2).

    The difference is formed and expanded with a generic cdf, so an exact zero
    is recognised for every F; a concrete family is substituted afterwards.
    """
    L, xs, a_syms = _validate(L, xs, a_syms)
    G, finish = _generic(F, a_syms)
    st = _expected_backward(L, xs, a_syms, G, True)
    ex = _exact_gradient(L, xs, a_syms, G)
    return tuple(finish(sympy.expand(s - e)) for s, e in zip(st, ex))


def with_noise(expr: sympy.Expr, a_syms: Sequence[sympy.Symbol], noise: NoiseFamily, F: UndefinedFunction) -> sympy.Expr:
    """Replace ``F(a_i)`` and ``F'(a_i)`` of a generic-``F`` result by the family's cdf and density."""
    if not isinstance(noise, NoiseFamily) or not isinstance(F, UndefinedFunction):
        raise InvalidArgument(
            f"with_noise needs a NoiseFamily and the undefined function used for the derivation, got "
            f"{noise!r} and {F!r}; pass e.g. get_noise('logistic'), sympy.Function('F')."
        )
    derivs = {sympy.Derivative(F(a), a): noise.pdf_at(a) for a in a_syms}
    values = {F(a): noise.cdf_at(a) for a in a_syms}
    return sympy.sympify(expr).xreplace(derivs).xreplace(values)
