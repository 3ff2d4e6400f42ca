"""The named checks of the estimator battery, one per property of the paper.

Every check has the same signature: ``check.examples(spec)`` is a Hypothesis
strategy of examples (plain data: a :class:`strategies.LossSpec`, ``a``, a noise
name, a seed, ...) and ``check.run(spec, example, samples)`` decides one example:
it returns an :class:`Outcome` (``pass``, ``inconclusive`` or ``vacuous``) or
raises :class:`CheckFailure` with the evidence.  ``check.applies(spec)`` returns
``None`` if the estimator's tags make the check applicable, else the reason it
is skipped.

Soundness.  Each statistical decision is an empirical-Bernstein interval at
family-wise error ``alpha = 1e-6`` (:mod:`core`), so a correct estimator whose
values respect its declared range fails one example with probability
``<= 1e-6`` and one check of ``k`` examples with probability ``<= k 1e-6``.
Exact comparisons use the enumeration's rounding bound plus an underflow floor.

Checks (``property -- source``):

``output_contract``          shape ``(size, n)``, float dtype, finite values, ``a`` not modified.
``seed_determinism``         the same generator state gives the same estimates; ``deterministic``:
                             every row equal and independent of the seed.
``linear_exact``             linear ``L``: every sample equals the true gradient (zero variance) within
                             ``1e-9 (B_i + |g_i|)`` plus the enumeration's bound -- Sec. 2.2 I.
``unbiased_multilinear``     multilinear ``L``: ``E[e] = grad E[L]`` -- Prop. B.2.
``unbiased_any_loss``        non-multilinear ``L`` too (tag ``unbiased``) -- eqs. (4)-(6).
``invariance_b1``            strictly increasing ``T`` (``sinh``) applied to noise and pre-activation:
                             ``e_F(a) = T'(a) e_G(T(a))`` sample by sample (coupled through ``noise.sample``),
                             or at least in mean -- Prop. B.1, eq. (19).
``ascent_b5``                quadratic ``L`` with ``|E[g_i]| >= Lip_i`` (B.5's condition): each
                             ``E[e_i]`` has the sign of the true gradient (an ascent direction for every
                             diagonal ``a(phi)``) -- Prop. B.5, eqs. (23)-(30).
``ascent_b8``                tag ``deterministic``: quadratic ``L`` with ``|g_i(x*)| >= 2 (1 - p*) L + L``
                             (B.8's condition, ``L`` the infinity-norm Lipschitz constant of every ``g_i``):
                             each ``e_i`` has the sign of the true gradient (exact: the estimate is not
                             random) -- Prop. B.8, eqs. (42)-(45).
``rescaling_b4``             tag ``st`` (multilinear ``L``) or ``unbiased`` (any ``L``), not ``deterministic``: every
                             PSD diagonal rescaling ``D`` of the estimate keeps ``<D E[e], g> >= 0`` with the original
                             expected estimator, which under the claim is the true gradient ``g``; with one parameter
                             per unit (diagonal ``J1``) "for every ``D``" is "``E[e_i] g_i >= 0`` for every ``i``"
                             (the worst ``D`` puts all weight on one coordinate) -- Prop. B.4, eqs. (21)-(22).
                             ``identity_st`` (``D = diag(1 / F'(a))`` applied to Alg. 1) passes, as the paper says.
``deterministic_b7``         tag ``deterministic``: quadratic ``L`` meeting (34) ``|g_i(x*)| >= 2 (1 - p*) L``: each
                             ``e_i`` has the sign of the expected stochastic ST ``E[c F'(a_i) g_i(x)]`` (Alg. 1,
                             enumerated exactly), so ``<e, E[ST]> >= 0`` for every diagonal ``a(phi)`` --
                             Prop. B.7, eqs. (34)-(40).
``width_bias_b6``            tag ``st``, not ``deterministic``: ``L = ||W x - y||^2`` with fan-in normalized Gaussian
                             ``W`` (``K x n``, unit rows, ``K`` in 1..3), ``m = 8`` draws of ``(W, y, a)`` per width: the
                             mean cosine between ``E[e]`` and the exact gradient at ``n = 10`` is not below the one at
                             ``n = 2`` by more than ``B6_TOLERANCE`` -- Prop. B.6, Cor. B.2 ("the bias of ST decreases
                             with n, at least at initialization").  Decision: each ``E[e]`` is an empirical-Bernstein
                             box (family-wise over all ``2m`` boxes), each cosine is bracketed over its box, and the
                             check FAILs only if the ``n = 10`` upper bracket is below the ``n = 2`` lower bracket
                             minus the tolerance.  Cor. B.2 is about the mean over ``W``; a finite ensemble can
                             contradict it by chance, so the premise is verified per example on the same ensemble
                             with Alg. 1's exactly enumerated ``E[ST]`` (mean cosine at ``n = 10`` >= at ``n = 2`` minus
                             the tolerance); an ensemble where Alg. 1 itself fails it is vacuous.  So a FAIL means:
                             the estimator's bias grows with width where Alg. 1's does not.  Measured (profile
                             ``thorough``, 100 examples): ST and identity ST pass 81 and 82, the rest vacuous --
                             on ~1 in 5 ensembles Alg. 1's own mean cosine falls by more than the tolerance
                             between n = 2 and n = 10 (Cor. B.2 is a statement about the mean over W, not about
                             8 draws); an ST plus a constant bias 3 F'(a) fails (``tests/properties``).
``relaxation_bias_order``    linear ``L``, ``n = 1``, ``|a| <= 2``, ``tau in {0.4, 0.2}``: the bias at ``tau/4`` is
                             not larger than at ``tau`` (the bias vanishes as ``tau -> 0``, Prop. E.1: ``O(tau)``).
                             O(tau) alone does not imply this monotonicity; on this domain it holds for
                             GS (and ST-GS, equal to GS for linear L) by quadrature: ``|b(tau)| - |b(tau/4)|
                             >= 6.8e-4 |c|`` on a grid of 41 values of ``a`` (``tests/properties``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import math

import numpy as np

from stecheck.numerics.noise import Noise, get_noise

from . import strategies as S
from .core import (
    DEFAULT_ALPHA,
    UNDERFLOW_FLOOR,
    EstimatorContractError,
    Problem,
    Sampler,
    example_seed,
    exact_gradient,
    fmt,
    mean_interval,
    resolve_bound,
)

__all__ = ["Check", "CheckFailure", "Outcome", "CHECKS", "get_check", "SinhNoise", "LINEAR_RTOL"]

#: Relative tolerance (of the range ``B_i + |g_i|``) of ``linear_exact`` and of the coupled ``invariance_b1``.
LINEAR_RTOL = 1e-9


class CheckFailure(AssertionError):
    """The example is evidence against the property (the message is the evidence)."""


@dataclass(frozen=True)
class Outcome:
    status: str  # "pass" | "inconclusive" | "vacuous"
    evidence: str = ""
    margin: float | None = None  # how close to failing (for hypothesis.target)


@dataclass(frozen=True)
class Check:
    name: str
    source: str
    applies: Callable[[Any], str | None]
    examples: Callable[[Any], Any]
    run: Callable[[Any, dict, int], Outcome]
    statistical: bool = True
    doc: str = field(default="", compare=False)


def _problem(spec, ex) -> Problem:
    noise = ex["noise"] if isinstance(ex["noise"], Noise) else get_noise(ex["noise"])
    return Problem(ex["loss"].build(), np.array(ex["a"], dtype=float), noise, tau=ex.get("tau"))


def _interval(spec, pr, check, samples, seed, noise=None, alpha=DEFAULT_ALPHA):
    B, declared = resolve_bound(spec.bound, pr)
    sampler = Sampler(spec, pr, check, noise=noise)
    return mean_interval(sampler, pr.n, B, declared, samples=samples, seed=seed, key=f"battery/{check}", alpha=alpha)


def _undecided(mi, check) -> Outcome | None:
    if mi.decided:
        return None
    i = int(np.argmax(mi.exceeded))
    text = (f"coordinate {i}: an estimate left the range |e| <= {mi.bound[i]:.6g}")
    if mi.declared:
        raise CheckFailure(f"{text} that the estimator declares (bound=...); the declaration is false or the "
                           "estimator is wrong -- fix the bound or the estimator")
    return Outcome("inconclusive", f"{text} of the default bound; declare bound=... to decide")


# ------------------------------------------------------------------------ strategies of examples


def _base_examples(spec, losses_for_n, n_range=(1, 4), noise_names=None, with_tau=True):
    from hypothesis import strategies as st

    names = noise_names or spec.noise_names

    @st.composite
    def ex(draw):
        n = draw(st.integers(*n_range))
        noise = draw(st.sampled_from(names))
        out = {"loss": draw(losses_for_n(n)), "a": draw(S.preactivations(n, noise=noise)), "noise": noise,
               "seed": draw(st.integers(0, 2**31 - 1))}
        if with_tau and spec.has("relaxation"):
            out["tau"] = draw(st.sampled_from(spec.taus))
        return out

    return ex()


# ------------------------------------------------------------------------ the checks


def _contract_examples(spec):
    from hypothesis import strategies as st

    return st.tuples(_base_examples(spec, S.multilinear_losses), st.sampled_from((1, 3, 64))).map(
        lambda t: {**t[0], "size": t[1]})


def _run_contract(spec, ex, samples):
    pr = _problem(spec, ex)
    a = pr.a.copy()
    spec.call(pr.loss, pr.a, pr.noise, np.random.default_rng(ex["seed"]), ex["size"], tau=pr.tau,
              check="output_contract")
    if not np.array_equal(a, pr.a):
        raise CheckFailure(f"the estimator modified its input a (was {fmt(a)}, now {fmt(pr.a)}); work on a copy")
    return Outcome("pass", f"shape ({ex['size']}, {pr.n}), finite floats")


def _run_determinism(spec, ex, samples):
    pr = _problem(spec, ex)
    size = 16
    e1 = spec.call(pr.loss, pr.a, pr.noise, np.random.default_rng(ex["seed"]), size, tau=pr.tau,
                   check="seed_determinism")
    e2 = spec.call(pr.loss, pr.a, pr.noise, np.random.default_rng(ex["seed"]), size, tau=pr.tau,
                   check="seed_determinism")
    if not np.array_equal(e1, e2):
        r = int(np.argwhere(e1 != e2)[0][0])
        raise CheckFailure(f"two calls with generators in the same state differ (row {r}: {fmt(e1[r])} vs "
                           f"{fmt(e2[r])}); draw all randomness from the rng argument")
    if spec.has("deterministic"):
        e3 = spec.call(pr.loss, pr.a, pr.noise, np.random.default_rng(ex["seed"] + 1), size, tau=pr.tau,
                       check="seed_determinism")
        if not (np.array_equal(e1, e3) and np.all(e1 == e1[:1])):
            raise CheckFailure("tagged deterministic, but the rows differ between rows or between seeds")
    return Outcome("pass", "bit-identical under the same seed")


def _run_linear_exact(spec, ex, samples):
    pr = _problem(spec, ex)
    g, err = exact_gradient(pr)
    B, _ = resolve_bound(spec.bound, pr)
    size = min(samples, 2048)
    e = spec.call(pr.loss, pr.a, pr.noise, np.random.default_rng(ex["seed"]), size, tau=pr.tau, check="linear_exact")
    # the estimator's own rounding is unknown (e.g. F'(a) = 2 s (1 - s) loses ~|log2(1 - s)| bits for large a):
    # allow a relative 1e-9 of its range, far below any modelling error worth finding (a 1 % scale is 1e-2)
    tol = err + LINEAR_RTOL * (np.where(np.isfinite(B), B, 0.0) + np.abs(g)) + UNDERFLOW_FLOOR
    dev = np.abs(e - g)
    if np.any(dev > tol):
        r, i = np.argwhere(dev > tol)[0]
        raise CheckFailure(
            f"linear loss: sample {r} gives e[{i}] = {float(e[r, i])!r} but the true gradient is {float(g[i])!r} "
            f"(|difference| {dev[r, i]:.3g} > tolerance {tol[i]:.3g}); Sec. 2.2 I: ST is exact with zero variance "
            "for linear L")
    return Outcome("pass", f"{size} samples equal the true gradient within {float(tol.max()):.2g}")


def _compare_mean(spec, pr, samples, seed, check) -> Outcome:
    g, err = exact_gradient(pr)
    mi = _interval(spec, pr, check, samples, seed)
    und = _undecided(mi, check)
    if und:
        return und
    outside = (g + err < mi.low) | (g - err > mi.high)
    width = np.maximum(mi.high - mi.low, 1e-300)
    margin = float(np.max(np.maximum(mi.low - (g + err), (g - err) - mi.high) / width))
    if outside.any():
        i = int(np.argmax(outside))
        raise CheckFailure(
            f"E[e] differs from the true gradient: coordinate {i} has exact gradient {g[i]:.6g} "
            f"outside [{mi.low[i]:.6g}, {mi.high[i]:.6g}] (empirical-Bernstein interval of the mean, "
            f"family-wise 1-{mi.alpha:g}, {mi.n} samples, |e| <= {mi.bound[i]:.3g}); "
            f"{int(outside.sum())} of {pr.n} coordinates outside")
    return Outcome("pass", f"true gradient inside the {mi.n}-sample interval", margin)


def _run_unbiased(check):
    def run(spec, ex, samples):
        pr = _problem(spec, ex)
        return _compare_mean(spec, pr, samples, example_seed(check, ex), check)

    return run


class SinhNoise(Noise):
    """The law of ``T(z) = sinh(z)`` for ``z ~ base``: ``G(t) = F(asinh t)``, ``G'(t) = F'(asinh t) / sqrt(1 + t^2)``.

    ``sample(rng, shape) = sinh(base.sample(rng, shape))``: with the same
    generator state it transforms exactly the draws the base noise would give.
    """

    def __init__(self, base: Noise):
        self.base = base
        self.name = f"sinh({base.name})"
        self.support = (float(np.sinh(base.support[0])), float(np.sinh(base.support[1])))

    def __eq__(self, other):
        return isinstance(other, SinhNoise) and other.base == self.base

    def __hash__(self):
        return hash(self.name)

    def _pdf(self, t):
        return self.base.pdf(np.arcsinh(t)) / np.sqrt(1.0 + t * t)

    def _cdf(self, t):
        return self.base.cdf(np.arcsinh(t))

    def _icdf(self, u):
        return np.sinh(self.base.icdf(u))

    def _sample(self, rng, shape):
        return np.sinh(self.base.sample(rng, shape))


def _run_invariance(spec, ex, samples):
    check = "invariance_b1"
    pr = _problem(spec, ex)
    tn = SinhNoise(pr.noise)
    ta = np.sinh(pr.a)
    jac = np.cosh(pr.a)  # T'(a)
    prT = Problem(pr.loss, ta, tn, tau=pr.tau)
    size = min(samples, 2048)
    e = spec.call(pr.loss, pr.a, pr.noise, np.random.default_rng(ex["seed"]), size, tau=pr.tau, check=check)
    eT = spec.call(pr.loss, ta, tn, np.random.default_rng(ex["seed"]), size, tau=pr.tau, check=check) * jac
    B, _ = resolve_bound(spec.bound, pr)
    tol = 1e-9 * (np.where(np.isfinite(B), B, 0.0) + np.abs(e).max(axis=0)) + UNDERFLOW_FLOOR
    if np.all(np.abs(e - eT) <= tol):
        return Outcome("pass", f"{size} coupled samples: e_F(a) = T'(a) e_G(T(a)) within {float(tol.max()):.2g}")
    # not coupled sample by sample: compare the means (each interval at alpha/2)
    seed = example_seed(check, ex)
    m1 = _interval(spec, pr, check, samples, seed, alpha=DEFAULT_ALPHA / 2)
    BT, declT = resolve_bound(spec.bound, prT)
    m2 = mean_interval(Sampler(spec, prT, check), pr.n, BT, declT, samples=samples, seed=seed + 1,
                       key=f"battery/{check}/T", alpha=DEFAULT_ALPHA / 2)
    for mi in (m1, m2):
        und = _undecided(mi, check)
        if und:
            return und
    lo2, hi2 = m2.low * jac, m2.high * jac
    apart = (m1.high < lo2) | (hi2 < m1.low)
    if apart.any():
        i = int(np.argmax(apart))
        raise CheckFailure(
            f"not invariant (Prop. B.1): with T = sinh on noise and pre-activation, coordinate {i} has "
            f"E[e_F(a)] in [{m1.low[i]:.6g}, {m1.high[i]:.6g}] but E[T'(a) e_G(T(a))] in [{lo2[i]:.6g}, {hi2[i]:.6g}]")
    return Outcome("pass", "samples not coupled; means agree (intervals overlap)")


def _b5_examples(spec):
    from hypothesis import strategies as st

    @st.composite
    def ex(draw):
        n = draw(st.integers(1, 3))
        noise = draw(st.sampled_from(spec.noise_names))
        a = draw(S.preactivations(n, noise=noise, bound=2.0))
        out = {"loss": draw(S.b5_quadratic_losses(n, a, noise)), "a": a, "noise": noise,
               "seed": draw(st.integers(0, 2**31 - 1))}
        if spec.has("relaxation"):
            out["tau"] = draw(st.sampled_from(spec.taus))
        return out

    return ex()


def _sign_agreement(spec, ex, samples, check):
    """Coordinates where the interval of E[e_i] lies strictly on the other side of 0 than the exact g_i.

    Returns an :class:`Outcome` when the example cannot decide (g = 0 within its rounding bound, or an
    undecided interval), else ``(pr, g, mi, sure, wrong, margin)``: ``sure`` marks the coordinates whose
    gradient is non-zero beyond its bound, ``wrong`` those with a sign certainly opposite, ``margin`` the
    normalized violation that Hypothesis's ``target()`` maximizes.
    """
    pr = _problem(spec, ex)
    g, err = exact_gradient(pr)
    sure = np.abs(g) > err
    if not sure.any():
        return Outcome("vacuous", "the true gradient is 0 within its rounding bound")
    mi = _interval(spec, pr, check, samples, example_seed(check, ex))
    und = _undecided(mi, check)
    if und:
        return und
    wrong = sure & (((g > 0) & (mi.high < 0)) | ((g < 0) & (mi.low > 0)))
    B = np.where(np.isfinite(mi.bound) & (mi.bound > 0), mi.bound, 1.0)
    margin = float(np.max(np.where(sure, -np.sign(g) * mi.mean / B, -1.0)))
    return pr, g, mi, sure, wrong, margin


def _run_ascent(spec, ex, samples):
    decided = _sign_agreement(spec, ex, samples, "ascent_b5")
    if isinstance(decided, Outcome):
        return decided
    pr, g, mi, sure, wrong, margin = decided
    if wrong.any():
        i = int(np.argmax(wrong))
        raise CheckFailure(
            f"not an ascent direction under Prop. B.5's condition |E[g_i]| >= Lip_i: coordinate {i} has true "
            f"gradient {g[i]:.6g} but E[e_{i}] in [{mi.low[i]:.6g}, {mi.high[i]:.6g}] (opposite sign; "
            f"family-wise 1-{mi.alpha:g}, {mi.n} samples)")
    return Outcome("pass", "every E[e_i] has the sign of the true gradient or is undecided", margin)


def _quadratic_condition_examples(spec, losses_for):
    """Examples ``{loss, a, noise, seed}`` with ``n <= 3`` units and a quadratic loss drawn by ``losses_for``
    (``S.b7_quadratic_losses`` or ``S.b8_quadratic_losses``: losses meeting that proposition's condition)."""
    from hypothesis import strategies as st

    @st.composite
    def ex(draw):
        n = draw(st.integers(1, 3))
        noise = draw(st.sampled_from(spec.noise_names))
        a = draw(S.preactivations(n, noise=noise, bound=2.0))
        return {"loss": draw(losses_for(n, a, noise)), "a": a, "noise": noise,
                "seed": draw(st.integers(0, 2**31 - 1))}

    return ex()


def _b8_examples(spec):
    return _quadratic_condition_examples(spec, S.b8_quadratic_losses)


def _run_ascent_b8(spec, ex, samples):
    check = "ascent_b8"
    pr = _problem(spec, ex)
    g, err = exact_gradient(pr)
    e = spec.call(pr.loss, pr.a, pr.noise, np.random.default_rng(ex["seed"]), 4, tau=pr.tau, check=check)[0]
    B, _ = resolve_bound(spec.bound, pr)
    tol = LINEAR_RTOL * (np.where(np.isfinite(B), B, 0.0) + np.abs(e)) + UNDERFLOW_FLOOR
    sure = (np.abs(g) > err) & (np.abs(e) > tol)
    wrong = sure & (np.sign(e) != np.sign(g))
    if wrong.any():
        i = int(np.argmax(wrong))
        raise CheckFailure(
            f"not an ascent direction under Prop. B.8's condition |g_i(x*)| >= 2(1-p*)L + L: coordinate {i} has "
            f"true gradient {g[i]:.6g} but the deterministic estimate {e[i]:.6g} (opposite sign)")
    if not sure.any():
        return Outcome("vacuous", "true gradient or estimate 0 within rounding")
    return Outcome("pass", "every e_i has the sign of the true gradient")


def _b4_examples(spec):
    from hypothesis import strategies as st

    def losses(n):
        if spec.has("unbiased"):
            return st.one_of(S.multilinear_losses(n), S.non_multilinear_losses(n))
        return S.multilinear_losses(n)  # ST-type: unbiased (the premise of B.4's remark) for multilinear L only

    return _base_examples(spec, losses)


def _run_rescaling_b4(spec, ex, samples):
    decided = _sign_agreement(spec, ex, samples, "rescaling_b4")
    if isinstance(decided, Outcome):
        return decided
    # <D E[e], g> = sum_i D_i E[e_i] g_i >= 0 for every D = diag(d), d >= 0  <=>  E[e_i] g_i >= 0 for every i
    pr, g, mi, sure, wrong, margin = decided
    if wrong.any():
        i = int(np.argmax(wrong))
        worst = mi.high[i] * g[i] if g[i] > 0 else mi.low[i] * g[i]
        raise CheckFailure(
            f"a PSD diagonal rescaling breaks the ascent direction (Prop. B.4): with D = e_{i} e_{i}^T (all weight on "
            f"coordinate {i}) <D E[e], g> = E[e_{i}] g_{i} <= {worst:.6g} < 0; true gradient g_{i} = {g[i]:.6g}, "
            f"E[e_{i}] in [{mi.low[i]:.6g}, {mi.high[i]:.6g}] (family-wise 1-{mi.alpha:g}, {mi.n} samples)")
    return Outcome("pass", f"E[e_i] g_i >= 0 for every decided coordinate ({int(sure.sum())} of {pr.n}): every PSD "
                           "diagonal rescaling keeps a non-negative scalar product", margin)


def _b7_examples(spec):
    return _quadratic_condition_examples(spec, S.b7_quadratic_losses)


def _run_deterministic_b7(spec, ex, samples):
    from stecheck.numerics import enumeration

    check = "deterministic_b7"
    pr = _problem(spec, ex)
    ref = enumeration.expected_estimator("st", pr.loss, pr.a, pr.noise)  # E[Alg. 1 ST], exact with a bound
    m, merr = np.asarray(ref.value, float), np.asarray(ref.error_bound, float) + UNDERFLOW_FLOOR
    e = spec.call(pr.loss, pr.a, pr.noise, np.random.default_rng(ex["seed"]), 4, tau=pr.tau, check=check)[0]
    B, _ = resolve_bound(spec.bound, pr)
    tol = LINEAR_RTOL * (np.where(np.isfinite(B), B, 0.0) + np.abs(e)) + UNDERFLOW_FLOOR
    sure = (np.abs(m) > merr) & (np.abs(e) > tol)
    wrong = sure & (np.sign(e) != np.sign(m))
    if wrong.any():
        i = int(np.argmax(wrong))
        raise CheckFailure(
            f"under Prop. B.7's condition (34) |g_i(x*)| >= 2(1-p*)L, coordinate {i} of the deterministic estimate "
            f"{e[i]:.6g} has the opposite sign of the expected stochastic ST {m[i]:.6g} (exact, error <= "
            f"{merr[i]:.2g}): <e, E[ST]> < 0 for a(phi) that weights coordinate {i}")
    if not sure.any():
        return Outcome("vacuous", "expected ST or estimate 0 within rounding")
    scale = np.where(np.isfinite(B) & (B > 0), B, np.abs(e) + 1.0)
    margin = float(np.max(np.where(sure, -np.sign(m) * e / scale, -1.0)))
    return Outcome("pass", "every e_i has the sign of the expected stochastic ST (exact)", margin)


#: Tolerance of ``width_bias_b6`` on the mean cosine (absolute, on [-1, 1]).
B6_TOLERANCE = 0.05
#: Widths compared by ``width_bias_b6`` and draws of (W, y, a) per width.
B6_WIDTHS, B6_DRAWS = (2, 10), 8


def _b6_examples(spec):
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"noise": st.sampled_from(spec.noise_names), "K": st.integers(1, 3),
                                  "seed": st.integers(0, 2**31 - 1)})


def _b6_instances(ex, n):
    """``B6_DRAWS`` instances ``(W, y, a)``: ``W`` ``K x n`` Gaussian with unit rows (fan-in normalized), ``y ~ N(0, I)``,
    ``a ~ U[-1.5, 1.5]^n``; from the example's seed (a separate stream per width)."""
    from stecheck.numerics import losses

    rng = np.random.default_rng([ex["seed"], n])
    out = []
    for _ in range(B6_DRAWS):
        W = rng.normal(size=(ex["K"], n))
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        out.append((losses.Quadratic(W, rng.normal(size=ex["K"])), rng.uniform(-1.5, 1.5, size=n)))
    return out


def cosine_bracket(low: np.ndarray, high: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """``[lo, hi]`` containing ``cos(m, g)`` for every ``m`` in the box ``[low, high]`` (``g != 0``).

    The scalar product ranges over ``[sum min(low g, high g), sum max(...)]`` exactly, ``|m|`` over
    ``[|dist(0, box)|, |max(|low|, |high|)|]``; each end divides by the norm that makes it extreme
    (a box touching 0 leaves the end at -1 or 1).  Exact up to rounding.
    """
    gn = float(np.linalg.norm(g))
    dlo = float(np.sum(np.minimum(low * g, high * g)))
    dhi = float(np.sum(np.maximum(low * g, high * g)))
    mmax = float(np.linalg.norm(np.maximum(np.abs(low), np.abs(high))))
    mmin = float(np.linalg.norm(np.where(low > 0, low, np.where(high < 0, -high, 0.0))))
    if dlo >= 0:
        lo = dlo / (mmax * gn) if mmax > 0 else -1.0
    else:
        lo = dlo / (mmin * gn) if mmin > 0 else -1.0
    if dhi >= 0:
        hi = dhi / (mmin * gn) if mmin > 0 else 1.0
        # tighter: sin(m, g) >= dist(box, span(g)) / |m|_max  (the distance is a 1-d convex minimization over t)
        if mmax > 0:
            hi = min(hi, math.sqrt(max(0.0, 1.0 - (_distance_to_line(low, high, g / gn) / mmax) ** 2)))
    else:
        hi = dhi / (mmax * gn)
    return max(-1.0, lo), min(1.0, hi)


def _distance_to_line(low, high, u) -> float:
    """A lower bound of ``min {|m - t u| : m in [low, high], t real}`` (``|u| = 1``).

    ``d(t) = |clip(t u, low, high) - t u|`` is convex in ``t`` (distance from a convex set to a moving point on a
    line); it is minimized by golden-section search on ``[-T, T]`` (``T`` = the box's largest norm) to 1e-12
    relative in ``t``; the value found is then lowered by the Lipschitz bound ``|u| = 1`` times the bracket
    width, so the result is a lower bound of the minimum.
    """
    T = float(np.linalg.norm(np.maximum(np.abs(low), np.abs(high)))) + 1.0

    def d(t):
        p = t * u
        return float(np.linalg.norm(np.clip(p, low, high) - p))

    a, b = -T, T
    r = (math.sqrt(5.0) - 1.0) / 2.0
    c, e = b - r * (b - a), a + r * (b - a)
    fc, fe = d(c), d(e)
    for _ in range(80):
        if fc <= fe:
            b, e, fe = e, c, fc
            c = b - r * (b - a)
            fc = d(c)
        else:
            a, c, fc = c, e, fe
            e = a + r * (b - a)
            fe = d(e)
    return max(0.0, min(fc, fe) - (b - a))


def _cos(m, g) -> float:
    return float(m @ g / (np.linalg.norm(m) * np.linalg.norm(g)))


def _run_width_bias_b6(spec, ex, samples):
    from stecheck.numerics import enumeration

    check = "width_bias_b6"
    noise = get_noise(ex["noise"])
    alpha = DEFAULT_ALPHA / (len(B6_WIDTHS) * B6_DRAWS)  # Bonferroni over every box of the example
    seed = example_seed(check, ex)
    brackets, reference = {}, {}
    for n in B6_WIDTHS:
        inst = [(Problem(loss, a, noise), loss, a) for loss, a in _b6_instances(ex, n)]
        grads = [exact_gradient(pr) for pr, _, _ in inst]
        if any(np.linalg.norm(g) == 0 or np.linalg.norm(err) > 1e-9 * np.linalg.norm(g) for g, err in grads):
            return Outcome("vacuous", f"n={n}: an exact gradient is 0 or not accurate to 1e-9 relative")
        # premise (Cor. B.2 on this ensemble) with Alg. 1's exact E[ST]: rounding <= 1e-9 relative, far below tolerance
        ref = [np.asarray(enumeration.expected_estimator("st", loss, a, noise).value, float) for _, loss, a in inst]
        if any(np.linalg.norm(r) == 0 for r in ref):
            return Outcome("vacuous", f"n={n}: Alg. 1's expected estimate is 0")
        reference[n] = float(np.mean([_cos(r, g) for r, (g, _) in zip(ref, grads)]))
        los, his = [], []
        for j, ((pr, _, _), (g, _)) in enumerate(zip(inst, grads)):
            mi = _interval(spec, pr, check, samples, seed + 97 * n + j, alpha=alpha)
            und = _undecided(mi, check)
            if und:
                return und
            lo, hi = cosine_bracket(mi.low, mi.high, g)
            los.append(lo)
            his.append(hi)
        brackets[n] = (float(np.mean(los)), float(np.mean(his)))
    small, large = B6_WIDTHS
    if reference[large] < reference[small] - B6_TOLERANCE:
        return Outcome("vacuous", f"on this ensemble Alg. 1's own mean cosine falls from {reference[small]:.3f} "
                                  f"(n={small}) to {reference[large]:.3f} (n={large}): the premise does not hold")
    (slo, shi), (llo, lhi) = brackets[small], brackets[large]
    margin = (slo - B6_TOLERANCE - lhi) / 2.0
    if lhi < slo - B6_TOLERANCE:
        raise CheckFailure(
            f"the bias grows with width at initialization (Cor. B.2): mean cosine(E[e], true gradient) over "
            f"{B6_DRAWS} fan-in normalized Gaussian layers is <= {lhi:.3f} at n={large} but >= {slo:.3f} at "
            f"n={small} (tolerance {B6_TOLERANCE}); Alg. 1 (exact): {reference[small]:.3f} -> {reference[large]:.3f} "
            f"(family-wise 1-{DEFAULT_ALPHA:g} over the {2 * B6_DRAWS} boxes)")
    return Outcome("pass", f"mean cosine in [{slo:.3f}, {shi:.3f}] at n={small}, [{llo:.3f}, {lhi:.3f}] at n={large}; "
                           f"Alg. 1 exact {reference[small]:.3f} -> {reference[large]:.3f}", margin)


def _tau_examples(spec):
    from hypothesis import strategies as st

    return st.fixed_dictionaries({
        "loss": S.linear_losses(1), "a": S.preactivations(1, bound=2.0), "noise": st.just("logistic"),
        "tau": st.sampled_from((0.4, 0.2)), "seed": st.integers(0, 2**31 - 1)})


def _run_tau_order(spec, ex, samples):
    check = "relaxation_bias_order"
    tau = ex["tau"]
    seed = example_seed(check, ex)
    res = []
    for t in (tau, tau / 4):
        pr = _problem(spec, {**ex, "tau": t})
        g, err = exact_gradient(pr)
        mi = _interval(spec, pr, check, samples, seed + len(res), alpha=DEFAULT_ALPHA / 2)  # two intervals
        und = _undecided(mi, check)
        if und:
            return und
        # |bias| lies in [max(0, dist(g, interval)), max(|low - g|, |high - g|)] (+ g's bound)
        lo = max(0.0, float(mi.low[0] - g[0] - err[0]), float(g[0] - err[0] - mi.high[0]))
        hi = float(max(abs(mi.low[0] - g[0]), abs(mi.high[0] - g[0])) + err[0])
        res.append((t, lo, hi))
    (t1, lo1, hi1), (t2, lo2, hi2) = res
    if lo2 > hi1:
        raise CheckFailure(
            f"the bias does not shrink with tau: |bias| <= {hi1:.4g} at tau={t1:g} but >= {lo2:.4g} at tau={t2:g} "
            "(Prop. E.1: GS's bias is O(tau); ST-GS is biased even as tau -> 0, eqs. (98)-(100))")
    return Outcome("pass", f"|bias| at tau={t2:g} <= {hi2:.3g}, at tau={t1:g} <= {hi1:.3g}")


def _needs(*tags):
    def f(spec):
        return None if spec.has(*tags) else f"needs tag {' or '.join(tags)}"

    return f


def _invariance_applies(spec):
    if not spec.has("st", "unbiased", "invariant"):
        return "needs tag st, unbiased or invariant"
    if spec.noises is not None:
        return "the estimator supports only some noises (the check transforms the noise)"
    return None


def _rescaling_applies(spec):
    if spec.has("deterministic"):
        return "deterministic: not Alg. 1 in expectation (Props. B.7, B.8 apply)"
    return None if spec.has("st", "unbiased") else "needs tag st or unbiased"


def _width_applies(spec):
    if spec.has("deterministic"):
        return "deterministic: Cor. B.2 is about the stochastic ST"
    return None if spec.has("st") else "needs tag st"


CHECKS: tuple[Check, ...] = (
    Check("output_contract", "estimator contract", lambda s: None, _contract_examples, _run_contract, False),
    Check("seed_determinism", "reproducibility", lambda s: None,
          lambda s: _base_examples(s, S.multilinear_losses), _run_determinism, False),
    Check("linear_exact", "Sec. 2.2 I", _needs("st"), lambda s: _base_examples(s, S.linear_losses),
          _run_linear_exact, False),
    Check("unbiased_multilinear", "Prop. B.2", _needs("st", "unbiased"),
          lambda s: _base_examples(s, S.multilinear_losses), _run_unbiased("unbiased_multilinear")),
    Check("unbiased_any_loss", "eqs. (4)-(6)", _needs("unbiased"),
          lambda s: _base_examples(s, S.non_multilinear_losses), _run_unbiased("unbiased_any_loss")),
    Check("invariance_b1", "Prop. B.1, eq. (19)", _invariance_applies,
          lambda s: _base_examples(s, S.multilinear_losses, n_range=(1, 3)), _run_invariance),
    Check("ascent_b5", "Prop. B.5, eqs. (23)-(30)", _needs("st"), _b5_examples, _run_ascent),
    Check("ascent_b8", "Prop. B.8, eqs. (42)-(45)", _needs("deterministic"), _b8_examples, _run_ascent_b8, False),
    Check("relaxation_bias_order", "Prop. E.1", _needs("relaxation"), _tau_examples, _run_tau_order),
    Check("rescaling_b4", "Prop. B.4, eqs. (21)-(22)", _rescaling_applies, _b4_examples, _run_rescaling_b4),
    Check("width_bias_b6", "Prop. B.6, Cor. B.2", _width_applies, _b6_examples, _run_width_bias_b6),
    Check("deterministic_b7", "Prop. B.7, eqs. (34)-(40)", _needs("deterministic"), _b7_examples,
          _run_deterministic_b7, False),
)


def get_check(name: str) -> Check:
    for c in CHECKS:
        if c.name == name or f"check_{c.name}" == name:
            return c
    raise EstimatorContractError(f"unknown check {name!r}; valid names are {[c.name for c in CHECKS]}.")
