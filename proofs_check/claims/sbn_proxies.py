"""SBN initialization and proxies (section 4, Fig. A.1, Cor. B.1): SBN-INIT, SBN-PROXY, SBN-COR-B1.

Model: ``x = sign(a - z)`` with noise cdf ``F``; Alg. 1's backward pass
(line 5) multiplies the loss gradient by ``2 diag(F'(a))``.

* SBN-INIT (section 4, 'Initialization'): noise with zero mean and
  ``F'(0) = 1/2`` makes the Jacobian ``2 diag(F'(a))`` of line 5 the identity
  at the mean pre-activation ``a = 0`` (BN with ``s = 1, b = 0``).
* SBN-PROXY (Fig. A.1): ``E[sign(a - z)] = 2F(a) - 1``; uniform noise gives
  Htanh, logistic ``F(z) = sigmoid(2z)`` gives tanh, triangular noise gives a
  scaled ApproxSign (Liu et al. 2018); each with ``2F'(0) = 1``; the printed
  densities are checked as printed.
* SBN-COR-B1 (Cor. B.1): with ``T = F`` the transformed noise ``T(z)`` is
  uniform on (0, 1) and line 5 becomes a constant.

Named proxies are written from their published definitions (Htanh = clip to
[-1, 1]; ApproxSign(x) = 2x + x^2 on [-1, 0), 2x - x^2 on [0, 1), sign
outside), never from ``F``; ``2F - 1`` and ``2F'`` come from the noise
densities of :mod:`theory.noise` / :mod:`numerics.noise`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy

from stecheck.numerics import losses
from stecheck.numerics.estimators import estimate_batch
from stecheck.numerics.noise import Noise
from stecheck.numerics.noise import get_noise as numeric_noise
from stecheck.theory.noise import NOISE_FAMILIES, A, U, Z, NoiseFamily, proxy_backward, proxy_forward

from ._common import CONFIDENCE, NOISES, SbnSource
from ._mc_precision import gate
from ..claim import Claim, Figure, Kind, Method, MethodContext, Outcome, Reading, Series
from ..verdict import Category, Finding, Scope, Verdict
from .sbn_latent import _region_point, branch_at, breakpoints, zero_on_regions

__all__ = ["CLAIMS", "PROXY_CASES", "ProxyCase", "approx_sign", "scaled_triangular_family", "ScaledNoise"]

OO = sympy.oo


def approx_sign(x: sympy.Expr) -> sympy.Expr:
    """ApproxSign of Liu et al. (2018, Bi-Real Net): -1, 2x + x^2, 2x - x^2, 1 on (-oo,-1), [-1,0), [0,1), [1,oo)."""
    return sympy.Piecewise((-1, x < -1), (2 * x + x**2, x < 0), (2 * x - x**2, x < 1), (1, True))


@dataclass(frozen=True)
class ProxyCase:
    """A noise family and the empirical proxy it should recover, forward and backward, as published."""

    noise: str
    proxy: str
    forward: sympy.Expr   # in A
    backward: sympy.Expr  # in A: the proxy's published derivative


PROXY_CASES = (
    ProxyCase("uniform", "Htanh", sympy.Max(-1, sympy.Min(1, A)),
              sympy.Piecewise((1, sympy.Abs(A) <= 1), (0, True))),
    ProxyCase("logistic", "tanh", sympy.tanh(A), 1 - sympy.tanh(A) ** 2),
    # ApproxSign'(x) = 2 - 2|x| on [-1, 1]; the scaled proxy ApproxSign(a/2) has derivative (2 - |a|)/2
    ProxyCase("triangular", "ApproxSign(a/2)", approx_sign(A / 2), sympy.Max(0, 1 - sympy.Abs(A) / 2)),
)


def scaled_triangular_family(half_width) -> NoiseFamily:
    """Triangular noise on [-c, c] (density (c - |z|)/c^2); c = 2 is the paper's (2F'(0) = 1)."""
    c = sympy.nsimplify(half_width)
    pdf = sympy.Piecewise((0, Z < -c), ((c + Z) / c**2, Z <= 0), ((c - Z) / c**2, Z <= c), (0, True))
    cdf = sympy.Piecewise((0, Z < -c), ((Z + c) ** 2 / (2 * c**2), Z <= 0), (1 - (c - Z) ** 2 / (2 * c**2), Z <= c),
                          (1, True))
    icdf = sympy.Piecewise((-c + c * sympy.sqrt(2 * U), U <= sympy.Rational(1, 2)),
                           (c - c * sympy.sqrt(2 * (1 - U)), True))
    return NoiseFamily(f"triangular-c{c}", pdf, cdf, icdf)


class ScaledNoise(Noise):
    """``s z`` for a registered noise ``z`` (density scale 1/s): a false premise for mutants when s != 1."""

    def __init__(self, base: str, s: float, *, pdf_factor: float = 1.0):
        self.base, self.s, self.pdf_factor = numeric_noise(base), float(s), float(pdf_factor)
        self.name = f"{base}-x{s:g}"
        lo, hi = self.base.support
        self.support = (lo * self.s, hi * self.s)

    def _pdf(self, z):
        return self.pdf_factor * self.base.pdf(z / self.s) / self.s

    def _cdf(self, z):
        return self.base.cdf(z / self.s)

    def _icdf(self, u):
        return self.s * self.base.icdf(u)

    def _sample(self, rng, shape):
        return self.s * self.base.sample(rng, shape)


def _fam(name, families) -> NoiseFamily:
    return (families or {}).get(name) or NOISE_FAMILIES[name]


def _num(name, noises) -> Noise:
    return (noises or {}).get(name) or numeric_noise(name)


def _tail_limit(expr, sym, direction):
    cuts = breakpoints(expr, sym)
    point = (min(cuts) - 1 if direction < 0 else max(cuts) + 1) if cuts else sympy.Integer(0)
    return sympy.limit(branch_at(expr, sym, point), sym, direction * OO)


def _continuous_at_cuts(expr, sym) -> dict | None:
    """None if ``expr`` is continuous at each of its branch points, else the first jump."""
    for c in breakpoints(expr, sym):
        left = sympy.simplify(branch_at(expr, sym, c - sympy.Rational(1, 10**6)).subs(sym, c))
        right = sympy.simplify(branch_at(expr, sym, c + sympy.Rational(1, 10**6)).subs(sym, c))
        if sympy.simplify(left - right) != 0:
            return {"at": str(c), "left": str(left), "right": str(right)}
    return None


def _nonnegative(expr, sym) -> tuple[bool | None, dict | None]:
    """Decide expr >= 0 on R region by region (sympy assumptions, or exact values at the ends of a linear piece)."""
    cuts = breakpoints(expr, sym)
    edges = [-OO, *cuts, OO]
    undecided = False
    for left, right in zip(edges[:-1], edges[1:]):
        mid = _region_point(left, right)
        br = sympy.simplify(branch_at(expr, sym, mid))
        if br.is_nonnegative:
            continue
        poly = br.as_poly(sym) if br.is_polynomial(sym) else None
        if poly is not None and poly.degree() <= 1:
            ends = [br.subs(sym, e) if e.is_finite else sympy.limit(br, sym, e) for e in (left, right)]
            if all(sympy.sympify(v) >= 0 for v in ends):
                continue
            return False, {"region": f"({left}, {right})", "value_at_ends": [str(v) for v in ends]}
        if br.subs(sym, mid).is_negative:
            return False, {"at": str(mid), "value": str(br.subs(sym, mid))}
        undecided = True
    return (None if undecided else True), None


# ---------------------------------------------------------------------------- SBN-INIT


def check_init_symbolic(ctx: MethodContext, *, families=None, names=NOISES, n: int = 3) -> Outcome:
    """sympy, per noise: p(-z) = p(z) (zero mean), F'(0) = 1/2, and the Jacobian of line 5 at a = 0 is I_n;
    BN with s = 1, b = 0 has mean output 0 (the mean pre-activation)."""
    rows, failures = [], []
    v = sympy.symbols(f"v1:{n + 1}", real=True)          # dL/dx
    a = sympy.symbols(f"a1:{n + 1}", real=True)
    for name in names:
        fam = _fam(name, families)
        pdf = fam.pdf
        symmetric, _ = zero_on_regions(pdf.subs(Z, -A) - pdf.subs(Z, A), A, -OO, OO)
        backward = sympy.Matrix([2 * pdf.subs(Z, ai) * vi for ai, vi in zip(a, v)])   # line 5 of Alg. 1
        J = backward.jacobian(v).subs({ai: 0 for ai in a})
        J = J.applyfunc(sympy.simplify)
        row = {"noise": fam.name, "symmetric_density": symmetric, "F'(0)": str(sympy.simplify(pdf.subs(Z, 0))),
               "jacobian_at_0": str(J.tolist())}
        rows.append(row)
        if symmetric is False or J != sympy.eye(n):
            failures.append(row)
    xs = sympy.symbols("x1:5", real=True)
    mean = sum(xs) / 4
    std = sympy.sqrt(sum((x - mean) ** 2 for x in xs) / 4)
    s, b = sympy.Integer(1), sympy.Integer(0)
    bn_mean = sympy.simplify(sum(s * (x - mean) / std + b for x in xs) / 4)
    evidence = {"instances": rows, "bn_output_mean_with_s=1_b=0": str(bn_mean), "units": n}
    if failures or bn_mean != 0:
        return Outcome(Verdict.REFUTED, evidence, counterexample=failures[0] if failures else {"bn_mean": str(bn_mean)})
    return Outcome(Verdict.PROVED, evidence)


def check_init_generic(ctx: MethodContext, *, fprime0=sympy.Rational(1, 2), n: int = 4) -> Outcome:
    """sympy, generic F and any batch size m: (i) line 5's backward v -> 2 diag(F'(a)) v has Jacobian 2F'(0) I at
    a = 0, which is I exactly when F'(0) = 1/2 (the unit-wise map is the same for every n; shown for n = 4 with
    generic F); (ii) BN with s = 1, b = 0 has mean output 0 for any batch size m (symbolic m), so a = 0 is the mean
    pre-activation.  ``fprime0`` is the value imposed on F'(0) (mutant: the literal 2)."""
    a = sympy.symbols(f"a1:{n + 1}", real=True)
    v = sympy.symbols(f"v1:{n + 1}", real=True)
    Fp = sympy.Function("Fprime")  # F' of a generic cdf F
    backward = sympy.Matrix([2 * Fp(ai) * vi for ai, vi in zip(a, v)])
    J = backward.jacobian(v).subs({ai: 0 for ai in a}).subs(Fp(0), fprime0)
    m = sympy.Symbol("m", integer=True, positive=True)
    k, j = sympy.symbols("k j", integer=True)
    x = sympy.IndexedBase("x")
    total_x = sympy.Sum(x[k], (k, 1, m))
    mean = sympy.Sum(x[j], (j, 1, m)) / m
    centred = sympy.expand(sympy.Sum(x[k] - mean, (k, 1, m)).doit())
    centred = sympy.simplify(centred.xreplace({sympy.Sum(x[j], (j, 1, m)): total_x}))
    evidence = {"jacobian_at_0": str(J.tolist()), "F'(0)": str(fprime0),
                "sum_k (x_k - mean) (batch size m symbolic)": str(centred),
                "bn_mean_with_s=1_b=0": "sum_k (x_k - mean)/(m sigma) = 0"}
    if J == sympy.eye(n) and centred == 0:
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"jacobian_at_0": str(J.tolist()),
                                                              "centred_sum": str(centred)})


def check_init_alg1_numeric(ctx: MethodContext, *, noises=None, names=NOISES, n: int = 4) -> Outcome:
    """numerics: the Jacobian of Alg. 1's backward map dL/dx -> dL/da at a = 0, column by column (linear losses
    L = e_j . x through numerics' 'st' estimator), equals I; with a non-linear loss ||Wx - y||^2 each sampled ST
    estimate at a = 0 equals dL/dx at its sample; 2F'(0) by central differences of the numeric cdf is 1."""
    rng = ctx.rng()
    rows, worst = [], None
    h = 1e-5
    for name in names:
        noise = _num(name, noises)
        J = np.column_stack([estimate_batch("st", losses.Linear(np.eye(n)[j]), np.zeros(n), noise, rng, 1)[0]
                             for j in range(n)])
        jac_err = float(np.max(np.abs(J - np.eye(n))))
        fd = float(2 * (noise.cdf(h) - noise.cdf(-h)) / (2 * h))
        # a non-linear loss: at a = 0 each sampled ST estimate must equal dL/dx at its own sample x (J = I)
        quad = losses.Quadratic(rng.normal(size=(3, n)), rng.normal(size=3))
        X = np.where(rng.random((64, n)) < 0.5, 1.0, -1.0)
        from stecheck.numerics.estimators import st_estimates
        nl_err = float(np.max(np.abs(st_estimates(quad, np.zeros(n), noise, X) - quad.grad(X))) /
                       (np.max(np.abs(quad.grad(X))) + 1e-300))
        rows.append({"noise": noise.name, "max_abs_J_minus_I": jac_err, "2F'(0)_central_difference": fd,
                     "non_linear_loss_max_rel_gap_to_dL/dx": nl_err})
        # tolerance: 8 ulp for J; h/4 (Lipschitz constant <= 1/2 of each density times h/2) + rounding for fd
        if (jac_err > 8 * np.finfo(float).eps or abs(fd - 1) > h / 4 + 1e-9
                or nl_err > 8 * np.finfo(float).eps) and worst is None:
            worst = {"noise": noise.name, "jacobian": J, "2F'(0)": fd, "non_linear_gap": nl_err}
    evidence = {"instances": rows, "units": n, "h": h}
    if worst:
        return Outcome(Verdict.REFUTED, evidence, counterexample=worst)
    return Outcome(Verdict.VERIFIED, evidence)


def _lipschitz_near_zero(noise: Noise, h: float) -> float:
    z = np.linspace(-h, h, 2001)
    return float(np.max(np.abs(np.diff(noise.pdf(z)) / np.diff(z))))


def check_init_montecarlo(ctx: MethodContext, *, noises=None, names=NOISES, samples: int | None = None) -> Outcome:
    """Monte Carlo from the samplers: the mean's interval contains 0 and 2 P(|z| <= h)/(2h) (+- its bias bound)
    contains 1, at 0.999 family-wise confidence (CLT, Bonferroni over 2 x families)."""
    from scipy.stats import norm

    rng = ctx.rng()
    N = samples or (2_000_000 if ctx.full else 400_000)
    h = 0.05
    q = norm.ppf(1 - (1 - CONFIDENCE) / (2 * 2 * len(names)))
    rows, bad = [], None
    for name in names:
        noise = _num(name, noises)
        z = noise.sample(rng, N)
        m, se = float(z.mean()), float(z.std(ddof=1) / math.sqrt(N))
        p = float(np.mean(np.abs(z) <= h))
        est = 2 * p / (2 * h)
        se_d = 2 * math.sqrt(p * (1 - p) / N) / (2 * h)
        bias = _lipschitz_near_zero(noise, h) * h / 2
        row = {"noise": noise.name, "mean": m, "mean_interval": [m - q * se, m + q * se], "2F'(0)_estimate": est,
               "2F'(0)_interval": [est - q * se_d - 2 * bias, est + q * se_d + 2 * bias], "bias_bound": 2 * bias}
        rows.append(row)
        if not (row["mean_interval"][0] <= 0 <= row["mean_interval"][1]
                and row["2F'(0)_interval"][0] <= 1 <= row["2F'(0)_interval"][1]) and bad is None:
            bad = row
    hw = [(r["2F'(0)_interval"][1] - r["2F'(0)_interval"][0]) / 2 for r in rows]
    hw_mean = [(r["mean_interval"][1] - r["mean_interval"][0]) / 2 for r in rows]
    decides, precision = gate(hw + hw_mean, [0.25] * len(hw) + [0.02] * len(hw_mean),
                              "2F'(0) interval half-width <= 0.25 (to exclude the factor-2 mis-scalings 1/2 and 2 "
                              "and the literal F'(0) = 2, i.e. 2F'(0) = 4); mean interval half-width <= 0.02")
    evidence = {**precision, "instances": rows, "samples": N, "h": h, "family_confidence": CONFIDENCE}
    if bad:
        return Outcome(Verdict.REFUTED, evidence, counterexample=bad)
    return Outcome(Verdict.VERIFIED if decides else Verdict.INCONCLUSIVE, evidence)


def check_init_printed(ctx: MethodContext, *, printed_fprime0=2, n: int = 3) -> Outcome:
    """Section 4 prints 'F0(0) = 2': read literally F'(0) = 2, the Jacobian 2F'(0) I of line 5 is not I."""
    val = sympy.nsimplify(printed_fprime0)
    J = 2 * val * sympy.eye(n)
    evidence = {"printed_F'(0)": str(val), "jacobian": str(J.tolist()), "needed_F'(0)": "1/2"}
    if J == sympy.eye(n):
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"F'(0)": str(val), "2F'(0)": str(2 * val)},
                   discrepancies=[f"Section 4 prints 'F0(0) = {val}'; read literally the Jacobian 2F'(0) I of "
                                  f"line 5 is {2 * val} I, not I. F'(0) = 1/2 (the fraction's '1/' lost in the "
                                  "extraction) is the value that gives the identity and the one Fig. A.1 uses "
                                  "(2F'(0) = 1)."])


SBN_INIT = Claim(
    id="SBN-INIT",
    title="Noise with zero mean and F'(0) = 1/2 makes line 5 of Alg. 1 the identity at a = 0 (section 4)",
    source=SbnSource("Section 4, 'Initialization'", ""),
    statement_printed=(
        "We set s_i = 1 and b_i = 0 (as default for BN) and normalize the noise distribution so that it has zero mean "
        "and F'(0) = 2 [printed 'F0(0) = 2'; reconstructed F'(0) = 1/2]. This choice ensures that the Jacobian "
        "2F'(a) in Line 5 of Alg. 1 at the mean value of pre-activations is the identity matrix and therefore "
        "gradients do not vanish."
    ),
    statement_checked=(
        "For every noise cdf F with F'(0) = 1/2 (generic F): the Jacobian of line 5 at a = 0 is I, and BN with "
        "s = 1, b = 0 has mean output 0 for any batch size. "
        "For each noise of the repository (logistic sigmoid(2z), uniform [-1, 1], triangular [-2, 2], gaussian with "
        "std sqrt(2/pi)): the density is symmetric (zero mean) and F'(0) = 1/2; BN with s = 1, b = 0 has mean "
        "output 0; the Jacobian of line 5, d(2 diag(F'(a)) v)/dv at a = 0, is the identity (n = 3 symbolic; "
        "n = 4 through numerics' Alg. 1)."
    ),
    methods=(
        Method("sympy-generic", Kind.SYMBOLIC, check_init_generic,
               "generic F with F'(0) = 1/2: the Jacobian of line 5 at a = 0 is I; BN with s = 1, b = 0 has mean "
               "output 0 for any batch size", scope=Scope.whole("every F with F'(0) = 1/2, every batch size "
                                                               "(line 5 acts unit by unit)")),
        Method("sympy-jacobian", Kind.SYMBOLIC, check_init_symbolic,
               "symmetry, F'(0) = 1/2 and the Jacobian of line 5 at a = 0 per noise; BN mean",
               scope=Scope("the four noises of the repository, n = 3, batch of 4")),
        Method("alg1-jacobian-numeric", Kind.PROPERTY, check_init_alg1_numeric,
               "Jacobian of numerics' Alg. 1 backward at a = 0 column by column (linear losses) and per sample for a "
               "non-linear loss; 2F'(0) by central differences",
               scope=Scope("the four noises, n = 4 units, 64 sampled states for the non-linear loss")),
        Method("monte-carlo-noise", Kind.MONTECARLO, check_init_montecarlo,
               "samplers: mean 0 and 2F'(0) = 1 within 0.999 intervals (bias bound added; half-widths <= 0.02 and "
               "0.25 needed to decide)", scope=Scope("the four noises' samplers")),
        Method("printed-F'(0)=2", Kind.SYMBOLIC, check_init_printed,
               "the printed 'F0(0) = 2' read literally: is the Jacobian 2F'(0) I the identity?",
               part="printed: F'(0) = 2", role="printed", category=Category.MISPRINT,
               scope=Scope.whole("a single value")),
    ),
    discrepancies=(
        Finding(Category.MISPRINT,
                "The extracted text of section 4 reads 'F0(0) = 2', which would make the Jacobian 4 I; it is "
                "extraction damage of F'(0) = 1/2 (the fraction's '1/' lost): the same sentence claims the identity "
                "Jacobian 2F'(0) I, and the caption of Fig. A.1 says 2F'(0) = 1. Recoverable and true as intended "
                "(method printed-F'(0)=2 measures the literal reading)."),
    ),
    tags=("sbn", "initialization"),
)


# ---------------------------------------------------------------------------- SBN-PROXY


def check_proxy_forward_symbolic(ctx: MethodContext, *, cases=PROXY_CASES, families=None) -> Outcome:
    """sympy: (P + 1)/2 is a continuous antiderivative of the density p with limit 0 at -oo, so it is
    int_{-oo}^a p = F(a) and E[sign(a - z)] = F(a) - (1 - F(a)) = P(a) for the named proxy P."""
    rows, failures = [], []
    for case in cases:
        fam = _fam(case.noise, families)
        P = case.forward
        half = (P + 1) / 2
        deriv_ok, witness = zero_on_regions(sympy.diff(half, A) - fam.pdf.subs(Z, A), A, -OO, OO, check_cuts=False)
        jump = _continuous_at_cuts(P, A)
        left = _tail_limit(half, A, -1)
        cross, _ = zero_on_regions(P - proxy_forward(fam), A, -OO, OO)
        row = {"noise": fam.name, "proxy": case.proxy, "d/da (P+1)/2 = p": deriv_ok, "P continuous": jump is None,
               "lim_{a->-oo} (P+1)/2": str(left), "P = 2F - 1 (stated cdf)": cross}
        rows.append(row)
        if deriv_ok is False or jump is not None or left != 0 or cross is False:
            failures.append({**row, "witness": witness or jump})
    evidence = {"instances": rows}
    if failures:
        return Outcome(Verdict.REFUTED, evidence, counterexample=failures[0])
    if any(r["d/da (P+1)/2 = p"] is None or r["P = 2F - 1 (stated cdf)"] is None for r in rows):
        return Outcome(Verdict.INCONCLUSIVE, evidence)
    return Outcome(Verdict.PROVED, evidence)


def check_sign_mean_generic(ctx: MethodContext, *, plus_probability: str = "F") -> Outcome:
    """sympy, generic continuous F: E[sign(a - z)] = (+1) P(z < a) + (-1) P(z > a) = 2F(a) - 1 (P(z = a) = 0), and
    its derivative is 2F'(a), the lower row of Fig. A.1.  ``plus_probability="1-F"`` swaps the events (mutant)."""
    F = sympy.Function("F")
    a = sympy.Symbol("a", real=True)
    p_plus = F(a) if plus_probability == "F" else 1 - F(a)
    mean = p_plus * 1 + (1 - p_plus) * (-1)
    gap = sympy.simplify(mean - (2 * F(a) - 1))
    dgap = sympy.simplify(sympy.diff(mean, a) - 2 * sympy.diff(F(a), a))
    evidence = {"E[sign(a - z)]": str(mean), "minus_(2F - 1)": str(gap), "derivative_minus_2F'": str(dgap)}
    if gap == 0 and dgap == 0:
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"gap": str(gap), "derivative_gap": str(dgap)})


def check_proxy_backward_symbolic(ctx: MethodContext, *, cases=PROXY_CASES, families=None) -> Outcome:
    """sympy, on R region by region: 2F'(a) = 2 p(a) equals (i) the derivative of the *named forward proxy*
    (d/da Htanh, d/da tanh, d/da ApproxSign(a/2), differentiated here by sympy), (ii) the proxy's published
    derivative, and (iii) ``theory.noise.proxy_backward`` (the curve the figure draws); and 2F'(0) = 1."""
    rows, failures = [], []
    for case in cases:
        fam = _fam(case.noise, families)
        two_p = 2 * fam.pdf.subs(Z, A)
        named_derivative = sympy.diff(case.forward.rewrite(sympy.Piecewise), A)
        ok_named, w_named = zero_on_regions(two_p - named_derivative, A, -OO, OO, check_cuts=False)
        ok_pub, w_pub = zero_on_regions(two_p - case.backward, A, -OO, OO, check_cuts=False)
        ok_lib, w_lib = zero_on_regions(two_p - proxy_backward(fam), A, -OO, OO, check_cuts=False)
        at0 = sympy.simplify(two_p.subs(A, 0))
        row = {"noise": fam.name, "proxy": case.proxy, "2F' = d/da named proxy": ok_named,
               "2F' = published proxy derivative": ok_pub, "2F' = theory.noise.proxy_backward": ok_lib,
               "2F'(0)": str(at0), "d/da named proxy": str(named_derivative),
               "2F' (theory.noise.proxy_backward)": str(proxy_backward(fam))}
        rows.append(row)
        if False in (ok_named, ok_pub, ok_lib) or at0 != 1:
            failures.append({**row, "witness": w_named or w_pub or w_lib or {"2F'(0)": str(at0)}})
    if failures:
        return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=failures[0])
    if any(None in (r["2F' = d/da named proxy"], r["2F' = published proxy derivative"],
                    r["2F' = theory.noise.proxy_backward"]) for r in rows):
        return Outcome(Verdict.INCONCLUSIVE, {"instances": rows})
    return Outcome(Verdict.PROVED, {"instances": rows, "note": "equalities hold off the finitely many kinks "
                                    "(the named proxies are not differentiable there)"})


_GRID = np.round(np.linspace(-2.95, 2.95, 60), 10)  # avoids the kinks at 0, +-1, +-2


def _numeric_proxy(expr):
    return np.vectorize(sympy.lambdify(A, expr, "mpmath"), otypes=[float])


def check_proxy_montecarlo(ctx: MethodContext, *, cases=PROXY_CASES, noises=None,
                            samples: int | None = None) -> Outcome:
    """Monte Carlo with the samplers: E[sign(a - z)] = 2 P(z <= a) - 1 on 61 points of [-3, 3] vs the named proxy.

    Exact (Clopper-Pearson) binomial intervals for P(z <= a), 0.999 family-wise over all points and noises
    (Bonferroni); valid for every sample size, also in the tails where the CLT is poor."""
    from scipy.stats import beta

    rng = ctx.rng()
    N = samples or (1_000_000 if ctx.full else 100_000)
    grid = np.append(_GRID, 0.0)
    alpha = (1 - CONFIDENCE) / (len(grid) * len(cases))
    rows, bad, series = [], None, []
    for case in cases:
        noise = _num(case.noise, noises)
        z = np.sort(noise.sample(rng, N))
        k = np.searchsorted(z, grid, side="right")          # #(z <= a): sign(a - z) = +1
        lo = np.where(k > 0, beta.ppf(alpha / 2, np.maximum(k, 1), N - k + 1), 0.0)
        hi = np.where(k < N, beta.ppf(1 - alpha / 2, k + 1, np.maximum(N - k, 1)), 1.0)
        mean, low, high = 2 * k / N - 1, 2 * lo - 1, 2 * hi - 1
        target = _numeric_proxy(case.forward)(grid)
        outside = (target < low) | (target > high)
        rows.append({"noise": noise.name, "proxy": case.proxy, "max_abs_gap": float(np.max(np.abs(mean - target))),
                     "max_interval_half_width": float(np.max(high - low) / 2), "points_outside": int(outside.sum())})
        if outside.any() and bad is None:
            j = int(np.argmax(outside))
            bad = {"noise": noise.name, "proxy": case.proxy, "a": float(grid[j]), "mc_mean": float(mean[j]),
                   "interval": [float(low[j]), float(high[j])], "proxy_value": float(target[j])}
        order = np.argsort(grid)
        series.append(Series(rf"$\mathbb{{E}}[\mathrm{{sign}}(a - z)]$, {case.noise} noise (Monte Carlo, "
                             f"{CONFIDENCE:g} family Clopper-Pearson)", tuple(grid[order]), tuple(mean[order]),
                             tuple(low[order]), tuple(high[order]), style="points"))
    decides, precision = gate([r["max_interval_half_width"] for r in rows], 0.05,
                              "half-width <= 0.05 at every point: the three proxies differ from each other by more "
                              "than 0.1 on most of the grid, and a 2x mis-scaled noise by more than 0.1 near |a| = 1")
    evidence = {**precision, "instances": rows, "samples_per_noise": N, "grid_points": len(grid),
                "family_confidence": CONFIDENCE, "interval": "Clopper-Pearson, Bonferroni over points and noises"}
    figs = [_fig_a1_forward(series), _fig_a1_backward()]
    if bad:
        return Outcome(Verdict.REFUTED, evidence, counterexample=bad, figures=figs)
    return Outcome(Verdict.VERIFIED if decides else Verdict.INCONCLUSIVE, evidence, figures=figs)


#: The named proxies in mathematical notation (figure legends).
_PROXY_TEX = {"Htanh": r"\mathrm{Htanh}", "tanh": r"\tanh", "ApproxSign(a/2)": r"\mathrm{ApproxSign}(a/2)"}


def _fig_a1_forward(mc_series) -> Figure:
    a = np.linspace(-3, 3, 241)
    curves = [Series(r"$\mathrm{sign}(a)$", tuple(a), tuple(np.where(a >= 0, 1.0, -1.0)), style="step"),
              Series(r"identity $a$ ($|a| \leq 1.5$)", tuple(a[np.abs(a) <= 1.5]), tuple(a[np.abs(a) <= 1.5]))]
    for case in PROXY_CASES:
        curves.append(Series(f"$2F(a) - 1$, {case.noise} noise (= ${_PROXY_TEX.get(case.proxy, case.proxy)}$)",
                             tuple(a), tuple(_numeric_proxy(proxy_forward(case.noise))(a))))
    return Figure("fig-a1-forward", "Fig. A.1 (upper row) re-drawn: E[sign(a − z)] = 2F(a) − 1 from each noise",
                  "pre-activation $a$", r"forward proxy $\mathbb{E}_z[\mathrm{sign}(a - z)]$",
                  tuple(curves) + tuple(mc_series))


def _fig_a1_backward() -> Figure:
    a = np.linspace(-3, 3, 241)
    curves = [Series("identity ST: $1$", tuple(a), tuple(np.ones_like(a)))]
    for case in PROXY_CASES:
        curves.append(Series(f"$2F'(a)$, {case.noise} noise (${_PROXY_TEX.get(case.proxy, case.proxy)}'$)",
                             tuple(a), tuple(_numeric_proxy(proxy_backward(case.noise))(a))))
    return Figure("fig-a1-backward", "Fig. A.1 (lower row) re-drawn: 2F′(a) from each noise", "pre-activation $a$",
                  "backward proxy $2F'(a)$", tuple(curves))


def check_proxy_backward_numeric(ctx: MethodContext, *, cases=PROXY_CASES, noises=None) -> Outcome:
    """Central differences of numerics' cdf implementations, 2 (F(a+h) - F(a-h))/(2h), vs the proxy's published
    derivative and vs central differences of the named forward proxy (Htanh, tanh, ApproxSign(a/2)) itself."""
    h = 1e-5
    grid = np.append(_GRID, 0.0)
    rows, bad = [], None
    for case in cases:
        noise = _num(case.noise, noises)
        fd = 2 * (noise.cdf(grid + h) - noise.cdf(grid - h)) / (2 * h)
        fwd = _numeric_proxy(case.forward)
        named_fd = (fwd(grid + h) - fwd(grid - h)) / (2 * h)     # slope of the named forward proxy itself
        target = _numeric_proxy(case.backward)(grid)
        gap = np.maximum(np.abs(fd - target), np.abs(fd - named_fd))
        k = int(np.argmax(gap))
        rows.append({"noise": noise.name, "proxy": case.proxy, "max_abs_gap": float(gap[k]),
                     "max_abs_gap_to_named_proxy_slope": float(np.max(np.abs(fd - named_fd)))})
        # truncation <= (Lipschitz const of p <= 1/2) * h / 2 * 2; rounding ~ 1e-11
        if gap[k] > h / 2 + 1e-9 and bad is None:
            bad = {"noise": noise.name, "a": float(grid[k]), "2F'_numeric": float(fd[k]),
                   "proxy_derivative": float(target[k]), "named_proxy_slope": float(named_fd[k])}
    evidence = {"instances": rows, "h": h, "tolerance": h / 2 + 1e-9, "grid": "60 points of [-2.95, 2.95] and 0"}
    if bad:
        return Outcome(Verdict.REFUTED, evidence, counterexample=bad)
    return Outcome(Verdict.VERIFIED, evidence)


def check_densities_symbolic(ctx: MethodContext, *, families=None, names=("uniform", "logistic", "triangular",
                                                                            "gaussian")) -> Outcome:
    """sympy: each density is >= 0, the stated cdf F is a continuous antiderivative with F(-oo) = 0, F(oo) = 1,
    hence int p = 1."""
    rows, failures = [], []
    for name in names:
        fam = _fam(name, families)
        p, F = fam.pdf.subs(Z, A), fam.cdf.subs(Z, A)
        nonneg, w1 = _nonnegative(p, A)
        anti, w2 = zero_on_regions(sympy.diff(F, A) - p, A, -OO, OO, check_cuts=False)
        jump = _continuous_at_cuts(F, A)
        lo, hi = _tail_limit(F, A, -1), _tail_limit(F, A, 1)
        row = {"noise": fam.name, "p >= 0": nonneg, "F' = p": anti, "F continuous": jump is None,
               "F(-oo)": str(lo), "F(oo)": str(hi), "int p": str(hi - lo)}
        rows.append(row)
        if nonneg is False or anti is False or jump is not None or hi - lo != 1 or lo != 0:
            failures.append({**row, "witness": w1 or w2 or jump})
    if failures:
        return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=failures[0])
    if any(r["p >= 0"] is None or r["F' = p"] is None for r in rows):
        return Outcome(Verdict.INCONCLUSIVE, {"instances": rows})
    return Outcome(Verdict.PROVED, {"instances": rows})


def check_densities_quadrature(ctx: MethodContext, *, noises=None, names=NOISES) -> Outcome:
    """scipy.integrate.quad of numerics' pdf over R (break points at the kinks): 1 within the error estimate."""
    from scipy.integrate import quad

    rows, bad = [], None
    for name in names:
        noise = _num(name, noises)
        pdf = lambda z, noise=noise: float(noise.pdf(z))  # noqa: E731
        lo, hi = noise.support
        if math.isfinite(lo):
            val, err = quad(pdf, lo, hi, points=[0.0], epsabs=1e-13, epsrel=1e-13)
        else:
            v1, e1 = quad(pdf, -np.inf, 0.0, epsabs=1e-13, epsrel=1e-13)
            v2, e2 = quad(pdf, 0.0, np.inf, epsabs=1e-13, epsrel=1e-13)
            val, err = v1 + v2, e1 + e2
        grid = np.linspace(-6, 6, 12001)
        min_pdf = float(np.min(noise.pdf(grid)))
        rows.append({"noise": noise.name, "integral": val, "error_estimate": err, "min_pdf_on_grid": min_pdf})
        if (abs(val - 1) > err + 1e-10 or min_pdf < 0) and bad is None:
            bad = rows[-1]
    if bad:
        return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=bad)
    return Outcome(Verdict.VERIFIED, {"instances": rows})


_X = sympy.Symbol("x", real=True)
R_ = sympy.Symbol("R", positive=True)
PRINTED_TRIANGULAR = sympy.Max(0, sympy.Abs((2 - _X) / 4))
PRINTED_UNIFORM = sympy.Piecewise((1, sympy.And(_X >= -1, _X <= 1)), (0, True))


def _mass_literal(p):
    """int_{-R}^{R} p for R beyond every branch point, region by region (symbolic in R), and its limit R -> oo."""
    cuts = [c for c in breakpoints(p, _X)]
    edges = [-R_, *cuts, R_]
    total = sympy.Integer(0)
    for left, right in zip(edges[:-1], edges[1:]):
        mid = (cuts[0] - 1 if left == -R_ else (cuts[-1] + 1 if right == R_ else (left + right) / 2)) if cuts else 0
        total += sympy.integrate(branch_at(p, _X, mid), (_X, left, right))
    total = sympy.simplify(total)
    return total, sympy.limit(total, R_, OO)


def check_printed_density(ctx: MethodContext, *, which: str = "triangular") -> Outcome:
    """The density printed in Fig. A.1's caption, read literally: is it non-negative with total mass 1?"""
    p = PRINTED_TRIANGULAR if which == "triangular" else PRINTED_UNIFORM
    printed = "max(0, |(2-x)/4|)" if which == "triangular" else "1 * 1[z in [-1, 1]] (printed '11lz∈[-1,1]')"
    total, limit = _mass_literal(p)
    at0 = sympy.simplify(2 * p.subs(_X, 0))
    mass10 = total.subs(R_, 10) if total.has(R_) else total
    evidence = {"printed": printed, "mass_on_[-R,R]_for_large_R": str(total), "total_mass": str(limit),
                "mass_on_[-10,10]": str(mass10), "2p(0)": str(at0)}
    if limit == 1:
        return Outcome(Verdict.PROVED, evidence)
    note = ("the intended density is max(0, (2 - |x|)/4) (the absolute value moved in the extraction), which the "
            "checked part integrates to 1" if which == "triangular" else
            "probably '1/2 1[z in [-1, 1]]' with the '/2' lost in the extraction; the 1/2 density integrates to 1")
    return Outcome(Verdict.REFUTED, evidence,
                   counterexample={"density": printed, "total_mass": str(limit), "mass_on_[-10,10]": str(mass10)},
                   discrepancies=[f"Fig. A.1's caption prints the {which} density as {printed}; read literally its "
                                  f"mass on [-R, R] is {total} (= {mass10} for R = 10), total {limit}: not a density; "
                                  f"{note}."])


def check_approxsign_output_scaled(ctx: MethodContext) -> Outcome:
    """The reading 'scaled version of ApproxSign' = c ApproxSign(a) (output scaled): is the triangular 2F(a) - 1
    equal to c ApproxSign(a) for one constant c?  c is fixed at a = 1 and tested at a = 1/2, 3/2, 2 (exact)."""
    fwd = proxy_forward(NOISE_FAMILIES["triangular"])
    c = sympy.simplify(branch_at(fwd, A, sympy.Integer(1)).subs(A, 1) / approx_sign(sympy.Integer(1)))
    rows = []
    for pt in (sympy.Rational(1, 2), sympy.Integer(1), sympy.Rational(3, 2), sympy.Integer(2)):
        lhs = sympy.simplify(branch_at(fwd, A, pt).subs(A, pt))
        rhs = sympy.simplify(c * approx_sign(pt))
        rows.append({"a": str(pt), "2F(a)-1": str(lhs), "c*ApproxSign(a)": str(rhs), "equal": bool(lhs == rhs)})
    evidence = {"c_from_a=1": str(c), "instances": rows}
    bad = [r for r in rows if not r["equal"]]
    if bad:
        return Outcome(Verdict.REFUTED, evidence, counterexample={"c": str(c), **bad[0]})
    return Outcome(Verdict.PROVED, evidence)


SBN_PROXY = Claim(
    id="SBN-PROXY",
    title="Fig. A.1: uniform, logistic, triangular noise give the Htanh, tanh, scaled ApproxSign proxies",
    source=SbnSource("Fig. A.1 and caption; section 2.2 'Variants Explained'", ""),
    statement_printed=(
        "For a real-valued noise z with cdf F, the upper plots show E_z[sign(a - z)] = 2F - 1 and the lower plots "
        "twice the density, 2F'. Choosing uniform distribution for z gives the density p(z) = 1/2 1[z in [-1, 1]] "
        "[printed '11lz∈[-1,1]'] and recovers the common Htanh proxy. The logistic noise has cdf F(z) = sigma(2z), "
        "which recovers the tanh proxy. The triangular noise has density p(z) = max(0, |(2-x)/4|) [as printed], which "
        "recovers a scaled version of ApproxSign (Liu et al., 2018). The scaling of the noise in each case is chosen "
        "so that 2F'(0) = 1."
    ),
    statement_checked=(
        "For z with density p and cdf F: E[sign(a - z)] = 2F(a) - 1 for all a. Uniform density 1/2 on [-1, 1]: "
        "2F - 1 = Htanh(a) = clip(a, -1, 1), 2F' = 1[|a| <= 1]. Logistic F = sigmoid(2z): 2F - 1 = tanh(a), "
        "2F' = 1 - tanh^2(a). Triangular density max(0, (2 - |z|)/4): 2F - 1 = ApproxSign(a/2) (reading 'input "
        "scaled'; the reading 'c ApproxSign(a)' is refuted), 2F' = max(0, 1 - |a|/2) = d/da ApproxSign(a/2). Each "
        "backward 2F' equals the derivative of its named forward proxy (sympy) and theory.noise.proxy_backward. "
        "Each has 2F'(0) = 1 and each density is >= 0 with mass 1."
    ),
    readings=(
        Reading("input-scaled", "'a scaled version of ApproxSign' = ApproxSign(a / s) for some s > 0"),
        Reading("output-scaled", "'a scaled version of ApproxSign' = c ApproxSign(a) for some c > 0"),
    ),
    methods=(
        Method("sympy-generic-sign-mean", Kind.SYMBOLIC, check_sign_mean_generic,
               "generic continuous F: E[sign(a - z)] = 2F(a) - 1 and its derivative 2F'(a)", part="forward proxy",
               scope=Scope.whole("every continuous cdf F, every a")),
        Method("sympy-forward", Kind.SYMBOLIC, check_proxy_forward_symbolic,
               "(P+1)/2 is the antiderivative of p vanishing at -oo, for each named proxy P", part="forward proxy",
               scope=Scope.whole("the three noise/proxy pairs of the caption, every a in R (region by region)")),
        Method("monte-carlo-forward", Kind.MONTECARLO, check_proxy_montecarlo,
               "E[sign(a - z)] from samples on a grid vs the named proxies (half-width <= 0.05 needed); Fig. A.1 "
               "re-drawn", part="forward proxy", scope=Scope("61 points of [-3, 3], 3 noises, 10^5 samples each")),
        Method("sympy-backward", Kind.SYMBOLIC, check_proxy_backward_symbolic,
               "2p equals the derivative of each named proxy, its published derivative and "
               "theory.noise.proxy_backward; 2F'(0) = 1", part="backward proxy",
               scope=Scope.whole("the three noise/proxy pairs, every a in R off the proxies' kinks")),
        Method("numeric-backward", Kind.PROPERTY, check_proxy_backward_numeric,
               "central differences of numerics' cdfs vs the proxies' derivatives and the named proxies' slopes "
               "(tolerance h/2)", part="backward proxy", scope=Scope("61 points of [-2.95, 2.95], 3 noises")),
        Method("sympy-densities", Kind.SYMBOLIC, check_densities_symbolic,
               "p >= 0, F' = p, F(-oo) = 0, F(oo) = 1 for each density", part="densities",
               scope=Scope.whole("the four densities of the repository, all of R")),
        Method("quadrature-densities", Kind.QUADRATURE, check_densities_quadrature,
               "scipy quad of numerics' densities over R", part="densities", scope=Scope("the four numeric densities")),
        Method("approxsign-input-scaled", Kind.SYMBOLIC,
               functools.partial(check_proxy_forward_symbolic, cases=(PROXY_CASES[2],)),
               "2F - 1 = ApproxSign(a/2) for the triangular density", part="scaled ApproxSign", role="printed",
               reading="input-scaled", category=Category.IMPRECISION, scope=Scope.whole("every a in R")),
        Method("approxsign-output-scaled", Kind.SYMBOLIC, check_approxsign_output_scaled,
               "is 2F - 1 = c ApproxSign(a) for one constant c?", part="scaled ApproxSign", role="printed",
               reading="output-scaled", category=Category.IMPRECISION,
               scope=Scope.whole("c is forced by a = 1; one other point decides")),
        Method("printed-triangular-density", Kind.SYMBOLIC, check_printed_density,
               "the triangular density max(0, |(2-x)/4|) as printed", part="printed: triangular density",
               role="printed", category=Category.MISPRINT, scope=Scope.whole("the whole real line")),
        Method("printed-uniform-density", Kind.SYMBOLIC, functools.partial(check_printed_density, which="uniform"),
               "the uniform density '11lz∈[-1,1]' read as 1 * 1[z in [-1, 1]]", part="printed: uniform density",
               role="printed", category=Category.MISPRINT, scope=Scope.whole("the whole real line")),
    ),
    discrepancies=(
        Finding(Category.MISPRINT,
                "The caption prints the triangular density as max(0, |(2-x)/4|), which is not integrable (method "
                "printed-triangular-density); extraction damage (the absolute value moved): reconstructed as "
                "max(0, (2 - |x|)/4), the density with 2F'(0) = 1 whose 2F - 1 is ApproxSign(a/2)."),
        Finding(Category.MISPRINT,
                "The uniform density is extracted as '11lz∈[-1,1]': read as 1 * 1[...] it has mass 2 and 2F'(0) = 2, "
                "contradicting the same caption's 2F'(0) = 1 and the Htanh derivative 1[|a| <= 1] = 2p; recovered as "
                "1/2 1[z in [-1, 1]] (method printed-uniform-density measures the literal reading)."),
        Finding(Category.IMPRECISION,
                "'A scaled version of ApproxSign' does not say what is scaled: the argument is (2F(a) - 1 = "
                "ApproxSign(a/2), reading 'input-scaled'); no constant c gives c ApproxSign(a) (reading "
                "'output-scaled', refuted)."),
    ),
    tags=("sbn", "proxies", "figure"),
)


# ---------------------------------------------------------------------------- SBN-COR-B1

_T = sympy.Symbol("t", real=True)
_SUPPORT = {"uniform": (-1, 1), "triangular": (-2, 2)}


def _chain_rule(fam, tfam, Gp, lo, hi):
    """2 G'(T(a)) T'(a) - 2 F'(a) = 0 on (lo, hi), region by region in a (the branch of G' is picked at T(mid))."""
    Ta = tfam.cdf.subs(Z, A)
    cuts = [c for c in breakpoints(Ta, A) if lo < c < hi]
    edges = [lo, *cuts, hi]
    undecided = False
    for left, right in zip(edges[:-1], edges[1:]):
        mid = _region_point(left, right)
        Ta_b = branch_at(Ta, A, mid)
        Gp_b = sympy.simplify(branch_at(Gp, _T, Ta_b.subs(A, mid)))
        expr = 2 * Gp_b.subs(_T, Ta_b) * sympy.diff(Ta_b, A) - 2 * branch_at(fam.pdf.subs(Z, A), A, mid)
        ok, w = zero_on_regions(expr, A, left, right, check_cuts=False)
        if ok is False:
            return False, w
        undecided |= ok is None
    return (None if undecided else True), None


def check_corb1_symbolic(ctx: MethodContext, *, names=NOISES, transforms=None) -> Outcome:
    """sympy, per noise: with T = F, G(t) = P(T(z) <= t) = F(T^{-1}(t)) = t on (0, 1) (uniform), so G' = 1 and
    line 5's factor for the transformed model is 2G'(T(a)) = 2 (a constant); chained through T,
    2G'(T(a))T'(a) = 2F'(a) on the interior of the support."""
    rows, failures = [], []
    for name in names:
        fam = NOISE_FAMILIES[name]
        tfam = (transforms or {}).get(name) or fam
        G = fam.cdf.subs(Z, tfam.icdf.subs(U, _T))
        uniform, w = zero_on_regions(G - _T, _T, sympy.Integer(0), sympy.Integer(1))
        Gp = sympy.diff(G, _T)
        factor = sympy.simplify(branch_at(2 * Gp, _T, sympy.Rational(1, 3)))
        lo, hi = (sympy.sympify(v) for v in _SUPPORT.get(name, (-OO, OO)))
        chain_ok, w2 = (_chain_rule(fam, tfam, Gp, lo, hi) if uniform else (None, None))
        row = {"noise": name, "T": f"cdf of {tfam.name}", "G(t) = t on (0,1)": uniform,
               "line-5 factor 2G'(t) at t = 1/3": str(factor), "chain 2G'(T(a))T'(a) = 2F'(a)": chain_ok,
               "strictly_monotone_on": f"({lo}, {hi})"}
        rows.append(row)
        if uniform is False or chain_ok is False:
            failures.append({**row, "witness": w or w2})
    if failures:
        return Outcome(Verdict.REFUTED, {"instances": rows}, counterexample=failures[0])
    if any(r["G(t) = t on (0,1)"] is None or r["chain 2G'(T(a))T'(a) = 2F'(a)"] is None for r in rows):
        return Outcome(Verdict.INCONCLUSIVE, {"instances": rows})
    return Outcome(Verdict.PROVED, {"instances": rows})


def check_corb1_samples(ctx: MethodContext, *, names=NOISES, transforms=None, samples: int | None = None) -> Outcome:
    """Samples: T(z) = F(z) passes the DKW band against U(0, 1), and the slope of E[sign(t - T(z))] between
    t = 1/4 and 3/4 (the line-5 factor) has an interval containing 2; 0.999 family-wise."""
    from scipy.stats import norm

    rng = ctx.rng()
    N = samples or (1_000_000 if ctx.full else 100_000)
    alpha = (1 - CONFIDENCE) / (2 * len(names))
    eps_dkw = math.sqrt(math.log(2 / alpha) / (2 * N))
    q = norm.ppf(1 - alpha / 2)
    rows, bad = [], None
    for name in names:
        noise = numeric_noise(name)
        T = (transforms or {}).get(name) or noise
        t = np.sort(T.cdf(noise.sample(rng, N)))
        ecdf_hi = np.arange(1, N + 1) / N
        D = float(max(np.max(ecdf_hi - t), np.max(t - (ecdf_hi - 1 / N))))
        s1, s3 = np.where(0.25 >= t, 1.0, -1.0), np.where(0.75 >= t, 1.0, -1.0)
        diff = (s3 - s1) / 0.5
        slope, se = float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(N))
        row = {"noise": name, "T": T.name, "ks_distance_to_U(0,1)": D, "dkw_radius": eps_dkw,
               "line5_factor_estimate": slope, "factor_interval": [slope - q * se, slope + q * se]}
        rows.append(row)
        if (D > eps_dkw or not row["factor_interval"][0] <= 2 <= row["factor_interval"][1]) and bad is None:
            bad = row
    decides, precision = gate([(r["factor_interval"][1] - r["factor_interval"][0]) / 2 for r in rows] +
                              [eps_dkw], [0.1] * len(rows) + [0.02],
                              "factor interval half-width <= 0.1 (to exclude the identity's 1 and e.g. 2.2); DKW "
                              "radius <= 0.02 (to exclude a cdf off U(0, 1) by 0.02)")
    evidence = {**precision, "instances": rows, "samples": N, "family_confidence": CONFIDENCE}
    if bad:
        return Outcome(Verdict.REFUTED, evidence, counterexample=bad)
    return Outcome(Verdict.VERIFIED if decides else Verdict.INCONCLUSIVE, evidence)


def check_corb1_pit_smt(ctx: MethodContext, *, monotone: str = "increasing") -> Outcome:
    """z3, generic F: with w = F^{-1}(t) (so F(w) = t) and F strictly increasing, {F(z) <= t} = {z <= w} for all z.

    Hence G(t) = P(F(z) <= t) = P(z <= w) = F(w) = t on (0, 1) for *every* continuous strictly increasing F (the
    probability integral transform): G' = 1, line 5's factor for the transformed model is the constant 2G' = 2,
    and chaining through T = F gives 2 G'(F(a)) F'(a) = 2F'(a).  F is uninterpreted and constrained only on the
    pair {z, w} (all the statement involves; such pairs extend to a strictly increasing F).  ``monotone=
    "non-decreasing"`` is a false premise (a flat F) for mutants.  Fresh z3 context, fixed seed.
    """
    import z3

    zctx = z3.Context()
    R = z3.RealSort(zctx)
    F = z3.Function("F", R, R)
    z, w, t = (z3.Real(n, zctx) for n in ("z", "w", "t"))
    rel = (lambda u, v: z3.Implies(u < v, F(u) < F(v))) if monotone == "increasing" else \
        (lambda u, v: z3.Implies(u <= v, F(u) <= F(v)))
    solver = z3.Solver(ctx=zctx)
    solver.set("random_seed", 0)
    solver.add(rel(z, w), rel(w, z), F(w) == t, t > 0, t < 1)
    solver.add((F(z) <= t) != (z <= w))
    status = solver.check()
    evidence = {"F": f"uninterpreted, {monotone} on {{z, w}}", "statement": "(F(z) <= t) == (z <= F^-1(t))",
                "query": solver.sexpr(), "z3_status": str(status), "z3_version": z3.get_version_string()}
    if status == z3.unsat:
        return Outcome(Verdict.PROVED, evidence)
    if status == z3.sat:
        m = solver.model()
        return Outcome(Verdict.REFUTED, evidence, counterexample={
            k: str(m.eval(v, model_completion=True)) for k, v in (("z", z), ("w", w), ("t", t), ("F(z)", F(z)))})
    return Outcome(Verdict.INCONCLUSIVE, evidence)


def check_corb1_printed_identity(ctx: MethodContext, *, name: str = "logistic", encoding: str = "pm1") -> Outcome:
    """Cor. B.1 read literally: with T = F line 5 becomes 'just identity' (factor 1).

    Line 5 multiplies by 2G' in the +-1 encoding (Alg. 1) and by G' in the {0, 1} encoding (the 2 is the +-1
    encoding's, section 2.1 end); G is the cdf of T(z) = F(z)."""
    fam = NOISE_FAMILIES[name]
    scale = 2 if encoding == "pm1" else 1
    rows = {}
    for label, T_inv in (("T = F", fam.icdf.subs(U, _T)), ("T = 2F - 1", fam.icdf.subs(U, (_T + 1) / 2))):
        G = fam.cdf.subs(Z, T_inv)
        rows[label] = str(sympy.simplify(scale * sympy.diff(G, _T)))
    factor = sympy.sympify(rows["T = F"])
    evidence = {"noise": name, "line5_factor": rows, "encoding": encoding}
    if factor == 1:
        return Outcome(Verdict.PROVED, evidence)
    return Outcome(Verdict.REFUTED, evidence, counterexample={"T": "F", "a~": "1/2", "line5_factor": str(factor),
                                                              "identity_factor": "1", "encoding": encoding},
                   discrepancies=[f"With T = F the transformed noise is uniform on (0, 1) with density 1, so line 5 "
                                  f"multiplies by 2G' = {factor}, twice the identity proxy (the 2 of the +-1 "
                                  f"encoding); "
                                  f"it is exactly the identity for T = 2F - 1 (uniform on (-1, 1), factor "
                                  f"{rows['T = 2F - 1']}) or in the {{0, 1}} encoding. A constant factor only."])


def check_identity_only_uniform(ctx: MethodContext, *, names=NOISES, families=None) -> Outcome:
    """Section 2.2: back-propagating 'as if the threshold were the identity' is Alg. 1 'only for the case of
    uniform noise'.  Per family: is line 5's factor 2F'(a) = 1 on the interior of the support (sympy, region by
    region)?  It must hold for the uniform noise and fail (with a witness) for every other family; generically,
    2F' = 1 on an interval forces F(a) = a/2 + C there (sympy dsolve), i.e. uniform noise.  Outside the uniform
    noise's support 2F' = 0: recorded (the identity and Htanh differ for |a| > 1)."""
    a = sympy.Symbol("a", real=True)
    Fg = sympy.Function("F")
    ode = sympy.dsolve(sympy.Eq(2 * sympy.diff(Fg(a), a), 1), Fg(a))
    rows, bad = [], []
    for name in names:
        fam = _fam(name, families)
        lo, hi = (sympy.sympify(v) for v in _SUPPORT.get(name, (-OO, OO)))
        ok, witness = zero_on_regions(2 * fam.pdf.subs(Z, A) - 1, A, lo, hi)
        row = {"noise": fam.name, "2F' = 1 on the support interior": ok, "witness": witness,
               "support": f"({lo}, {hi})"}
        if name == "uniform":
            row["2F' outside the support (a = 2)"] = str(sympy.simplify(2 * fam.pdf.subs(Z, 2)))
        rows.append(row)
        if (name == "uniform") is not bool(ok):
            bad.append(row)
    evidence = {"instances": rows, "generic: 2F' = 1 on an interval gives": str(ode)}
    if bad:
        return Outcome(Verdict.REFUTED, evidence, counterexample=bad[0])
    if any(r["2F' = 1 on the support interior"] is None for r in rows):
        return Outcome(Verdict.INCONCLUSIVE, evidence)
    return Outcome(Verdict.PROVED, evidence)


SBN_COR_B1 = Claim(
    id="SBN-COR-B1",
    title="Cor. B.1: T = F makes T(z) uniform and line 5 of Alg. 1 the identity",
    source=SbnSource("Appendix B.1, Cor. B.1; section 2.2 'Invariances'", "(19)"),
    statement_printed=(
        "Let F be strictly monotone. Then letting T = F leads to T(z_i) being uniformly distributed. Let a~_i = "
        "T(a_i). In this case the backpropagation rule in line 5 of Alg. 1 can be interpreted as replacing the "
        "gradient of sign(a~_i - T(z_i)) in a~_i with just identity. Indeed, since z~_i = T(z_i) is uniform, we have "
        "G' = 1 on (0, 1) and a~_i = F(a_i) is guaranteed to be in (0, 1) by strict monotonicity."
    ),
    statement_checked=(
        "For the logistic and gaussian noise (F strictly increasing on R) and the uniform and triangular noise (on "
        "the interior of the support): T(z) = F(z) has cdf G(t) = t on (0, 1); hence line 5 of Alg. 1 for the "
        "transformed model multiplies by the constant 2G'(a~) = 2, and chaining through T gives 2G'(F(a))F'(a) = "
        "2F'(a), the original estimator. (The constant is 1, the identity proxy, for T = 2F - 1 or in the {0, 1} "
        "encoding.) Section 2.2's restatement 'correct only for uniform noise' is checked: 2F' = 1 on the support "
        "holds for the uniform noise only."
    ),
    readings=(
        Reading("pm1", "x in {-1, 1} as in Alg. 1 (line 5 multiplies by 2G')"),
        Reading("01", "x in {0, 1} (line 5 would multiply by G')"),
    ),
    methods=(
        Method("z3-probability-integral-transform", Kind.SMT, check_corb1_pit_smt,
               "z3, uninterpreted strictly increasing F: {F(z) <= t} = {z <= F^-1(t)}, so G(t) = t on (0, 1)",
               part="T(z) uniform, line 5 constant",
               scope=Scope.whole("every continuous strictly increasing F, every t in (0, 1) (generic F)")),
        Method("sympy-uniform-and-chain", Kind.SYMBOLIC, check_corb1_symbolic,
               "G(t) = F(F^{-1}(t)) = t on (0, 1), line 5 constant, chain rule gives 2F'",
               part="T(z) uniform, line 5 constant",
               scope=Scope("the four noise families (on the interior of the support)")),
        Method("samples-dkw", Kind.MONTECARLO, check_corb1_samples,
               "F(z) of 1e5 samples inside the DKW band of U(0, 1); slope of E[sign(t - F(z))] contains 2 "
               "(half-width <= 0.1 needed)", part="T(z) uniform, line 5 constant",
               scope=Scope("the four noises' samplers, 10^5 samples")),
        Method("printed-identity-only-uniform", Kind.SYMBOLIC, check_identity_only_uniform,
               "section 2.2: line 5 is the identity (2F' = 1) on the support only for uniform noise",
               part="printed: section 2.2 'only for uniform noise'", role="printed", category=Category.ERROR,
               scope=Scope.whole("every F: 2F' = 1 on the support forces uniform noise (dsolve); the four families "
                                 "checked region by region")),
        Method("printed-just-identity", Kind.SYMBOLIC, check_corb1_printed_identity,
               "line 5's factor under T = F vs the identity (1), +-1 encoding", part="printed: 'just identity'",
               role="printed", reading="pm1", category=Category.CONVENTION,
               scope=Scope.whole("computed for logistic F; G' = 1 for every F by the PIT (z3 method)")),
        Method("printed-just-identity-01", Kind.SYMBOLIC,
               functools.partial(check_corb1_printed_identity, encoding="01"),
               "line 5's factor under T = F vs the identity (1), {0,1} encoding", part="printed: 'just identity'",
               role="printed", reading="01", category=Category.CONVENTION,
               scope=Scope.whole("computed for logistic F; G' = 1 for every F by the PIT (z3 method)")),
    ),
    discrepancies=(
        Finding(Category.IMPRECISION,
                "Cor. B.1 assumes F strictly monotone; the uniform and triangular cdfs (Fig. A.1) are strictly "
                "monotone only on their support, where the statement holds (checked on the interior)."),
        Finding(Category.IMPRECISION,
                "Section 2.2 restates: the description 'back-propagate as if the threshold were the identity' is "
                "correct 'but only for the case of uniform noise'. Line 5's factor 2F' is 1 only on the support "
                "[-1, 1] of the uniform noise (method printed-identity-only-uniform) and 0 outside, where the "
                "identity passes 1: it is Htanh's derivative, the identity only for |a| < 1."),
        Finding(Category.CONVENTION,
                "'Just identity' is identity up to the factor 2 of the +-1 encoding when T = F (reading 'pm1', method "
                "printed-just-identity: factor 2); it is exactly the identity in the {0, 1} encoding (reading '01')."),
    ),
    tags=("sbn", "invariance", "proxies"),
)

CLAIMS = (SBN_INIT, SBN_PROXY, SBN_COR_B1)
