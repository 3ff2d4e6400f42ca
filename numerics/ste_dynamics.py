"""Batched STE-gradient dynamics of a two-layer network with binary weights (QSTE, seeds 000/001).

Mathematical object (the model of ``shared/CLAIMS.md``, section QSTE; the
summaries print no equations, so every choice is stated here):

* data: ``m`` samples ``Z_j in R^(k x n)`` with i.i.d. entries of an input family
  (:data:`INPUTS`), optionally normalized (:data:`NORMALIZATIONS`) per feature over
  the ``m`` samples; the normalized ``X_j`` are what the network sees;
* network: ``F(X; w) = v^T H(X w)``, Heaviside ``H(s) = 1{s > 0}``, fixed ``v in R^k``,
  trainable ``w in Q1 = {+-1/sqrt(n)}^n``;
* labels: ``y_j = v^T H(X_j w*) + sigma eps_j`` from a teacher ``w* in Q1``, with
  ``eps_j ~ N(0, 1)`` drawn once per sample (fixed label noise, part of the data);
* empirical loss ``f(w) = (1/(2m)) sum_j (F(X_j; w) - y_j)^2``;
* STE gradient (the proxy derivative replaces ``H' = 0``): with residual
  ``r_j = F(X_j; w) - y_j``,
  ``g(w) = (1/m) sum_j r_j sum_a v_a mu'(x_ja . w) x_ja``, where ``mu' = 1{s > 0}``
  (ReLU derivative, the paper's proxy), ``1`` (identity proxy) or ``0`` (no surrogate);
* STE-gradient method: latent ``u_0 = w_0``; ``u_(t+1) = u_t - eta_t g(w_t)``;
  ``w_(t+1) = sign(u_(t+1)) / sqrt(n)`` with the **tie rule** ``sign(0) = +1``.
  ``project=False`` drops the projection (``w_(t+1) = u_(t+1)``; a mutant).
  ``eta_t`` is one of the admissible schedules of QSTE-LR (:data:`SCHEDULES`).

The sign pattern is computed as ``1{X_j s > 0}`` with ``s = sqrt(n) w in {+-1}^n``
(the same float64 expression for student and teacher, so ``w = w*`` gives residual
exactly ``0`` without label noise).

Engine: a block of trials is advanced with one batched ``matmul`` forward
(``X s``) and one backward (``c^T X``) per step -- no Python loop over trials or
samples; float64; the block size is chosen so the block's inputs fit a memory
budget.  **Certified absorption**: a trial whose STE gradient is exactly zero
(every float64 entry ``== 0``, checked, not assumed) has ``u_(t+1) = u_t`` bit for
bit, hence the same state for every later step; it leaves the active set and its
records are completed in closed form.  Without label noise ``w_t = w*`` gives
``r = 0`` and so ``g = 0`` -- but the engine certifies it from the computed
gradient, never from the premise.

Randomness: trial ``i`` of a cell draws its data from
``seeding.chunk_seed(cell_seed, i)``, ``cell_seed = task_seed(run_seed,
"<claim>/<cell key>")``: a trial's data and trajectory do not depend on the
block size, the order of blocks or the worker that runs them (the tests check
bit-identity across block sizes).  Nothing is approximated: a trajectory is the
exact float64 recursion above (no error to state); statistics over trials are in
:mod:`numerics.ste_stats`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument
from stecheck.selftest import OncePerProcess

from ._validation import as_int
from .blas import one_blas_thread
from .seeding import chunk_seed, make_rng, task_seed

__all__ = [
    "INPUTS",
    "NORMALIZATIONS",
    "SCHEDULES",
    "PROXIES",
    "STEModel",
    "Trajectories",
    "cell_seed",
    "simulate",
    "simulate_block",
    "run_block",
    "simulate_range",
    "simulate_distributed",
    "simulate_cells",
    "CellJob",
    "block_ranges",
    "cell_digest",
    "timed_range",
    "generate_trial",
    "reference_trial",
    "replay_audit",
    "reference_selftest",
    "record_invariants",
    "engine_selftest",
    "engine_selftest_once",
    "ste_gradient",
    "learning_rates",
]

#: Input families: name -> (sampler(rng, shape), description, centered, tails, support).
#: Each centered family has unit variance; the non-centered ones have mean != 0.
INPUTS: dict[str, tuple[Any, str, bool, str, str]] = {
    "gaussian": (lambda g, s: g.standard_normal(s), "N(0, 1)", True, "light", "continuous"),
    "rademacher": (lambda g, s: 2.0 * g.integers(0, 2, size=s) - 1.0, "+-1 with prob. 1/2", True, "light",
                   "discrete"),
    "uniform": (lambda g, s: g.uniform(-math.sqrt(3), math.sqrt(3), size=s), "U(-sqrt 3, sqrt 3)", True, "light",
                "continuous"),
    "student-t3": (lambda g, s: g.standard_t(3, size=s) / math.sqrt(3), "t(3)/sqrt(3)", True, "heavy",
                   "continuous"),
    "centered-exponential": (lambda g, s: g.exponential(1.0, size=s) - 1.0, "Exp(1) - 1 (skewed)", True,
                             "light", "continuous"),
    "shifted-gaussian": (lambda g, s: g.standard_normal(s) + 1.0, "N(1, 1)", False, "light", "continuous"),
    "bernoulli01": (lambda g, s: g.integers(0, 2, size=s).astype(np.float64), "{0, 1} with prob. 1/2", False,
                    "light", "discrete"),
    "exponential": (lambda g, s: g.exponential(1.0, size=s), "Exp(1)", False, "light", "continuous"),
    "lognormal": (lambda g, s: g.lognormal(0.0, 1.0, size=s), "LogNormal(0, 1)", False, "heavy", "continuous"),
}

#: Normalizations, per feature (entry (a, i) of Z_j) over the m samples: name -> (center, scale).
NORMALIZATIONS: dict[str, tuple[bool, bool]] = {
    "none": (False, False),
    "standardize": (True, True),  # (z - mean) / std
    "center": (True, False),  # z - mean
    "scale": (False, True),  # z / std (centering removed)
}

#: Admissible learning-rate schedules (bounded, non-summable, eta_(t+1)/eta_t -> 1; see QSTE-LR): eta_t / c.
SCHEDULES: dict[str, Any] = {
    "constant": lambda t: np.ones_like(t),
    "inv-sqrt": lambda t: 1.0 / np.sqrt(t + 1.0),
    "inv-quarter": lambda t: (t + 1.0) ** -0.25,
    "inv-log": lambda t: 1.0 / np.log(t + 2.0),
}
#: Schedules QSTE-LR shows to violate a condition (rejected with a message naming the valid ones).
_VIOLATING = {"inv-square": "summable", "geometric": "summable and geometric", "sqrt": "unbounded"}

PROXIES = ("relu", "identity", "zero")


def learning_rates(schedule: str, c: float, steps: int) -> np.ndarray:
    """``eta_t = c * schedule(t)`` for ``t = 0..steps-1`` (float64)."""
    if schedule not in SCHEDULES:
        why = f" ({schedule!r} is {_VIOLATING[schedule]}, see QSTE-LR)" if schedule in _VIOLATING else ""
        raise InvalidArgument(f"unknown or inadmissible learning-rate schedule {schedule!r}{why}; "
                              f"valid: {', '.join(SCHEDULES)}")
    return float(c) * SCHEDULES[schedule](np.arange(steps, dtype=np.float64))


@dataclass(frozen=True)
class STEModel:
    """One cell of an experiment: the model, the data distribution and the method's settings."""

    n: int
    m: int
    k: int = 1
    v: tuple[float, ...] | None = None  # None = all-ones of length k
    noise: float = 0.0  # label-noise standard deviation sigma
    inputs: str = "gaussian"
    normalize: str = "none"
    proxy: str = "relu"
    project: bool = True
    schedule: str = "inv-sqrt"
    lr: float = 1.0  # the constant c of the schedule

    def __post_init__(self) -> None:
        as_int(self.n, "n", minimum=2)
        as_int(self.m, "m", minimum=1)
        as_int(self.k, "k", minimum=1)
        if self.v is not None:
            if len(self.v) != self.k or not all(math.isfinite(float(x)) for x in self.v):
                raise InvalidArgument(f"v={self.v!r} must be {self.k} finite numbers (one per hidden unit, k={self.k})")
            if not any(float(x) != 0 for x in self.v):
                raise InvalidArgument("v must not be all zeros (the output would not depend on w)")
        if not (isinstance(self.noise, (int, float)) and math.isfinite(self.noise) and self.noise >= 0):
            raise InvalidArgument(f"label noise level {self.noise!r} is invalid; expected a finite number >= 0")
        if self.inputs not in INPUTS:
            raise InvalidArgument(f"unknown input distribution {self.inputs!r}; valid: {', '.join(INPUTS)}")
        if self.normalize not in NORMALIZATIONS:
            raise InvalidArgument(f"unknown normalization {self.normalize!r}; valid: {', '.join(NORMALIZATIONS)}")
        if self.proxy not in PROXIES:
            raise InvalidArgument(f"unknown proxy {self.proxy!r}; valid: {', '.join(PROXIES)}")
        learning_rates(self.schedule, 1.0, 1)  # validates the schedule name
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InvalidArgument(f"learning-rate constant lr={self.lr!r} must be a finite number > 0")

    @property
    def v_array(self) -> np.ndarray:
        return np.ones(self.k) if self.v is None else np.asarray(self.v, dtype=np.float64)

    def key(self) -> str:
        """A canonical string of every field (the cell's part of the seed key)."""
        v = "ones" if self.v is None else ",".join(repr(float(x)) for x in self.v)
        return (f"n={self.n};m={self.m};k={self.k};v={v};noise={float(self.noise)!r};inputs={self.inputs};"
                f"normalize={self.normalize};proxy={self.proxy};project={self.project};"
                f"schedule={self.schedule};lr={float(self.lr)!r}")

    def with_(self, **changes) -> "STEModel":
        return replace(self, **changes)


def cell_seed(run_seed: int, claim_id: str, cell: str) -> np.random.SeedSequence:
    """The ``SeedSequence`` of one cell: ``task_seed(run_seed, claim_id + "/" + cell)``."""
    return task_seed(run_seed, f"{claim_id}/{cell}")


def _normalize(Z: np.ndarray, how: str) -> np.ndarray:
    center, scale = NORMALIZATIONS[how]
    if center:
        Z = Z - Z.mean(axis=0, keepdims=True)
    if scale:
        sd = Z.std(axis=0, keepdims=True) if center else np.sqrt((Z * Z).mean(axis=0, keepdims=True))
        Z = Z / np.where(sd > 0, sd, 1.0)
    return Z


def generate_trial(model: STEModel, seed: np.random.SeedSequence, init_hamming: int | None = None):
    """One trial's data: ``(X (m*k, n), y (m,), s_star (n,), s0 (n,))`` in this fixed draw order.

    ``s_star``, ``s0`` are sign vectors (``w = s / sqrt(n)``); ``s0`` is uniform on ``{+-1}^n``
    or, with ``init_hamming = d``, ``s_star`` with ``d`` uniformly chosen coordinates flipped.
    ``scale`` (no centering) divides by the root mean square, ``standardize`` by the standard deviation.
    """
    n, m, k = model.n, model.m, model.k
    g = make_rng(seed)
    s_star = 2.0 * g.integers(0, 2, size=n) - 1.0
    if init_hamming is None:
        s0 = 2.0 * g.integers(0, 2, size=n) - 1.0
    else:
        d = as_int(init_hamming, "init_hamming", minimum=0, maximum=n)
        s0 = s_star.copy()
        s0[g.choice(n, size=d, replace=False)] *= -1.0
    Z = INPUTS[model.inputs][0](g, (m, k, n))
    eps = g.standard_normal(m)
    X = _normalize(Z, model.normalize).reshape(m * k, n)
    act = (X @ s_star > 0).reshape(m, k).astype(np.float64)
    y = act @ model.v_array + model.noise * eps
    return np.ascontiguousarray(X), y, s_star, s0


@dataclass
class Trajectories:
    """Per-trial records of a cell (arrays of length ``trials``) plus event lists.

    Times are step indices ``t = 0..steps`` (``w_0`` is the start, ``w_steps`` the last iterate).
    A *visit* is an entry into ``w*`` (``w_t = w*`` and ``t = 0`` or ``w_(t-1) != w*``); a *return* is
    a visit after an escape; an *escape* is ``w_(t-1) = w*, w_t != w*``.  ``excursions`` lists
    ``(trial, escape time, return time)``; ``sojourns`` lists ``(trial, entry time, length)`` of
    completed stays at ``w*``.
    """

    model: STEModel
    steps: int
    first_hit: np.ndarray  # -1 if never
    time_at: np.ndarray  # number of t in 0..steps with w_t = w*
    time_at_late: np.ndarray  # same for t in [steps//2, steps]
    final_at: np.ndarray  # bool: w_steps = w*
    visits: np.ndarray
    returns: np.ndarray
    returns_late: np.ndarray  # returns at t >= steps//2
    escapes: np.ndarray
    escapes_late: np.ndarray
    final_hamming: np.ndarray
    min_hamming: np.ndarray
    loss_late: np.ndarray  # mean empirical loss over t in [steps//2, steps]
    loss_all: np.ndarray  # mean empirical loss over t in 0..steps
    absorbed_at: np.ndarray  # -1 if never certified; else the t with g(w_t) == 0 exactly
    checkpoints: np.ndarray  # (n_ckpt,) times
    hamming: np.ndarray  # (trials, n_ckpt) Hamming distance to w* at the checkpoints
    excursions: list = field(default_factory=list)
    sojourns: list = field(default_factory=list)

    @property
    def trials(self) -> int:
        return int(self.first_hit.size)

    def fraction_at(self, late: bool = False) -> np.ndarray:
        """Per trial: the time average of ``1{w_t = w*}`` over ``t in 0..steps`` (or its second half)."""
        if late:
            return self.time_at_late / (self.steps - self.steps // 2 + 1)
        return self.time_at / (self.steps + 1)

    _ARRAYS = ("first_hit", "time_at", "time_at_late", "final_at", "visits", "returns", "returns_late",
               "escapes", "escapes_late", "final_hamming", "min_hamming", "loss_late", "loss_all",
               "absorbed_at", "hamming")

    def equal(self, other: "Trajectories") -> bool:
        """Bit-identical records (every array and event list)."""
        return (all(np.array_equal(getattr(self, a), getattr(other, a)) for a in self._ARRAYS)
                and sorted(self.excursions) == sorted(other.excursions)
                and sorted(self.sojourns) == sorted(other.sojourns))

    @classmethod
    def concat(cls, parts: list["Trajectories"], offsets: list[int]) -> "Trajectories":
        first = parts[0]
        kw = {a: np.concatenate([getattr(p, a) for p in parts]) for a in cls._ARRAYS}
        exc = [(o + i, a, b) for p, o in zip(parts, offsets) for (i, a, b) in p.excursions]
        soj = [(o + i, a, b) for p, o in zip(parts, offsets) for (i, a, b) in p.sojourns]
        return cls(model=first.model, steps=first.steps, checkpoints=first.checkpoints, excursions=exc,
                   sojourns=soj, **kw)


def _checkpoints(steps: int, count: int = 33) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, steps, min(count, steps + 1))).astype(np.int64))


def simulate_block(model: STEModel, data, steps: int, eta: np.ndarray) -> Trajectories:
    """Advance a block of trials (``data`` = list of :func:`generate_trial` tuples) ``steps`` steps.

    Per step: one batched product ``X s`` (forward), one ``c^T X`` (backward), and O(trials x m) bookkeeping."""
    X = np.stack([d[0] for d in data])  # (B, m k, n)
    Y = np.stack([d[1] for d in data])  # (B, m)
    S_star = np.stack([d[2] for d in data])  # (B, n)
    S0 = np.stack([d[3] for d in data])
    return run_block(model, X, Y, S_star, S0, steps, eta)


def run_block(model: STEModel, X: np.ndarray, Y: np.ndarray, S_star: np.ndarray, S0: np.ndarray, steps: int,
              eta: np.ndarray) -> Trajectories:
    """:func:`simulate_block` on stacked arrays ``X (B, m k, n)``, ``Y (B, m)``, ``S_star, S0 (B, n)`` (not modified)."""
    n, m, k = model.n, model.m, model.k
    B = X.shape[0]
    v = model.v_array
    U = S0 / math.sqrt(n)  # latent u_0 = w_0
    W_star = S_star / math.sqrt(n)
    half = steps // 2
    ckpt = _checkpoints(steps)
    ck_index = {int(t): i for i, t in enumerate(ckpt)}

    first_hit = np.full(B, -1, np.int64)
    time_at = np.zeros(B, np.int64)
    time_at_late = np.zeros(B, np.int64)
    visits = np.zeros(B, np.int64)
    returns = np.zeros(B, np.int64)
    returns_late = np.zeros(B, np.int64)
    escapes = np.zeros(B, np.int64)
    escapes_late = np.zeros(B, np.int64)
    min_ham = np.full(B, n + 1, np.int64)
    loss_late = np.zeros(B)
    loss_all = np.zeros(B)
    absorbed_at = np.full(B, -1, np.int64)
    final_at = np.zeros(B, bool)
    final_ham = np.zeros(B, np.int64)
    ham_ck = np.zeros((B, ckpt.size), np.int64)
    prev_at = np.zeros(B, bool)
    last_escape = np.full(B, -1, np.int64)
    last_entry = np.full(B, -1, np.int64)
    excursions: list = []
    sojourns: list = []

    idx = np.arange(B)  # global index of each active row
    for t in range(steps + 1):
        if idx.size == 0:
            break
        if model.project:
            W = np.where(U >= 0.0, 1.0, -1.0)  # tie rule sign(0) = +1; W holds s = sqrt(n) w
            at = np.all(W == S_star, axis=1)
            ham = np.count_nonzero(W != S_star, axis=1)
        else:
            W = U * math.sqrt(n)  # no projection: the latent itself (scaled like s)
            at = np.all(U == W_star, axis=1)
            ham = np.count_nonzero(np.where(U >= 0.0, 1.0, -1.0) != S_star, axis=1)
        # ---- records of state t
        gi = idx
        first_hit[gi[at & (first_hit[gi] < 0)]] = t
        time_at[gi] += at
        if t >= half:
            time_at_late[gi] += at
        p_at = prev_at[gi]
        entry = at & ~p_at
        visits[gi] += entry
        ret = entry & (last_escape[gi] >= 0)
        returns[gi] += ret
        esc = p_at & ~at
        escapes[gi] += esc
        if t >= half:
            returns_late[gi] += ret
            escapes_late[gi] += esc
        for i in gi[ret]:
            excursions.append((int(i), int(last_escape[i]), t))
        for i in gi[esc]:
            sojourns.append((int(i), int(last_entry[i]), t - int(last_entry[i])))
        last_escape[gi[esc]] = t
        last_entry[gi[entry]] = t
        prev_at[gi] = at
        np.minimum.at(min_ham, gi, ham)
        if t in ck_index:
            ham_ck[gi, ck_index[t]] = ham
        # ---- forward (one batched product) and residual
        pre = np.matmul(X, W[:, :, None])[:, :, 0]  # (b, m k) = X s
        act = pre > 0.0
        if k == 1:
            out = np.where(act, v[0], 0.0)
        else:
            out = np.where(act.reshape(-1, m, k), v, 0.0).sum(axis=2)
        r = out - Y
        loss = 0.5 * np.mean(r * r, axis=1)
        loss_all[gi] += loss
        if t >= half:
            loss_late[gi] += loss
        if t == steps:
            final_at[gi] = at
            final_ham[gi] = ham
            break
        # ---- backward (one batched product): g = (1/m) sum_j r_j sum_a v_a mu'(pre_ja) x_ja
        if model.proxy == "relu":
            coef = np.where(act.reshape(-1, m, k), r[:, :, None] * v, 0.0)
        elif model.proxy == "identity":
            coef = np.broadcast_to(r[:, :, None] * v, (r.shape[0], m, k))
        else:
            coef = np.zeros((r.shape[0], m, k))
        G = np.matmul(coef.reshape(-1, 1, m * k), X)[:, 0, :] / m  # (b, n)
        # ---- certified absorption: g == 0 exactly => u_(t+1) = u_t bit for bit, forever
        zero = ~np.any(G != 0.0, axis=1)
        if zero.any():
            zi = gi[zero]
            rest = steps - t  # states t+1..steps are all equal to state t
            absorbed_at[zi] = t
            za = at[zero]
            time_at[zi] += rest * za
            late_count = steps - max(t + 1, half) + 1
            time_at_late[zi] += late_count * za
            loss_all[zi] += rest * loss[zero]
            loss_late[zi] += late_count * loss[zero]
            final_at[zi] = za
            final_ham[zi] = ham[zero]
            for c_i, c_t in enumerate(ckpt):
                if c_t > t:
                    ham_ck[zi, c_i] = ham[zero]
            keep = ~zero
            idx, X, Y, S_star, W_star, U, G = (idx[keep], X[keep], Y[keep], S_star[keep], W_star[keep], U[keep],
                                               G[keep])
        U = U - eta[t] * G

    return Trajectories(model=model, steps=steps, first_hit=first_hit, time_at=time_at, time_at_late=time_at_late,
                        final_at=final_at, visits=visits, returns=returns, returns_late=returns_late,
                        escapes=escapes, escapes_late=escapes_late, final_hamming=final_ham, min_hamming=min_ham,
                        loss_late=loss_late / (steps - half + 1), loss_all=loss_all / (steps + 1),
                        absorbed_at=absorbed_at, checkpoints=ckpt, hamming=ham_ck, excursions=excursions,
                        sojourns=sojourns)


def _block_size(model: STEModel, trials: int, block_size: int | None, memory_bytes: int) -> int:
    per_trial = model.m * model.k * model.n * 8
    if block_size is None:
        block_size = max(1, min(trials, memory_bytes // max(per_trial, 1)))
    return as_int(block_size, "block_size", minimum=1)


def simulate_range(model: STEModel, start: int, stop: int, steps: int, seed: np.random.SeedSequence,
                   init_hamming: int | None = None, block_size: int | None = None,
                   memory_bytes: int = 48 * 2**20) -> Trajectories:
    """Trials ``start..stop-1`` of a cell (trial ``i`` on ``chunk_seed(seed, i)``); event trial indices are local
    (``0..stop-start-1``).  One Dask task of :func:`simulate_distributed`."""
    engine_selftest_once()
    eta = learning_rates(model.schedule, model.lr, steps)
    bs = _block_size(model, stop - start, block_size, memory_bytes)
    parts, offsets = [], []
    with one_blas_thread():  # parallel across trials and workers; a threaded gemv on busy cores is 10-20x slower
        for b0 in range(start, stop, bs):
            b1 = min(stop, b0 + bs)
            data = [generate_trial(model, chunk_seed(seed, i), init_hamming) for i in range(b0, b1)]
            parts.append(simulate_block(model, data, steps, eta))
            offsets.append(b0 - start)
    return Trajectories.concat(parts, offsets)


def simulate(model: STEModel, *, trials: int, steps: int, seed: np.random.SeedSequence,
             init_hamming: int | None = None, block_size: int | None = None,
             memory_bytes: int = 48 * 2**20) -> Trajectories:
    """Run ``trials`` independent trials of the STE-gradient method for ``steps`` steps.

    Trial ``i`` uses ``chunk_seed(seed, i)`` (see the module docstring), so the result is bit-identical
    for any ``block_size``; by default a block holds as many trials as fit ``memory_bytes`` of inputs.
    """
    trials = as_int(trials, "trials", minimum=1)
    steps = as_int(steps, "steps", minimum=1)
    if not isinstance(seed, np.random.SeedSequence):
        raise InvalidArgument("seed must be a numpy.random.SeedSequence (see ste_dynamics.cell_seed)")
    return simulate_range(model, 0, trials, steps, seed, init_hamming, block_size, memory_bytes)


_EVENT_KEYS = ("excursions", "sojourns")


def _save_block(path, tr: Trajectories) -> None:
    """A block's records as a plain .npz (no pickle: loading evaluates nothing), written atomically."""
    import os
    import threading

    arrays = {a: getattr(tr, a) for a in Trajectories._ARRAYS}
    arrays.update({e: np.asarray(getattr(tr, e), dtype=np.int64).reshape(-1, 3) for e in _EVENT_KEYS})
    arrays["checkpoints"] = tr.checkpoints
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp.npz"  # unique: two writers never share a temp file
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _load_block(path, model: STEModel, steps: int) -> Trajectories:
    with np.load(path, allow_pickle=False) as z:
        kw = {a: z[a] for a in Trajectories._ARRAYS}
        events = {e: [tuple(int(x) for x in row) for row in z[e]] for e in _EVENT_KEYS}
        return Trajectories(model=model, steps=steps, checkpoints=z["checkpoints"], **kw, **events)


#: Work units (``m k n steps`` per trial) a block task aims at: about 10-30 s of one core here.
BLOCK_WORK = 4.0e9
#: Fewest trials in a block task (below this, Dask's per-task overhead dominates small cells).
BLOCK_MIN_TRIALS = 8


def block_ranges(model: STEModel, trials: int, steps: int, block_size: int | None = None) -> list[tuple[int, int]]:
    """The trial ranges ``[a, b)`` of a cell's block tasks: ``block_size`` trials each, or (``None``) as many as
    make about :data:`BLOCK_WORK` units of ``m k n steps`` (at least :data:`BLOCK_MIN_TRIALS`).  The split never
    changes a number (trial ``i`` always draws from ``chunk_seed(seed, i)``); it only balances the load."""
    trials = as_int(trials, "trials", minimum=1)
    if block_size is None:
        per_trial = max(1, model.m * model.k * model.n * steps)
        block_size = max(BLOCK_MIN_TRIALS, min(trials, int(BLOCK_WORK // per_trial)))
    block_size = as_int(block_size, "block_size", minimum=1)
    return [(a, min(trials, a + block_size)) for a in range(0, trials, block_size)]


def cell_digest(model: STEModel, seed: np.random.SeedSequence, steps: int, init_hamming: int | None) -> str:
    """A content hash of a cell (model, seed, horizon, start): names its block tasks and checkpoint files."""
    import hashlib

    text = (f"{model.key()}|{seed.entropy}|{tuple(int(x) for x in seed.spawn_key)}|{seed.pool_size}|{steps}|"
            f"{init_hamming}")
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def timed_range(model: STEModel, start: int, stop: int, steps: int, seed: np.random.SeedSequence,
                init_hamming: int | None = None) -> tuple[Trajectories, dict]:
    """:func:`simulate_range` and what it took: ``{"wall": s, "cpu": s}`` -- wall seconds, and CPU seconds of the
    thread that ran it (BLAS pinned to that one thread, so this is the block's core time even on a busy machine)."""
    import time

    t0, c0 = time.perf_counter(), time.thread_time()
    tr = simulate_range(model, start, stop, steps, seed, init_hamming)
    return tr, {"wall": time.perf_counter() - t0, "cpu": time.thread_time() - c0}


@dataclass(frozen=True)
class CellJob:
    """One cell to simulate: ``trials`` trials of ``model`` for ``steps`` steps on ``seed``."""

    model: STEModel
    trials: int
    steps: int
    seed: np.random.SeedSequence
    init_hamming: int | None = None

    @property
    def digest(self) -> str:
        return cell_digest(self.model, self.seed, self.steps, self.init_hamming) + f"-{self.trials}"


def simulate_cells(jobs: list[CellJob], *, client: Any = None, block_size: int | None = None,
                   checkpoint_dir: str | None = None) -> list[tuple[Trajectories, dict]]:
    """Simulate several cells as one batch of block tasks; returns ``(trajectories, compute)`` per job, in order.

    ``client=None`` runs the blocks in this process; a ``distributed.Client`` gets every block of every cell at
    once (one task per block, :func:`block_ranges`), with a content-addressed key (cell digest and trial range),
    so two callers that ask for the same block at the same time share one computation.  ``checkpoint_dir``:
    every finished block is saved there (plain ``.npz``, atomic) and a rerun loads it instead of recomputing.
    ``compute = {"blocks": B, "seconds": {"wall": W, "cpu": C}}``: the block tasks and the sums of their wall and
    thread-CPU seconds (:func:`timed_range`; a block loaded from a checkpoint counts 0).  Results are bit-identical for any
    client, worker count, block split and resume point (trial ``i`` of a cell draws from ``chunk_seed(seed, i)``).
    """
    from pathlib import Path

    engine_selftest_once()
    plans = []
    for job in jobs:
        ranges = block_ranges(job.model, job.trials, job.steps, block_size)
        digest = cell_digest(job.model, job.seed, job.steps, job.init_hamming)
        paths = {r: (Path(checkpoint_dir) / f"ste-{digest}-{r[0]}-{r[1]}.npz") if checkpoint_dir else None
                 for r in ranges}
        plans.append((job, ranges, digest, paths))
    if checkpoint_dir:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    done: dict[tuple[int, tuple[int, int]], tuple[Trajectories, dict]] = {}
    todo = []
    for j, (job, ranges, digest, paths) in enumerate(plans):
        for r in ranges:
            if paths[r] is not None and paths[r].exists():
                done[(j, r)] = (_load_block(paths[r], job.model, job.steps), {"wall": 0.0, "cpu": 0.0})
            else:
                todo.append((j, r))

    def finished(j: int, r: tuple[int, int], result: tuple[Trajectories, dict]) -> None:
        done[(j, r)] = result
        path = plans[j][3][r]
        if path is not None:
            _save_block(path, result[0])

    if client is None:
        for j, r in todo:
            job = plans[j][0]
            finished(j, r, timed_range(job.model, r[0], r[1], job.steps, job.seed, job.init_hamming))
    elif todo:
        from distributed import as_completed

        futures = {}
        for j, r in todo:
            job, digest = plans[j][0], plans[j][2]
            fut = client.submit(timed_range, job.model, r[0], r[1], job.steps, job.seed, job.init_hamming,
                                key=f"ste-block-{digest}-{r[0]}-{r[1]}", pure=True)
            futures[fut] = (j, r)
        # no cancel on exit: the keys are shared (another method of this worker's client may wait on the same
        # block); dropping the futures releases them
        for fut in as_completed(list(futures), loop=client.loop):
            finished(*futures[fut], fut.result())
    out = []
    for j, (job, ranges, _, _) in enumerate(plans):
        parts = [done[(j, r)] for r in ranges]
        tr = Trajectories.concat([p[0] for p in parts], [r[0] for r in ranges])
        out.append((tr, {"blocks": len(ranges), "seconds": {w: float(sum(p[1][w] for p in parts))
                                                            for w in ("wall", "cpu")}}))
    return out


def simulate_distributed(model: STEModel, *, trials: int, steps: int, seed: np.random.SeedSequence,
                         client: Any = None, block_size: int = 64, checkpoint_dir: str | None = None,
                         init_hamming: int | None = None) -> Trajectories:
    """:func:`simulate` as one Dask task per block of ``block_size`` trials (``client=None``: in this process),
    with checkpoint/resume (see :func:`simulate_cells`, which this calls for one cell).  The result is
    bit-identical to :func:`simulate` for any worker count, block size and resume point (tested)."""
    trials = as_int(trials, "trials", minimum=1)
    steps = as_int(steps, "steps", minimum=1)
    block_size = as_int(block_size, "block_size", minimum=1)
    job = CellJob(model, trials, steps, seed, init_hamming)
    return simulate_cells([job], client=client, block_size=block_size, checkpoint_dir=checkpoint_dir)[0][0]


def ste_gradient(model: STEModel, X: np.ndarray, y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(g(w), r)`` for one data set at ``w = s / sqrt(n)``: the STE gradient (float64, the engine's formula)
    and the residuals ``r_j = F(X_j; w) - y_j``."""
    m, k = model.m, model.k
    act = (X @ s > 0.0).reshape(m, k)
    r = act.astype(np.float64) @ model.v_array - y
    if model.proxy == "relu":
        coef = (r[:, None] * model.v_array) * act
    elif model.proxy == "identity":
        coef = r[:, None] * model.v_array
    else:
        coef = np.zeros((m, k))
    return coef.reshape(1, m * k) @ X / m, r


def reference_trial(model: STEModel, data, steps: int) -> dict[str, Any]:
    """The same method for one trial, written as a plain loop over steps and samples (tests, benchmarks).

    Returns the states ``s_t`` (sign vectors; ``sqrt(n) u_t`` without projection), the losses and
    ``at[t] = (w_t == w*)``.
    """
    X, y, s_star, s0 = data
    n, m, k = model.n, model.m, model.k
    v = model.v_array
    eta = learning_rates(model.schedule, model.lr, steps)
    u = s0 / math.sqrt(n)
    states, losses, at = [], [], []
    w_star = s_star / math.sqrt(n)
    for t in range(steps + 1):
        s = np.where(u >= 0.0, 1.0, -1.0) if model.project else u * math.sqrt(n)
        states.append(s.copy())
        at.append(bool(np.array_equal(s, s_star)) if model.project else bool(np.array_equal(u, w_star)))
        g = np.zeros(n)
        loss = 0.0
        for j in range(m):
            rows = X[j * k:(j + 1) * k]
            pre = rows @ s
            act = (pre > 0.0).astype(np.float64)
            r = float(act @ v) - y[j]
            loss += 0.5 * r * r / m
            if model.proxy == "relu":
                g += (r * v * act) @ rows
            elif model.proxy == "identity":
                g += (r * v) @ rows
        losses.append(loss)
        if t < steps:
            u = u - eta[t] * (g / m)
    return {"states": states, "losses": losses, "s_star": s_star, "at": at}


def replay_audit(job: CellJob, tr: Trajectories, trial: int = 0, rtol: float = 1e-9) -> dict[str, Any]:
    """Trial ``trial`` of a simulated cell recounted independently: its data regenerated from
    ``chunk_seed(job.seed, trial)`` and run through :func:`reference_trial` (a plain loop, no batching, no
    certified absorption), and every record the claims read recomputed from the reference states and losses
    by its definition: ``time_at``, ``time_at_late``, the fraction of time at ``w*`` (``T + 1`` states) and the late
    fraction (``t in [T//2, T]``, ``T - T//2 + 1``
    states), ``first_hit``, ``final_at``, ``visits``, ``escapes``, ``returns`` and the late ones (``t >= T//2``), the
    trial's excursions and sojourns (the event lists), the final and minimal Hamming
    distance, and the time averages of the empirical loss ``loss_all`` (``t in 0..T``) and ``loss_late``.

    Counts are compared exactly; the loss averages with relative tolerance ``rtol`` (the two computations sum
    the same ``T + 1`` terms of ``m`` squares in different orders: rounding ``<= (T + m) eps`` relative, far
    below the default ``1e-9``).  Returns ``{"cell", "trial", "compared", "mismatches": {record: [engine,
    reference]}}``; an empty ``mismatches`` means the engine's records of that trial are the reference's."""
    data = generate_trial(job.model, chunk_seed(job.seed, trial), job.init_hamming)
    compared, mismatches = _compare_with_reference(job.model, data, job.steps, tr, trial, rtol)
    for case, bad in reference_selftest().items():
        for k, v in bad.items():
            mismatches[f"selftest:{case}:{k}"] = v
    return {"cell": job.digest, "trial": trial, "compared": compared, "mismatches": mismatches}


def _compare_with_reference(model: STEModel, data, steps: int, tr: Trajectories, trial: int,
                            rtol: float = 1e-9) -> tuple[list[str], dict[str, list]]:
    """The records of trial ``trial`` of ``tr`` against :func:`reference_trial` on ``data`` (see
    :func:`replay_audit`): ``(compared record names, {record: [engine, reference]} of those that differ)``."""
    half = steps // 2
    ref = reference_trial(model, data, steps)
    at, losses = [bool(a) for a in ref["at"]], ref["losses"]
    ham = [int(np.count_nonzero(np.where(s >= 0.0, 1.0, -1.0) != ref["s_star"])) for s in ref["states"]]
    visits = sum(1 for t, a in enumerate(at) if a and (t == 0 or not at[t - 1]))
    # the events by their definitions (Trajectories): an escape at t ends the sojourn entered at the last entry; an
    # entry after an escape is a return, closing the excursion that began at that escape
    excursions, sojourns, entry, escape = [], [], -1, -1
    returns_late = escapes_late = 0
    for t, a in enumerate(at):
        if a and (t == 0 or not at[t - 1]):
            if escape >= 0:
                excursions.append((trial, escape, t))
                returns_late += t >= half
            entry = t
        elif not a and t > 0 and at[t - 1]:
            sojourns.append((trial, entry, t - entry))
            escapes_late += t >= half
            escape = t
    expected = {
        "time_at": sum(at), "time_at_late": sum(at[half:]), "fraction_at": sum(at) / len(at),
        "fraction_at_late": sum(at[half:]) / len(at[half:]),
        "first_hit": next((t for t, a in enumerate(at) if a), -1), "final_at": at[-1], "visits": visits,
        "escapes": sum(1 for t in range(1, len(at)) if at[t - 1] and not at[t]), "returns": max(visits - 1, 0),
        "final_hamming": ham[-1], "min_hamming": min(ham),
        "loss_all": math.fsum(losses) / len(losses), "loss_late": math.fsum(losses[half:]) / len(losses[half:]),
        "returns_late": returns_late, "escapes_late": escapes_late, "excursions": excursions, "sojourns": sojourns,
    }
    got = {k: getattr(tr, k)[trial].item() for k in expected if k in Trajectories._ARRAYS}
    got["excursions"] = sorted(e for e in tr.excursions if e[0] == trial)
    got["sojourns"] = sorted(e for e in tr.sojourns if e[0] == trial)
    got["fraction_at"] = float(tr.fraction_at()[trial])
    got["fraction_at_late"] = float(tr.fraction_at(late=True)[trial])
    mismatches = {}
    for k, e in expected.items():
        g = got[k]
        same = (math.isclose(g, e, rel_tol=rtol, abs_tol=1e-300) if isinstance(e, float) else g == e)
        if not same:
            mismatches[k] = [g, e]
    return sorted(expected), mismatches


def _selftest_cases() -> dict[str, tuple]:
    """Hand-made trials (``n = 4``, ``m = k = 1``, ``x = e_1``, ``y = 0``, ``v = 1``, ReLU proxy, constant step
    ``eta``) whose trajectories are known in closed form (all numbers dyadic, so exact in float64).  Write
    ``u_t = w_t`` for the latent; while ``x . s > 0`` the residual is ``1`` and ``g = e_1``, else ``g = 0``
    (absorbed).  ``s* = (1, 1, 1, 1)``:

    * ``tie``: ``s_0 = s*``, ``eta = 1/2``: ``u_1 = (0, .5, .5, .5)`` (an exact zero: the tie rule
      ``sign(0) = +1`` gives ``s_1 = s*``), ``u_2 = (-.5, ...)``; ``at = [T, T, F]``, one escape at ``t = 2``.
    * ``escape-at-1``: ``s_0 = s*``, ``eta = 1``: ``s_1 = (-1, 1, 1, 1)``, then absorbed; ``at = [T, F, F, F]``,
      an escape at ``t = 1``.
    * ``never``: ``s_0 = (-1, 1, 1, 1)``: ``x . s = -1``, absorbed at ``t = 0``; never at ``w*``
      (``first_hit = -1``), Hamming distance 1 throughout.
    * ``latent-start``: no projection, ``s_0 = s*``, ``eta = 1``: ``u_0 = w*`` exactly (``at[0]`` true), then
      ``u_1 = (-.5, .5, .5, .5) != w*``, then absorbed (Hamming distance 1).
    * ``latent-subnormal``: no projection, ``s_0 = (2^-1073, 1, 1, 1)`` (off the cube: a latent start), ``eta = 1``:
      ``u_0 = (2^-1074, .5, .5, .5)``, the smallest subnormal in coordinate 1, so ``x . u_0 > 0`` and the unit fires
      (``r = 1``, ``g = e_1``, ``u_1 = (-1, .5, .5, .5)``), then absorbed; never at ``w*``, Hamming distance 0 at
      ``t = 0`` and 1 at the end.  The forward state ``s = sqrt(n) u`` must keep the sign of ``x . u``: a scale
      that underflows (``u / sqrt(n)`` rounds ``2^-1074 / 2`` to 0) silences the unit and leaves distance 0.
    * ``oscillation``: identity proxy, ``y = 1/2``, ``s_0 = s*``, ``eta = 2``: the residual is ``+1/2`` at ``w*``
      (``x . s = 1``) and ``-1/2`` off it, so ``u_1 = -.5 e_1 + ...``, ``u_2 = u_0``, ...: ``at = [T, F, T, F]``,
      two visits, two escapes (the last at ``t = T``), one return.
    * ``weighted``: the output weights at work, ``k = 2`` hidden units with ``x_1 = e_1``, ``x_2 = e_2``,
      ``v = (2, 1)``, ``y = 0``, ``s_0 = s*``, ``eta = 1/8``: at ``t = 0`` both units fire, ``r = 3`` and
      ``g = r (v_1 e_1 + v_2 e_2) = (6, 3, 0, 0)``, so ``u_1 = (-1/4, 1/8, 1/2, 1/2)``: an escape at ``t = 1``;
      then only unit 2 fires, ``r = 1``, ``g = e_2``, ``u_2 = (-1/4, 0, 1/2, 1/2)`` (a tie, ``s_2 = s_1``).
      ``time_at = 1``, Hamming distance 1 at the end.  (With ``r / v`` for ``r v``, ``u_1`` would stay at ``w*``.)
    * ``weighted-identity``: the same with the identity proxy: ``t = 0`` as above; then ``r = 1`` and
      ``g = r v = (2, 1, 0, 0)`` (the proxy ignores which units fire), ``u_2 = (-1/2, 0, 1/2, 1/2)``; the same records.
    * ``latent-zero``: no projection, ``s* = s_0 = (1, -1, 1, 1)``, ``eta = 1/2``: the unit fires (``r = 1``, ``g = e_1``),
      ``u_1 = (0, -1/2, 1/2, 1/2)`` -- an exact zero and a negative coordinate of ``s*`` -- then ``x . u_1 = 0``, absorbed
      at ``t = 1``; ``at = [T, F, F]``, Hamming distance 0 at the end (``sign(0) = +1``).
    * ``absorbed-at-star``: ``x = -e_1``, ``y = 1/2``, ``s_0 = s*``, ``T = 5``: the unit never fires at ``w*``
      (``r = -1/2``, ``g = 0``): absorbed at ``t = 0`` *at* ``w*`` with loss ``1/8``, so every later state (and the
      late half, ``T - T//2 + 1 = 4`` states) is completed in closed form.
    * ``arrive-and-stay``: the same data from ``s_0 = (-1, 1, 1, 1)``, ``eta = 2``: the unit fires (``r = 1/2``,
      ``g = -e_1/2``), ``u_1 = w*``, then absorbed at ``t = 1 >= T//2`` at ``w*``; ``at = [F, T, T, T]``, loss ``1/8``
      throughout.
    * ``all-wrong``: ``s_0 = -s*``: ``x . s_0 = -1``, absorbed at ``t = 0``; Hamming distance ``n = 4`` throughout (the
      largest; the minimum over the run is ``n``).

    Returns ``{case: (model, data, steps)}``."""
    x = np.array([[1.0, 0.0, 0.0, 0.0]])
    y = np.zeros(1)
    star = np.ones(4)
    off = np.array([-1.0, 1.0, 1.0, 1.0])
    star2 = np.array([1.0, -1.0, 1.0, 1.0])
    base = STEModel(n=4, m=1, schedule="constant", lr=1.0)
    return {
        "tie": (base.with_(lr=0.5), (x, y, star, star.copy()), 2),
        "escape-at-1": (base, (x, y, star, star.copy()), 3),
        "never": (base, (x, y, star, off), 3),
        "latent-start": (base.with_(project=False), (x, y, star, star.copy()), 2),
        "latent-subnormal": (base.with_(project=False), (x, y, star, np.array([2.0**-1073, 1.0, 1.0, 1.0])), 2),
        "oscillation": (base.with_(proxy="identity", lr=2.0), (x, y + 0.5, star, star.copy()), 3),
        "weighted": (base.with_(k=2, v=(2.0, 1.0), lr=0.125), (np.eye(2, 4), y, star, star.copy()), 2),
        "weighted-identity": (base.with_(k=2, v=(2.0, 1.0), lr=0.125, proxy="identity"),
                              (np.eye(2, 4), y, star, star.copy()), 2),
        "latent-zero": (base.with_(project=False, lr=0.5), (x, y, star2, star2.copy()), 2),
        "absorbed-at-star": (base, (-x, y + 0.5, star, star.copy()), 5),
        "arrive-and-stay": (base.with_(lr=2.0), (-x, y + 0.5, star, off), 3),
        "all-wrong": (base, (x, y, star, -star), 2),
    }


def reference_selftest() -> dict[str, dict[str, list]]:
    """The engine (:func:`simulate_block`) and :func:`reference_trial` on the hand-made trials of
    :func:`_selftest_cases` (edge cases a random trial almost never shows: an exact tie ``u = 0``, an escape at
    ``t = 1`` or at ``t = T``, a return, a trial that never reaches ``w*``, a start at ``w*`` without projection, output
    weights other than 1), their records compared
    as in :func:`replay_audit`, and both against the closed-form values stated there (``time_at``,
    ``first_hit``, ``escapes``, ``final_hamming``, the mean loss ``loss_all`` (exact); ``visits`` and ``returns`` of the
    oscillation; the reference's
    state ``s_0 = sqrt(n) w_0``, which is the start ``s_0`` itself; :func:`ste_gradient` at ``t = 0`` of the weighted
    case).  Exact (dyadic data): any difference is a fault of the
    engine or of the reference.  Returns ``{case: {record: [engine, reference or closed form]}}`` of the cases
    with a difference (empty when all agree).  About a millisecond."""
    known = {"tie": (2, 0, 1, 1), "escape-at-1": (1, 0, 1, 1), "never": (0, -1, 0, 1), "latent-start": (1, 0, 1, 1),
             "latent-subnormal": (0, -1, 0, 1),
             "oscillation": (2, 0, 2, 1, 2, 1), "weighted": (1, 0, 1, 1), "weighted-identity": (1, 0, 1, 1),
             "latent-zero": (1, 0, 1, 0), "absorbed-at-star": (6, 0, 0, 0, 1, 0), "arrive-and-stay": (3, 1, 0, 0, 1, 0),
             "all-wrong": (0, -1, 0, 4)}
    # the certified absorption time (-1: never; the gradient at t = T is not computed)
    known_absorbed = {"tie": -1, "escape-at-1": 1, "never": 0, "latent-start": 1, "latent-subnormal": 1,
                      "oscillation": -1, "weighted": -1, "weighted-identity": -1, "latent-zero": 1,
                      "absorbed-at-star": 0, "arrive-and-stay": 1, "all-wrong": 0}
    # loss_all = (1/(T+1)) sum_t r_t^2 / 2, the residuals of the trajectories stated in _selftest_cases: r = 1 while
    # the unit fires, else 0 (tie: 1, 1, 0; escape-at-1: 1, 0, 0, 0; latent-*: 1, 0, 0); +-1/2 at every step of
    # the oscillation; 3, 1, 1 for the weighted cases.  The losses are dyadic, so their sum is exact and the engine's
    # one division by T + 1 is the correctly rounded quotient: compared exactly.  (Pins T as well: a case run for
    # another horizon has another mean.)
    known_loss = {"tie": Fraction(1, 3), "escape-at-1": Fraction(1, 8), "never": Fraction(0),
                  "latent-start": Fraction(1, 6), "latent-subnormal": Fraction(1, 6), "oscillation": Fraction(1, 8),
                  "weighted": Fraction(11, 6), "weighted-identity": Fraction(11, 6), "latent-zero": Fraction(1, 6),
                  "absorbed-at-star": Fraction(1, 8), "arrive-and-stay": Fraction(1, 8), "all-wrong": Fraction(0)}
    out = {}
    for case, (model, data, steps) in _selftest_cases().items():
        tr = simulate_block(model, [data], steps, learning_rates(model.schedule, model.lr, steps))
        _, bad = _compare_with_reference(model, data, steps, tr, 0)
        for name, value in zip(("time_at", "first_hit", "escapes", "final_hamming", "visits", "returns"), known[case]):
            if getattr(tr, name)[0].item() != value:
                bad[f"{name} (closed form)"] = [getattr(tr, name)[0].item(), value]
        if tr.loss_all[0].item() != float(known_loss[case]):
            bad["loss_all (closed form)"] = [tr.loss_all[0].item(), str(known_loss[case])]
        if tr.absorbed_at[0].item() != known_absorbed[case]:
            bad["absorbed_at (closed form)"] = [tr.absorbed_at[0].item(), known_absorbed[case]]
        s_ref = reference_trial(model, data, steps)["states"][0]
        if not np.array_equal(s_ref, data[3]):  # s_0 = sqrt(n) w_0 is the start itself, with or without projection
            bad["s_0 of the reference (closed form)"] = [s_ref.tolist(), data[3].tolist()]
        if case.startswith("weighted"):  # the engine's gradient formula at t = 0 (ste_gradient): g = (6, 3, 0, 0), r = 3
            g0, r0 = ste_gradient(model, data[0], data[1], data[3])
            if not (np.array_equal(g0, [[6.0, 3.0, 0.0, 0.0]]) and np.array_equal(r0, [3.0])):
                bad["ste_gradient at t = 0 (closed form)"] = [[g0.tolist(), r0.tolist()], [[[6.0, 3.0, 0.0, 0.0]], [3.0]]]
        if bad:
            out[case] = bad
    return out


def record_invariants(tr: Trajectories, init_hamming: int | None = None) -> list[str]:
    """Identities every cell's records satisfy by their definitions (see :class:`Trajectories`), checked on every
    trial (vectorized; microseconds): ``first_hit = -1`` iff ``time_at = 0``, else ``0 <= first_hit <= T``;
    ``0 <= time_at_late <= min(time_at, T - T//2 + 1)``, ``time_at <= T + 1``; ``returns = max(visits - 1, 0)``
    (every later visit follows an escape); ``escapes = visits - final_at`` (each stay ends in an escape or lasts to
    ``T``); one excursion per return and one sojourn per escape; the checkpoints run from ``0`` to ``T``, the last
    Hamming checkpoint is the final distance and none is below the minimum; with projection, ``w_t = w*`` iff the
    Hamming distance is 0 (``final_at`` iff ``final_hamming = 0``; a trial that reached ``w*`` has minimum 0); and
    with ``init_hamming = d``, the distance at ``t = 0`` is ``d`` (``s_0`` is ``s*`` with ``d`` coordinates
    flipped).  Returns the violated identities (empty when all hold)."""
    T, half = tr.steps, tr.steps // 2
    never = tr.first_hit < 0
    checks = {
        "first_hit = -1 iff time_at = 0": np.array_equal(never, tr.time_at == 0) and np.all(tr.first_hit >= -1),
        "first_hit <= T": bool(np.all(tr.first_hit <= T)),
        "0 <= time_at_late <= min(time_at, T - T//2 + 1)": bool(np.all((tr.time_at_late >= 0)
                                                                     & (tr.time_at_late <= tr.time_at)
                                                                     & (tr.time_at_late <= T - half + 1))),
        "time_at <= T + 1": bool(np.all(tr.time_at <= T + 1)),
        "returns = max(visits - 1, 0)": np.array_equal(tr.returns, np.maximum(tr.visits - 1, 0)),
        "escapes = visits - final_at": np.array_equal(tr.escapes, tr.visits - tr.final_at.astype(np.int64)),
        "one excursion per return": len(tr.excursions) == int(tr.returns.sum()),
        "one sojourn per escape": len(tr.sojourns) == int(tr.escapes.sum()),
        "checkpoints 0..T": int(tr.checkpoints[0]) == 0 and int(tr.checkpoints[-1]) == T,
        "last checkpoint = final Hamming": np.array_equal(tr.hamming[:, -1], tr.final_hamming),
        "min_hamming <= every checkpoint": bool(np.all(tr.min_hamming[:, None] <= tr.hamming)),
    }
    if tr.model.project:
        checks["final_at iff final_hamming = 0"] = np.array_equal(tr.final_at, tr.final_hamming == 0)
        checks["reached w* => min_hamming = 0"] = bool(np.all(tr.min_hamming[~never] == 0))
    if init_hamming is not None:
        checks[f"Hamming distance at t = 0 is init_hamming = {init_hamming}"] = bool(
            np.all(tr.hamming[:, 0] == init_hamming))
    return [name for name, ok in checks.items() if not ok]


def _generate_trial_selftest() -> list[str]:
    """:func:`generate_trial` against its documented definition, re-implemented here: the draws in the stated order
    (``s*``, then ``s_0`` or the ``d`` flipped coordinates, then ``Z``, then ``eps``, one generator), and the labels
    ``y_j = sum_a v_a 1{x_ja . s* > 0} + sigma eps_j`` by plain loops.  ``{0, 1}`` inputs without normalization,
    so every ``x . s*`` is an exact integer, and ``x . s* = 0`` (no unit fires; the Heaviside is 0 there) and ``= 1``
    both occur (checked); ``k = 2``, ``v = (2, 1)``, ``sigma = 1/2``; the random start ``s_0`` has both signs (checked).  Every value is exact (integers, and one addition of an
    integer and ``eps/2``, rounded alike in both): compared exactly.  Returns the failures."""
    model = STEModel(n=4, m=6, k=2, v=(2.0, 1.0), noise=0.5, inputs="bernoulli01")
    seed = np.random.SeedSequence(2028)
    bad, dots_seen, signs_seen = [], set(), set()
    for init in (None, 2):
        X, y, s_star, s0 = generate_trial(model, seed, init)
        g = make_rng(seed)
        want_star = np.array([1.0 if b else -1.0 for b in g.integers(0, 2, size=4)])
        if init is None:
            want_s0 = np.array([1.0 if b else -1.0 for b in g.integers(0, 2, size=4)])
            signs_seen |= set(want_s0.tolist())
        else:
            flip = set(int(i) for i in g.choice(4, size=init, replace=False))
            want_s0 = np.array([-want_star[i] if i in flip else want_star[i] for i in range(4)])
        Z = [[[1.0 if b else 0.0 for b in row] for row in unit] for unit in g.integers(0, 2, size=(6, 2, 4))]
        eps = g.standard_normal(6)
        want_X = np.array([Z[j][a] for j in range(6) for a in range(2)])
        want_y = []
        for j in range(6):
            dots = [sum(Z[j][a][i] * want_star[i] for i in range(4)) for a in range(2)]
            dots_seen |= set(dots)
            want_y.append(sum(v * (1.0 if d > 0 else 0.0) for v, d in zip((2.0, 1.0), dots)) + 0.5 * eps[j])
        for name, got, want in (("s*", s_star, want_star), ("s_0", s0, want_s0), ("X", X, want_X),
                                ("y", y, np.array(want_y))):
            if got.shape != want.shape or not np.array_equal(got, want):
                bad.append(f"generate_trial ({{0, 1}} inputs, n = 4, m = 6, k = 2, init_hamming = {init}): {name} = "
                           f"{got.tolist()}, the documented draws give {want.tolist()}")
    if not ({0.0, 1.0} <= dots_seen and signs_seen == {-1.0, 1.0}):
        bad.append(f"the generate_trial self-test drew x . s* in {sorted(dots_seen)} and s_0 signs {sorted(signs_seen)}; "
                   "it needs x . s* = 0 and = 1 and both signs: choose another seed")
    return bad


def _invariants_selftest() -> list[str]:
    """:func:`record_invariants` must say no: a hand-made record of one trial (``T = 5``, odd, so that ``T//2``
    and ``T/2`` differ; projection) that sits at ``w*`` for all ``T + 1 = 6`` states -- every bound of the identities
    met with equality (``time_at = T + 1``, ``time_at_late = T - T//2 + 1 = 4``, ``first_hit = 0``,
    ``min_hamming = 0``) -- must pass, and each tampered copy
    (one record moved one unit past its bound, or an event list / checkpoint out of step with the counts) must be
    reported under the identity it breaks.  Exact integer records: no tolerance.  Returns the failures."""
    ckpt = _checkpoints(5)
    one = lambda x, dtype=np.int64: np.array([x], dtype)  # noqa: E731
    valid = Trajectories(model=STEModel(n=4, m=1), steps=5, first_hit=one(0), time_at=one(6), time_at_late=one(4),
                         final_at=one(True, bool), visits=one(1), returns=one(0), returns_late=one(0),
                         escapes=one(0), escapes_late=one(0), final_hamming=one(0), min_hamming=one(0),
                         loss_late=one(0.0, float), loss_all=one(0.0, float), absorbed_at=one(0), checkpoints=ckpt,
                         hamming=np.zeros((1, ckpt.size), np.int64))
    bad = []
    if record_invariants(valid, init_hamming=0):
        bad.append(f"record_invariants rejects a valid record (at w* for t = 0..5): {record_invariants(valid, 0)}")
    hamming_up = valid.hamming.copy()
    hamming_up[0, 1:] = 1
    tampered = {
        "first_hit = -1 iff time_at = 0": dict(first_hit=one(-1)),
        "first_hit <= T": dict(first_hit=one(6)),
        "0 <= time_at_late <= min(time_at, T - T//2 + 1)": dict(time_at_late=one(5)),
        "time_at <= T + 1": dict(time_at=one(7)),
        "returns = max(visits - 1, 0)": dict(returns=one(1)),
        "escapes = visits - final_at": dict(escapes=one(1)),
        "one excursion per return": dict(excursions=[(0, 1, 2)]),
        "one sojourn per escape": dict(sojourns=[(0, 0, 6)]),
        "checkpoints 0..T": dict(checkpoints=ckpt[:-1], hamming=valid.hamming[:, :-1]),
        "last checkpoint = final Hamming": dict(final_hamming=one(1), final_at=one(False, bool), escapes=one(1),
                                                sojourns=[(0, 0, 5)]),
        "min_hamming <= every checkpoint": dict(hamming=hamming_up, min_hamming=one(1)),
        "final_at iff final_hamming = 0": dict(final_at=one(False, bool), escapes=one(1), sojourns=[(0, 0, 5)]),
    }
    for name, change in tampered.items():
        found = record_invariants(replace(valid, **change), init_hamming=0)
        if name not in found:
            bad.append(f"record_invariants misses '{name}' on a record tampered with {sorted(change)} (found {found})")
    if "Hamming distance at t = 0 is init_hamming = 1" not in record_invariants(valid, init_hamming=1):
        bad.append("record_invariants misses a start at Hamming distance 0 declared as init_hamming = 1")
    # a trial that never reaches w* (first_hit = -1, the least valid value; Hamming distance 1 throughout) passes, and
    # first_hit = -2 is reported
    never = replace(valid, first_hit=one(-1), time_at=one(0), time_at_late=one(0), final_at=one(False, bool),
                    visits=one(0), final_hamming=one(1), min_hamming=one(1), hamming=np.ones((1, ckpt.size), np.int64))
    if record_invariants(never, init_hamming=1):
        bad.append(f"record_invariants rejects a valid record that never reaches w*: {record_invariants(never, 1)}")
    if "first_hit = -1 iff time_at = 0" not in record_invariants(replace(never, first_hit=one(-2)), init_hamming=1):
        bad.append("record_invariants misses first_hit = -2 (below the 'never' value -1)")
    return bad


# ------------------------------------------------------------------ engine self-test (once per process)

def _normalize_by_loops(Z: np.ndarray, how: str) -> np.ndarray:
    """:func:`_normalize` written entry by entry (plain Python loops over the ``m`` samples of each feature
    ``(a, i)``, ``math.fsum``): the independent computation the self-test compares it with."""
    center, scale = NORMALIZATIONS[how]
    m, k, n = Z.shape
    out = np.empty_like(Z)
    for a in range(k):
        for i in range(n):
            col = [float(Z[j, a, i]) for j in range(m)]
            if center:
                mu = math.fsum(col) / m
                col = [z - mu for z in col]
            if scale:  # with centering the standard deviation, without it the root mean square (the same formula)
                sd = math.sqrt(math.fsum(z * z for z in col) / m)
                col = [z / sd for z in col] if sd > 0 else col
            for j in range(m):
                out[j, a, i] = col[j]
    return out


def _selftest_batch() -> tuple[STEModel, list]:
    """Two trials (a batch of ``B = 2`` with ``m = 3`` samples, ``k = 2`` units, ``n = 5``: the batch and sample axes, and
    the sample and feature axes, have different lengths, so a shape taken from the wrong axis fails or changes numbers), integer inputs, dyadic labels, ``v = (2, 1)``, constant step ``1/8``: every number
    of the recursion is dyadic, so the batched engine and the plain loop agree bit for bit."""
    X1 = np.array([[1, 0, 2, -1, 0], [0, 1, -1, 0, 2], [1, 1, 0, 0, -1], [-1, 0, 1, 2, 0], [2, -1, 0, 1, 1],
                   [0, 0, -1, 1, 1]], dtype=np.float64)
    X2 = np.array([[0, 1, 1, 0, -2], [1, 0, 0, -1, 1], [-1, 2, 0, 1, 0], [1, -1, 1, 0, 0], [0, 1, -1, 2, 1],
                   [2, 0, 1, -1, 0]], dtype=np.float64)
    star = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    data = [(X1, np.array([1.5, 0.5, 2.0]), star, np.array([-1.0, -1.0, 1.0, -1.0, 1.0])),
            (X2, np.array([0.0, 3.0, 1.25]), star, np.array([1.0, 1.0, -1.0, 1.0, -1.0]))]
    return STEModel(n=5, m=3, k=2, v=(2.0, 1.0), schedule="constant", lr=0.125), data


#: Known answers of :func:`_selftest_batch` (``T = 6``), per ``(proxy, trial)``: the Hamming distance to ``w*`` at
#: ``t = 0..6`` and ``m g(w_0)`` (``m = 3``; the STE gradient at the start times ``m``, dyadic), from the exact
#: recursion in rationals (``u_t = s_0 / sqrt(5) - q_t`` with ``q_t`` rational; the sign of ``+-1/sqrt(5) - q`` decided
#: by comparing ``q^2`` with ``1/5``, never a tie) -- ``tests/numerics/test_numerics_ste_dynamics.py`` recomputes them
#: with ``fractions.Fraction``.  They pin the batch's data: the engine-against-loop comparison alone holds for any data.
_BATCH_KNOWN = {("relu", 0): ((3, 3, 3, 3, 3, 3, 4), (1.0, 0.0, 2.0, -1.0, 0.0)),
                ("relu", 1): ((2, 2, 3, 2, 3, 4, 4), (2.0, 1.5, 2.5, 1.0, -6.5)),
                ("identity", 0): ((3, 3, 1, 2, 3, 1, 2), (-7.5, 3.5, 3.0, -8.0, -4.0)),
                ("identity", 1): ((2, 2, 2, 4, 4, 3, 4), (4.5, 2.5, 2.25, -1.75, -4.5)),
                ("zero", 0): ((3,) * 7, (0.0,) * 5), ("zero", 1): ((2,) * 7, (0.0,) * 5)}

#: The block rule's known answers (:func:`block_ranges`, :data:`BLOCK_WORK` = 4e9 units of ``m k n steps``):
#: ``n = 10, m = 100, k = 4, T = 1000`` is 4e6 units a trial, so 1000 trials a block: 5000 trials in 5 blocks;
#: ``n = 10, m = 1000, k = 2, T = 10^4`` is 2e8 units, so 20 trials a block: 60 trials in 3 blocks;
#: ``n = 10, m = 1000, k = 8, T = 10^5`` is 8e9 units (more than a block's work), so the minimum of 8 trials a block.
_BLOCK_KNOWN = (((10, 100, 4, 1000), 5000, [(a, a + 1000) for a in range(0, 5000, 1000)]),
                ((10, 1000, 2, 10**4), 60, [(0, 20), (20, 40), (40, 60)]),
                ((10, 1000, 8, 10**5), 20, [(0, 8), (8, 16), (16, 20)]))


def engine_selftest() -> list[str]:
    """Known-answer checks of the engine paths the claims' cells (``k = 1``, ``v = 1``, one normalization, one block
    per cell, mostly the ReLU proxy) do not reach, each against an independent computation:

    * :func:`_normalize`, every normalization, on a ``(m, k, n) = (4, 2, 3)`` array with a constant feature (the
      ``sd = 0`` branch) and one with ``0 < sd < 1`` (the others have ``sd > 1``), against :func:`_normalize_by_loops` (per-feature loops, ``math.fsum``), relative 1e-12;
    * the batched engine (:func:`simulate_block`, ``B = 2`` trials of :func:`_selftest_batch`, ``m = 3``,
      ``k = 2``, ``v = (2, 1)``) for the ReLU, the identity and the zero proxy, each trial against :func:`reference_trial`
      (plain loop), every record compared as in :func:`replay_audit` (exact on dyadic data), and the Hamming
      distances and ``g(w_0)`` against the exact rational recursion (:data:`_BATCH_KNOWN`);
    * the block split: a 5-trial cell (``k = 2``, ``v = (2, 1)``, label noise, ``scale`` normalization, identity
      proxy, events in every trial) run by :func:`simulate_cells` in blocks of 2 (three blocks, the last short)
      against one :func:`simulate_block` of the same five trials' data: bit-identical records and event lists
      (the events' trial indices carry the block offsets); the same five trials by :func:`simulate` in blocks of 2
      and by :func:`simulate_distributed` in blocks of 1;
    * the same split with a checkpoint directory (a temporary one): three block files written, a rerun loads them
      (0 CPU seconds) and both runs' records equal the single block; a rerun in blocks of 1 in the same directory
      (other ranges, hence other file names: none of the blocks of 2 may be loaded for them) equals it too;
    * :func:`generate_trial` with ``init_hamming = d`` (0, 2, n): ``s_0`` a sign vector with exactly ``d``
      coordinates of ``s*`` negated;
    * the memory rule of :func:`_block_size` (a block holds the trials whose inputs fit ``memory_bytes``) against
      ``memory_bytes // X.nbytes`` of a generated trial, at budgets that bind and that do not;
    * :func:`block_ranges` against the hand-computed splits of :data:`_BLOCK_KNOWN` (``k > 1``);
    * :func:`learning_rates` of every schedule of :data:`SCHEDULES` at ``t = 0..3`` with ``c = 3`` against the
      closed forms ``3``, ``3/sqrt(t+1)``, ``3 (t+1)^(-1/4)``, ``3/log(t+2)`` (``math``, relative 1e-14; the claims'
      cells use only ``inv-sqrt``);
    * :func:`inputs_audit`: every input family's sampler against its stated law (scipy.stats; KS test and exact
      moments at a fixed seed);
    * :func:`_generate_trial_selftest`: the data of a trial against the documented draw order and the labels by
      loops (Rademacher inputs: exact ties ``x . s* = 0``);
    * :func:`_invariants_selftest`: :func:`record_invariants` passes a record that meets every bound with equality
      and reports each identity on a copy tampered one unit past it;
    * :func:`reference_selftest` (the hand-made trials with closed-form records, and :func:`ste_gradient` at
      ``t = 0`` of the ``v = (2, 1)`` cases against its closed form), so that every claim that simulates runs it, not
      only those that replay a trial.

    Returns the failures (empty when all pass).  About 10 ms."""
    bad = [f"reference_selftest, case {case}: {diff}" for case, diff in reference_selftest().items()]
    Z = np.arange(24, dtype=np.float64).reshape(4, 2, 3) ** 1.5 - 7.0
    Z[:, 1, 2] = 2.5  # a constant feature: standard deviation 0, root mean square 2.5
    Z[:, 0, 1] = (0.25, -0.5, 0.125, 0.0)  # a feature with standard deviation and root mean square in (0, 1)
    for how in NORMALIZATIONS:
        got, want = _normalize(Z, how), _normalize_by_loops(Z, how)
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=1e-12):
            bad.append(f"_normalize({how!r}) differs from the per-feature loop by "
                       f"{np.max(np.abs(got - want)) if got.shape == want.shape else f'shape {got.shape}'}")
    model, data = _selftest_batch()
    steps = 6
    for proxy in ("relu", "identity", "zero"):
        mod = model.with_(proxy=proxy)
        tr = simulate_block(mod, data, steps, learning_rates(mod.schedule, mod.lr, steps))
        for i, d in enumerate(data):
            _, mism = _compare_with_reference(mod, d, steps, tr, i)
            if mism:
                bad.append(f"batched engine, {proxy} proxy, trial {i} of 2 (m = 3, k = 2, v = (2, 1)) against the "
                           f"plain loop: {mism}")
            # against the exact rational recursion: m g(w_0) is a dyadic sum computed exactly in float64, and the
            # engine's one division by m is correctly rounded, so g(w_0) equals (m g)/m exactly
            hams, mg0 = _BATCH_KNOWN[(proxy, i)]
            g0 = ste_gradient(mod, d[0], d[1], d[3])[0]
            if tr.hamming[i].tolist() != list(hams) or not np.array_equal(g0, [np.array(mg0) / mod.m]):
                bad.append(f"batched engine, {proxy} proxy, trial {i}: Hamming distances {tr.hamming[i].tolist()} and "
                           f"m g(w_0) = {(g0 * mod.m).tolist()}; the exact recursion gives {list(hams)} and {list(mg0)}")
    cell = STEModel(n=3, m=3, k=2, v=(2.0, 1.0), noise=1.0, proxy="identity", schedule="constant", lr=0.5,
                    normalize="scale")
    seed = np.random.SeedSequence(12345)
    job = CellJob(cell, 5, 12, seed)
    split = simulate_cells([job], block_size=2)[0][0]
    whole = simulate_block(cell, [generate_trial(cell, chunk_seed(seed, i)) for i in range(5)], 12,
                           learning_rates(cell.schedule, cell.lr, 12))
    if not split.excursions or not split.equal(whole):
        bad.append(f"simulate_cells in blocks of 2 differs from one block of the same 5 trials (events split "
                   f"{sorted(split.excursions)[:4]}..., whole {sorted(whole.excursions)[:4]}...)")
    # the two other splitting routes: simulate's in-process blocks (one concatenation with offsets 0, 2, 4: a wrong
    # offset rule shows in the event lists' trial indices, which simulate_cells' two nested concatenations, the inner
    # one at offset 0, can hide) and simulate_distributed's blocks of one trial (the smallest valid block size)
    for route, run in (("simulate(block_size=2)", lambda: simulate(cell, trials=5, steps=12, seed=seed, block_size=2)),
                       ("simulate_distributed(block_size=1)",
                        lambda: simulate_distributed(cell, trials=5, steps=12, seed=seed, block_size=1))):
        try:
            other = run()
        except InvalidArgument as exc:
            bad.append(f"{route} of 5 trials raised InvalidArgument({exc}); expected the records of one block")
            continue
        if not other.equal(whole):
            bad.append(f"{route} differs from one block of the same 5 trials (events "
                       f"{sorted(other.excursions)[:4]}..., expected {sorted(whole.excursions)[:4]}...)")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="stecheck-ste-selftest-") as ckdir:
        saved = simulate_cells([job], block_size=2, checkpoint_dir=ckdir)[0]
        files = sorted(p.name for p in Path(ckdir).iterdir())
        resumed = simulate_cells([job], block_size=2, checkpoint_dir=ckdir)[0]
        # a rerun with another split in the same directory: its blocks [i, i+1) are other files than [0, 2),
        # [2, 4), [4, 5) (a file names its whole range), so it must compute them and still give one block's records
        resplit = simulate_cells([job], block_size=1, checkpoint_dir=ckdir)[0]
    if not (saved[0].equal(whole) and resumed[0].equal(whole) and len(files) == 3
            and resumed[1]["seconds"]["cpu"] == 0.0 and resplit[0].equal(whole)):
        bad.append(f"simulate_cells with a checkpoint directory (blocks of 2 of 5 trials): files {files} (3 "
                   f"expected), a rerun {'loads' if resumed[1]['seconds']['cpu'] == 0.0 else 'recomputes'} them "
                   f"(loads expected), records equal to one block: saved {saved[0].equal(whole)}, "
                   f"resumed {resumed[0].equal(whole)}, rerun in blocks of 1 {resplit[0].equal(whole)}")
    for d in (0, 2, cell.n):  # the start of QSTE-NOISE's cells: s* with d coordinates flipped, still a sign vector
        _, _, s_star, s0 = generate_trial(cell, chunk_seed(seed, 1), init_hamming=d)
        if not (np.all(np.abs(s0) == 1.0) and np.all(np.abs(s_star) == 1.0)
                and int(np.count_nonzero(s0 != s_star)) == d and int(np.count_nonzero(s0 == -s_star)) == d):
            bad.append(f"generate_trial(init_hamming={d}) starts at s0 = {s0.tolist()} with s* = {s_star.tolist()}; "
                       f"expected a sign vector at Hamming distance {d} from s*")
    for mem, trials in ((48 * 2**20, 10**9), (10**6, 10**9), (10**6, 3), (100, 10)):
        x_bytes = generate_trial(cell, chunk_seed(seed, 0))[0].nbytes  # the inputs X of one trial, as stored
        want = max(1, min(trials, mem // x_bytes))
        try:
            got = _block_size(cell, trials, None, mem)
        except InvalidArgument as exc:
            got = f"InvalidArgument({exc})"
        if got != want:
            bad.append(f"_block_size(n=3, m=3, k=2, trials={trials}, memory_bytes={mem}) = {got}; a block holds "
                       f"the trials whose inputs ({x_bytes} bytes each) fit the budget: {want} expected")
    closed = {"constant": lambda t: 3.0, "inv-sqrt": lambda t: 3.0 / math.sqrt(t + 1),
              "inv-quarter": lambda t: 3.0 / math.sqrt(math.sqrt(t + 1)), "inv-log": lambda t: 3.0 / math.log(t + 2)}
    for name in SCHEDULES:
        got = learning_rates(name, 3.0, 4)
        want = [closed[name](t) for t in range(4)] if name in closed else None
        if want is None:
            bad.append(f"schedule {name!r} has no closed form in the engine self-test; add one")
        elif got.shape != (4,) or not all(math.isclose(g, w, rel_tol=1e-14) for g, w in zip(got, want)):
            bad.append(f"learning_rates({name!r}, c=3) at t = 0..3 is {got.tolist()}, expected {want}")
    for (n, m, k, steps_), trials, want in _BLOCK_KNOWN:
        got = block_ranges(STEModel(n=n, m=m, k=k), trials, steps_)
        if got != want:
            bad.append(f"block_ranges(n={n}, m={m}, k={k}, steps={steps_}, trials={trials}) = {got}, expected {want}")
    bad += _invariants_selftest()
    bad += _generate_trial_selftest()
    bad += inputs_audit()
    return bad


# ------------------------------------------------------------------ input-law audit (part of the engine self-test)

#: Sample size and levels of :func:`inputs_audit` (fixed seed, so the audit's outcome is deterministic).
_AUDIT_SIZE = 2**15
_AUDIT_KS_LEVEL = 1e-6  # the KS test's level per law
_AUDIT_Z = 5.0  # |z| bound of the moment tests (two-sided level 5.7e-7 per test)


def _reference_laws() -> dict[str, tuple[str, Any, float]]:
    """The law each :data:`INPUTS` sampler states, written independently: ``(kind, law, E|Z|)`` with ``law`` a frozen
    :mod:`scipy.stats` distribution (continuous) or a table of values and probabilities (discrete), and the closed
    form of ``E|Z|`` (continuous laws): ``sqrt(2/pi)`` for N(0, 1); ``sqrt(3)/2`` for U(-sqrt 3, sqrt 3); ``2/pi`` for
    t(3)/sqrt(3) (``E|T_nu| = 2 sqrt(nu) Gamma((nu+1)/2) / (sqrt(pi) (nu-1) Gamma(nu/2))``, ``nu = 3``: ``2 sqrt(3)/pi``);
    ``2/e`` for Exp(1) - 1; ``sqrt(2/pi) e^(-1/2) + (1 - 2 Phi(-1))`` for N(1, 1); ``1`` for Exp(1); ``e^(1/2)`` for
    LogNormal(0, 1)."""
    from scipy import stats

    r3 = math.sqrt(3.0)
    phi_m1 = 0.5 * math.erfc(1.0 / math.sqrt(2.0))  # Phi(-1)
    return {
        "gaussian": ("continuous", stats.norm(0.0, 1.0), math.sqrt(2.0 / math.pi)),
        "rademacher": ("discrete", {-1.0: 0.5, 1.0: 0.5}, 1.0),
        "uniform": ("continuous", stats.uniform(-r3, 2.0 * r3), r3 / 2.0),
        "student-t3": ("continuous", stats.t(3, loc=0.0, scale=1.0 / r3), 2.0 / math.pi),
        "centered-exponential": ("continuous", stats.expon(loc=-1.0, scale=1.0), 2.0 / math.e),
        "shifted-gaussian": ("continuous", stats.norm(1.0, 1.0),
                             math.sqrt(2.0 / math.pi) * math.exp(-0.5) + (1.0 - 2.0 * phi_m1)),
        "bernoulli01": ("discrete", {0.0: 0.5, 1.0: 0.5}, 0.5),
        "exponential": ("continuous", stats.expon(0.0, 1.0), 1.0),
        "lognormal": ("continuous", stats.lognorm(1.0, loc=0.0, scale=1.0), math.exp(0.5)),
    }


def inputs_audit() -> list[str]:
    """Each sampler of :data:`INPUTS` against the law it states, written independently (:func:`_reference_laws`,
    scipy.stats), on ``2^15`` draws at a fixed seed:

    * continuous laws: a one-sample Kolmogorov-Smirnov test at level ``1e-6`` against the reference CDF, and a
      z-test (``|z| <= 5``) of the mean of ``|Z|`` against its closed form ``E|Z|`` (the standard error from the exact
      ``E Z^2``, finite for every family).  The moment test
      gives the power the KS test lacks on tails: ``t(4)/sqrt(3)`` for ``t(3)/sqrt(3)`` moves ``E|Z|`` by 0.059,
      17 standard errors, while the two CDFs differ by at most 0.012;
    * discrete laws: every draw in the stated support, and each value's frequency within ``5`` standard errors of
      its probability;
    * the table's own statements: a ``centered`` family has mean 0 and variance 1, a non-centered one mean != 0;
      ``continuous``/``discrete`` support as stated (all exact, from the reference law).

    Returns the failures (empty when all pass).  About 50 ms."""
    bad = []
    refs = _reference_laws()
    g = np.random.default_rng(20261201)
    for name, (sampler, desc, centered, _tails, support) in INPUTS.items():
        if name not in refs:
            bad.append(f"input family {name!r} has no reference law in the audit; add one to _reference_laws")
            continue
        kind, law, e_abs = refs[name]
        z = np.asarray(sampler(g, (_AUDIT_SIZE,)), dtype=np.float64)
        if z.shape != (_AUDIT_SIZE,) or not np.all(np.isfinite(z)):
            bad.append(f"input family {name!r} ({desc}): sampler returned shape {z.shape} or non-finite values")
            continue
        if kind != support:
            bad.append(f"input family {name!r} ({desc}) states support {support!r}; its law is {kind}")
        if kind == "continuous":
            from scipy import stats

            mean, var = float(law.mean()), float(law.var())
            ks = stats.kstest(z, law.cdf)
            if ks.pvalue < _AUDIT_KS_LEVEL:
                bad.append(f"input family {name!r} ({desc}): KS distance {ks.statistic:.4g} to its stated law "
                           f"(p = {ks.pvalue:.3g} < {_AUDIT_KS_LEVEL:g}, {_AUDIT_SIZE} draws)")
            sd_abs = math.sqrt(max(var + mean * mean - e_abs * e_abs, 0.0))
            zstat = (float(np.abs(z).mean()) - e_abs) / (sd_abs / math.sqrt(_AUDIT_SIZE))
            if not abs(zstat) <= _AUDIT_Z:
                bad.append(f"input family {name!r} ({desc}): mean |Z| = {np.abs(z).mean():.6g}, expected E|Z| = "
                           f"{e_abs:.6g} (z = {zstat:.3g}, bound {_AUDIT_Z:g})")
        else:
            vals = np.unique(z)
            if not set(vals.tolist()) <= set(law):
                bad.append(f"input family {name!r} ({desc}): values {vals[:6].tolist()} outside the support "
                           f"{sorted(law)}")
            for value, p in law.items():
                freq = float(np.mean(z == value))
                zstat = (freq - p) / math.sqrt(p * (1 - p) / _AUDIT_SIZE)
                if not abs(zstat) <= _AUDIT_Z:
                    bad.append(f"input family {name!r} ({desc}): frequency of {value:g} is {freq:.5f}, expected "
                               f"{p:g} (z = {zstat:.3g})")
            mean = math.fsum(v * p for v, p in law.items())
            var = math.fsum(v * v * p for v, p in law.items()) - mean * mean
        if centered and not (abs(mean) <= 1e-12 and abs(var - 1.0) <= 1e-9):
            bad.append(f"input family {name!r} ({desc}) is listed as centered with unit variance; its law has "
                       f"mean {mean:.6g}, variance {var:.6g}")
        if not centered and abs(mean) <= 1e-12:
            bad.append(f"input family {name!r} ({desc}) is listed as non-centered; its law has mean 0")
    return bad


#: :func:`engine_selftest` once per process, at the first simulation (its own simulations skip the check); a
#: failure raises :class:`~stecheck.errors.SelfCheckFailed` (the engine does not compute the method it states).
engine_selftest_once = OncePerProcess(
    engine_selftest, what="the STE-dynamics engine fails its known-answer self-test",
    remedy="Fix numerics/ste_dynamics.py (normalization, batched step, block split).")
