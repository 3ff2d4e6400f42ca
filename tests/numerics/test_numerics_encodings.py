"""Known answers of numerics.encodings.Reencoded (the self-test a once-per-process wrapper runs), both directions."""

import numpy as np
import pytest

from stecheck.errors import SelfCheckFailed
from stecheck.numerics import encodings as E
from stecheck.numerics.losses import Linear


def test_reencoded_selftest_passes():
    assert E._reencoded_failures() == []


@pytest.mark.parametrize("inner, direction", [
    (lambda self, X: 0.5 * (1.0 + X) if self.source == "01" else 2.0 * X + 1.0, "source='pm1'"),
    (lambda self, X: 0.5 * (1.0 - X) if self.source == "01" else 2.0 * X - 1.0, "source='01'"),
])
def test_reencoded_selftest_refuses_a_wrong_inner_map(monkeypatch, inner, direction):
    monkeypatch.setattr(E.Reencoded, "_inner", inner)
    bad = E._reencoded_failures()
    assert len(bad) == 1 and direction in bad[0]


def test_reencoded_selftest_refuses_a_map_right_only_on_the_cube(monkeypatch):
    # 2 / x - 1 agrees with 2x - 1 at x = 1 only; at x = 0 it is not finite: reported, not raised
    monkeypatch.setattr(E.Reencoded, "_inner",
                        lambda self, X: 0.5 * (1.0 + X) if self.source == "01" else 2.0 / X - 1.0)
    with np.errstate(divide="ignore"):
        bad = E._reencoded_failures()
    assert len(bad) == 1 and "raised NonFiniteValue" in bad[0]


def test_reencoded_selftest_runs_at_construction(monkeypatch):
    monkeypatch.setattr(E.Reencoded, "_grad", lambda self, X: self.loss.grad(self._inner(X)))  # factor dropped
    monkeypatch.setattr(E._reencoded_selftest, "passed", False)
    with pytest.raises(SelfCheckFailed, match="Reencoded fails its known answers"):
        E.Reencoded(Linear([1.0]), "pm1")
    monkeypatch.setattr(E._reencoded_selftest, "passed", False)
