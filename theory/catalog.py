"""The derivations behind ``stecheck derive NAME``: derive, cross-check, annotate.

Mathematical objects (one function each; equation numbers are SBN's):

* :func:`derive_multilinear`: unique multilinear form of a pseudo-Boolean loss
  (appendix B.2, text before Prop. B.3),
* :func:`derive_quadratic_multilinear`: Prop. B.3, eq. (20) for a symbolic 2x3 W,
* :func:`derive_ex1`, :func:`derive_ex2`: Examples 1 and 2 (appendix B.2, section 2.2 I),
* :func:`derive_noise_proxies`: Fig. A.1, ``E[sign(a - z)] = 2F(a) - 1`` and ``2F'(a)``,
* :func:`derive_bernoulli_gradient`: eqs. (3)-(9) and Prop. B.2 for n = 2, generic F.

Each returns a :class:`theory.result.DerivationResult` whose ``checks`` are
computed at call time against an independent numeric route
(:mod:`theory.enumeration`, scipy quadrature, seeded Monte Carlo); a failed
cross-check raises :class:`CrossCheckFailed` (a bug, never a user error).
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from stecheck.errors import InvalidArgument, NonFiniteValue

from . import bernoulli_layer as bl
from . import enumeration as en
from . import examples as exs
from .multilinear import (
    binary_points,
    is_multilinear,
    multilinear_from_values,
    multilinear_reduce,
    prove_quadratic_multilinear,
)
from .noise import A, NOISE_FAMILIES, proxy_backward, proxy_forward
from .parsing import binary_symbols, parse_loss
from .result import DerivationResult

__all__ = [
    "CrossCheckFailed",
    "DEFAULT_MULTILINEAR_LOSS",
    "MAX_DERIVE_N",
    "derive_multilinear",
    "derive_quadratic_multilinear",
    "derive_ex1",
    "derive_ex2",
    "derive_noise_proxies",
    "derive_bernoulli_gradient",
]

DEFAULT_MULTILINEAR_LOSS = "(x1 + 2*x2 - 1)**2 + x1*x2**3"
#: Largest n for ``derive multilinear`` (exact evaluation on 2^n points).
MAX_DERIVE_N = 12
_MODULES = ["scipy", "numpy"]


class CrossCheckFailed(AssertionError):
    """A derivation disagreed with its independent numeric check: a bug in stecheck."""


def _require(ok: bool, message: str) -> str:
    if not ok:
        raise CrossCheckFailed(message)
    return message


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _numeric(expr, a_syms, a_values, noise: str = "logistic") -> float:
    """Value of a generic-F result with ``noise`` substituted, at ``a = a_values``."""
    e = bl.with_noise(expr, a_syms, NOISE_FAMILIES[noise], exs.F_GENERIC)
    return float(e.subs({a: float(v) for a, v in zip(a_syms, a_values)}))


def _logistic_np():
    fam = NOISE_FAMILIES["logistic"]
    pdf, cdf, _ = fam.numpy_functions()
    return cdf, pdf


# --------------------------------------------------------------------------- multilinear


def _cube_values(expr, xs, encoding: str, text: str) -> np.ndarray:
    """Float values of ``expr`` on the cube (numpy); a non-finite or complex value is a user error."""
    pts = binary_points(len(xs), encoding).astype(float)
    f = sympy.lambdify(xs, expr, modules=_MODULES)
    with np.errstate(all="ignore"):
        raw = np.broadcast_to(np.asarray(f(*pts.T)), (len(pts),))
    bad = np.flatnonzero(~np.isfinite(raw) | (np.iscomplexobj(raw) and np.abs(np.imag(raw)) > 0))
    if bad.size:
        point = tuple(int(v) for v in pts[bad[0]])
        raise NonFiniteValue(
            f"loss {text!r} is not a finite real number at x = {point} ({encoding} encoding, "
            f"value {raw[bad[0]]}); a function of binary variables must be finite at every point "
            f"of the cube: change the loss (e.g. avoid log, sqrt or 1/x at -1 or 0)."
        )
    return np.real(raw).astype(float)


def derive_multilinear(expr_text: str | None = None, n: int | None = None) -> DerivationResult:
    """Multilinear form (in the +-1 and 0/1 encodings) of a loss given as text."""
    text = DEFAULT_MULTILINEAR_LOSS if expr_text is None else expr_text
    expr, n_found = parse_loss(text)
    if n is None:
        n = n_found
    if isinstance(n, bool) or not isinstance(n, int) or not n_found <= n <= MAX_DERIVE_N:
        raise InvalidArgument(
            f"n={n!r} does not fit the loss {text!r}: it uses x1..x{n_found}, so n must be an int "
            f"in [{n_found}, {MAX_DERIVE_N}] (or omitted)."
        )
    xs = binary_symbols(n)
    params = sorted(expr.free_symbols - set(xs), key=lambda s: s.name)
    rng = np.random.default_rng(0)
    param_values = {p: float(v) for p, v in zip(params, rng.normal(size=len(params)))}
    notes = []
    # the paper's encoding is {-1,1}: it must work; {0,1} is reported when L is finite there
    values = {"pm1": _cube_values(expr.subs(param_values), xs, "pm1", text)}
    forms = {"pm1": multilinear_reduce(expr, xs, "pm1")}
    try:
        values["01"] = _cube_values(expr.subs(param_values), xs, "01", text)
        forms["01"] = multilinear_reduce(expr, xs, "01")
    except NonFiniteValue as exc:
        notes.append(f"no {{0,1}}-encoding form: {exc}")
    checks = []
    for enc, form in forms.items():
        checks.append(_require(is_multilinear(form, xs), f"{enc}: the derived form is multilinear in x1..x{n}"))
        pts = binary_points(n, enc).astype(float)
        vin = values[enc]
        f_ml = sympy.lambdify(xs, form.subs(param_values), modules=_MODULES)
        vml = np.broadcast_to(np.asarray(f_ml(*pts.T), dtype=float), (len(pts),))
        err = float(np.max(np.abs(vin - vml)))
        scale = max(1.0, float(np.max(np.abs(vin))))
        where = f" with parameters {', '.join(f'{p}={v:.3f}' for p, v in param_values.items())} (seed 0)" if params else ""
        checks.append(_require(
            err <= 1e-9 * scale,
            f"{enc}: max |L - multilinear form| over all {len(pts)} cube points (numpy){where} = {_fmt(err)}",
        ))
        # independent route: transform of the numeric values, coefficient by coefficient
        via_values = multilinear_from_values(vin, xs, enc)
        diff = sympy.expand(form.subs(param_values) - via_values)
        coef_err = max((abs(float(c)) for c in sympy.Poly(diff, *xs).coeffs()), default=0.0) if diff != 0 else 0.0
        checks.append(_require(
            coef_err <= 1e-9 * scale,
            f"{enc}: max coefficient difference vs the numpy {'Walsh-Hadamard' if enc == 'pm1' else 'Moebius'} "
            f"transform of the values = {_fmt(coef_err)}",
        ))
    if not is_multilinear(expr, xs):
        notes.append(
            "L as given is not multilinear, so Alg. 1 applied to it may be biased; applied to the "
            "multilinear form (same values on the cube) it is unbiased (Prop. B.2)."
        )
    return DerivationResult(
        name="multilinear",
        equation="SBN App. B.2: unique multilinear form of a pseudo-Boolean function (Boros & Hammer 2002)",
        result={"L": expr} | {f"multilinear_{enc}": form for enc, form in forms.items()},
        checks=checks,
        notes=notes,
    )


# ------------------------------------------------------------------ quadratic (B.3)


def derive_quadratic_multilinear() -> DerivationResult:
    """Prop. B.3, eq. (20) for a symbolic 2x3 ``W`` and ``y``; ST on it is unbiased."""
    W = sympy.Matrix(2, 3, lambda r, c: sympy.Symbol(f"w{r + 1}{c + 1}", real=True))
    y = sympy.Matrix(2, 1, lambda r, c: sympy.Symbol(f"y{r + 1}", real=True))
    xs = binary_symbols(3)
    a_syms = sympy.symbols("a1:4", real=True)
    F = exs.F_GENERIC
    proof = prove_quadratic_multilinear(W, y, xs)
    checks = [
        _require(proof.eq20_is_multilinear, "eq. (20) expanded is multilinear in x1, x2, x3 (symbolic)"),
        _require(proof.difference == 0, "eq. (20) - multilinear_reduce(||Wx - y||^2) expands to 0 (symbolic)"),
    ]
    bias_eq20 = bl.st_bias(proof.eq20, xs, a_syms, F)
    bias_loss = bl.st_bias(proof.loss, xs, a_syms, F)
    checks.append(_require(all(b == 0 for b in bias_eq20), "ST bias of eq. (20) for generic F expands to 0 (Prop. B.2)"))

    rng = np.random.default_rng(20)
    Wn, yn, an = rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=3)
    subs = {W[r, c]: Wn[r, c] for r in range(2) for c in range(3)} | {y[r]: yn[r] for r in range(2)}
    f20 = sympy.lambdify(xs, proof.eq20.subs(subs), modules=_MODULES)
    pts = binary_points(3).astype(float)
    direct = np.sum((pts @ Wn.T - yn) ** 2, axis=1)
    err = float(np.max(np.abs(f20(*pts.T) - direct)))
    checks.append(_require(
        err < 1e-9,
        f"max |eq.(20) - ||Wx-y||^2| over the 8 points, random W, y (seed 20, numpy) = {_fmt(err)}",
    ))

    cdf, pdf = _logistic_np()
    fd = en.exact_gradient_fd(lambda x: np.sum((Wn @ x - yn) ** 2), an, cdf)
    st_loss = en.expected_st(lambda x: 2 * Wn.T @ (Wn @ x - yn), an, cdf, pdf)
    sym_bias = [_numeric(b.subs(subs), a_syms, an) for b in bias_loss]
    err_b = float(np.max(np.abs((st_loss - fd) - np.array(sym_bias))))
    checks.append(_require(
        err_b < 1e-6,
        f"ST bias of ||Wx-y||^2, logistic noise, random a (seed 20): symbolic vs numpy enumeration "
        f"(finite-difference exact gradient) max diff = {_fmt(err_b)}; bias = {np.round(sym_bias, 4).tolist()}",
    ))
    st20 = en.expected_st(
        lambda x: 2 * Wn.T @ (Wn @ x - yn) - 2 * x * np.sum(Wn**2, axis=0), an, cdf, pdf
    )
    err20 = float(np.max(np.abs(st20 - fd)))
    checks.append(_require(
        err20 < 1e-6,
        f"numpy: expected ST on eq. (20) vs finite-difference exact gradient, max diff = {_fmt(err20)}",
    ))
    return DerivationResult(
        name="quadratic-multilinear",
        equation="SBN Prop. B.3, eq. (20)",
        result={
            "L": sympy.expand(proof.loss),
            "eq20": proof.eq20,
            "reduced": proof.reduced,
            "difference": proof.difference,
            "st_bias_eq20": sympy.ImmutableMatrix(bias_eq20),
            "st_bias_L": sympy.ImmutableMatrix([sympy.factor(b) for b in bias_loss]),
        },
        checks=checks,
        notes=[],
    )


# ------------------------------------------------------------------------ examples


def derive_ex1() -> DerivationResult:
    """Example 1 (``L = x^2``) derived, compared with both printed forms."""
    ex = exs.example1()
    sec, app = exs.compare_example1_printed("logistic")
    checks = [
        _require(ex.expected_loss == 1, "E[L] = F(a) + (1 - F(a)) = 1 (symbolic, generic F)"),
        _require(ex.true_gradient == 0, "d E[L] / da = 0 (symbolic)"),
    ]
    grid = np.linspace(-2.0, 2.0, 9)
    for name, fam in NOISE_FAMILIES.items():
        pdf, cdf, _ = fam.numpy_functions()
        sym = sympy.lambdify(A, exs.substitute_noise(ex.expected_st_gradient, fam), modules=_MODULES)
        num = np.array([en.expected_st(lambda x: 2 * x, np.array([a0]), cdf, pdf)[0] for a0 in grid])
        fd = np.array([en.exact_gradient_fd(lambda x: x[0] ** 2, np.array([a0]), cdf)[0] for a0 in grid])
        err = float(np.max(np.abs(np.asarray(sym(grid), dtype=float) - num)))
        checks.append(_require(
            err < 1e-9 and float(np.max(np.abs(fd))) < 1e-8,
            f"{name}: derived E[ST] vs numpy enumeration on a in [-2, 2] (9 points): max diff {_fmt(err)}; "
            f"finite-difference true gradient max |.| = {_fmt(float(np.max(np.abs(fd))))}",
        ))
        lo, hi = float(sym(-0.5)), float(sym(0.5))
        checks.append(_require(lo < 0 < hi, f"{name}: E[ST] changes sign with a: {lo:.4f} at a=-0.5, {hi:.4f} at a=0.5"))
    checks.append(_require(sec.agrees, "section 2.2 printed 4F'(a)(2F(a)-1): derived - printed simplifies to 0"))
    notes = []
    if not app.agrees:
        a0, dv, pv = app.witness
        notes.append(
            f"Appendix B.2 prints E[ST] = 4F'(a)(2L(a)-1); read literally (L(a) = a^2) it differs from the "
            f"derived 4F'(a)(2F(a)-1) by {app.difference}; e.g. logistic noise at a = {a0}: derived {dv}, "
            f"printed {pv}. Section 2.2 prints 4F'(a)(2F(a)-1): the appendix 'L' is a misprint of 'F'."
        )
    return DerivationResult(
        name="ex1",
        equation="SBN Example 1 (App. B.2) and section 2.2 I",
        result={
            "L": ex.loss,
            "expected_loss": ex.expected_loss,
            "true_gradient": ex.true_gradient,
            "expected_st_gradient": ex.expected_st_gradient,
            "multilinear_form": ex.multilinear_form,
            "printed_section_2_2": exs.EX1_PRINTED_SECTION_2_2,
            "printed_appendix": exs.EX1_PRINTED_APPENDIX,
            "appendix_difference": app.difference,
        },
        checks=checks,
        notes=notes,
    )


def derive_ex2() -> DerivationResult:
    """Example 2 (``L = x - sin(2 pi x)``) derived; ST opposite to the true gradient."""
    ex = exs.example2()
    loss_np = sympy.lambdify(exs.X, ex.loss, modules=_MODULES)
    h = 1e-6
    fd_deriv = [float((loss_np(v + h) - loss_np(v - h)) / (2 * h)) for v in (-1.0, 0.0, 1.0)]
    exact_val = float(ex.derivative_at_1)
    err_d = max(abs(d - exact_val) for d in fd_deriv)
    checks = [
        _require(ex.difference_pm1 == 2 and ex.difference_01 == 1, "L(1) - L(-1) = 2 and L(1) - L(0) = 1 (symbolic)"),
        _require(
            err_d < 1e-6,
            f"dL/dx at x = -1, 0, 1 by central differences: {[round(d, 6) for d in fd_deriv]}; "
            f"derived 1 - 2pi = {exact_val:.6f}",
        ),
    ]
    cdf, pdf = _logistic_np()
    ratios = []
    for a0 in np.linspace(-1.5, 1.5, 7):
        a_arr = np.array([a0])
        st = en.expected_st(lambda x: np.array([1 - 2 * math.pi * math.cos(2 * math.pi * x[0])]), a_arr, cdf, pdf)[0]
        ex_g = en.exact_gradient_fd(lambda x: x[0] - math.sin(2 * math.pi * x[0]), a_arr, cdf)[0]
        ratios.append(float(st / ex_g))
    err_r = max(abs(r - float(ex.ratio_pm1)) for r in ratios)
    checks.append(_require(
        err_r < 1e-6 and ex.opposite_direction,
        f"logistic, 7 values of a in [-1.5, 1.5]: numpy E[ST] / finite-difference gradient in [{min(ratios):.6f}, "
        f"{max(ratios):.6f}], derived ratio 1 - 2pi = {float(ex.ratio_pm1):.6f} < 0",
    ))
    notes = [
        f"The paper prints dL/dx = 1 - 2pi cos(2pi x) = -1; at x in {{-1, 0, 1}} the derivative is "
        f"1 - 2pi = {exact_val:.4f}, not -1. The conclusion (ST opposite to the true gradient) holds "
        f"since 1 - 2pi < 0, but the expected ST gradient is {abs(exact_val):.3f} times the true one in "
        f"magnitude, not 'exactly' its negative. The printed -1 would hold for L = x - c sin(2pi x) with "
        f"c = {ex.scale_matching_printed_derivative} (a possible reading of the source).",
    ]
    return DerivationResult(
        name="ex2",
        equation="SBN Example 2 (App. B.2, after Tokui & Sato 2017)",
        result={
            "L": ex.loss,
            "dL_dx": ex.derivative,
            "difference_pm1": ex.difference_pm1,
            "difference_01": ex.difference_01,
            "dL_dx_at_binary_points": ex.derivative_at_1,
            "printed_dL_dx": exs.EX2_PRINTED_DERIVATIVE,
            "multilinear_form": ex.multilinear_form_pm1,
            "exact_gradient": ex.exact_gradient_pm1,
            "expected_st_gradient": ex.expected_st_gradient_pm1,
            "exact_gradient_01": ex.exact_gradient_01,
            "expected_st_gradient_01": ex.expected_st_gradient_01,
            "st_over_exact": ex.ratio_pm1,
            "c_for_printed_derivative": ex.scale_matching_printed_derivative,
        },
        checks=checks,
        notes=notes,
    )


# ------------------------------------------------------------------ noise proxies


def _approx_sign(x: np.ndarray) -> np.ndarray:
    """ApproxSign of Liu et al. (2018): piecewise quadratic sign proxy."""
    return np.where(x < -1, -1.0, np.where(x < 0, 2 * x + x**2, np.where(x < 1, 2 * x - x**2, 1.0)))


def derive_noise_proxies() -> DerivationResult:
    """Fig. A.1: forward ``2F(a) - 1`` and backward ``2F'(a)`` for each noise family."""
    from scipy import integrate as sp_integrate  # only this derivation needs it; keeps `stecheck derive` fast

    result: dict[str, sympy.Basic] = {}
    checks: list[str] = []
    rng = np.random.default_rng(1)
    u = rng.random(200_000)
    grid = np.linspace(-2.5, 2.5, 11)
    references = {
        "logistic": ("tanh(a)", np.tanh),
        "uniform": ("Htanh(a) = clip(a, -1, 1)", lambda a: np.clip(a, -1, 1)),
        "triangular": ("ApproxSign(a/2)", lambda a: _approx_sign(a / 2)),
    }
    for name, fam in NOISE_FAMILIES.items():
        fwd, bwd = proxy_forward(fam), proxy_backward(fam)
        at0 = sympy.simplify(bwd.subs(A, 0))
        result[f"{name}.forward"] = fwd
        result[f"{name}.backward"] = bwd
        result[f"{name}.backward_at_0"] = at0
        checks.append(_require(at0 == 1, f"{name}: 2F'(0) = {at0} (symbolic)"))
        pdf, _, icdf = fam.numpy_functions()
        with np.errstate(over="ignore"):  # cosh(z)**2 -> inf in the far tails; 1/inf = 0 is right
            if name in ("logistic", "gaussian"):
                mass, qerr = sp_integrate.quad(lambda t: float(pdf(t)), -np.inf, np.inf)
            else:  # compact support inside [-2, 2]; give quad the kinks
                mass, qerr = sp_integrate.quad(lambda t: float(pdf(t)), -3, 3, points=[-2, -1, 0, 1, 2])
        checks.append(_require(
            abs(mass - 1) < 1e-8,
            f"{name}: density integrates to {mass:.10f} (scipy quad, est. error {qerr:.1e})",
        ))
        z = np.asarray(icdf(u), dtype=float)
        mc = np.array([np.mean(np.sign(a0 - z)) for a0 in grid])
        f_np = sympy.lambdify(A, fwd, modules=_MODULES)
        exact = np.asarray(f_np(grid), dtype=float)
        bound = 5 * np.sqrt(np.maximum(1 - exact**2, 1e-12) / len(u))
        worst = float(np.max(np.abs(mc - exact) / np.maximum(bound, 1e-12)))
        checks.append(_require(
            worst < 1,
            f"{name}: Monte Carlo mean of sign(a - z), z by inverse cdf (200000 samples, seed 1), 11 values of a: "
            f"max |MC - (2F(a)-1)| = {_fmt(float(np.max(np.abs(mc - exact))))} (within 5 sd at every a)",
        ))
        if name in references:
            label, ref = references[name]
            err = float(np.max(np.abs(exact - ref(grid))))
            checks.append(_require(
                err < 1e-12, f"{name}: 2F(a) - 1 equals {label} on 11 points of [-2.5, 2.5], max diff {_fmt(err)}"
            ))
    notes = [
        "Fig. A.1 prints the triangular density as max(0, |(2-x)/4|); read literally this is |2-z|/4, "
        f"which is not a density (its integral over [-R, R] is (R^2 + 4)/4 for R >= 2, e.g. "
        f"{sp_integrate.quad(lambda t: abs(2 - t) / 4, -10, 10, points=[2])[0]:.1f} on [-10, 10]); "
        "the intended max(0, (2 - |z|)/4) is used.",
        "The gaussian family (std sqrt(2/pi)) is not in Fig. A.1; it is included as a further noise with 2F'(0) = 1.",
    ]
    return DerivationResult(
        name="noise-proxies",
        equation="SBN Fig. A.1 and section 4: E[sign(a - z)] = 2F(a) - 1, backward 2F'(a), 2F'(0) = 1",
        result=result,
        checks=checks,
        notes=notes,
    )


# ------------------------------------------------------------- bernoulli gradient


def derive_bernoulli_gradient() -> DerivationResult:
    """Eqs. (3)-(9), Prop. B.2 for n = 2, generic F: ST is unbiased iff the loss is multilinear (here)."""
    F = exs.F_GENERIC
    xs = binary_symbols(2)
    x1, x2 = xs
    a_syms = sympy.symbols("a1:3", real=True)
    c = sympy.symbols("c0 c1 c2 c12", real=True)
    L_ml = c[0] + c[1] * x1 + c[2] * x2 + c[3] * x1 * x2
    L_sq = (x1 + x2) ** 2
    exact = bl.exact_gradient(L_ml, xs, a_syms, F)
    local = bl.local_expectation_gradient(L_ml, xs, a_syms, F)
    st = bl.expected_st_gradient(L_ml, xs, a_syms, F)
    bias = bl.st_bias(L_ml, xs, a_syms, F)
    bias_sq = bl.st_bias(L_sq, xs, a_syms, F)
    checks = [
        _require(all(sympy.expand(e - l) == 0 for e, l in zip(exact, local)),
                 "exact gradient (d/da of E[L]) = local-expectation form (6), symbolic, generic F"),
        _require(all(b == 0 for b in bias), "multilinear L: E[ST] - exact gradient expands to 0 (Prop. B.2)"),
        _require(all(b != 0 for b in bias_sq), "L = (x1 + x2)^2: E[ST] - exact gradient is not 0"),
    ]
    cdf, pdf = _logistic_np()
    rng = np.random.default_rng(2)
    an, cn = rng.normal(size=2), rng.normal(size=4)
    sub = dict(zip(c, cn))

    def loss_ml(x):
        return cn[0] + cn[1] * x[0] + cn[2] * x[1] + cn[3] * x[0] * x[1]

    def grad_ml(x):
        return np.array([cn[1] + cn[3] * x[1], cn[2] + cn[3] * x[0]])

    def sym_value(e, i):
        return _numeric(e.subs(sub), a_syms, an)

    fd = en.exact_gradient_fd(loss_ml, an, cdf)
    st_num = en.expected_st(grad_ml, an, cdf, pdf)
    err_e = max(abs(sym_value(e, i) - fd[i]) for i, e in enumerate(exact))
    err_s = max(abs(sym_value(s, i) - st_num[i]) for i, s in enumerate(st))
    checks.append(_require(
        max(err_e, err_s) < 1e-6,
        f"logistic, random a and c (seed 2): symbolic exact gradient vs finite differences max diff {_fmt(err_e)}; "
        f"symbolic E[ST] vs numpy enumeration max diff {_fmt(err_s)}",
    ))
    bias_sq_num = en.expected_st(lambda x: 2 * (x[0] + x[1]) * np.ones(2), an, cdf, pdf) - en.exact_gradient_fd(
        lambda x: (x[0] + x[1]) ** 2, an, cdf
    )
    err_b = max(abs(sym_value(b, i) - bias_sq_num[i]) for i, b in enumerate(bias_sq))
    checks.append(_require(
        err_b < 1e-6,
        f"(x1 + x2)^2: symbolic bias vs numpy enumeration (E[ST] minus finite-difference gradient) max diff "
        f"{_fmt(err_b)}; bias = {np.round(bias_sq_num, 4).tolist()}",
    ))
    return DerivationResult(
        name="bernoulli-gradient",
        equation="SBN eqs. (3)-(9) (Alg. 1) and Prop. B.2, n = 2, generic noise cdf F",
        result={
            "L": L_ml,
            "expected_loss": bl.expected_loss(L_ml, xs, a_syms, F),
            "exact_gradient": sympy.ImmutableMatrix(exact),
            "expected_st_gradient": sympy.ImmutableMatrix(st),
            "expected_identity_st_gradient": sympy.ImmutableMatrix(bl.expected_identity_st_gradient(L_ml, xs, a_syms, F)),
            "st_bias": sympy.ImmutableMatrix(bias),
            "L_nonmultilinear": L_sq,
            "st_bias_nonmultilinear": sympy.ImmutableMatrix([sympy.factor(b) for b in bias_sq]),
        },
        checks=checks,
        notes=[],
    )


#: Registered by :mod:`theory.derivations`: ``(name, title, equation, compute)``.
DERIVATIONS = (
    ("multilinear", "Multilinear form of a loss of binary variables",
     "SBN App. B.2 (unique multilinear form, before Prop. B.3)", derive_multilinear),
    ("quadratic-multilinear", "Multilinear reformulation of ||Wx - y||^2 (symbolic 2x3 W)",
     "SBN Prop. B.3, eq. (20)", derive_quadratic_multilinear),
    ("ex1", "Example 1: L = x^2, ST biased", "SBN Example 1 (App. B.2), section 2.2 I", derive_ex1),
    ("ex2", "Example 2: L = x - sin(2 pi x), ST opposite to the gradient", "SBN Example 2 (App. B.2)", derive_ex2),
    ("noise-proxies", "Forward 2F(a)-1 and backward 2F'(a) proxies of each noise",
     "SBN Fig. A.1, section 4", derive_noise_proxies),
    ("bernoulli-gradient", "Exact, ST and identity-ST gradients for n = 2, generic F",
     "SBN eqs. (3)-(9), Prop. B.2", derive_bernoulli_gradient),
)
