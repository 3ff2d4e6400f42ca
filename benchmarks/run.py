"""Performance benchmarks of the numerical engine, with targets.

    python benchmarks/run.py [--quick] [--json FILE] [--strict]

Measures, in one run (best-of-N wall-clock timings, BLAS pinned to one thread):

* ``mc_vs_rng``        -- Monte Carlo of the ST estimator (Alg. 1) on a
  factorised layer, ``n = 64``, quadratic loss ``||Wx - y||^2`` with
  ``W (64, 64)``, through :func:`numerics.montecarlo.monte_carlo_mean`
  (sampling, estimator, validation, chunk moments and merge), divided by the
  time numpy needs to draw the same number ``N x 64`` of logistic variates.
  Target ``<= 3``.
* ``mc_vs_loop``       -- the same estimator written as a straightforward
  per-sample Python loop (plain Python floats and lists, Welford accumulation:
  what one writes without numpy), time per sample, divided by the engine's
  time per sample.  Target ``>= 50``.  ``details.loop.mc_vs_numpy_loop``
  also reports the stronger baseline of a per-sample loop of numpy vector
  operations (no target).
* ``enum_n20_seconds`` -- ``E[L]`` and the exact gradient (eqs. (4)-(6)) at
  ``n = 20`` by :func:`numerics.enumeration.exact_loss_and_gradient`, quadratic
  loss, one core.  Target ``< 2`` s.
* ``dask_2v1_speedup`` -- a Monte Carlo job of about 20 s (6 s with
  ``--quick``) on one Dask worker process divided by the same job on two
  (both clusters started beforehand and warmed up, not timed; runs
  alternate); the two results are asserted bit-identical.  Target ``>= 1.7`` (needs two otherwise idle cores).

Timings are wall clock, best of N, with the contenders of a ratio run in
alternation; on a shared machine they still move with the load: the JSON
records the load average before and after, so a missed target on a busy
machine can be told apart from a slow engine.
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

#: name -> (comparison, threshold, unit)
TARGETS = {
    "mc_vs_rng": ("<=", 3.0, "x"),
    "mc_vs_loop": (">=", 50.0, "x"),
    "enum_n20_seconds": ("<", 2.0, "s"),
    "dask_2v1_speedup": (">=", 1.7, "x"),
    "ste_step_vs_matmul": ("<=", 1.5, "x"),
    "ste_vs_loop": (">=", 30.0, "x"),
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


def paired_best(fns: dict[str, Callable[[], Any]], repeats: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Best-of-``repeats`` times of several functions, run in alternation.

    On a shared machine the load drifts during a run; alternating the
    contenders makes each ratio compare like with like.
    """
    best = {k: float("inf") for k in fns}
    out: dict[str, Any] = {}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            out[k] = fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best, out


def layer_problem(n: int, seed: int = 0):
    """A factorised layer: ``a ~ N(0, 1)``, quadratic loss with ``W ~ N(0, 1/n)``, ``y ~ N(0, 1)``."""
    rng = make_rng(task_seed(seed, f"benchmark/layer/n={n}"))
    W = rng.normal(0.0, 1.0 / np.sqrt(n), size=(n, n))
    y = rng.normal(size=n)
    a = rng.normal(size=n)
    return L.Quadratic(W, y), a


def bench_mc(n_samples: int, repeats: int) -> dict[str, float]:
    loss, a = layer_problem(N_LAYER)
    sampler = EstimatorSampler("st", loss, a, "logistic")
    seed = task_seed(0, "benchmark/mc")
    rng = make_rng(seed)
    t, _ = paired_best({
        "mc": lambda: monte_carlo_mean(sampler, n_samples, seed, chunk_size=MC_CHUNK),
        "rng": lambda: rng.logistic(0.0, 0.5, size=(n_samples, N_LAYER)),
    }, repeats)
    return {"samples": n_samples, "mc_seconds": t["mc"], "rng_seconds": t["rng"], "mc_vs_rng": t["mc"] / t["rng"]}


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
    t_py, _ = best_of(lambda: python_loop_st(loss, a, n_loop), repeats)
    t_np, _ = best_of(lambda: numpy_loop_st(loss, a, 10 * n_loop, rng), repeats)
    per_py, per_np = t_py / n_loop, t_np / (10 * n_loop)
    return {"python_loop_samples": n_loop, "python_loop_seconds_per_sample": per_py,
            "numpy_loop_seconds_per_sample": per_np, "mc_seconds_per_sample": mc_per_sample,
            "mc_vs_loop": per_py / mc_per_sample, "mc_vs_numpy_loop": per_np / mc_per_sample}


def bench_enum(repeats: int) -> dict[str, float]:
    loss, a = layer_problem(20)
    t, _ = best_of(lambda: exact_loss_and_gradient(loss, a, "logistic"), repeats)
    return {"enum_n20_seconds": t}


def bench_dask(target_seconds: float, repeats: int) -> dict[str, Any]:
    loss, a = layer_problem(N_LAYER)
    sampler = EstimatorSampler("st", loss, a, "logistic")
    chunk = 4096
    seed = task_seed(0, "benchmark/dask")
    with local_client(1) as one, local_client(2) as two:
        for client in (one, two):  # warm up: workers import numpy and unpickle the task
            distributed_monte_carlo(sampler, 4 * chunk, seed, chunk_size=chunk, client=client)
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
            "identical": identical, "dask_2v1_speedup": times[1] / times[2]}


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


def run(quick: bool) -> dict[str, Any]:
    repeats = 3 if quick else 5
    load_before = os.getloadavg()
    mc = bench_mc(100_000 if quick else 400_000, repeats)
    loop = bench_loop(300 if quick else 1_000, mc["mc_seconds"] / mc["samples"], repeats)
    enum = bench_enum(repeats)
    dask = bench_dask(6.0 if quick else 20.0, 2 if quick else 3)
    ste = bench_ste(quick, repeats)
    ratios = {"mc_vs_rng": mc["mc_vs_rng"], "mc_vs_loop": loop["mc_vs_loop"],
              "enum_n20_seconds": enum["enum_n20_seconds"], "dask_2v1_speedup": dask["dask_2v1_speedup"]}
    ratios.update({k: ste[k] for k in ("ste_step_vs_matmul", "ste_vs_loop")})
    return {
        **ratios,
        "passed": {k: passed(k, v) for k, v in ratios.items()},
        "targets": {k: f"{op} {th:g}{unit}" for k, (op, th, unit) in TARGETS.items()},
        "details": {"mc": mc, "loop": loop, "enum": enum, "dask": dask, "ste": ste},
        "mode": "quick" if quick else "full",
        "environment": {
            "python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "loadavg_before": list(load_before), "loadavg_after": list(os.getloadavg()),
            "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
        },
    }


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"stecheck benchmarks ({result['mode']})")
    for col in ("measure", "value", "target", "status"):
        table.add_column(col)
    for name, (_, _, unit) in TARGETS.items():
        ok = result["passed"][name]
        table.add_row(name, f"{result[name]:.3g}{unit}", result["targets"][name],
                      "[green]pass[/]" if ok else "[red]MISS[/]")
    console = Console()
    console.print(table)
    d = result["details"]
    console.print(
        f"MC: {d['mc']['samples']} samples in {d['mc']['mc_seconds']:.3f} s, rng {d['mc']['rng_seconds']:.3f} s; "
        f"Python loop {d['loop']['python_loop_seconds_per_sample'] * 1e6:.0f} us/sample, numpy loop "
        f"{d['loop']['numpy_loop_seconds_per_sample'] * 1e6:.1f} us/sample (x{d['loop']['mc_vs_numpy_loop']:.1f}), "
        f"{d['loop']['mc_seconds_per_sample'] * 1e6:.2f} us (engine); "
        f"Dask {d['dask']['chunks']} chunks: {d['dask']['seconds_1_worker']:.2f} s (1) / "
        f"{d['dask']['seconds_2_workers']:.2f} s (2), identical={d['dask']['identical']}; "
        f"load average {result['environment']['loadavg_before'][0]:.1f} -> "
        f"{result['environment']['loadavg_after'][0]:.1f} on {result['environment']['cpus']} cpus",
        highlight=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks of the stecheck numerical engine, with targets.")
    parser.add_argument("--quick", action="store_true", help="smaller problems (about a minute in all)")
    parser.add_argument("--json", metavar="FILE", help="write the measurements as JSON to FILE")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    result = run(args.quick)
    print_table(result)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 1 if args.strict and not all(result["passed"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
