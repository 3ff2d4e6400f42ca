"""QSTE: the finite-sample theorems on the STE-gradient dynamics (ERG, NONERG, NOISE, NONGAUSS).

Source: seeds 000/001, summaries of Jeong, Xin & Yin, "Beyond Discreteness:
Finite-Sample Analysis of Straight-Through Estimator for Quantization"
(arXiv 2505.18113).  The summaries print no theorem, so the statements are
reconstructed and every modelling choice is written into ``statement_checked``;
the model and the method are those of :mod:`stecheck.numerics.ste_dynamics`
(tie rule ``sign(0) = +1``, latent ``u_0 = w_0``, full-batch STE gradient with
the ReLU derivative, admissible schedule ``eta_t = c/sqrt(t+1)``, ``c = 1``).

The statements are about the *distribution of outcomes of an algorithm over
random data*; a finite experiment can only establish them at the measured
sizes, so every Monte Carlo method here is VERIFIED at best, with its scope
(the sizes, trials and horizon) stated; an ``O(.)`` bound is an upper bound,
and the measured exponent of the threshold ``m*(n)`` is reported separately as
a finding about how tight the bound is (category *imprecision* when loose).

Every check is a module-level ``check_*(ctx, *, variant=None, **overrides)``:
``variant`` changes the model of every run (the mutant tests pass a zero
surrogate gradient, no projection, zero label noise, normalization without
centering), ``overrides`` the per-claim parameters (sizes, trials, horizon).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import itertools
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy import stats

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.numerics import ste_stats as st
from stecheck.numerics.seeding import chunk_seed, make_rng, task_seed
from stecheck.numerics.ste_dynamics import (INPUTS, NORMALIZATIONS, CellJob, STEModel, cell_seed, generate_trial, simulate_cells,
                                             record_invariants, replay_audit, ste_gradient)

from ..claim import Claim, Figure, Kind, Method, MethodContext, Outcome, Parameter, Reading, Series
from ..verdict import Category, Finding, Scope, Verdict
from ._common import QsteSource

__all__ = ["CLAIMS", "PARAMETERS"]

#: Per-cell one-sided confidence of every success-probability bound.
CONFIDENCE = 0.99
#: "With high probability": the success probability must be >= P_OK (one-sided CP lower bound).
P_OK = 0.8
#: Ergodic success of a trial: the time average of 1{w_t = w*} over t in [T/2, T] is at least this.
ERGODIC_FRACTION = 0.9
#: Loss reading: the time average of the empirical loss over t in [T/2, T] is at most this.
LOSS_EPS = 1e-3
#: Configurations (k, v): one neuron; k = 3 with all-ones v; k = 3 with mixed-sign v.
CONFIGS = ((1, None), (3, None), (3, (1.0, -1.0, 0.5)))

#: Per-claim parameters: name -> (type, quick default, full default, meaning).
PARAMETERS: dict[str, dict[str, tuple[type, Any, Any, str]]] = {
    "QSTE-ERG": {
        "n_max": (int, 32, 128, "largest n of the m = C n^2 sweep (n = 8, 16, ... doubling)"),
        "n_max_fit": (int, 64, 256, "largest n of the threshold search / exponent fit"),
        "trials": (int, 60, 200, "trials per cell of the m = C n^2 sweep"),
        "trials_fit": (int, 40, 200, "trials per evaluated m of the threshold search"),
        "fit_configs": (int, 1, 3, "number of (k, v) configurations in the threshold fit (1 = k = 1 only, 3 = all)"),
        "n_max_fit_k3": (int, 64, 128, "largest n of the threshold fit for the k = 3 configurations"),
        "steps": (int, 200, 400, "horizon T of every run"),
        "n_max_enum": (int, 10, 12, "largest n of the exhaustive enumeration over Q1"),
    },
    "QSTE-NONERG": {
        "n_max": (int, 10, 16, "largest n of the m = C n^4 sweep (n = 4, 6, 8, 10, 12, 16)"),
        "n_max_fit": (int, 64, 256, "largest n of the threshold search / exponent fit"),
        "trials": (int, 60, 200, "trials per cell of the m = C n^4 sweep"),
        "trials_fit": (int, 40, 200, "trials per evaluated m of the threshold search"),
        "fit_configs": (int, 1, 3, "number of (k, v) configurations in the threshold fit (1 = k = 1 only, 3 = all)"),
        "n_max_fit_k3": (int, 64, 128, "largest n of the threshold fit for the k = 3 configurations"),
        "steps": (int, 200, 400, "horizon T of every run"),
        "n_max_enum": (int, 8, 10, "largest n of the fixed-point enumeration over Q1"),
    },
    "QSTE-NOISE": {
        "n": (int, 16, 32, "dimension n (m = n^2 samples)"),
        "trials": (int, 40, 200, "trials per noise level"),
        "steps": (int, 1000, 4000, "horizon T of every run"),
    },
    "QSTE-NONGAUSS": {
        "n": (int, 16, 64, "dimension n (m = 8 n samples)"),
        "trials": (int, 100, 200, "trials per input family and normalization"),
        "steps": (int, 200, 400, "horizon T of every run"),
        "n_max_enum": (int, 8, 9, "largest n of the exact population enumeration ({0,1}^n inputs)"),
    },
}


#: The smallest value each parameter accepts (so a sweep is never empty).
_MINIMUM = {"fit_configs": 1, "n_max_fit_k3": 32, "n_max": 8, "n_max_fit": 32, "n_max_enum": 6, "trials": 1, "trials_fit": 1, "steps": 2, "n": 2}


def _parameters(claim_id: str) -> tuple[Parameter, ...]:
    mins = dict(_MINIMUM, **({"n_max": 6} if claim_id == "QSTE-NONERG" else {}),
                **({"n_max_enum": 4} if claim_id == "QSTE-NONERG" else {}),
                **({"n_max_enum": 3} if claim_id == "QSTE-NONGAUSS" else {}))
    return tuple(Parameter(k, t, q, f, h, minimum=mins.get(k)) for k, (t, q, f, h) in PARAMETERS[claim_id].items())


def params(ctx: MethodContext, overrides: dict) -> dict:
    """The claim's parameters for this run: tier default, then ``ctx.params`` (``--set``), then ``overrides``."""
    spec = PARAMETERS[ctx.claim_id] if ctx.claim_id in PARAMETERS else PARAMETERS[overrides["_claim"]]
    unknown = sorted(k for k in overrides if not k.startswith("_") and k not in spec)
    if unknown:
        raise InvalidArgument(f"unknown parameter(s) {unknown} for {ctx.claim_id}; valid: {', '.join(spec)}")
    out = {k: (full if ctx.full else quick) for k, (_, quick, full, _) in spec.items()}
    out.update({k: v for k, v in dict(getattr(ctx, "params", None) or {}).items() if k in spec})
    out.update({k: v for k, v in overrides.items() if not k.startswith("_")})
    return out


def _doubling(lo: int, hi: int) -> list[int]:
    out, n = [], lo
    while n <= hi:
        out.append(n)
        n *= 2
    return out


#: Trajectories of finished cells in this process (LRU, keyed by the cell's seed key, size and start): a cell
#: shared by two methods of one claim (e.g. both readings of a sweep) is simulated once per process.
_CACHE: collections.OrderedDict = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 512


class _Compute:
    """The executor of one method's cells, and its meter.

    ``client`` is ``None`` (this process, the cells one after another) or the Dask client of the worker the
    method runs on (:func:`_compute`): every cell a method needs at one point becomes one batch of block tasks
    (:func:`~stecheck.numerics.ste_dynamics.simulate_cells`; one task per trial block, content-addressed keys,
    so methods asking for the same block at the same time share it).  Each cell's ``SeedSequence`` is
    ``cell_seed(run_seed, claim, "<tag>/<model key>/T=<steps>/init=<start>")`` and trial ``i`` draws from
    ``chunk_seed(cell seed, i)``, so the evidence is bit-identical for any worker count and block split.
    The meter records, per cell digest, the summed wall seconds of its block tasks (the core-seconds on
    single-threaded workers; the coordinating thread, which only waits, is not counted)."""

    #: Largest ``m k T`` of a cell whose trial 0 is replayed by the plain reference loop (about 0.2 s at the limit).
    AUDIT_MAX_WORK = 30_000

    def __init__(self, client=None):
        self.client = client
        self._lock = threading.Lock()
        self.cells: dict[str, dict] = {}
        self.audits: dict[str, dict] = {}

    def _replay(self, jobs, trajectories) -> None:
        """Per call, trial 0 of its cheapest cell, if ``m k T <= AUDIT_MAX_WORK``, recounted by
        :func:`~stecheck.numerics.ste_dynamics.replay_audit` (reference loop, records recomputed from their
        definitions).  Keyed by the cell's digest, so the audited set depends only on the cells the method asks
        for, not on the order of its threads.  A mismatch is a fault of the engine, not evidence about the claim:
        it raises (claim ERROR)."""
        work = [j.model.m * j.model.k * j.steps for j in jobs]
        i = min(range(len(jobs)), key=lambda q: (work[q], jobs[q].digest))
        if work[i] > self.AUDIT_MAX_WORK:
            return
        with self._lock:
            if jobs[i].digest in self.audits:
                return
        audit = replay_audit(jobs[i], trajectories[i])
        with self._lock:
            self.audits[jobs[i].digest] = audit
        if audit["mismatches"]:
            raise SelfCheckFailed(f"STE engine records differ from the reference loop on trial 0 of cell "
                                  f"{jobs[i].model.key()}, T={jobs[i].steps}: {audit['mismatches']} "
                                  "([engine, reference]); the simulation's records are corrupt")

    def runs(self, ctx: MethodContext, specs) -> list:
        """Trajectories of every ``(tag, model, trials, steps, init_hamming)`` in ``specs``, in order."""
        jobs, keys = [], []
        for tag, model, trials, steps, init in specs:
            key = f"{tag}/{model.key()}/T={steps}/init={init}"
            jobs.append(CellJob(model, trials, steps, cell_seed(ctx.run_seed, ctx.claim_id, key), init))
            keys.append((ctx.run_seed, ctx.claim_id, key, trials))
        with _CACHE_LOCK:
            cached = {i: _CACHE[k] for i, k in enumerate(keys) if k in _CACHE}
            for k in keys:
                if k in _CACHE:
                    _CACHE.move_to_end(k)
        missing = [i for i in range(len(jobs)) if i not in cached]
        if missing:
            fresh = simulate_cells([jobs[i] for i in missing], client=self.client)
            for i, (_, compute) in zip(missing, fresh):
                bad = timing_failures(compute)
                if bad:
                    raise SelfCheckFailed(f"compute meter of cell {jobs[i].model.key()}, T={jobs[i].steps}: {bad}; "
                                          "the recorded seconds are corrupt")
            with _CACHE_LOCK:
                for i, res in zip(missing, fresh):
                    cached[i] = _CACHE[keys[i]] = (jobs[i].digest, *res)
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
        out = []
        with self._lock:
            for i in range(len(jobs)):
                digest, tr, compute = cached[i]
                self.cells[digest] = compute
                out.append(tr)
        for job, tr in zip(jobs, out):
            broken = record_invariants(tr, job.init_hamming)
            if broken:
                raise SelfCheckFailed(f"STE engine records of cell {job.model.key()}, T={job.steps} violate "
                                      f"{'; '.join(broken)}; the simulation's records are corrupt")
        self._replay(jobs, out)
        return out

    def run(self, ctx: MethodContext, tag: str, model: STEModel, trials: int, steps: int, init=None):
        return self.runs(ctx, [(tag, model, trials, steps, init)])[0]

    def evidence(self) -> dict:
        """Deterministic counts plus ``seconds`` entries (timings, stripped by the reproducibility comparison)."""
        total = {w: round(sum(c["seconds"][w] for c in self.cells.values()), 3) for w in ("wall", "cpu")}
        return {"cells": len(self.cells), "block_tasks": sum(c["blocks"] for c in self.cells.values()),
                "replay_audit": {"cells_replayed": len(self.audits), "max_work_m_k_T": self.AUDIT_MAX_WORK,
                                 "records_compared": sorted({k for a in self.audits.values() for k in a["compared"]}),
                                 "mismatches": sum(len(a["mismatches"]) for a in self.audits.values())},
                "seconds": total,
                "per_cell": {d: {"blocks": c["blocks"], "seconds": {w: round(x, 3) for w, x in c["seconds"].items()}}
                             for d, c in sorted(self.cells.items())},
                "note": "seconds = sums over the cells' block tasks of their wall seconds and of the CPU seconds of "
                        "the thread that ran them (BLAS pinned to it: the core-seconds, unaffected by other load); "
                        "per_cell is keyed by a content hash of the cell, so a cell shared between methods can be "
                        "counted once; the coordinating thread of the method only waits and is not counted; every "
                        "freshly computed cell's seconds are checked: 0 <= cpu <= wall + (1 ms + the clocks' resolutions) per block "
                        "(timing_failures, else the method errs)"}


#: Allowed excess of a block's thread-CPU seconds over its wall seconds (see :func:`timing_failures`).
#: Per block: 1 ms plus the two clocks' resolutions (nanoseconds on Linux; about 16 ms for ``thread_time`` on
#: Windows, where a block's CPU reading may round up past its wall reading by one tick).
TIMING_SLACK_SECONDS = 1e-3 + time.get_clock_info("thread_time").resolution + time.get_clock_info(
    "perf_counter").resolution


def timing_failures(compute: dict) -> str:
    """What is impossible in a cell's compute record ``{"blocks": B, "seconds": {"wall": W, "cpu": C}}``, or ``""``.

    Each block task's seconds come from :func:`~stecheck.numerics.ste_dynamics.timed_range`: ``wall = t1 - t0``
    (``time.perf_counter``) and ``cpu = c1 - c0`` (``time.thread_time`` of the thread that ran it), read in the
    order t0, c0, ..., t1, c1.  A thread cannot use more CPU time than the time that elapses, so per block
    ``0 <= cpu <= wall + (c1 read - t1 read)``; the last gap is a few microseconds and both clocks have
    nanosecond resolution on Linux (``time.get_clock_info``), so the sums must satisfy ``0 <= C`` and
    ``C <= W + B * TIMING_SLACK_SECONDS`` (1 ms per block, about 1000 times the gap, plus both clocks'
    resolutions).  A block loaded from a
    checkpoint counts 0 and 0.  (An interval taken the wrong way round, e.g. ``c1 + c0``, exceeds the bound by
    twice the CPU seconds the thread had used before the block.)"""
    blocks, sec = int(compute["blocks"]), compute["seconds"]
    wall, cpu = float(sec["wall"]), float(sec["cpu"])
    if not (math.isfinite(wall) and math.isfinite(cpu) and wall >= 0.0 and cpu >= 0.0):
        return f"wall {wall!r} s, cpu {cpu!r} s: expected finite non-negative seconds"
    if cpu > wall + blocks * TIMING_SLACK_SECONDS:
        return (f"thread-CPU {cpu:.6f} s exceeds wall {wall:.6f} s + {blocks} x {TIMING_SLACK_SECONDS:g} s over "
                f"{blocks} block(s): a thread cannot run longer than the time that elapses")
    return ""


@contextlib.contextmanager
def _compute():
    """A :class:`_Compute` on the Dask cluster this method runs on (seceded from the worker's thread pool while it
    waits for its block tasks), or in this process when the method does not run on a Dask worker."""
    try:
        from distributed import get_worker, worker_client

        get_worker()
    except (ImportError, ValueError):
        yield _Compute(None)
        return
    with worker_client() as client:
        yield _Compute(client)


def _model(n: int, m: int, k: int = 1, v=None, variant: dict | None = None, **kw) -> STEModel:
    return STEModel(n=n, m=m, k=k, v=v, **{**kw, **(variant or {})})


def _cell_row(k: int, N: int) -> dict:
    return {"successes": int(k), "trials": int(N), "rate": k / N,
            "lower_bound": st.lower_bound(k, N, CONFIDENCE), "upper_bound": st.upper_bound(k, N, CONFIDENCE)}


def _config_label(k: int, v) -> str:
    return f"k={k}, v={'ones' if v is None else list(v)}"


# ============================================================================ success at m = C n^p


def _success(tr, criterion: str) -> np.ndarray:
    if criterion == "visit":  # ergodic, time average of 1{w_t = w*}
        return tr.fraction_at(late=True) >= ERGODIC_FRACTION
    if criterion == "loss":  # ergodic, time average of the empirical loss
        return tr.loss_late <= LOSS_EPS
    if criterion == "last":  # non-ergodic, last iterate
        return tr.final_at
    if criterion == "visits":  # non-ergodic, visits in [T/2, T] that are certified permanent or recur
        absorbed_here = (tr.absorbed_at >= 0) & tr.final_at
        return (tr.time_at_late > 0) & (absorbed_here | (tr.returns_late > 0))
    raise ValueError(criterion)


def _scaling_sweep(ctx: MethodContext, cx: _Compute, *, power: int, ns, Cs, criterion: str, tag: str, trials: int,
                   steps: int, variant: dict | None) -> tuple[Outcome, dict]:
    """Success rate at m = ceil(C n^power) for every (k, v) configuration, C and n; the verdict rule:

    VERIFIED if some C has, for every configuration and every n, a one-sided CONFIDENCE lower bound >= P_OK;
    REFUTED if for every C some configuration's rate at the largest n has an upper bound < P_OK (the stated
    size does not suffice there, whatever C in the tested set); INCONCLUSIVE otherwise."""
    rows, table = [], {}
    grid = list(itertools.product(CONFIGS, Cs, ns))
    runs = cx.runs(ctx, [(tag, _model(n, max(1, math.ceil(C * n ** power)), k, v, variant), trials, steps, None)
                         for (k, v), C, n in grid])  # every cell of the sweep: one batch of block tasks
    for ((k, v), C, n), tr in zip(grid, runs):
        m = max(1, math.ceil(C * n ** power))
        ok = _success(tr, criterion)
        row = {"config": _config_label(k, v), "C": C, "n": n, "m": m, **_cell_row(int(ok.sum()), ok.size),
               "certified_absorbed_at_w_star": int(((tr.absorbed_at >= 0) & tr.final_at).sum()),
               "median_first_hit": float(np.median(tr.first_hit[tr.first_hit >= 0])) if (tr.first_hit >= 0).any()
               else None}
        rows.append(row)
        table[(k, v, C, n)] = row
    good_C = [C for C in Cs if all(table[(k, v, C, n)]["lower_bound"] >= P_OK for (k, v) in CONFIGS for n in ns)]
    failing_C = [C for C in Cs if any(table[(k, v, C, ns[-1])]["upper_bound"] < P_OK for (k, v) in CONFIGS)]
    evidence = {"criterion": criterion, "m": f"ceil(C n^{power})", "C_values": list(Cs), "n_values": list(ns),
                "configs": [_config_label(k, v) for k, v in CONFIGS], "trials_per_cell": trials, "steps_T": steps,
                "schedule": "eta_t = 1/sqrt(t+1)", "P_OK": P_OK, "one_sided_confidence": CONFIDENCE,
                "C_that_suffice_at_every_measured_n": good_C, "C_failing_at_largest_n": failing_C, "cells": rows,
                "variant": variant or {}}
    scope = Scope(f"n in {list(ns)}, m = C n^{power} for C in {list(Cs)}, {len(CONFIGS)} (k, v) configurations, "
                  f"{trials} trials per cell, T = {steps}; at these sizes only")
    if good_C:
        return Outcome(Verdict.VERIFIED, evidence, scope=scope), table
    if len(failing_C) == len(Cs):
        worst = min(rows, key=lambda r: (r["n"] != ns[-1], r["upper_bound"]))
        return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample={
            "cell": worst, "note": f"at n = {ns[-1]} the success probability at m = C n^{power} is below {P_OK} "
                                   f"(one-sided {CONFIDENCE} upper bound) for every C in {list(Cs)}"}), table
    return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope), table


def check_erg_sweep(ctx: MethodContext, *, variant: dict | None = None, criterion: str = "visit", **overrides) -> Outcome:
    """Ergodic success (time average of 1{w_t = w*} over [T/2, T] >= 0.9, or of the loss <= 1e-3) at m = C n^2."""
    p = params(ctx, {**overrides, "_claim": "QSTE-ERG"})
    ns = _doubling(8, p["n_max"])
    with _compute() as cx:
        out, table = _scaling_sweep(ctx, cx, power=2, ns=ns, Cs=(0.25, 0.5, 1.0), criterion=criterion, tag="sweep",
                                    trials=p["trials"], steps=p["steps"], variant=variant)
    out.evidence["compute"] = cx.evidence()
    out.figures.append(_phase_figure(table, ns, power=2, name=f"success-at-C-n2-{criterion}",
                                     what="ergodic success" if criterion == "visit" else "loss-average success"))
    return out


def check_nonerg_sweep(ctx: MethodContext, *, variant: dict | None = None, criterion: str = "last",
                       **overrides) -> Outcome:
    """Non-ergodic success (last iterate w_T = w*, or certified/recurring visits in [T/2, T]) at m = C n^4."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NONERG"})
    ns = [n for n in (4, 6, 8, 10, 12, 16, 24, 32) if n <= p["n_max"]]
    with _compute() as cx:
        out, table = _scaling_sweep(ctx, cx, power=4, ns=ns, Cs=(1 / 64, 1 / 16, 1 / 4), criterion=criterion,
                                    tag="sweep", trials=p["trials"], steps=p["steps"], variant=variant)
        # both readings on the same runs: how often do they differ?
        grid = list(itertools.product(CONFIGS, (1 / 64, 1 / 16, 1 / 4), ns))
        runs = cx.runs(ctx, [("sweep", _model(n, max(1, math.ceil(C * n ** 4)), k, v, variant), p["trials"],
                              p["steps"], None) for (k, v), C, n in grid])
    differ = sum(int(np.sum(_success(tr, "last") != _success(tr, "visits"))) for tr in runs)
    out.evidence["trials_where_last_iterate_and_late_visit_readings_differ"] = differ
    out.evidence["compute"] = cx.evidence()
    out.figures.append(_phase_figure(table, ns, power=4, name=f"success-at-C-n4-{criterion}",
                                     what="non-ergodic success"))
    return out


def _phase_figure(table: dict, ns, *, power: int, name: str, what: str) -> Figure:
    k, v = CONFIGS[0]
    series = []
    for n in ns:
        cells = sorted((r for (kk, vv, C, nn), r in table.items() if (kk, vv, nn) == (k, v, n)), key=lambda r: r["m"])
        series.append(Series(f"$n = {n}$", tuple(r["m"] / n for r in cells), tuple(r["rate"] for r in cells),
                             y_low=tuple(r["lower_bound"] for r in cells), y_high=tuple(r["upper_bound"] for r in cells),
                             style="points"))
    sup = {2: "²", 4: "⁴"}.get(power, f"^{power}")
    return Figure(name, f"{what} at m = C n{sup} (k = 1, v = 1); bars: one-sided {CONFIDENCE:.0%} Clopper-Pearson "
                  "bounds", "samples per dimension $m/n$", r"success probability $\hat p$", tuple(series), xscale="log",
                  hlines=(P_OK,))


# ============================================================================ threshold m*(n) and its exponent


def _search(ctx: MethodContext, cx: _Compute, *, n: int, k: int, v, criterion: str, trials: int, steps: int,
            variant, c_max: float, power: int, levels=(0.5, 0.9)) -> dict[float, st.Threshold]:
    """Adaptive search of m*(n) at each level for one (k, v) and n (the levels share their evaluations).

    The search is sequential in m (each step depends on the last rate); each evaluated m is one cell, split into
    block tasks by ``cx``; different (k, v, n) searches run side by side (:func:`_thresholds`)."""
    ev: dict[int, tuple[int, int]] = {}

    def success(m: int) -> tuple[int, int]:
        tr = cx.run(ctx, "threshold", _model(n, m, k, v, variant=variant), trials, steps)
        ok = _success(tr, criterion)
        return int(ok.sum()), int(ok.size)

    return {lv: st.find_threshold(success, lv, 2 * n, m_max=math.ceil(c_max * n ** power), evaluations=ev,
                                  confidence=CONFIDENCE) for lv in levels}


def _thresholds(ctx: MethodContext, cx: _Compute, *, configs, ns_by_config, criterion: str, trials: int, steps: int, variant,
                c_max: float, power: int, levels=(0.5, 0.9)) -> dict[tuple, dict[float, dict[int, st.Threshold]]]:
    """``{(k, v): {level: {n: Threshold}}}``: every (k, v, n) search; on a cluster the searches run in parallel
    threads of this (seceded) task, each waiting for its own block tasks, so the cluster holds the block tasks
    of all searches at once.  Each search depends only on its own cells, so the result does not depend on how
    the searches interleave."""
    keys = [(k, v, n) for k, v in configs for n in ns_by_config[(k, v)]]

    def one(key):
        k, v, n = key
        return _search(ctx, cx, n=n, k=k, v=v, criterion=criterion, trials=trials, steps=steps, variant=variant,
                       c_max=c_max, power=power, levels=levels)

    if cx.client is None:
        found = [one(key) for key in keys]
    else:
        with ThreadPoolExecutor(max_workers=len(keys), thread_name_prefix="qste-search") as pool:
            found = list(pool.map(one, keys))
    out: dict[tuple, dict[float, dict[int, st.Threshold]]] = {(k, v): {lv: {} for lv in levels} for k, v in configs}
    for (k, v, n), by_level in zip(keys, found):
        for lv, th in by_level.items():
            out[(k, v)][lv][n] = th
    return out


#: The threshold search looks for m* up to C_MAX n^2 (n^4 is out of reach at n = 64 in either claim).
C_MAX = 16.0


def _exact_crossings(evals: dict, level: float) -> set:
    """The crossing of :func:`numerics.ste_stats.crossing` recomputed apart: the weighted isotonic fit of k/N on m by
    the pool-adjacent-violators algorithm in exact rationals (a pooled block's value is sum k / sum N), the first m
    whose fit reaches ``level`` (read as the decimal it prints as), log-linear interpolation from the previous m.  A
    fit value exactly at ``level`` is a tie that floating point may round either way, so the crossings under both
    '>=' and '>' are returned (``None``: never reached)."""
    from fractions import Fraction

    ms = sorted(int(m) for m in evals)
    blocks: list[list[int]] = []  # [sum k, sum N, number of points]
    for m in ms:
        blocks.append([int(evals[str(m)]["successes"]), int(evals[str(m)]["trials"]), 1])
        while len(blocks) > 1 and Fraction(blocks[-2][0], blocks[-2][1]) > Fraction(blocks[-1][0], blocks[-1][1]):
            k2, n2, c2 = blocks.pop()
            blocks[-1][0] += k2
            blocks[-1][1] += n2
            blocks[-1][2] += c2
    fit = [Fraction(k, n) for k, n, c in blocks for _ in range(c)]
    target, out = Fraction(str(level)), set()
    for strict in (False, True):
        hits = [i for i, f in enumerate(fit) if (f > target if strict else f >= target)]
        if not hits:
            out.add(None)
        elif hits[0] == 0:
            out.add(float(ms[0]))
        else:
            i = hits[0]
            lo, hi = fit[i - 1], fit[i]
            frac = float((target - lo) / (hi - lo)) if hi > lo else 1.0
            out.add(math.exp(math.log(ms[i - 1]) + frac * (math.log(ms[i]) - math.log(ms[i - 1]))))
    return out


def _check_threshold_evidence(level: float, by_n: dict) -> None:
    """The shown evaluations support the shown bracket: every success rate lies in [0, 1] and in its two-sided
    Clopper-Pearson interval (scipy's beta quantiles, computed apart from the rate); the CP-separated bracket's
    lower end has rate < ``level`` and its upper end rate > ``level`` (its one-sided CP bound is beyond ``level``,
    so its rate is too); the shown m* is the isotonic crossing recomputed from the evaluations
    (:func:`_exact_crossings`, to a relative 1e-9).  Exact comparisons otherwise.  A failure is a fault of the checker: it raises, so the
    claim is ERROR."""
    for n, th in by_n.items():
        evals = th["evaluations"]
        for m, e in evals.items():
            lo, hi = e["clopper_pearson"]
            if not (0.0 <= e["rate"] <= 1.0 and lo <= e["rate"] <= hi):
                raise SelfCheckFailed(f"threshold evidence n={n}, m={m}: success rate {e['rate']} outside [0, 1] or "
                                      f"its Clopper-Pearson interval [{lo}, {hi}]; the search's evidence is corrupt")
        b_lo, b_hi = th["bracket (CP-separated)"]
        for m, below in ((b_lo, True), (b_hi, False)):
            if m is not None and (evals[str(m)]["rate"] < level) != below:
                raise SelfCheckFailed(f"threshold evidence n={n}: bracket end m={m} has rate {evals[str(m)]['rate']}, "
                                      f"on the wrong side of level {level}; the bracket does not follow from the evidence")
        shown, exact = th["m_star"], _exact_crossings(evals, level)
        if not any(c == shown if c is None or shown is None else abs(c - shown) <= 1e-9 * c for c in exact):
            raise SelfCheckFailed(f"threshold evidence n={n}: m* = {shown} at level {level}, but the isotonic crossing "
                                  f"recomputed from the shown evaluations (exact rationals) is {sorted(exact, key=str)}; "
                                  "fix numerics.ste_stats.crossing")


def _fit_config(ctx, *, k, v, claim_power, criterion, ns, ths):
    """(verdict, evidence, findings, thresholds, fits, counterexample) of the exponent check for one (k, v),
    from its thresholds ``ths = {level: {n: Threshold}}``."""
    rng = ctx.rng()
    fits, ev_levels, findings = {}, {}, []
    label = _config_label(k, v)
    for lv, by_n in ths.items():
        ev_levels[str(lv)] = {str(n): th.as_evidence() for n, th in by_n.items()}
        _check_threshold_evidence(lv, ev_levels[str(lv)])
        found = [n for n, th in by_n.items() if th.m_star is not None]
        if len(found) >= 3:
            f = st.fit_exponent({n: by_n[n] for n in found}, rng=rng, n_boot=1000, confidence=0.95)
            t = stats.t.ppf(0.975, len(found) - 2)
            fits[lv] = (f, (min(f.b_interval[0], f.b - t * f.b_stderr), max(f.b_interval[1], f.b + t * f.b_stderr)))
    evidence = {"config": label, "thresholds": ev_levels,
                "fits": {str(lv): {**f.as_evidence(), "conservative_interval": list(iv)} for lv, (f, iv) in fits.items()}}
    for lv, (fl, (l2, h2)) in fits.items():
        if h2 < claim_power:
            slopes = _local_slopes(fl.ns, fl.m_stars)
            trend = ("rise with n" if all(b > a for a, b in zip(slopes, slopes[1:])) else
                     "rise with n, not monotonically" if slopes[-1] > slopes[0] else "do not rise with n")
            above = f", above the fit's interval [{l2:.2f}, {h2:.2f}]" if slopes[-1] > h2 else ""
            findings.append(Finding(Category.IMPRECISION, (
                f"the O(n^{claim_power}) sample size is loose at n in {fl.ns} ({label}): the measured threshold m*(n) "
                f"at success level {lv} grows like n^{fl.b:.2f} (95 % interval [{l2:.2f}, {h2:.2f}], criterion "
                f"'{criterion}'); m*/n^{claim_power} falls from {fl.m_stars[0] / fl.ns[0] ** claim_power:.3g} "
                f"to {fl.m_stars[-1] / fl.ns[-1] ** claim_power:.3g}. The fitted exponent describes only the measured "
                f"range, not the asymptotics the O(.) bound is about: the local slopes of log m* over log n {trend} "
                f"({', '.join(f'{s:.2f}' for s in slopes)} between consecutive n), "
                f"{slopes[-1]:.2f} between the two largest n = {fl.ns[-2]} and {fl.ns[-1]}{above}")))
    missing_top = ths[0.9][ns[-1]].m_star is None
    if missing_top and claim_power == 2:  # m* > 16 n^2 at the largest n: no C <= 16 works there
        return Verdict.REFUTED, evidence, findings, ths, fits, {
            "config": label, "n": ns[-1], "note": f"success probability never reached 0.9 up to m = {C_MAX:g} n^2",
            "evaluations": ev_levels["0.9"][str(ns[-1])]["evaluations"]}
    if 0.9 not in fits or missing_top:
        return Verdict.INCONCLUSIVE, evidence, findings, ths, fits, None
    f, (lo, hi) = fits[0.9]
    if hi <= claim_power:
        return Verdict.VERIFIED, evidence, findings, ths, fits, None
    if lo > claim_power:
        return Verdict.REFUTED, evidence, findings, ths, fits, {
            "config": label, "exponent_b": f.b, "interval": [lo, hi], "claimed_power": claim_power,
            "note": "the threshold grows faster than the claimed power at the measured sizes"}
    return Verdict.INCONCLUSIVE, evidence, findings, ths, fits, None


def _local_slopes(ns, m_stars) -> list[float]:
    """log(m*_{i+1} / m*_i) / log(n_{i+1} / n_i) between consecutive measured n (the fit's points, in order)."""
    return [math.log(m1 / m0) / math.log(n1 / n0) for n0, n1, m0, m1 in zip(ns, ns[1:], m_stars, m_stars[1:])]


def _exponent_check(ctx: MethodContext, *, claim_power: int, criterion: str, trials: int, steps: int, ns_by_config,
                    variant, reading_name: str, configs=CONFIGS[:1]) -> Outcome:
    """m*(n) at levels 1/2 and 0.9 by adaptive search (up to 16 n^2), log m* = a + b log n, verdict on O(n^p):

    per configuration (k, v): VERIFIED (consistent at the measured sizes) if the conservative 95 % interval of b at
    level 0.9 lies at or below p; REFUTED if it lies above p, or (p = 2) if no crossing is found by m = 16 n^2 at
    the largest n; INCONCLUSIVE otherwise (for p = 4 a missing crossing is undecided: the search stops at 16 n^2).
    The interval is the union of the parametric-bootstrap percentile interval and the least-squares t interval
    (model misfit).  Any REFUTED configuration refutes; VERIFIED needs every configuration."""
    verdicts, per_config, findings, figs, cex = [], [], [], [], None
    with _compute() as cx:
        all_ths = _thresholds(ctx, cx, configs=configs, ns_by_config=ns_by_config, criterion=criterion, trials=trials, steps=steps,
                              variant=variant, c_max=C_MAX, power=2)
    for i, (k, v) in enumerate(configs):
        ns = ns_by_config[(k, v)]
        verdict, ev, fnd, ths, fits, c = _fit_config(ctx, k=k, v=v, claim_power=claim_power, criterion=criterion,
                                                     ns=ns, ths=all_ths[(k, v)])
        verdicts.append(verdict)
        per_config.append({**ev, "n_values": list(ns), "verdict": verdict.value})
        findings.extend(fnd)
        cex = cex or c
        if i == 0:
            figs = [_mstar_figure(ths, fits, claim_power, ns, f"m-star-{reading_name}"),
                    _threshold_phase_figure(ths, ns, f"phase-{reading_name}")]
    ns = ns_by_config[configs[0]]
    evidence = {"criterion": criterion, "n_values": list(ns), "trials_per_evaluation": trials, "steps_T": steps,
                "search": f"doubling from m = 2n, then bisection in log m to 12 %, up to m = {C_MAX:g} n^2",
                "claimed_power": claim_power, "configs": per_config, "variant": variant or {},
                "configs_fitted": [_config_label(k, v) for k, v in configs],
                "configs_not_fitted": [_config_label(k, v) for k, v in CONFIGS if (k, v) not in configs],
                "compute": cx.evidence()}
    scope = Scope(f"{'; '.join(f'{_config_label(k, v)}: n in {list(ns_by_config[(k, v)])}' for k, v in configs)}; "
                  f"{trials} trials per "
                  f"evaluated m, T = {steps}; the exponent describes these sizes only (an O(.) bound is asymptotic)")
    if Verdict.REFUTED in verdicts:
        return Outcome(Verdict.REFUTED, evidence, figures=figs, scope=scope, counterexample=cex, discrepancies=findings)
    if all(v is Verdict.VERIFIED for v in verdicts):
        return Outcome(Verdict.VERIFIED, evidence, figures=figs, discrepancies=findings, scope=scope)
    return Outcome(Verdict.INCONCLUSIVE, evidence, figures=figs, discrepancies=findings, scope=scope)


def _mstar_figure(ths, fits, power: int, ns, name: str) -> Figure:
    series = []
    for lv, by_n in ths.items():
        pts = [(n, th) for n, th in sorted(by_n.items()) if th.m_star is not None]
        if pts:
            lows = [th.bracket[0] if th.bracket[0] is not None else th.m_star for _, th in pts]
            highs = [th.bracket[1] if th.bracket[1] is not None else th.m_star for _, th in pts]
            series.append(Series(f"$m^*$ at success level ${lv}$ (search bracket)", tuple(float(n) for n, _ in pts),
                                 tuple(float(th.m_star) for _, th in pts), y_low=tuple(map(float, lows)),
                                 y_high=tuple(map(float, highs)), style="points"))
        if lv in fits:
            f, (lo, hi) = fits[lv]
            xs = tuple(float(n) for n in ns)
            x0 = math.log(f.ns[0])
            mid = lambda b: tuple(math.exp(f.a + f.b * x0 + b * (math.log(x) - x0)) for x in xs)  # noqa: E731
            band_lo = tuple(min(a, b) for a, b in zip(mid(lo), mid(hi)))
            band_hi = tuple(max(a, b) for a, b in zip(mid(lo), mid(hi)))
            series.append(Series(f"fit $\\propto n^{{{f.b:.2f}}}$ (level ${lv}$), exponent in $[{lo:.2f}, {hi:.2f}]$",
                                 xs, mid(f.b),
                                 y_low=band_lo, y_high=band_hi))
    xs = tuple(float(n) for n in ns)
    series.append(Series("$n^2$", xs, tuple(float(n) ** 2 for n in ns)))
    series.append(Series("$n^4$", xs, tuple(float(n) ** 4 for n in ns)))
    sup = {2: "²", 4: "⁴"}.get(power, f"^{power}")
    return Figure(name, f"sample-size threshold m*(n) (k = 1, v = 1) vs the O(n{sup}) bound", "dimension $n$",
                  "threshold $m^*(n)$", tuple(series), xscale="log", yscale="log")


def _threshold_phase_figure(ths, ns, name: str) -> Figure:
    ev = next(iter(ths.values()))
    series = []
    for n in ns:
        th = ev[n]
        ms = sorted(th.evaluations)
        rows = [_cell_row(*th.evaluations[m]) for m in ms]
        series.append(Series(f"$n = {n}$", tuple(m / n for m in ms), tuple(r["rate"] for r in rows),
                             y_low=tuple(r["lower_bound"] for r in rows), y_high=tuple(r["upper_bound"] for r in rows),
                             style="points"))
    return Figure(name, "phase diagram: success probability over n × m/n (adaptive-search evaluations, k = 1); bars: "
                  f"one-sided {CONFIDENCE:.0%} Clopper-Pearson bounds", "samples per dimension $m/n$",
                  r"success probability $\hat p$", tuple(series), xscale="log", hlines=(0.5, 0.9))


def check_erg_exponent(ctx: MethodContext, *, variant: dict | None = None, **overrides) -> Outcome:
    p = params(ctx, {**overrides, "_claim": "QSTE-ERG"})
    configs = CONFIGS[:p["fit_configs"]]
    return _exponent_check(ctx, claim_power=2, criterion="visit", trials=p["trials_fit"], steps=p["steps"],
                           ns_by_config=_fit_sizes(p, configs), variant=variant, reading_name="ergodic",
                           configs=configs)


def check_nonerg_exponent(ctx: MethodContext, *, variant: dict | None = None, **overrides) -> Outcome:
    p = params(ctx, {**overrides, "_claim": "QSTE-NONERG"})
    configs = CONFIGS[:p["fit_configs"]]
    return _exponent_check(ctx, claim_power=4, criterion="last", trials=p["trials_fit"], steps=p["steps"],
                           ns_by_config=_fit_sizes(p, configs), variant=variant, reading_name="last-iterate",
                           configs=configs)


def _fit_sizes(p: dict, configs) -> dict:
    """The n of each configuration's threshold fit: n = 8, 16, ... up to ``n_max_fit`` for k = 1 and up to
    ``min(n_max_fit, n_max_fit_k3)`` for k = 3 (a k = 3 sample costs three times a k = 1 sample; the full tier's
    60-minute budget on two workers fits k = 3 to n = 128, k = 1 to n = 256)."""
    return {(k, v): _doubling(8, p["n_max_fit"] if k == 1 else min(p["n_max_fit"], p["n_max_fit_k3"]))
            for k, v in configs}


# ============================================================================ exhaustive enumeration over Q1


def _signs(n: int) -> np.ndarray:
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n)))


def _certified_pre(X: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, bool]:
    """X S^T with a rounding certificate: |fl(x.s) - x.s| <= gamma_n sum|x_i| (gamma_n = n u / (1 - n u)),
    so every entry whose magnitude exceeds that bound has the sign of the exact product."""
    n = X.shape[1]
    u = np.finfo(float).eps / 2
    gamma = n * u / (1 - n * u)
    pre = X @ S.T
    bound = gamma * np.abs(X).sum(axis=1, keepdims=True)
    return pre, bool(np.all(np.abs(pre) > bound))


def check_erg_enumeration(ctx: MethodContext, *, variant: dict | None = None, **overrides) -> Outcome:
    """Exhaustive enumeration of Q1 (2^n points) on sampled data sets at m = n^2: w* is the unique global
    minimiser of the empirical loss (zero loss only at w*) -- the premise of 'convergence to the global minimum w*'.
    Signs are certified against the float64 rounding bound of the dot products."""
    p = params(ctx, {**overrides, "_claim": "QSTE-ERG"})
    ns = [n for n in (6, 8, 10, 12) if n <= p["n_max_enum"]]
    data_sets = 30 if not ctx.full else 100
    rows, uncertified = [], 0
    for n in ns:
        model = _model(n, n * n, variant=variant)
        S = _signs(n)
        seed = cell_seed(ctx.run_seed, ctx.claim_id, f"enumeration/{model.key()}")
        unique = 0
        for i in range(data_sets):
            X, y, s_star, _ = generate_trial(model, chunk_seed(seed, i))
            pre, ok = _certified_pre(X, S)
            uncertified += not ok
            out = (pre > 0).astype(float)  # (m, 2^n), k = 1, v = 1
            loss = 0.5 * np.mean((out - y[:, None]) ** 2, axis=0)
            zero = np.nonzero(loss == 0.0)[0]
            star = int(np.nonzero(np.all(S == s_star, axis=1))[0][0])
            unique += int(zero.size == 1 and zero[0] == star)
        rows.append({"n": n, "m": n * n, "points_enumerated": 2 ** n, **_cell_row(unique, data_sets)})
    evidence = {"model": "k = 1, v = 1, Gaussian inputs, no label noise", "data_sets_per_n": data_sets,
                "rows": rows, "data_sets_with_an_uncertified_sign": uncertified,
                "rounding": "|fl(x.s) - x.s| <= gamma_n sum |x_i|, gamma_n = n u/(1 - n u)"}
    scope = Scope(f"n in {ns}, m = n^2, {data_sets} data sets per n (exact per data set; the probability is a "
                  "binomial estimate)")
    if uncertified:
        return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope)
    bad = [r for r in rows if r["upper_bound"] < P_OK]
    if bad:
        return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample={"row": bad[0]})
    if all(r["lower_bound"] >= P_OK for r in rows):
        return Outcome(Verdict.VERIFIED, evidence, scope=scope)
    return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope)


def check_nonerg_fixed_points(ctx: MethodContext, *, variant: dict | None = None, **overrides) -> Outcome:
    """Exhaustive enumeration of the STE map's fixed points on Q1 at m = n^4 / 4: g(w) = 0 exactly only at w = w*.

    A fixed point w != w* would trap every trial that enters it forever, so the last iterate could not be w*.
    g(w) = 0 iff the coefficient vector r_j 1{x_j.w > 0} is zero or the sum cancels; the coefficients are exact
    integers here (k = 1, v = 1, no noise) and every non-zero g is also checked to exceed its rounding bound."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NONERG"})
    ns = [n for n in (4, 5, 6, 8, 10) if n <= p["n_max_enum"]]
    data_sets = 30 if not ctx.full else 100
    rows, uncertified = [], 0
    for n in ns:
        m = math.ceil(n ** 4 / 4)
        model = _model(n, m, variant=variant)
        S = _signs(n)
        seed = cell_seed(ctx.run_seed, ctx.claim_id, f"fixed-points/{model.key()}")
        only_star, star_fixed = 0, 0
        for i in range(data_sets):
            X, y, s_star, _ = generate_trial(model, chunk_seed(seed, i))
            pre, ok = _certified_pre(X, S)
            uncertified += not ok
            act = (pre > 0).astype(float)
            r = act - y[:, None]  # (m, 2^n)
            if model.proxy == "relu":
                coef = r * act
            elif model.proxy == "identity":
                coef = r
            else:
                coef = np.zeros_like(r)
            G = coef.T @ X / m  # (2^n, n)
            bound = (np.abs(coef).T @ np.abs(X)) * (m * np.finfo(float).eps) / m
            nonzero_coef = np.any(coef != 0, axis=0)
            uncertified += int(np.any(nonzero_coef & np.all(np.abs(G) <= bound, axis=1)))
            fixed = ~nonzero_coef
            star = int(np.nonzero(np.all(S == s_star, axis=1))[0][0])
            star_fixed += bool(fixed[star])
            only_star += bool(fixed[star] and fixed.sum() == 1)
        rows.append({"n": n, "m": m, "points_enumerated": 2 ** n, "w_star_fixed": star_fixed,
                     **_cell_row(only_star, data_sets)})
    evidence = {"model": "k = 1, v = 1, Gaussian inputs, no label noise, m = ceil(n^4/4)", "data_sets_per_n": data_sets,
                "rows": rows, "uncertified_signs_or_gradients": uncertified, "variant": variant or {}}
    scope = Scope(f"n in {ns}, m = ceil(n^4/4), {data_sets} data sets per n (exact per data set)")
    if uncertified:
        return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope)
    bad = [r for r in rows if r["upper_bound"] < P_OK]
    if bad:
        return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample={"row": bad[0]})
    if all(r["lower_bound"] >= P_OK for r in rows):
        return Outcome(Verdict.VERIFIED, evidence, scope=scope)
    return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope)


# ============================================================================ label noise: recurrence


NOISE_LEVELS = (0.1, 0.3, 0.5)


def _check_return_bookkeeping(tr) -> None:
    """The returns the verdict counts, recounted from the visits: a return is an entry into w* after an escape,
    and between two entries there is always an escape, so per trial returns = max(visits - 1, 0) exactly, and the
    recorded excursions are exactly the returns.  A failure is a fault of the checker: it raises (claim ERROR)."""
    expected = np.maximum(tr.visits - 1, 0)
    bad = np.flatnonzero(tr.returns != expected)
    if bad.size or len(tr.excursions) != int(tr.returns.sum()):
        i = int(bad[0]) if bad.size else 0
        raise SelfCheckFailed(f"return bookkeeping: trial {i} has {int(tr.returns[i])} returns for {int(tr.visits[i])} "
                              f"visits (expected {int(expected[i])}), {len(tr.excursions)} excursions for "
                              f"{int(tr.returns.sum())} returns; the recurrence statistics are corrupt")


def check_noise_recurrence(ctx: MethodContext, *, variant: dict | None = None, noise_levels=NOISE_LEVELS,
                           **overrides) -> Outcome:
    """Long runs started at w* (and from random w_0) with fixed label noise sigma: escapes and returns in [T/2, T].

    Per sigma: an exact binomial test that more than half of the trials return to w* in the second half
    (alpha = 0.001); VERIFIED if it rejects for every sigma and escapes keep happening; REFUTED if for some sigma
    the one-sided upper bound of the returning fraction is below 1/2.  Contrast: sigma = 0 on the same data."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NOISE"})
    n, T, trials = p["n"], p["steps"], p["trials"]
    m = n * n
    rows, figs_h, hist = [], [], []
    decided = []
    grid = [(sigma, init) for sigma in tuple(noise_levels) + (0.0,) for init in (0, None)]
    with _compute() as cx:  # every (sigma, start) cell: one batch of block tasks
        runs = dict(zip(grid, cx.runs(ctx, [("noise", _model(n, m, noise=sigma, variant=variant if sigma else None),
                                             trials, T, init) for sigma, init in grid])))
    for sigma in tuple(noise_levels) + (0.0,):
        per_init = {}
        for init in (0, None):
            model = _model(n, m, noise=sigma, variant=variant if sigma else None)
            tr = runs[(sigma, init)]
            _check_return_bookkeeping(tr)
            returning = int((tr.returns_late > 0).sum())
            test = st.recurrence_test(returning, tr.trials)
            lengths = [b - a for (_, a, b) in tr.excursions]
            per_init["w*" if init == 0 else "random"] = {
                "sigma_effective": model.noise, "returns_mean": float(tr.returns.mean()),
                "returns_late_mean": float(tr.returns_late.mean()),
                "escapes_late_mean": float(tr.escapes_late.mean()),
                "fraction_of_time_at_w_star": float(tr.fraction_at().mean()),
                "final_hamming_mean": float(tr.final_hamming.mean()),
                "certified_absorbed": int((tr.absorbed_at >= 0).sum()),
                "return_time_median": float(np.median(lengths)) if lengths else None,
                "return_time_p90": float(np.quantile(lengths, 0.9)) if lengths else None,
                "sojourn_median": float(np.median([s for (_, _, s) in tr.sojourns])) if tr.sojourns else None,
                "recurrence_test": test}
            if init == 0 and sigma:
                decided.append((sigma, test, float(tr.escapes_late.mean())))
                ck = tr.checkpoints
                h_mean, h_lo, h_hi = _mean_interval(tr.hamming)
                figs_h.append(Series(f"$\\sigma = {model.noise:g}$: mean over trials, 95% $t$ interval",
                                     tuple(float(t) for t in ck), h_mean, y_low=h_lo, y_high=h_hi))
                hist.append((model.noise, lengths))
        rows.append({"sigma": sigma, "by_start": per_init})
    evidence = {"n": n, "m": m, "k": 1, "v": "ones", "steps_T": T, "trials": trials,
                "label_noise": "y_j = v^T H(x_j w*) + sigma eps_j, eps_j ~ N(0,1) fixed per sample",
                "schedule": "eta_t = 1/sqrt(t+1)", "levels": rows,
                "definition": "return = entry into w* after an escape; recurrence = more than half of the trials "
                              "return in [T/2, T] (exact binomial test, alpha = 0.001)", "variant": variant or {},
                "compute": cx.evidence()}
    figs = [Figure("hamming-over-time", f"Hamming distance to w* over time, runs started at w* (n = {n}, m = {m}); "
                   "band: 95 % t interval of the mean", "step $t$", r"Hamming distance $d_H(w_t, w^*)$",
                   tuple(figs_h)),
            _return_histogram(hist)]
    scope = Scope(f"n = {n}, m = n^2, sigma in {list(noise_levels)}, {trials} trials, T = {T}; recurrence in "
                  "[T/2, T] at this horizon only")
    failing = [s for s, t, _ in decided if t["upper_bound"] < 0.5]
    if failing:
        return Outcome(Verdict.REFUTED, evidence, figures=figs, scope=scope, counterexample={
            "sigma": failing[0], "note": "fewer than half of the trials return to w* in the second half "
                                         "(one-sided 0.999 upper bound < 1/2)",
            "test": next(t for s, t, _ in decided if s == failing[0])})
    if decided and all(t["rejected"] and esc > 0 for _, t, esc in decided):
        return Outcome(Verdict.VERIFIED, evidence, figures=figs, scope=scope)
    return Outcome(Verdict.INCONCLUSIVE, evidence, figures=figs, scope=scope)


def _mean_interval(h: np.ndarray, confidence: float = 0.95) -> tuple[tuple, tuple, tuple]:
    """Per column of ``h`` (trials x checkpoints): the mean and its two-sided Student-t interval (scipy.stats.t);
    a column without spread (e.g. every trial still at w*) has a zero-width interval."""
    mean = h.mean(axis=0)
    sem = h.std(axis=0, ddof=1) / math.sqrt(h.shape[0]) if h.shape[0] > 1 else np.zeros_like(mean)
    half = stats.t.ppf(0.5 + confidence / 2, max(h.shape[0] - 1, 1)) * sem
    return tuple(map(float, mean)), tuple(map(float, mean - half)), tuple(map(float, mean + half))


def _return_histogram(hist) -> Figure:
    series = []
    edges = np.unique(np.round(np.geomspace(1, 4096, 14)).astype(int))
    for sigma, lengths in hist:
        counts, _ = np.histogram(lengths, bins=np.append(edges, 10**9)) if lengths else (np.zeros(edges.size), None)
        series.append(Series(f"$\\sigma = {sigma:g}$ ({len(lengths)} returns)", tuple(float(e) for e in edges),
                             tuple(float(c) for c in counts), style="step"))
    return Figure("return-time-histogram", "return times to w* (escape → next entry), all trials started at w*",
                  "return time (steps, logarithmic bins)", "number of returns", tuple(series), xscale="log")


def check_noise_forced_escape(ctx: MethodContext, *, variant: dict | None = None, noise_levels=NOISE_LEVELS,
                              **overrides) -> Outcome:
    """Exact per data set: with label noise, g(w*) has a coordinate i with g_i s*_i > 0 beyond its rounding bound,
    so an iterate at w* must leave it (while at w*, u_i s*_i decreases by eta_t g_i s*_i each step and sum eta_t = oo).
    Contrast sigma = 0: r = 0 at w*, g(w*) = 0 exactly, w* absorbing."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NOISE"})
    n, m = p["n"], p["n"] ** 2
    data_sets = 100 if not ctx.full else 400
    rows = []
    for sigma in tuple(noise_levels) + (0.0,):
        model = _model(n, m, noise=sigma, variant=variant if sigma else None)
        seed = cell_seed(ctx.run_seed, ctx.claim_id, f"forced-escape/{model.key()}")
        forced, zero = 0, 0
        for i in range(data_sets):
            X, y, s_star, _ = generate_trial(model, chunk_seed(seed, i))
            g, r = ste_gradient(model, X, y, s_star)
            act = (X @ s_star > 0).astype(float)
            bound = (np.abs(r * act) @ np.abs(X)) * (m * np.finfo(float).eps) / m
            forced += bool(np.any(g[0] * s_star > bound))
            zero += bool(np.all(g == 0))
        rows.append({"sigma": model.noise, "data_sets": data_sets, "escape_forced": forced,
                     "gradient_exactly_zero_at_w_star": zero, **_cell_row(forced, data_sets)})
    noisy = [r for r in rows[:-1]]
    clean = rows[-1]
    evidence = {"n": n, "m": m, "rows": rows, "rounding": "|fl(g_i) - g_i| <= m u sum_j |c_j x_ji| / m",
                "variant": variant or {}}
    scope = Scope(f"n = {n}, m = n^2, sigma in {list(noise_levels)}, {data_sets} data sets per sigma (exact per data "
                  "set; the fraction is a binomial estimate)")
    if clean["gradient_exactly_zero_at_w_star"] != data_sets:
        return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample={
            "note": "without label noise g(w*) is not exactly zero on some data set", "row": clean})
    if any(r["upper_bound"] < P_OK for r in noisy):
        return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample={
            "row": next(r for r in noisy if r["upper_bound"] < P_OK),
            "note": "with this label noise, escape from w* is not forced on most data sets"})
    if all(r["lower_bound"] >= P_OK for r in noisy):
        return Outcome(Verdict.VERIFIED, evidence, scope=scope)
    return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope)


# ============================================================================ non-Gaussian inputs


NON_GAUSSIAN = tuple(f for f in INPUTS if f != "gaussian")


def _family_specs(p, normalize: str, variant) -> list:
    return [("family", _model(p["n"], 8 * p["n"], inputs=fam, normalize=normalize, variant=variant), p["trials"],
             p["steps"], None) for fam in INPUTS]


def _family_rates(ctx, cx: _Compute, p, normalize: str, variant) -> dict[str, dict]:
    out = {}
    for fam, spec in zip(INPUTS, _family_specs(p, normalize, variant)):
        model = spec[1]
        tr = cx.run(ctx, *spec)
        ok = _success(tr, "last")
        _, centered, tails, support = INPUTS[fam][1:]
        out[fam] = {"normalization": model.normalize, "centered": centered, "tails": tails, "support": support,
                    "description": INPUTS[fam][1], **_cell_row(int(ok.sum()), ok.size),
                    "final_hamming_mean": float(tr.final_hamming.mean()),
                    "fixed_points_with_loss": int(np.sum((tr.absorbed_at >= 0) & ~tr.final_at & (tr.loss_late > 0)))}
    return out


#: The law each input family of numerics.ste_dynamics.INPUTS states (its description), as an independent scipy.stats
#: distribution: continuous families by their frozen law, discrete ones by their support and P(value = high).
INPUT_LAWS = {
    "gaussian": stats.norm(0.0, 1.0),
    "rademacher": ((-1.0, 1.0), 0.5),
    "uniform": stats.uniform(-math.sqrt(3), 2 * math.sqrt(3)),
    "student-t3": stats.t(3, scale=1 / math.sqrt(3)),
    "centered-exponential": stats.expon(loc=-1.0),
    "shifted-gaussian": stats.norm(1.0, 1.0),
    "bernoulli01": ((0.0, 1.0), 0.5),
    "exponential": stats.expon(),
    "lognormal": stats.lognorm(1.0),
}
#: Per-family level of the law audit (KS or exact binomial test); 9 families: family-wise false alarm <= 9e-6.
INPUT_LAW_ALPHA = 1e-6


def _input_law_audit(run_seed: int, claim_id: str, size: int = 20000) -> dict:
    """Audit that every input family draws the law it states (INPUT_LAWS): ``size`` draws per family on the stream
    ``task_seed(run_seed, CLAIM/input-laws)``; continuous laws by a one-sample Kolmogorov-Smirnov test, discrete
    ones by their support and an exact binomial test of P(high) (scipy.stats), each at INPUT_LAW_ALPHA; a family
    without a stated law, or one the test rejects, raises (the method is an ERROR: its evidence would be about
    other data than the claim names).  Returns the p-value per family."""
    if set(INPUT_LAWS) != set(INPUTS):
        raise SelfCheckFailed(f"{claim_id}: input families {sorted(set(INPUTS) ^ set(INPUT_LAWS))} have no audited "
                              "law; add them to INPUT_LAWS.")
    rng = make_rng(task_seed(run_seed, f"{claim_id}/input-laws"))
    out = {}
    for fam, (sampler, *_rest) in INPUTS.items():
        z = np.asarray(sampler(rng, size), dtype=np.float64)
        law = INPUT_LAWS[fam]
        if isinstance(law, tuple):
            (low, high), p_high = law
            off = np.setdiff1d(np.unique(z), [low, high])
            pval = 0.0 if off.size else stats.binomtest(int(np.count_nonzero(z == high)), size, p_high).pvalue
        else:
            pval = float(stats.kstest(z, law.cdf).pvalue)
        out[fam] = float(pval)
        if not pval >= INPUT_LAW_ALPHA:
            raise SelfCheckFailed(f"{claim_id}: input family {fam!r} does not draw its stated law {INPUTS[fam][1]!r} "
                                  f"(p = {pval:.2g} < {INPUT_LAW_ALPHA:g} over {size} draws); fix "
                                  "numerics.ste_dynamics.INPUTS.")
    return out


def check_nongauss_raw(ctx: MethodContext, *, variant: dict | None = None, **overrides) -> Outcome:
    """Success (last iterate = w*) per input family, raw inputs, m = 8n: VERIFIED if the Gaussian baseline succeeds
    (lower bound >= 0.8) and some non-Gaussian family fails (upper bound < 1/2); REFUTED if every family succeeds."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NONGAUSS"})
    laws = _input_law_audit(ctx.run_seed, ctx.claim_id)  # raises (ERROR) if a family draws another law
    with _compute() as cx:
        cx.runs(ctx, _family_specs(p, "none", variant))  # one batch of block tasks
        raw = _family_rates(ctx, cx, p, "none", variant)
    base = raw["gaussian"]
    failing = [f for f in NON_GAUSSIAN if raw[f]["upper_bound"] < 0.5]
    succeeding = [f for f in NON_GAUSSIAN if raw[f]["lower_bound"] >= P_OK]
    # which property explains the failure: Fisher's exact test, centered vs not, pooled over families
    table = [[sum(raw[f]["successes"] for f in NON_GAUSSIAN if raw[f]["centered"] == c),
              sum(raw[f]["trials"] - raw[f]["successes"] for f in NON_GAUSSIAN if raw[f]["centered"] == c)]
             for c in (True, False)]
    _, p_center = stats.fisher_exact(table, alternative="greater")
    evidence = {"n": p["n"], "m": 8 * p["n"], "trials": p["trials"], "steps_T": p["steps"], "families": raw,
                "failing (upper bound < 1/2)": failing, "succeeding (lower bound >= 0.8)": succeeding,
                "centered_vs_noncentered_successes": table, "fisher_p_centered_succeed_more": float(p_center),
                "variant": variant or {}, "compute": cx.evidence(),
                "input_law_audit_p_values": laws}
    scope = Scope(f"n = {p['n']}, m = 8n, the {len(INPUTS)} input families of numerics.ste_dynamics.INPUTS, "
                  f"{p['trials']} trials each")
    findings = []
    if failing and all(not raw[f]["centered"] for f in failing) and p_center < 1e-3:
        findings.append(Finding(Category.IMPRECISION, (
            f"what explains the failure is the mean, not non-Gaussianity: every failing family ({', '.join(failing)}) "
            "is non-centered, including the Gaussian-shaped N(1, 1); centered non-Gaussian families (discrete, "
            f"skewed, heavy-tailed) succeed raw (Fisher {_fmt_p(p_center)})")))
    if base["lower_bound"] < P_OK:
        return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope)
    if failing:
        return Outcome(Verdict.VERIFIED, evidence, scope=scope, discrepancies=findings)
    if len(succeeding) == len(NON_GAUSSIAN):
        return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample={
            "note": "STE succeeds on every non-Gaussian family tested", "families": raw})
    return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope)


def check_nongauss_every(ctx: MethodContext, *, variant: dict | None = None, **overrides) -> Outcome:
    """The literal reading 'STE fails for (every) non-Gaussian input': REFUTED if some non-Gaussian family succeeds
    raw (lower bound >= 0.8), VERIFIED if every one fails (upper bound < 1/2)."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NONGAUSS"})
    with _compute() as cx:
        cx.runs(ctx, _family_specs(p, "none", variant))
        raw = _family_rates(ctx, cx, p, "none", variant)
    ok = [f for f in NON_GAUSSIAN if raw[f]["lower_bound"] >= P_OK]
    evidence = {"families": {f: {k: raw[f][k] for k in ("rate", "lower_bound", "upper_bound", "centered")}
                             for f in NON_GAUSSIAN}, "succeeding_raw": ok, "compute": cx.evidence()}
    scope = Scope(f"n = {p['n']}, m = 8n, {len(NON_GAUSSIAN)} non-Gaussian families")
    if ok:
        return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample={
            "families_where_raw_STE_succeeds": {f: raw[f] for f in ok}},
            discrepancies=[Finding(Category.IMPRECISION, (
                f"'STE fails for general non-Gaussian data' is too broad: raw STE succeeds on {', '.join(ok)} "
                "(centered non-Gaussian families); it fails on the non-centered ones"))])
    if all(raw[f]["upper_bound"] < 0.5 for f in NON_GAUSSIAN):
        return Outcome(Verdict.VERIFIED, evidence, scope=scope)
    return Outcome(Verdict.INCONCLUSIVE, evidence, scope=scope)


#: Tolerance of the normalization audit: |per-feature mean| <= AUDIT_TOL * (1 + max|x|), |std - 1| <= AUDIT_TOL
#: (float64 rounding of m <= 8 n^2 samples is orders of magnitude below it).
AUDIT_TOL = 1e-9


def _audit_normalization(ctx: MethodContext, specs: list) -> dict[str, dict]:
    """The inputs the engine trains on are normalized as the evidence says: for one generated trial per cell
    whose normalization centers, every feature's mean over the m samples is 0, and where it scales, its
    standard deviation (root mean square without centering) is 1, recomputed here with numpy apart from the
    engine's code path, within ``AUDIT_TOL``.  A violation is a fault of the checker (the claim is ERROR)."""
    out = {}
    for _, model, *_ in specs:
        center, scale = NORMALIZATIONS[model.normalize]
        if not (center or scale):
            continue
        X = generate_trial(model, cell_seed(ctx.run_seed, ctx.claim_id, "normalization-audit/" + model.key()))[0]
        F = X.reshape(model.m, model.k * model.n)
        mean_err = float(np.abs(F.mean(axis=0)).max()) if center else 0.0
        spread = F.std(axis=0) if center else np.sqrt((F * F).mean(axis=0))
        sd_err = float(np.abs(spread - 1.0)[spread > 0].max(initial=0.0)) if scale else 0.0
        bound = AUDIT_TOL * (1.0 + float(np.abs(F).max()))
        out[model.inputs] = {"max |feature mean|": mean_err, "max |feature sd - 1|": sd_err, "tolerance": bound}
        if mean_err > bound or sd_err > AUDIT_TOL:
            raise SelfCheckFailed(
                f"normalization audit ({model.inputs}, {model.normalize!r}): per-feature mean up to {mean_err:.3g}, "
                f"|sd - 1| up to {sd_err:.3g} (tolerance {bound:.3g}); the engine's inputs are not normalized as "
                "the evidence states")
    return out


def check_nongauss_normalized(ctx: MethodContext, *, variant: dict | None = None, **overrides) -> Outcome:
    """Success per family after per-feature standardization over the m samples ((z - mean)/std).

    'Restored' for a family that fails raw (upper bound < 0.8): the normalized success is significantly above the raw
    one (one-sided Fisher test, alpha = 0.001) and its one-sided lower bound is >= 1/2.  VERIFIED if every such
    family is restored and the Gaussian baseline keeps a lower bound >= 0.8; REFUTED if one of them still fails
    (normalized upper bound < 1/2).  A restored family that stays significantly below the Gaussian baseline is
    reported as a finding, with the certified fixed points (zero STE gradient, non-zero loss) that hold it."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NONGAUSS"})
    with _compute() as cx:
        cx.runs(ctx, _family_specs(p, "none", None) + _family_specs(p, "standardize", variant))
        raw = _family_rates(ctx, cx, p, "none", None)
        norm = _family_rates(ctx, cx, p, "standardize", variant)
    audit = _audit_normalization(ctx, _family_specs(p, "standardize", variant))
    evidence = {"normalization": "per feature over the m samples: (z - mean) / std (variant may change it)",
                "normalization_audit": audit,
                "raw": raw, "normalized": norm, "variant": variant or {}, "compute": cx.evidence()}
    fams = list(INPUTS)
    fig = _family_figure(fams, raw, norm, p["n"])
    evidence["family_order"] = fams
    scope = Scope(f"n = {p['n']}, m = 8n, {len(INPUTS)} families, {p['trials']} trials each")
    failing_raw = [f for f in fams if raw[f]["upper_bound"] < P_OK]
    restored, findings = {}, []
    base = norm["gaussian"]
    for f in failing_raw:
        _, p_up = stats.fisher_exact([[norm[f]["successes"], norm[f]["trials"] - norm[f]["successes"]],
                                      [raw[f]["successes"], raw[f]["trials"] - raw[f]["successes"]]],
                                     alternative="greater")
        _, p_below = stats.fisher_exact([[base["successes"], base["trials"] - base["successes"]],
                                         [norm[f]["successes"], norm[f]["trials"] - norm[f]["successes"]]],
                                        alternative="greater")
        restored[f] = {"fisher_p_normalized_above_raw": float(p_up), "restored": bool(
            p_up < 1e-3 and norm[f]["lower_bound"] >= 0.5), "fisher_p_below_gaussian": float(p_below)}
        if restored[f]["restored"] and p_below < 1e-3:
            findings.append(Finding(Category.IMPRECISION, (
                f"normalization restores {f} only partly: {norm[f]['rate']:.2f} vs {base['rate']:.2f} for Gaussian "
                f"inputs (Fisher {_fmt_p(p_below)}); the failing trials end at certified fixed points of the ReLU STE "
                f"with non-zero loss ({norm[f]['fixed_points_with_loss']} of {norm[f]['trials'] - norm[f]['successes']})"
                " -- the student's active set inside the teacher's, so every residual is gated off")))
    evidence["failing_raw"] = failing_raw
    evidence["restoration"] = restored
    not_restored = [f for f in failing_raw if norm[f]["upper_bound"] < 0.5]
    if not_restored:
        return Outcome(Verdict.REFUTED, evidence, figures=[fig], scope=scope, counterexample={
            "families_not_restored": {f: {"raw": raw[f], "normalized": norm[f]} for f in not_restored}})
    if failing_raw and all(r["restored"] for r in restored.values()) and base["lower_bound"] >= P_OK:
        return Outcome(Verdict.VERIFIED, evidence, figures=[fig], scope=scope, discrepancies=findings)
    return Outcome(Verdict.INCONCLUSIVE, evidence, figures=[fig], scope=scope, discrepancies=findings)


def _two_sided_cp(k: int, N: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval of a success rate k/N (scipy.stats.binomtest, exact)."""
    ci = stats.binomtest(int(k), int(N)).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def _family_figure(fams, raw, norm, n: int) -> Figure:
    """Success rate per input family (one named tick each), raw and normalized inputs as two series side by side,
    with two-sided 95% Clopper-Pearson intervals."""
    series = []
    for dodge, label, d in ((-0.1, "raw inputs", raw),
                            (0.1, f"normalized inputs ({norm['gaussian']['normalization']})", norm)):
        cis = [_two_sided_cp(d[f]["successes"], d[f]["trials"]) for f in fams]
        series.append(Series(f"{label}, 95% Clopper-Pearson", tuple(i + dodge for i in range(len(fams))),
                             tuple(d[f]["rate"] for f in fams), tuple(c[0] for c in cis), tuple(c[1] for c in cis),
                             style="points"))
    return Figure("success-by-family", f"success by input family, raw vs normalized (n = {n}, m = 8n)",
                  "input distribution of $x$", r"success probability $P(w_T = w^*)$", tuple(series),
                  hlines=(P_OK, 0.5), xticks=tuple((float(i), f) for i, f in enumerate(fams)))


def _fmt_p(p: float) -> str:
    """``p = 3.1e-12``, or ``p < 1e-300`` when the p-value underflowed to 0 in double precision."""
    return f"p = {p:.1e}" if p > 0 else "p < 1e-300"


def _population_traps(n: int, center: bool, scale: bool = False) -> tuple[int, int, dict | None]:
    """Exact enumeration for inputs z uniform on {0,1}^n (optionally centered: 2z - 1 = (z - 1/2)/(1/2), i.e. the
    population standardization; ``scale`` alone multiplies by 2 and changes no sign).  For every pair w != w* in Q1,
    2^n E[g(w)] = sum_z r(z) 1{z.s > 0} z is an integer vector; w is a *trap* if no coordinate is pushed to flip
    (E g_i s_i <= 0 for all i): the expected-gradient method then never leaves w's orthant.  Returns
    (traps, pairs, an example)."""
    Z = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int64)
    if center:
        Z = 2 * Z - 1
    elif scale:
        Z = 2 * Z
    S = np.array(list(itertools.product((-1, 1), repeat=n)), dtype=np.int64)
    H = (Z @ S.T > 0).astype(np.int64)  # exact integers
    # the products below run in float64 (BLAS); every entry is an integer of magnitude <= 2 n 2^n < 2^53, so
    # every partial sum is exact and the float results are the integer ones
    Zf, Hf = Z.astype(np.float64), H.astype(np.float64)
    traps, example = 0, None
    for j in range(len(S)):
        r = Hf - Hf[:, j:j + 1]
        G = Zf.T @ (r * Hf)  # (n, 2^n): 2^n E g at every s, teacher s_j
        pushed = np.any(G.T * S > 0, axis=1)
        pushed[j] = True
        t = np.nonzero(~pushed)[0]
        traps += t.size
        if t.size and example is None:
            example = {"w_signs": S[t[0]].tolist(), "w_star_signs": S[j].tolist(),
                       "2^n E[g]": [int(x) for x in G[:, t[0]]]}
    return traps, len(S) * (len(S) - 1), example


def check_nongauss_population_traps(ctx: MethodContext, *, center_raw: bool = False, **overrides) -> Outcome:
    """Exact (integer) enumeration: raw {0,1} inputs have traps w != w* of the expected STE step, for every n."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NONGAUSS"})
    ns = list(range(3, p["n_max_enum"] + 1))
    rows = []
    for n in ns:
        traps, pairs, ex = _population_traps(n, center_raw)
        rows.append({"n": n, "pairs": pairs, "traps": traps, "example": ex})
    evidence = {"inputs": "z uniform on {0,1}^n" + (" centered (mutant premise)" if center_raw else ", raw"),
                "arithmetic": "integers, summed in float64 (|values| <= 2 n 2^n < 2^53: exact)", "rows": rows}
    scope = Scope(f"n in {ns}: every pair (w, w*) in Q1 x Q1, the population (expected) STE step", complete=False)
    if all(r["traps"] > 0 for r in rows):
        return Outcome(Verdict.PROVED, evidence, scope=scope)
    return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample={
        "n_without_traps": [r["n"] for r in rows if r["traps"] == 0]})


def check_nongauss_population_normalized(ctx: MethodContext, *, center: bool = True, **overrides) -> Outcome:
    """Exact enumeration: after population standardization of {0,1} inputs (2z - 1) no pair w != w* is a trap."""
    p = params(ctx, {**overrides, "_claim": "QSTE-NONGAUSS"})
    ns = list(range(3, p["n_max_enum"] + 1))
    rows = []
    for n in ns:
        traps, pairs, ex = _population_traps(n, center, scale=not center)
        rows.append({"n": n, "pairs": pairs, "traps": traps, "example": ex})
    evidence = {"inputs": "z uniform on {0,1}^n, normalized " + ("(2z - 1)" if center else "without centering (2z)"),
                "arithmetic": "integers, summed in float64 (exact, < 2^53)", "rows": rows}
    scope = Scope(f"n in {ns}: every pair (w, w*) in Q1 x Q1, the population (expected) STE step")
    bad = [r for r in rows if r["traps"] > 0]
    if bad:
        return Outcome(Verdict.REFUTED, evidence, scope=scope, counterexample=bad[0])
    return Outcome(Verdict.PROVED, evidence, scope=scope)


# ============================================================================ the claims


_MODEL_TEXT = (
    "Model (numerics.ste_dynamics): m samples Z_j in R^(k x n), i.i.d. N(0,1) entries; F(Z; w) = v^T H(Z w), "
    "H = 1{. > 0}; w in Q1 = {+-1/sqrt(n)}^n; labels y_j = v^T H(Z_j w*), teacher w* uniform on Q1; empirical "
    "loss f(w) = (1/2m) sum_j (F(Z_j; w) - y_j)^2. STE-gradient method: g(w) = (1/m) sum_j r_j sum_a v_a "
    "1{z_ja.w > 0} z_ja (ReLU derivative in the backward pass), latent u_0 = w_0 (w_0 uniform on Q1), "
    "u_(t+1) = u_t - eta_t g(w_t), w_(t+1) = sign(u_(t+1))/sqrt(n) with sign(0) = +1, eta_t = 1/sqrt(t+1) "
    "(admissible in QSTE-LR), T steps. (k, v) in {(1, 1), (3, ones), (3, (1, -1, 1/2))}. A trial whose STE gradient "
    "is exactly 0 in float64 is certified frozen forever (u_(t+1) = u_t bit for bit). ")

QSTE_ERG = Claim(
    id="QSTE-ERG",
    parameters=_parameters("QSTE-ERG"),
    title="O(n^2) samples give ergodic convergence of the STE-gradient method to w*",
    source=QsteSource("Results: ergodic convergence; abstract", ""),
    statement_printed="Ergodic Convergence: Guaranteed convergence to the global minimum with a sample complexity of "
                      "O(n^2).",
    statement_checked=(
        _MODEL_TEXT + "Statement: there is a constant C such that with m = C n^2 samples, with probability >= 0.8 "
        "(one-sided 99 % Clopper-Pearson lower bound per cell), the iterates converge ergodically to w*. Reading "
        "'visit': the time average of 1{w_t = w*} over t in [T/2, T] is >= 0.9 (a trial certified absorbed at w* has "
        "Cesaro limit 1); reading 'loss': the time average of the empirical loss over [T/2, T] is <= 1e-3. Checked at "
        "n = 8, 16, 32 (quick; to n_max in the full tier), C in {1/4, 1/2, 1}; plus the threshold m*(n) (success "
        "level 0.9 and 1/2, adaptive search up to 16 n^2; k = 1 in the quick tier, every (k, v) in the full tier, k = 3 "
        "to n = n_max_fit_k3) "
        "with log m* = a + b log n, n = 8..64 (quick): consistent with O(n^2) if the 95 % interval of b is <= 2, "
        "refuted if it lies above 2 or if 16 n^2 samples do not reach level 0.9 at the largest n; and, by exhaustive enumeration of Q1 (n <= 10), w* is the unique global minimiser "
        "of f at m = n^2 (probability >= 0.8). Holds at the measured sizes only (VERIFIED at best)."),
    methods=(
        Method("success-at-C-n2", Kind.MONTECARLO, check_erg_sweep,
               "ergodic success rate (time at w*) at m = C n^2 over n, C and (k, v), with CP bounds",
               reading="visit", scope=Scope("n = 8..n_max, m = C n^2, C in {1/4, 1/2, 1}")),
        Method("success-at-C-n2-loss", Kind.MONTECARLO, functools.partial(check_erg_sweep, criterion="loss"),
               "ergodic success rate (loss average) at m = C n^2", reading="loss",
               scope=Scope("n = 8..n_max, m = C n^2, C in {1/4, 1/2, 1}")),
        Method("threshold-exponent", Kind.MONTECARLO, check_erg_exponent,
               "adaptive search of m*(n), fit of log m* on log n with a bootstrap interval on the exponent",
               reading="visit", scope=Scope("(k, v) configurations 1..fit_configs; k = 1: n = 8..n_max_fit, "
                                 "k = 3: n = 8..n_max_fit_k3")),
        Method("global-minimum-enumeration", Kind.EXACT, check_erg_enumeration,
               "exhaustive enumeration of Q1: w* is the unique zero of the empirical loss at m = n^2 (certified signs)",
               part="w* is the unique global minimum at m = n^2", scope=Scope("n in {6, 8, 10} (quick)")),
    ),
    readings=(Reading("visit", "ergodic = the time average of 1{w_t = w*} tends to 1"),
              Reading("loss", "ergodic = the time average of the empirical loss tends to its minimum 0")),
    discrepancies=(
        Finding(Category.IMPRECISION, "The summaries give no theorem: 'ergodic convergence', the failure probability "
                "and the constant in O(n^2) are not stated; the readings and the level 0.8 are choices of this check."),
    ),
    tags=("qste", "dynamics", "sample-complexity"),
)

QSTE_NONERG = Claim(
    id="QSTE-NONERG",
    parameters=_parameters("QSTE-NONERG"),
    title="O(n^4) samples give non-ergodic convergence: the iterates visit w* infinitely often",
    source=QsteSource("Results: non-ergodic convergence; abstract", ""),
    statement_printed="Non-Ergodic Convergence: Iterates visit the optimal weights infinitely often with a "
                      "complexity of O(n^4).",
    statement_checked=(
        _MODEL_TEXT + "Statement: there is a constant C such that with m = C n^4 samples, with probability >= 0.8, "
        "the iterates converge non-ergodically. Reading 'last': the last iterate w_T = w*; reading 'visits': w_t = w* "
        "for some t in [T/2, T] and that visit is certified permanent (zero gradient) or returns keep occurring in "
        "[T/2, T]. Checked at n = 4, 6, 8, 10 (quick), C in {1/64, 1/16, 1/4}; the threshold m*(n) of the last "
        "iterate with its exponent (n = 8..64 quick, k = 1; every (k, v) in the full tier; consistent with O(n^4) if the 95 % interval of b is <= 4; a "
        "missing crossing below 16 n^2 leaves it undecided); and, by exhaustive "
        "enumeration of Q1 (n <= 8), w* is the only fixed point of the STE map at m = n^4/4 (a second fixed point "
        "would trap trials forever). Holds at the measured sizes only (VERIFIED at best)."),
    methods=(
        Method("last-iterate-at-C-n4", Kind.MONTECARLO, check_nonerg_sweep,
               "last-iterate success rate at m = C n^4 over n, C and (k, v)", reading="last",
               scope=Scope("n = 4..n_max, m = C n^4")),
        Method("late-visits-at-C-n4", Kind.MONTECARLO, functools.partial(check_nonerg_sweep, criterion="visits"),
               "certified-permanent or recurring visits to w* in [T/2, T] at m = C n^4", reading="visits",
               scope=Scope("n = 4..n_max, m = C n^4")),
        Method("threshold-exponent", Kind.MONTECARLO, check_nonerg_exponent,
               "adaptive search of the last-iterate threshold m*(n) and its exponent", reading="last",
               scope=Scope("(k, v) configurations 1..fit_configs; k = 1: n = 8..n_max_fit, "
                                 "k = 3: n = 8..n_max_fit_k3")),
        Method("fixed-point-enumeration", Kind.EXACT, check_nonerg_fixed_points,
               "exhaustive enumeration of the STE map's fixed points on Q1 (integer coefficients, certified signs)",
               part="w* is the only fixed point at m = n^4/4", scope=Scope("n in {4, 5, 6, 8} (quick)")),
    ),
    readings=(Reading("last", "non-ergodic = the last iterate equals w*"),
              Reading("visits", "non-ergodic = visits to w* keep occurring (certified permanent or recurring)")),
    discrepancies=(
        Finding(Category.IMPRECISION, "The summaries give no theorem; 'non-ergodic convergence' is glossed as "
                "'iterates visit the optimal weights infinitely often', which without label noise is the same event "
                "as the last iterate staying at w* (w* is a fixed point); both readings are measured."),
    ),
    tags=("qste", "dynamics", "sample-complexity"),
)

QSTE_NOISE = Claim(
    id="QSTE-NOISE",
    parameters=_parameters("QSTE-NOISE"),
    title="With label noise the STE iterates repeatedly escape from and return to w* (recurrence)",
    source=QsteSource("Results: label noise behavior; abstract", ""),
    statement_printed="Label Noise Behavior: Analysis reveals the recurrence property where optimization iterates "
                      "escape and return to the optimal weights rather than converging permanently.",
    statement_checked=(
        _MODEL_TEXT.replace("labels y_j = v^T H(Z_j w*)", "labels y_j = v^T H(Z_j w*) + sigma eps_j (eps_j ~ N(0,1), "
                            "drawn once per sample)")
        + "k = 1, v = 1, n = 16, m = n^2, sigma in {0.1, 0.3, 0.5}, T = 1000 (quick). Statement: (i) escapes are "
        "forced: g(w*) has a coordinate with g_i s*_i > 0 (beyond its rounding bound), so an iterate at w* leaves it "
        "(the schedule is non-summable), on >= 80 % of data sets (exact per data set; contrast sigma = 0: g(w*) = 0 "
        "exactly, w* absorbing); (ii) recurrence: more than half of the trials return to w* in [T/2, T] (exact "
        "binomial test, alpha = 0.001), with escapes in [T/2, T], from w_0 = w*; the same statistics from random w_0 "
        "are reported."),
    methods=(
        Method("forced-escape", Kind.EXACT, check_noise_forced_escape,
               "g(w*) pushes some coordinate out of w*'s orthant (certified against rounding), noiseless contrast",
               part="escapes are forced", scope=Scope("n = 16, m = 256, sigma in {0.1, 0.3, 0.5}")),
        Method("return-statistics", Kind.MONTECARLO, check_noise_recurrence,
               "returns, escapes, return and sojourn times over long runs; binomial test of recurrence",
               part="returns keep occurring", scope=Scope("n = 16, m = 256, sigma in {0.1, 0.3, 0.5}, T = 1000")),
    ),
    discrepancies=(
        Finding(Category.IMPRECISION, "The summaries do not say whether label noise is redrawn per step or fixed per "
                "sample, nor define 'recurrence'; this check fixes it per sample and measures returns at a finite "
                "horizon."),
    ),
    tags=("qste", "dynamics", "label-noise"),
)

QSTE_NONGAUSS = Claim(
    id="QSTE-NONGAUSS",
    parameters=_parameters("QSTE-NONGAUSS"),
    title="STE fails for general non-Gaussian data; normalization restores it",
    source=QsteSource("abstract (seed 001): empirical evaluations", ""),
    statement_printed="Empirical evaluations reveal that while STE is ineffective for general non-Gaussian data, its "
                      "performance can be reinstated by applying normalization.",
    statement_checked=(
        _MODEL_TEXT.replace("i.i.d. N(0,1) entries", "i.i.d. entries of an input family (gaussian, rademacher, "
                            "uniform, student-t3, centered-exponential, shifted-gaussian N(1,1), bernoulli {0,1}, "
                            "exponential, lognormal)")
        + "The network and the teacher see the same (possibly normalized) inputs; normalization = per feature over "
        "the m samples, (z - mean)/std. k = 1, v = 1, n = 16, m = 8n, success = last iterate w_T = w*. Statement "
        "(reading 'some'): (i) raw STE fails (success upper bound < 1/2) on some non-Gaussian family where the "
        "Gaussian baseline succeeds (lower bound >= 0.8), and the expected STE step on raw {0,1}^n inputs has traps "
        "w != w* (orthants it never leaves; exact enumeration, n <= 8); (ii) after normalization every family that "
        "fails raw is restored (success significantly above raw, Fisher alpha = 0.001, and lower bound >= 1/2) while "
        "the Gaussian baseline keeps >= 0.8, and the standardized {0,1} inputs (2z - 1) have no trap. The literal reading "
        "'every non-Gaussian family fails' is checked separately."),
    methods=(
        Method("raw-success-by-family", Kind.MONTECARLO, check_nongauss_raw,
               "success per input family, raw inputs, with CP bounds; Fisher test centered vs not",
               part="raw STE fails", reading="some", scope=Scope("n = 16, m = 8n, 9 families")),
        Method("population-traps-raw", Kind.EXACT, check_nongauss_population_traps,
               "exact integer enumeration of the expected STE step on {0,1}^n: traps w != w* exist",
               part="raw STE fails", reading="some", scope=Scope("n = 3..8, every pair in Q1 x Q1")),
        Method("normalized-success-by-family", Kind.MONTECARLO, check_nongauss_normalized,
               "success per family after standardization, with CP bounds", part="normalization restores",
               scope=Scope("n = 16, m = 8n, 9 families")),
        Method("population-traps-normalized", Kind.EXACT, check_nongauss_population_normalized,
               "exact enumeration after standardization (2z - 1): no trap", part="normalization restores",
               scope=Scope("n = 3..8, every pair in Q1 x Q1")),
        Method("every-family-fails", Kind.MONTECARLO, check_nongauss_every,
               "literal reading: raw STE fails on every non-Gaussian family", role="printed", reading="every",
               category=Category.IMPRECISION, scope=Scope("n = 16, m = 8n, 8 non-Gaussian families")),
    ),
    readings=(Reading("some", "STE fails for some non-Gaussian input distributions"),
              Reading("every", "STE fails for every non-Gaussian input distribution")),
    discrepancies=(
        Finding(Category.IMPRECISION, "The abstract names neither the non-Gaussian distributions nor the "
                "normalization; 'general non-Gaussian' is read both as 'some' and as 'every' family."),
    ),
    tags=("qste", "dynamics", "non-gaussian"),
)

CLAIMS = (QSTE_ERG, QSTE_NONERG, QSTE_NOISE, QSTE_NONGAUSS)
