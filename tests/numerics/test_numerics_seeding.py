"""numerics.seeding: streams depend only on (run seed, key, chunk index)."""

import hashlib

import numpy as np
import pytest

from stecheck.numerics.seeding import chunk_seed, key_words, make_rng, task_seed
from stecheck.errors import InvalidArgument


def draw(seq, k=4):
    return make_rng(seq).integers(0, 2**63, size=k)


def test_task_seed_is_documented_construction():
    seq = task_seed(42, "claim-1/mc")
    digest = hashlib.sha256(b"claim-1/mc").digest()
    words = tuple(int.from_bytes(digest[4 * j : 4 * j + 4], "little") for j in range(4))
    assert key_words("claim-1/mc") == words
    assert seq.entropy == 42 and tuple(seq.spawn_key) == words


def test_streams_are_reproducible_and_distinct():
    a = draw(task_seed(1, "k"))
    assert np.array_equal(a, draw(task_seed(1, "k")))
    assert not np.array_equal(a, draw(task_seed(2, "k")))
    assert not np.array_equal(a, draw(task_seed(1, "k2")))


def test_chunk_seed_is_child_and_deterministic():
    t = task_seed(3, "x")
    c5 = chunk_seed(t, 5)
    assert tuple(c5.spawn_key) == tuple(t.spawn_key) + (5,)
    assert np.array_equal(draw(c5), draw(chunk_seed(task_seed(3, "x"), 5)))
    assert not np.array_equal(draw(c5), draw(chunk_seed(t, 6)))
    assert not np.array_equal(draw(c5), draw(t))


@pytest.mark.parametrize("bad", [-1, 1.0, "3", True, None])
def test_bad_run_seed_rejected(bad):
    with pytest.raises(InvalidArgument, match="run_seed"):
        task_seed(bad, "k")


def test_bad_key_and_chunk_rejected():
    with pytest.raises(InvalidArgument, match="key"):
        task_seed(1, 17)
    with pytest.raises(InvalidArgument, match="chunk_index"):
        chunk_seed(task_seed(1, "k"), -2)
    with pytest.raises(InvalidArgument, match="SeedSequence"):
        chunk_seed(123, 0)
