"""SBN bias analysis I (section 2.2 I, Appendix B.2): SBN-B2, SBN-EX1, SBN-EX2, SBN-B3.

Model: ``x_i = sign(a_i - z_i)`` with independent noises of cdf ``F``; the ST
estimate (Alg. 1) of ``d E[L] / d a_i`` is ``2 F'(a_i) dL/dx_i(x)``.

* SBN-B2 (Prop. B.2): multilinear ``L`` makes Alg. 1 unbiased; linear ``L``
  makes it exact with zero variance; some non-multilinear ``L`` makes it biased.
* SBN-EX1 (Example 1): ``L = x^2``: true gradient 0, expected ST
  ``4 F'(a)(2F(a) - 1)``, whose sign changes with ``a``.
* SBN-EX2 (Example 2): ``L = x - sin(2 pi x)``: expected ST points exactly
  opposite to the true gradient.
* SBN-B3 (Prop. B.3, eq. (20)): the multilinear reformulation of
  ``||Wx - y||^2``; ST on it is unbiased; every pseudo-Boolean function has a
  unique multilinear form.

Generic statements (every n) are proved per coordinate: with the other units
fixed, a multilinear L is ``x_i A + B`` (B.2), (20) is ``||x_i W_i + v||^2`` with
a symbolic-height vector ``v`` (B.3), and the monomials' Gram matrix factorizes
(uniqueness).  Ambiguous wordings get readings (B.2: multilinear as an
expression or as a function on the cube; EX2: the +-1 or the {0,1} encoding).
Monte Carlo methods decide only when their intervals are narrow enough
(:mod:`._mc_precision`).

Every check is a module-level function ``check_*(ctx, **premises)``; the
premises default to the paper's, and the mutant tests pass false ones.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import sympy

from stecheck.errors import SelfCheckFailed
from stecheck.numerics import enumeration, losses
from stecheck.numerics.estimators import EstimatorSampler
from stecheck.numerics.montecarlo import monte_carlo_mean
from stecheck.theory import bernoulli_layer, examples, multilinear
from stecheck.theory.noise import NOISE_FAMILIES

from . import _enum_audit
from ._common import CONFIDENCE, NOISES, SbnSource
from ._mc_precision import gate
from ..claim import Claim, Figure, Kind, Method, MethodContext, Outcome, Reading, Series
from ..verdict import Category, Finding, Scope, Verdict

__all__ = ["CLAIMS"]


# ---------------------------------------------------------------------------- shared helpers


def random_multilinear(rng: np.random.Generator, n: int, *, max_order: int = 3, terms: int | None = None):
    """A random multilinear loss: ``terms`` distinct monomials of order <= ``max_order`` with N(0,1) coefficients."""
    available = sum(math.comb(n, k) for k in range(1, min(max_order, n) + 1))
    terms = min(terms if terms is not None else 2 * n, available)
    coeffs: dict[tuple[int, ...], float] = {(): float(rng.normal())}
    while len(coeffs) < terms + 1:
        k = int(rng.integers(1, max_order + 1))
        S = tuple(sorted(rng.choice(n, size=min(k, n), replace=False).tolist()))
        coeffs.setdefault(S, float(rng.normal()))
    return losses.Multilinear(coeffs, n=n)


def _random_a(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1.5, 1.5, size=n)


def _compare(estimate, exact) -> dict:
    """Max absolute gap between two enumerated vectors, and the rounding tolerance it is judged against."""
    est, ex = np.asarray(estimate.value), np.asarray(exact.value)
    gaps = np.abs(est - ex)
    tol = np.asarray(estimate.error_bound) + np.asarray(exact.error_bound)
    return {"max_abs_gap": float(np.max(gaps)), "rounding_tolerance": float(np.max(tol)),
            "biased": bool(np.any(gaps > tol))}


# ---------------------------------------------------------------------------- SBN-B2


def _generic_multilinear(n: int):
    xs = sympy.symbols(f"x1:{n + 1}")
    coeffs = {}
    L = sympy.Integer(0)
    for k in range(n + 1):
        for S in itertools.combinations(range(n), k):
            c = sympy.Symbol("c_" + ("".join(str(i + 1) for i in S) or "0"))
            coeffs[S] = c
            L += c * sympy.Mul(*[xs[i] for i in S])
    return L, xs


def check_b2_symbolic(ctx: MethodContext, *, loss_builder=None) -> Outcome:
    """sympy: for every multilinear L with symbolic coefficients and a generic cdf F, E[ST] - grad E[L] = 0."""
    F = sympy.Function("F")
    sizes = (1, 2, 3, 4) if ctx.full else (1, 2, 3)
    rows = []
    for n in sizes:
        L, xs = (loss_builder or _generic_multilinear)(n)
        a = sympy.symbols(f"a1:{n + 1}", real=True)
        bias = bernoulli_layer.st_bias(L, xs, a, F)
        nonzero = [str(b) for b in bias if sympy.simplify(b) != 0]
        rows.append({"n": n, "coefficients": 2**n, "nonzero_bias_components": nonzero})
        if nonzero:
            return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample={"n": n, "L": str(L), "bias": nonzero})
    return Outcome(Verdict.PROVED, {"instances": rows},
                   scope=Scope(f"every multilinear L in n <= {sizes[-1]} variables (all 2^n coefficients symbolic), "
                               "generic F"))


def check_b2_coordinate(ctx: MethodContext, *, linear: bool = False, power: int = 1, factor: int = 2) -> Outcome:
    """sympy, every n at once: fix a coordinate i; a multilinear L is L = x_i A(x_-i) + B(x_-i).

    With independent units, E[L] = E[x_i] E[A] + E[B] and E[2F'(a_i) dL/dx_i] = 2F'(a_i) E[A], where E[A],
    E[B] do not depend on a_i: so the bias of coordinate i is a function of F(a_i), F'(a_i) and the two
    symbols E[A], E[B] only, whatever n and the other units are.  sympy computes it for generic F.
    ``linear=True``: A = c_i is a constant (L linear in x_i); then the per-sample estimate 2F'(a_i) c_i does not
    depend on x and equals the gradient (zero variance).  ``power`` (x_i^power A) and ``factor`` are mutant premises.
    """
    F = sympy.Function("F")
    a, xi = sympy.Symbol("a_i", real=True), sympy.Symbol("x_i", real=True)
    EA, EB = sympy.symbols("EA EB", real=True)   # E[A(x_-i)], E[B(x_-i)]: constants in a_i
    c = sympy.Symbol("c_i", real=True)

    def E_i(h):  # expectation over x_i in {-1, 1} with P(x_i = 1) = F(a_i)
        return F(a) * h.subs(xi, 1) + (1 - F(a)) * h.subs(xi, -1)

    L = xi**power * (c if linear else EA) + EB
    gradient = sympy.diff(E_i(L), a)
    per_sample = factor * sympy.diff(F(a), a) * sympy.diff(L, xi)
    residual = sympy.simplify(E_i(per_sample) - gradient)
    depends_on_x = bool(sympy.diff(per_sample, xi) != 0)
    evidence = {"L_restricted_to_coordinate": str(L), "gradient": str(gradient), "expected_st": str(E_i(per_sample)),
                "residual": str(residual), "per_sample_estimate": str(per_sample),
                "argument": "multilinearity in x_i: L = x_i A + B with A, B free of x_i; independence: "
                            "E[x_i A] = E[x_i] E[A]; E[A], E[B] do not depend on a_i"}
    if linear:
        evidence["per_sample_estimate_depends_on_x"] = depends_on_x
    if residual != 0 or (linear and depends_on_x):
        return Outcome(Verdict.REFUTED, evidence, counterexample={"residual": str(residual), "L": str(L),
                                                                  "depends_on_x": depends_on_x})
    return Outcome(Verdict.PROVED, evidence)


def check_b2_enumeration(ctx: MethodContext, *, loss_factory=random_multilinear, sizes=None,
                         noises=NOISES) -> Outcome:
    """Exact enumeration: E[ST] equals the exact gradient of E[L] for random losses (default multilinear).

    The EXACT label rests on the enumeration's rounding bounds: after the comparisons,
    :func:`_enum_audit.audit` checks them (and the brute force of theory.enumeration)
    against 60-digit recomputations; a failed audit raises, so the claim is ERROR.
    """
    rng = ctx.rng()
    sizes = sizes or ((4, 8, 12, 16, 20) if ctx.full else (4, 8, 12))
    rows, worst = [], None
    for n in sizes:
        for noise in noises:
            loss, a = loss_factory(rng, n), _random_a(rng, n)
            cmp = _compare(enumeration.expected_estimator("st", loss, a, noise), enumeration.exact_gradient(loss, a, noise))
            rows.append({"n": n, "noise": noise, "loss": repr(loss), **cmp})
            if cmp["biased"] and worst is None:
                worst = {"n": n, "noise": noise, "loss": repr(loss), "a": a, **cmp}
    evidence = {"instances": rows, "max_abs_gap": max(r["max_abs_gap"] for r in rows),
                "rounding_bound_audit": _enum_audit.audit(rng, random_multilinear)}
    if worst is not None:
        return Outcome(Verdict.REFUTED, evidence, counterexample=worst)
    return Outcome(Verdict.VERIFIED, evidence)


def _complex_step_gradient(expected_loss, a: np.ndarray, h: float = 1e-20) -> np.ndarray:
    """d/da_i of an analytic function by the complex step (error O(h^2), no cancellation)."""
    out = np.empty(len(a))
    for i in range(len(a)):
        ac = a.astype(complex)
        ac[i] += 1j * h
        out[i] = expected_loss(ac).imag / h
    return out


def check_b2_montecarlo(ctx: MethodContext, *, n: int = 40, estimator: str = "st",
                        samples: int | None = None) -> Outcome:
    """Monte Carlo at n = 40 (beyond enumeration): the ST mean's interval contains the exact gradient.

    The exact gradient is the complex-step derivative of the closed form
    E[L] = sum_S c_S prod_{i in S} (2 F(a_i) - 1) (independence), computed
    without any ST formula.  Logistic noise (F analytic).
    """
    rng = ctx.rng()
    loss, a = random_multilinear(rng, n), _random_a(rng, n)

    def expected(ac):
        mu = 2.0 / (1.0 + np.exp(-2.0 * ac)) - 1.0
        return sum(c * (np.prod(mu[list(S)]) if S else 1.0) for S, c in loss.coeffs.items())

    exact = _complex_step_gradient(expected, a)
    samples = samples or (400_000 if ctx.full else 40_000)
    mc = monte_carlo_mean(EstimatorSampler(estimator, loss, a, "logistic"), samples, ctx.seed,
                          confidence=1 - (1 - CONFIDENCE) / n)
    inside = (mc.low <= exact) & (exact <= mc.high)
    # to decide, an interval must be able to see a bias of 10% of the gradient's scale
    decides, precision = gate((mc.high - mc.low) / 2, 0.1 * float(np.max(np.abs(exact))),
                              "an interval must be able to exclude a bias of 10% of max_i |d E[L]/d a_i|")
    evidence = {**precision, "n": n, "samples": samples, "confidence_per_coordinate": 1 - (1 - CONFIDENCE) / n,
                "family_confidence": CONFIDENCE, "interval": mc.method, "coordinates_outside": int((~inside).sum()),
                "max_abs_gap_over_std_error": float(np.max(np.abs(mc.mean - exact) / np.maximum(mc.std_error, 1e-300)))}
    if not inside.all():
        i = int(np.argmin(inside))
        return Outcome(Verdict.REFUTED, evidence, counterexample={
            "coordinate": i, "exact": exact[i], "interval": [mc.low[i], mc.high[i]], "a": a})
    return Outcome(Verdict.VERIFIED if decides else Verdict.INCONCLUSIVE, evidence)


def check_b2_linear_symbolic(ctx: MethodContext, *, n: int = 4, scale: int = 2) -> Outcome:
    """sympy: for L = c0 + sum c_i x_i the ST estimate 2F'(a_i) c_i does not depend on x and equals the gradient."""
    F = sympy.Function("F")
    xs = sympy.symbols(f"x1:{n + 1}")
    a = sympy.symbols(f"a1:{n + 1}", real=True)
    c = sympy.symbols(f"c0:{n + 1}")
    L = c[0] + sum(ci * xi for ci, xi in zip(c[1:], xs))
    estimate = [scale * sympy.diff(F(ai), ai) * sympy.diff(L, xi) for ai, xi in zip(a, xs)]
    depends_on_x = [str(e) for e in estimate if any(sympy.diff(e, x) != 0 for x in xs)]
    gap = [sympy.simplify(e - g) for e, g in zip(estimate, bernoulli_layer.exact_gradient(L, xs, a, F))]
    evidence = {"n": n, "estimate": [str(e) for e in estimate], "depends_on_x": depends_on_x,
                "estimate_minus_gradient": [str(g) for g in gap]}
    if depends_on_x or any(g != 0 for g in gap):
        return Outcome(Verdict.REFUTED, evidence, counterexample={"estimate": evidence["estimate"]})
    return Outcome(Verdict.PROVED, evidence)


def check_b2_linear_samples(ctx: MethodContext, *, n: int = 16, loss=None) -> Outcome:
    """Sampled ST estimates for a random linear L: every sample equals the exact gradient (variance 0)."""
    rng = ctx.rng()
    loss = loss or losses.Linear(rng.normal(size=n), float(rng.normal()))
    a = _random_a(rng, n)
    sampler = EstimatorSampler("st", loss, a, "logistic")
    est = sampler(ctx.rng(), 10_000)
    exact = enumeration.exact_gradient(loss, a, "logistic")
    spread = float(np.max(est.max(axis=0) - est.min(axis=0)))
    gap = float(np.max(np.abs(est - np.asarray(exact.value))))
    tol = float(np.max(exact.error_bound)) + 8 * np.finfo(float).eps * float(np.max(np.abs(exact.value)) + 1)
    evidence = {"n": n, "samples": 10_000, "max_spread_between_samples": spread,
                "max_abs_gap_to_exact": gap, "tolerance": tol}
    if spread > tol or gap > tol:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"loss": repr(loss), "spread": spread, "gap": gap})
    return Outcome(Verdict.VERIFIED, evidence)


def _non_multilinear_losses(n: int):
    return (losses.SquareSum(), losses.Power(4), losses.Ex2())


#: y label of the bias figures: the largest coordinate of |E[ST] - grad E[L]|.
_BIAS_YLABEL = r"$\max_i\,|\mathbb{E}[\hat g_{\mathrm{ST}}]_i - \partial_{a_i}\mathbb{E}[L]|$"


def _loss_label(loss) -> str:
    """A figure label in mathematical notation for the losses of :func:`_non_multilinear_losses`."""
    if isinstance(loss, losses.Power):
        return rf"$L = \sum_i x_i^{{{loss.k}}}$"
    return {"SquareSum": r"$L = (\sum_i x_i)^2$", "Ex2": r"$L = \sum_i (x_i - \sin 2\pi x_i)$"}.get(
        type(loss).__name__, f"loss {type(loss).__name__}")


def check_b2_biased_example(ctx: MethodContext, *, loss_family=_non_multilinear_losses) -> Outcome:
    """Exact enumeration: for non-multilinear L ((sum x)^2, sum x^4, Example 2's loss) E[ST] != grad E[L]."""
    rng = ctx.rng()
    rows, ns, bias_norms = [], (2, 4, 6, 8, 10), {}
    for n in ns:
        a = _random_a(rng, n)
        for loss in loss_family(n):
            cmp = _compare(enumeration.expected_estimator("st", loss, a, "logistic"),
                           enumeration.exact_gradient(loss, a, "logistic"))
            rows.append({"n": n, "loss": repr(loss), **cmp})
            bias_norms.setdefault(_loss_label(loss), []).append(cmp["max_abs_gap"])
        ml = random_multilinear(rng, n)
        cmp = _compare(enumeration.expected_estimator("st", ml, a, "logistic"),
                       enumeration.exact_gradient(ml, a, "logistic"))
        bias_norms.setdefault("random multilinear $L$ (control)", []).append(cmp["max_abs_gap"])
    biased = [r for r in rows if r["biased"]]
    figure = Figure(
        name="bias-vs-n", title="Max |E[ST] − ∇E[L]| over the coordinates (logistic noise, exact enumeration; "
                                 "a bias of 0 is drawn at 1e-17)",
        xlabel="number of binary units $n$", ylabel=_BIAS_YLABEL, yscale="log",
        series=tuple(Series(label, tuple(float(n) for n in ns), tuple(max(v, 1e-17) for v in vals), style="points")
                     for label, vals in bias_norms.items()),
    )
    evidence = {"instances": rows, "biased_instances": len(biased)}
    if not biased:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"note": "no tested non-multilinear loss was biased"},
                       figures=[figure])
    # a witness whose gap exceeds the certified rounding bound proves existence
    return Outcome(Verdict.PROVED, {**evidence, "witness": biased[0]}, figures=[figure])


def check_b2_function_reading(ctx: MethodContext) -> Outcome:
    """Reading 'L multilinear as a function on {-1, 1}^n': every such function is multilinear (its unique
    multilinear form), so the reading claims ST unbiased for *every* differentiable L.  L(x) = x^2 equals the
    multilinear constant 1 on {-1, 1}, yet E[2F'(a) L'(x)] = 4F'(a)(2F(a) - 1) != 0 = d E[L]/da (logistic F,
    a = 1, exact value): a counterexample to this reading."""
    ex = examples.example1()
    on_cube = [int((sympy.Integer(x) ** 2)) for x in (-1, 1)]
    value = sympy.simplify(examples.substitute_noise(ex.expected_st_gradient, "logistic").subs(examples.A, 1))
    evidence = {"L": "x^2", "values_on_cube": on_cube, "multilinear_form": "1",
                "expected_st_at_a=1_logistic": str(value), "numeric": float(value), "true_gradient": str(ex.true_gradient)}
    if on_cube == [1, 1] and value != 0 and ex.true_gradient == 0:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"L": "x^2 (= 1 on the cube)", "a": 1,
                                                                  "noise": "logistic", "E[ST]": str(value),
                                                                  "gradient": "0"})
    return Outcome(Verdict.PROVED, evidence)


SBN_B2 = Claim(
    id="SBN-B2",
    title="Multilinear L makes Alg. 1 unbiased; linear L makes it exact (Prop. B.2, section 2.2 I)",
    source=SbnSource("Appendix B.2, Prop. B.2; section 2.2 'Bias Analysis I'", "(7)"),
    statement_printed=(
        "If the objective function L is multilinear in the binary variables x, then Alg. 1 is unbiased. "
        "In the special case when L is linear in x, the ST estimator is not only unbiased but has a zero "
        "variance, i.e., it is exact. (A simple counter-example, where ST is biased, is L(x) = x^2.)"
    ),
    statement_checked=(
        "x_i = sign(a_i - z_i), independent z_i with cdf F differentiable at a_i. (i) If L(x) = sum_S c_S "
        "prod_{i in S} x_i then E_x[2F'(a_i) dL/dx_i(x)] = d/da_i E_x[L(x)] for all n, i, a, F: proved "
        "symbolically for every n (per coordinate, L = x_i A + B), and with all 2^n coefficients symbolic for "
        "n <= 3 (4 full); checked by exact enumeration (n <= 12, 20 in full) and Monte Carlo (n = 40). (ii) If L is "
        "linear in x_i, the ST estimate 2F'(a_i) c_i is the same for every x and equals the gradient. (iii) For some "
        "non-multilinear L the expected ST gradient differs from the gradient."
    ),
    readings=(
        Reading("expression", "L multilinear as the differentiable expression that Alg. 1 differentiates"),
        Reading("function", "L multilinear as a function on {-1, 1}^n (true of every L: its multilinear form)"),
    ),
    methods=(
        Method("sympy-every-n", Kind.SYMBOLIC, check_b2_coordinate,
               "per coordinate L = x_i A(x_-i) + B(x_-i), generic F, E[A], E[B] symbolic: bias simplifies to 0",
               part="unbiased for multilinear L",
               reading="expression",
               scope=Scope.whole("every n, every multilinear L, generic F (per-coordinate reduction)")),
        Method("sympy-generic", Kind.SYMBOLIC, check_b2_symbolic,
               "all multilinear L with symbolic coefficients, generic cdf F: bias simplifies to 0",
               part="unbiased for multilinear L", scope=Scope("n <= 3 (4 full), generic F, all coefficients symbolic")),
        Method("enumeration", Kind.EXACT, check_b2_enumeration,
               "random multilinear L, 4 noises: E[ST] vs exact gradient by enumerating {-1,1}^n; rounding bounds "
               "audited against 60-digit sums (error <= bound, bound = documented formula within [1-1e-9, 1.05])",
               part="unbiased for multilinear L", scope=Scope("random multilinear L, n in {4, 8, 12} (20 full), 4 noises")),
        Method("monte-carlo-n40", Kind.MONTECARLO, check_b2_montecarlo,
               f"n = 40: ST sample mean interval ({CONFIDENCE} family-wise) vs complex-step gradient of E[L]; decides "
               "only if every half-width <= 10% of max |gradient|",
               part="unbiased for multilinear L", scope=Scope("one random multilinear L, n = 40, logistic noise")),
        Method("printed-multilinear-function", Kind.SYMBOLIC, check_b2_function_reading,
               "reading 'multilinear as a function on the cube': L = x^2 (= 1 on the cube) is biased",
               part="printed: 'multilinear' read as a function on the cube", role="printed", reading="function",
               category=Category.IMPRECISION, scope=Scope.whole("one counterexample decides the reading")),
        Method("sympy-linear-every-n", Kind.SYMBOLIC, functools.partial(check_b2_coordinate, linear=True),
               "L = c_i x_i + B(x_-i): the estimate 2F'(a_i) c_i does not depend on x and equals the gradient",
               part="linear L is exact", scope=Scope.whole("every n, every L linear in x, generic F")),
        Method("sympy-linear", Kind.SYMBOLIC, check_b2_linear_symbolic,
               "linear L: the estimate does not depend on x and equals the gradient", part="linear L is exact",
               scope=Scope("n = 4, generic F, symbolic coefficients")),
        Method("sampled-linear", Kind.PROPERTY, check_b2_linear_samples,
               "linear L, 10^4 sampled ST estimates: all equal to the exact gradient (rounding tolerance)",
               part="linear L is exact", scope=Scope("one random linear L, n = 16, logistic noise, 10^4 samples")),
        Method("biased-non-multilinear", Kind.EXACT, check_b2_biased_example,
               "(sum x)^2, sum x^4 and Example 2's loss: E[ST] differs from the gradient by more than the certified "
               "rounding bound", part="biased for some non-multilinear L",
               scope=Scope.whole("existential: one witness beyond the rounding bound decides it")),
    ),
    discrepancies=(
        Finding(Category.IMPRECISION,
                "Section 2.2 gives L(x) = x^2 as the counter-example, but x^2 = 1 on {-1, 1}: its multilinear form "
                "is the constant 1, and the bias exists only because ST differentiates the non-multilinear "
                "expression (Example 1, SBN-EX1); 'L is multilinear' must mean the differentiable expression "
                "(reading 'expression', proved), not the function on the cube (reading 'function', refuted by "
                "x^2: every function on the cube is multilinear)."),
    ),
    tags=("sbn", "bias"),
)


# ---------------------------------------------------------------------------- SBN-EX1


def check_ex1_symbolic(ctx: MethodContext, *, target=None) -> Outcome:
    """sympy, generic F: E[L] = 1, grad E[L] = 0, and E[ST] = 4F'(a)(2F(a)-1) (section 2.2's printed form)."""
    ex = examples.example1()
    target = examples.EX1_PRINTED_SECTION_2_2 if target is None else target
    agrees = sympy.simplify(ex.expected_st_gradient - target) == 0
    evidence = {"expected_loss": str(ex.expected_loss), "true_gradient": str(ex.true_gradient),
                "expected_st": str(ex.expected_st_gradient), "target": str(target)}
    if sympy.simplify(ex.expected_loss - 1) != 0 or ex.true_gradient != 0 or not agrees:
        return Outcome(Verdict.REFUTED, evidence, counterexample=evidence)
    return Outcome(Verdict.PROVED, evidence)


def check_ex1_sign_change(ctx: MethodContext, *, points=(-1, 1)) -> Outcome:
    """sympy, exact values: for each noise family E[ST] at a = -1 and a = +1 has opposite signs."""
    generic = examples.example1().expected_st_gradient
    rows, failed = [], []
    for name in NOISE_FAMILIES:
        form = examples.substitute_noise(generic, name)
        values = [sympy.simplify(form.subs(examples.A, p)) for p in points]
        signs = [int(sympy.sign(v)) for v in values]
        rows.append({"noise": name, "a": list(points), "expected_st": [str(v) for v in values],
                     "numeric": [float(v) for v in values], "signs": signs})
        if not (min(signs) < 0 < max(signs)):
            failed.append(rows[-1])
    if failed:
        return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=failed[0])
    return Outcome(Verdict.PROVED, {"instances": rows})


def check_ex1_sign_change_generic(ctx: MethodContext, *, expected_st=None) -> Outcome:
    """Every continuous cdf F: the expected ST gradient g(a) = 4F'(a)(2F(a) - 1) is negative for some a and positive
    for some a.

    Write g = F'(a) h(F(a)) (sympy checks g / F' depends on a only through F) and H' = h: then H(F(a)) is an
    antiderivative of g, so with a median m (F(m) = 1/2, by the intermediate value theorem) int_{-oo}^m g =
    H(1/2) - H(0) and int_m^oo g = H(1) - H(1/2).  An integral < 0 forces g < 0 somewhere, > 0 forces g > 0
    somewhere.  sympy computes H and the two integrals (-1 and +1).  ``expected_st`` replaces g (mutants).
    """
    ex = examples.example1()
    g = ex.expected_st_gradient if expected_st is None else expected_st
    u = sympy.Symbol("u", real=True)
    Fp = sympy.Derivative(examples.F_GENERIC(examples.A), examples.A)
    h = sympy.simplify((g / Fp).xreplace({examples.F_GENERIC(examples.A): u}))
    evidence = {"g": str(g), "h(u) = g / F' at F = u": str(h)}
    if h.has(examples.A) or h.has(Fp):
        return Outcome(Verdict.INCONCLUSIVE, {**evidence, "note": "g is not of the form F' h(F)"})
    H = sympy.integrate(h, u)
    left, right = sympy.simplify(H.subs(u, sympy.Rational(1, 2)) - H.subs(u, 0)), \
        sympy.simplify(H.subs(u, 1) - H.subs(u, sympy.Rational(1, 2)))
    evidence |= {"H(u)": str(H), "int_{-oo}^m g": str(left), "int_m^oo g": str(right)}
    signs = {bool(left < 0) or bool(right < 0), bool(left > 0) or bool(right > 0)}
    if signs == {True}:
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"int_{-oo}^m g": str(left), "int_m^oo g": str(right),
                                                              "note": "g keeps one sign on both halves"})


_EX1_GRID = np.linspace(-3.0, 3.0, 61)


def check_ex1_enumeration(ctx: MethodContext, *, closed_form=None) -> Outcome:
    """Enumeration of x in {-1,1} on a grid of a: E[ST] equals the closed form; the exact gradient is 0."""
    generic = examples.example1().expected_st_gradient if closed_form is None else closed_form
    loss = losses.Power(2)
    rows, series, worst = [], [], 0.0
    for name in NOISES:
        closed = sympy.lambdify(examples.A, examples.substitute_noise(generic, name), ["scipy", "numpy"])
        est = np.array([enumeration.expected_estimator("st", loss, [a], name).value[0] for a in _EX1_GRID])
        grad = np.array([enumeration.exact_gradient(loss, [a], name).value[0] for a in _EX1_GRID])
        gap = float(np.max(np.abs(est - np.broadcast_to(closed(_EX1_GRID), est.shape))))
        worst = max(worst, gap, float(np.max(np.abs(grad))))
        rows.append({"noise": name, "max_gap_to_closed_form": gap, "max_abs_true_gradient": float(np.max(np.abs(grad))),
                     "min_expected_st": float(est.min()), "max_expected_st": float(est.max())})
        series.append(Series(rf"$\mathbb{{E}}[\hat g_{{\mathrm{{ST}}}}]$, {name} noise", tuple(_EX1_GRID), tuple(est)))
    series.append(Series(r"true gradient $d\,\mathbb{E}[L]/da = 0$", tuple(_EX1_GRID),
                         tuple(np.zeros_like(_EX1_GRID))))
    fig = Figure("expected-st", "Example 1, L(x) = x²: expected ST gradient vs the true gradient (0), exact enumeration",
                 "pre-activation $a$", r"gradient with respect to $a$", tuple(series))
    tol = 1e-12
    evidence = {"instances": rows, "grid": "61 points on [-3, 3]", "tolerance": tol}
    if worst > tol:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"max_gap": worst}, figures=[fig])
    return Outcome(Verdict.VERIFIED, evidence, figures=[fig])


def check_ex1_montecarlo(ctx: MethodContext, *, points=(-1.0, 1.0), samples: int | None = None) -> Outcome:
    """Monte Carlo (logistic noise): the ST mean's interval is < 0 at a = -1 and > 0 at a = +1.

    Decides only if each interval's half-width is at most half the closed form's |value| at its point
    (``sympy`` value of 4F'(a)(2F(a) - 1), logistic noise), so that the sign is resolved with a margin.
    """
    samples = samples or (200_000 if ctx.full else 20_000)
    conf = 1 - (1 - CONFIDENCE) / 2
    closed = sympy.lambdify(examples.A, examples.substitute_noise(examples.example1().expected_st_gradient, "logistic"))
    rows, hws, req = [], [], []
    for i, a in enumerate(points):
        mc = monte_carlo_mean(EstimatorSampler("st", losses.Power(2), np.array([a]), "logistic"), samples,
                              np.random.SeedSequence(ctx.seed.entropy, spawn_key=ctx.seed.spawn_key + (i,)),
                              confidence=conf)
        rows.append({"a": a, "mean": float(mc.mean[0]), "low": float(mc.low[0]), "high": float(mc.high[0]),
                     "closed_form": float(closed(a))})
        hws.append(float(mc.high[0] - mc.low[0]) / 2)
        req.append(0.5 * abs(float(closed(a))))
    decides, precision = gate(hws, req, "half-width <= |closed form|/2 at each point, so the sign is resolved")
    evidence = {**precision, "samples": samples, "confidence_each": conf, "family_confidence": CONFIDENCE,
                "instances": rows}
    if rows[0]["low"] > 0 or rows[-1]["high"] < 0:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"instances": rows})
    if decides and rows[0]["high"] < 0 < rows[-1]["low"]:
        return Outcome(Verdict.VERIFIED, evidence)
    return Outcome(Verdict.INCONCLUSIVE, evidence)


def check_ex1_printed(ctx: MethodContext, *, which: int) -> Outcome:
    """Compare the derived E[ST] with a printed form read literally (0: section 2.2, 1: appendix B.2)."""
    cmp = examples.compare_example1_printed("logistic")[which]
    evidence = {"printed_in": cmp.printed_where, "printed": str(cmp.printed), "derived": str(cmp.derived),
                "difference": str(cmp.difference)}
    if cmp.agrees:
        return Outcome(Verdict.PROVED, evidence)
    if cmp.witness is None:
        return Outcome(Verdict.INCONCLUSIVE, evidence)
    a0, derived, printed = (float(v) for v in cmp.witness)
    return Outcome(Verdict.REFUTED, evidence,
                   counterexample={"noise": cmp.witness_noise, "a": a0, "derived": derived, "printed_literal": printed},
                   discrepancies=[f"{cmp.printed_where} prints {cmp.printed}; derived {cmp.derived}; at a = {a0} "
                                  f"with {cmp.witness_noise} noise they give {derived:.6g} vs {printed:.6g}"])


SBN_EX1 = Claim(
    id="SBN-EX1",
    title="Example 1: L(x) = x^2, true gradient 0, expected ST 4F'(a)(2F(a)-1)",
    source=SbnSource("Appendix B.2, Example 1; section 2.2 I", ""),
    statement_printed=(
        "Let a in R, x = sign(a - z) and L(x) = x^2. The expected value of the loss is 1, independent of a. "
        "The true gradient is zero. However the expected ST gradient is E[2F'(a)2x] = 4F'(a)(2L(a) - 1) "
        "[appendix; section 2.2 prints 4F'(a)(2F(a) - 1)] and can be positive or negative depending on a."
    ),
    statement_checked=(
        "For x = sign(a - z), z with cdf F, L(x) = x^2: E[L] = 1 for all a, d E[L]/da = 0, "
        "E[2F'(a) L'(x)] = 4F'(a)(2F(a) - 1) for every F (generic F); for every F it takes both signs (its integrals "
        "below and above the median are -1 and +1); for each of the logistic, uniform, triangular and gaussian "
        "noises it is negative at a = -1 and positive at a = +1."
    ),
    methods=(
        Method("sympy-derivation", Kind.SYMBOLIC, check_ex1_symbolic,
               "derive E[L], its gradient and E[ST] for generic F", part="closed form",
               scope=Scope.whole("every differentiable F, every a (generic F)")),
        Method("enumeration", Kind.PROPERTY, check_ex1_enumeration,
               "enumerate x in {-1,1} on a grid of a for 4 noises (tolerance 1e-12)", part="closed form",
               scope=Scope("4 noises x 61 points of [-3, 3]")),
        Method("sympy-sign-change-generic", Kind.SYMBOLIC, check_ex1_sign_change_generic,
               "generic F: int_{-oo}^median g = -1 and int_median^oo g = +1 (antiderivative (2F - 1)^2)",
               part="sign changes with a",
               scope=Scope.whole("every continuous cdf F with a density (generic F)")),
        Method("sympy-sign-change", Kind.SYMBOLIC, check_ex1_sign_change,
               "exact values at a = -1 and a = +1 for 4 noises", part="sign changes with a",
               scope=Scope("the 4 noise families (witnesses a = -1, +1); not every F")),
        Method("monte-carlo", Kind.MONTECARLO, check_ex1_montecarlo,
               f"ST sample means at a = -1, +1 ({CONFIDENCE} family-wise intervals; half-width <= |value|/2 "
               "needed to decide)", part="sign changes with a", scope=Scope("logistic noise, a = -1, +1")),
        Method("printed-section-2.2", Kind.SYMBOLIC, functools.partial(check_ex1_printed, which=0),
               "the form printed in section 2.2", part="printed: section 2.2 form", role="printed",
               category=Category.ERROR, scope=Scope.whole("generic F (compared as expressions)")),
        Method("printed-appendix", Kind.SYMBOLIC, functools.partial(check_ex1_printed, which=1),
               "the form printed in Appendix B.2, read literally (L(a) = a^2)", part="printed: appendix form",
               role="printed", category=Category.MISPRINT,
               scope=Scope("logistic noise: one point where the literal form differs decides it")),
    ),
    discrepancies=(
        Finding(Category.MISPRINT,
                "Appendix B.2 prints 4F'(a)(2L(a) - 1): 'L(a)' must be F(a) (section 2.2 prints 4F'(a)(2F(a) - 1), "
                "and E[x] = 2F(a) - 1 is what the left side E[2F'(a)2x] gives); read literally it is a different "
                "function (method printed-appendix gives the values). A typo with the intended form printed "
                "correctly elsewhere: a misprint."),
    ),
    tags=("sbn", "bias", "example"),
)


# ---------------------------------------------------------------------------- SBN-EX2


#: The constant ratio E[ST] / grad E[L] of Example 2, derived by hand: E[L'(x)] = 1 - 2 pi cos(2 pi x) at every
#: binary point, and the finite difference over the two states is L(x1) - L(x0) = x1 - x0 (sin(2 pi x) = 0 there).
EX2_RATIO = 1 - 2 * sympy.pi


def check_ex2_symbolic(ctx: MethodContext, *, encoding: str = "pm1", claimed_ratio=EX2_RATIO) -> Outcome:
    """sympy, generic F: E[ST] / grad E[L] in the given encoding, compared with the claimed constant 1 - 2 pi.

    The ratio must be free of a and F and equal to ``claimed_ratio`` exactly; its sign (< 0) is what
    'exactly the opposite direction' says.
    """
    ex = examples.example2()
    grad, st, ratio = ((ex.exact_gradient_pm1, ex.expected_st_gradient_pm1, ex.ratio_pm1) if encoding == "pm1" else
                       (ex.exact_gradient_01, ex.expected_st_gradient_01, ex.ratio_01))
    gap = sympy.simplify(ratio - claimed_ratio)
    evidence = {"encoding": encoding, "true_gradient": str(grad), "expected_st": str(st), "ratio": str(ratio),
                "claimed_ratio": str(claimed_ratio), "ratio_minus_claimed": str(gap),
                "ratio_numeric": float(ratio) if not ratio.free_symbols else None}
    if ratio.free_symbols:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"ratio": str(ratio), "note": "not a constant"})
    if gap != 0 or not ratio.is_negative:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"ratio": str(ratio), "claimed": str(claimed_ratio)})
    return Outcome(Verdict.PROVED, evidence)


def _ex2_audit(loss) -> None:
    """The library's L = sum_i (x_i - sin(2 pi x_i)) and its gradient equal the printed formula at ten points off the
    cube (on {-1, 1} sin(2 pi x) is 0 up to rounding, so a wrong frequency would pass every cube-only check),
    computed in 30-digit mpmath, to a relative 1e-13; else SelfCheckFailed (the method is an ERROR)."""
    import mpmath

    x = np.array([0.1, 0.25, -0.3, 0.7, -0.45, 0.05, 0.9, -0.8, 0.33, -0.12])
    with mpmath.workdps(30):
        xs = [mpmath.mpf(float(v)) for v in x]
        val = float(mpmath.fsum(v - mpmath.sin(2 * mpmath.pi * v) for v in xs))
        grad = np.array([float(1 - 2 * mpmath.pi * mpmath.cos(2 * mpmath.pi * v)) for v in xs])
    got_v, got_g = float(loss.value(x[None, :])[0]), np.asarray(loss.grad(x[None, :]))[0]
    if not (abs(got_v - val) <= 1e-13 * abs(val) and np.all(np.abs(got_g - grad) <= 1e-13 * np.abs(grad))):
        raise SelfCheckFailed(f"losses.Ex2 is not L = sum (x - sin 2 pi x): at {x.tolist()} value {got_v!r} vs {val!r}, "
                              f"gradient {got_g.tolist()} vs {grad.tolist()}; fix numerics.losses.Ex2.")


def check_ex2_enumeration(ctx: MethodContext, *, n: int = 10, loss=None, claimed_ratio=EX2_RATIO) -> Outcome:
    """Enumeration, L = sum_i (x_i - sin(2 pi x_i)), n = 10, 4 noises: every coordinate ratio E[ST]_i / grad_i
    equals 1 - 2 pi (relative tolerance 1e-12, rounding of the enumeration) and the cosine is -1."""
    rng = ctx.rng()
    if loss is None:
        _ex2_audit(losses.Ex2())
    loss = loss or losses.Ex2()
    target = float(claimed_ratio)
    rows, worst_cos, worst_ratio = [], -1.0, 0.0
    for name in NOISES:
        a = _random_a(rng, n)
        est = np.asarray(enumeration.expected_estimator("st", loss, a, name).value)
        grad = np.asarray(enumeration.exact_gradient(loss, a, name).value)
        cos = float(est @ grad / (np.linalg.norm(est) * np.linalg.norm(grad)))
        ratios = est / np.where(grad == 0, np.nan, grad)
        rel = float(np.nanmax(np.abs(ratios - target))) / abs(target)
        rows.append({"noise": name, "cosine": cos, "coordinate_ratios_min": float(np.nanmin(ratios)),
                     "coordinate_ratios_max": float(np.nanmax(ratios)), "max_rel_gap_to_1-2pi": rel})
        worst_cos, worst_ratio = max(worst_cos, cos), max(worst_ratio, rel)
    tol = 1e-12
    evidence = {"n": n, "instances": rows, "claimed_ratio": target, "tolerance": tol,
                "max_rel_gap_to_claimed_ratio": worst_ratio}
    if worst_cos < -1 + tol and worst_ratio <= tol:
        return Outcome(Verdict.VERIFIED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"max_cosine": worst_cos,
                                                              "max_rel_gap_to_claimed_ratio": worst_ratio})


def check_ex2_montecarlo(ctx: MethodContext, *, n: int = 10, loss=None, samples: int | None = None,
                         claimed_ratio=EX2_RATIO) -> Outcome:
    """Monte Carlo: every coordinate's ST interval lies on the other side of 0 from the exact gradient and
    contains (1 - 2 pi) times it.

    Decides only if every half-width is at most |(1 - 2 pi) grad_i| / 4 (so that a ratio of half the claimed
    one, or of the wrong sign, would be excluded).
    """
    rng = ctx.rng()
    a = _random_a(rng, n)
    loss = loss or losses.Ex2()
    samples = samples or (100_000 if ctx.full else 10_000)
    mc = monte_carlo_mean(EstimatorSampler("st", loss, a, "gaussian"), samples, ctx.seed,
                          confidence=1 - (1 - CONFIDENCE) / n)
    grad = np.asarray(enumeration.exact_gradient(loss, a, "gaussian").value)
    claimed = float(claimed_ratio) * grad
    opposite = np.where(grad > 0, mc.high < 0, mc.low > 0)
    same = np.where(grad > 0, mc.low > 0, mc.high < 0)
    contains = (mc.low <= claimed) & (claimed <= mc.high)
    decides, precision = gate((mc.high - mc.low) / 2, np.abs(claimed) / 4,
                              "half-width <= |(1 - 2 pi) grad_i| / 4 per coordinate")
    evidence = {**precision, "n": n, "samples": samples, "noise": "gaussian", "family_confidence": CONFIDENCE,
                "coordinates_opposite": int(opposite.sum()), "coordinates_same_sign": int(same.sum()),
                "coordinates_containing_(1-2pi)grad": int(contains.sum())}
    if same.any():
        return Outcome(Verdict.REFUTED, evidence, counterexample={"coordinate": int(np.argmax(same)),
                                                                  "note": "ST interval on the gradient's side"})
    if not contains.all() and decides:
        k = int(np.argmin(contains))
        return Outcome(Verdict.REFUTED, evidence, counterexample={
            "coordinate": k, "interval": [float(mc.low[k]), float(mc.high[k])], "(1-2pi)grad": float(claimed[k])})
    if decides and opposite.all() and contains.all():
        return Outcome(Verdict.VERIFIED, evidence)
    return Outcome(Verdict.INCONCLUSIVE, evidence)


def check_ex2_printed_derivative(ctx: MethodContext, *, points=(-1, 1)) -> Outcome:
    """The printed derivative value dL/dx = -1 at the binary points of an encoding, read literally."""
    ex = examples.example2()
    printed = examples.EX2_PRINTED_DERIVATIVE
    deriv = ex.derivative
    values = {f"x={p}": sympy.simplify(deriv.subs(examples.X, p)) for p in points}
    evidence = {"printed": str(printed), "binary_points": list(points),
                "derived": {k: str(v) for k, v in values.items()},
                "derived_numeric": {k: float(v) for k, v in values.items()},
                "sin_scale_that_would_give_the_printed_value": str(ex.scale_matching_printed_derivative)}
    if all(sympy.simplify(v - printed) == 0 for v in values.values()):
        return Outcome(Verdict.PROVED, evidence)
    p1 = points[-1]
    d1 = float(values[f"x={p1}"])
    return Outcome(Verdict.REFUTED, evidence,
                   counterexample={"x": p1, "printed": str(printed), "derived": str(values[f"x={p1}"]),
                                   "derived_numeric": d1},
                   discrepancies=[Finding(Category.ERROR,
                                          f"the text prints dL/dx = 1 - 2 pi cos(2 pi x) = {printed} at the binary "
                                          f"points; it equals {values[f'x={p1}']} = {d1:.4f} there (the printed value "
                                          f"would need L = x - {ex.scale_matching_printed_derivative} sin(2 pi x)). "
                                          "A wrong value, not plausible extraction damage (the same line keeps 2 pi); "
                                          "the conclusion uses only its sign, which is right.")])


def check_ex2_printed_difference(ctx: MethodContext, *, encoding: str = "01") -> Outcome:
    """The printed finite difference 'L(1) - L(0) = 1', read as the finite difference between the two states of
    the encoding: L(1) - L(0) for {0,1}, L(1) - L(-1) (= 2) for +-1."""
    ex = examples.example2()
    diff = ex.difference_01 if encoding == "01" else ex.difference_pm1
    evidence = {"encoding": encoding, "L(1)-L(0)": str(ex.difference_01), "L(1)-L(-1)": str(ex.difference_pm1),
                "finite_difference_of_this_encoding": str(diff),
                "printed": str(examples.EX2_PRINTED_FINITE_DIFFERENCE)}
    if sympy.simplify(diff - examples.EX2_PRINTED_FINITE_DIFFERENCE) == 0:
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"encoding": encoding, "finite_difference": str(diff),
                                                              "printed": "1"},
                   discrepancies=[f"in the {encoding} encoding the finite difference between the two states is "
                                  f"{diff}, not the printed L(1) - L(0) = 1 (which is the {{0, 1}} encoding's): the "
                                  "encoding convention, the conclusion is unaffected"])


SBN_EX2 = Claim(
    id="SBN-EX2",
    title="Example 2: L(x) = x - sin(2 pi x), ST points opposite to the true gradient",
    source=SbnSource("Appendix B.2, Example 2 (Tokui & Sato 2017)", ""),
    statement_printed=(
        "Let L(x) = x - sin(2 pi x). Then the finite difference L(1) - L(0) = 1 but the derivative "
        "dL/dx = 1 - 2 pi cos(2 pi x) = -1. In this failure example, ST, even in the expectation, will point "
        "to exactly the opposite direction of the true gradient. [Later: 'L(x) = x for any x in {-1, 1}'.]"
    ),
    statement_checked=(
        "Two readings of the encoding. 'pm1' (the SBN model, x = sign(a - z)): d E[L]/da = F'(a)(L(1) - L(-1)) = "
        "2F'(a), E[2F'(a) L'(x)] = 2F'(a)(1 - 2 pi). '01' (x = (1 + sign(a - z))/2, as 'L(1) - L(0)' suggests): "
        "d E[L]/da = F'(a), E[F'(a) L'(x)] = F'(a)(1 - 2 pi). In both, for any cdf F with F'(a) > 0, the expected ST "
        "gradient is the true gradient times the constant 1 - 2 pi < 0 (compared with 1 - 2 pi exactly, and by "
        "enumeration / Monte Carlo for L(x) = sum_i (x_i - sin(2 pi x_i))). The printed derivative value and "
        "finite difference are checked under each reading."
    ),
    readings=(
        Reading("pm1", "x in {-1, 1} (the SBN model of the paper)"),
        Reading("01", "x in {0, 1} (the encoding in which 'L(1) - L(0)' is the finite difference)"),
    ),
    methods=(
        Method("sympy-ratio-pm1", Kind.SYMBOLIC, check_ex2_symbolic,
               "derive both gradients (+-1); their ratio equals 1 - 2 pi exactly", part="opposite direction",
               reading="pm1", scope=Scope.whole("every differentiable F, every a with F'(a) > 0 (generic F)")),
        Method("sympy-ratio-01", Kind.SYMBOLIC, functools.partial(check_ex2_symbolic, encoding="01"),
               "derive both gradients ({0,1}); their ratio equals 1 - 2 pi exactly", part="opposite direction",
               reading="01", scope=Scope.whole("every differentiable F, every a with F'(a) > 0 (generic F)")),
        Method("enumeration", Kind.PROPERTY, check_ex2_enumeration,
               "n = 10, 4 noises: every coordinate ratio E[ST]_i/grad_i vs 1 - 2 pi (rel. tol. 1e-12), cosine -1",
               part="opposite direction", reading="pm1", scope=Scope("4 noises, n = 10, random a")),
        Method("monte-carlo", Kind.MONTECARLO, check_ex2_montecarlo,
               "sampled ST intervals lie on the opposite side of 0 and contain (1 - 2 pi) grad", part="opposite direction",
               reading="pm1", scope=Scope("gaussian noise, n = 10, random a")),
        Method("printed-difference-01", Kind.SYMBOLIC, check_ex2_printed_difference,
               "L(1) - L(0) = 1 as the finite difference of the {0,1} encoding", part="printed: finite difference",
               role="printed", reading="01", category=Category.CONVENTION, scope=Scope.whole("a single number")),
        Method("printed-difference-pm1", Kind.SYMBOLIC,
               functools.partial(check_ex2_printed_difference, encoding="pm1"),
               "the finite difference of the +-1 model, L(1) - L(-1), vs the printed 1", part="printed: finite difference",
               role="printed", reading="pm1", category=Category.CONVENTION, scope=Scope.whole("a single number")),
        Method("printed-derivative-pm1", Kind.SYMBOLIC, check_ex2_printed_derivative,
               "dL/dx = -1 at the binary points -1, 1, as printed", part="printed: derivative value", role="printed",
               reading="pm1", category=Category.ERROR, scope=Scope.whole("both binary points")),
        Method("printed-derivative-01", Kind.SYMBOLIC, functools.partial(check_ex2_printed_derivative, points=(0, 1)),
               "dL/dx = -1 at the binary points 0, 1, as printed", part="printed: derivative value", role="printed",
               reading="01", category=Category.ERROR, scope=Scope.whole("both binary points")),
    ),
    discrepancies=(
        Finding(Category.CONVENTION,
                "The example mixes encodings: L(1) - L(0) = 1 is the finite difference of the {0,1} encoding, while "
                "the SBN model uses x in {-1, 1}, where it is L(1) - L(-1) = 2 (the paper itself notes L(x) = x on "
                "{-1, 1}); the conclusion (ratio 1 - 2 pi < 0) holds in both readings (checked)."),
    ),
    tags=("sbn", "bias", "example"),
)


# ---------------------------------------------------------------------------- SBN-B3


def _printed_eq20(W: np.ndarray, y: np.ndarray):
    return losses.QuadraticMultilinear(W, y)


def check_b3_symbolic(ctx: MethodContext) -> Outcome:
    """sympy, fully symbolic W (2 x 3; 3 x 4 in full) and y: (20) is multilinear and equals the reduction of ||Wx-y||^2."""
    shapes = ((2, 3), (3, 4)) if ctx.full else ((2, 3),)
    rows = []
    for k, n in shapes:
        W = sympy.Matrix(k, n, lambda r, c: sympy.Symbol(f"w{r + 1}{c + 1}", real=True))
        y = sympy.Matrix(k, 1, lambda r, c: sympy.Symbol(f"y{r + 1}", real=True))
        proof = multilinear.prove_quadratic_multilinear(W, y)
        rows.append({"shape": [k, n], "multilinear": proof.eq20_is_multilinear, "difference": str(proof.difference)})
        if not proof.holds:
            return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=rows[-1])
    controls = _b3_negative_controls()
    return Outcome(Verdict.PROVED, {"instances": rows, "scope": "symbolic W, y of the listed shapes",
                                    "negative_controls": controls})


class ProofCannotSayNo(SelfCheckFailed):
    """A proof routine accepted a candidate known to be false: its PROVED would mean nothing."""


def _b3_negative_controls() -> dict:
    """The loss the proof of :func:`check_b3_symbolic` starts from must be ``||Wx - y||^2`` (compared with numpy at an
    integer point), and the proof routine must reject two wrong candidates for (20) (symbolic 2 x 2 W, y):
    ``||Wx - y||^2`` itself (not multilinear: the x_i^2 terms stay) and (20) without its constant ``sum_i ||W_i||^2``
    (multilinear, but off by that constant).  Raises :class:`ProofCannotSayNo` (the method is then ERROR) if either
    is accepted; returns what the routine said about each."""
    W = sympy.Matrix(2, 2, lambda r, c: sympy.Symbol(f"w{r + 1}{c + 1}", real=True))
    y = sympy.Matrix(2, 1, lambda r, c: sympy.Symbol(f"y{r + 1}", real=True))
    xs = tuple(sympy.symbols("x1:3"))
    col_sq = sum(W[r, c] ** 2 for r in range(2) for c in range(2))
    # (name, wrong candidate, is it multilinear)
    wrong = (("||Wx - y||^2", multilinear.quadratic_loss(W, y, xs), False),
             ("(20) without + sum_i ||W_i||^2", multilinear.quadratic_multilinear(W, y, xs) - col_sq, True))
    # the loss both sides of the proof are built from, against numpy at an integer point (a wrong ||Wx - y||^2
    # would enter (20) and its reduction alike, and the proof would still close)
    Wn, yn, xn = np.array([[1, 2], [3, -1]]), np.array([1, -2]), np.array([1, -1])
    at = {**{W[r, c]: int(Wn[r, c]) for r in range(2) for c in range(2)}, y[0]: int(yn[0]), y[1]: int(yn[1]),
          xs[0]: int(xn[0]), xs[1]: int(xn[1])}
    mine, ref = multilinear.quadratic_loss(W, y, xs).xreplace(at), int(np.sum((Wn @ xn - yn) ** 2))
    out = {"||Wx - y||^2 at an integer point": {"sympy": str(mine), "numpy": ref}}
    if mine != ref:
        raise ProofCannotSayNo(f"SBN-B3: theory.multilinear.quadratic_loss gives {mine} at W = {Wn.tolist()}, "
                               f"y = {yn.tolist()}, x = {xn.tolist()}, numpy {ref}: the proof of (20) would start from "
                               "a wrong loss.")
    for name, cand, is_multilinear in wrong:
        p = multilinear.prove_quadratic_multilinear(W, y, xs, candidate=cand)
        out[name] = {"multilinear": p.eq20_is_multilinear, "difference_is_zero": p.difference == 0,
                     "accepted": p.holds}
        if p.holds or p.eq20_is_multilinear != is_multilinear:
            raise ProofCannotSayNo(f"SBN-B3: the proof of (20) accepted or misjudged the wrong candidate {name}: "
                                   f"{out[name]}; the symbolic proof cannot be trusted.")
    return out


def check_b3_every_n(ctx: MethodContext, *, keep_constant: bool = True, subtract_square: bool = True) -> Outcome:
    """sympy matrix expressions with a symbolic height k: (20) is multilinear and equals ||Wx - y||^2 on the cube,
    for every k, n, W, y.

    Per coordinate i: Wx - y = x_i W_i + v with v = sum_{j != i} x_j W_j - y free of x_i (W_i, v symbolic
    k-vectors, k symbolic).  The x_i-part of (20) is ||x_i W_i + v||^2 - x_i^2 ||W_i||^2 + ||W_i||^2 (the other
    coordinates' corrections do not contain x_i): sympy expands it, it is affine in x_i, and
    (20) - ||Wx - y||^2 = (1 - x_i^2) ||W_i||^2 summed over i, which vanishes for x_i in {-1, 1}.
    ``keep_constant`` / ``subtract_square`` drop a term of (20) (mutants).
    """
    k = sympy.Symbol("k", integer=True, positive=True)
    Wi, v = sympy.MatrixSymbol("W_i", k, 1), sympy.MatrixSymbol("v", k, 1)
    xi = sympy.Symbol("x_i", real=True)
    L = (xi * Wi + v).T * (xi * Wi + v)
    Lt = L
    if subtract_square:
        Lt = Lt - xi**2 * (Wi.T * Wi)
    if keep_constant:
        Lt = Lt + Wi.T * Wi
    t = sympy.Symbol("t", real=True)

    def zero(e):
        e = sympy.expand(e)
        return e == 0 or bool(getattr(e, "is_ZeroMatrix", False))

    # affine in x_i: f(t) - f(0) - t (f(1) - f(0)) vanishes identically (exact for the quadratic f at hand)
    affine_gap = sympy.expand(Lt.subs(xi, t) - Lt.subs(xi, 0) - t * (Lt.subs(xi, 1) - Lt.subs(xi, 0)))
    correction = sympy.expand(Lt - L)
    on_cube = {str(x): str(sympy.expand(correction.subs(xi, x))) for x in (-1, 1)}
    affine = zero(affine_gap)
    cube_ok = all(zero(correction.subs(xi, x)) for x in (-1, 1))
    evidence = {"(20)_x_i_part_expanded": str(sympy.expand(Lt)), "affine_in_x_i_gap": str(affine_gap),
                "(20)_minus_L": str(correction), "(20)_minus_L_at_x_i=+-1": on_cube,
                "argument": "per coordinate; v = sum_{j != i} x_j W_j - y and the other corrections are free of x_i"}
    if affine and cube_ok:
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"affine_in_x_i_gap": str(affine_gap),
                                                              "on_cube": on_cube})


def check_b3_st_unbiased_every_n(ctx: MethodContext) -> Outcome:
    """Composition of two generic proofs: (20) is multilinear for every k, n, W, y (:func:`check_b3_every_n`) and
    ST is unbiased for every multilinear L, every n, generic F (:func:`check_b2_coordinate`); so ST on (20) is
    unbiased for E[(20)] = E[||Wx - y||^2] (the two agree on every state).  PROVED only if both are."""
    parts = {"(20) multilinear": check_b3_every_n(ctx), "Prop. B.2 every n": check_b2_coordinate(ctx)}
    evidence = {k: {"verdict": str(o.verdict), **{kk: vv for kk, vv in o.evidence.items() if kk != "argument"}}
                for k, o in parts.items()}
    if all(o.verdict is Verdict.PROVED for o in parts.values()):
        return Outcome(Verdict.PROVED, evidence)
    if any(o.verdict is Verdict.REFUTED for o in parts.values()):
        return Outcome(Verdict.REFUTED, evidence, counterexample={k: str(o.verdict) for k, o in parts.items()})
    return Outcome(Verdict.INCONCLUSIVE, evidence)


def _random_problem(rng, n, k=5):
    return rng.normal(size=(k, n)), rng.normal(size=k)


def check_b3_on_cube(ctx: MethodContext, *, reformulation=_printed_eq20) -> Outcome:
    """Enumeration: (20) equals ||Wx-y||^2 on every point of {-1,1}^n and its Walsh-Hadamard spectrum has order <= 2."""
    rng = ctx.rng()
    sizes = (4, 8, 12, 16) if ctx.full else (4, 8, 12)
    rows, bad = [], None
    for n in sizes:
        W, y = _random_problem(rng, n)
        X = multilinear.binary_points(n, "pm1")
        L = losses.Quadratic(W, y).value(X)
        Lt = reformulation(W, y).value(X)
        gap = float(np.max(np.abs(L - Lt)))
        coeffs = multilinear.multilinear_coefficients(Lt, "pm1")
        order = np.array([bin(m).count("1") for m in range(2**n)])
        high = float(np.max(np.abs(coeffs[order > 2]))) if n > 2 else 0.0
        tol = 64 * np.finfo(float).eps * float(np.max(np.abs(L))) * n
        rows.append({"n": n, "max_abs_gap_on_cube": gap, "max_abs_coefficient_order_gt_2": high, "tolerance": tol})
        if (gap > tol or high > tol) and bad is None:
            bad = {"n": n, "W": W, "y": y, "max_abs_gap": gap, "max_high_order": high}
    if bad:
        return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=bad)
    return Outcome(Verdict.VERIFIED, {"instances": rows})


def check_b3_st_unbiased(ctx: MethodContext, *, reformulation=_printed_eq20) -> Outcome:
    """Enumeration: E[ST applied to (20)] = grad E[||Wx-y||^2]; ST on the raw loss is biased (for contrast)."""
    rng = ctx.rng()
    rows, bad, raw_bias, fixed_bias = [], None, [], []
    ns = (2, 4, 6, 8, 10)
    for n in ns:
        W, y = _random_problem(rng, n)
        a = _random_a(rng, n)
        for noise in NOISES:
            exact = enumeration.exact_gradient(losses.Quadratic(W, y), a, noise)
            fixed = _compare(enumeration.expected_estimator("st", reformulation(W, y), a, noise), exact)
            raw = _compare(enumeration.expected_estimator("st", losses.Quadratic(W, y), a, noise), exact)
            rows.append({"n": n, "noise": noise, "bias_on_eq20": fixed["max_abs_gap"],
                         "bias_on_raw_loss": raw["max_abs_gap"], "rounding_tolerance": fixed["rounding_tolerance"]})
            if noise == "logistic":
                raw_bias.append(raw["max_abs_gap"])
                fixed_bias.append(max(fixed["max_abs_gap"], 1e-17))
            if fixed["biased"] and bad is None:
                bad = {"n": n, "noise": noise, "W": W, "y": y, "a": a, **fixed}
    fig = Figure("st-bias", "Prop. B.3: max |E[ST] − ∇E[L]| over the coordinates (logistic noise, exact "
                 "enumeration; a bias of 0 is drawn at 1e-17)", "number of binary units $n$", _BIAS_YLABEL,
                 (Series(r"ST on $\|Wx - y\|^2$", tuple(float(n) for n in ns), tuple(raw_bias), style="points"),
                  Series("ST on the multilinear form (20)", tuple(float(n) for n in ns), tuple(fixed_bias),
                         style="points")),
                 yscale="log")
    if bad:
        return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=bad, figures=[fig])
    return Outcome(Verdict.VERIFIED, {"instances": rows}, figures=[fig])


def check_b3_uniqueness(ctx: MethodContext) -> Outcome:
    """Exact integer arithmetic: the 2^n monomials restricted to {-1,1}^n form a basis (H^T H = 2^n I), n <= 8 (10 full).

    So every pseudo-Boolean function has exactly one multilinear form; it is
    computed for random and non-polynomial functions and checked to reproduce them: by the inverse transform and by
    summing its monomials directly, in the {-1,1} and the {0,1} encoding (tolerance 1e-9, relative to max(1, |f|)).
    """
    max_n = 10 if ctx.full else 8
    for n in range(1, max_n + 1):
        X = multilinear.binary_points(n, "pm1").astype(np.int64)
        H = np.ones((2**n, 2**n), dtype=np.int64)
        for i in range(n):
            H *= np.where((np.arange(2**n)[None, :] >> i) & 1, X[:, [i]], 1)
        if not np.array_equal(H.T @ H, (2**n) * np.eye(2**n, dtype=np.int64)):
            return Outcome(Verdict.REFUTED, {"n": n}, counterexample={"n": n, "note": "monomial matrix is singular"})
    rng = ctx.rng()
    n = 8
    X = multilinear.binary_points(n, "pm1")
    funcs = {"random values": rng.normal(size=2**n), "exp(sum x)*sin(x1)": np.exp(X.sum(1)) * np.sin(X[:, 0])}
    round_trip = {name: float(np.max(np.abs(multilinear.multilinear_values(
        multilinear.multilinear_coefficients(v, "pm1"), "pm1") - v))) for name, v in funcs.items()}
    # the form itself, evaluated monomial by monomial (sum_S c_S prod_{i in S} x_i, no butterfly), must give the
    # function's values; in both encodings the package supports ({0,1}: the same basis argument with x_i^2 = x_i)
    for enc in ("pm1", "01"):
        Xe = multilinear.binary_points(n, enc).astype(float)
        He = np.ones((2**n, 2**n))
        for i in range(n):
            He *= np.where((np.arange(2**n)[None, :] >> i) & 1, Xe[:, [i]], 1.0)
        fe = {"random values": funcs["random values"], "exp(sum x)*sin(x1)": np.exp(Xe.sum(1)) * np.sin(Xe[:, 0] + 1)}
        for name, v in fe.items():
            round_trip[f"{name}, monomial evaluation, {enc}"] = float(
                np.max(np.abs(He @ multilinear.multilinear_coefficients(v, enc) - v)) / max(1.0, np.max(np.abs(v))))
        # and back: the inverse transform of this encoding reproduces the values (the {0,1} Moebius inverse too)
        round_trip[f"random values, inverse transform, {enc}"] = float(np.max(np.abs(multilinear.multilinear_values(
            multilinear.multilinear_coefficients(fe["random values"], enc), enc) - fe["random values"])))
    xs = sympy.symbols("x1:4")
    example = multilinear.multilinear_reduce((xs[0] + 2 * xs[1] - 1) ** 2 + xs[0] * xs[1] ** 3, xs)
    # a non-polynomial function goes through the values route (multilinear_from_values); its form must be
    # multilinear and equal the function at every cube point, exactly (sympy rationals, xreplace)
    nonpoly = 2 ** (xs[0] + 2 * xs[1]) + xs[2] * sympy.Abs(xs[0] - xs[2])
    exact_forms = {}
    for enc in ("pm1", "01"):
        form = multilinear.multilinear_reduce(nonpoly, xs, enc)
        pts = multilinear.binary_points(3, enc)
        wrong = [tuple(int(t) for t in pt) for pt in pts
                 if sympy.simplify((form - nonpoly).xreplace(dict(zip(xs, map(sympy.Integer, pt))))) != 0]
        exact_forms[enc] = {"form": str(form), "multilinear": multilinear.is_multilinear(form, xs),
                            "points_where_it_differs": wrong}
    evidence = {"basis_checked_up_to_n": max_n, "round_trip_max_abs_error_n8": round_trip,
                "example": {"L": "(x1 + 2*x2 - 1)**2 + x1*x2**3", "multilinear_form": str(example)},
                "values_route_example": {"L": "2**(x1 + 2*x2) + x3*|x1 - x3|", **exact_forms}}
    bad_forms = {k: v for k, v in exact_forms.items() if v["points_where_it_differs"] or not v["multilinear"]}
    if bad_forms:
        return Outcome(Verdict.REFUTED, evidence, counterexample=bad_forms)
    evidence["tolerance"] = "max |reproduced - f| <= 1e-9 (relative to max(1, max |f|) for the monomial evaluation)"
    if max(round_trip.values()) > 1e-9:
        return Outcome(Verdict.REFUTED, evidence, counterexample=round_trip)
    return Outcome(Verdict.PROVED, evidence)


def check_b3_printed_unique_polynomial(ctx: MethodContext) -> Outcome:
    """'A unique polynomial (and hence multilinear) representation', read literally for polynomials: two distinct
    polynomials that agree on every point of {-1, 1}^n (x1^2 and 1; (20)'s raw ||Wx - y||^2 and L~) refute it."""
    xs = sympy.symbols("x1:3")
    p, q = xs[0] ** 2 * xs[1], xs[1]
    agree = all(p.subs(dict(zip(xs, pt))) == q.subs(dict(zip(xs, pt))) for pt in itertools.product((-1, 1), repeat=2))
    distinct = sympy.expand(p - q) != 0
    evidence = {"p": str(p), "q": str(q), "agree_on_cube": agree, "distinct_polynomials": distinct}
    if agree and distinct:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"p": str(p), "q": str(q), "cube": "{-1,1}^2"})
    return Outcome(Verdict.PROVED, evidence)


def check_b3_basis_every_n(ctx: MethodContext, *, points=(-1, 1)) -> Outcome:
    """Every n: the Gram matrix of the 2^n monomials m_S(x) = prod_{i in S} x_i over {-1, 1}^n is 2^n I.

    Entry (S, T) = sum_x prod_i x_i^(e_i) with e_i = [i in S] + [i in T] in {0, 1, 2}; the sum over the product
    set factorizes into prod_i sum_{x_i in {-1, 1}} x_i^(e_i), and sympy evaluates the three one-coordinate sums:
    2 (e = 0), 0 (e = 1), 2 (e = 2).  So the entry is 2^n if S = T and 0 otherwise: 2^n functions that are
    orthogonal on 2^n points form a basis, and every f: {-1,1}^n -> R has exactly one multilinear form.
    ``points`` replaces the binary values (mutant: {0, 1}, where x_i = 0 breaks orthogonality).
    """
    x = sympy.Symbol("x")
    sums = {e: sum(sympy.Integer(p) ** e for p in points) for e in (0, 1, 2)}
    evidence = {"one_coordinate_sums": {f"sum x^{e}": str(v) for e, v in sums.items()},
                "argument": "Gram entry factorizes over coordinates: prod_i sum_{x_i} x_i^(e_i); diagonal e_i in "
                            "{0, 2}, off-diagonal some e_i = 1", "variable": str(x)}
    if sums[1] == 0 and sums[0] == sums[2] == 2:
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"one_coordinate_sums": evidence["one_coordinate_sums"]})


SBN_B3 = Claim(
    id="SBN-B3",
    title="Multilinear reformulation of ||Wx - y||^2 (Prop. B.3, eq. (20))",
    source=SbnSource("Appendix B.2, Prop. B.3; section 2.2 I", "(20)"),
    statement_printed=(
        "Let L(x) = ||Wx - y||^2. Then the multilinear equivalent reformulation of L is given by "
        "L~(x) = ||Wx - y||^2 - sum_i x_i^2 ||W_:,i||^2 + sum_i ||W_:,i||^2 (20). Any real-valued function of "
        "binary variables has a unique polynomial (and hence multilinear) representation. ST applied to L~ "
        "gives an unbiased gradient estimate of E[L]."
    ),
    statement_checked=(
        "For every W in R^(k x n), y in R^k: (i) L~ of (20), expanded, has degree <= 1 in each x_i and equals "
        "||Wx - y||^2 at every x in {-1,1}^n (symbolic for every k, n per coordinate; fully symbolic 2 x 3 W; "
        "enumeration for random W, n <= 12); (ii) E[2F'(a_i) dL~/dx_i(x)] = d/da_i E[||Wx - y||^2] (from (i) and "
        "Prop. B.2 for every n; enumeration, 4 noises); (iii) the 2^n monomials "
        "prod_{i in S} x_i are a basis of the functions {-1,1}^n -> R (exactly, n <= 8; 10 in the full tier), so "
        "the multilinear form is unique (the polynomial form is not: checked as printed)."
    ),
    methods=(
        Method("sympy-every-n", Kind.SYMBOLIC, check_b3_every_n,
               "matrix expressions with symbolic height k, per coordinate: (20) has degree <= 1 in x_i and differs "
               "from ||Wx - y||^2 by (1 - x_i^2)||W_i||^2", part="(20) is the multilinear form",
               scope=Scope.whole("every k, n, W, y (per-coordinate reduction, symbolic k)")),
        Method("sympy-symbolic-W", Kind.SYMBOLIC, check_b3_symbolic,
               "(20) with symbolic W, y is multilinear and equals x_i^2 -> 1 reduction", part="(20) is the multilinear form",
               scope=Scope("W, y fully symbolic of shape 2 x 3 (also 3 x 4 in the full tier)")),
        Method("enumeration-on-cube", Kind.EXACT, check_b3_on_cube,
               "random W, y: (20) = ||Wx-y||^2 on all 2^n points; Walsh spectrum of order <= 2",
               part="(20) is the multilinear form", scope=Scope("random W (5 x n), y; n in {4, 8, 12}")),
        Method("sympy-st-unbiased-every-n", Kind.SYMBOLIC, check_b3_st_unbiased_every_n,
               "(20) multilinear (every k, n) composed with Prop. B.2 (every n, generic F)",
               part="ST on (20) is unbiased", scope=Scope.whole("every k, n, W, y, generic F")),
        Method("enumeration-st-unbiased", Kind.EXACT, check_b3_st_unbiased,
               "E[ST on (20)] vs exact gradient of E[||Wx-y||^2]", part="ST on (20) is unbiased",
               scope=Scope("random W (5 x n), y, a; n in {2, ..., 10}; 4 noises")),
        Method("sympy-basis-every-n", Kind.SYMBOLIC, check_b3_basis_every_n,
               "Gram matrix of the monomials = 2^n I for every n (factorization over coordinates)",
               part="unique multilinear form", scope=Scope.whole("every n")),
        Method("walsh-basis", Kind.EXACT, check_b3_uniqueness,
               "H^T H = 2^n I in integers: the multilinear form exists and is unique", part="unique multilinear form",
               scope=Scope("n <= 8 (10 in the full tier), exact integers")),
        Method("printed-unique-polynomial", Kind.SYMBOLIC, check_b3_printed_unique_polynomial,
               "'unique polynomial representation' read for polynomials", part="printed: unique polynomial",
               role="printed", category=Category.IMPRECISION,
               scope=Scope.whole("one pair of distinct polynomials equal on the cube decides it")),
    ),
    discrepancies=(
        Finding(Category.IMPRECISION,
                "'Any real-valued function of binary variables has a unique polynomial (and hence multilinear) "
                "representation': the polynomial representation is not unique (x1^2 x2 and x2 agree on {-1,1}^2; "
                "||Wx - y||^2 and (20) themselves are two polynomials for one function); the multilinear one is "
                "(method walsh-basis). The intended statement is the multilinear one."),
    ),
    tags=("sbn", "bias", "multilinear"),
)

CLAIMS = (SBN_B2, SBN_EX1, SBN_EX2, SBN_B3)
