"""Parse a user-supplied loss ``L(x1, ..., xn)`` from text (``stecheck derive multilinear``).

Mathematical object: a real function of binary variables ``x1..xn`` given as a
sympy expression (SBN appendix B.2: "any real-valued function of binary
variables has a unique multilinear representation").  Names ``x1, x2, ...``
are the binary variables; any other bare name is a real parameter; the usual
elementary functions and constants (``sin``, ``exp``, ``pi``, ...) are known,
and ``^`` means power.  Attribute access and dunder names are refused, since
the text is evaluated by sympy's parser.
"""

from __future__ import annotations

import re

import sympy
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

from stecheck.errors import InvalidArgument

__all__ = ["ALLOWED_FUNCTIONS", "parse_loss", "binary_symbols"]

ALLOWED_FUNCTIONS = (
    "sin", "cos", "tan", "exp", "log", "sqrt", "Abs", "tanh", "sinh", "cosh",
    "atan", "erf", "Min", "Max", "sign", "pi", "E", "Rational",
)
_BASE = ("Symbol", "Integer", "Float", "Rational")
_XNAME = re.compile(r"^x([1-9][0-9]*)$")
_FORBIDDEN = re.compile(r"__|\.\s*[A-Za-z_]|\blambda\b|[;\[\]{}@`'\"\\]")
MAX_TEXT = 2000


def binary_symbols(n: int) -> tuple[sympy.Symbol, ...]:
    """``(x1, ..., xn)`` as plain sympy symbols (the names :func:`parse_loss` produces)."""
    return tuple(sympy.Symbol(f"x{i}") for i in range(1, n + 1))


def parse_loss(text: str) -> tuple[sympy.Expr, int]:
    """``(expr, n)``: the parsed expression and the largest index ``n`` of an ``x<i>`` in it."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(
            f"the loss must be a non-empty string, got {text!r}; e.g. '(x1 + 2*x2 - 1)**2'."
        )
    if len(text) > MAX_TEXT or _FORBIDDEN.search(text):
        raise InvalidArgument(
            f"cannot parse loss {text[:80]!r}: only arithmetic in x1..xn, parameters and the "
            f"functions {', '.join(ALLOWED_FUNCTIONS)} are accepted (no attributes, brackets, "
            f"quotes or dunders; at most {MAX_TEXT} characters)."
        )
    namespace = {name: getattr(sympy, name) for name in ALLOWED_FUNCTIONS + _BASE}
    namespace["__builtins__"] = {}
    try:
        expr = parse_expr(
            text,
            global_dict=namespace,
            local_dict={},
            transformations=standard_transformations + (convert_xor,),
        )
    except Exception as exc:  # noqa: BLE001 - any parser failure is a user error here
        raise InvalidArgument(
            f"cannot parse loss {text!r} ({type(exc).__name__}: {exc}); write it in sympy "
            f"syntax, e.g. '(x1 + 2*x2 - 1)**2 + x1*x2**3'."
        ) from None
    if not isinstance(expr, sympy.Expr) or expr.has(sympy.I):
        raise InvalidArgument(f"loss {text!r} is not a real scalar expression (parsed as {expr!r}).")
    indices = [int(m.group(1)) for s in expr.free_symbols if (m := _XNAME.match(s.name))]
    if not indices:
        raise InvalidArgument(
            f"loss {text!r} does not contain any binary variable; use x1, x2, ... for them."
        )
    return expr, max(indices)
