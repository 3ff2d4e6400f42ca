"""A chain of stochastic binary layers (paper Sec. 4, eq. (15)): exact gradient and deep ST.

Model.  A fixed input ``x^(0) in R^{n_0}``; for ``l = 1..D`` the pre-activation
``a^(l) = W_l x^(l-1) + b_l`` and the state ``x^(l)_i = enc(a^(l)_i - z^(l)_i >= 0)``,
``z`` iid with cdf ``F`` (``P(on) = F(a)``), ``enc`` the encoding
(:mod:`numerics.encodings`, ``c`` its span).  The loss ``L`` is a
differentiable function of the last state ``x^(D)`` (a :mod:`numerics.losses`
object).  Parameters ``theta = (W_1, b_1, ..., W_D, b_D)``, flattened in that
order (each ``W_l`` row-major, shape ``(n_l, n_{l-1})``).

Exact gradient (:func:`exact_gradient_deep`).  ``E[L]`` is a chain of
transition matrices ``T_l[s, t] = P(x^(l) = t | x^(l-1) = s)``: forward
marginals ``alpha_l = alpha_{l-1} T_l``, backward values
``beta_{l-1} = T_l beta_l``, ``beta_D(t) = L(t)``.  With ``A_l[s] = W_l s + b_l``,
``dE/dA_l[s, i] = alpha_{l-1}(s) F'(A_l[s, i]) sum_t sgn(t_i) prod_{j != i} q_j(t_j | A_l[s]) beta_l(t)``
(eqs. (4)-(6) applied to layer ``l`` given ``x^(l-1) = s``), then
``dE/dW_l = sum_s dE/dA_l[s] s^T`` and ``dE/db_l = sum_s dE/dA_l[s]``.
Cost ``sum_l 2^{n_{l-1}} 2^{n_l} n_l``; every hidden width ``<= 12``.

Deep ST (:func:`deep_st_estimates`; Shekhovtsov et al. 2020, Alg. 2 = Alg. 1 at
every layer then backpropagation): sample ``x^(1..D)`` forward, then
``g_x = dL/dx^(D)(x^(D))`` and for ``l = D..1``: ``g_a = s_l(a^(l)) * g_x``,
``dW_l = g_a x^(l-1)^T``, ``db_l = g_a``, ``g_x = W_l^T g_a``, with
``s_l = c F'`` (``variant="st"``), ``1`` (``"identity_st"``), or
``c F'`` on the noise-free forward pass ``z = 0`` (``"deterministic_st"``).
Its bias comes only from the linearisations (16).  :func:`expected_deep_st`
gives ``E[deep ST]`` exactly by enumerating all ``2^{sum n_l}`` joint hidden
states (``sum n_l <= 22``) and applying the same backward code.

Errors.  Sums are accumulated with Neumaier compensation; the returned
bounds are ``gamma_m * (the same sums with absolute values)`` for the
computed pre-activations (``m`` counts the inexact factors and the summation
lengths, as in :mod:`numerics.enumeration`).  The rounding of ``A = W s + b``
itself is a backward error: the result is exact up to the bound for weights
perturbed by a relative ``gamma_{n_{l-1}+1}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument

from ._compensated import gamma, neumaier_add
from ._validation import as_int, as_matrix, as_vector, check_finite_rows
from .encodings import check_encoding, encode, span
from .enumeration import C_F, MAX_N, ExactResult, _leave_one_out
from .estimators import _as_loss
from .noise import Noise, resolve_noise

__all__ = ["DeepChain", "MAX_WIDTH", "VARIANTS", "exact_gradient_deep", "deep_st_estimates",
           "expected_deep_st", "DeepSTSampler"]

#: Largest hidden width for the exact transition-matrix computation.
MAX_WIDTH = 12
#: Deep ST variants.
VARIANTS = ("st", "identity_st", "deterministic_st")


class DeepChain:
    """Parameters ``Ws[l] (n_l, n_{l-1})``, ``bs[l] (n_l,)``, input ``x0 (n_0,)``, noise and encoding."""

    def __init__(self, Ws: Any, bs: Any, x0: Any, noise: Noise | str, *, encoding: str = "pm1"):
        if not isinstance(Ws, (list, tuple)) or not isinstance(bs, (list, tuple)) or len(Ws) != len(bs) or not Ws:
            raise InvalidArgument(
                "Ws and bs must be non-empty lists of the same length (one weight matrix and one bias per layer)."
            )
        self.x0 = as_vector(x0, "x0")
        self.Ws, self.bs = [], []
        prev = self.x0.size
        for l, (W, b) in enumerate(zip(Ws, bs), start=1):
            W = as_matrix(W, f"Ws[{l - 1}]")
            if W.shape[1] != prev:
                raise InvalidArgument(
                    f"Ws[{l - 1}] has shape {W.shape}; layer {l} takes {prev} inputs, so expected ({W.shape[0]}, {prev})."
                )
            self.Ws.append(W)
            self.bs.append(as_vector(b, f"bs[{l - 1}]", size=W.shape[0]))
            prev = W.shape[0]
        self.widths = [W.shape[0] for W in self.Ws]
        self.noise = resolve_noise(noise)
        self.encoding = check_encoding(encoding)

    @property
    def depth(self) -> int:
        return len(self.Ws)

    @property
    def n_params(self) -> int:
        return sum(W.size + b.size for W, b in zip(self.Ws, self.bs))

    def flatten(self, dWs, dbs) -> np.ndarray:
        """``(B, P)`` from per-layer ``(B, n_l, n_{l-1})`` and ``(B, n_l)`` arrays (or ``(P,)`` from unbatched)."""
        parts = []
        for dW, db in zip(dWs, dbs):
            lead = dW.shape[:-2]
            parts += [dW.reshape(lead + (-1,)), db]
        return np.concatenate(parts, axis=-1)

    def unflatten(self, theta: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Inverse of :meth:`flatten` for a ``(P,)`` vector."""
        theta = as_vector(theta, "theta", size=self.n_params)
        Ws, bs, k = [], [], 0
        for W, b in zip(self.Ws, self.bs):
            Ws.append(theta[k : k + W.size].reshape(W.shape))
            k += W.size
            bs.append(theta[k : k + b.size])
            k += b.size
        return Ws, bs

    def with_params(self, theta: Any) -> DeepChain:
        """The same chain with parameters ``theta`` (flat)."""
        Ws, bs = self.unflatten(theta)
        return DeepChain(Ws, bs, self.x0, self.noise, encoding=self.encoding)

    def params(self) -> np.ndarray:
        return self.flatten(self.Ws, self.bs)

    def __repr__(self) -> str:
        return f"DeepChain(widths={[self.x0.size] + self.widths}, noise={self.noise.name!r}, encoding={self.encoding!r})"


def _states(n: int, encoding: str) -> np.ndarray:
    """All ``2^n`` states, coordinate ``i`` = bit ``i`` of the index."""
    idx = np.arange(1 << n)
    return encode(((idx[:, None] >> np.arange(n)) & 1).astype(bool), encoding)


def _check_chain(chain: Any, loss: Any):
    if not isinstance(chain, DeepChain):
        raise InvalidArgument(f"chain={chain!r} is not a numerics.deep.DeepChain.")
    loss = _as_loss(loss)
    if loss.n is not None and loss.n != chain.widths[-1]:
        raise InvalidArgument(
            f"{loss!r} is defined on R^{loss.n} but the last layer has {chain.widths[-1]} units."
        )
    return loss


def exact_gradient_deep(chain: DeepChain, loss: Any) -> tuple[ExactResult, ExactResult]:
    """``(E[L], dE[L]/dtheta)`` exactly by transition matrices; ``ExactResult`` each (``(P,)`` for the gradient)."""
    loss = _check_chain(chain, loss)
    big = [w for w in chain.widths if w > MAX_WIDTH]
    if big:
        raise InvalidArgument(
            f"hidden widths {chain.widths}: the exact computation handles widths <= {MAX_WIDTH}; use Monte Carlo "
            "with an unbiased estimator, or smaller layers."
        )
    noise, enc = chain.noise, chain.encoding
    S = [chain.x0[None, :]] + [_states(n, enc) for n in chain.widths]
    A, Q, Qabs = [], [], []  # per layer: pre-activations (S_{l-1}, n_l), transition matrix
    for l in range(chain.depth):
        Al = S[l] @ chain.Ws[l].T + chain.bs[l]
        on = S[l + 1] == 1.0  # (2^n_l, n_l)
        p, q = noise.cdf(Al), noise.sf(Al)  # (s, n_l)
        fac = np.where(on[None, :, :], p[:, None, :], q[:, None, :])  # (s, t, n_l)
        A.append((Al, on, fac))
        Q.append(np.prod(fac, axis=2))
    Lv = loss.value(S[-1])
    # backward values beta_l (and with |L|)
    betas, abetas = [None] * (chain.depth + 1), [None] * (chain.depth + 1)
    betas[-1], abetas[-1] = Lv, np.abs(Lv)
    for l in range(chain.depth - 1, -1, -1):
        betas[l] = Q[l] @ betas[l + 1]
        abetas[l] = Q[l] @ abetas[l + 1]
    alphas = [np.ones(1)]
    for l in range(chain.depth):
        alphas.append(alphas[l] @ Q[l])
    value = float(betas[0][0])
    m_total = sum((C_F + 1) * (n + 1) + (1 << n) + 8 for n in chain.widths) + 8
    g = gamma(m_total)
    dWs, dbs, bWs, bbs = [], [], [], []
    for l in range(chain.depth):
        Al, on, fac = A[l]
        n = chain.widths[l]
        D = np.zeros_like(Al)
        Dabs = np.zeros_like(Al)
        sgn = np.where(on, 1.0, -1.0)  # (t, n)
        step = max(1, (1 << 20) // ((1 << n) * n))
        for s0 in range(0, Al.shape[0], step):
            F = fac[s0 : s0 + step]  # (c, t, n)
            c_, t_, _ = F.shape
            loo = _leave_one_out(F.reshape(c_ * t_, n)).reshape(c_, t_, n)
            D[s0 : s0 + step] = np.einsum("ctn,tn,t->cn", loo, sgn, betas[l + 1])
            Dabs[s0 : s0 + step] = np.einsum("ctn,t->cn", loo, abetas[l + 1])
        fp = noise.pdf(Al)
        D *= fp * alphas[l][:, None]
        Dabs *= fp * alphas[l][:, None]
        dWs.append(D.T @ S[l])
        dbs.append(D.sum(axis=0))
        bWs.append(g * (Dabs.T @ np.abs(S[l])))
        bbs.append(g * Dabs.sum(axis=0))
    grad = chain.flatten(dWs, dbs)
    bound = chain.flatten(bWs, bbs)
    return ExactResult(value, g * float(abetas[0][0])), ExactResult(grad, bound)


def _forward(chain: DeepChain, Z: list[np.ndarray] | None, B: int):
    X = [np.broadcast_to(chain.x0, (B, chain.x0.size))]
    As = []
    for l in range(chain.depth):
        Al = X[l] @ chain.Ws[l].T + chain.bs[l]
        As.append(Al)
        X.append(encode(Al >= (0.0 if Z is None else Z[l]), chain.encoding))
    return X, As


def _backward(chain: DeepChain, loss, X, As, variant: str) -> np.ndarray:
    c = span(chain.encoding)
    gx = loss.grad(X[-1])
    dWs, dbs = [None] * chain.depth, [None] * chain.depth
    for l in range(chain.depth - 1, -1, -1):
        ga = gx if variant == "identity_st" else (c * chain.noise.pdf(As[l])) * gx
        dWs[l] = ga[:, :, None] * X[l][:, None, :]
        dbs[l] = ga
        gx = ga @ chain.Ws[l]
    return chain.flatten(dWs, dbs)


def _variant(variant: Any) -> str:
    if variant not in VARIANTS:
        raise InvalidArgument(f"variant={variant!r} is not one of {VARIANTS}.")
    return variant


def deep_st_estimates(chain: DeepChain, loss: Any, rng: np.random.Generator, size: int,
                      *, variant: str = "st") -> np.ndarray:
    """``size`` iid deep-ST estimates of ``dE[L]/dtheta``; shape ``(size, P)`` (layout of :meth:`DeepChain.flatten`)."""
    loss = _check_chain(chain, loss)
    variant = _variant(variant)
    size = as_int(size, "size", minimum=1)
    if variant == "deterministic_st":
        X, As = _forward(chain, None, 1)
        out = np.broadcast_to(_backward(chain, loss, X, As, variant), (size, chain.n_params)).copy()
    else:
        if not isinstance(rng, np.random.Generator):
            raise InvalidArgument(f"rng={rng!r} is not a numpy.random.Generator; use numerics.seeding.make_rng.")
        Z = [chain.noise.sample(rng, (size, n)) for n in chain.widths]
        X, As = _forward(chain, Z, size)
        out = _backward(chain, loss, X, As, variant)
    check_finite_rows(out, None, who=f"deep {variant}", what="estimate")
    return out


def expected_deep_st(chain: DeepChain, loss: Any, *, variant: str = "st", chunk_bits: int = 16) -> ExactResult:
    """``E[deep ST]`` exactly: the backward code applied to all ``2^{sum n_l}`` joint hidden states."""
    loss = _check_chain(chain, loss)
    variant = _variant(variant)
    if variant == "deterministic_st":
        X, As = _forward(chain, None, 1)
        v = _backward(chain, loss, X, As, variant)[0]
        return ExactResult(v, gamma(C_F + 8) * np.abs(v))
    N = sum(chain.widths)
    if N > MAX_N:
        raise InvalidArgument(
            f"the chain has {N} hidden units; exact enumeration of 2^{N} joint states needs <= {MAX_N}. "
            "Use Monte Carlo (DeepSTSampler with numerics.montecarlo.monte_carlo_mean)."
        )
    chunk_bits = as_int(chunk_bits, "chunk_bits", minimum=1, maximum=16)
    C = 1 << min(N, chunk_bits)
    offsets = np.cumsum([0] + chain.widths)
    s = c = np.zeros(chain.n_params)
    abs_sum = np.zeros(chain.n_params)
    max_abs = 0.0
    for start in range(0, 1 << N, C):
        idx = np.arange(start, start + C)
        bits = ((idx[:, None] >> np.arange(N)) & 1).astype(bool)
        X = [np.broadcast_to(chain.x0, (C, chain.x0.size))]
        As = []
        P = np.ones(C)
        for l in range(chain.depth):
            Al = X[l] @ chain.Ws[l].T + chain.bs[l]
            on = bits[:, offsets[l] : offsets[l + 1]]
            P = P * np.prod(np.where(on, chain.noise.cdf(Al), chain.noise.sf(Al)), axis=1)
            As.append(Al)
            X.append(encode(on, chain.encoding))
        E = _backward(chain, loss, X, As, variant)
        absE = np.abs(E)
        s, c = neumaier_add(s, c, np.einsum("s,sp->p", P, E))
        abs_sum += np.einsum("s,sp->p", P, absE)
        max_abs = max(max_abs, float(absE.max()))
    m = (C_F + 1) * (N + 1) + C + (1 << N) // C + 16
    bound = gamma(m) * abs_sum + (2.0**N) * (N + 2) * 2.0**-1074 * max_abs * 1.01
    return ExactResult(s + c, bound)


class DeepSTSampler:
    """Picklable ``fn_chunk(rng, size) -> (size, P)`` of deep-ST estimates for :mod:`numerics.montecarlo`."""

    def __init__(self, chain: DeepChain, loss: Any, *, variant: str = "st"):
        self.loss = _check_chain(chain, loss)
        self.chain = chain
        self.variant = _variant(variant)

    def __call__(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return deep_st_estimates(self.chain, self.loss, rng, size, variant=self.variant)

    def __repr__(self) -> str:
        return f"DeepSTSampler({self.chain!r}, {self.loss!r}, variant={self.variant!r})"
