"""Neumaier compensated summation and the ``gamma_k`` rounding constant (private).

Mathematical object: the sum ``S = sum_j t_j`` of a sequence of float64
vectors, accumulated elementwise in the given order.  Neumaier's variant of
Kahan summation (Neumaier 1974) keeps a running compensation ``c``; the
returned ``s + c`` satisfies ``|s + c - S| <= 2 eps |S| + O(K eps^2) sum_j |t_j|``
for ``K`` terms (Higham, *Accuracy and Stability of Numerical Algorithms*,
2nd ed., Sec. 4.3), which is at most ``gamma_{K+2} sum_j |t_j|``.
``eps = 2^-53`` is the unit roundoff of float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["UNIT_ROUNDOFF", "gamma", "neumaier_add", "gamma_selftest_failures", "neumaier_selftest_failures",
           "compensated_selftest_failures"]

#: Unit roundoff ``u = 2^-53`` of IEEE binary64 (round to nearest).
UNIT_ROUNDOFF = 2.0**-53


def gamma(k: float) -> float:
    """``gamma_k = k u / (1 - k u)`` (Higham, Lemma 3.1); ``inf`` if ``k u >= 1``."""
    ku = k * UNIT_ROUNDOFF
    return ku / (1.0 - ku) if ku < 1.0 else float("inf")


def neumaier_add(s: np.ndarray, c: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Neumaier step: returns new ``(s, c)`` after adding ``x`` (elementwise; no input is modified)."""
    t = s + x
    c = c + np.where(np.abs(s) >= np.abs(x), (s - t) + x, (x - t) + s)
    return t, c


def gamma_selftest_failures() -> list[str]:
    """``gamma_k`` at known answers, or ``[]``: ``gamma_0 = 0``, ``gamma_1 = 1/(2^53 - 1)`` and
    ``gamma_{2^52} = 1`` (exact rationals, :class:`fractions.Fraction`), and ``inf`` at and past the overflow
    boundary ``k u = 1`` (``k = 2^53``, ``1.5 * 2^53``), a branch no caller's term count reaches."""
    from fractions import Fraction

    known = {0: 0.0, 1: float(Fraction(1, 2**53 - 1)), 2**52: 1.0, 2**53: float("inf"), 1.5 * 2**53: float("inf")}
    bad = []
    for k, v in known.items():
        try:
            got: object = gamma(k)
        except ArithmeticError as exc:
            got = f"{type(exc).__name__}"
        if not got == v:
            bad.append(f"gamma({k!r}) = {got!r}, expected {v!r}")
    return bad



#: Known answer of :func:`neumaier_add`: two columns of terms whose plain running sum loses a part that the
#: compensation must hold exactly (column 0 takes the ``|s| >= |x|`` branch at the lost addition, column 1 the
#: ``|s| < |x|`` branch), the running sum ``s`` after each step (the plain rounded sum) and the final ``c``.
_NEUMAIER_TERMS = ((2.0**53, 2.0**-60), (1.0, 1.0), (-(2.0**53), -1.0))


def neumaier_selftest_failures(terms=_NEUMAIER_TERMS) -> list[str]:
    """:func:`neumaier_add` against hand-derived known answers, or ``[]``.

    Mathematical object: the columns of ``terms`` summed in order from ``s = c = 0``.  For the default terms
    (column 0: ``2^53, 1, -2^53``; column 1: ``2^-60, 1, -1``) the exact sums are ``1`` and ``2^-60``
    (:class:`fractions.Fraction`); the plain rounded running sums lose the ``1`` (``2^53 + 1`` rounds to ``2^53``,
    ties to even) and the ``2^-60`` (``2^-60 + 1`` rounds to ``1``), so the documented state is ``s`` = the plain
    rounded running sum (checked after every step against Python's own float addition) and the final ``c`` the
    lost part.  Tolerance 0: each lost part is an exact float (Fast2Sum, Dekker 1971: when ``|s| >= |x|``,
    ``(s - t) + x`` is the rounding error of ``t = fl(s + x)`` exactly; likewise with ``s, x`` swapped) and the
    compensations here add without rounding, so ``s + c`` equals the exact sum.  Returns the mismatches."""
    from fractions import Fraction

    width = len(terms[0])
    s = c = np.zeros(width)
    plain = [0.0] * width
    bad = []
    for step, row in enumerate(terms):
        x = np.array(row, dtype=np.float64)
        s, c = neumaier_add(s, c, x)
        plain = [p + float(v) for p, v in zip(plain, row)]
        if s.tolist() != plain:
            bad.append(f"neumaier_add: running sum after term {step} is {s.tolist()}, expected the rounded plain "
                       f"sum {plain}")
            return bad
    exact = [sum((Fraction(row[j]) for row in terms), Fraction(0)) for j in range(width)]
    lost = [float(e - Fraction(p)) for e, p in zip(exact, plain)]
    if c.tolist() != lost or [Fraction(float(v)) for v in s + c] != exact:
        bad.append(f"neumaier_add over {[list(r) for r in terms]}: (s, c) = ({s.tolist()}, {c.tolist()}), s + c = "
                   f"{(s + c).tolist()}; expected c = {lost} (the part the plain sum loses) and s + c = the exact "
                   f"sum {[float(e) for e in exact]}")
    return bad


def compensated_selftest_failures() -> list[str]:
    """:func:`gamma_selftest_failures` and :func:`neumaier_selftest_failures` together (the module's self-test)."""
    return gamma_selftest_failures() + neumaier_selftest_failures()
