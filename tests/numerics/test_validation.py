"""numerics._validation.short_repr: the repr shown in error messages is kept whole up to its limit."""

from stecheck.numerics._validation import short_repr


def test_short_repr_keeps_a_repr_of_exactly_the_limit_and_truncates_one_more():
    # mutation survivor "len(text) <= limit" -> "<": a repr of exactly `limit` characters must stay whole
    exact = "x" * 118  # repr adds the two quotes: 120 characters
    assert short_repr(exact) == repr(exact) and len(short_repr(exact)) == 120
    longer = "x" * 119
    assert short_repr(longer) == repr(longer)[:117] + "..." and len(short_repr(longer)) == 120
    assert short_repr("ab", limit=4) == "'ab'"


def test_as_matrix_accepts_one_row_or_one_column_and_refuses_an_empty_axis():
    # guard "0 in arr.shape": a 1 x n or n x 1 matrix is a valid non-empty matrix; 0 x n and n x 0 are refused
    import numpy as np
    import pytest

    from stecheck.errors import InvalidArgument
    from stecheck.numerics._validation import as_matrix

    assert as_matrix([[1.0, 2.0, 3.0]], "M").shape == (1, 3)
    assert as_matrix([[1.0], [2.0]], "M").shape == (2, 1)
    assert as_matrix([[5.0]], "M").shape == (1, 1)
    for shape in ((0, 3), (3, 0)):
        with pytest.raises(InvalidArgument, match="non-empty 2-D"):
            as_matrix(np.zeros(shape), "M")
