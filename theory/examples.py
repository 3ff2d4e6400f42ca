"""SBN Examples 1 and 2 (appendix B.2; Example 1 also in section 2.2 I), derived.

Example 1: one unit, ``L(x) = x^2``, ``x = sign(a - z)``.  Derived here:
``E[L] = 1``, true gradient ``0``, expected ST gradient
``E[2 F'(a) * 2x] = 4 F'(a) (2 F(a) - 1)``.  The paper prints the latter twice:
as ``4F'(a)(2F(a) - 1)`` in section 2.2 (:data:`EX1_PRINTED_SECTION_2_2`) and as
``4F'(a)(2L(a) - 1)`` in appendix B.2 (:data:`EX1_PRINTED_APPENDIX`, read
literally with ``L(a) = a^2``; apparently a misprint of ``F`` as ``L``).

Example 2 (Tokui & Sato 2017): ``L(x) = x - sin(2 pi x)``.  Derived: on the
cube ``L(x) = x``; ``L(1) - L(-1) = 2``, ``L(1) - L(0) = 1``; ``L'(x) =
1 - 2 pi cos(2 pi x)`` equals ``1 - 2 pi`` at ``x in {-1, 0, 1}`` (the paper
prints ``-1``: :data:`EX2_PRINTED_DERIVATIVE`); the exact gradient is ``2F'(a)``
(``F'(a)`` in the {0,1} encoding) and the expected ST gradient is ``(1 - 2 pi)``
times it, i.e. it points in the opposite direction.

All results are frozen dataclasses of sympy expressions in ``a`` (=
:data:`theory.noise.A`) and a generic cdf ``F`` (:data:`F_GENERIC`) unless a
:class:`theory.noise.NoiseFamily` is passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from stecheck.errors import InvalidArgument

from . import bernoulli_layer as bl
from .multilinear import multilinear_reduce
from .noise import A, NoiseFamily, get_noise

__all__ = [
    "X",
    "F_GENERIC",
    "EX1_PRINTED_SECTION_2_2",
    "EX1_PRINTED_APPENDIX",
    "EX2_PRINTED_FINITE_DIFFERENCE",
    "EX2_PRINTED_DERIVATIVE",
    "Example1",
    "PrintedComparison",
    "Example2",
    "example1",
    "compare_example1_printed",
    "example2",
    "substitute_noise",
]

#: The single binary variable of both examples.
X = sympy.Symbol("x")
#: Generic noise cdf ``F``.
F_GENERIC = sympy.Function("F")

_Fp = sympy.Derivative(F_GENERIC(A), A)
#: Section 2.2 I, as printed: ``E[2F'(a) 2x] = 4F'(a)(2F(a) - 1)``.
EX1_PRINTED_SECTION_2_2 = 4 * _Fp * (2 * F_GENERIC(A) - 1)
#: Appendix B.2, Example 1, as printed: ``4F'(a)(2L(a) - 1)`` with ``L(a) = a^2`` read literally.
EX1_PRINTED_APPENDIX = 4 * _Fp * (2 * A**2 - 1)
#: Example 2 as printed: ``L(1) - L(0) = 1``.
EX2_PRINTED_FINITE_DIFFERENCE = sympy.Integer(1)
#: Example 2 as printed: ``dL/dx = 1 - 2 pi cos(2 pi x) = -1`` (at the binary points).
EX2_PRINTED_DERIVATIVE = sympy.Integer(-1)


def _cdf(F):
    if F is None:
        return F_GENERIC
    if isinstance(F, str):
        return get_noise(F)
    return F


def substitute_noise(expr: sympy.Expr, noise: NoiseFamily | str) -> sympy.Expr:
    """Replace the generic ``F(a)``, ``F'(a)`` in ``expr`` by a concrete family's cdf and density."""
    fam = get_noise(noise) if isinstance(noise, str) else noise
    if not isinstance(fam, NoiseFamily):
        raise InvalidArgument(
            f"noise must be a NoiseFamily or a family name, got {noise!r}; pass e.g. 'logistic'."
        )
    return sympy.sympify(expr).xreplace({_Fp: fam.pdf_at(A)}).xreplace({F_GENERIC(A): fam.cdf_at(A)})


@dataclass(frozen=True)
class Example1:
    """Example 1 derived: ``L = x^2`` for one unit."""

    loss: sympy.Expr
    expected_loss: sympy.Expr
    true_gradient: sympy.Expr
    expected_st_gradient: sympy.Expr
    multilinear_form: sympy.Expr


def example1(F=None) -> Example1:
    """Derive Example 1 by enumeration (:mod:`theory.bernoulli_layer`); ``F`` generic by default."""
    F = _cdf(F)
    loss = X**2
    return Example1(
        loss=loss,
        expected_loss=bl.expected_loss(loss, [X], [A], F),
        true_gradient=bl.exact_gradient(loss, [X], [A], F)[0],
        expected_st_gradient=sympy.factor(bl.expected_st_gradient(loss, [X], [A], F)[0]),
        multilinear_form=multilinear_reduce(loss, [X]),
    )


@dataclass(frozen=True)
class PrintedComparison:
    """A derived expression against one printed in the paper.

    ``difference`` is the simplified ``derived - printed`` (generic F).
    ``witness`` is ``None`` when they agree, else ``(a, derived, printed)`` at a
    point where they differ for the noise family ``witness_noise``.
    """

    printed_where: str
    printed: sympy.Expr
    derived: sympy.Expr
    difference: sympy.Expr
    agrees: bool
    witness_noise: str
    witness: tuple[sympy.Expr, sympy.Expr, sympy.Expr] | None


_WITNESS_CANDIDATES = tuple(sympy.Rational(k, 4) for k in (0, 2, 4, -2, -4, 1, 3, -1, -3, 8, -8))


def _compare(where: str, printed: sympy.Expr, derived: sympy.Expr, noise: str) -> PrintedComparison:
    difference = sympy.simplify(derived - printed)
    witness = None
    if difference != 0:
        d_num = substitute_noise(derived, noise)
        p_num = substitute_noise(printed, noise)
        for a0 in _WITNESS_CANDIDATES:
            dv, pv = sympy.simplify(d_num.subs(A, a0)), sympy.simplify(p_num.subs(A, a0))
            if abs(float(dv - pv)) > 1e-9:
                witness = (a0, dv, pv)
                break
    return PrintedComparison(where, printed, derived, difference, difference == 0, noise, witness)


def compare_example1_printed(noise: str = "logistic") -> tuple[PrintedComparison, PrintedComparison]:
    """Derived expected ST gradient of Example 1 vs the section 2.2 and appendix B.2 printings.

    For a printed form that differs, a point ``a`` where the two differ is
    searched for with the cdf of ``noise`` substituted.
    """
    derived = example1().expected_st_gradient
    return (
        _compare("section 2.2 I", EX1_PRINTED_SECTION_2_2, derived, noise),
        _compare("appendix B.2, Example 1 (L read literally as L(a) = a^2)", EX1_PRINTED_APPENDIX, derived, noise),
    )


@dataclass(frozen=True)
class Example2:
    """Example 2 derived: ``L = x - sin(2 pi x)`` for one unit."""

    loss: sympy.Expr
    derivative: sympy.Expr
    difference_pm1: sympy.Expr
    difference_01: sympy.Expr
    derivative_at_minus1: sympy.Expr
    derivative_at_0: sympy.Expr
    derivative_at_1: sympy.Expr
    multilinear_form_pm1: sympy.Expr
    multilinear_form_01: sympy.Expr
    exact_gradient_pm1: sympy.Expr
    expected_st_gradient_pm1: sympy.Expr
    exact_gradient_01: sympy.Expr
    expected_st_gradient_01: sympy.Expr
    ratio_pm1: sympy.Expr
    ratio_01: sympy.Expr
    opposite_direction: bool
    #: ``c`` such that ``x - c sin(2 pi x)`` has the printed derivative ``-1`` at the binary points.
    scale_matching_printed_derivative: sympy.Expr


def example2(F=None) -> Example2:
    """Derive Example 2; ``F`` generic by default.

    ``{-1,1}`` encoding via :mod:`theory.bernoulli_layer`.  ``{0,1}`` encoding
    (``x = 1`` with probability ``F(a)``): ``E[L] = F(a) L(1) + (1 - F(a)) L(0)``
    and ST there back-propagates ``F'(a) dL/dx`` (no factor 2, SBN section 2.1 end).
    """
    F = _cdf(F)
    loss = X - sympy.sin(2 * sympy.pi * X)
    deriv = sympy.diff(loss, X)
    at = {v: sympy.simplify(deriv.subs(X, v)) for v in (-1, 0, 1)}
    exact_pm1 = sympy.simplify(bl.exact_gradient(loss, [X], [A], F)[0])
    st_pm1 = sympy.simplify(bl.expected_st_gradient(loss, [X], [A], F)[0])
    p = bl.cdf_expr(F, A)
    exact_01 = sympy.simplify(sympy.diff(p * loss.subs(X, 1) + (1 - p) * loss.subs(X, 0), A))
    st_01 = sympy.simplify(sympy.diff(p, A) * (p * deriv.subs(X, 1) + (1 - p) * deriv.subs(X, 0)))
    ratio_pm1 = sympy.simplify(st_pm1 / exact_pm1)
    ratio_01 = sympy.simplify(st_01 / exact_01)
    c = sympy.Symbol("c", real=True)
    scale = sympy.solve(
        sympy.Eq(sympy.diff(X - c * sympy.sin(2 * sympy.pi * X), X).subs(X, 1), EX2_PRINTED_DERIVATIVE), c
    )
    return Example2(
        loss=loss,
        derivative=deriv,
        difference_pm1=sympy.simplify(loss.subs(X, 1) - loss.subs(X, -1)),
        difference_01=sympy.simplify(loss.subs(X, 1) - loss.subs(X, 0)),
        derivative_at_minus1=at[-1],
        derivative_at_0=at[0],
        derivative_at_1=at[1],
        multilinear_form_pm1=multilinear_reduce(loss, [X], "pm1"),
        multilinear_form_01=multilinear_reduce(loss, [X], "01"),
        exact_gradient_pm1=exact_pm1,
        expected_st_gradient_pm1=st_pm1,
        exact_gradient_01=exact_01,
        expected_st_gradient_01=st_01,
        ratio_pm1=ratio_pm1,
        ratio_01=ratio_01,
        opposite_direction=bool(ratio_pm1.is_negative and ratio_01.is_negative),
        scale_matching_printed_derivative=scale[0],
    )
