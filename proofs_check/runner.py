"""Run the methods of a set of claims, in-process or as Dask tasks, reproducibly.

Every method is one task.  Its randomness comes from
``numerics.seeding.task_seed(run_seed, "CLAIM-ID/method")`` -- a
``SeedSequence`` derived from the run seed and the task's stable key, never
from the worker that runs it or the order tasks complete in -- so the same
seed gives identical evidence for any number of workers.

Executors:

* ``workers=0``: in this process, one task after another.
* ``workers=N`` (N >= 1): an embedded ``distributed.LocalCluster`` with N
  single-threaded worker processes, closed at the end of the run.
* ``scheduler="tcp://host:8786"``: an existing Dask cluster (see the README).
* ``client=distributed.Client(...)``: a client the caller already holds (e.g. of a
  ``dask_jobqueue.SLURMCluster``); it is used and left open.

Dask's conventions: when neither ``scheduler`` nor ``client`` is given and
``workers`` is ``None`` (the default: "a cluster of some size"), the scheduler
address of Dask's configuration is used if one is set -- the
``DASK_SCHEDULER_ADDRESS`` environment variable or ``scheduler-address`` in a
Dask YAML file (``dask.config.get("scheduler-address")``); see
:func:`configured_scheduler`.  The run records the cluster's size (workers and
threads) in ``environment["cluster"]``.

The engine never prints: progress goes to an optional ``progress`` callback.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stecheck.numerics.blas import one_blas_thread
from stecheck.numerics.distributed import connect, local_client, quiet_distributed_logs
from stecheck.numerics.seeding import task_seed

import types
from collections.abc import Mapping
from typing import Any

from .claim import Claim, ClaimResult, Method, MethodContext, MethodResult, Outcome, Tier, jsonable, resolve_params
from stecheck.errors import InvalidArgument, SchedulerLost, SchedulerUnreachable
from .results import RunResult
from .verdict import Finding, Scope, Verdict

__all__ = ["execute_method", "run_claims", "default_workers", "environment", "replay_command",
           "configured_scheduler", "cluster_size"]

ProgressCallback = Callable[[str, MethodResult | None], None]
"""Called with ("start", None) once per task and ("done", result) when a task finishes."""

_LIBRARIES = (
    "stecheck", "numpy", "scipy", "sympy", "mpmath", "dask", "distributed",
    "python-flint", "z3-solver", "cvxpy", "matplotlib", "hypothesis", "rich",
)


def default_workers() -> int:
    """Size of the embedded cluster: one worker per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def environment() -> dict[str, object]:
    """Versions of Python, the platform and every library that can change a result."""
    versions = {}
    for lib in _LIBRARIES:
        try:
            versions[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            versions[lib] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "versions": versions,
    }


def replay_command(claim_id: str, seed: int, tier: Tier | str, settings: Mapping[str, Any] | None = None) -> str:
    """The command that reproduces a claim's evidence (with the ``--set`` values the claim uses)."""
    sets = "".join(f" --set {k}={v}" for k, v in sorted((settings or {}).items()))
    return f"stecheck run {claim_id} --seed {seed} --tier {Tier(tier).value} --workers 0{sets}"


def check_settings(claims: Sequence[Claim], settings: Mapping[str, Any] | None) -> None:
    """Reject a ``--set`` key no selected claim declares, or a value of the wrong type (before any work)."""
    if not settings:
        return
    valid = {p.name: p for c in claims for p in c.parameters}
    for key, value in settings.items():
        if key not in valid:
            names = ", ".join(sorted(valid)) or "none (the selected claims have no parameters)"
            raise InvalidArgument(f"--set {key}: no selected claim has a parameter {key!r}; valid keys: {names}")
        for c in claims:
            for p in c.parameters:
                if p.name == key:
                    p.parse(value)


def execute_method(claim: Claim, method: Method, run_seed: int, tier: Tier | str,
                   settings: Mapping[str, Any] | None = None) -> MethodResult:
    """Run one method and record its outcome; an exception becomes an ERROR result, never a crash."""
    tier = Tier(tier)
    key = f"{claim.id}/{method.name}"
    seed = task_seed(run_seed, key)
    params = resolve_params(claim, tier, settings)
    ctx = MethodContext(claim_id=claim.id, method=method.name, run_seed=run_seed, seed=seed, tier=tier,
                        params=types.MappingProxyType(params))
    start = time.perf_counter()
    try:
        with one_blas_thread():  # the same summation order in-process and on any worker (numerics.blas)
            outcome = method.check(ctx)
        if not isinstance(outcome, Outcome) or not isinstance(outcome.verdict, Verdict):
            raise TypeError(f"{key}: check must return an Outcome with a Verdict, got {outcome!r}")
        if outcome.scope is not None and not isinstance(outcome.scope, Scope):
            raise TypeError(f"{key}: Outcome.scope must be a Scope, got {outcome.scope!r}")
        evidence = jsonable(outcome.evidence)
        evidence.setdefault("seed", {"run_seed": run_seed, "task_key": key, "spawn_key": list(seed.spawn_key)})
        if params:
            evidence.setdefault("parameters", jsonable(params))
        return MethodResult(
            name=method.name, kind=method.kind, part=method.part, role=method.role,
            verdict=outcome.verdict, evidence=evidence, seconds=time.perf_counter() - start,
            discrepancies=[_finding(d, method) for d in outcome.discrepancies],
            counterexample=jsonable(outcome.counterexample) if outcome.counterexample is not None else None,
            figures=list(outcome.figures), fingerprint=method.fingerprint(),
            scope=outcome.scope or method.scope, reading=method.reading, category=method.category,
        )
    except Exception as exc:  # a failing method is reported, the run goes on
        tb = traceback.format_exc(limit=-4)
        return MethodResult(
            name=method.name, kind=method.kind, part=method.part, role=method.role,
            verdict=Verdict.ERROR, evidence={"traceback": tb}, seconds=time.perf_counter() - start,
            fingerprint=method.fingerprint(), error=f"{type(exc).__name__}: {exc}",
            scope=method.scope, reading=method.reading, category=method.category,
        )


def _finding(d: Finding | str, method: Method) -> Finding:
    """A method's measured discrepancy as a finding; a plain string takes the method's category."""
    if isinstance(d, Finding):
        return d if d.source else Finding(d.category, d.text, method.name)
    return Finding(method.refutation_category, str(d), method.name)


@dataclass(frozen=True)
class _Task:
    claim: Claim
    method: Method


def _validate(seed: int, workers: int | None) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"--seed must be a non-negative integer, got {seed!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise InvalidArgument(
            f"--workers must be 0 (run in this process) or a positive number of worker processes, got {workers!r}"
        )


def configured_scheduler() -> str | None:
    """The scheduler address from Dask's configuration, or ``None``.

    Dask maps the environment variable ``DASK_SCHEDULER_ADDRESS`` and the key
    ``scheduler-address`` of its YAML files (``~/.config/dask/*.yaml``,
    ``DASK_CONFIG``) onto the same setting; an empty value counts as unset.
    """
    import dask

    address = dask.config.get("scheduler-address", None)
    if address is None or (isinstance(address, str) and not address.strip()):
        return None
    if not isinstance(address, str):
        raise InvalidArgument(f"Dask's 'scheduler-address' setting must be an address string such as "
                              f"tcp://host:8786, got {address!r}; fix DASK_SCHEDULER_ADDRESS or your Dask config")
    return address.strip()


def cluster_size(client) -> dict[str, int]:
    """``{"workers": N, "threads": T}`` of the cluster behind ``client`` (``T`` summed over workers)."""
    try:
        info = client.scheduler_info(n_workers=-1)  # newer distributed lists only 5 workers by default
    except TypeError:  # pragma: no cover - older distributed: every worker is listed
        info = client.scheduler_info()
    workers = info.get("workers", {})
    return {"workers": len(workers), "threads": int(sum(int(w.get("nthreads", 0)) for w in workers.values()))}


def _check_client(client) -> None:
    status = getattr(client, "status", None)
    if status in ("closed", "closing", "failed") or not hasattr(client, "submit"):
        raise InvalidArgument(f"the distributed.Client passed to stecheck is {status or 'not a Client'}; pass an "
                              "open Client (distributed.Client(address) or Client(cluster)), or leave client out "
                              "to use a local cluster")


def _in_process(tasks, seed, tier, settings=None):
    for t in tasks:
        yield t, execute_method(t.claim, t.method, seed, tier, settings)


def _on_cluster(client, tasks, seed, tier, settings=None):
    """One future per method; yields in completion order (the caller re-orders).

    ``execute_method`` turns every failure of a check into an ERROR result, so an exception from a
    future means the cluster itself failed (scheduler or all workers gone): that is
    :class:`~stecheck.errors.SchedulerLost`, naming how many tasks completed, never a traceback.
    """
    from distributed import as_completed

    futures = {
        client.submit(execute_method, t.claim, t.method, seed, tier, settings, pure=False,
                      key=f"{t.claim.id}/{t.method.name}-{os.getpid()}-{time.time_ns()}"): t
        for t in tasks
    }
    done: list[str] = []
    try:
        for fut in as_completed(futures, loop=client.loop):
            result = fut.result()
            done.append(f"{futures[fut].claim.id}/{futures[fut].method.name}")
            yield futures[fut], result
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except Exception as exc:  # noqa: BLE001 - the cluster, not a check, failed
        shown = ", ".join(done[:5]) + (", ..." if len(done) > 5 else "")
        raise SchedulerLost(
            f"lost the Dask cluster ({type(exc).__name__}) after {len(done)} of {len(tasks)} "
            f"tasks completed{f' ({shown})' if done else ''}; no report was written, the previous report set "
            f"was kept; restart the scheduler and workers and run again"
        ) from None
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))


def run_claims(
    claims: Sequence[Claim],
    *,
    seed: int = 0,
    tier: Tier | str = Tier.QUICK,
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout: float = 10.0,
    progress: ProgressCallback | None = None,
    client=None,
    settings: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run every method of ``claims`` that belongs to ``tier`` and collect the results.

    ``workers=None`` means the scheduler of Dask's configuration if one is set
    (:func:`configured_scheduler`), else an embedded local cluster with
    :func:`default_workers` processes; ``workers=0`` runs in this process.
    ``client`` is an open ``distributed.Client`` to run on (left open).  The
    returned results are in claim and method order whatever the completion order.
    """
    _validate(seed, workers)
    from_config = False
    if client is not None:
        if scheduler is not None or workers is not None:
            raise InvalidArgument("give one of client=, scheduler= or workers=, not several")
        _check_client(client)
    elif scheduler is None and workers is None:
        scheduler = configured_scheduler()
        from_config = scheduler is not None
    try:
        tier = Tier(tier)
    except ValueError:
        raise InvalidArgument(f"--tier must be 'quick' or 'full', got {tier!r}") from None
    claims = [c for c in claims if c.methods_for(tier)]
    check_settings(claims, settings)
    settings = dict(settings or {})
    tasks = [_Task(c, m) for c in claims for m in c.methods_for(tier)]
    started_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    notify = progress or (lambda event, result: None)

    results: dict[tuple[str, str], MethodResult] = {}
    cluster: dict[str, object] = {"workers": 0, "threads": 1, "kind": "in-process"}
    with contextlib.ExitStack() as stack:
        kind = "client" if client is not None else "scheduler" if scheduler is not None else "local"
        if client is not None:
            stack.enter_context(quiet_distributed_logs())  # a lost scheduler is reported in one line
            workers_label: int | str = getattr(client.scheduler, "address", None) or "client"
        elif scheduler is not None:
            stack.enter_context(quiet_distributed_logs())  # a lost scheduler is reported in one line
            try:
                client = stack.enter_context(contextlib.closing(connect(scheduler, timeout=scheduler_timeout)))
            except (InvalidArgument, SchedulerUnreachable) as exc:
                if not from_config:
                    raise
                raise type(exc)(f"{exc} (the address came from DASK_SCHEDULER_ADDRESS or the 'scheduler-address' "
                                "setting of your Dask config; unset it or pass --workers N for a local cluster)") from None
            workers_label = scheduler
        elif workers == 0:
            client, workers_label = None, 0
        else:
            workers_label = workers if workers is not None else default_workers()
            client = stack.enter_context(local_client(workers_label))

        if client is not None:
            cluster = {**cluster_size(client), "kind": kind}
        for _ in tasks:  # once the executor is ready: a scheduler that does not answer fails before any "start"
            notify("start", None)
        completed = (_in_process(tasks, seed, tier, settings) if client is None
                     else _on_cluster(client, tasks, seed, tier, settings))
        for task, res in completed:
            results[(task.claim.id, task.method.name)] = res
            notify("done", res)

    claim_results = [
        ClaimResult(
            claim_id=c.id, title=c.title, source=str(c.source),
            statement_printed=c.statement_printed, statement_checked=c.statement_checked,
            methods=[results[(c.id, m.name)] for m in c.methods_for(tier)],
            static_discrepancies=list(c.findings), readings=list(c.readings), paper=c.source.paper,
            replay=replay_command(c.id, seed, tier, {k: v for k, v in settings.items()
                                                     if any(p.name == k for p in c.parameters)}),
        )
        for c in claims
    ]
    return RunResult(
        claims=claim_results, seed=seed, tier=tier.value, workers=workers_label,
        started_at=started_at, seconds=time.perf_counter() - t0, environment={**environment(), "cluster": cluster},
    )
