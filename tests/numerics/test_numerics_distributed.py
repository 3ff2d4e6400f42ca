"""numerics.distributed: identical numbers for any worker count, after failures, and after a resume."""

import os
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

from stecheck.numerics import losses as L
from stecheck.numerics.distributed import (
    distributed_monte_carlo,
    fn_fingerprint,
    load_checkpoint,
    local_client,
)
from stecheck.numerics.estimators import EstimatorSampler
from stecheck.numerics.montecarlo import monte_carlo_mean
from stecheck.numerics.seeding import task_seed
from stecheck.errors import InvalidArgument, MalformedFile

# the helpers below are shipped to worker processes by value (this module is not importable there)
cloudpickle.register_pickle_by_value(sys.modules[__name__])

N, CHUNK = 6_000, 500


def _sampler():
    rng = np.random.default_rng(3)
    W, y, a = rng.normal(size=(5, 5)), rng.normal(size=5), rng.normal(size=5)
    return EstimatorSampler("st", L.Quadratic(W, y), a, "logistic")


def _same(r, s):
    for field in ("mean", "std_error", "low", "high"):
        assert np.array_equal(getattr(r, field), getattr(s, field)), field
    assert r.n == s.n and r.n_chunks == s.n_chunks


class FailOnce:
    """fn_chunk that raises (or kills its worker process) the first time it sees a given chunk size."""

    def __init__(self, marker_dir, *, kill=False):
        self.marker_dir = str(marker_dir)
        self.kill = kill
        self.inner = _sampler()

    def __repr__(self):
        return "FailOnce(st quadratic n=5)"

    def __call__(self, rng, size):
        marker = Path(self.marker_dir) / "failed-once"
        if size == CHUNK and not marker.exists():
            marker.write_text("x")
            if self.kill:
                os._exit(1)  # a lost worker: the process dies mid-task
            raise RuntimeError("transient failure")
        return self.inner(rng, size)


class Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def reference():
    return monte_carlo_mean(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK)


@pytest.fixture(scope="module")
def two_workers():
    with local_client(2) as client:
        yield client


def test_in_process_equals_monte_carlo_mean(reference):
    _same(distributed_monte_carlo(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK), reference)


def test_one_and_two_workers_equal_builtin_map(reference, two_workers):
    _same(distributed_monte_carlo(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK, client=two_workers),
          reference)
    with local_client(1) as one:
        _same(distributed_monte_carlo(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK, client=one),
              reference)


def test_scheduler_address_is_accepted(reference, two_workers):
    res = distributed_monte_carlo(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK,
                                  client=two_workers.scheduler.address)
    _same(res, reference)


def test_failed_chunk_is_retried_identically(reference, two_workers, tmp_path):
    res = distributed_monte_carlo(FailOnce(tmp_path), N + 123, task_seed(7, "dist"), chunk_size=CHUNK,
                                  client=two_workers, retries=1)
    assert (tmp_path / "failed-once").exists()
    _same(res, reference)


def test_lost_worker_chunk_is_recomputed_identically(reference, two_workers, tmp_path):
    res = distributed_monte_carlo(FailOnce(tmp_path, kill=True), N + 123, task_seed(7, "dist"), chunk_size=CHUNK,
                                  client=two_workers)
    assert (tmp_path / "failed-once").exists()
    _same(res, reference)


def test_failure_without_retries_propagates(two_workers, tmp_path):
    with pytest.raises(RuntimeError, match="transient"):
        distributed_monte_carlo(FailOnce(tmp_path), N, task_seed(7, "dist"), chunk_size=CHUNK,
                                client=two_workers, retries=0)


@pytest.mark.parametrize("where", ["local", "dask"])
def test_interrupted_run_resumes_to_identical_numbers(reference, two_workers, tmp_path, where):
    ckpt = tmp_path / "mc.npz"
    client = two_workers if where == "dask" else None
    seen = []

    def stop_after_five(done, total):
        seen.append(done)
        if done >= 5:
            raise Interrupt

    with pytest.raises(Interrupt):
        distributed_monte_carlo(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK, client=client,
                                checkpoint=ckpt, checkpoint_interval=3600, progress=stop_after_five)
    header, parts = load_checkpoint(ckpt)  # saved on the way out despite the long interval
    assert len(parts) >= 5 and header["chunk_size"] == CHUNK
    assert header["fn_fingerprint"] == fn_fingerprint(repr(_sampler()))
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind

    progress = []
    res = distributed_monte_carlo(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK, client=client,
                                  checkpoint=ckpt, checkpoint_interval=0, progress=lambda d, t: progress.append(d))
    assert progress[0] == len(parts)  # resumed, not restarted
    assert progress[-1] == 13
    _same(res, reference)
    # a finished checkpoint replays the same numbers without computing anything
    again = distributed_monte_carlo(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK, checkpoint=ckpt)
    _same(again, reference)


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(seed_seq=task_seed(8, "dist")), "entropy"),
        (dict(seed_seq=task_seed(7, "other")), "spawn_key"),
        (dict(chunk_size=250), "chunk_size"),
        (dict(n_samples=N), "n_samples"),
        (dict(fn_key="something else"), "sampled function"),
    ],
)
def test_mismatching_checkpoint_is_refused(tmp_path, change, field):
    ckpt = tmp_path / "mc.npz"
    base = dict(seed_seq=task_seed(7, "dist"), n_samples=N + 123, chunk_size=CHUNK)
    distributed_monte_carlo(_sampler(), base["n_samples"], base["seed_seq"], chunk_size=CHUNK, checkpoint=ckpt)
    kw = {**base, **change}
    with pytest.raises(MalformedFile, match=field) as info:
        distributed_monte_carlo(_sampler(), kw["n_samples"], kw["seed_seq"], chunk_size=kw["chunk_size"],
                                checkpoint=ckpt, fn_key=kw.get("fn_key"))
    assert "different run" in str(info.value) and str(ckpt) in str(info.value)


def test_garbage_checkpoint_is_refused(tmp_path):
    ckpt = tmp_path / "mc.npz"
    ckpt.write_text("not a checkpoint")
    with pytest.raises(MalformedFile, match="not a stecheck Monte Carlo checkpoint"):
        distributed_monte_carlo(_sampler(), N, task_seed(7, "dist"), chunk_size=CHUNK, checkpoint=ckpt)


def test_bad_arguments_are_invalid_argument():
    s = task_seed(0, "x")
    with pytest.raises(InvalidArgument, match="client="):
        distributed_monte_carlo(_sampler(), N, s, client=42)
    with pytest.raises(InvalidArgument, match="checkpoint_interval"):
        distributed_monte_carlo(_sampler(), N, s, checkpoint_interval=-1)
    with pytest.raises(InvalidArgument, match="retries"):
        distributed_monte_carlo(_sampler(), N, s, retries=-1)
    with pytest.raises(InvalidArgument, match="SeedSequence"):
        distributed_monte_carlo(_sampler(), N, 3)
    with pytest.raises(InvalidArgument, match="chunks_per_task"):
        distributed_monte_carlo(_sampler(), N, s, chunks_per_task=0)
    with pytest.raises(InvalidArgument, match="workers"):
        with local_client(0):
            pass


@pytest.mark.parametrize("chunks_per_task", [1, 5, 64, None])
def test_batching_chunks_into_tasks_changes_no_number(reference, two_workers, chunks_per_task):
    seen = []
    res = distributed_monte_carlo(_sampler(), N + 123, task_seed(7, "dist"), chunk_size=CHUNK, client=two_workers,
                                  chunks_per_task=chunks_per_task, progress=lambda d, t: seen.append(d))
    _same(res, reference)
    assert seen[0] == 0 and seen[-1] == 13 and seen == sorted(seen)  # every chunk reported, none twice


def test_batches_are_consecutive_runs_covering_every_chunk():
    from stecheck.numerics.distributed import MAX_CHUNKS_PER_TASK, TASKS_PER_THREAD, _batches
    from stecheck.numerics.montecarlo import chunk_plan

    class Client:  # two worker threads
        def nthreads(self):
            return {"a": 1, "b": 1}

    plan = chunk_plan(1000 * CHUNK + 7, CHUNK)
    auto = _batches(plan, None, Client())
    assert [item for batch in auto for item in batch] == plan
    assert max(map(len, auto)) == MAX_CHUNKS_PER_TASK  # long runs: bounded tasks
    small = _batches(plan[:16], None, Client())
    assert len(small) == 2 * TASKS_PER_THREAD and all(len(b) == 2 for b in small)  # short runs: balanced
    assert _batches(plan[:5], 2, Client()) == [plan[0:2], plan[2:4], plan[4:5]]


def test_local_workers_keep_default_malloc_thresholds(two_workers):
    # Dask's MALLOC_TRIM_THRESHOLD_=65536 turns every numpy temporary above 128 KiB into an mmap (page faults)
    env = two_workers.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert env and set(env.values()) == {os.environ.get("MALLOC_TRIM_THRESHOLD_")}  # (a killed worker may be restarting)
