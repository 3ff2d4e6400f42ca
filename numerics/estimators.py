"""Single-sample gradient estimators of ``d/da E_{x ~ p(x; a)}[L(x)]``.

Model (paper eq. (1)): unit ``i`` is *on* iff ``a_i - z_i >= 0``, ``z_i`` iid
with cdf ``F``, so ``P(on) = p_i = F(a_i)``; ``q_i = 1 - p_i``.  The loss sees
the state ``x`` in an encoding (:mod:`numerics.encodings`): ``"pm1"``
(on = +1, off = -1; default, the paper's Sec. 2) or ``"01"`` (on = 1,
off = 0; App. D.1, E).  ``c`` is the span (2 for pm1, 1 for 01), ``x^{i->v}``
is ``x`` with coordinate ``i`` set to ``v``.  Per sample the estimators are:

``st``                 Alg. 1 / eq. (9): ``c F'(a_i) dL/dx_i(x)``.  Biased unless L multilinear.
``identity_st``        ``dL/dx_i(x)`` (Alg. 1 with ``c F' := 1``; Bengio et al. 2013).  Biased.
``deterministic_st``   ``c F'(a_i) dL/dx_i(x*)``, ``x* = state of sign(a)`` (Sec. 2.2 V, z = 0).
                       Draws nothing.  Biased.
``local_expectations`` eq. (6): ``F'(a_i) (L(x^{i->on}) - L(x^{i->off}))``.  Unbiased.
``arm``                Yin & Zhou (2019), ARM in the logit ``phi_i = logit(p_i)``, chain-ruled
                       to ``a``: ``u ~ U(0,1)^n``, ``x1 = enc(u > q)``, ``x2 = enc(u < p)``,
                       ``(F'(a_i) / (p_i q_i)) (L(x1) - L(x2)) (u_i - 1/2)``.  For logistic
                       noise ``F'/(pq) = 2`` exactly (``phi = 2a``).  For any other noise it is
                       the same estimator in ``phi`` times ``dphi/da = F'/(pq)``: unbiased where
                       ``0 < p_i < 1``; where ``F'(a_i) = 0`` the estimate is 0 (so is the
                       gradient); ``p_i in {0,1}`` with ``F'(a_i) > 0`` (edge of a bounded
                       support) raises :class:`InvalidArgument`.
``reinforce``          score function with a baseline: ``K`` iid states ``x_1..x_K`` per estimate,
                       ``(1/K) sum_k (L(x_k) - b_k) s(x_k)``, score
                       ``s_i(x) = d log P(x)/d a_i = F'(a_i) (+1/p_i if on, -1/q_i if off)``.
                       ``baseline="loo"`` (default, RLOO, Kool et al. 2019; ``samples=K >= 2``,
                       default 2): ``b_k = mean_{j != k} L(x_j)``, independent of ``x_k``, so
                       unbiased; or a finite float constant ``b``.  Rows are iid.
``gumbel_softmax``     GS(tau), App. E eqs. (73)-(77), logistic noise only: relaxed state
                       ``y = F(u)`` (01) or ``F(u) - F(-u)`` (pm1), ``u = (a - z)/tau``,
                       estimate ``dL/dx_i(y) c F'(u_i) / tau``.  With ``F(u) = sigmoid(2u)``,
                       ``eta = 2a`` and ``z' = 2z`` standard logistic this is exactly the
                       paper's ``sigma((eta - z')/tau)``: ``tau`` is the paper's temperature.
                       Needs ``L`` differentiable on ``R^n``.  Biased for every tau > 0.
``st_gumbel_softmax``  ST-GS(tau), eq. (98): ``dL/dx_i(x) c F'(u_i) / tau`` with the hard
                       state ``x`` from the same ``z``.  Logistic noise only.  Biased.
``st_weights``         Alg. 2 (latent weights, ``w = sign(eta - z)``, identity backward):
                       ``dL/dw_i(w)``.  The same numbers as ``identity_st``; it is the
                       linearised (eq. (7)) estimate of ``(1/c) dE[L]/dtheta`` with
                       ``theta = F(eta)`` the probabilities (unbiased for multilinear L),
                       i.e. the step of Prop. 1's mirror descent, not of ``dE/deta``.

One interface: :func:`estimate_batch` ``(name, loss, a, noise, rng, size, *,
encoding="pm1", **params) -> (size, n)``; :class:`EstimatorSampler` wraps it
for :func:`numerics.montecarlo.monte_carlo_mean`.  Each registered
:class:`Estimator` has ``draw(rng, a, noise, size, encoding, params) ->
sample`` and ``fn(loss, a, noise, sample, *, encoding, **params)``; the
sample is the states ``X (B, n)`` (``sample="state"``/``"none"``), the
uniforms ``U (B, n)`` (``"uniform"``, ARM), ``K`` states ``S (B, K, n)``
(``"states"``, REINFORCE) or the noises ``Z (B, n)`` (``"noise"``, GS).

Accuracy: each estimate is a closed form of loss values/gradients (a few
roundings: relative error ``<= 8 u`` on top of the loss's own error and the
``<= 4 u`` working accuracy of ``F, F'``); REINFORCE's score ``F'/p`` adds one
division.  The statistical error of an average of estimates is
:mod:`numerics.montecarlo`'s business.
"""

from __future__ import annotations

import math
from collections.abc import Callable as _CallableT
from dataclasses import dataclass
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument
from stecheck.selftest import OncePerProcess

from ._validation import as_int, as_vector, check_finite_rows, short_repr
from .encodings import check_encoding, check_states, encode, levels, span
from .losses import Callable, Loss
from .noise import Noise, resolve_noise

__all__ = [
    "Estimator",
    "ESTIMATORS",
    "prepare",
    "deterministic_state",
    "sample_states",
    "st_estimates",
    "identity_st_estimates",
    "deterministic_st_estimates",
    "local_expectations_estimates",
    "arm_estimates",
    "reinforce_estimates",
    "reinforce_score",
    "gumbel_softmax_estimates",
    "st_gumbel_softmax_estimates",
    "st_weights_estimates",
    "get_estimator",
    "resolve_params",
    "draw_sample",
    "estimate_batch",
    "EstimatorSampler",
]


def _as_loss(loss: Any) -> Loss:
    if isinstance(loss, Loss):
        return loss
    value = getattr(loss, "value", None)
    grad = getattr(loss, "grad", None)
    if callable(value) and callable(grad):
        return Callable(value, grad, n=getattr(loss, "n", None), name=repr(loss))
    raise InvalidArgument(
        f"loss={short_repr(loss)} is not a loss: expected an object with value(X) -> (B,) and "
        "grad(X) -> (B, n), e.g. numerics.losses.Quadratic(W, y) or numerics.losses.Callable(f, df)."
    )


def prepare(loss: Any, a: Any, noise: Noise | str) -> tuple[Loss, np.ndarray, Noise]:
    """Validate and normalise ``(loss, a, noise)``: ``a`` a finite 1-D float vector matching ``loss.n``."""
    _check_ties()
    loss = _as_loss(loss)
    a = as_vector(a, "a")
    if loss.n is not None and loss.n != a.size:
        raise InvalidArgument(
            f"a has length {a.size} but {loss!r} is defined on R^{loss.n}; pass a vector of length {loss.n}."
        )
    return loss, a, resolve_noise(noise)


def _check_X(X: Any, n: int, who: str, encoding: str = "pm1") -> np.ndarray:
    return check_states(X, n, who, encoding)


def deterministic_state(a: Any, encoding: str = "pm1") -> np.ndarray:
    """``x* = sign(a)`` with ``sign(0) = +1`` (Sec. 2.2 V), in the encoding."""
    a = as_vector(a, "a")
    return encode(a >= 0.0, encoding)


def sample_states(
    rng: np.random.Generator, a: Any, noise: Noise | str, size: int, encoding: str = "pm1"
) -> np.ndarray:
    """``size`` iid states ``x = sign(a - z)`` (eq. (1), ``sign(0) = +1``); shape ``(size, n)``."""
    a = as_vector(a, "a")
    noise = resolve_noise(noise)
    size = as_int(size, "size", minimum=1)
    z = noise.sample(rng, (size, a.size))
    return encode(a >= z, encoding)  # a - z >= 0  <=>  a >= z in IEEE arithmetic


# ----------------------------------------------------------------------------------------------
# estimators that are functions of one state x
# ----------------------------------------------------------------------------------------------


def st_estimates(loss: Any, a: Any, noise: Noise | str, X: Any, *, encoding: str = "pm1") -> np.ndarray:
    """Alg. 1: ``c F'(a_i) dL/dx_i(x)`` (``c = 2`` pm1, ``1`` 01) for each row ``x`` of ``X``; ``(B, n)``."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "st_estimates", encoding)
    return (span(encoding) * noise.pdf(a)) * loss.grad(X)


def identity_st_estimates(loss: Any, a: Any, noise: Noise | str, X: Any, *, encoding: str = "pm1") -> np.ndarray:
    """Identity ST: ``dL/dx_i(x)`` for each row ``x`` of ``X``; shape ``(B, n)``."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "identity_st_estimates", encoding)
    return loss.grad(X)


def st_weights_estimates(loss: Any, a: Any, noise: Noise | str, X: Any, *, encoding: str = "pm1") -> np.ndarray:
    """Alg. 2 (ST weights, identity backward): ``dL/dw_i(w)`` for each row ``w`` of ``X``; ``a`` = latent ``eta``."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "st_weights_estimates", encoding)
    return loss.grad(X)


def _st_kernel(loss: Loss, a: np.ndarray, noise: Noise, encoding: str):
    """:func:`st_estimates` as ``f(X, out)`` for states drawn by :func:`draw_sample` (valid by construction):
    no re-validation, ``c F'(a)`` computed once, and fused into the loss's last product where it can be
    (bit-identical)."""
    scale = span(encoding) * noise.pdf(a)
    return lambda X, out=None: loss._scaled_grad(X, scale, out)


def _identity_kernel(loss: Loss, a: np.ndarray, noise: Noise, encoding: str):
    """:func:`identity_st_estimates` / :func:`st_weights_estimates` as ``f(X, out)``, for drawn states."""

    def f(X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        g = loss._grad_unchecked(X)  # finiteness is checked by the caller, with the sample's index in its batch
        if out is None:
            return g
        out[...] = g
        return out

    return f


def deterministic_st_estimates(
    loss: Any, a: Any, noise: Noise | str, X: Any, *, encoding: str = "pm1"
) -> np.ndarray:
    """Deterministic ST ``c F'(a_i) dL/dx_i(x*)``, ``x*`` the state of ``sign(a)``, repeated for each row of ``X``."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "deterministic_st_estimates", encoding)
    g = (span(encoding) * noise.pdf(a)) * loss.grad(deterministic_state(a, encoding)[None, :])[0]
    return np.broadcast_to(g, X.shape).copy()


def local_expectations_estimates(
    loss: Any, a: Any, noise: Noise | str, X: Any, *, encoding: str = "pm1"
) -> np.ndarray:
    """Eq. (6): ``F'(a_i) (L(x^{i->on}) - L(x^{i->off}))`` for each row ``x``; ``n + 1`` loss batches."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "local_expectations_estimates", encoding)
    lo, hi = levels(encoding)
    base = loss.value(X)
    out = np.empty_like(X)
    work = X.copy()
    for i in range(a.size):
        on = X[:, i] == hi
        work[:, i] = np.where(on, lo, hi)  # the flipped state
        other = loss.value(work)
        out[:, i] = np.where(on, base - other, other - base)
        work[:, i] = X[:, i]
    return out * noise.pdf(a)


# ----------------------------------------------------------------------------------------------
# ARM
# ----------------------------------------------------------------------------------------------


def _arm_factor(a: np.ndarray, noise: Noise, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``d logit(F(a)) / da = F'(a) / (F(a)(1 - F(a)))``; exactly 2 for the logistic noise ``F(a) = sigmoid(2a)``."""
    if noise.name == "logistic":
        return np.full(a.shape, 2.0)
    fp = noise.pdf(a)
    pq = p * q
    bad = np.flatnonzero((pq == 0.0) & (fp > 0.0))
    if bad.size:
        i = int(bad[0])
        raise InvalidArgument(
            f"arm: a[{i}] = {a[i]!r} gives F(a) = {p[i]!r} (a deterministic unit) but F'(a) = {fp[i]!r} > 0 "
            f"for noise {noise.name!r} (the edge of its bounded support); ARM's logit parametrisation "
            "logit(F(a)) is undefined there. Move a off the support edge or use local_expectations."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(fp > 0.0, fp / np.where(pq > 0.0, pq, 1.0), 0.0)


def _arm_states(a: np.ndarray, noise: Noise, U: np.ndarray, encoding: str):
    p, q = noise.cdf(a), noise.sf(a)
    return encode(U > q, encoding), encode(U < p, encoding), p, q


def arm_estimates(loss: Any, a: Any, noise: Noise | str, U: Any, *, encoding: str = "pm1") -> np.ndarray:
    """ARM (Yin & Zhou 2019) for each row ``u`` of ``U`` (uniforms in [0, 1]); see the module docstring."""
    loss, a, noise = prepare(loss, a, noise)
    U = np.asarray(U, dtype=np.float64)
    if U.ndim != 2 or U.shape[1] != a.size or not np.all((U >= 0.0) & (U <= 1.0)):
        raise InvalidArgument(
            f"arm_estimates: U must be a (B, {a.size}) array of uniforms in [0, 1] (got shape {U.shape}); "
            "draw it with rng.random((B, n))."
        )
    X1, X2, p, q = _arm_states(a, noise, U, encoding)
    d = loss.value(X1) - loss.value(X2)
    return _arm_factor(a, noise, p, q) * (d[:, None] * (U - 0.5))


# ----------------------------------------------------------------------------------------------
# REINFORCE
# ----------------------------------------------------------------------------------------------


def reinforce_score(a: Any, noise: Noise | str, X: Any, *, encoding: str = "pm1") -> np.ndarray:
    """``s_i(x) = d log P(x) / d a_i = F'(a_i) (1/p_i if x_i on, -1/q_i if off)`` per row; ``(B, n)``.

    A state of probability 0 (``p_i = 0`` and on, or ``q_i = 0`` and off) never
    occurs; its score is set to 0 (it carries no weight in any expectation).
    """
    a = as_vector(a, "a")
    noise = resolve_noise(noise)
    X = _check_X(X, a.size, "reinforce_score", encoding)
    _, hi = levels(encoding)
    fp, p, q = noise.pdf(a), noise.cdf(a), noise.sf(a)
    on = X == hi
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(p > 0.0, fp / np.where(p > 0.0, p, 1.0), 0.0)
        down = np.where(q > 0.0, fp / np.where(q > 0.0, q, 1.0), 0.0)
    return np.where(on, up, -down)


def reinforce_estimates(
    loss: Any, a: Any, noise: Noise | str, S: Any, *, encoding: str = "pm1", baseline: Any = "loo", samples: int = 2
) -> np.ndarray:
    """REINFORCE with a baseline from ``S`` of shape ``(B, K, n)`` (``K = samples`` states per estimate).

    ``(1/K) sum_k (L(x_k) - b_k) s(x_k)``, ``b_k = mean_{j != k} L(x_j)`` for ``baseline="loo"``
    or the constant ``baseline``.
    """
    loss, a, noise = prepare(loss, a, noise)
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 3 or S.shape[1] != samples or S.shape[2] != a.size:
        raise InvalidArgument(
            f"reinforce_estimates: S has shape {S.shape}; expected (B, {samples}, {a.size}) "
            f"(samples={samples} states per estimate)."
        )
    B, K, n = S.shape
    flat = S.reshape(B * K, n)
    Lv = loss.value(flat).reshape(B, K)
    score = reinforce_score(a, noise, flat, encoding=encoding).reshape(B, K, n)
    if isinstance(baseline, str):  # "loo" (validated by resolve_params)
        b = (Lv.sum(axis=1, keepdims=True) - Lv) / (K - 1)
    else:
        b = float(baseline)
    return np.einsum("bk,bkn->bn", Lv - b, score) / K


# ----------------------------------------------------------------------------------------------
# Gumbel-Softmax
# ----------------------------------------------------------------------------------------------


def _gs_parts(a: np.ndarray, noise: Noise, Z: Any, tau: float, who: str):
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != a.size or not np.all(np.isfinite(Z)):
        raise InvalidArgument(
            f"{who}: Z must be a finite (B, {a.size}) array of noise draws (got shape {Z.shape}); "
            "draw it with noise.sample(rng, (B, n))."
        )
    u = (a - Z) / tau
    return Z, u, noise.pdf(u) / tau  # d F((a - z)/tau) / da


def gumbel_softmax_estimates(
    loss: Any, a: Any, noise: Noise | str, Z: Any, *, encoding: str = "pm1", tau: float = 1.0
) -> np.ndarray:
    """GS(tau): ``dL/dx_i(y) c F'(u_i)/tau``, ``y`` the relaxed state at ``u = (a - z)/tau``; ``(B, n)``."""
    loss, a, noise = prepare(loss, a, noise)
    Z, u, dy01 = _gs_parts(a, noise, Z, tau, "gumbel_softmax_estimates")
    Y = noise.cdf(u) if encoding == "01" else noise.cdf(u) - noise.sf(u)
    return loss.grad(Y) * (span(encoding) * dy01)


def st_gumbel_softmax_estimates(
    loss: Any, a: Any, noise: Noise | str, Z: Any, *, encoding: str = "pm1", tau: float = 1.0
) -> np.ndarray:
    """ST-GS(tau), eq. (98): ``dL/dx_i(x) c F'(u_i)/tau``, ``x`` the hard state of the same ``z``; ``(B, n)``."""
    loss, a, noise = prepare(loss, a, noise)
    Z, u, dy01 = _gs_parts(a, noise, Z, tau, "st_gumbel_softmax_estimates")
    X = encode(a >= Z, encoding)
    return loss.grad(X) * (span(encoding) * dy01)


# ----------------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------------

#: What an estimator's random input is (see the module docstring).
SAMPLE_KINDS = ("state", "none", "uniform", "states", "noise")


@dataclass(frozen=True)
class Estimator:
    """A registered estimator: ``fn(loss, a, noise, sample, *, encoding, **params) -> (B, n)``.

    ``stochastic=False`` means the estimate does not depend on the sample
    (its expectation is its value at any state).  ``sample`` names the random
    input (``SAMPLE_KINDS``); ``unbiased`` says whether ``E[estimate]`` equals
    the gradient of ``E[L]`` in ``a`` for every loss; ``params`` lists the
    keyword parameters and defaults; ``noises`` restricts the noise families
    (``None``: all); ``formula`` is the per-sample formula.
    """

    name: str
    fn: _CallableT[..., np.ndarray]
    stochastic: bool
    description: str
    sample: str = "state"
    unbiased: bool = False
    params: tuple[tuple[str, Any], ...] = ()
    noises: tuple[str, ...] | None = None
    formula: str = ""
    #: ``kernel(loss, a, noise, encoding) -> f``, ``f(X, out=None) -> (B, n)``: ``fn`` without its input
    #: checks, for states drawn by :func:`draw_sample` (valid by construction); the same numbers bit for bit.
    kernel: _CallableT[..., np.ndarray] | None = None

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.params)


#: The estimators by name.
ESTIMATORS: dict[str, Estimator] = {
    e.name: e
    for e in (
        Estimator("st", st_estimates, True, "Alg. 1: c F'(a) dL/dx(x), x ~ p(x; a) (c = 2 pm1, 1 for 01)",
                  formula="c F'(a_i) dL/dx_i(x)", kernel=_st_kernel),
        Estimator("identity_st", identity_st_estimates, True, "dL/dx(x), x ~ p(x; a)",
                  formula="dL/dx_i(x)", kernel=_identity_kernel),
        Estimator("deterministic_st", deterministic_st_estimates, False, "c F'(a) dL/dx(x*), x* = state of sign(a)",
                  sample="none", formula="c F'(a_i) dL/dx_i(x*), x* = enc(a >= 0)"),
        Estimator(
            "local_expectations",
            local_expectations_estimates,
            True,
            "eq. (6): F'(a_i) (L(x|x_i on) - L(x|x_i off)), x ~ p(x; a)",
            unbiased=True,
            formula="F'(a_i) (L(x^{i->on}) - L(x^{i->off}))",
        ),
        Estimator("arm", arm_estimates, True, "ARM (Yin & Zhou 2019), chain-ruled from logit(F(a)) to a",
                  sample="uniform", unbiased=True,
                  formula="F'(a_i)/(p_i q_i) (L(enc(u>q)) - L(enc(u<p))) (u_i - 1/2), u ~ U(0,1)^n"),
        Estimator("reinforce", reinforce_estimates, True,
                  "REINFORCE, leave-one-out baseline over K iid states (or a constant baseline)",
                  sample="states", unbiased=True, params=(("baseline", "loo"), ("samples", 2)),
                  formula="(1/K) sum_k (L(x_k) - b_k) F'(a) (+1/p | -1/q)(x_k)"),
        Estimator("gumbel_softmax", gumbel_softmax_estimates, True,
                  "Gumbel-Softmax(tau) (App. E eq. (77)), logistic noise", sample="noise",
                  params=(("tau", 1.0),), noises=("logistic",),
                  formula="dL/dx_i(y) c F'(u_i)/tau, u = (a - z)/tau, y = relaxed state"),
        Estimator("st_gumbel_softmax", st_gumbel_softmax_estimates, True,
                  "ST Gumbel-Softmax(tau) (App. E eq. (98)), logistic noise", sample="noise",
                  params=(("tau", 1.0),), noises=("logistic",),
                  formula="dL/dx_i(x) c F'(u_i)/tau, x = enc(a >= z)"),
        Estimator("st_weights", st_weights_estimates, True,
                  "Alg. 2 (ST weights): dL/dw(w), w = sign(eta - z), identity backward",
                  formula="dL/dw_i(w)", kernel=_identity_kernel),
    )
}


def get_estimator(name: str) -> Estimator:
    """The estimator called ``name`` (one of :data:`ESTIMATORS`)."""
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise InvalidArgument(
            f"unknown estimator {short_repr(name)}; valid names are {sorted(ESTIMATORS)}."
        )
    return ESTIMATORS[name]


def resolve_params(est: Estimator, noise: Noise, params: dict[str, Any]) -> dict[str, Any]:
    """Validated keyword parameters of ``est`` (defaults filled in); also checks the noise family."""
    if est.noises is not None and noise.name not in est.noises:
        raise InvalidArgument(
            f"estimator {est.name!r} is defined for noise {list(est.noises)} only (Gumbel-Softmax: the difference "
            f"of two Gumbel noises is logistic, App. E eq. (72)), got noise {noise.name!r}."
        )
    unknown = sorted(set(params) - set(est.defaults))
    if unknown:
        valid = sorted(est.defaults) or "none"
        raise InvalidArgument(
            f"estimator {est.name!r} got unknown parameter(s) {unknown}; its parameters are {valid}."
        )
    out = {**est.defaults, **params}
    if "tau" in out:
        tau = out["tau"]
        ok = isinstance(tau, (int, float, np.integer, np.floating)) and not isinstance(tau, bool)
        if not ok or not math.isfinite(float(tau)) or float(tau) <= 0.0:
            raise InvalidArgument(
                f"tau={short_repr(tau)} for {est.name!r}; the temperature must be a finite number > 0 "
                "(e.g. tau=1.0 or 0.1 as in Table D.1)."
            )
        out["tau"] = float(tau)
    if "baseline" in out:
        b = out["baseline"]
        if isinstance(b, str):
            if b != "loo":
                raise InvalidArgument(
                    f"baseline={b!r} for 'reinforce'; use 'loo' (leave-one-out over the K samples) or a finite float."
                )
        else:
            ok = isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, bool)
            if not ok or not math.isfinite(float(b)):
                raise InvalidArgument(f"baseline={short_repr(b)} for 'reinforce'; use 'loo' or a finite float.")
            out["baseline"] = float(b)
        out["samples"] = as_int(out["samples"], "samples", minimum=2 if out["baseline"] == "loo" else 1)
    return out


def _encode_draws(on: np.ndarray, z: np.ndarray, encoding: str) -> np.ndarray:
    """:func:`numerics.encodings.encode` of ``on`` written into the spent noise draws ``z`` when they are a
    fresh float64 array of the same shape (the same two operations, so the same numbers; no new array)."""
    if z.dtype != np.float64 or z.base is not None or z.shape != on.shape or not z.flags.writeable:
        return encode(on, encoding)
    lo, hi = levels(encoding)
    np.multiply(on, hi - lo, out=z)
    z += lo
    return z


def draw_sample(
    est: Estimator, rng: np.random.Generator, a: np.ndarray, noise: Noise, size: int, encoding: str,
    params: dict[str, Any],
) -> np.ndarray:
    """The random input of ``size`` estimates of ``est`` (see :data:`SAMPLE_KINDS`)."""
    n = a.size
    if est.sample == "state":
        if not isinstance(rng, np.random.Generator):
            raise InvalidArgument(
                f"rng={short_repr(rng)} is not a numpy.random.Generator; use numerics.seeding.make_rng."
            )
        z = noise.sample(rng, (size, n))
        return _encode_draws(a >= z, z, encoding)  # a - z >= 0  <=>  a >= z in IEEE arithmetic
    if est.sample == "none":
        return np.broadcast_to(deterministic_state(a, encoding), (size, n))
    if not isinstance(rng, np.random.Generator):
        raise InvalidArgument(f"rng={short_repr(rng)} is not a numpy.random.Generator; use numerics.seeding.make_rng.")
    if est.sample == "uniform":
        return rng.random((size, n))
    if est.sample == "states":
        z = noise.sample(rng, (size, params["samples"], n))
        return encode(a >= z, encoding)
    if est.sample == "noise":
        return noise.sample(rng, (size, n))
    raise AssertionError(est.sample)  # pragma: no cover


def estimate_batch(
    name: str, loss: Any, a: Any, noise: Noise | str, rng: np.random.Generator, size: int,
    *, encoding: str = "pm1", **params: Any,
) -> np.ndarray:
    """``size`` iid single-sample estimates of estimator ``name``; shape ``(size, n)``.

    ``encoding`` is ``"pm1"`` or ``"01"``; ``params`` are the estimator's own
    (``tau`` for the Gumbel-Softmax pair, ``baseline``/``samples`` for
    REINFORCE); unknown ones raise.  Deterministic estimators draw nothing
    from ``rng``.  A non-finite estimate raises ``NonFiniteValue`` naming the
    sample and coordinates.
    """
    est = get_estimator(name)
    loss, a, noise = prepare(loss, a, noise)
    encoding = check_encoding(encoding)
    params = resolve_params(est, noise, params)
    size = as_int(size, "size", minimum=1)
    return _estimate(est, loss, a, noise, rng, size, encoding, params)


def _estimate(
    est: Estimator, loss: Loss, a: np.ndarray, noise: Noise, rng: np.random.Generator, size: int, encoding: str,
    params: dict[str, Any],
) -> np.ndarray:
    """:func:`estimate_batch` after validation: draw, estimate (the kernel when there is one), check finiteness.

    An estimator with a kernel that draws one state per row is evaluated in blocks of about
    :data:`BLOCK_CELLS` numbers, so that its temporaries stay in cache: the draws of consecutive blocks
    are consecutive pieces of the same stream (numpy fills arrays row by row from the generator) and each
    row's estimate depends on its own row only, so the result is the same array as in one piece.  The
    matrix products of a block must also round as in one piece: every block has at least
    ``BLOCK_CELLS // n`` rows (the remainder joins the last block), so BLAS keeps its kernel (OpenBLAS
    switches kernels only for a few rows; checked bit for bit in the tests).  A BLAS that chose its kernel
    otherwise could change last bits, never the equality of results across workers (blocks depend on the
    chunk size alone).
    """
    who = f"estimator {est.name!r}"
    if est.kernel is None:
        sample = draw_sample(est, rng, a, noise, size, encoding, params)
        out = est.fn(loss, a, noise, sample, encoding=encoding, **params)
        check_finite_rows(out, sample if sample.ndim == 2 else None, who=who, what="estimate")
        return out
    f = est.kernel(loss, a, noise, encoding)
    rows = max(1, BLOCK_CELLS // max(1, a.size))
    if est.sample != "state" or size < 2 * rows:
        sample = draw_sample(est, rng, a, noise, size, encoding, params)
        out = f(sample)
        check_finite_rows(out, sample if sample.ndim == 2 else None, who=who, what="estimate")
        return out
    _check_blocks(noise)
    n = a.size
    out = np.empty((size, n))
    starts = range(0, size - rows + 1, rows)  # the remainder joins the last block: no block is small
    for start in starts:
        end = start + rows if start + 2 * rows <= size else size
        z = noise.sample(rng, (end - start, n))
        X = _encode_draws(a >= z, z, encoding)
        part = f(X, out[start:end])
        check_finite_rows(part, X, who=who, what="estimate", offset=start, total=size)
    return out


#: Numbers per block of :func:`_estimate` (256 KiB of float64: its few temporaries fit in L2 cache).
BLOCK_CELLS = 32768



def _blocks_selftest(noise: Noise) -> list[str]:
    """The blocked evaluation of :func:`_estimate` against the same estimator in one piece (:func:`draw_sample`,
    then the kernel), bit for bit, as its docstring states: ``n = 64`` (blocks of ``BLOCK_CELLS // 64 = 512`` rows)
    and ``2 * 512 + 77`` rows, so that the remainder joins the last block; the first block is exactly one block
    long.  The estimator is ``identity_st`` on ``L(x) = sum x_i^2`` (estimate ``2 x``: elementwise, no BLAS, so
    no kernel choice can change a bit), ``noise`` the caller's family when registered (already audited), else the
    logistic.  A block boundary that drew more, fewer or other rows than one piece shows as a mismatch.
    Returns what disagrees, ``[]`` if nothing."""
    from .losses import Power
    from .noise import NOISES

    noise = noise if NOISES.get(getattr(noise, "name", None)) == noise else NOISES["logistic"]
    est, loss, n = ESTIMATORS["identity_st"], Power(2), 64
    rows = BLOCK_CELLS // n
    size = 2 * rows + 77
    a = np.linspace(-1.5, 1.5, n)
    seed = np.random.SeedSequence(20261201)
    got = _estimate(est, loss, a, noise, np.random.default_rng(seed), size, "pm1", {})
    want = est.kernel(loss, a, noise, "pm1")(
        draw_sample(est, np.random.default_rng(seed), a, noise, size, "pm1", {}))
    if got.shape != want.shape or not np.array_equal(got, want):
        rows_bad = np.flatnonzero(np.any(got != want, axis=1)) if got.shape == want.shape else []
        return [f"{size} rows in blocks of {rows} differ from the same rows in one piece "
                f"(shapes {got.shape}, {want.shape}; first differing rows {list(rows_bad[:5])})"]
    return []


#: :func:`_blocks_selftest` once per process (with the first call's noise family); a mismatch raises
#: :class:`~stecheck.errors.SelfCheckFailed`.
_check_blocks = OncePerProcess(
    _blocks_selftest, what="numerics.estimators._estimate's blocks fail their self-test",
    remedy="The block boundaries of _estimate must cover the rows once, in order, as one draw would: fix the loop "
           "over starts.")


class EstimatorSampler:
    """Picklable ``fn_chunk(rng, size) -> (size, n)`` for :func:`numerics.montecarlo.monte_carlo_mean`."""

    def __init__(self, name: str, loss: Any, a: Any, noise: Noise | str, *, encoding: str = "pm1", **params: Any):
        est = get_estimator(name)
        self.name = name
        self.loss, self.a, self.noise = prepare(loss, a, noise)
        self.encoding = check_encoding(encoding)
        self.params = resolve_params(est, self.noise, params)

    def __call__(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # the arguments were validated once in __init__; the same numbers as estimate_batch(...)
        size = as_int(size, "size", minimum=1)
        return _estimate(ESTIMATORS[self.name], self.loss, self.a, self.noise, rng, size, self.encoding, self.params)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return (f"EstimatorSampler({self.name!r}, {self.loss!r}, n={self.a.size}, noise={self.noise.name!r}, "
                f"encoding={self.encoding!r}{extra})")


# ------------------------------------------------------------------ tie convention self-test (once per process)

class _TieNoise:
    """A stand-in noise for :func:`_ties_failures` whose draws sit exactly on ``a`` in the even columns (a tie,
    ``a - z = 0``: the unit is on) and one ulp above ``a`` in the odd ones (off)."""

    name = "tie-stub"

    def __init__(self, a: np.ndarray):
        self.a = a

    def sample(self, rng: Any, shape: Any) -> np.ndarray:
        row = np.where(np.arange(self.a.size) % 2 == 0, self.a, np.nextafter(self.a, np.inf))
        return np.array(np.broadcast_to(row, tuple(np.atleast_1d(shape))), dtype=np.float64)


def _ties_failures() -> list[str]:
    """The tie rule ``sign(0) = +1`` (a unit is on iff ``a - z >= 0``, Sec. 2.2 V and eq. (1)) where the
    claims' continuous draws never put it to the test, against the hand-written answers:

    * :func:`deterministic_state` at ``a = (-1, -0.0, 0, 5e-324, -5e-324, 2.5)``: ``(-1, 1, 1, 1, -1, 1)`` in
      ``pm1``, ``(0, 1, 1, 1, 0, 1)`` in ``01`` (``-0.0 >= 0`` is a tie, the subnormals are not);
    * :func:`draw_sample` for one-state, deterministic and multi-state estimators, and the blocked path of
      :func:`_estimate` (``n = 64``, ``2 * 512 + 3`` rows), on draws exactly at ``a`` (on) or one ulp above (off):
      :class:`_TieNoise`; the expected states alternate ``+1, -1`` by column.

    Returns the failures (empty when all pass).  About 2 ms."""
    from .losses import Power

    bad = []
    a = np.array([-1.0, -0.0, 0.0, 5e-324, -5e-324, 2.5])
    for enc, want in (("pm1", [-1.0, 1.0, 1.0, 1.0, -1.0, 1.0]), ("01", [0.0, 1.0, 1.0, 1.0, 0.0, 1.0])):
        got = deterministic_state(a, enc)
        if not np.array_equal(got, want):
            bad.append(f"deterministic_state({a.tolist()}, {enc!r}) = {got.tolist()}, expected {want} (sign(0) = +1)")
    a = np.linspace(-0.75, 0.75, 64)
    a[10] = 0.0
    alt = np.where(np.arange(64) % 2 == 0, 1.0, -1.0)
    stub = _TieNoise(a)
    rng = np.random.default_rng(0)
    for name, params, shape in (("st", {}, (3, 64)), ("reinforce", {"baseline": "loo", "samples": 2}, (3, 2, 64))):
        got = draw_sample(ESTIMATORS[name], rng, a, stub, 3, "pm1", params)
        if got.shape != shape or not np.array_equal(got, np.broadcast_to(alt, shape)):
            bad.append(f"draw_sample({name!r}) on draws z = a (even columns) or one ulp above (odd): "
                       f"{np.asarray(got)[..., :6].tolist()}..., expected +1 on ties, -1 above")
    got = draw_sample(ESTIMATORS["deterministic_st"], rng, a, stub, 2, "pm1", {})
    want = np.where(a >= 0.0, 1.0, -1.0)
    want[10] = 1.0
    if not np.array_equal(got, np.broadcast_to(want, (2, 64))):
        bad.append(f"draw_sample('deterministic_st') = {np.asarray(got)[0, 8:12].tolist()} at a = "
                   f"{a[8:12].tolist()}, expected {want[8:12].tolist()} (sign(0) = +1)")
    rows = BLOCK_CELLS // 64
    got = _estimate(ESTIMATORS["identity_st"], Power(2), a, stub, rng, 2 * rows + 3, "pm1", {})
    if got.shape != (2 * rows + 3, 64) or not np.array_equal(got, np.broadcast_to(2.0 * alt, got.shape)):
        bad.append(f"_estimate in blocks of {rows} rows on tie draws: identity_st of sum x_i^2 (2 x) is "
                   f"{np.asarray(got)[0, :6].tolist()}..., expected {(2.0 * alt[:6]).tolist()}...")
    return bad


#: :func:`_ties_failures` once per process (at the first :func:`prepare`); a failure raises
#: :class:`~stecheck.errors.SelfCheckFailed`.
_check_ties = OncePerProcess(
    _ties_failures, what="numerics.estimators breaks the tie rule sign(0) = +1",
    remedy="A unit is on iff a - z >= 0: fix the comparison in numerics/estimators.py.")
