"""Performance benchmarks of the numerical engine, with targets.

    python benchmarks/run.py [--quick] [--json FILE] [--strict] [--compare OLD.json] [--only KEY ...]

Measures, in one run (best-of-N wall-clock timings, BLAS pinned to one thread):

* ``mc_vs_floor``      -- Monte Carlo of the ST estimator (Alg. 1) on a
  factorised layer, ``n = 64``, quadratic loss ``||Wx - y||^2`` with
  ``W (64, 64)``, through :func:`numerics.montecarlo.monte_carlo_mean`
  (sampling, estimator, validation, chunk moments and merge), divided by the
  *floor*: the work no implementation can avoid, done by numpy alone on the
  same chunks -- drawing the ``N x 64`` logistic variates, the sign, the
  forward product ``W x - y`` and the backward product ``(W x - y) W`` (two
  GEMMs per block).  The engine evaluates a chunk in cache-sized blocks of
  rows (:data:`numerics.estimators.BLOCK_CELLS`); the floor does its numpy
  operations on the same blocks, so that the cache helps both alike and the
  ratio measures the engine's own work (moments, checks, Python).
  ``details.mc.mc_vs_floor_whole_chunks`` also reports the ratio to the floor
  on whole chunks (no target).  Target ``<= 1.2``.
* ``mc_vs_loop``       -- the same estimator written as a straightforward
  per-sample Python loop (plain Python floats and lists, Welford accumulation:
  what one writes without numpy), time per sample, divided by the engine's
  time per sample.  Target ``>= 50``.  ``details.loop.mc_vs_numpy_loop``
  also reports the stronger baseline of a per-sample loop of numpy vector
  operations (no target).
* ``torch_vs_stecheck`` -- the peer a user would write instead: the same
  estimator in PyTorch eager mode with autograd (``x = hard + soft -
  soft.detach()``, float64, one thread, per-sample gradients of a batch, mean
  and variance), divided by the engine.  Target ``>= 1.5``.  Skipped with a
  note when torch is not installed.
* ``enum_n20_seconds`` -- ``E[L]`` and the exact gradient (eqs. (4)-(6)) at
  ``n = 20`` by :func:`numerics.enumeration.exact_loss_and_gradient`, quadratic
  loss, one core.  Target ``< 2`` s.
* ``enum_n26_seconds`` -- the same at ``n = 26`` (``2^26`` states) by
  :func:`numerics.enumeration_blocks.exact_loss_and_gradient_blocks` on a
  local Dask cluster of two single-threaded workers (started and warmed up
  beforehand, not timed), 64 blocks; the result is asserted bit-identical to
  a 1-worker run of ``n = 16``'s blocks (cheap) -- the reproducibility check.
  Target ``< 30`` s.  Full mode only (``--quick`` skips it with a note).
* ``net_step_vs_matmul`` -- training throughput of the deep SBN of :mod:`numerics.sbn_net` (batch 256,
  d = 64, two binary hidden layers of width 256, logistic noise): one forward pass, the loss gradient and
  the backward pass (issue 10's "samples per second of forward+backward"), divided by the time of the 11
  float64 matrix products that pass needs, best of 100 alternating rounds (``NET_ROUNDS_PER_REPEAT``; the
  first, allocating step untimed).  Target ``<= 2``.  The whole training step with Adam's update is
  timed in the same rounds and reported beside it (``train_step_vs_matmul`` in the details, no target).
  The pass is within a few per cent of the numpy operations its results need bit for bit (one random
  draw, one ``exp`` and one reciprocal per unit and weight, the BN passes), so the ratio moves mostly
  with the load.
* ``dask_2v1_speedup`` -- a Monte Carlo job of about 20 s (6 s with
  ``--quick``) on one Dask worker process divided by the same job on two
  (both clusters started beforehand and warmed up, not timed; runs
  alternate; chunks batched into Dask tasks as
  :func:`numerics.distributed.distributed_monte_carlo` does by default); the
  two results are asserted bit-identical.  Target ``>= 1.7`` (needs two otherwise idle cores).

Timings are wall clock, best of N, with the contenders of a ratio run in
alternation; on a shared machine they still move with the load.  Every result
records, asv-style, the machine (host, CPU model, cores), the load average
before and after, and the commit it measured, plus each key's run-to-run
*spread* (the relative half-range of its per-round values), so ``--compare
OLD.json`` can tell a change from noise: a key changed when ``|new/old - 1|``
exceeds twice the larger spread of the two runs (and 5 %).

Adding a benchmark: write a function ``section(quick, repeats, context) ->
(values, details, spreads)`` and add one entry to :data:`SECTIONS` and its
keys to :data:`TARGETS`; nothing else changes.
"""

from __future__ import annotations

import os

# BLAS threads must be pinned before numpy is imported (also inherited by Dask worker processes).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402

from stecheck.numerics import losses as L  # noqa: E402
from stecheck.numerics.distributed import distributed_monte_carlo, local_client  # noqa: E402
from stecheck.numerics.enumeration import exact_loss_and_gradient  # noqa: E402
from stecheck.numerics.estimators import EstimatorSampler  # noqa: E402
from stecheck.numerics.montecarlo import monte_carlo_mean  # noqa: E402
from stecheck.numerics.noise import get_noise  # noqa: E402
from stecheck.numerics.seeding import make_rng, task_seed  # noqa: E402
from stecheck.numerics import ste_dynamics as SD  # noqa: E402
from stecheck.numerics.seeding import chunk_seed  # noqa: E402

#: name -> (comparison, threshold, unit).  One entry per key; keep one key per line so additions merge.
TARGETS = {
    "mc_vs_floor": ("<=", 1.2, "x"),
    "mc_vs_loop": (">=", 50.0, "x"),
    "torch_vs_stecheck": (">=", 1.5, "x"),
    "enum_n20_seconds": ("<", 2.0, "s"),
    "enum_n26_seconds": ("<", 30.0, "s"),
    "dask_2v1_speedup": (">=", 1.7, "x"),
    "net_step_vs_matmul": ("<=", 2.0, "x"),
    "ste_step_vs_matmul": ("<=", 1.5, "x"),
    "ste_vs_loop": (">=", 30.0, "x"),
    "qste_quick_seconds": ("<", 60.0, "s"),
    "qste_full_core_seconds": ("<=", 7200.0, "s"),
}

N_LAYER = 64
MC_CHUNK = 2048  # 2048 x 64 float64 = 1 MiB per array: stays in cache (see README)


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Smallest wall-clock time of ``repeats`` calls of ``fn`` and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


#: Per-round times of the last :func:`paired_best` call, for the spreads (name -> list of seconds).
_ROUNDS: dict[str, list[float]] = {}


def paired_best(fns: dict[str, Callable[[], Any]], repeats: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Best-of-``repeats`` times of several functions, run in alternation.

    On a shared machine the load drifts during a run; alternating the
    contenders makes each ratio compare like with like.  The per-round times
    are kept in ``_ROUNDS`` for :func:`ratio_spread`.
    """
    best = {k: float("inf") for k in fns}
    out: dict[str, Any] = {}
    _ROUNDS.clear()
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            out[k] = fn()
            dt = time.perf_counter() - t
            _ROUNDS.setdefault(k, []).append(dt)
            best[k] = min(best[k], dt)
    return best, out


def spread(values: list[float]) -> float:
    """Relative half-range ``(max - min) / (2 median)`` of repeated measurements (0 for fewer than 2)."""
    if len(values) < 2:
        return 0.0
    med = float(np.median(values))
    return float((max(values) - min(values)) / (2 * med)) if med > 0 else 0.0


def ratio_spread(num: str, den: str) -> float:
    """Spread of the per-round ratios ``num / den`` of the last :func:`paired_best` call."""
    return spread([a / b for a, b in zip(_ROUNDS.get(num, []), _ROUNDS.get(den, []))])


def layer_problem(n: int, seed: int = 0):
    """A factorised layer: ``a ~ N(0, 1)``, quadratic loss with ``W ~ N(0, 1/n)``, ``y ~ N(0, 1)``."""
    rng = make_rng(task_seed(seed, f"benchmark/layer/n={n}"))
    W = rng.normal(0.0, 1.0 / np.sqrt(n), size=(n, n))
    y = rng.normal(size=n)
    a = rng.normal(size=n)
    return L.Quadratic(W, y), a


def numpy_floor(sampler: EstimatorSampler, n_samples: int, chunk: int, rng: np.random.Generator, *,
                blocked: bool = True) -> np.ndarray:
    """The unavoidable numpy work of the ST Monte Carlo, on the engine's chunks: variates, sign, two products.

    Per chunk of ``m`` samples: ``z ~ logistic(0, 1/2)`` (``m x n``), ``x = sign(a - z)`` as ``+-1``,
    ``r = x W^T - y`` and ``g = (r W) * 2 (2 F'(a))`` -- what any implementation of the estimator
    must compute.  ``blocked`` (the floor of ``mc_vs_floor``): on the same cache-sized row blocks as the
    engine (:func:`engine_blocks`), so that the floor gains from the cache what the engine gains and the
    ratio measures the engine's own work; ``blocked=False``: on whole chunks (the floor before the engine
    was blocked, reported in the details).  Returns the last block's gradients (so nothing is optimised
    away).
    """
    loss, a = sampler.loss, sampler.a
    W, y = loss.W, loss.y
    scale = 4.0 * get_noise("logistic").pdf(a)
    g = None
    for start in range(0, n_samples, chunk):
        m = min(chunk, n_samples - start)
        for lo, hi in engine_blocks(m, a.size) if blocked else ((0, m),):
            z = rng.logistic(0.0, 0.5, size=(hi - lo, a.size))
            x = (a >= z) * 2.0 - 1.0
            r = x @ W.T - y
            g = (r @ W) * scale
    return g


def engine_blocks(m: int, n: int) -> list[tuple[int, int]]:
    """The row blocks in which the engine evaluates a chunk of ``m`` states of ``n`` units (cache-sized)."""
    from stecheck.numerics.estimators import BLOCK_CELLS

    rows = max(1, BLOCK_CELLS // n)
    if m < 2 * rows:
        return [(0, m)]
    starts = list(range(0, m - rows + 1, rows))
    return list(zip(starts, starts[1:] + [m]))


def bench_mc(n_samples: int, repeats: int) -> dict[str, float]:
    loss, a = layer_problem(N_LAYER)
    sampler = EstimatorSampler("st", loss, a, "logistic")
    seed = task_seed(0, "benchmark/mc")
    rng = make_rng(seed)
    t, _ = paired_best({
        "mc": lambda: monte_carlo_mean(sampler, n_samples, seed, chunk_size=MC_CHUNK),
        "floor": lambda: numpy_floor(sampler, n_samples, MC_CHUNK, rng),
        "whole_chunks": lambda: numpy_floor(sampler, n_samples, MC_CHUNK, rng, blocked=False),
    }, repeats)
    return {"samples": n_samples, "chunk": MC_CHUNK, "block_rows": engine_blocks(MC_CHUNK, N_LAYER)[0][1],
            "mc_seconds": t["mc"], "floor_seconds": t["floor"], "mc_vs_floor": t["mc"] / t["floor"],
            "spread": ratio_spread("mc", "floor"), "floor_whole_chunks_seconds": t["whole_chunks"],
            "mc_vs_floor_whole_chunks": t["mc"] / t["whole_chunks"]}


def torch_st(W, y, a, n_samples: int, chunk: int, seed: int = 0):
    """The ST estimator as a PyTorch user writes it: ``x = hard + soft - soft.detach()``, autograd, float64.

    ``soft = 2 F(a) - 1`` (its derivative is Alg. 1's ``2 F'(a)``); per-sample gradients come from a
    batch of rows of ``a`` that each require grad; mean and variance of the chunk gradients are
    accumulated with Welford's update over chunks (Chan et al.).
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    Wt, yt, at = (torch.as_tensor(v, dtype=torch.float64) for v in (W, y, a))
    mean = torch.zeros_like(at)
    m2 = torch.zeros_like(at)
    count = 0
    for start in range(0, n_samples, chunk):
        m = min(chunk, n_samples - start)
        A = at.expand(m, -1).clone().requires_grad_(True)
        u = torch.rand(m, at.numel(), generator=gen, dtype=torch.float64).clamp_(1e-300, 1.0)
        z = 0.5 * torch.log(u / (1.0 - u))  # logistic(0, 1/2)
        hard = torch.where(A.detach() >= z, 1.0, -1.0)
        soft = 2.0 * torch.sigmoid(2.0 * A) - 1.0
        x = hard + soft - soft.detach()
        loss = ((x @ Wt.T - yt) ** 2).sum()
        (g,) = torch.autograd.grad(loss, A)
        bm, bv = g.mean(0), g.var(0, unbiased=False) * m
        delta = bm - mean
        total = count + m
        mean = mean + delta * (m / total)
        m2 = m2 + bv + delta ** 2 * (count * m / total)
        count = total
    return mean, m2 / (count - 1)


def bench_torch(n_samples: int, repeats: int) -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        return {"skipped": "torch is not installed (pip install torch); torch_vs_stecheck not measured"}
    torch.set_num_threads(1)
    loss, a = layer_problem(N_LAYER)
    sampler = EstimatorSampler("st", loss, a, "logistic")
    seed = task_seed(0, "benchmark/mc")
    t, out = paired_best({
        "torch": lambda: torch_st(loss.W, loss.y, a, n_samples, MC_CHUNK),
        "mc": lambda: monte_carlo_mean(sampler, n_samples, seed, chunk_size=MC_CHUNK),
    }, repeats)
    # The two estimate the same mean from independent streams: the peer must agree with the engine
    # within the engine's interval width (its half-width bounds each side's error at the engine's
    # confidence), or it is not the same estimator and the ratio means nothing.
    diff = np.abs(out["torch"][0].numpy() - out["mc"].mean)
    width = out["mc"].high - out["mc"].low
    agrees = bool(np.all(diff <= width))
    if not agrees:
        raise AssertionError(f"the torch peer's mean differs from stecheck's by up to {float(np.max(diff)):.3g} "
                             f"(interval widths {float(np.min(width)):.3g}..): not the same estimator")
    return {"samples": n_samples, "torch": torch.__version__, "torch_seconds": t["torch"], "mc_seconds": t["mc"],
            "torch_vs_stecheck": t["torch"] / t["mc"], "spread": ratio_spread("torch", "mc"),
            "max_mean_difference": float(np.max(diff)), "min_interval_width": float(np.min(width)),
            "same_estimator": agrees}


def python_loop_st(loss: L.Quadratic, a: np.ndarray, n_samples: int, seed: int = 0):
    """The ST estimator written sample by sample and coordinate by coordinate in plain Python.

    ``z_i = logit(u_i)/2`` (logistic noise of scale 1/2), ``x_i = sign(a_i - z_i)``,
    ``g_i = 2 F'(a_i) * 2 sum_k W_ki (W x - y)_k``; Welford mean/variance.
    """
    import math
    import random

    gen = random.Random(seed)
    W = loss.W.tolist()
    y = loss.y.tolist()
    n, m = len(W[0]), len(W)
    scale = (2.0 * get_noise("logistic").pdf(a)).tolist()
    a_list = a.tolist()
    mean = [0.0] * n
    m2 = [0.0] * n
    for k in range(n_samples):
        x = []
        for i in range(n):
            u = gen.random()
            while u == 0.0:
                u = gen.random()
            z = 0.5 * math.log(u / (1.0 - u))
            x.append(1.0 if a_list[i] >= z else -1.0)
        r = [sum(W[j][i] * x[i] for i in range(n)) - y[j] for j in range(m)]
        for i in range(n):
            g = scale[i] * 2.0 * sum(W[j][i] * r[j] for j in range(m))
            delta = g - mean[i]
            mean[i] += delta / (k + 1)
            m2[i] += delta * (g - mean[i])
    return mean, [v / (n_samples - 1) for v in m2]


def numpy_loop_st(loss: L.Quadratic, a: np.ndarray, n_samples: int, rng: np.random.Generator):
    """The same estimator one sample at a time with numpy vector operations (a stronger baseline)."""
    W, y = loss.W, loss.y
    scale = 2.0 * get_noise("logistic").pdf(a)
    mean = np.zeros(a.size)
    m2 = np.zeros(a.size)
    for k in range(n_samples):
        z = rng.logistic(0.0, 0.5, size=a.size)
        x = np.where(a >= z, 1.0, -1.0)
        g = scale * (2.0 * ((W @ x - y) @ W))
        delta = g - mean
        mean += delta / (k + 1)
        m2 += delta * (g - mean)
    return mean, m2 / (n_samples - 1)


def bench_loop(n_loop: int, mc_per_sample: float, repeats: int) -> dict[str, float]:
    loss, a = layer_problem(N_LAYER)
    rng = make_rng(task_seed(0, "benchmark/loop"))
    t, _ = paired_best({"python": lambda: python_loop_st(loss, a, n_loop),
                        "numpy": lambda: numpy_loop_st(loss, a, 10 * n_loop, rng)}, repeats)
    per_py, per_np = t["python"] / n_loop, t["numpy"] / (10 * n_loop)
    return {"python_loop_samples": n_loop, "python_loop_seconds_per_sample": per_py,
            "numpy_loop_seconds_per_sample": per_np, "mc_seconds_per_sample": mc_per_sample,
            "mc_vs_loop": per_py / mc_per_sample, "mc_vs_numpy_loop": per_np / mc_per_sample,
            "spread": spread(_ROUNDS["python"])}  # the engine's own spread is in mc_vs_floor's


def bench_enum(repeats: int) -> dict[str, float]:
    loss, a = layer_problem(20)
    _, _ = paired_best({"enum": lambda: exact_loss_and_gradient(loss, a, "logistic")}, repeats)
    times = list(_ROUNDS["enum"])
    return {"enum_n20_seconds": min(times), "spread": spread(times)}


def bench_enum_blocks(n: int, repeats: int) -> dict[str, Any]:
    from stecheck.numerics.enumeration_blocks import exact_loss_and_gradient_blocks

    loss, a = layer_problem(n)
    small_loss, small_a = layer_problem(16)
    with local_client(2) as two, local_client(1) as one:
        check = [exact_loss_and_gradient_blocks(small_loss, small_a, "logistic", chunk_bits=10, client=c)
                 for c in (one, two)]
        identical = (check[0][0] == check[1][0]) and np.array_equal(check[0][1].value, check[1][1].value)
        if not identical:
            raise AssertionError("block enumeration differs between 1 and 2 workers; reproducibility is broken")
        t, out = best_of(lambda: exact_loss_and_gradient_blocks(loss, a, "logistic", client=two), repeats)
    return {"n": n, "enum_n26_seconds": t, "identical_1_vs_2_workers": identical,
            "value": out[0].value, "error_bound": out[0].error_bound}


def bench_dask(target_seconds: float, repeats: int) -> dict[str, Any]:
    loss, a = layer_problem(N_LAYER)
    sampler = EstimatorSampler("st", loss, a, "logistic")
    chunk = 4096
    seed = task_seed(0, "benchmark/dask")
    with local_client(1) as one, local_client(2) as two:
        for client in (one, two):  # warm up: every worker imports the engine and runs a few chunks
            client.run(lambda: __import__("stecheck.numerics.estimators") and None)
            distributed_monte_carlo(sampler, 8 * chunk, seed, chunk_size=chunk, client=client, chunks_per_task=1)
        # calibrate on the 1-worker cluster itself: seconds per chunk as the job will see them
        t_probe, _ = best_of(lambda: distributed_monte_carlo(sampler, 16 * chunk, seed, chunk_size=chunk,
                                                             client=one), 1)
        n_chunks = max(8, 2 * round(target_seconds / (t_probe / 16) / 2))
        n_samples = n_chunks * chunk
        times, results = paired_best({
            workers: (lambda c=client: distributed_monte_carlo(sampler, n_samples, seed, chunk_size=chunk, client=c))
            for workers, client in ((1, one), (2, two))
        }, repeats)
    r1, r2 = results[1], results[2]
    identical = all(np.array_equal(getattr(r1, f), getattr(r2, f)) for f in ("mean", "std_error", "low", "high"))
    if not identical:
        raise AssertionError("1-worker and 2-worker Dask runs differ; reproducibility is broken")
    return {"samples": n_samples, "chunks": n_chunks, "seconds_1_worker": times[1], "seconds_2_workers": times[2],
            "identical": identical, "dask_2v1_speedup": times[1] / times[2], "spread": ratio_spread(1, 2)}


#: Alternating rounds of the deep-SBN step and its products per ``repeats`` (a round takes about 15 ms: 100 rounds in
#: full mode span 1.5 s, so a load burst on the shared machine does not decide the best of either side).
NET_ROUNDS_PER_REPEAT = 20


def bench_net(repeats: int, batch: int = 256, h: int = 256) -> dict[str, Any]:
    """Training throughput of the deep SBN of numerics.sbn_net (d = 64, two binary hidden layers of width h,
    logistic noise): forward + loss gradient + backward (issue 10: "samples per second of forward+backward")
    against the 11 float64 matrix products that pass needs (forward, weight gradient and input gradient per
    layer; the input X needs no gradient).  The whole training step with Adam's update is timed in the same
    rounds and reported next to it (``train_step_vs_matmul``)."""
    from stecheck.numerics.sbn_net import Adam, DeepSBN, softmax_cross_entropy

    rng = make_rng(task_seed(0, "benchmark/net"))
    net = DeepSBN(rng, "logistic", d=64, h=h, k=10, depth=2)
    opt = Adam(net.params, lr=1e-3)
    X, y = rng.random((batch, 64)), rng.integers(0, 10, batch)

    def forward_backward():
        _, g = softmax_cross_entropy(net.forward(X, rng, "train"), y)
        return net.backward(g)

    def step():
        opt.step(forward_backward())

    mats = [(rng.random((batch, i)), rng.random((o, i)), i != 64) for i, o in ((64, h), (h, h), (h, h), (h, 10))]

    def products():
        for A, W, input_gradient in mats:
            out = A @ W.T          # forward
            _ = out.T @ A          # weight gradient
            if input_gradient:     # not for the first layer: X needs no gradient
                _ = out @ W

    step()  # the work arrays of the network and of Adam are allocated by the first step: not timed
    times, _ = paired_best({"forward_backward": forward_backward, "step": step, "matmul": products},
                           NET_ROUNDS_PER_REPEAT * repeats)
    return {"batch": batch, "width": h, "rounds": NET_ROUNDS_PER_REPEAT * repeats, "products": 11,
            "forward_backward_seconds": times["forward_backward"], "step_seconds": times["step"],
            "matmul_seconds": times["matmul"], "samples_per_second": batch / times["forward_backward"],
            "net_step_vs_matmul": times["forward_backward"] / times["matmul"],
            "train_step_vs_matmul": times["step"] / times["matmul"],
            "spread": ratio_spread("forward_backward", "matmul")}


# ---------------------------------------------------------------------------- sections
# A section measures one or more keys: section(quick, repeats, context) -> (values, details, spreads).
# ``context`` carries results earlier sections share (the engine's time per sample).


def section_mc(quick: bool, repeats: int, context: dict[str, Any]):
    mc = bench_mc(100_000 if quick else 400_000, repeats)
    context["mc_seconds_per_sample"] = mc["mc_seconds"] / mc["samples"]
    return {"mc_vs_floor": mc["mc_vs_floor"]}, {"mc": mc}, {"mc_vs_floor": mc["spread"]}


def section_loop(quick: bool, repeats: int, context: dict[str, Any]):
    loop = bench_loop(300 if quick else 1_000, context["mc_seconds_per_sample"], repeats)
    return {"mc_vs_loop": loop["mc_vs_loop"]}, {"loop": loop}, {"mc_vs_loop": loop["spread"]}


def section_torch(quick: bool, repeats: int, context: dict[str, Any]):
    peer = bench_torch(50_000 if quick else 200_000, repeats)
    if "skipped" in peer:
        return {}, {"torch": peer}, {}
    return {"torch_vs_stecheck": peer["torch_vs_stecheck"]}, {"torch": peer}, {"torch_vs_stecheck": peer["spread"]}


def section_enum(quick: bool, repeats: int, context: dict[str, Any]):
    enum = bench_enum(repeats)
    return {"enum_n20_seconds": enum["enum_n20_seconds"]}, {"enum": enum}, {"enum_n20_seconds": enum["spread"]}


def section_enum26(quick: bool, repeats: int, context: dict[str, Any]):
    if quick:
        return {}, {"enum26": {"skipped": "enum_n26_seconds runs in full mode only (drop --quick)"}}, {}
    enum = bench_enum_blocks(26, 1)
    return {"enum_n26_seconds": enum["enum_n26_seconds"]}, {"enum26": enum}, {}


def section_net(quick: bool, repeats: int, context: dict[str, Any]):
    net = bench_net(repeats)
    return {"net_step_vs_matmul": net["net_step_vs_matmul"]}, {"net": net}, {"net_step_vs_matmul": net["spread"]}


# ---------------------------------------------------------------------------- QSTE claims (issue 9)

#: The four finite-sample QSTE claims timed by ``qste_quick_seconds``.
QSTE_CLAIMS = ("QSTE-ERG", "QSTE-NONERG", "QSTE-NOISE", "QSTE-NONGAUSS")
#: Where the committed full-tier reports of the QSTE claims live (``--qste-full-report``): every
#: ``report.json`` below it (one run of all four claims, or one per claim group).
QSTE_FULL_REPORTS = Path(__file__).resolve().parents[1] / "reports" / "full-tier" / "qste"


def qste_core_seconds(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Core-seconds of the QSTE claims in full-tier ``report.json`` files (schema 2).

    A method that simulates records ``evidence.compute.per_cell``: per cell (a content hash of model, seed,
    horizon and start) the summed seconds of its block tasks, ``{"wall": W, "cpu": C}`` -- ``cpu`` is the
    CPU time of the thread that ran the block (BLAS pinned to it), i.e. core-seconds that other load on the
    machine does not inflate; a cell two methods share is counted once.  A method without ``compute`` ran as
    one task: its wall ``seconds`` count (an upper bound of its core time).  The coordinating threads of the
    simulating methods only wait and are not counted."""
    cells: dict[str, dict[str, float]] = {}
    other, methods, claims = 0.0, 0, []
    for report in reports:
        for claim in report["claims"]:
            if claim["id"] not in QSTE_CLAIMS:
                continue
            claims.append(claim["id"])
            for m in claim["methods"]:
                methods += 1
                compute = m.get("evidence", {}).get("compute")
                if isinstance(compute, dict) and isinstance(compute.get("per_cell"), dict):
                    for digest, c in compute["per_cell"].items():
                        sec = c["seconds"] if isinstance(c["seconds"], dict) else {"wall": c["seconds"],
                                                                                   "cpu": c["seconds"]}
                        cells[digest] = {k: float(v) for k, v in sec.items()}
                else:
                    other += float(m["seconds"])
    cpu = sum(c["cpu"] for c in cells.values())
    wall = sum(c["wall"] for c in cells.values())
    return {"core_seconds": cpu + other, "simulation_cpu_seconds": cpu, "simulation_block_wall_seconds": wall,
            "other_methods_wall_seconds": other, "distinct_cells": len(cells), "methods": methods,
            "claims": claims}


class ReportArgumentError(ValueError):
    """A ``--qste-full-report`` argument that names no usable full-tier report (one line, for people)."""


def _full_tier_report(path: Path, raw: bytes | None = None) -> dict[str, Any]:
    """The parsed full-tier ``report.json`` at ``path``; :class:`ReportArgumentError` (one line) otherwise."""
    try:
        report = json.loads(path.read_bytes() if raw is None else raw)
    except OSError as exc:
        raise ReportArgumentError(f"--qste-full-report: cannot read {path} ({exc.strerror or exc}); expected a "
                                  "full-tier report.json file or a directory holding some") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ReportArgumentError(f"--qste-full-report: {path} is not JSON; expected a full-tier report.json "
                                  "written by `stecheck run --tier full`") from None
    tier = report.get("run", {}).get("tier") if isinstance(report, dict) and isinstance(report.get("run"),
                                                                                       dict) else None
    if tier != "full":
        raise ReportArgumentError(f"--qste-full-report: {path} is a {tier!r}-tier report, not a stecheck "
                                  "full-tier report.json; run `stecheck run --tier full` and pass its report.json")
    return report


def resolve_full_reports(given: list[str] | None) -> list[Path]:
    """The report files ``--qste-full-report`` names, checked before anything is measured.

    Each argument is a ``report.json`` file or a directory, which stands for every ``report.json`` below it
    (sorted).  Every file must be a readable full-tier report (parsed here, so a bad argument fails in a
    second, not at the end of a benchmark run); :class:`ReportArgumentError` with one line otherwise.
    """
    paths: list[Path] = []
    for arg in given or []:
        path = Path(arg)
        if path.is_dir():
            found = sorted(path.glob("**/report.json"))
            if not found:
                raise ReportArgumentError(f"--qste-full-report: directory {path} holds no report.json; pass a "
                                          "full-tier report.json or a directory with some below it")
            paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise ReportArgumentError(f"--qste-full-report: {path} does not exist; pass a full-tier "
                                      "report.json file or a directory holding some")
    for path in paths:
        _full_tier_report(path)
    return paths


def section_qste(quick: bool, repeats: int, context: dict[str, Any]):
    """``qste_quick_seconds``: wall seconds of the four QSTE claims in the quick tier on the default cluster (a
    local Dask cluster of one single-threaded worker per core; cluster start included), one run.
    ``qste_full_core_seconds``: the full tier takes most of an hour, too long for a benchmark run, so the value is
    read from full-tier reports (``--qste-full-report FILE|DIR ...``, a directory standing for every
    report.json below it, checked by :func:`resolve_full_reports` before anything runs; default: every
    report.json under the committed reports/full-tier/qste/), recording each report's file hash, run date, wall
    seconds, cluster and the commit it ran at (``provenance.json`` beside it); skipped with a note when there is
    none."""
    import hashlib

    from stecheck.proofs_check.registry import default_registry
    from stecheck.proofs_check.runner import default_workers, run_claims

    claims = default_registry().select(list(QSTE_CLAIMS))
    workers = default_workers()
    t0 = time.perf_counter()
    run = run_claims(claims, seed=0, tier="quick", workers=workers)
    wall = time.perf_counter() - t0
    values = {"qste_quick_seconds": wall}
    details: dict[str, Any] = {"qste_quick": {
        "wall_seconds": wall, "run_seconds": run.seconds, "workers": workers, "seed": 0,
        "verdicts": {c.claim_id: c.verdict.value for c in run.claims}}}
    given = context.get("qste_full_report")
    paths = resolve_full_reports(given) if given else sorted(QSTE_FULL_REPORTS.glob("**/report.json"))
    if not paths:
        details["qste_full"] = {"skipped": f"qste_full_core_seconds: no full-tier report under {QSTE_FULL_REPORTS} "
                                          "(run the full tier and pass --qste-full-report FILE)"}
        return values, details, {}
    reports, sources = [], []
    for path in paths:
        raw = path.read_bytes()
        report = _full_tier_report(path, raw)
        prov = path.parent / "provenance.json"
        reports.append(report)
        sources.append({"report": str(path), "report_sha256": hashlib.sha256(raw).hexdigest(),
                        "started_at": report["run"].get("started_at"), "wall_seconds": report["run"].get("seconds"),
                        "cluster": report["run"].get("environment", {}).get("cluster"),
                        "provenance": json.loads(prov.read_text()) if prov.is_file() else None})
    core = qste_core_seconds(reports)
    values["qste_full_core_seconds"] = core["core_seconds"]
    details["qste_full"] = {**core, "sources": sources,
                            "note": "read from the reports, not measured in this benchmark run"}
    return values, details, {}


def section_ste(quick: bool, repeats: int, context: dict[str, Any]):
    ste = bench_ste(quick, repeats)
    return {k: ste[k] for k in ("ste_step_vs_matmul", "ste_vs_loop")}, {"ste": ste}, {}


def section_dask(quick: bool, repeats: int, context: dict[str, Any]):
    dask = bench_dask(6.0 if quick else 20.0, 2 if quick else 3)
    return {"dask_2v1_speedup": dask["dask_2v1_speedup"]}, {"dask": dask}, {"dask_2v1_speedup": dask["spread"]}


#: (name, section) in the order they run; ``--only NAME`` selects some.  One entry per line.
SECTIONS = [
    ("mc", section_mc),
    ("loop", section_loop),
    ("torch", section_torch),
    ("enum", section_enum),
    ("enum26", section_enum26),
    ("dask", section_dask),
    ("net", section_net),
    ("ste", section_ste),
    ("qste", section_qste),
]


def bench_ste(quick: bool, repeats: int) -> dict[str, float]:
    """STE-dynamics engine (numerics.ste_dynamics.simulate_block).

    ``ste_step_vs_matmul``: one step for a block of trials (label noise 0.1, so no trial is absorbed and every
    step is computed; records included) divided by the two unavoidable batched products ``X s`` and ``c^T X`` for
    the same block in numpy alone.  ``ste_vs_loop``: the plain per-trial loop over steps and samples
    (``reference_trial``) divided by the engine, time per trial-step on a small cell (n = 32, m = 256)."""
    n, m, B, S = (128, 2048, 16, 20) if quick else (128, 4096, 32, 40)
    model = SD.STEModel(n=n, m=m, noise=0.1)
    seed = task_seed(0, "benchmark/ste")
    data = [SD.generate_trial(model, chunk_seed(seed, i)) for i in range(B)]
    eta = SD.learning_rates(model.schedule, model.lr, S)
    X, Y, S_star, S0 = (np.stack([d[i] for d in data]) for i in range(4))
    W = S0[:, :, None]
    C = make_rng(seed).normal(size=(B, 1, m))

    def products():
        for _ in range(S):
            np.matmul(X, W)
            np.matmul(C, X)

    times, _ = paired_best({"engine": lambda: SD.run_block(model, X, Y, S_star, S0, S, eta), "matmul": products},
                           repeats)
    small = SD.STEModel(n=32, m=256, noise=0.1)
    sdata = [SD.generate_trial(small, chunk_seed(seed, i)) for i in range(32)]
    s_steps = 40
    eta_s = SD.learning_rates(small.schedule, small.lr, s_steps)
    t_engine, _ = best_of(lambda: SD.simulate_block(small, sdata, s_steps, eta_s), repeats)
    t_loop, _ = best_of(lambda: SD.reference_trial(small, sdata[0], s_steps), repeats)
    per_engine, per_loop = t_engine / (32 * s_steps), t_loop / s_steps
    return {"block": {"n": n, "m": m, "trials": B, "steps": S}, "engine_seconds": times["engine"],
            "matmul_seconds": times["matmul"], "ste_step_vs_matmul": times["engine"] / times["matmul"],
            "loop_seconds_per_trial_step": per_loop, "engine_seconds_per_trial_step": per_engine,
            "ste_vs_loop": per_loop / per_engine}


def passed(name: str, value: float) -> bool:
    op, threshold, _ = TARGETS[name]
    return {"<=": value <= threshold, ">=": value >= threshold, "<": value < threshold}[op]


def _git(*args: str) -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).resolve().parent, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """asv-style machine and code identity: host, CPU, cores, OS, Python, numpy, commit."""
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "host": platform.node(), "cpu": _cpu_model(), "machine": platform.machine(),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "os": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
        "commit": commit, "commit_dirty": None if dirty is None else bool(dirty),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }


def run(quick: bool, only: list[str] | None = None, qste_full_report: str | None = None) -> dict[str, Any]:
    repeats = 3 if quick else 5
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    values: dict[str, float] = {}
    details: dict[str, Any] = {}
    spreads: dict[str, float] = {}
    context: dict[str, Any] = {"qste_full_report": qste_full_report}
    names = [n for n, _ in SECTIONS]
    unknown = sorted(set(only or []) - set(names))
    if unknown:
        raise SystemExit(f"run.py: unknown section(s) {', '.join(unknown)}; valid: {', '.join(names)}")
    for name, section in SECTIONS:
        if only and name not in only and not (name == "mc" and "loop" in only):  # loop needs mc's time
            continue
        v, d, sp = section(quick, repeats, context)
        values.update(v)
        details.update(d)
        spreads.update(sp)
    skipped = {k: d["skipped"] for k, d in details.items() if isinstance(d, dict) and "skipped" in d}
    return {
        **values,
        "passed": {k: passed(k, v) for k, v in values.items()},
        "targets": {k: f"{op} {th:g}{unit}" for k, (op, th, unit) in TARGETS.items()},
        "spread": spreads,
        "skipped": skipped,
        "details": details,
        "mode": "quick" if quick else "full",
        "started_at": started,
        "environment": {
            **machine(),
            "loadavg_before": list(load_before), "loadavg_after": list(os.getloadavg()),
        },
    }


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per key measured in both runs: change, the larger spread, and whether it exceeds the noise.

    A key *changed* when ``|new / old - 1| > max(2 * spread_old, 2 * spread_new, 0.05)``; ``better``
    says whether the change moves towards the target.
    """
    rows = []
    for key, (op, _, _) in TARGETS.items():
        if not isinstance(old.get(key), (int, float)) or not isinstance(new.get(key), (int, float)):
            continue
        o, n = float(old[key]), float(new[key])
        change = n / o - 1 if o else float("inf")
        noise = max(2 * old.get("spread", {}).get(key, 0.0), 2 * new.get("spread", {}).get(key, 0.0), 0.05)
        rows.append({"key": key, "old": o, "new": n, "change": change, "noise": noise,
                     "changed": abs(change) > noise, "better": (change < 0) if op in ("<", "<=") else (change > 0)})
    return rows


def print_compare(rows: list[dict[str, Any]], old: dict[str, Any], new: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    def ident(r):
        env = r.get("environment", {})
        return f"{str(env.get('commit') or '?')[:10]} on {env.get('host', '?')}, load {env.get('loadavg_before', ['?'])[0]}"

    table = Table(title=f"change: {ident(old)} -> {ident(new)}")
    for col in ("measure", "old", "new", "change", "noise", "verdict"):
        table.add_column(col)
    for r in rows:
        verdict = ("[green]better[/]" if r["better"] else "[red]worse[/]") if r["changed"] else "within noise"
        table.add_row(r["key"], f"{r['old']:.3g}", f"{r['new']:.3g}", f"{r['change']:+.1%}", f"+-{r['noise']:.0%}",
                      verdict)
    Console().print(table)


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"stecheck benchmarks ({result['mode']})")
    for col in ("measure", "value", "spread", "target", "status"):
        table.add_column(col)
    for name, (_, _, unit) in TARGETS.items():
        if name not in result:
            reason = next((v for v in result.get("skipped", {}).values() if name in v), "not run")
            table.add_row(name, "-", "-", result["targets"][name], f"skipped ({reason})")
            continue
        ok = result["passed"][name]
        sp = result["spread"].get(name)
        table.add_row(name, f"{result[name]:.3g}{unit}", "-" if sp is None else f"+-{sp:.0%}",
                      result["targets"][name], "[green]pass[/]" if ok else "[red]MISS[/]")
    console = Console()
    console.print(table)
    env = result["environment"]
    console.print(f"{env['host']} ({env['cpu']}, {env['cpus']} cpus), commit {str(env['commit'])[:10]}"
                  f"{' (dirty)' if env['commit_dirty'] else ''}, load average {env['loadavg_before'][0]:.1f} -> "
                  f"{env['loadavg_after'][0]:.1f}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks of the stecheck numerical engine, with targets.")
    parser.add_argument("--quick", action="store_true", help="smaller problems (about a minute in all)")
    parser.add_argument("--json", metavar="FILE", help="write the measurements as JSON to FILE")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--compare", metavar="OLD.json", help="show the changes from an earlier --json result that "
                                                                  "exceed the run-to-run spread")
    parser.add_argument("--only", nargs="+", metavar="SECTION", help=f"run only these sections "
                                                                     f"({', '.join(n for n, _ in SECTIONS)})")
    parser.add_argument("--qste-full-report", nargs="+", metavar="REPORT.json|DIR", help="full-tier "
                        "report.json file(s), or directories (every report.json below), qste_full_core_seconds is "
                        "read from (default: every report.json under reports/full-tier/qste/); checked before "
                        "anything is measured")
    args = parser.parse_args(argv)
    old = None
    if args.compare:
        try:
            old = json.loads(Path(args.compare).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            print(f"run.py: cannot read --compare file {args.compare}: {exc}", file=sys.stderr)
            return 2
    if args.qste_full_report:  # checked before anything is measured
        try:
            resolve_full_reports(args.qste_full_report)
        except ReportArgumentError as exc:
            print(f"run.py: {exc}", file=sys.stderr)
            return 2
    result = run(args.quick, args.only, args.qste_full_report)
    print_table(result)
    if old is not None:
        print_compare(compare(old, result), old, result)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 1 if args.strict and not all(result["passed"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
