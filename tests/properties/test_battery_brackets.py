"""The cosine bracket of width_bias_b6 contains the cosine of every vector of its box (Hypothesis search)."""

import numpy as np
from hypothesis import given, settings, strategies as st

from stecheck.proofs_check.battery.checks import cosine_bracket

coord = st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(st.tuples(coord, coord), min_size=n, max_size=n),
    st.lists(coord, min_size=n, max_size=n),
    st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))))
def test_the_bracket_contains_the_cosine_of_every_point_of_the_box(data):
    pairs, g, w = data
    low = np.array([min(p) for p in pairs])
    high = np.array([max(p) for p in pairs])
    g = np.array(g)
    if np.linalg.norm(g) < 1e-6:
        return
    lo, hi = cosine_bracket(low, high, g)
    assert -1.0 <= lo <= hi <= 1.0
    for m in (low + np.array(w) * (high - low), low, high, np.clip(g, low, high)):
        if np.linalg.norm(m) > 1e-9:
            c = float(m @ g / (np.linalg.norm(m) * np.linalg.norm(g)))
            assert lo - 1e-9 <= c <= hi + 1e-9, (c, lo, hi)


def test_the_bracket_is_tight_on_a_point_box():
    m, g = np.array([1.0, 2.0, -0.5]), np.array([0.3, 1.0, 1.0])
    c = float(m @ g / (np.linalg.norm(m) * np.linalg.norm(g)))
    lo, hi = cosine_bracket(m, m, g)
    assert abs(lo - c) < 1e-9 and abs(hi - c) < 1e-6
