"""Guards of numerics.montecarlo at their exact boundaries (both sides)."""

import numpy as np
import pytest

from stecheck.errors import InvalidArgument
from stecheck.numerics.montecarlo import RunningMoments


def test_from_samples_accepts_one_row_and_one_column():
    m = RunningMoments.from_samples(np.array([[1.5, -2.0, 0.25]]))
    assert m.count == 1 and m.mean.tolist() == [1.5, -2.0, 0.25] and m.m2.tolist() == [0.0, 0.0, 0.0]
    m = RunningMoments.from_samples(np.array([[1.0], [3.0]]))
    assert m.count == 2 and m.mean.tolist() == [2.0] and m.m2.tolist() == [2.0]


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (3,), (1, 1, 1)])
def test_from_samples_rejects_empty_or_not_2d(shape):
    with pytest.raises(InvalidArgument, match="non-empty 2-D array"):
        RunningMoments.from_samples(np.zeros(shape))
