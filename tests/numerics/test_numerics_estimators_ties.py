"""The tie-rule self-test of numerics.estimators (sign(0) = +1 where continuous draws never tie)."""

import numpy as np

from stecheck.numerics import estimators as E


def test_ties_selftest_passes():
    assert E._ties_failures() == []


def test_deterministic_state_ties():
    np.testing.assert_array_equal(E.deterministic_state([0.0, -0.0, -1e-300, 1e-300]), [1.0, 1.0, -1.0, 1.0])
    np.testing.assert_array_equal(E.deterministic_state([0.0, -2.0], "01"), [1.0, 0.0])


def test_ties_selftest_catches_a_strict_comparison(monkeypatch):
    monkeypatch.setattr(E, "deterministic_state", lambda a, encoding="pm1": E.encode(np.asarray(a) > 0.0, encoding))
    assert any("deterministic_state" in b for b in E._ties_failures())
