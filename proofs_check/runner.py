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

from stecheck.numerics.distributed import connect, local_client
from stecheck.numerics.seeding import task_seed

import types
from collections.abc import Mapping
from typing import Any

from .claim import Claim, ClaimResult, Method, MethodContext, MethodResult, Outcome, Tier, jsonable, resolve_params
from stecheck.errors import InvalidArgument
from .results import RunResult
from .verdict import Finding, Scope, Verdict

__all__ = ["execute_method", "run_claims", "default_workers", "environment", "replay_command"]

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


def _in_process(tasks, seed, tier, settings=None):
    for t in tasks:
        yield t, execute_method(t.claim, t.method, seed, tier, settings)


def _on_cluster(client, tasks, seed, tier, settings=None):
    """One future per method; yields in completion order (the caller re-orders)."""
    from distributed import as_completed

    futures = {
        client.submit(execute_method, t.claim, t.method, seed, tier, settings, pure=False,
                      key=f"{t.claim.id}/{t.method.name}-{os.getpid()}-{time.time_ns()}"): t
        for t in tasks
    }
    for fut in as_completed(futures, loop=client.loop):
        yield futures[fut], fut.result()


def run_claims(
    claims: Sequence[Claim],
    *,
    seed: int = 0,
    tier: Tier | str = Tier.QUICK,
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout: float = 10.0,
    progress: ProgressCallback | None = None,
    settings: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run every method of ``claims`` that belongs to ``tier`` and collect the results.

    ``workers=None`` means an embedded local cluster with :func:`default_workers`
    processes; ``workers=0`` runs in this process.  The returned results are in
    claim and method order whatever the completion order.
    """
    _validate(seed, workers)
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
    for _ in tasks:
        notify("start", None)

    results: dict[tuple[str, str], MethodResult] = {}
    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            client = stack.enter_context(contextlib.closing(connect(scheduler, timeout=scheduler_timeout)))
            workers_label: int | str = scheduler
        elif workers == 0:
            client, workers_label = None, 0
        else:
            workers_label = workers if workers is not None else default_workers()
            client = stack.enter_context(local_client(workers_label))

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
        started_at=started_at, seconds=time.perf_counter() - t0, environment=environment(),
    )
