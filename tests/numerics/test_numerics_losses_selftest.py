"""The gradient self-test of numerics.losses: passes on the tree, and fails on a planted wrong gradient."""

import numpy as np
import pytest

from stecheck.errors import SelfCheckFailed
from stecheck.numerics import losses as L


def test_gradient_selftest_passes():
    assert L._selftest_failures() == []


@pytest.mark.parametrize("cls, wrong", [
    (L.SquareSum, lambda self, X: -np.broadcast_to(2.0 * X.sum(axis=1, keepdims=True), X.shape).copy()),
    (L.Ex2, lambda self, X: 1.0 - 2.0 * np.pi * np.cos(np.pi * X)),
])
def test_gradient_selftest_catches_a_wrong_gradient(monkeypatch, cls, wrong):
    monkeypatch.setattr(cls, "_grad", wrong)
    assert any(cls.__name__ in b for b in L._selftest_failures())
    monkeypatch.setattr(L._losses_selftest, "passed", False)
    with pytest.raises(SelfCheckFailed, match="gradient self-test"):
        L.SquareSum().grad(np.ones((1, 3)))


def test_multilinear_gradient_off_the_cube():
    ml = L.Multilinear({(0, 1, 2): 2.0}, n=3)
    X = np.array([[2.0, 3.0, 0.0], [0.5, -4.0, 1.5]])
    np.testing.assert_array_equal(ml.grad(X), [[0.0, 0.0, 12.0], [-12.0, 1.5, -4.0]])


@pytest.mark.parametrize("cls, flag", [(L.Ex2, True), (L.Linear, False), (L.QuadraticMultilinear, False),
                                       (L.Quadratic, True)])
def test_selftest_catches_a_wrong_multilinear_flag(monkeypatch, cls, flag):
    monkeypatch.setattr(cls, "is_multilinear", flag)
    assert any(f"{cls.__name__}.is_multilinear is {flag}" in b for b in L._selftest_failures())


def test_selftest_catches_power_one_not_multilinear(monkeypatch):
    real = L.Power.__init__

    def init(self, k):  # the mutant k < 1: Power(1) = sum x_i would be called non-multilinear
        real(self, k)
        self.is_multilinear = self.k < 1

    monkeypatch.setattr(L.Power, "__init__", init)
    assert any("Power(1).is_multilinear is False" in b for b in L._selftest_failures())


@pytest.mark.parametrize("cls, wrong", [
    (L.Linear, lambda self, X: X @ self.c - self.c0),                       # constant term negated
    (L.Multilinear, None),                                                  # constant term 0.5 -> 1
    (L.QuadraticMultilinear, lambda self, X: L.Quadratic._value(self, X) - (X * X) @ self._colsq),  # sum dropped
])
def test_selftest_catches_a_value_off_by_a_constant(monkeypatch, cls, wrong):
    """An error of the value that does not depend on x leaves every central difference (and so the gradient
    check) unchanged; the value check against the formula written apart sees it."""
    if cls is L.Multilinear:
        real = L.Multilinear._value
        wrong_fn = lambda self, X: real(self, X) + 0.5  # noqa: E731
    else:
        wrong_fn = wrong
    monkeypatch.setattr(cls, "_value", wrong_fn)
    bad = L._selftest_failures()
    assert any(f"{cls.__name__}.value at the points" in b for b in bad)
    assert not any(f"{cls.__name__}.grad" in b for b in bad)
