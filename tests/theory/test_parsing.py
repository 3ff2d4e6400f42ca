"""Tests of theory.parsing: what loss texts are accepted and how they are read."""

import pytest
import sympy

from stecheck.errors import InvalidArgument
from stecheck.theory.parsing import binary_symbols, parse_loss


def test_parses_default_style_loss():
    expr, n = parse_loss("(x1 + 2*x2 - 1)**2 + x1*x2**3")
    x1, x2 = binary_symbols(2)
    assert n == 2 and expr == (x1 + 2 * x2 - 1) ** 2 + x1 * x2**3


def test_caret_is_power_and_functions_are_known():
    expr, n = parse_loss("x3^2 - sin(2*pi*x1) + w*exp(x2)")
    x1, x2, x3 = binary_symbols(3)
    assert n == 3
    assert expr == x3**2 - sympy.sin(2 * sympy.pi * x1) + sympy.Symbol("w") * sympy.exp(x2)


@pytest.mark.parametrize("text", ["", "   ", "x1.__class__", "__import__('os')", "x1[0]", "lambda: x1", "x1; x2", "x1 +* x2"])
def test_rejects_bad_text(text):
    with pytest.raises(InvalidArgument):
        parse_loss(text)


def test_rejects_expressions_without_binary_variables():
    with pytest.raises(InvalidArgument, match="binary variable"):
        parse_loss("y**2")
    with pytest.raises(InvalidArgument, match="not a real scalar"):
        parse_loss("x1 < 2")
