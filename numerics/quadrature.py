"""Certified quadrature with python-flint (Arb), and an mpmath estimate for comparison.

Mathematical object: the definite integral ``I = int_a^b f(x) dx`` of a real
function on a finite interval (and ``int_a^b int_c^d f(x, y) dy dx`` on a
rectangle), returned as a value *and* its error:

* :func:`certified_integral_1d` / :func:`certified_integral_2d` use
  ``flint.acb.integral`` (Petersen's adaptive Gauss-Legendre quadrature with
  rigorous error bounds from the size of ``f`` on complex ellipses around the
  subintervals).  The returned ball ``[value - radius, value + radius]``
  *contains* ``I`` (``certified=True``) provided the integrand honours the Arb
  contract below; the radius already includes every rounding error.
* :func:`estimated_integral_2d` uses ``mpmath.quad(..., error=True)``
  (tanh-sinh).  Its error is an *estimate* (the difference between the last two
  levels of the quadrature), not a bound: ``certified=False``.

Integrand contract (Arb's): ``f(x, analytic) -> acb`` (or ``arb``) where ``x``
is a complex ball.  When ``analytic`` is true the function must return a
non-finite ball if it is not analytic on the whole ball ``x``.  Meromorphic
integrands (polynomials, ``exp``, ``cosh``, ``1/(...)``) may ignore the flag;
branch-cut functions must forward it (``x.sqrt(analytic=analytic)``,
``x.log(analytic=analytic)``).  :func:`acb_integrand` compiles a sympy
expression into an integrand that does so.  A 2-D integrand is
``f(x, y, analytic)`` with the flag meaning "analytic in both variables on the
given balls".

Precision is a scoped parameter: flint's ``ctx.prec`` is set inside
``try/finally`` and restored, mpmath work happens inside ``mp.workprec`` /
``mp.workdps``; no global precision is left changed.  The working precision
starts at ``digits * log2(10) + 32`` bits and is doubled up to ``max_prec``; if
the requested number of correct digits is still not reached,
:class:`PrecisionNotReached` is raised, naming the precision and the digits
reached.

"Correct digits" means relative accuracy by default (``radius <= 10^-digits *
|value|``); pass ``relative=False`` for an absolute target
(``radius <= 10^-digits``), e.g. when the integral may be zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint
import mpmath
import sympy

from stecheck.errors import InvalidArgument
from stecheck.selftest import OncePerProcess

from ._validation import as_int, short_repr

__all__ = [
    "QuadratureResult",
    "PrecisionNotReached",
    "certified_integral_1d",
    "certified_integral_2d",
    "estimated_integral_2d",
    "acb_integrand",
    "to_arb",
    "arb_to_mpf",
    "flint_precision",
    "start_precision",
    "meets_digits",
    "MIN_DIGITS",
]

#: Smallest accepted ``digits`` (below it a float routine is the right tool).
MIN_DIGITS = 5
_GUARD_BITS = 32


class PrecisionNotReached(InvalidArgument, ArithmeticError):
    """The quadrature did not reach the requested digits within ``max_prec`` bits."""


@dataclass(frozen=True)
class QuadratureResult:
    """A quadrature value and its error.

    ``value``/``radius`` are mpmath ``mpf`` (exact binary copies of the ball's
    midpoint and radius).  ``certified=True``: ``radius`` is a rigorous bound
    on ``|value - I|`` and ``ball`` is the flint ``arb`` enclosure;
    ``certified=False``: ``radius`` is an estimate (``ball`` is None).
    ``digits`` is the requested accuracy (met), ``prec`` the working precision
    in bits that met it, ``method`` says how the number was obtained.
    """

    value: Any
    radius: Any
    digits: int
    method: str
    certified: bool
    prec: int
    relative: bool = True
    ball: Any = None

    @property
    def correct_digits(self) -> float:
        """``-log10(radius / |value|)`` (relative) or ``-log10(radius)`` (absolute); inf if exact."""
        if self.radius == 0:
            return math.inf
        with mpmath.workprec(64):
            scale = abs(self.value) if self.relative and self.value != 0 else mpmath.mpf(1)
            return float(-mpmath.log10(self.radius / scale))

    def _as_ball(self) -> flint.arb:
        if self.ball is not None:
            return self.ball
        return flint.arb(_mpf_to_arb(self.value), _mpf_to_arb(self.radius))

    def contains(self, x: Any) -> bool:
        """True if the closed form ``x`` may equal the integral (``x`` lies in/overlaps the ball).

        ``x``: int, Fraction, str (decimal, read exactly as a ball), mpf, flint
        ``arb``/``fmpq``/``fmpz`` or a sympy number (evaluated as a ball).
        """
        ball = self._as_ball()
        with flint_precision(max(self.prec, 64) + 64):
            return bool(ball.overlaps(to_arb(x)))

    def excludes(self, x: Any) -> bool:
        """True if ``x`` certainly differs from the integral (disjoint balls).

        For ``certified=False`` results this is only as good as the estimate.
        """
        return not self.contains(x)

    def __str__(self) -> str:
        kind = "bound" if self.certified else "estimate"
        with mpmath.workdps(self.digits + 5):
            v = mpmath.nstr(self.value, self.digits + 2)
        return f"{v} +/- {mpmath.nstr(self.radius, 3)} ({kind}; {self.method}; {self.prec} bits)"


# --------------------------------------------------------------------------- helpers


class flint_precision:  # noqa: N801 - used like a function: `with flint_precision(200):`
    """Context manager setting ``flint.ctx.prec`` and restoring it (try/finally); an exception raised inside the
    block propagates (``__exit__`` returns ``None``)."""

    def __init__(self, prec: int):
        self.prec = int(prec)

    def __enter__(self):
        self.saved = flint.ctx.prec
        flint.ctx.prec = self.prec
        return self

    def __exit__(self, *exc):
        flint.ctx.prec = self.saved


def _mpf_to_arb(x) -> flint.arb:
    sign, man, exp, _bc = mpmath.mpf(x)._mpf_ if not isinstance(x, mpmath.mpf) else x._mpf_
    if man == 0:
        return flint.arb(0)
    return flint.arb((-man if sign else man, exp))


def arb_to_mpf(x: flint.arb):
    """The exact midpoint value of an exact ``arb`` (e.g. ``ball.mid()``) as an mpmath ``mpf``."""
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    with mpmath.workprec(max(64, man.bit_length() + 8)):
        out = mpmath.mpf((man, exp))  # exact: enough bits for the mantissa
    # audit: the mpf is exactly man 2^exp (mpmath strips trailing zero bits; an inexact conversion would round man)
    sign, m2, e2, _bc = out._mpf_
    exact = man == 0 if m2 == 0 else e2 >= exp and ((-m2 if sign else m2) << (e2 - exp)) == man
    if not exact:
        raise ArithmeticError(f"arb_to_mpf: the midpoint {man}*2^{exp} was rounded to {out}; it must be exact.")
    return out


def to_arb(x: Any) -> flint.arb:
    """``x`` as a flint ``arb`` at the current flint precision (decimal strings become balls)."""
    if isinstance(x, flint.arb):
        return x
    if isinstance(x, flint.acb):
        if not x.imag.contains(0):
            raise InvalidArgument(f"value {short_repr(x)} is not real; expected a real number.")
        return x.real
    if isinstance(x, bool):
        raise InvalidArgument(f"value {x!r} is a bool; expected a real number.")
    if isinstance(x, int):
        return flint.arb(x)
    if isinstance(x, Fraction):
        return flint.arb(flint.fmpq(x.numerator, x.denominator))
    if isinstance(x, (flint.fmpz, flint.fmpq)):
        return flint.arb(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise InvalidArgument(f"value {x!r} is not finite; expected a finite real number.")
        m, e = x.as_integer_ratio()
        return flint.arb(flint.fmpq(m, e))
    if isinstance(x, mpmath.mpf):
        if not mpmath.isfinite(x):
            raise InvalidArgument(f"value {x!r} is not finite; expected a finite real number.")
        return _mpf_to_arb(x)
    if isinstance(x, str):
        try:
            return flint.arb(x)
        except Exception:  # noqa: BLE001 - flint raises ValueError/TypeError variously
            raise InvalidArgument(f"value {x!r} is not a decimal number; expected e.g. '1.25'.") from None
    if isinstance(x, sympy.Basic):
        if not x.is_number:
            raise InvalidArgument(f"value {x} has free symbols; expected a number.")
        f = acb_integrand(x, sympy.Dummy("t"))
        return to_arb(f(flint.acb(0), False))
    raise InvalidArgument(
        f"value {short_repr(x)} of type {type(x).__name__} is not a supported number; "
        "expected int, Fraction, float, str, mpf, flint arb/fmpq or a sympy number."
    )


def _as_endpoint(x: Any, name: str) -> Any:
    """Validate an interval endpoint; kept in its exact form, converted to a ball per precision."""
    to_arb(x)  # validates (raises InvalidArgument)
    if isinstance(x, (flint.arb,)) and not x.is_finite():
        raise InvalidArgument(f"{name}={x} is not finite; expected a finite endpoint. Truncate and bound the tail.")
    return x


def _digits(digits: Any) -> int:
    d = as_int(digits, "digits")
    if d < MIN_DIGITS:
        raise InvalidArgument(
            f"digits={d} is too small; expected an integer >= {MIN_DIGITS} (certified quadrature targets "
            f"high precision). Pass digits={MIN_DIGITS} or more (default 30), or use a float routine."
        )
    return d


def start_precision(digits: int) -> int:
    """Starting working precision in bits for ``digits`` decimal digits (plus guard bits)."""
    return int(math.ceil(digits * math.log2(10))) + _GUARD_BITS


def _max_prec(max_prec: Any, start: int) -> int:
    if max_prec is None:
        return 8 * start
    return as_int(max_prec, "max_prec", minimum=start)


def meets_digits(ball: flint.arb, digits: int, relative: bool = True) -> bool:
    """True if the ball has ``digits`` correct digits: ``rad <= 10^-digits |mid|`` (relative) or
    ``rad <= 10^-digits`` (absolute); a non-finite ball never does.  Self-tested (:func:`_quadrature_selftest`)."""
    if not ball.is_finite():
        return False
    rad = ball.rad()
    if rad == 0:
        return True
    tol = flint.arb(10) ** (-digits)
    scale = abs(ball.mid()) if relative else flint.arb(1)
    return bool(rad <= tol * scale)


_target_met = meets_digits


def _reached_digits(ball: flint.arb, relative: bool) -> str:
    if not ball.is_finite():
        return "no finite enclosure"
    rad = arb_to_mpf(ball.rad())
    if rad == 0:
        return "exact"
    with mpmath.workprec(64):
        scale = abs(arb_to_mpf(ball.mid())) if relative else mpmath.mpf(1)
        if scale == 0:
            return "0 correct relative digits (value not separated from 0)"
        return f"{float(-mpmath.log10(rad / scale)):.1f} correct {'relative' if relative else 'absolute'} digits"


def _as_acb(value: Any, where: str) -> flint.acb:
    if isinstance(value, flint.acb):
        return value
    if isinstance(value, (flint.arb, int, flint.fmpz, flint.fmpq)):
        return flint.acb(value)
    raise InvalidArgument(
        f"the integrand returned {short_repr(value)} of type {type(value).__name__} at {where}; "
        "expected a flint acb or arb ball (compute with flint, e.g. x.exp(), not math.exp)."
    )


def _real_part(result: flint.acb) -> flint.arb:
    """The real ball of a real integral; an imaginary part away from 0 is a user error."""
    if result.is_finite() and not result.imag.contains(0):
        raise InvalidArgument(
            f"the integral came out non-real ({result}); expected a real-valued integrand on a real interval."
        )
    return result.real


def _make_result(ball, digits, method, prec, relative) -> QuadratureResult:
    return QuadratureResult(
        value=arb_to_mpf(ball.mid()),
        radius=arb_to_mpf(ball.rad()),
        digits=digits,
        method=method,
        certified=True,
        prec=prec,
        relative=relative,
        ball=ball,
    )


def _until_digits(integrate, *, digits, relative, start, limit, method, where, hint) -> QuadratureResult:
    """Run ``integrate(tol)`` at working precision ``start``, doubling it up to ``limit`` bits, until the
    enclosure has ``digits`` correct digits (``tol = 2^-(prec - 8)``); else :class:`PrecisionNotReached`."""
    prec, ball = start, None
    while True:
        with flint_precision(prec):
            ball = _real_part(integrate(flint.arb(2) ** (-(prec - 8))))
            if _target_met(ball, digits, relative):
                return _make_result(ball, digits, method, prec, relative)
        if prec >= limit:
            break
        prec = min(2 * prec, limit)
    raise PrecisionNotReached(
        f"{where} but at {prec} bits (max_prec) the enclosure {ball} has {_reached_digits(ball, relative)}. {hint}"
    )


# --------------------------------------------------------------------------- 1-D




def _selftest_failures() -> list[str]:
    """What is wrong with the certification plumbing, or ``[]``; known answers from exact rationals.

    * :func:`arb_to_mpf` on exact balls ``m 2^e`` (0, +-1, powers of two, a 201-bit mantissa) against the
      rational ``m 2^e`` (``fractions.Fraction``): its audit must neither reject a correct conversion (the
      mantissas 0 and 1 are the audit's special cases) nor accept a wrong one;
    * :func:`meets_digits` on balls whose radius lies just inside and just outside ``10^-5 |mid|`` (e.g.
      ``2^-17``, between ``11^-5`` and ``10^-5``), exact radius 0, exact radius 1, absolute and relative, a
      non-finite ball, against ``rad <= 10^-5 |mid|`` decided in ``Fraction`` from the ball's exact ends (the
      answer must be the bool itself: callers may store or compare it);
    * the precision doubling: ``int_0^1 ((e^x + 2^200) - 2^200) dx = e - 1`` to 5 digits needs about 220 bits,
      more than the 49-bit start, within the default ``max_prec`` (8x the start); the enclosure must contain
      Arb's constant ``e - 1`` and have been found above the start precision.
    """
    failures: list[str] = []
    with flint_precision(400):
        for man, exp in ((0, 0), (1, 0), (-1, 0), (1, -70), (-1, 64), (3, 100), (2**200 + 1, -5),
                         (-12345678901234567891, -3)):
            want = Fraction(man) * Fraction(2) ** exp
            try:
                got = arb_to_mpf(flint.arb((man, exp)) if man else flint.arb(0))
                sign, m2, e2, _bc = got._mpf_
                got_q = Fraction(-m2 if sign else m2) * Fraction(2) ** e2
            except ArithmeticError as exc:
                failures.append(f"arb_to_mpf({man}*2^{exp}) raised {exc}")
                continue
            if got_q != want:
                failures.append(f"arb_to_mpf({man}*2^{exp}) = {got}, expected {want}")
        balls = [(flint.arb(flint.arb((mm, me)) if mm else 0, flint.arb((rm, re_)) if rm else 0), relative)
                 for (mm, me), (rm, re_), relative in (
                     ((1, 0), (0, 0), True), ((5, 0), (1, 0), True), ((1, 0), (1, -17), True),
                     ((1, 0), (1, -16), True), ((3, 0), (3, -17), True), ((3, 0), (1, -14), True),
                     ((1000, 0), (1, -17), False), ((1000, 0), (1, -16), False), ((0, 0), (1, 0), False),
                     ((0, 0), (1, -17), False), ((-7, -1), (1, -18), True))]
        # radii that are exact powers of two (a constructed radius is rounded up by one 30-bit ulp; a rounded
        # midpoint gets its ulp as the radius): 1025/2 at 10 bits (radius 1), 1 + 2^-19 at 18 bits (radius 2^-17)
        for num, den, prec in ((1025, 2, 10), (2**19 + 1, 2**19, 18)):
            with flint_precision(prec):
                rounded = +flint.arb(flint.fmpq(num, den))
            balls += [(rounded, True), (rounded, False)]
        for ball, relative in balls:
            (mm, me), (rm, re_) = ball.mid().man_exp(), ball.rad().man_exp()
            mid, rad = Fraction(int(mm)) * Fraction(2) ** int(me), Fraction(int(rm)) * Fraction(2) ** int(re_)
            want = rad <= Fraction(1, 10**5) * (abs(mid) if relative else 1)
            if meets_digits(ball, 5, relative) is not want:  # a bool, as documented (not 0, 1 or -1)
                failures.append(f"meets_digits(mid={mid}, rad={rad}, digits=5, relative={relative}) is not {want}")
        got = meets_digits(flint.arb(1, flint.arb("inf")), 5, False)
        if got is not False:
            failures.append(f"meets_digits on a ball of infinite radius returned {got!r}, expected False")
    big = 2**200
    try:
        r = certified_integral_1d(lambda x, an: (x.exp() + big) - big, 0, 1, digits=5)
        with flint_precision(600):
            ref = flint.arb.const_e() - 1  # a 600-bit ball: overlaps the quadrature's ball iff they agree
        if not r.contains(ref) or r.prec <= start_precision(5):
            failures.append(f"int_0^1 ((e^x + 2^200) - 2^200) dx = {r} (at {r.prec} bits), expected a ball "
                            f"containing e - 1 found above the start precision {start_precision(5)}")
    except (PrecisionNotReached, ArithmeticError) as exc:
        failures.append(f"int_0^1 ((e^x + 2^200) - 2^200) dx to 5 digits failed within the default max_prec: {exc}")
    return failures


#: :func:`_selftest_failures` once per process (at the first certified integral); a failure raises
#: :class:`~stecheck.errors.SelfCheckFailed` (a fault of this module, not of the caller).
_quadrature_selftest = OncePerProcess(
    _selftest_failures, what="numerics.quadrature fails its known-answer self-test",
    remedy="The certification plumbing (arb_to_mpf, meets_digits, max_prec) is broken; fix numerics/quadrature.py.")


def certified_integral_1d(
    f_acb: Callable[[flint.acb, bool], Any],
    a: Any,
    b: Any,
    *,
    digits: int = 30,
    relative: bool = True,
    max_prec: int | None = None,
) -> QuadratureResult:
    """Rigorous enclosure of ``int_a^b f(x) dx`` with at least ``digits`` correct digits.

    ``f_acb(x, analytic)`` follows the Arb contract (module docstring).  ``a``
    and ``b`` are finite exact numbers (int, Fraction, float taken exactly,
    decimal str, mpf, flint ball).  Raises :class:`PrecisionNotReached` if
    ``max_prec`` bits (default 8x the starting precision) do not suffice.
    """
    digits = _digits(digits)
    _quadrature_selftest()
    if not callable(f_acb):
        raise InvalidArgument(f"f_acb={short_repr(f_acb)} is not callable; expected f(x, analytic) -> acb.")
    a = _as_endpoint(a, "a")
    b = _as_endpoint(b, "b")
    start = start_precision(digits)
    limit = _max_prec(max_prec, start)

    def wrapped(x, analytic):
        return _as_acb(f_acb(x, analytic), f"x = {x}")

    def integrate(tol):
        lo, hi = flint.acb(to_arb(a)), flint.acb(to_arb(b))
        return flint.acb.integral(wrapped, lo, hi, rel_tol=tol, abs_tol=tol if not relative else None)

    return _until_digits(
        integrate, digits=digits, relative=relative, start=start, limit=limit,
        method="arb acb.integral (Gauss-Legendre, rigorous bound)",
        where=f"certified_integral_1d: {digits} correct digits requested on [{a}, {b}]",
        hint="Lower digits, split the interval at singularities, check the analytic flag of the integrand, "
             "or raise max_prec.",
    )


# --------------------------------------------------------------------------- 2-D


def certified_integral_2d(
    f_acb: Callable[[flint.acb, flint.acb, bool], Any],
    a: Any,
    b: Any,
    c: Any,
    d: Any,
    *,
    digits: int = 20,
    relative: bool = True,
    max_prec: int | None = None,
) -> QuadratureResult:
    """Rigorous enclosure of ``int_a^b int_c^d f(x, y) dy dx`` by nested ``acb.integral``.

    The inner integral is itself a ball; evaluated at a complex ball ``x`` it
    encloses the inner integral for every point of ``x``, so the outer error
    bound stays rigorous.  When the outer quadrature only needs a bound on the
    integrand (``analytic=True``, evaluation on an ellipse) the inner integral
    is computed to low accuracy, which keeps the nesting affordable.  Slow
    compared with 1-D: prefer a closed-form inner integral when one exists.
    """
    digits = _digits(digits)
    _quadrature_selftest()
    if not callable(f_acb):
        raise InvalidArgument(f"f_acb={short_repr(f_acb)} is not callable; expected f(x, y, analytic) -> acb.")
    a, b, c, d = (_as_endpoint(v, n) for v, n in ((a, "a"), (b, "b"), (c, "c"), (d, "d")))
    start = start_precision(digits)
    limit = _max_prec(max_prec, start)

    def integrate(tol):
        coarse = flint.arb(2) ** (-20)
        lo_y, hi_y = flint.acb(to_arb(c)), flint.acb(to_arb(d))

        def outer(x, analytic):
            def inner(y, inner_analytic):
                return _as_acb(f_acb(x, y, analytic or inner_analytic), f"(x, y) = ({x}, {y})")

            if analytic:
                return flint.acb.integral(inner, lo_y, hi_y, rel_tol=coarse, abs_tol=coarse, eval_limit=2000)
            return flint.acb.integral(inner, lo_y, hi_y, rel_tol=tol, abs_tol=tol)

        return flint.acb.integral(
            outer, flint.acb(to_arb(a)), flint.acb(to_arb(b)), rel_tol=tol, abs_tol=tol if not relative else None
        )

    return _until_digits(
        integrate, digits=digits, relative=relative, start=start, limit=limit,
        method="arb acb.integral nested (rigorous bound)",
        where=f"certified_integral_2d: {digits} correct digits requested on [{a}, {b}] x [{c}, {d}]",
        hint="Lower digits or raise max_prec.",
    )


def estimated_integral_2d(
    f_mpf: Callable[[Any, Any], Any],
    a: Any,
    b: Any,
    c: Any,
    d: Any,
    *,
    digits: int = 20,
    relative: bool = True,
) -> QuadratureResult:
    """``int_a^b int_c^d f(x, y) dy dx`` by ``mpmath.quad(..., error=True)`` (tanh-sinh).

    ``f_mpf(x, y)`` takes and returns mpmath numbers.  The returned radius is
    mpmath's *error estimate* (the change between the last two refinement
    levels), NOT a bound: ``certified=False``; it is floored at 8 ulps of the
    working precision, since the raw estimate can be smaller than the rounding
    error.  Working precision is
    ``mp.workdps(digits + 10)``, scoped.  Raises :class:`PrecisionNotReached`
    if the estimate exceeds the target.
    """
    digits = _digits(digits)
    if not callable(f_mpf):
        raise InvalidArgument(f"f_mpf={short_repr(f_mpf)} is not callable; expected f(x, y) -> mpf.")
    ends = []
    with mpmath.workdps(digits + 10):
        for v, n in ((a, "a"), (b, "b"), (c, "c"), (d, "d")):
            _as_endpoint(v, n)
            ends.append(mpmath.mpf(v) if not isinstance(v, flint.arb) else arb_to_mpf(v.mid()))
        value, err = mpmath.quad(f_mpf, ends[:2], ends[2:], error=True)
        value, err = mpmath.re(value), abs(err)
        # mpmath's estimate can fall below the rounding level of the working precision (it reported
        # 1e-51 at 103 bits for int int e^{xy}); never report less than 8 ulps of the value.
        err = max(err, 8 * mpmath.eps * max(abs(value), mpmath.mpf(1)))
        scale = abs(value) if relative else mpmath.mpf(1)
        ok = err <= mpmath.mpf(10) ** (-digits) * scale
        prec = mpmath.mp.prec
    if not ok:
        raise PrecisionNotReached(
            f"estimated_integral_2d: {digits} digits requested but mpmath's error estimate is "
            f"{mpmath.nstr(err, 3)} for value {mpmath.nstr(value, 10)} at {prec} bits. "
            "Lower digits or split the domain."
        )
    return QuadratureResult(
        value=value, radius=err, digits=digits,
        method="mpmath.quad tanh-sinh (error is an estimate, not a bound)",
        certified=False, prec=prec, relative=relative, ball=None,
    )


# --------------------------------------------------------------------------- sympy -> acb


_UNARY_ANALYTIC_FLAG = {sympy.log: "log"}
_UNARY_ENTIRE = {
    sympy.exp: "exp", sympy.sin: "sin", sympy.cos: "cos", sympy.sinh: "sinh",
    sympy.cosh: "cosh", sympy.tanh: "tanh", sympy.tan: "tan", sympy.erf: "erf",
}


def acb_integrand(expr: sympy.Expr, var: sympy.Symbol) -> Callable[[flint.acb, bool], flint.acb]:
    """Compile a sympy expression of ``var`` into an Arb integrand ``f(x, analytic)``.

    Supported: numbers (rationals exact, floats as their exact binary value),
    ``pi``, ``E``, ``+``, ``*``, powers (integer exponents directly, other
    exponents as ``exp(e*log(b))`` with the analytic flag forwarded),
    ``exp, log, sin, cos, tan, sinh, cosh, tanh, erf``.  Anything else
    (``Abs``, ``sign``, ``Min``...) is not analytic and raises ``InvalidArgument``.
    """
    expr = sympy.sympify(expr)
    extra = expr.free_symbols - {var}
    if extra:
        raise InvalidArgument(
            f"expression {expr} has free symbols {sorted(map(str, extra))} besides {var}; substitute numbers first."
        )

    def build(e) -> Callable[[flint.acb, bool], flint.acb]:
        if e == var:
            return lambda x, an: x
        if e.is_Integer:
            k = int(e)
            return lambda x, an: flint.acb(k)
        if e.is_Rational:
            q = flint.fmpq(int(e.p), int(e.q))
            return lambda x, an: flint.acb(flint.arb(q))
        if e.is_Float:
            m = mpmath.mpf(e._mpf_)
            return lambda x, an: flint.acb(_mpf_to_arb(m))
        if e is sympy.pi:
            return lambda x, an: flint.acb(flint.arb.pi())
        if e is sympy.E:
            return lambda x, an: flint.acb(flint.arb(1).exp())
        if e.is_Add or e.is_Mul:
            parts = [build(t) for t in e.args]
            if e.is_Add:
                def add(x, an, parts=parts):
                    s = parts[0](x, an)
                    for p in parts[1:]:
                        s = s + p(x, an)
                    return s
                return add

            def mul(x, an, parts=parts):
                s = parts[0](x, an)
                for p in parts[1:]:
                    s = s * p(x, an)
                return s
            return mul
        if e.is_Pow:
            base, ex = build(e.base), e.exp
            if ex.is_Integer:
                k = int(ex)
                return lambda x, an: base(x, an) ** k
            if ex == sympy.Rational(1, 2):
                return lambda x, an: base(x, an).sqrt(analytic=an)
            pw = build(ex)
            return lambda x, an: (pw(x, an) * base(x, an).log(analytic=an)).exp()
        # what is left must be a one-argument analytic function of the table (or log)
        if not (isinstance(e, sympy.Function) and len(e.args) == 1
                and (e.func in _UNARY_ENTIRE or e.func is sympy.log)):
            raise InvalidArgument(
                f"cannot compile {e} (in {expr}) into a certified integrand: {type(e).__name__} is not supported "
                "or not analytic. Use polynomials and exp/log/sin/cos/tanh/..., or write the acb integrand by hand."
            )
        inner = build(e.args[0])
        if e.func is sympy.log:
            return lambda x, an: inner(x, an).log(analytic=an)
        name = _UNARY_ENTIRE[e.func]
        return lambda x, an: getattr(inner(x, an), name)()

    return build(expr)
