"""Proof obligations: single algebraic steps of SBN's proofs, decided by z3.

Mathematical object: a statement "for all reals ``v_1..v_k`` with
``assumptions``, ``conclusion`` holds" (quantifier-free, polynomial
arithmetic with ``Abs``, ``Max``, ``Min``, ``Piecewise``).  :func:`prove_step`
asks z3 whether ``assumptions and not conclusion`` is satisfiable:

* unsat: ``PROVED`` (and ``vacuous=True`` when the assumptions alone are unsat,
  i.e. the step holds only because it can never apply);
* sat: ``REFUTED``, with the model as a counterexample that is replayed in
  sympy with exact rationals before it is reported;
* anything else (timeout, ``unknown``): ``UNKNOWN``.

The SMT-LIB text of each query is kept as evidence (``ObligationResult.query``).

Evidence is canonical: every obligation is decided in a fresh ``z3.Context``
with fixed seeds (:data:`Z3_SETTINGS`) and a deterministic resource limit
(``rlimit``) instead of a wall-clock timeout, and counterexamples are listed by
variable name with exact rationals; the query text, the verdict and the model
are therefore the same in any process, after any other query, on any number of
workers (``tests/determinism/``).

The steps of two proofs of SBN appendix B are encoded in :data:`B5_STEPS`
(Prop. B.5, eqs. (23)-(30)) and :data:`B7_STEPS` (Prop. B.7, eqs. (34)-(40)),
each *as printed* (as far as the PDF extraction lets one read it) and *as
reconstructed*; :func:`check_steps` decides a list of them.  Vectors are
taken in dimension 2 (two units; one or two parameters), which is enough for
every counterexample and is the smallest case in which "several units share
a parameter" can happen.  Notation, as in the paper: ``gbar = E[g(x)]`` with
``g_i = dL/dx_i``, ``Dbar = E[Delta]`` with ``Delta_i = x_i (L(x) - L(x_{flip i}))``
(the true gradient is ``J Dbar``, the expected ST gradient ``2 J gbar``),
``J = (da/dphi)^T diag(p_z(a))``, ``L`` the Lipschitz constant (here ``Lc``).

What the steps establish (verdicts are pinned in ``tests/theory/test_obligations.py``):

* Prop. B.5: (25)-(29) hold; (30) as extracted is vacuous; the claim "the outer
  product ``gbar Dbar^T`` is PSD iff ``gbar_i Dbar_i >= 0`` for all i" is false,
  and with it the sufficiency "for any a(phi)": when two units share a
  parameter, coordinate-wise agreement of signs does not give a non-negative
  scalar product.  It holds when every parameter drives one unit.  The
  necessity with (23) as printed (``E[g_i] > L``, no absolute value) is false.
* Prop. B.7: (35) as extracted lacks a ``J``; (36), (38)-(40) hold; the first
  inequality of (37), ``|g(x)_i - g*_i| <= L |x_i - x*_i|``, is false (``g_i``
  changes with the other coordinates) and the bounds (37) need ``g_i``
  Lipschitz in all of ``x`` (infinity norm), not only in ``x_i``; the
  sufficiency fails for shared parameters as in B.5.

:func:`coupled_counterexample` turns the refuted sufficiency steps into
concrete losses and parametrizations and evaluates them by exact enumeration
(:mod:`theory.enumeration`), independently of z3.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy
import z3

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.selftest import OncePerProcess

__all__ = [
    "Obligation",
    "ObligationResult",
    "prove_step",
    "check_obligation",
    "check_steps",
    "B5_STEPS",
    "B7_STEPS",
    "get_step",
    "coupled_counterexample",
]

VERDICTS = ("PROVED", "REFUTED", "UNKNOWN")
VERSIONS = ("printed", "reconstructed", "both")
DEFAULT_TIMEOUT_MS = 20_000
#: Deterministic solver settings, the same for every obligation (fixed seeds; no wall-clock limit).
Z3_SETTINGS = {"random_seed": 0}
#: z3's module seeds (global parameters), re-set before every obligation in case other code changed them.
Z3_GLOBAL_SETTINGS = {"smt.random_seed": 0, "sat.random_seed": 0, "nlsat.seed": 0}
#: A ``timeout_ms`` budget is enforced as z3's resource limit ``timeout_ms * RLIMIT_PER_MS`` (rlimit
#: units, a count of solver operations, identical on every machine).  z3 spends a few thousand units
#: per millisecond on a 2020s core, so the bound is several times the nominal wall-clock budget; the
#: costliest obligation of Props. B.5-B.8 (B5-(28)) needs about 7e6 units, under 1% of the default.
RLIMIT_PER_MS = 50_000


@dataclass(frozen=True)
class ObligationResult:
    """Outcome of one obligation.

    ``counterexample`` maps variable names, sorted, to values (``Fraction`` when
    z3's model is rational, else a float approximation of an algebraic number);
    ``vacuous`` is true when a ``PROVED`` step has unsatisfiable assumptions.
    """

    name: str
    verdict: str
    counterexample: dict[str, Any] | None
    query: str
    seconds: float
    vacuous: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-plain dict (counterexample values as strings, exact where possible)."""
        ce = None if self.counterexample is None else {k: str(v) for k, v in sorted(self.counterexample.items())}
        return {"name": self.name, "verdict": self.verdict, "counterexample": ce,
                "query": self.query, "seconds": self.seconds, "vacuous": self.vacuous}


@dataclass(frozen=True)
class Obligation:
    """One step of a proof: ``forall variables: assumptions => conclusion``.

    ``equation`` is the SBN equation number(s) (e.g. ``"(27)"``), ``version``
    one of ``printed`` / ``reconstructed`` / ``both`` (printed and
    reconstructed coincide), ``asserts`` says in words what is claimed.
    """

    name: str
    equation: str
    version: str
    asserts: str
    variables: tuple[sympy.Symbol, ...]
    assumptions: tuple[sympy.Basic, ...]
    conclusion: sympy.Basic
    note: str = ""

    def check(self, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> ObligationResult:
        return prove_step(self.name, self.variables, self.assumptions, self.conclusion, timeout_ms=timeout_ms)


# --------------------------------------------------------------------------- sympy -> z3


def _as_symbols(variables) -> tuple[sympy.Symbol, ...]:
    if isinstance(variables, (str, sympy.Symbol)) or not isinstance(variables, Iterable):
        raise InvalidArgument(
            f"variables must be a sequence of names or sympy Symbols, got {variables!r}; "
            f"pass e.g. ['x', 'y'] or sympy.symbols('x y')."
        )
    out = []
    for v in variables:
        if isinstance(v, str) and v.isidentifier():
            out.append(sympy.Symbol(v, real=True))
        elif isinstance(v, sympy.Symbol):
            out.append(v)
        else:
            raise InvalidArgument(
                f"variable {v!r} is neither an identifier string nor a sympy Symbol; "
                f"pass names such as 'g1' or sympy.Symbol('g1')."
            )
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"variable names must be distinct, got {names}; rename the duplicates.")
    return tuple(out)


def _to_sympy(expr, what: str) -> sympy.Basic:
    if isinstance(expr, bool):
        return sympy.true if expr else sympy.false
    try:
        return sympy.sympify(expr)
    except (sympy.SympifyError, TypeError, SyntaxError):
        raise InvalidArgument(
            f"{what} {expr!r} is not a sympy expression; pass a relational such as "
            f"sympy.Symbol('x') >= 0 (or a string sympy can parse)."
        ) from None


class _Translator:
    """Translate a quantifier-free sympy formula into z3 over the declared reals."""

    def __init__(self, symbols: Sequence[sympy.Symbol], ctx: z3.Context):
        self.ctx = ctx
        self.vars = {s.name: z3.Real(s.name, ctx) for s in symbols}

    def __call__(self, e):  # noqa: C901 - a flat dispatch table is clearer here
        if e is sympy.true or e is True:
            return z3.BoolVal(True, self.ctx)
        if e is sympy.false or e is False:
            return z3.BoolVal(False, self.ctx)
        if isinstance(e, sympy.Symbol):
            if e.name not in self.vars:
                raise InvalidArgument(
                    f"symbol {e.name!r} occurs in the formula but is not among the variables "
                    f"{sorted(self.vars)}; add it to variables."
                )
            return self.vars[e.name]
        if isinstance(e, (sympy.Integer, sympy.Rational)):
            return z3.RealVal(f"{e.p}/{e.q}", self.ctx)
        if isinstance(e, sympy.Float):
            q = sympy.Rational(str(e))
            return z3.RealVal(f"{q.p}/{q.q}", self.ctx)
        if isinstance(e, sympy.Add):
            return z3.Sum([self(a) for a in e.args])
        if isinstance(e, sympy.Mul):
            return z3.Product([self(a) for a in e.args])
        if isinstance(e, sympy.Pow) and e.exp.is_Integer:
            base, k = self(e.base), int(e.exp)
            if k == 0:
                return z3.RealVal(1, self.ctx)
            p = base
            for _ in range(abs(k) - 1):
                p = p * base
            return p if k > 0 else z3.RealVal(1, self.ctx) / p
        if isinstance(e, sympy.Abs):
            a = self(e.args[0])
            return z3.If(a >= 0, a, -a)
        if isinstance(e, (sympy.Max, sympy.Min)):
            args = [self(a) for a in e.args]
            acc = args[0]
            for a in args[1:]:
                acc = z3.If(a >= acc, a, acc) if isinstance(e, sympy.Max) else z3.If(a <= acc, a, acc)
            return acc
        if isinstance(e, sympy.Piecewise):
            acc = None
            for val, cond in reversed(e.args):
                if acc is None:
                    if cond is not sympy.true:
                        raise InvalidArgument(f"Piecewise {e} needs a final (value, True) branch.")
                    acc = self(val)
                else:
                    acc = z3.If(self(cond), self(val), acc)
            return acc
        rel = {sympy.Eq: lambda a, b: a == b, sympy.Ne: lambda a, b: a != b,
               sympy.Lt: lambda a, b: a < b, sympy.Le: lambda a, b: a <= b,
               sympy.Gt: lambda a, b: a > b, sympy.Ge: lambda a, b: a >= b}
        for cls, fn in rel.items():
            if isinstance(e, cls):
                return fn(self(e.lhs), self(e.rhs))
        if isinstance(e, sympy.And):
            return z3.And([self(a) for a in e.args])
        if isinstance(e, sympy.Or):
            return z3.Or([self(a) for a in e.args])
        if isinstance(e, sympy.Not):
            return z3.Not(self(e.args[0]))
        if isinstance(e, sympy.Implies):
            return z3.Implies(self(e.args[0]), self(e.args[1]))
        raise InvalidArgument(
            f"cannot encode {e} ({type(e).__name__}) for z3: supported are +, *, integer powers, "
            f"Abs, Max, Min, Piecewise, relations and And/Or/Not/Implies. Rewrite the step "
            f"without it (e.g. name a square root as a new variable s with s >= 0, s**2 = ...)."
        )


def _translator_selftest() -> list[str]:
    """The translator against sympy's own evaluation and against a table of known answers, exactly (rationals),
    on a fixed set of terms that uses every construct it encodes: a mismatch means a PROVED verdict could rest on a
    formula other than the one stated (a REFUTED one is replayed in sympy by :func:`_replay`).

    The known answers were computed apart, with :class:`fractions.Fraction` arithmetic on the same points, so a
    wrong term, relation or point in this test shows as a mismatch instead of being compared with itself.  The
    points hit the ties that separate ``<`` from ``<=`` (``x = y``, ``x = w``, ``x = 0``, ``y = 0``) and ``x**2``
    from ``2x`` (``x`` not in ``{0, 2}``).  Returns the mismatches, ``[]`` if none."""
    x, y, w = sympy.symbols("x y w", real=True)
    R = sympy.Rational
    points = [(R(3, 2), R(-5, 3), R(7, 4)), (R(-2), R(-2), R(1, 3)), (R(1, 5), R(4), R(-3)),
              (R(0), R(-1, 2), R(0)), (R(5, 2), R(0), R(5, 2)), (R(-1), R(0), R(2))]
    # (term, its value at each point); (formula, "T"/"F" at each point)
    terms = [(x + 2 * y - R(3, 7), ("-95/42", "-45/7", "272/35", "-10/7", "29/14", "-10/7")),
             (x * y * w, ("-35/8", "4/3", "-12/5", "0", "0", "0")),
             (x**2, ("9/4", "4", "1/25", "0", "25/4", "1")),
             (x**3 * (y - 3) ** -1, ("-81/112", "8/5", "1/125", "0", "-125/24", "1/3")),
             ((x - y - 1) ** -2, ("36/169", "1", "25/576", "4", "4/9", "1/4")),
             # exponents 0 and 1 survive only in unevaluated powers (sympy folds x**0, x**1 otherwise)
             (sympy.Pow(x, 0, evaluate=False), ("1", "1", "1", "1", "1", "1")),
             (sympy.Pow(x - y, 1, evaluate=False), ("19/6", "0", "-19/5", "1/2", "5/2", "-1")),
             (sympy.Float("0.25") * x, ("3/8", "-1/2", "1/20", "0", "5/8", "-1/4")),
             (sympy.Abs(x - 2 * y), ("29/6", "2", "39/5", "1", "5/2", "1")),
             (sympy.Max(x, y, w), ("7/4", "1/3", "4", "0", "5/2", "2")),
             (sympy.Min(x, y, w), ("-5/3", "-2", "-3", "-1/2", "0", "-1")),
             (sympy.Piecewise((x, x < y), (y * w, x < w), (w, True)), ("-35/12", "-2/3", "1/5", "0", "5/2", "-1"))]
    formulas = [(x < y, "FFTFFT"), (x <= y, "FTTFFT"), (x > y, "TFFTTF"), (x >= y, "TTFTTF"),
                (sympy.Eq(x, y), "FTFFFF"), (sympy.Ne(x, y), "TFTTTT"),
                (sympy.And(x > 0, y < 0), "TFFFFF"), (sympy.Or(x > 0, y > 0), "TFTFTF"),
                (sympy.Not(x > 0), "FTFTFT"), (sympy.Implies(x > 0, y > 0), "FTTTFT")]
    bad = []
    for i, pt in enumerate(points):
        ctx = z3.Context()
        tr = _Translator((x, y, w), ctx)
        sub = dict(zip((x, y, w), pt))
        zsub = [(tr.vars[s.name], z3.RealVal(f"{v.p}/{v.q}", ctx)) for s, v in sub.items()]
        for e, known in (*terms, *formulas):
            want = e.xreplace(sub)
            got = z3.simplify(z3.substitute(tr(e), *zsub))
            if isinstance(known, str) and len(known) == len(points) and set(known) <= {"T", "F"}:
                truth = known[i] == "T"
                ok_sympy = want is (sympy.true if truth else sympy.false)
                ok = z3.is_true(got) if truth else z3.is_false(got)
                expected = str(truth)
            else:  # a Float term is encoded as the rational of its decimal string (see __call__)
                k = Fraction(known[i])
                q = sympy.Rational(str(want)) if isinstance(want, sympy.Float) else want
                ok_sympy = isinstance(q, sympy.Rational) and Fraction(int(q.p), int(q.q)) == k
                ok = z3.is_rational_value(got) and \
                    Fraction(got.numerator_as_long(), got.denominator_as_long()) == k
                expected = str(k)
            if not (ok and ok_sympy):
                bad.append(f"{e} at {tuple(str(v) for v in pt)}: known answer {expected}, sympy {want}, z3 {got}")
    return bad


#: :func:`_translator_selftest` once per process; a disagreement raises :class:`~stecheck.errors.SelfCheckFailed`
#: quoting the first three.
_check_translator = OncePerProcess(_translator_selftest, what="the sympy-to-z3 translator disagrees with sympy",
                                   remedy="", limit=3)

def _model_value(model, var) -> Any:
    v = model.eval(var, model_completion=True)
    if z3.is_rational_value(v):
        return Fraction(v.numerator_as_long(), v.denominator_as_long())
    if z3.is_algebraic_value(v):
        return float(v.approx(20).as_fraction())
    return float(str(v))  # pragma: no cover - z3 returns one of the above for reals


def _replay(counterexample, symbols, assumptions, conclusion) -> None:
    """Re-evaluate a rational counterexample in sympy; a mismatch is a bug (AssertionError)."""
    if not all(isinstance(v, Fraction) for v in counterexample.values()):
        return  # algebraic: leave the exact check to z3
    subs = {s: sympy.Rational(counterexample[s.name].numerator, counterexample[s.name].denominator)
            for s in symbols}
    for a in assumptions:
        val = a.subs(subs)
        if val not in (sympy.true, True):
            raise AssertionError(f"z3 counterexample {counterexample} violates assumption {a} ({val})")
    val = conclusion.subs(subs)
    if val not in (sympy.false, False):
        raise AssertionError(f"z3 counterexample {counterexample} does not violate {conclusion} ({val})")


def _solver(ctx: z3.Context, rlimit: int) -> z3.Solver:
    """A solver in ``ctx`` with the deterministic settings :data:`Z3_SETTINGS` and a resource limit.

    The bound is z3's ``rlimit`` (a count of internal operations), not a wall-clock
    timeout, so whether a query is decided never depends on the machine's load.
    """
    solver = z3.Solver(ctx=ctx)
    for key, value in Z3_SETTINGS.items():
        solver.set(key, value)
    solver.set("rlimit", rlimit)
    return solver


def prove_step(name: str, variables, assumptions, conclusion, *,
               timeout_ms: int = DEFAULT_TIMEOUT_MS) -> ObligationResult:
    """Decide "for all reals ``variables`` with ``assumptions``, ``conclusion``" with z3.

    ``variables``: names or real sympy Symbols; ``assumptions``: an iterable of
    sympy booleans (relations, And/Or/...); ``conclusion``: a sympy boolean.
    Returns an :class:`ObligationResult`; see the module docstring for the verdicts.
    """
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"name must be a non-empty string, got {name!r}; pass e.g. 'B5-(27)'.")
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
        raise InvalidArgument(f"timeout_ms must be a positive int, got {timeout_ms!r}; pass e.g. 20000.")
    _check_translator()
    symbols = _as_symbols(variables)
    if isinstance(assumptions, (str, sympy.Basic, bool)) or not isinstance(assumptions, Iterable):
        raise InvalidArgument(
            f"assumptions must be a list of sympy booleans, got {assumptions!r}; wrap a single "
            f"assumption in a list, e.g. [x >= 0]."
        )
    assumptions = tuple(_to_sympy(a, "assumption") for a in assumptions)
    conclusion = _to_sympy(conclusion, "conclusion")
    # a fresh context per obligation: the query text, the model and the verdict depend only on
    # this obligation, never on what else ran in the process (a Dask worker runs many)
    for key, value in Z3_GLOBAL_SETTINGS.items():
        z3.set_param(key, value)
    ctx = z3.Context()
    tr = _Translator(symbols, ctx)
    z_assume = [tr(a) for a in assumptions]
    z_concl = tr(conclusion)
    rlimit = timeout_ms * RLIMIT_PER_MS

    start = time.perf_counter()
    solver = _solver(ctx, rlimit)
    solver.add(*z_assume)
    solver.add(z3.Not(z_concl))
    query = solver.to_smt2()
    status = solver.check()
    counterexample, vacuous = None, False
    if status == z3.unsat:
        verdict = "PROVED"
        vac = _solver(ctx, rlimit)
        vac.add(*z_assume)
        vacuous = vac.check() == z3.unsat
    elif status == z3.sat:
        verdict = "REFUTED"
        model = solver.model()
        counterexample = {s.name: _model_value(model, tr.vars[s.name])
                          for s in sorted(symbols, key=lambda s: s.name)}
        _replay(counterexample, symbols, assumptions, conclusion)
    else:
        verdict = "UNKNOWN"
    return ObligationResult(name, verdict, counterexample, query, time.perf_counter() - start, vacuous)


def check_obligation(step: Obligation, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> ObligationResult:
    """Decide one :class:`Obligation`."""
    if not isinstance(step, Obligation):
        raise InvalidArgument(
            f"expected an Obligation, got {type(step).__name__} {step!r}; take one from "
            f"B5_STEPS or B7_STEPS or build one with Obligation(...)."
        )
    return step.check(timeout_ms=timeout_ms)


def check_steps(steps, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[ObligationResult]:
    """Decide every obligation of ``steps`` (all of them; none stops the others)."""
    if isinstance(steps, Obligation) or not isinstance(steps, Iterable):
        raise InvalidArgument(
            f"steps must be a list of Obligation, got {steps!r}; pass e.g. B5_STEPS or [B5_STEPS[0]]."
        )
    return [check_obligation(s, timeout_ms=timeout_ms) for s in steps]


def get_step(name: str) -> Obligation:
    """The obligation of :data:`B5_STEPS` or :data:`B7_STEPS` called ``name``."""
    every = (*__getattr__("B5_STEPS"), *__getattr__("B7_STEPS"))
    for s in every:
        if s.name == name:
            return s
    known = ", ".join(s.name for s in every)
    raise InvalidArgument(f"unknown obligation {name!r}; known: {known}.")


# --------------------------------------------------------------------------- Prop. B.5

_R = dict(real=True)
g1, g2, d1, d2, Lc = sympy.symbols("g1 g2 d1 d2 Lc", **_R)          # gbar, Dbar, Lipschitz constant
j11, j12, j21, j22 = sympy.symbols("j11 j12 j21 j22", **_R)         # J (2 params x 2 units)
j1, j2, v1, v2 = sympy.symbols("j1 j2 v1 v2", **_R)                  # J with one shared parameter; v
gb, db = sympy.symbols("gbar Dbar", **_R)                            # one coordinate


def _within28(g, d):
    """Bounds (28) for one coordinate: 2(gbar - L) <= Dbar <= 2(gbar + L)."""
    return [2 * (g - Lc) <= d, d <= 2 * (g + Lc)]


def _b5_steps() -> list[Obligation]:
    steps: list[Obligation] = []
    J = sympy.Matrix([[j11, j12], [j21, j22]])
    gv, dv = sympy.Matrix([g1, g2]), sympy.Matrix([d1, d2])
    lhs = ((J * dv).T * (J * gv))[0, 0]
    steps.append(Obligation(
        "B5-(25)-trace", "(25)", "both",
        "<J Dbar, J gbar> = Tr(J gbar Dbar^T J^T) for every J (2 parameters x 2 units)",
        (g1, g2, d1, d2, j11, j12, j21, j22), (),
        sympy.Eq(lhs, (J * gv * dv.T * J.T).trace()),
    ))

    xi, Lp, Lm, I = sympy.symbols("xi Lplus Lminus I", **_R)
    L_at = sympy.Piecewise((Lp, sympy.Eq(xi, 1)), (Lm, True))
    L_flip = sympy.Piecewise((Lm, sympy.Eq(xi, 1)), (Lp, True))
    steps.append(Obligation(
        "B5-(26)", "(26)", "both",
        "x_i (L(x) - L(x_flip_i)) = int_{-1}^{1} g_i dx_i for x_i in {-1, 1} "
        "(the integral is L(x_i=1) - L(x_i=-1) by the fundamental theorem of calculus, assumed)",
        (xi, Lp, Lm, I), (sympy.Or(sympy.Eq(xi, 1), sympy.Eq(xi, -1)), sympy.Eq(I, Lp - Lm)),
        sympy.Eq(xi * (L_at - L_flip), I),
    ))

    t = sympy.Symbol("t", real=True)
    # int_{-1}^{1} |t - x_i| dt for x_i = +-1: the Lipschitz budget of (27); = 2 (sympy)
    m_plus = sympy.integrate(sympy.Abs(t - 1), (t, -1, 1))
    m_minus = sympy.integrate(sympy.Abs(t + 1), (t, -1, 1))
    assert m_plus == m_minus == 2
    g, D, E = sympy.symbols("g Delta E", **_R)
    steps.append(Obligation(
        "B5-(27)", "(27)", "both",
        "Delta_i = 2 g_i(x) + E with |E| <= L int_{-1}^{1}|t - x_i| dt = 2L (Lipschitz in x_i) "
        "implies 2(g_i(x) - L) <= Delta_i <= 2(g_i(x) + L)",
        (g, D, E, Lc), (Lc >= 0, sympy.Eq(D, 2 * g + E), sympy.Abs(E) <= Lc * m_plus),
        sympy.And(2 * (g - Lc) <= D, D <= 2 * (g + Lc)),
    ))

    ps = sympy.symbols("p1:5", **_R)
    gs = sympy.symbols("gx1:5", **_R)
    ds = sympy.symbols("Dx1:5", **_R)
    assume = [p >= 0 for p in ps] + [sympy.Eq(sum(ps), 1), Lc >= 0]
    for gk, dk in zip(gs, ds):
        assume += [2 * (gk - Lc) <= dk, dk <= 2 * (gk + Lc)]
    Eg = sum(p * gk for p, gk in zip(ps, gs))
    Ed = sum(p * dk for p, dk in zip(ps, ds))
    steps.append(Obligation(
        "B5-(28)", "(28)", "both",
        "the pointwise bounds (27) at the 4 states of two units give 2(E[g_i] - L) <= E[Delta_i] "
        "<= 2(E[g_i] + L) (expectation of the bounds)",
        (*ps, *gs, *ds, Lc), tuple(assume), sympy.And(2 * (Eg - Lc) <= Ed, Ed <= 2 * (Eg + Lc)),
    ))

    steps.append(Obligation(
        "B5-(29)", "(29)", "both",
        "if gbar_i >= 0 and 2(|gbar_i| - L) >= 0 then gbar_i Dbar_i >= 0 under (28)",
        (gb, db, Lc), (Lc >= 0, gb >= 0, 2 * (sympy.Abs(gb) - Lc) >= 0, *_within28(gb, db)),
        gb * db >= 0,
    ))
    steps.append(Obligation(
        "B5-(30)-printed", "(30)", "printed",
        "as extracted: if gbar_i < 0 and 2(|gbar_i| + L) <= 0 then gbar_i Dbar_i >= 0 under (28)",
        (gb, db, Lc), (Lc >= 0, gb < 0, 2 * (sympy.Abs(gb) + Lc) <= 0, *_within28(gb, db)),
        gb * db >= 0,
        note="holds only vacuously: 2(|gbar_i| + L) <= 0 is impossible for gbar_i < 0, L >= 0; "
             "possibly a sign lost in the PDF extraction (2(-|gbar_i| + L) <= 0 is the reconstruction)",
    ))
    steps.append(Obligation(
        "B5-(30)-reconstructed", "(30)", "reconstructed",
        "if gbar_i < 0 and 2(gbar_i + L) <= 0 (the upper bound of (28) is <= 0) then gbar_i Dbar_i >= 0",
        (gb, db, Lc), (Lc >= 0, gb < 0, 2 * (gb + Lc) <= 0, *_within28(gb, db)),
        gb * db >= 0,
    ))
    steps.append(Obligation(
        "B5-(29)-(30)-summary", "(29)-(30)", "both",
        "'or simply |gbar_i| >= L': |gbar_i| >= L implies gbar_i Dbar_i >= 0 under (28)",
        (gb, db, Lc), (Lc >= 0, sympy.Abs(gb) >= Lc, *_within28(gb, db)),
        gb * db >= 0,
    ))
    steps.append(Obligation(
        "B5-(23)-coordinate", "(23)", "printed",
        "condition (23) as printed, E[g_i] > L, gives a strictly positive coordinate gbar_i Dbar_i > 0",
        (gb, db, Lc), (Lc >= 0, gb > Lc, *_within28(gb, db)),
        gb * db > 0,
    ))
    steps.append(Obligation(
        "B5-psd-outer-product-printed", "text after (28)", "printed",
        "'the outer product gbar Dbar^T is positive semidefinite iff gbar_i Dbar_i >= 0 for all i' "
        "(if-direction): gbar_i Dbar_i >= 0 for i = 1, 2 implies v^T gbar Dbar^T v >= 0 for all v",
        (g1, g2, d1, d2, v1, v2), (g1 * d1 >= 0, g2 * d2 >= 0),
        (v1 * g1 + v2 * g2) * (v1 * d1 + v2 * d2) >= 0,
        note="false: a rank-one gbar Dbar^T is PSD iff Dbar = c gbar with c >= 0",
    ))
    c0 = sympy.Symbol("c", real=True)
    steps.append(Obligation(
        "B5-psd-outer-product-reconstructed", "text after (28)", "reconstructed",
        "a rank-one gbar Dbar^T is positive semidefinite (v^T gbar Dbar^T v >= 0 for all v) when "
        "Dbar = c gbar with c >= 0 (and only then, for gbar, Dbar != 0)",
        (g1, g2, c0, v1, v2), (c0 >= 0,),
        (v1 * g1 + v2 * g2) * (v1 * c0 * g1 + v2 * c0 * g2) >= 0,
    ))
    cond23 = [Lc >= 0, g1 > Lc, g2 > Lc, *_within28(g1, d1), *_within28(g2, d2)]
    steps.append(Obligation(
        "B5-sufficiency-printed", "(23)-(30)", "printed",
        "sufficiency for any a(phi): (23) for i = 1, 2 and (28) imply <J Dbar, J gbar> >= 0, "
        "here for one parameter shared by two units (J = (j1, j2))",
        (g1, g2, d1, d2, Lc, j1, j2), tuple(cond23),
        (j1 * d1 + j2 * d2) * (j1 * g1 + j2 * g2) >= 0,
        note="false when units share a parameter; see coupled_counterexample('B5')",
    ))
    steps.append(Obligation(
        "B5-sufficiency-reconstructed", "(23)-(30)", "reconstructed",
        "sufficiency when every parameter drives a single unit (J diagonal): (29)-(30) imply "
        "<J Dbar, J gbar> = sum_i J_ii^2 gbar_i Dbar_i >= 0",
        (g1, g2, d1, d2, Lc, j11, j22),
        (Lc >= 0, sympy.Abs(g1) >= Lc, sympy.Abs(g2) >= Lc, *_within28(g1, d1), *_within28(g2, d2)),
        (j11 * d1) * (j11 * g1) + (j22 * d2) * (j22 * g2) >= 0,
    ))
    # necessity: "if (23) fails there is L(x) (bounds (27) tight) with gbar_i Dbar_i < 0";
    # since gbar Dbar is linear in Dbar, a Dbar in the interval (28) with gbar Dbar < 0 exists
    # iff one of the two endpoints gives gbar * endpoint < 0.
    exists_negative = sympy.Or(gb * 2 * (gb - Lc) < 0, gb * 2 * (gb + Lc) < 0)
    steps.append(Obligation(
        "B5-necessity-printed", "(23)", "printed",
        "only-if with (23) as printed: E[g_i] > L fails (excluding the boundary cases gbar_i = 0, "
        "|gbar_i| = L) implies some Dbar_i allowed by (28) has gbar_i Dbar_i < 0",
        (gb, Lc), (Lc > 0, sympy.Not(gb > Lc), sympy.Ne(gb, 0), sympy.Ne(sympy.Abs(gb), Lc)),
        exists_negative,
        note="false for gbar_i < -L: (23) should read |E[g_i]| >= L, as the proof's own summary "
             "'(for all i) |gbar_i| >= L' does (the bars may have been lost in the PDF extraction)",
    ))
    steps.append(Obligation(
        "B5-necessity-reconstructed", "(23)", "reconstructed",
        "only-if with |E[g_i]| >= L: if 0 < |gbar_i| < L some Dbar_i allowed by (28) has gbar_i Dbar_i < 0",
        (gb, Lc), (Lc > 0, sympy.Abs(gb) < Lc, sympy.Ne(gb, 0)),
        exists_negative,
    ))
    _check_sharpness(steps)
    return steps


#: Reconstructed steps whose printed words claim the hypothesis is sharp ("and only then"): name -> (the witness
#: substitution, the non-degeneracy assumptions).  Where the step's hypotheses fail (and the non-degeneracy holds) the
#: conclusion must fail at the witness: a proved step only shows the hypotheses suffice, so a hypothesis stronger than
#: the stated boundary (e.g. ``c >= 1`` for ``c >= 0``) would still be proved; this audit sees it.
SHARP_STEPS: dict[str, tuple[dict, tuple]] = {
    # v = gbar: v^T gbar (c gbar)^T v = c |gbar|^4 < 0 for c < 0, gbar != 0
    "B5-psd-outer-product-reconstructed": ({v1: g1, v2: g2}, (g1**2 + g2**2 > 0,)),
}


def _check_sharpness(steps: Sequence[Obligation], timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """z3: for each step of :data:`SHARP_STEPS`, ``not(hypotheses) and non-degeneracy => not(conclusion at the
    witness)``.  Raises :class:`~stecheck.errors.SelfCheckFailed` unless z3 proves it (the step's hypotheses are not
    the sharp ones its words state, so its verdict would be about another statement)."""
    for obl in steps:
        if obl.name not in SHARP_STEPS:
            continue
        witness, nondegenerate = SHARP_STEPS[obl.name]
        res = prove_step(f"{obl.name}: sharpness", obl.variables,
                         (sympy.Not(sympy.And(*obl.assumptions)), *nondegenerate),
                         sympy.Not(obl.conclusion.xreplace(witness)), timeout_ms=timeout_ms)
        if res.verdict != "PROVED":
            raise SelfCheckFailed(
                f"{obl.name}: its hypotheses {[str(a) for a in obl.assumptions]} are not sharp: z3 {res.verdict} on "
                f"'hypotheses false and {[str(a) for a in nondegenerate]} => conclusion false at {witness}' (model "
                f"{res.counterexample}); the words state '{obl.asserts}'. Fix the step's hypotheses in "
                "theory/obligations.py.")


# --------------------------------------------------------------------------- Prop. B.7


def _b7_steps() -> list[Obligation]:
    steps: list[Obligation] = []
    e1, e2, s1, s2 = sympy.symbols("Eg1 Eg2 gs1 gs2", **_R)   # E[g(x)], g* = g(x*)
    J = sympy.Matrix([[j11, j12], [j21, j22]])
    ev, sv = sympy.Matrix([e1, e2]), sympy.Matrix([s1, s2])
    lhs = ((J * ev).T * (J * sv))[0, 0]
    steps.append(Obligation(
        "B7-(35)-printed", "(35)", "printed",
        "as extracted: <J E[g], J g*> = Tr(E[g] g*^T J^T) (J square, 2x2, so the product is defined)",
        (e1, e2, s1, s2, j11, j12, j21, j22), (),
        sympy.Eq(lhs, (ev * sv.T * J.T).trace()),
        note="one J is missing in the extracted text; possibly an extraction artifact",
    ))
    steps.append(Obligation(
        "B7-(35)-reconstructed", "(35)", "reconstructed",
        "<J E[g], J g*> = Tr(J E[g] g*^T J^T)",
        (e1, e2, s1, s2, j11, j12, j21, j22), (),
        sympy.Eq(lhs, (J * ev * sv.T * J.T).trace()),
    ))
    steps.append(Obligation(
        "B7-(35)-coordinatewise-printed", "text after (35)", "printed",
        "'for it to be non-negative we need E[g_i] g*_i >= 0 for all i', used as sufficient: "
        "E[g_i] g*_i >= 0 (i = 1, 2) implies <J E[g], J g*> >= 0 for one shared parameter",
        (e1, e2, s1, s2, j1, j2), (e1 * s1 >= 0, e2 * s2 >= 0),
        (j1 * e1 + j2 * e2) * (j1 * s1 + j2 * s2) >= 0,
        note="false when units share a parameter (same gap as Prop. B.5)",
    ))

    steps.append(Obligation(
        "B7-(35)-coordinatewise-reconstructed", "text after (35)", "reconstructed",
        "E[g_i] g*_i >= 0 (i = 1, 2) implies <J E[g], J g*> >= 0 when every parameter drives a "
        "single unit (J diagonal)",
        (e1, e2, s1, s2, j11, j22), (e1 * s1 >= 0, e2 * s2 >= 0),
        (j11 * e1) * (j11 * s1) + (j22 * e2) * (j22 * s2) >= 0,
    ))

    ps = sympy.symbols("p1:5", **_R)      # p(x|a) at the 4 states; state 1 is x*
    gx = sympy.symbols("gx1:5", **_R)      # g_i at the 4 states
    Eg = sum(p * gk for p, gk in zip(ps, gx))
    steps.append(Obligation(
        "B7-(36)", "(36)", "both",
        "E[g_i] g*_i = sum_{x != x*} p(x|a) g(x)_i g*_i + p* g*_i^2 (4 states, x* = state 1)",
        (*ps, *gx), (),
        sympy.Eq(Eg * gx[0], sum(p * gk * gx[0] for p, gk in zip(ps[1:], gx[1:])) + ps[0] * gx[0] ** 2),
    ))

    # (37): g_1 of two units as a bilinear function A + B x1 + C x2 + D x1 x2 on [-1, 1]^2
    # (realized by L(x) = A x1 + B x1^2/2 + C x1 x2 + D x1^2 x2/2); x* = (1, 1).
    A, B, C, D = sympy.symbols("A B C D", **_R)
    corners = [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    gfun = lambda x1, x2: A + B * x1 + C * x2 + D * x1 * x2  # noqa: E731
    star = (1, 1)
    # ell-infinity Lipschitz constant of a bilinear function: max over corners of |dg/dx1| + |dg/dx2|
    lip_inf = [sympy.Abs(B + D * x2) + sympy.Abs(C + D * x1) <= Lc for x1, x2 in corners]
    # Lipschitz in x_1 alone (the hypothesis of Prop. B.5): |dg/dx1| <= L on the square
    lip_x1 = [sympy.Abs(B + D * x2) <= Lc for _, x2 in corners]
    printed37 = sympy.And(*[sympy.Abs(gfun(*x) - gfun(*star)) <= Lc * abs(x[0] - star[0]) for x in corners])
    bounds37 = sympy.And(*[sympy.And(gfun(*star) - 2 * Lc <= gfun(*x), gfun(*x) <= gfun(*star) + 2 * Lc)
                           for x in corners])
    steps.append(Obligation(
        "B7-(37)-lipschitz-printed", "(37)", "printed",
        "g_i Lipschitz with constant L (even in all of x, infinity norm) implies "
        "|g(x)_i - g*_i| <= L |x_i - x*_i| at every state",
        (A, B, C, D, Lc), (Lc >= 0, *lip_inf), printed37,
        note="false: g_i also changes with x_j, j != i (e.g. L(x) = x1 x2, g_1 = x2)",
    ))
    xd = sympy.Symbol("xdiff", real=True)
    gg, gs_ = sympy.symbols("g gstar", **_R)
    steps.append(Obligation(
        "B7-(37)-bounds-from-printed", "(37)", "printed",
        "from |g(x)_i - g*_i| <= L |x_i - x*_i| and |x_i - x*_i| <= 2: g*_i - 2L <= g(x)_i <= g*_i + 2L",
        (gg, gs_, Lc, xd), (Lc >= 0, sympy.Abs(xd) <= 2, sympy.Abs(gg - gs_) <= Lc * sympy.Abs(xd)),
        sympy.And(gs_ - 2 * Lc <= gg, gg <= gs_ + 2 * Lc),
    ))
    steps.append(Obligation(
        "B7-(37)-coordinate-lipschitz", "(37)", "printed",
        "with Prop. B.5's hypothesis (g_i Lipschitz in x_i only) the bounds (37) "
        "g*_i - 2L <= g(x)_i <= g*_i + 2L hold at every state",
        (A, B, C, D, Lc), (Lc >= 0, *lip_x1), bounds37,
        note="false: the hypothesis must bound the change of g_i in all coordinates",
    ))
    steps.append(Obligation(
        "B7-(37)-reconstructed", "(37)", "reconstructed",
        "g_i L-Lipschitz in x for the infinity norm (|x - x*|_inf <= 2 on the cube) implies "
        "g*_i - 2L <= g(x)_i <= g*_i + 2L at every state",
        (A, B, C, D, Lc), (Lc >= 0, *lip_inf), bounds37,
    ))
    steps.append(Obligation(
        "B7-(38)", "(38)", "both",
        "(37) implies g(x)_i g*_i >= g*_i^2 - 2L|g*_i|",
        (gg, gs_, Lc), (Lc >= 0, gs_ - 2 * Lc <= gg, gg <= gs_ + 2 * Lc),
        gg * gs_ >= gs_**2 - 2 * Lc * sympy.Abs(gs_),
    ))
    assume39 = [p >= 0 for p in ps] + [sympy.Eq(sum(ps), 1), Lc >= 0]
    assume39 += [gk * gx[0] >= gx[0] ** 2 - 2 * Lc * sympy.Abs(gx[0]) for gk in gx[1:]]
    lower39 = sum(p * (sympy.Abs(gx[0]) - 2 * Lc) * sympy.Abs(gx[0]) for p in ps[1:]) + ps[0] * gx[0] ** 2
    steps.append(Obligation(
        "B7-(39)-bound", "(39)", "both",
        "(38) at every x != x* lower-bounds (36) by sum_{x != x*} p(x|a)(|g*_i| - 2L)|g*_i| + p* g*_i^2",
        (*ps, *gx, Lc), tuple(assume39),
        Eg * gx[0] >= lower39,
    ))
    steps.append(Obligation(
        "B7-(39)-identity", "(39)", "both",
        "sum_{x != x*} p(x|a)(|g*_i| - 2L)|g*_i| + p* g*_i^2 = -2L|g*_i|(1 - p*) + g*_i^2",
        (*ps, gx[0], Lc), (sympy.Eq(sum(ps), 1),),
        sympy.Eq(lower39, -2 * Lc * sympy.Abs(gx[0]) * (1 - ps[0]) + gx[0] ** 2),
    ))
    pst = sympy.Symbol("pstar", real=True)
    steps.append(Obligation(
        "B7-(40)", "(40)", "both",
        "|g*_i| >= 2L(1 - p*) implies -2L|g*_i|(1 - p*) + g*_i^2 >= 0",
        (gs_, Lc, pst), (Lc >= 0, pst >= 0, pst <= 1, sympy.Abs(gs_) >= 2 * Lc * (1 - pst)),
        -2 * Lc * sympy.Abs(gs_) * (1 - pst) + gs_**2 >= 0,
    ))
    # whole argument at the level of expectations: E[g_i] = p* g*_i + (1 - p*) r_i with r_i the
    # conditional mean over x != x*, which (37) puts in [g*_i - 2L, g*_i + 2L]
    r1, r2 = sympy.symbols("r1 r2", **_R)
    # x* = sign(a) is the mode of every unit, so p* >= 2^-n = 1/4 for two units
    whole = [Lc >= 0, pst >= sympy.Rational(1, 4), pst <= 1,
             sympy.Abs(s1) >= 2 * Lc * (1 - pst), sympy.Abs(s2) >= 2 * Lc * (1 - pst),
             s1 - 2 * Lc <= r1, r1 <= s1 + 2 * Lc, s2 - 2 * Lc <= r2, r2 <= s2 + 2 * Lc,
             sympy.Eq(e1, pst * s1 + (1 - pst) * r1), sympy.Eq(e2, pst * s2 + (1 - pst) * r2)]
    steps.append(Obligation(
        "B7-sufficiency-printed", "(34)", "printed",
        "(34) for i = 1, 2 and (37) imply <J E[g], J g*> >= 0, for one parameter shared by two units",
        (e1, e2, s1, s2, r1, r2, Lc, pst, j1, j2), tuple(whole),
        (j1 * e1 + j2 * e2) * (j1 * s1 + j2 * s2) >= 0,
        note="false when units share a parameter; see coupled_counterexample('B7')",
    ))
    steps.append(Obligation(
        "B7-sufficiency-reconstructed", "(34)", "reconstructed",
        "(34) and (37) imply <J E[g], J g*> >= 0 when every parameter drives a single unit (J diagonal)",
        (e1, e2, s1, s2, r1, r2, Lc, pst, j11, j22), tuple(whole),
        (j11 * e1) * (j11 * s1) + (j22 * e2) * (j22 * s2) >= 0,
    ))
    return steps


_STEP_BUILDERS = {"B5_STEPS": _b5_steps, "B7_STEPS": _b7_steps}
_STEPS: dict[str, tuple[Obligation, ...]] = {}


def __getattr__(name: str):
    """``B5_STEPS`` (Prop. B.5, eqs. (23)-(30)) and ``B7_STEPS`` (Prop. B.7, eqs. (34)-(40)):
    tuples of :class:`Obligation`, printed and reconstructed; built on first access (not at import)."""
    if name in _STEP_BUILDERS:
        if name not in _STEPS:
            _STEPS[name] = tuple(_STEP_BUILDERS[name]())
        return _STEPS[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- concrete counterexamples


def _check_gradient_at_states(loss, loss_grad, where: str) -> None:
    """Raise :class:`~stecheck.errors.SelfCheckFailed` unless ``loss_grad(x)`` equals the central difference
    ``(L(x + h e_i) - L(x - h e_i)) / (2h)``, ``h = 1e-4``, within ``1e-9`` (absolute) at each of the four states
    of ``{-1, 1}^2``.  For a quadratic ``loss`` the difference quotient is exact up to rounding, about
    ``4 |L| 2^-53 / h <= 1e-11`` for ``|L| <= 4`` on the cube: ``1e-9`` leaves a factor 100 and still refuses any
    gradient wrong in the ninth decimal (before session 13: ``1e-6``)."""
    import numpy as np

    h = 1e-4
    for x in ([-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]):
        x = np.array(x)
        fd = np.array([(loss(x + h * e) - loss(x - h * e)) / (2 * h) for e in np.eye(2)])
        if not np.all(np.abs(fd - loss_grad(x)) <= 1e-9):
            raise SelfCheckFailed(f"{where}: loss_grad({x.tolist()}) = {loss_grad(x).tolist()} but the central "
                                  f"difference of the loss gives {fd.tolist()} (expected agreement within 1e-9); "
                                  "the loss and its gradient in theory/obligations.py disagree.")


def coupled_counterexample(prop: str) -> dict[str, Any]:
    """A loss and a shared-parameter ``a(phi)`` refuting Prop. B.5 or B.7 as printed.

    Both use logistic noise ``F(z) = sigmoid(2z)`` (:mod:`theory.noise`) and two
    units driven by one parameter, ``a(phi) = a0 + c phi``; all gradients are in
    ``phi`` at ``phi = 0`` and computed by exact enumeration of the 4 states:

    * ``'B5'``: ``L(x) = 1.2 x1 + x2 + x2^2/2``; ``g = (1.2, 1 + x2)``, Lipschitz
      constant 1 in each ``x_i``, ``E[g] = (1.2, 1.9) > 1`` so (23) holds, yet
      the true gradient (central differences of ``E[L]``) and the expected ST
      gradient (Alg. 1) have a negative scalar product.
    * ``'B7'``: ``L(x) = 1.1 x1 + x2 + x2^2/2``; ``g`` is 1-Lipschitz in ``x``
      (any norm), (34) holds at ``x* = (1, 1)``, yet the deterministic ST
      gradient ``2 F'(a) g(x*)`` and the expected ST gradient have a negative
      scalar product.

    Returns a dict of the inputs, the condition's margins and the scalar product.
    """
    import numpy as np

    from . import enumeration as en
    from .noise import NOISE_FAMILIES

    if prop not in ("B5", "B7"):
        raise InvalidArgument(f"prop must be 'B5' or 'B7', got {prop!r}.")
    pdf, cdf, icdf = NOISE_FAMILIES["logistic"].numpy_functions()
    lip = 1.0
    if prop == "B5":
        alpha, probs, v = 1.2, (0.5, 0.95), np.array([1.0, -1.0])
    else:
        alpha, probs, v = 1.1, (0.95, 0.55), np.array([1.0, -0.8])

    def loss(x):
        return alpha * x[0] + x[1] + x[1] ** 2 / 2

    def loss_grad(x):
        return np.array([alpha, 1.0 + x[1]])

    # the loss enters E[L] only through its values on the states {-1, 1}^2, where x2^2 = 1, so its non-multilinear
    # part (the point of the counterexample) is checked here: loss_grad must be dL/dx at the four states
    _check_gradient_at_states(loss, loss_grad, f"coupled_counterexample({prop!r})")
    a0 = np.array([float(icdf(p)) for p in probs])
    c = v / pdf(a0)                       # J = c * F'(a0) is proportional to v
    st_a = en.expected_st(loss_grad, a0, cdf, pdf)          # Alg. 1, gradient in a
    st_phi = float(c @ st_a)
    X, P = en.state_probabilities(a0, cdf)
    Eg = sum(p * loss_grad(x) for x, p in zip(X, P))
    out = {"loss": f"{alpha} x1 + x2 + x2**2/2", "lipschitz": lip, "a0": a0.tolist(),
           "dadphi": c.tolist(), "E_g": Eg.tolist(), "st_phi": st_phi}
    if prop == "B5":
        true_phi = float(c @ en.exact_gradient_fd(loss, a0, cdf))
        out |= {"condition_23_margin": float(np.min(Eg - lip)), "true_phi": true_phi,
                "scalar_product": true_phi * st_phi}
    else:
        xstar = np.sign(a0)
        pstar = float(np.prod(np.where(xstar > 0, cdf(a0), 1 - cdf(a0))))
        gstar = loss_grad(xstar)
        det_phi = float(c @ (2 * pdf(a0) * gstar))
        out |= {"x_star": xstar.tolist(), "p_star": pstar, "g_star": gstar.tolist(),
                "condition_34_margin": float(np.min(np.abs(gstar) - 2 * (1 - pstar) * lip)),
                "det_phi": det_phi, "scalar_product": det_phi * st_phi}
    return out
