"""BayesBiNN (Meng et al., 2020) as its published optimizer computes it, and the update (107) of the SBN paper.

Sources.  The SBN paper, appendix F, eqs. (102)-(103) and (107)-(108); the authors' code,
``team-approx-bayes/BayesBiNN``, file ``optimizers/BayesBiNN.py`` (commit 67e0c6f, read for this module,
not copied), with the defaults of ``main_mnist.py`` (lr 1e-4, temperature 1e-10, lamda init +-10,
lamda_std 0, one training MC sample, momentum 0, KL reweight 1, prior natural parameters 0, N the size of
the training split).  One step of the published optimizer, in the paper's notation (``lambda`` = eta):

1. ``u ~ U(0, 1)`` per weight, ``delta = log(u / (1 - u)) / 2`` (logistic noise with scale 1/2, i.e. the
   noise ``-z`` with ``F(z) = sigmoid(2 z)`` of :mod:`numerics.noise`);
2. relaxed weights ``w = tanh((lambda + delta) / tau)`` (the paper's (102a) prints ``tanh(eta - z)``: the
   temperature was lost in the extraction);
3. ``g = dL/dw`` at ``w``, ``L`` the mean mini-batch loss;
4. ``scale = (1 - w^2 + eps) / tau / (1 - mu^2 + eps)`` with ``eps = 1e-10`` (hard-coded) and ``mu`` the
   optimizer's stored ``tanh`` of the natural parameters; the paper's (103) is ``s = N scale``;
5. ``lambda <- lambda - lr (N scale g + reweight (lambda - prior))``, i.e. (102c) with ``alpha = lr``;
6. ``mu <- tanh(lambda_before_the_update)``: the code stores ``tanh`` of the *previous* natural parameters
   (the local alias is taken before the update), so step ``t`` uses ``mu = tanh(lambda_{t-2})``
   (``tanh(lambda_0)`` at steps 1 and 2).  ``mu_lag=False`` gives the form (103) as printed.

The published code runs in PyTorch's default float32; ``dtype`` selects float32 (default) or float64 for
the optimizer state (the network's gradient is computed in float64 and rounded).

(107): ``w = sign(eta)``, ``g = dL/dw(w)``, ``eta <- (1 - alpha) eta - alpha (N / tau) g``.  (108) is (107)
for ``eta~ = tau eta / N``: ``eta~ <- (1 - alpha) eta~ - alpha g``.

Accuracy: elementwise float arithmetic in the stated dtype (relative error a few ``u``); the equivalence
measured here is between two computed trajectories, each exact up to that rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from stecheck.errors import InvalidArgument
from stecheck.selftest import OncePerProcess

from ._validation import as_int, short_repr

__all__ = ["BayesBiNNSettings", "PUBLISHED", "bayesbinn_step", "eq107_step", "eq108_step", "init_natural",
           "run_side_by_side", "SideBySide", "minibatches"]


@dataclass(frozen=True)
class BayesBiNNSettings:
    """Hyper-parameters of the published optimizer (defaults of ``main_mnist.py``); ``n_train`` = N."""

    n_train: int
    lr: float = 1e-4
    temperature: float = 1e-10
    eps: float = 1e-10
    lamda_init: float = 10.0
    kl_reweight: float = 1.0
    dtype: str = "float32"
    mu_lag: bool = True

    def __post_init__(self):
        as_int(self.n_train, "n_train", minimum=1)
        for name in ("lr", "temperature"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and v > 0):
                raise InvalidArgument(f"{name}={short_repr(v)}; expected a positive float (published: "
                                      f"{'1e-4' if name == 'lr' else '1e-10'}).")
        if not (isinstance(self.eps, (int, float)) and self.eps >= 0):
            raise InvalidArgument(f"eps={short_repr(self.eps)}; expected a float >= 0 (published: 1e-10).")
        if self.dtype not in ("float32", "float64"):
            raise InvalidArgument(f"dtype={short_repr(self.dtype)}; expected 'float32' (PyTorch default) or 'float64'.")

    @property
    def np_dtype(self):
        return np.dtype(self.dtype)


def PUBLISHED(n_train: int, **changes) -> BayesBiNNSettings:
    """The published settings for a training set of size ``n_train`` (with optional changes)."""
    return replace(BayesBiNNSettings(n_train), **changes)


def init_natural(rng: np.random.Generator, size: int, lamda_init: float = 10.0) -> np.ndarray:
    """``+-lamda_init`` with a fair random sign per weight (the code's mixture init with ``lamda_std = 0``)."""
    _minibatches_selftest()
    return np.where(rng.integers(0, 2, size) == 1, lamda_init, -lamda_init).astype(np.float64)


@dataclass
class StepInfo:
    """What one BayesBiNN step saw: the forward weights, the scale, whether the noise flipped a sign."""

    w: np.ndarray
    scale: np.ndarray
    flips: int
    soft: int
    grad: np.ndarray


def bayesbinn_step(lam: np.ndarray, mu: np.ndarray, grad_fn: Callable[[np.ndarray], np.ndarray],
                   u: np.ndarray, s: BayesBiNNSettings) -> tuple[np.ndarray, np.ndarray, StepInfo]:
    """One step of the published optimizer (steps 1-6 of the module docstring); returns (lambda, mu, info)."""
    dt = s.np_dtype
    lam = lam.astype(dt, copy=False)
    u = u.astype(dt)  # draw u in the optimizer's dtype (PyTorch's rand_like): in [0, 1), so delta < +inf
    with np.errstate(divide="ignore"):
        delta = np.log(u / (dt.type(1) - u)) / dt.type(2)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        w = np.tanh((lam + delta) / dt.type(s.temperature))
    g = np.asarray(grad_fn(w.astype(np.float64)), dtype=dt)
    one, eps, tau = dt.type(1), dt.type(s.eps), dt.type(s.temperature)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scale = (one - w * w + eps) / tau / (one - mu * mu + eps)
        grad_hat = scale * g * dt.type(s.n_train)
        new = lam - dt.type(s.lr) * (grad_hat + dt.type(s.kl_reweight) * lam)
    new_mu = np.tanh(lam if s.mu_lag else new)
    flips = int(np.count_nonzero(np.sign(lam + delta) != np.sign(lam)))
    soft = int(np.count_nonzero(np.abs(w) < 1))
    return new, new_mu, StepInfo(w, scale, flips, soft, g)


def eq107_step(eta: np.ndarray, grad_fn: Callable[[np.ndarray], np.ndarray], *, alpha: float, n_train: int,
               tau: float) -> tuple[np.ndarray, np.ndarray]:
    """(107): ``w = sign(eta)`` (``sign(0) = +1``), ``eta <- (1 - alpha) eta - alpha (N / tau) dL/dw(w)``."""
    w = np.where(eta >= 0, 1.0, -1.0)
    g = np.asarray(grad_fn(w), dtype=np.float64)
    return (1.0 - alpha) * eta - alpha * (n_train / tau) * g, g


def eq108_step(eta_t: np.ndarray, grad_fn: Callable[[np.ndarray], np.ndarray], *, alpha: float):
    """(108): ``w = sign(eta~)``, ``eta~ <- (1 - alpha) eta~ - alpha dL/dw(w)`` (no tau, no N)."""
    w = np.where(eta_t >= 0, 1.0, -1.0)
    g = np.asarray(grad_fn(w), dtype=np.float64)
    return (1.0 - alpha) * eta_t - alpha * g, g


def minibatches(rng: np.random.Generator, n: int, batch: int, steps: int) -> list[np.ndarray]:
    """``steps`` index batches: epochs of seeded permutations cut into batches of ``batch`` (last partial dropped)."""
    n, batch, steps = as_int(n, "n", minimum=1), as_int(batch, "batch", minimum=1), as_int(steps, "steps", minimum=1)
    if batch > n:
        raise InvalidArgument(f"batch={batch} exceeds the training-set size {n}; pass batch <= {n}.")
    _minibatches_selftest()
    out: list[np.ndarray] = []
    while len(out) < steps:
        perm = rng.permutation(n)
        out.extend(perm[i:i + batch] for i in range(0, n - batch + 1, batch))
    return out[:steps]


def _bayesbinn_selftest_failures() -> list[str]:
    """Known-answer test of :func:`minibatches` at the epoch boundary, run once per process at its first call: the
    claims' training sets are far from a multiple of the batch, so the last full batch of an epoch and the dropped
    partial one are never at stake there.  For ``batch = 4`` and ``n = 4, 7, 8, 9`` (both sides of a multiple),
    two epochs of batches (``2 (n // 4)`` steps, from a generator of its own: the caller's stream is untouched)
    must each hold 4 distinct indices in ``[0, n)``, every epoch exactly ``n // 4`` disjoint batches (counted from
    the permutations the generator draws, replayed).  Then :func:`_diagnostics_selftest_failures` and
    :func:`_init_selftest_failures`.  Returns the
    mismatches (:data:`_minibatches_selftest` raises on them)."""
    bad = []
    for n in (4, 7, 8, 9):
        k = n // 4
        got = minibatches(np.random.default_rng(n), n, 4, 2 * k)
        replay = np.random.default_rng(n)
        perms = [replay.permutation(n) for _ in range(2)]
        want = [perms[e][4 * i:4 * i + 4] for e in range(2) for i in range(k)]
        if len(got) != len(want) or any(not np.array_equal(g, w) for g, w in zip(got, want)):
            bad.append(f"n={n}, batch=4: {[g.tolist() for g in got]}, expected {k} full batch(es) per epoch "
                       f"{[w.tolist() for w in want]}")
    bad += _diagnostics_selftest_failures()
    bad += _init_selftest_failures()
    return bad


def _init_selftest_failures() -> list[str]:
    """:func:`init_natural`'s law at a fixed seed: 4000 weights, every one exactly ``+lamda_init`` or
    ``-lamda_init`` (float64), and the number of positive ones consistent with a fair coin: the exact two-sided
    binomial test (``scipy.stats.binomtest``, ``p = 1/2``) must give a p-value ``>= 1e-6`` (seeded, so the
    outcome is deterministic; a sign with probability ``1/3`` or ``1`` gives ``p < 1e-40``).  Returns the
    failures."""
    from scipy import stats

    lam = init_natural(np.random.default_rng(20261201), 4000, 2.5)
    if lam.dtype != np.float64 or lam.shape != (4000,) or not np.all((lam == 2.5) | (lam == -2.5)):
        return [f"init_natural(rng, 4000, 2.5) gave dtype {lam.dtype}, shape {lam.shape}, values "
                f"{sorted(set(lam.tolist()))[:5]}; expected 4000 float64 values in {{-2.5, 2.5}}"]
    k = int(np.count_nonzero(lam > 0))
    p = stats.binomtest(k, 4000, 0.5).pvalue
    if not p >= 1e-6:
        return [f"init_natural(rng, 4000, 2.5) gave {k} positive signs of 4000 (binomial p-value {p:.1e} "
                f"against a fair sign); expected a fair random sign per weight"]
    return []


#: :func:`_bayesbinn_selftest_failures` once per process, at the first :func:`minibatches` call (its own calls
#: skip the check); a mismatch raises :class:`~stecheck.errors.SelfCheckFailed`.
_minibatches_selftest = OncePerProcess(
    _bayesbinn_selftest_failures,
    what="numerics.bayesbinn fails its known-answer self-test (minibatches at the epoch boundary, (107) diagnostics, "
         "the initial signs)",
    remedy="An epoch must be cut into exactly n // batch full batches (the last partial one dropped) and each "
           "diagnostic must equal its one-step closed form; fix numerics/bayesbinn.py.")


@dataclass
class SideBySide:
    """Per-step records of BayesBiNN (published) and (107) run on the same data stream from the same init."""

    sign_agree: list[float] = field(default_factory=list)      # mean(sign(lambda_t) == sign(eta_t))
    forward_agree: list[float] = field(default_factory=list)   # mean(w_BayesBiNN == sign(eta_t-1)) in the forward pass
    flips: list[int] = field(default_factory=list)             # weights whose sign the noise flipped
    soft: list[int] = field(default_factory=list)              # weights with |w| < 1 in the forward pass
    scale_ratio_min: list[float] = field(default_factory=list)  # min over weights of scale * tau (1 = (107)'s N/tau)
    scale_ratio_max: list[float] = field(default_factory=list)
    lam_abs_median: list[float] = field(default_factory=list)
    lam_abs_min: list[float] = field(default_factory=list)
    eta_abs_median: list[float] = field(default_factory=list)
    step_pred_median: list[float] = field(default_factory=list)  # median alpha N |g| / tau of this step
    nonfinite: int = 0
    lam: np.ndarray | None = None
    eta: np.ndarray | None = None


def run_side_by_side(grad_fn_factory, batches, lam0: np.ndarray, s: BayesBiNNSettings, rng: np.random.Generator,
                     *, tau107: float | None = None) -> SideBySide:
    """BayesBiNN (published) and (107) (with ``tau107``, default ``s.temperature``) on the same batches.

    ``grad_fn_factory(batch)`` returns ``w -> dL/dw`` on that mini-batch.  Both start at ``lam0``; BayesBiNN
    draws its uniforms from ``rng``.
    """
    tau107 = s.temperature if tau107 is None else tau107
    dt = s.np_dtype
    lam = lam0.astype(dt)
    mu = np.tanh(lam)
    eta = lam0.astype(np.float64).copy()
    rec = SideBySide()
    for idx in batches:
        gf = grad_fn_factory(idx)
        w107 = np.where(eta >= 0, 1.0, -1.0)
        lam, mu, info = bayesbinn_step(lam, mu, gf, rng.random(lam.shape, dtype=dt), s)
        eta, g107 = eq107_step(eta, gf, alpha=s.lr, n_train=s.n_train, tau=tau107)
        if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(eta))):
            rec.nonfinite += 1
        rec.sign_agree.append(float(np.mean(np.sign(lam) == np.sign(eta))))
        rec.forward_agree.append(float(np.mean(np.where(info.w >= 0, 1.0, -1.0) == w107)))
        rec.flips.append(info.flips)
        rec.soft.append(info.soft)
        r = info.scale.astype(np.float64) * s.temperature
        rec.scale_ratio_min.append(float(np.nanmin(r)) if np.any(np.isfinite(r)) else float("nan"))
        rec.scale_ratio_max.append(float(np.nanmax(r)) if np.any(np.isfinite(r)) else float("nan"))
        la = np.abs(lam.astype(np.float64))
        rec.lam_abs_median.append(float(np.median(la)))
        rec.lam_abs_min.append(float(np.min(la)))
        rec.eta_abs_median.append(float(np.median(np.abs(eta))))
        rec.step_pred_median.append(float(s.lr * s.n_train * np.median(np.abs(g107)) / tau107))
    rec.lam, rec.eta = lam, eta
    return rec


@dataclass
class Stepwise:
    """Per-step comparison of one BayesBiNN step with the (107) step taken from the same state and batch."""

    mismatch: list[int] = field(default_factory=list)       # weights whose new lambda differs from (107)'s (rel > rtol)
    sign_mismatch: list[int] = field(default_factory=list)  # weights whose new sign differs from (107)'s
    flips: list[int] = field(default_factory=list)          # forward weights sign(lambda + delta) != sign(lambda)
    soft: list[int] = field(default_factory=list)           # forward weights with |w| < 1
    scale_ratio_median: list[float] = field(default_factory=list)  # median scale * tau (1 in the (107) regime)
    lam_abs_median: list[float] = field(default_factory=list)
    lam_abs_min: list[float] = field(default_factory=list)
    step_pred_median: list[float] = field(default_factory=list)    # median alpha N |g| / tau
    step_median: list[float] = field(default_factory=list)         # median |lambda_{t+1} - (1 - alpha) lambda_t|
    unexplained: list[int] = field(default_factory=list)    # mismatches in flip-free steps at weights in the regime
    nonfinite: int = 0
    n_weights: int = 0
    rtol: float = 0.0
    lam_final: np.ndarray | None = None


def stepwise_equivalence(grad_fn_factory, batches, lam0: np.ndarray, s: BayesBiNNSettings, rng: np.random.Generator,
                         *, tau107: float | None = None, rtol: float = 1e-4) -> Stepwise:
    """Run BayesBiNN (published form); at every step also take the (107) step from the same ``lambda_t``.

    A weight's step *matches* when ``|lambda_{t+1} - eta'| <= rtol |eta' - (1 - alpha) lambda_t| + 16 u max(|lambda_t|,
    |eta'|)``, ``eta'`` the (107) step from ``lambda_t`` (float64) on the same batch, ``u`` the unit roundoff of the
    optimizer's dtype: the second term covers the rounding of the state, ``rtol = 1e-4`` (~800 float32 ulps of the
    step) covers the rounding of the step and is far below any change of the scale ``s``.
    """
    tau107 = s.temperature if tau107 is None else tau107
    dt = s.np_dtype
    lam = lam0.astype(dt)
    mu = np.tanh(lam)
    rec = Stepwise(n_weights=int(lam0.size), rtol=rtol)
    for idx in batches:
        gf = grad_fn_factory(idx)
        lam64 = lam.astype(np.float64)
        mu_used = mu.astype(np.float64)
        new, mu, info = bayesbinn_step(lam, mu, gf, rng.random(lam.shape, dtype=dt), s)
        with np.errstate(over="ignore", invalid="ignore"):
            eta_next, g = eq107_step(lam64, gf, alpha=s.lr, n_train=s.n_train, tau=tau107)
            new64 = new.astype(np.float64)
            tol = rtol * np.abs(eta_next - (1.0 - s.lr) * lam64) + 16 * np.finfo(dt).eps * np.maximum(
                np.abs(lam64), np.abs(eta_next))
            bad = ~(np.abs(new64 - eta_next) <= tol)
        if not np.all(np.isfinite(new)):
            rec.nonfinite += 1
        rec.mismatch.append(int(np.count_nonzero(bad)))
        # the proof's regime: 1 - w^2 and 1 - mu^2 negligible against eps (then scale = 1/tau to 1e-5)
        w64 = info.w.astype(np.float64)
        regime = (1.0 - w64 * w64 <= 1e-5 * s.eps) & (1.0 - mu_used * mu_used <= 1e-5 * s.eps)
        clean = info.flips == 0 and info.soft == 0
        rec.unexplained.append(int(np.count_nonzero(bad & regime)) if clean else 0)
        rec.sign_mismatch.append(int(np.count_nonzero(np.sign(new64) != np.sign(eta_next))))
        rec.flips.append(info.flips)
        rec.soft.append(info.soft)
        r = info.scale.astype(np.float64) * s.temperature
        rec.scale_ratio_median.append(float(np.median(r)))
        la = np.abs(new64)
        rec.lam_abs_median.append(float(np.median(la)))
        rec.lam_abs_min.append(float(np.min(la)))
        rec.step_pred_median.append(float(s.lr * s.n_train * np.median(np.abs(g)) / tau107))
        with np.errstate(invalid="ignore"):
            rec.step_median.append(float(np.median(np.abs(new64 - (1.0 - s.lr) * lam64))))
        lam = new
    rec.lam_final = lam.astype(np.float64)
    return rec


class _HalfUniforms:
    """A stand-in generator whose uniforms are all 1/2 (noise ``delta = 0``: no flip), for the self-test."""

    @staticmethod
    def random(shape, dtype=np.float64):
        return np.full(shape, 0.5, dtype=dtype)


def _diagnostics_selftest_failures() -> list[str]:
    """Known answers for the diagnostics that :func:`run_side_by_side` and :func:`stepwise_equivalence` record
    (part of the self-test of :func:`minibatches`, run once per process; a few ms).  The claims' runs never take
    a weight at ``lambda = 0`` (a forward weight ``tanh(0) = 0``), never have a BayesBiNN step in the proof's
    regime that differs from (107)'s, and read some records only into figures, so a wrong record would not show.
    Returns the failures (empty when all pass).

    One step, float64, ``lr = 5e-4``, ``N = 2``, ``tau = eps = kl_reweight = 1``, all uniforms ``1/2`` (noise 0),
    a constant gradient ``g = (1, 2, 2, 3)`` and ``tau_107 = 1/2``.  With ``mu_lag`` the forward weight and ``mu``
    are both ``tanh(lambda)``, so the scale is exactly 1 and BayesBiNN's step is ``(1 - lr) lambda - lr N g`` in
    closed form, (107)'s ``(1 - lr) lambda - lr N g / tau_107``: they differ by ``lr N g`` (a relative 1/2 of
    the step, far above ``rtol``), so every weight is a value mismatch.

    * ``lambda_0 = (40, -40, 40, -40)``: forward weights exactly ``+-1``, ``1 - mu^2 = 0`` (all in the regime), no
      flip, no soft weight: 4 mismatches, all 4 unexplained; ``step_pred_median = lr N median|g| / tau_107 =
      4e-3``, ``step_median = lr N median|g| = 2e-3``, ``scale * tau = 1`` (``N != 1``: ``lr N`` is not ``lr / N``);
    * ``lambda_0 = (40, -40, 40, 3)``: one soft forward weight (``tanh 3``), so the step is not clean: 0 unexplained;
    * side by side from ``lambda_0 = (0, 40, -40, 5)``: the forward weight ``tanh(0) = 0`` takes the sign ``+1``
      as (107)'s ``sign(0) = +1`` does, so ``forward_agree = 1``; sign agreement 1 (both steps have the sign of
      ``-g`` at 0), ``step_pred_median = 4e-3``, ``scale * tau`` min = max = 1, and the median / minimum of
      ``|lambda_1|`` and the median of ``|eta_1|`` from the closed forms above.

    * the count of non-finite steps when a gradient ``1e308`` makes BayesBiNN's step overflow (``N g = 2e308``):
      every step of :func:`run_side_by_side` (2 of 2) and of :func:`stepwise_equivalence` (1 of 1);
    * the scale ratio ``scale * tau`` at ``tau = 2`` (above, ``tau = 1`` makes ``scale * tau`` and ``scale / tau``
      the same number): from ``lambda_0 = (40, -40, 0, 40)`` the forward weights are ``tanh(lambda_0 / 2) =
      (1, -1, 0, 1)`` (``tanh 20 = 1`` in float64) and ``mu = tanh(lambda_0)`` the same, so ``scale = (1 - w^2 +
      1) / 2 / (1 - mu^2 + 1) = 1/2`` and ``scale * tau = 1`` exactly, in both :func:`run_side_by_side` (min, max)
      and :func:`stepwise_equivalence` (median).

    Values to ``1e-12`` relative (plus ``16 u |lambda_0|`` for ``step_median``, a difference of states), counts
    and the scale ratios exactly."""
    bad = []
    lr, N, tau107 = 5e-4, 2, 0.5
    s = BayesBiNNSettings(N, lr=lr, temperature=1.0, eps=1.0, kl_reweight=1.0, dtype="float64", mu_lag=True)
    g = np.array([1.0, 2.0, 2.0, 3.0])

    def factory(idx):
        return lambda w: g.copy()

    def near(x, want, state=0.0):  # 1e-12 relative, plus 16 u |lambda| for a difference of states (cancellation)
        return abs(x - want) <= 1e-12 * abs(want) + 16 * np.finfo(np.float64).eps * state

    for lam0, unexplained in ((np.array([40.0, -40.0, 40.0, -40.0]), 4), (np.array([40.0, -40.0, 40.0, 3.0]), 0)):
        r = stepwise_equivalence(factory, [0], lam0, s, _HalfUniforms(), tau107=tau107)
        got = (r.mismatch, r.unexplained, r.sign_mismatch, r.flips, r.step_pred_median, r.step_median,
               r.scale_ratio_median)
        if not (r.mismatch == [4] and r.unexplained == [unexplained] and r.sign_mismatch == [0] and r.flips == [0]
                and near(r.step_pred_median[0], lr * N * 2.0 / tau107) and near(r.step_median[0], lr * N * 2.0, 40.0)
                and r.scale_ratio_median == [1.0]):
            bad.append(f"stepwise_equivalence from lambda_0 = {lam0.tolist()} records (mismatch, unexplained, "
                       f"sign_mismatch, flips, step_pred_median, step_median, scale_ratio_median) = {got}; expected "
                       f"([4], [{unexplained}], [0], [0], [{lr * N * 2.0 / tau107}], [{lr * N * 2.0}], [1.0])")
    lam0 = np.array([0.0, 40.0, -40.0, 5.0])
    r = run_side_by_side(factory, [0], lam0, s, _HalfUniforms(), tau107=tau107)
    lam1, eta1 = (1 - lr) * lam0 - lr * N * g, (1 - lr) * lam0 - lr * N * g / tau107
    want = {"forward_agree": [1.0], "sign_agree": [1.0], "flips": [0], "soft": [2],
            "step_pred_median": [lr * N * 2.0 / tau107], "scale_ratio_min": [1.0], "scale_ratio_max": [1.0],
            "lam_abs_median": [float(np.median(np.abs(lam1)))], "lam_abs_min": [float(np.min(np.abs(lam1)))],
            "eta_abs_median": [float(np.median(np.abs(eta1)))]}
    wrong = {k: getattr(r, k) for k, v in want.items()
             if not (len(getattr(r, k)) == 1 and (getattr(r, k) == v or near(getattr(r, k)[0], v[0])))}
    if wrong:
        bad.append(f"run_side_by_side from lambda_0 = {lam0.tolist()} records {wrong}; expected "
                   f"{ {k: want[k] for k in wrong} }")
    big = np.array([1e308, 1.0, 1.0, 1.0])  # BayesBiNN's lr N g overflows at weight 0 (N g = 2e308), (107)'s not

    def overflow(idx):
        return lambda w: big.copy()

    lam0 = np.array([40.0, -40.0, 40.0, -40.0])
    with np.errstate(over="ignore", invalid="ignore"):
        r = run_side_by_side(overflow, [0, 1], lam0, s, _HalfUniforms(), tau107=tau107)
        q = stepwise_equivalence(overflow, [0], lam0, s, _HalfUniforms(), tau107=tau107)
    if not (r.nonfinite == 2 and q.nonfinite == 1):
        bad.append(f"with a gradient 1e308 (BayesBiNN's step overflows, (107)'s does not) the non-finite step counts "
                   f"are {r.nonfinite} (run_side_by_side, 2 steps) and {q.nonfinite} (stepwise_equivalence, 1 step); "
                   f"expected 2 and 1")
    s2 = BayesBiNNSettings(N, lr=lr, temperature=2.0, eps=1.0, kl_reweight=1.0, dtype="float64", mu_lag=True)
    lam0 = np.array([40.0, -40.0, 0.0, 40.0])
    r = run_side_by_side(factory, [0], lam0, s2, _HalfUniforms(), tau107=tau107)
    q = stepwise_equivalence(factory, [0], lam0, s2, _HalfUniforms(), tau107=tau107)
    if not (r.scale_ratio_min == [1.0] and r.scale_ratio_max == [1.0] and q.scale_ratio_median == [1.0]):
        bad.append(f"at temperature 2 from lambda_0 = {lam0.tolist()} the scale ratios scale * tau are "
                   f"(run_side_by_side min, max; stepwise_equivalence median) = ({r.scale_ratio_min}, "
                   f"{r.scale_ratio_max}, {q.scale_ratio_median}); expected [1.0] each (scale = 1/2 exactly)")
    return bad
