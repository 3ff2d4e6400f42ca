"""SBN-B1: invariance of Alg. 1 under strictly monotone transforms (Prop. B.1, eq. (19)).

Model: ``x = sign(a - z)`` with noise cdf ``F``.  For a transform ``T`` put
``z~ = T(z)``, ``a~ = T(a)`` and let ``G`` be the cdf of ``z~``.  Prop. B.1
says (i) the binary state is unchanged, ``sign(a - z) = sign(T(a) - T(z))``,
so the sampling probability ``G(a~) = F(a)`` is unchanged, and (ii) the ST
backward factor w.r.t. ``a``, ``2 G'(T(a)) T'(a)``, equals ``2 F'(a)``.
In contrast a hand-designed proxy ``d`` used as ``d(T(a)) T'(a)`` changes.

The printed statement says "strictly monotone"; a strictly *decreasing* ``T``
reverses every sign, so (19) holds for strictly increasing ``T`` only.  The
claim has three readings (increasing, decreasing, either) and a verdict for
each; the generic-T parts are proved by z3 (uninterpreted ``T`` with a
monotonicity on the pair {a, z}, which is all (19) involves) and sympy (generic ``F``, ``T``, ``T^{-1}``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy

from stecheck.numerics.noise import get_noise as numeric_noise
from stecheck.theory.noise import NOISE_FAMILIES, Z

from ..claim import Claim, Figure, Kind, Method, MethodContext, Outcome, Reading, Series
from ..verdict import Category, Finding, Scope, Verdict
from ._common import SbnSource

__all__ = ["CLAIMS", "Transform", "INCREASING", "DECREASING", "check_samples_unchanged"]

A = sympy.Symbol("a", real=True)
T_ = sympy.Symbol("t", real=True)


@dataclass(frozen=True)
class Transform:
    """A map ``T`` with a symbolic inverse (``None`` if it has none in closed form)."""

    name: str
    expr: sympy.Expr  # in A
    inverse: sympy.Expr | None  # in T_

    def numpy(self):
        return sympy.lambdify(A, self.expr, "numpy")

    def derivative_numpy(self):
        return sympy.lambdify(A, sympy.diff(self.expr, A), "numpy")


INCREASING = (
    Transform("3a+1", 3 * A + 1, (T_ - 1) / 3),
    Transform("exp(a)", sympy.exp(A), sympy.log(T_)),
    Transform("atan(a)", sympy.atan(A), sympy.tan(T_)),
    Transform("softplus(a)", sympy.log(1 + sympy.exp(A)), sympy.log(sympy.exp(T_) - 1)),
)
DECREASING = (
    Transform("-a", -A, -T_),
    Transform("exp(-a)", sympy.exp(-A), -sympy.log(T_)),
)
#: Not monotone at all: a deliberately false premise for mutant tests.
NON_MONOTONE = (Transform("a^2", A**2, None), Transform("sin(3a)", sympy.sin(3 * A), None))

_GRID = np.linspace(-2.25, 2.25, 10)  # avoids the kinks of the uniform (|a| = 1) and triangular (|a| = 2) cdfs


def _is_zero(expr: sympy.Expr, rng: np.random.Generator) -> bool | None:
    """True if sympy simplifies ``expr`` to 0; False if it is numerically non-zero somewhere; else None."""
    if sympy.simplify(expr) == 0:
        return True
    f = sympy.lambdify(A, expr, "mpmath")
    for value in rng.uniform(-2, 2, size=8):
        if abs(complex(f(float(value)))) > 1e-9:
            return False
    return None


def check_symbolic_transforms(ctx: MethodContext, *, noises=("logistic", "gaussian"),
                              transforms=INCREASING) -> Outcome:
    """For each noise F and transform T: G = F o T^{-1}; show G(T(a)) = F(a) and 2 G'(T(a)) T'(a) = 2 F'(a)."""
    rng = ctx.rng()
    rows, failures, undecided = [], [], []
    for noise in noises:
        fam = NOISE_FAMILIES[noise]
        F = fam.cdf.subs(Z, A)
        for T in transforms:
            G = fam.cdf.subs(Z, T.inverse)  # cdf of T(z) at level t
            prob_diff = G.subs(T_, T.expr) - F
            grad_diff = 2 * sympy.diff(G, T_).subs(T_, T.expr) * sympy.diff(T.expr, A) - 2 * sympy.diff(F, A)
            p_ok, g_ok = _is_zero(prob_diff, rng), _is_zero(grad_diff, rng)
            rows.append({"noise": noise, "T": T.name, "probability_unchanged": p_ok, "backward_unchanged": g_ok})
            if p_ok is False or g_ok is False:
                failures.append(rows[-1])
            elif p_ok is None or g_ok is None:
                undecided.append(rows[-1])
    if failures:
        return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=failures[0])
    verdict = Verdict.INCONCLUSIVE if undecided else Verdict.PROVED
    return Outcome(verdict, {"instances": rows, "undecided": undecided,
                             "method": "sympy.simplify of G(T(a)) - F(a) and 2G'(T(a))T'(a) - 2F'(a) to 0"})


def z3_sign_obligation(direction: str = "increasing") -> dict:
    """z3 with an *uninterpreted* T: R -> R, monotone on the pair {a, z}: is sign(a - z) = sign(T(a) - T(z))
    for all reals a, z?

    ``direction``: ``"increasing"`` (u < v => T(u) < T(v)), ``"decreasing"`` (u < v => T(u) > T(v)) or
    ``"non-decreasing"`` (u <= v => T(u) <= T(v); a false premise for mutants).  The negated statement is
    asserted; ``unsat`` proves (19) for *every* T of that kind (generic T, no instance chosen), ``sat`` gives a
    counterexample (a, z and T's values at them).  A fresh ``z3.Context`` per call and fixed solver settings make
    the query text and the verdict independent of whatever else ran in the process.
    """
    import z3

    zctx = z3.Context()
    R = z3.RealSort(zctx)
    T = z3.Function("T", R, R)
    a, z = z3.Real("a", zctx), z3.Real("z", zctx)
    # monotonicity of T on the pair {a, z}: the statement involves T only at a and z, and any two values
    # ordered this way extend (linearly) to a T of that kind on all of R, so the pair is all that matters
    strict = {"increasing": lambda u, v: z3.Implies(u < v, T(u) < T(v)),
              "decreasing": lambda u, v: z3.Implies(u < v, T(u) > T(v)),
              "non-decreasing": lambda u, v: z3.Implies(u <= v, T(u) <= T(v))}[direction]
    premise = z3.And(strict(a, z), strict(z, a))

    def sgn(e):
        return z3.If(e > 0, z3.RealVal(1, zctx), z3.If(e < 0, z3.RealVal(-1, zctx), z3.RealVal(0, zctx)))

    solver = z3.Solver(ctx=zctx)
    solver.set("random_seed", 0)
    solver.set("timeout", 20_000)
    solver.add(premise, sgn(a - z) != sgn(T(a) - T(z)))
    status = solver.check()
    out = {"T": f"uninterpreted, strictly {direction}" if direction != "non-decreasing" else
           "uninterpreted, non-decreasing", "query": solver.sexpr(), "z3_status": str(status),
           "z3_version": z3.get_version_string()}
    if status == z3.sat:
        m = solver.model()
        av, zv = m.eval(a, model_completion=True), m.eval(z, model_completion=True)
        out["counterexample"] = {"a": str(av), "z": str(zv), "T(a)": str(m.eval(T(a), model_completion=True)),
                                 "T(z)": str(m.eval(T(z), model_completion=True))}
    return out


def check_sign_invariance_smt(ctx: MethodContext, *, direction: str = "increasing") -> Outcome:
    """z3: (19) sign(a - z) = sign(T(a) - T(z)) for all a, z and every T of the given kind (generic T).

    For increasing T this is part (i) of the claim in full generality; the event {z <= a} = {T(z) <= T(a)}
    follows, so the sampling probability G(T(a)) = F(a) is unchanged for every F.
    """
    res = z3_sign_obligation(direction)
    evidence = {k: v for k, v in res.items() if k != "counterexample"}
    if res["z3_status"] == "unsat":
        return Outcome(Verdict.PROVED, evidence)
    if res["z3_status"] == "sat":
        return Outcome(Verdict.REFUTED, evidence, counterexample=res["counterexample"])
    return Outcome(Verdict.INCONCLUSIVE, evidence)


def check_generic_chain_rule_sympy(ctx: MethodContext, *, transformed_cdf: str = "F o T^-1",
                                   factor: int = 2) -> Outcome:
    """sympy with *generic* functions F, T, T^{-1}: 2 G'(T(a)) T'(a) = 2 F'(a) for G = F o T^{-1}.

    Only two facts about T^{-1} are used, both derived here: T^{-1}(T(a)) = a (definition of the inverse,
    for increasing T; then G(t) = P(T(z) <= t) = F(T^{-1}(t))) and, differentiating it,
    (T^{-1})'(T(a)) T'(a) = 1 (solved for (T^{-1})'(T(a)) by sympy).  Nothing is assumed about F.
    ``transformed_cdf="F o T"`` (a wrong transformed cdf) and ``factor`` are mutant premises.
    """
    a, t, s = sympy.symbols("a t s", real=True)
    F, T, Tinv = sympy.Function("F"), sympy.Function("T"), sympy.Function("Tinv")
    dTinv = sympy.Symbol("dTinv_at_Ta")          # stands for (T^{-1})'(T(a))
    G = F(Tinv(t)) if transformed_cdf == "F o T^-1" else F(T(t))
    def is_dTinv(e):
        return isinstance(e, sympy.Derivative) and getattr(e.expr, "func", None) == Tinv

    # the identity T^{-1}(T(a)) = a, differentiated: (T^{-1})'(T(a)) T'(a) = 1
    d_identity = sympy.diff(Tinv(T(a)), a).replace(is_dTinv, lambda e: dTinv)
    (dTinv_value,) = sympy.solve(sympy.Eq(d_identity, 1), dTinv)
    backward = factor * sympy.diff(G, t).subs(t, T(a)) * sympy.diff(T(a), a)
    Fp = sympy.Function("Fprime")                # F' as a function, so that its argument can be substituted

    def is_dF(e):
        return isinstance(e, sympy.Derivative) and getattr(e.expr, "func", None) == F and len(e.variables) == 1

    backward = backward.replace(is_dTinv, lambda e: dTinv).replace(is_dF, lambda e: Fp(e.expr.args[0]))
    backward = backward.subs(Tinv(T(a)), a).subs(dTinv, dTinv_value)
    target = 2 * Fp(a)
    residual = sympy.simplify(backward.doit() - target)
    evidence = {"transformed_cdf": transformed_cdf, "backward_factor": str(backward),
                "(T^-1)'(T(a)) from d/da T^-1(T(a)) = 1": str(dTinv_value), "target": str(target),
                "residual": str(residual), "assumptions": "F differentiable; T differentiable, strictly increasing "
                "with differentiable inverse (T' != 0); nothing else"}
    if residual == 0:
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"residual": str(residual),
                                                              "transformed_cdf": transformed_cdf})


def check_samples_unchanged(ctx: MethodContext, *, transforms=INCREASING,
                            noises=("logistic", "uniform", "triangular", "gaussian")) -> Outcome:
    """Numerically: on seeded noise samples, sign(a - z) == sign(T(a) - T(z)) for every sample and a grid of a.

    Also the backward factor 2 G'(T(a)) T'(a), with G' obtained by a central
    difference of the *numerically inverted* cdf G(t) = F(T^{-1}(t)) (bisection,
    independent of the symbolic inverse), matches 2 F'(a) to 1e-6.
    """
    rng = ctx.rng()
    n = 200_000 if ctx.full else 20_000
    rows, counterexample = [], None
    worst_grad = 0.0
    for noise_name in noises:
        noise = numeric_noise(noise_name)
        z = noise.sample(rng, n)
        for T in transforms:
            f = T.numpy()
            s0 = np.sign(_GRID[:, None] - z[None, :])
            s1 = np.sign(f(_GRID)[:, None] - f(z)[None, :])
            mismatch = s0 != s1
            count = int(mismatch.sum())
            rows.append({"noise": noise_name, "T": T.name, "samples": n * len(_GRID), "sign_mismatches": count})
            if count and counterexample is None:
                i, j = np.argwhere(mismatch)[0]
                counterexample = {"noise": noise_name, "T": T.name, "a": float(_GRID[i]), "z": float(z[j]),
                                  "sign(a-z)": float(s0[i, j]), "sign(T(a)-T(z))": float(s1[i, j])}
            if count == 0 and T.inverse is not None:
                worst_grad = max(worst_grad, _backward_gap(noise, f, T.derivative_numpy()))
    evidence = {"instances": rows, "grid_a": _GRID, "max_backward_factor_gap": worst_grad,
                "backward_tolerance": 1e-6, "confidence": "exact sample-wise comparison (no statistics)"}
    if counterexample is not None:
        return Outcome(Verdict.REFUTED, evidence, counterexample=counterexample)
    if worst_grad > 1e-6:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"max_backward_factor_gap": worst_grad})
    return Outcome(Verdict.VERIFIED, evidence)


def transformed_backward_factor(noise, f, fprime, a: np.ndarray, *, h: float = 1e-5) -> np.ndarray:
    """2 G'(T(a)) T'(a) where G = F o T^{-1} is the cdf of T(z), computed numerically.

    T^{-1} by vectorized bisection on the increasing ``f`` (independent of any
    symbolic inverse), G' by central differences with relative step ``h``:
    truncation error O(h^2 max|G^(3)|), rounding error O(eps / h), about 1e-9 here.
    """
    lo, hi = np.full_like(a, -50.0), np.full_like(a, 50.0)

    def tinv(t):
        l, u = lo.copy(), hi.copy()
        for _ in range(200):
            m = 0.5 * (l + u)
            up = f(m) < t
            l, u = np.where(up, m, l), np.where(up, u, m)
        return 0.5 * (l + u)

    t = f(a)
    dt = h * np.maximum(1.0, np.abs(t))
    Gprime = (noise.cdf(tinv(t + dt)) - noise.cdf(tinv(t - dt))) / (2 * dt)
    return 2 * Gprime * fprime(a)


def _backward_gap(noise, f, fprime) -> float:
    """max_a |2 G'(T(a)) T'(a) - 2 F'(a)| on the grid."""
    return float(np.max(np.abs(transformed_backward_factor(noise, f, fprime, _GRID) - 2 * noise.pdf(_GRID))))


_PROXIES = {
    "htanh": lambda u: (np.abs(u) <= 1).astype(float),
    "tanh": lambda u: 1 - np.tanh(u) ** 2,
    "approxsign": lambda u: np.maximum(0.0, 2 - 2 * np.abs(u)),
}


_ARB_PROXIES = {  # the same derivatives on python-flint arb balls (rigorous enclosures); u is an arb
    "htanh": lambda u: 1 if (abs(u) <= 1) else (0 if abs(u) > 1 else None),
    "tanh": lambda u: 1 - u.tanh() ** 2,
    "approxsign": lambda u: (2 - 2 * abs(u)) if (abs(u) < 1) else (0 if abs(u) >= 1 else None),
}


def _certified_change(name: str, scale: int, a_num: int, a_den: int):
    """d(scale a) scale - d(a) at the rational a = a_num/a_den as an arb ball (rigorous); None if undecidable."""
    import flint

    a = flint.arb(a_num) / a_den
    d = _ARB_PROXIES[name]
    changed, original = d(scale * a), d(a)
    if changed is None or original is None:
        return None
    return flint.arb(changed) * scale - original


def check_hand_designed_proxy_changes(ctx: MethodContext, *, proxies=tuple(_PROXIES),
                                      transforms=(Transform("3a", 3 * A, T_ / 3),)) -> Outcome:
    """A hand-designed deterministic-ST proxy d, applied as d(T(a)) T'(a), differs from d(a) for some a and T.

    The largest change on a 401-point grid of [-2, 2] is located in floats, then certified at that rational a with
    python-flint arb balls (rigorous enclosures of tanh): the witness counts only if the ball excludes 0.  Linear
    transforms T(a) = c a (integer c) are certified; others give VERIFIED at most.
    """
    a = np.linspace(-2.0, 2.0, 401)
    rows, best, certified = [], None, []
    for name in proxies:
        d = _PROXIES[name]
        for T in transforms:
            changed = d(T.numpy()(a)) * T.derivative_numpy()(a)
            gap = np.abs(changed - d(a))
            k = int(np.argmax(gap))
            row = {"proxy": name, "T": T.name, "max_change": float(gap[k]), "at_a": float(a[k])}
            scale = sympy.diff(T.expr, A)
            if gap[k] > 1e-9 and T.expr == scale * A and scale.is_integer:
                ball = _certified_change(name, int(scale), int(round(a[k] * 100)), 100)
                row["certified_change"] = str(ball) if ball is not None else None
                if ball is not None and not ball.contains(0):
                    certified.append((name, T.name))
            rows.append(row)
            if best is None or gap[k] > best["max_change"]:
                best = {"proxy": name, "T": T.name, "a": float(a[k]), "original": float(d(a[k])),
                        "transformed": float(changed[k]), "max_change": float(gap[k])}
    evidence = {"instances": rows, "grid": "401 points on [-2, 2]", "threshold": 1e-9,
                "certified_witnesses": [f"{p} under {t}" for p, t in certified],
                "certification": "python-flint arb balls at the rational witness a = k/100"}
    if best["max_change"] <= 1e-9:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"note": "every proxy was unchanged by every T"})
    changed_all = {r["proxy"] for r in rows if r["max_change"] > 1e-9}
    if changed_all == set(proxies) and {p for p, _ in certified} == set(proxies):
        return Outcome(Verdict.PROVED, {**evidence, "witness": best}, figures=[_proxy_figure(a)])
    return Outcome(Verdict.VERIFIED, {**evidence, "witness": best}, figures=[_proxy_figure(a)])


def _proxy_figure(a: np.ndarray) -> Figure:
    logistic = numeric_noise("logistic")
    T = Transform("3a", 3 * A, T_ / 3)
    coarse = a[::10]
    alg1_transformed = transformed_backward_factor(logistic, T.numpy(), T.derivative_numpy(), coarse)
    htanh = _PROXIES["htanh"]
    return Figure(
        name="backward-factors",
        title="Backward factor before and after T(a) = 3a (Alg. 1 with logistic noise vs the Htanh proxy)",
        xlabel="pre-activation $a$", ylabel=r"backward factor $\partial x / \partial a$ used by the estimator",
        series=(
            Series("Alg. 1: $2F'(a)$", tuple(a), tuple(2 * logistic.pdf(a))),
            Series(r"Alg. 1 after $T$: $2G'(T(a))\,T'(a)$ (numeric)", tuple(coarse), tuple(alg1_transformed),
                   style="points"),
            Series(r"Htanh proxy: $\mathbb{1}[|a| \leq 1]$", tuple(a), tuple(htanh(a)), style="step"),
            Series(r"Htanh proxy after $T$: $3\cdot\mathbb{1}[|3a| \leq 1]$", tuple(a), tuple(htanh(3 * a) * 3),
                   style="step"),
        ),
    )


SBN_B1 = Claim(
    id="SBN-B1",
    title="Alg. 1 is invariant under monotone transforms under the sign (Prop. B.1)",
    source=SbnSource("Appendix B.1, Prop. B.1; section 2.2 'Invariances'", "(19)"),
    statement_printed=(
        "sign(a_i - z_i) = sign(T(a_i) - T(z_i)) for any strictly monotone mapping T: R -> R (19). "
        "The gradient computed by Alg. 1 is invariant to equivalent transformations under sign as in (19). "
        "Empirical straight-through approaches where the proxy is hand-designed fail to maintain this property. "
        "[Section 2.2 restates: 'for any strictly monotone mapping T. Consistently, the ST gradient by Alg. 1 is "
        "also invariant to T ... In particular, rescaling the proxy leads to different estimators.']"
    ),
    statement_checked=(
        "Reading 'increasing' (the one the proof uses: P(z~ <= a~) = P(z <= a)): for every continuous noise cdf F "
        "and every strictly increasing differentiable T with differentiable inverse, with z~ = T(z), a~ = T(a) and "
        "G the cdf of z~: (i) sign(a - z) = sign(a~ - z~) for all a, z (z3, generic T), hence P(x = 1) = G(a~) = "
        "F(a); (ii) the Alg. 1 backward factor w.r.t. a, 2 G'(a~) T'(a), equals 2 F'(a) (sympy, generic F and T). "
        "(iii) For the hand-designed deterministic proxies Htanh, tanh and ApproxSign the rescaling T(a) = 3a gives "
        "an a with d(T(a)) T'(a) != d(a). Readings 'decreasing' and 'either' (the literal 'any strictly "
        "monotone') are checked too: (19) fails for every strictly decreasing T."
    ),
    readings=(
        Reading("increasing", "T strictly increasing (the reading the proof uses)"),
        Reading("decreasing", "T strictly decreasing"),
        Reading("either", "T strictly monotone in either direction (the literal 'any strictly monotone')"),
    ),
    methods=(
        Method("z3-sign-invariance", Kind.SMT, check_sign_invariance_smt,
               "z3, uninterpreted T monotone on {a, z} (which every strictly increasing T is, and which extends to "
               "one): sign(a - z) = sign(T(a) - T(z)) for all a, z", part="(i) binary state and sampling probability unchanged", reading="increasing",
               scope=Scope.whole("every strictly increasing T: R -> R, all a, z (generic T); hence every F")),
        Method("samples-unchanged", Kind.PROPERTY, check_samples_unchanged,
               "on seeded noise samples the binary states coincide exactly; numeric inverse + finite "
               "differences reproduce the backward factor (tolerance 1e-6)",
               part="(i) binary state and sampling probability unchanged", reading="increasing",
               scope=Scope("4 noises x T in {3a+1, exp, atan, softplus}, 20,000 samples x 10 values of a")),
        Method("sympy-generic-chain-rule", Kind.SYMBOLIC, check_generic_chain_rule_sympy,
               "generic F, T, T^-1: 2G'(T(a))T'(a) - 2F'(a) simplifies to 0, using only T^-1(T(a)) = a and its "
               "derivative", part="(ii) backward factor unchanged", reading="increasing",
               scope=Scope.whole("every differentiable F and every differentiable strictly increasing T with "
                                 "differentiable inverse (generic functions)")),
        Method("sympy-transforms", Kind.SYMBOLIC, check_symbolic_transforms,
               "G = F o T^{-1} in closed form; sympy simplifies G(T(a)) - F(a) and 2G'(T(a))T'(a) - 2F'(a) to 0",
               part="(ii) backward factor unchanged", reading="increasing",
               scope=Scope("noises logistic, gaussian x T in {3a+1, exp(a), atan(a), softplus(a)}")),
        Method("proxy-changes", Kind.INTERVAL, check_hand_designed_proxy_changes,
               "hand-designed proxies (Htanh, tanh, ApproxSign) change under T(a) = 3a: witness located on a grid, "
               "certified with arb balls", part="(iii) hand-designed proxies change",
               scope=Scope.whole("existential ('fail to maintain'): one witness per proxy decides it")),
        Method("z3-decreasing-T", Kind.SMT, functools.partial(check_sign_invariance_smt, direction="decreasing"),
               "z3, uninterpreted strictly decreasing T: does (19) hold?", part="printed: 'strictly monotone' T",
               role="printed", reading="decreasing", category=Category.IMPRECISION,
               scope=Scope.whole("every strictly decreasing T (generic T)")),
        Method("printed-decreasing-T", Kind.PROPERTY,
               functools.partial(check_samples_unchanged, transforms=DECREASING, noises=("logistic",)),
               "samples: does (19) hold for T(a) = -a and exp(-a)?", part="printed: 'strictly monotone' T",
               role="printed", reading="decreasing", category=Category.IMPRECISION,
               scope=Scope("logistic noise, T in {-a, exp(-a)}")),
        Method("printed-any-monotone-T", Kind.PROPERTY,
               functools.partial(check_samples_unchanged, transforms=DECREASING + INCREASING, noises=("logistic",)),
               "samples: does (19) hold for every strictly monotone T of both directions?",
               part="printed: 'strictly monotone' T", role="printed", reading="either",
               category=Category.IMPRECISION,
               scope=Scope("logistic noise, 2 decreasing and 4 increasing T (one failing T decides the reading)")),
    ),
    discrepancies=(
        Finding(Category.IMPRECISION,
                "Printed 'for any strictly monotone mapping T' (also in section 2.2); for a strictly decreasing T "
                "(e.g. T(a) = -a) sign(T(a) - T(z)) = -sign(a - z) for every z != a, so (19) and the invariance "
                "hold only for strictly increasing T, the reading the proof itself uses (P(z~ <= a~) = P(z <= a)). "
                "Ambiguous wording, not a false intended result: readings 'decreasing' and 'either' are refuted "
                "(methods z3-decreasing-T, printed-decreasing-T, printed-any-monotone-T), 'increasing' holds."),
        Finding(Category.MISPRINT,
                "The proof's last line is extracted as 'd/da G(T(a)) = F'(a)' with the derivative signs garbled; "
                "reconstructed as d/da G(T(a)) = G'(T(a)) T'(a) = F'(a) (method sympy-generic-chain-rule)."),
    ),
    tags=("sbn", "invariance"),
)

CLAIMS = (SBN_B1,)
