"""Chunked Monte Carlo over Dask futures, with checkpoints and identical numbers.

Mathematical object: the same as :func:`numerics.montecarlo.monte_carlo_mean`
-- the mean ``mu = E[Y]`` of a random vector, estimated from ``N`` draws of
``fn_chunk(rng, size) -> (size, d)`` made in chunks -- with the same interval
(CLT or empirical Bernstein at the stated confidence, widened by the rounding
bound of the mean).  Nothing is approximated beyond what that function does.

Reproducibility.  Chunk ``i`` draws from ``make_rng(chunk_seed(seed_seq, i))``
and is summarised by a :class:`~numerics.montecarlo.RunningMoments`; the
chunk summaries are folded in chunk-index order, whatever order the futures
finish in.  Hence :func:`distributed_monte_carlo` returns *bit-identical*
numbers to ``monte_carlo_mean`` with the same ``seed_seq`` and ``chunk_size``
for any number of workers, after a lost worker (Dask reruns its chunk, which
draws the same stream), after a failed chunk retried (``retries``), and after
an interrupted run resumed from its checkpoint (the stored summaries are the
exact float64 arrays, written in binary).  As in :mod:`numerics.montecarlo`
this holds on one platform (numpy build and CPU): ``fn_chunk`` may call BLAS
kernels whose last bits differ between CPUs.

Dask tasks.  Consecutive chunks are batched into one task (see
``chunks_per_task``): a task per chunk spent more time in scheduler round
trips and serialisation than in sampling once chunks took milliseconds.  Each
chunk of a batch is still summarised separately and sent back, so the fold
over chunk summaries -- and every number -- is the same for any batching.

Checkpoints.  With ``checkpoint=PATH`` the finished chunk summaries are saved
to ``PATH`` (a ``.npz``; written to a temporary file in the same directory and
renamed, so a crash never leaves a half-written checkpoint) at most every
``checkpoint_interval`` seconds, and always when the run ends or is
interrupted.  The file's header records the seed (entropy, spawn key, pool
size), ``n_samples``, ``chunk_size``, the dimension and a fingerprint of
``fn_key`` (default: ``repr(fn_chunk)`` with memory addresses removed); a
checkpoint whose header differs from the run is refused with
:class:`~proofs_check.errors.MalformedFile` naming the field, never merged
silently.  A finished run leaves its complete checkpoint in place (rerunning
returns at once with the same numbers); delete the file to start afresh.

The engine never prints: progress goes to an optional ``progress(done, total)``
callback (numbers of chunks).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument, MalformedFile

from ._validation import as_confidence, as_int, short_repr
from .blas import OneBlasThread
from .montecarlo import MonteCarloResult, RunningMoments, _ChunkTask, _result, _validate_common, chunk_plan

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "distributed_monte_carlo",
    "local_client",
    "connect",
    "scheduler_address",
    "quiet_distributed_logs",
    "fn_fingerprint",
    "load_checkpoint",
    "TASKS_PER_THREAD",
    "MAX_CHUNKS_PER_TASK",
]

CHECKPOINT_FORMAT = "stecheck-mc-checkpoint"
CHECKPOINT_VERSION = 1
#: Largest checkpoint file read (bytes).
MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done_chunks, total_chunks)`` after every finished chunk (and once at the start)."""

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):([0-9]{1,5})")


# ---------------------------------------------------------------------------- clients


@contextlib.contextmanager
def local_client(workers: int, *, threads_per_worker: int = 1) -> Iterator[Any]:
    """An embedded ``distributed.LocalCluster`` of ``workers`` single-threaded processes, closed on exit.

    ``with local_client(2) as client: distributed_monte_carlo(..., client=client)``.
    """
    workers = as_int(workers, "workers", minimum=1)
    threads_per_worker = as_int(threads_per_worker, "threads_per_worker", minimum=1)
    import dask
    from distributed import Client, LocalCluster

    # The worker processes start with SIGINT ignored (an ignored signal stays ignored across exec):
    # Ctrl-C reaches this process only, which closes the cluster; no worker prints a traceback.
    # They keep glibc's default malloc thresholds: Dask's default MALLOC_TRIM_THRESHOLD_=65536 also freezes
    # the mmap threshold at 128 KiB, so every larger numpy temporary is a fresh mmap with its page faults
    # (measured: +70 % per Monte Carlo chunk of 4096 x 64).  An explicit MALLOC_TRIM_THRESHOLD_ in the
    # environment still wins; clusters the caller brings keep their own configuration.
    with warnings.catch_warnings(), _sigint_ignored(), dask.config.set(
        {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    ):  # a second cluster finds the HTTP port taken: harmless
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
            dashboard_address=None, silence_logs=logging.CRITICAL,  # task errors reach the caller anyway
        )
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            with _sigint_ignored(), quiet_distributed_logs():  # a second Ctrl-C must not abort the shutdown
                client.close()
    finally:
        with _sigint_ignored(), quiet_distributed_logs():
            cluster.close()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT inside the block (main thread only; elsewhere a no-op); the handler is restored after."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def scheduler_address(text: str) -> str:
    """The address ``text`` as ``tcp://HOST:PORT`` (``HOST:PORT`` is read as tcp).

    Anything else -- another scheme (``tls://``, ``ucx://``, ``inproc://``), no port, a port out of
    range, characters that cannot be in a host name -- is :class:`InvalidArgument`, before any
    connection is tried.
    """
    fix = "give it as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"the scheduler address must not be empty; {fix}")
    shown = short_repr(text)
    address = text.strip()
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        raise InvalidArgument(f"scheduler address {shown}: the scheme {short_repr(scheme)} is not supported "
                              f"(only tcp://); {fix}")
    m = _HOST_PORT.fullmatch(rest)
    if m is None or not 1 <= int(m.group(2)) <= 65535:
        raise InvalidArgument(f"{shown} is not a scheduler address (expected HOST:PORT with a port in "
                              f"1..65535); {fix}")
    return f"tcp://{m.group(1)}:{int(m.group(2))}"


def connect(address: str, *, timeout: float = 10.0) -> Any:
    """A ``distributed.Client`` for the scheduler at ``address``; an unreachable one is a one-line error.

    The address is checked by :func:`scheduler_address` first; a scheduler that does not answer
    within ``timeout`` seconds is :class:`~stecheck.errors.SchedulerUnreachable` (an environment
    failure), with distributed's own log lines silenced.
    """
    from stecheck.errors import SchedulerUnreachable

    address = scheduler_address(address)
    from distributed import Client

    with quiet_distributed_logs():
        try:
            return Client(address, timeout=f"{timeout}s", set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - every failure to connect means the same to the user
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {str(exc)[:120]}); "
                "start one with `dask scheduler` and `dask worker ADDRESS`, or leave the address out to use a "
                "local cluster"
            ) from None


@contextlib.contextmanager
def quiet_distributed_logs() -> Iterator[None]:
    """Silence the ``distributed`` loggers (their multi-line reports would bury the one-line error)."""
    import distributed  # noqa: F401 - creates its loggers, with their configured levels

    names = ["distributed"] + [n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


# ---------------------------------------------------------------------------- checkpoints


def fn_fingerprint(fn_key: str) -> str:
    """``sha256`` hex digest of ``fn_key`` (the identity of the sampled function in a checkpoint header)."""
    return hashlib.sha256(fn_key.encode("utf-8")).hexdigest()


def _default_fn_key(fn_chunk: Any) -> str:
    return _ADDRESS.sub("", repr(fn_chunk))


def _header(seed_seq: np.random.SeedSequence, n_samples: int, chunk_size: int, fn_key: str) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "entropy": str(seed_seq.entropy),
        "spawn_key": [int(k) for k in seed_seq.spawn_key],
        "pool_size": int(seed_seq.pool_size),
        "n_samples": int(n_samples),
        "chunk_size": int(chunk_size),
        "fn_fingerprint": fn_fingerprint(fn_key),
        "fn_key": fn_key[:200],
    }


def _save_checkpoint(path: Path, header: dict[str, Any], parts: dict[int, RunningMoments]) -> None:
    idx = sorted(parts)
    d = parts[idx[0]].dim if idx else 0

    def stack(attr: str) -> np.ndarray:
        return np.array([getattr(parts[i], attr) for i in idx], dtype=np.float64).reshape(len(idx), d)

    arrays = {
        "header": np.array(json.dumps(header, sort_keys=True)),
        "index": np.array(idx, dtype=np.int64),
        "count": np.array([parts[i].count for i in idx], dtype=np.int64),
        "total": stack("total"),
        "comp": stack("comp"),
        "m2": stack("m2"),
        "minimum": stack("minimum"),
        "maximum": stack("maximum"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[int, RunningMoments]]:
    """``(header, {chunk_index: RunningMoments})`` stored in a checkpoint; a bad file is :class:`MalformedFile`."""
    import io

    from stecheck.safeio import loads_json, read_bytes

    p = Path(path)
    fix = "delete it to start the run afresh"
    shown = short_repr(str(p))
    raw = read_bytes(p, limit=MAX_CHECKPOINT_BYTES, what="checkpoint", fix=fix)  # regular file, bounded
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            header_text = str(z["header"])
            idx, count = z["index"], z["count"]
            arrays = {k: z[k] for k in ("total", "comp", "m2", "minimum", "maximum")}
        header = loads_json(header_text, what=f"checkpoint {shown} header", fix=fix, max_depth=4)
        if idx.ndim != 1 or count.shape != idx.shape or any(a.ndim != 2 or a.shape[0] != idx.size
                                                             for a in arrays.values()):
            raise ValueError("arrays of inconsistent shapes")
    except MalformedFile:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged archive can fail in many ways; all mean the same
        raise MalformedFile(
            f"checkpoint {shown} is not a stecheck Monte Carlo checkpoint ({type(exc).__name__}: "
            f"{str(exc)[:80]}); {fix}"
        ) from None
    if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        raise MalformedFile(f"checkpoint {str(p)!r} has no {CHECKPOINT_FORMAT!r} header; {fix}")
    if header.get("version") != CHECKPOINT_VERSION:
        raise MalformedFile(
            f"checkpoint {str(p)!r} has version {header.get('version')!r}; this stecheck reads version "
            f"{CHECKPOINT_VERSION} only; {fix}"
        )
    parts = {
        int(i): RunningMoments(
            int(count[j]), arrays["total"][j].copy(), arrays["comp"][j].copy(), arrays["m2"][j].copy(),
            arrays["minimum"][j].copy(), arrays["maximum"][j].copy(),
        )
        for j, i in enumerate(idx)
    }
    return header, parts


def _resume(path: Path, header: dict[str, Any], plan: list[tuple[int, int]]) -> dict[int, RunningMoments]:
    if not os.path.lexists(path):
        return {}
    stored, parts = load_checkpoint(path)
    for key in ("entropy", "spawn_key", "pool_size", "n_samples", "chunk_size", "fn_fingerprint"):
        if stored.get(key) != header[key]:
            what = "the sampled function (fn_key)" if key == "fn_fingerprint" else key
            shown_key = "fn_key" if key == "fn_fingerprint" else key
            shown = (stored.get(shown_key), header[shown_key])
            raise MalformedFile(
                f"checkpoint {str(path)!r} belongs to a different run: its {what} is {shown[0]!r}, this run's is "
                f"{shown[1]!r}; resuming would mix two experiments. Pass another checkpoint path or delete the file."
            )
    sizes = dict(plan)
    for i, m in parts.items():
        if sizes.get(i) != m.count:
            raise MalformedFile(
                f"checkpoint {str(path)!r} holds chunk {i} with {m.count} samples, but this run's chunk {i} "
                f"has {sizes.get(i)}; the file is corrupt. Delete it to start afresh."
            )
    dims = {m.dim for m in parts.values()}
    if len(dims) > 1:
        raise MalformedFile(f"checkpoint {str(path)!r} mixes chunk dimensions {sorted(dims)}; delete it.")
    return parts


# ---------------------------------------------------------------------------- the run


def _as_client(client: Any, timeout: float) -> tuple[Any, bool]:
    """``(client, owned)``: a ``distributed.Client``, connecting if given an address string."""
    if client is None:
        return None, False
    if isinstance(client, str):
        return connect(client, timeout=timeout), True
    if not (hasattr(client, "submit") and hasattr(client, "gather")):
        raise InvalidArgument(
            f"client={short_repr(client)} is neither a distributed.Client nor a scheduler address; "
            "pass None (this process), a Client (e.g. from local_client(2)) or 'tcp://host:8786'."
        )
    return client, False


class _BatchTask:
    """Picklable ``[(index, size), ...] -> [(index, RunningMoments), ...]``: several chunks in one Dask task.

    Each chunk is still drawn from its own stream and summarised on its own, so batching changes
    nothing in the numbers; it only saves scheduler round trips and serialisations per chunk.
    """

    def __init__(self, task: _ChunkTask):
        self.task = task

    def __call__(self, items: list[tuple[int, int]]) -> list[tuple[int, RunningMoments]]:
        return [self.task(item) for item in items]


#: Dask tasks per worker thread when ``chunks_per_task`` is automatic (enough to balance the load) ...
TASKS_PER_THREAD = 4
#: ... and the most chunks one task carries (so that progress and checkpoints still come regularly).
MAX_CHUNKS_PER_TASK = 64


def _batches(todo: list[tuple[int, int]], chunks_per_task: int | None, client: Any) -> list[list[tuple[int, int]]]:
    """``todo`` cut into consecutive runs of chunks, one per Dask task."""
    if chunks_per_task is None:
        try:
            threads = max(1, sum(client.nthreads().values()))
        except Exception:  # noqa: BLE001 - an unusual client: fall back to one chunk per task
            threads = len(todo)
        chunks_per_task = min(MAX_CHUNKS_PER_TASK, max(1, -(-len(todo) // (TASKS_PER_THREAD * threads))))
    return [todo[i : i + chunks_per_task] for i in range(0, len(todo), chunks_per_task)]


def distributed_monte_carlo(
    fn_chunk: Callable[[np.random.Generator, int], Any],
    n_samples: int,
    seed_seq: np.random.SeedSequence,
    *,
    client: Any = None,
    chunk_size: int = 4096,
    confidence: float = 0.99,
    method: str = "clt",
    value_range: tuple[Any, Any] | None = None,
    simultaneous: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_interval: float = 5.0,
    fn_key: str | None = None,
    retries: int = 2,
    progress: ProgressCallback | None = None,
    scheduler_timeout: float = 10.0,
    chunks_per_task: int | None = None,
) -> MonteCarloResult:
    """Mean of ``n_samples`` draws of ``fn_chunk`` with an interval at ``confidence``, chunk by chunk.

    ``client``: ``None`` computes the chunks in this process (builtin map
    order); a ``distributed.Client`` (see :func:`local_client`) or a scheduler
    address submits the chunks as futures, ``chunks_per_task`` consecutive
    chunks per future (default: about ``TASKS_PER_THREAD`` futures per worker
    thread, at most ``MAX_CHUNKS_PER_TASK`` chunks each; the numbers do not
    depend on it).  ``retries``: how many times Dask reruns a task that raised
    (a task on a lost worker is rerun by the scheduler anyway).  ``checkpoint``/``checkpoint_interval``/``fn_key``: see
    the module docstring.  The result equals ``monte_carlo_mean(fn_chunk,
    n_samples, seed_seq, chunk_size=chunk_size, ...)`` bit for bit.
    """
    _validate_common(fn_chunk, seed_seq, method, value_range, map)
    as_confidence(confidence)
    retries = as_int(retries, "retries", minimum=0)
    if not isinstance(checkpoint_interval, (int, float)) or isinstance(checkpoint_interval, bool) or not (
        checkpoint_interval >= 0
    ):
        raise InvalidArgument(
            f"checkpoint_interval={short_repr(checkpoint_interval)} must be a number of seconds >= 0 "
            "(0 saves after every chunk)."
        )
    if progress is not None and not callable(progress):
        raise InvalidArgument(f"progress={short_repr(progress)} is not callable; expected progress(done, total).")
    if fn_key is not None and not isinstance(fn_key, str):
        raise InvalidArgument(f"fn_key={short_repr(fn_key)} must be a str naming the sampled function.")
    if chunks_per_task is not None:
        chunks_per_task = as_int(chunks_per_task, "chunks_per_task", minimum=1)
    plan = chunk_plan(n_samples, chunk_size)
    header = _header(seed_seq, n_samples, chunk_size, fn_key if fn_key is not None else _default_fn_key(fn_chunk))
    path = Path(checkpoint) if checkpoint is not None else None
    parts: dict[int, RunningMoments] = _resume(path, header, plan) if path is not None else {}
    todo = [item for item in plan if item[0] not in parts]
    total = len(plan)
    notify = progress or (lambda done, total: None)
    notify(len(parts), total)

    task = _ChunkTask(fn_chunk, seed_seq)
    last_save = time.monotonic()
    dirty = False

    def finished(index: int, moments: RunningMoments) -> None:
        nonlocal last_save, dirty
        if parts and moments.dim != next(iter(parts.values())).dim:
            raise InvalidArgument(
                f"fn_chunk returned {moments.dim} columns for chunk {index} but "
                f"{next(iter(parts.values())).dim} for earlier chunks; every chunk must have the same width."
            )
        parts[index] = moments
        dirty = True
        if path is not None and time.monotonic() - last_save >= checkpoint_interval:
            _save_checkpoint(path, header, parts)
            last_save, dirty = time.monotonic(), False
        notify(len(parts), total)

    owned_client, owned = _as_client(client, scheduler_timeout)
    try:
        if owned_client is None:
            for item in todo:
                finished(*task(item))
        elif todo:
            from distributed import as_completed

            batches = _batches(todo, chunks_per_task, owned_client)
            futures = owned_client.map(OneBlasThread(_BatchTask(task)), batches, pure=False, retries=retries)
            try:
                for fut in as_completed(futures, loop=owned_client.loop):
                    for index, moments in fut.result():
                        finished(index, moments)
            finally:
                owned_client.cancel(futures)
    finally:
        if path is not None and dirty and parts:
            _save_checkpoint(path, header, parts)
        if owned:
            owned_client.close()

    moments = RunningMoments.merge_all(parts[i] for i, _ in plan)
    return _result(moments, confidence, method, value_range, bool(simultaneous), len(plan))
