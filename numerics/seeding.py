"""Deterministic random streams for tasks and chunks (no worker identity).

Mathematical object: a tree of independent pseudo-random streams.  A run
seed and a task key (e.g. a claim and method id) name a
:class:`numpy.random.SeedSequence`; each Monte Carlo chunk ``i`` of that task
gets the child ``spawn_key = task.spawn_key + (i,)``.  A chunk's stream thus
depends only on ``(run_seed, key, chunk_index)``, never on which worker or
process computes it, so results are reproducible under any scheduling.  This
implements the sampling step ``x ~ p(x; a)`` of Alg. 1 / eq. (1)
reproducibly; it does not approximate anything (no numeric error).

Do not call ``.spawn()`` on a task sequence and also use :func:`chunk_seed` on
it: both append one word to the same ``spawn_key`` and could collide.
"""

from __future__ import annotations

import hashlib

import numpy as np

from stecheck.errors import InvalidArgument

from ._validation import as_int, short_repr

__all__ = ["task_seed", "chunk_seed", "make_rng", "key_words"]


def key_words(key: str) -> tuple[int, int, int, int]:
    """The first 16 bytes of ``sha256(key.encode('utf-8'))`` as 4 little-endian uint32 words."""
    if not isinstance(key, str):
        raise InvalidArgument(
            f"key={short_repr(key)} has type {type(key).__name__}; expected a str naming the task "
            "(e.g. 'claim-3/montecarlo')."
        )
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[4 * j : 4 * j + 4], "little") for j in range(4))  # type: ignore[return-value]


def task_seed(run_seed: int, key: str) -> np.random.SeedSequence:
    """``SeedSequence(entropy=run_seed, spawn_key=key_words(key))``; ``run_seed`` a non-negative int."""
    seed = as_int(run_seed, "run_seed", minimum=0)
    return np.random.SeedSequence(entropy=seed, spawn_key=key_words(key))


def chunk_seed(task_seq: np.random.SeedSequence, chunk_index: int) -> np.random.SeedSequence:
    """The deterministic child of ``task_seq`` for chunk ``chunk_index`` (``spawn_key + (chunk_index,)``)."""
    if not isinstance(task_seq, np.random.SeedSequence):
        raise InvalidArgument(
            f"task_seq={short_repr(task_seq)} is not a numpy.random.SeedSequence; "
            "create one with numerics.seeding.task_seed(run_seed, key)."
        )
    i = as_int(chunk_index, "chunk_index", minimum=0)
    return np.random.SeedSequence(
        entropy=task_seq.entropy,
        spawn_key=tuple(task_seq.spawn_key) + (i,),
        pool_size=task_seq.pool_size,
    )


def make_rng(seed_seq: np.random.SeedSequence) -> np.random.Generator:
    """A ``Generator(PCG64(seed_seq))`` (the bit generator is fixed so streams never change silently)."""
    if not isinstance(seed_seq, np.random.SeedSequence):
        raise InvalidArgument(
            f"seed_seq={short_repr(seed_seq)} is not a numpy.random.SeedSequence; "
            "use numerics.seeding.task_seed / chunk_seed."
        )
    return np.random.Generator(np.random.PCG64(seed_seq))
