"""numerics._validation.short_repr: the repr shown in error messages is kept whole up to its limit."""

from stecheck.numerics._validation import short_repr


def test_short_repr_keeps_a_repr_of_exactly_the_limit_and_truncates_one_more():
    # mutation survivor "len(text) <= limit" -> "<": a repr of exactly `limit` characters must stay whole
    exact = "x" * 118  # repr adds the two quotes: 120 characters
    assert short_repr(exact) == repr(exact) and len(short_repr(exact)) == 120
    longer = "x" * 119
    assert short_repr(longer) == repr(longer)[:117] + "..." and len(short_repr(longer)) == 120
    assert short_repr("ab", limit=4) == "'ab'"
