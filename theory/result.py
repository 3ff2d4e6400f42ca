"""The record a derivation returns, and its JSON form.

Mathematical object: none of its own; a :class:`DerivationResult` names the
paper equation it reproduces (e.g. "SBN Prop. B.3, eq. (20)"), holds the
derived sympy expressions, the cross-checks that were run (with their numbers)
and the notes on where the derived result differs from the printed paper.

JSON form (``stecheck derive NAME --json`` and the on-disk cache)::

    {"name": ..., "equation": ...,
     "result": {key: {"srepr": sympy.srepr(e), "str": str(e)}},
     "checks": [...], "notes": [...]}

``srepr`` round-trips exactly (symbols keep their assumptions).  Reading it
back never evaluates the text: :func:`parse_srepr` parses it with
:func:`ast.parse` and accepts only calls of a fixed list of sympy classes
(:data:`SREPR_CLASSES`), ``Function('name')(...)`` applications, the named
constants (``pi``, ``E``, ``oo``, ...), string/int/bool literals where those
classes take them and assumption keywords; it builds the expression itself
and the result must reproduce the text exactly.  Anything else is
:class:`~stecheck.errors.MalformedFile`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

import sympy

from stecheck.errors import MalformedFile

__all__ = ["DerivationResult", "to_json", "from_json", "to_latex", "parse_srepr", "SREPR_CLASSES", "MAX_SREPR"]


@dataclass(frozen=True)
class DerivationResult:
    """Derived expressions of one derivation, with its cross-checks and notes."""

    name: str
    equation: str
    result: dict[str, sympy.Basic]
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """Jupyter: one table row per derived expression, typeset by MathJax (``$...$``), then checks and notes."""
        import html

        rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>$${html.escape(sympy.latex(v))}$$</td></tr>"
                       for k, v in self.result.items())
        items = "".join(f"<li>{html.escape(c)}</li>" for c in self.checks)
        notes = "".join(f"<li><em>differs from the paper</em>: {html.escape(n)}</li>" for n in self.notes)
        return (f"<div><strong>{html.escape(self.name)}</strong> (reproduces {html.escape(self.equation)})"
                f"<table><tbody>{rows}</tbody></table>"
                + (f"<p>cross-checks:</p><ul>{items}</ul>" if items else "")
                + (f"<ul>{notes}</ul>" if notes else "") + "</div>")


def to_json(result: DerivationResult) -> dict[str, Any]:
    """JSON-plain dict of ``result`` (see the module docstring for the layout)."""
    return {
        "name": result.name,
        "equation": result.equation,
        "result": {k: {"srepr": sympy.srepr(v), "str": str(v)} for k, v in result.result.items()},
        "checks": list(result.checks),
        "notes": list(result.notes),
    }


def to_latex(result: DerivationResult) -> str:
    """A LaTeX fragment (needs amsmath): each derived expression as ``key = expr`` in an ``align*``.

    Keys are set in ``\\mathrm{}`` with LaTeX's special characters escaped; the
    expressions are ``sympy.latex``; checks and notes become ``%`` comments.
    """
    def key(k: str) -> str:
        special = {"\\": r"\backslash ", "_": r"\_", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                   "{": r"\{", "}": r"\}", "~": r"\sim ", "^": r"\hat{}"}
        return r"\mathrm{" + "".join(special.get(ch, ch) for ch in k) + "}"

    def comment(text: str) -> str:
        return "% " + " ".join(str(text).split())

    lines = [comment(f"stecheck derive {result.name}: reproduces {result.equation}"), r"\begin{align*}"]
    rows = [f"  {key(k)} &= {sympy.latex(v)}" for k, v in result.result.items()]
    lines.append(" \\\\\n".join(rows))
    lines.append(r"\end{align*}")
    lines += [comment(f"cross-check: {c}") for c in result.checks]
    lines += [comment(f"differs from the paper: {n}") for n in result.notes]
    return "\n".join(lines) + "\n"


def from_json(data: Any) -> DerivationResult:
    """Inverse of :func:`to_json`; any deviation from the layout raises ``MalformedFile``.

    Each ``srepr`` is parsed back and must reproduce itself exactly.
    """
    try:
        if not isinstance(data, dict):
            raise TypeError("top level is not an object")
        name, equation = data["name"], data["equation"]
        checks, notes, raw = data["checks"], data["notes"], data["result"]
        if not (isinstance(name, str) and isinstance(equation, str) and isinstance(raw, dict)):
            raise TypeError("name/equation/result have the wrong types")
        if not all(isinstance(s, str) for s in list(checks) + list(notes)):
            raise TypeError("checks and notes must be lists of strings")
        result = {}
        for key, entry in raw.items():
            text = entry["srepr"]
            if not isinstance(entry, dict) or not isinstance(text, str):
                raise TypeError(f"result {key!r} has no srepr string")
            expr = parse_srepr(text)
            if sympy.srepr(expr) != text:
                raise ValueError(f"srepr of {key!r} does not round-trip")
            result[key] = expr
    except Exception as exc:  # noqa: BLE001 - any defect means the same thing: malformed
        raise MalformedFile(
            f"not a derivation result in the to_json layout ({type(exc).__name__}: {str(exc)[:160]}); "
            f"expected keys name, equation, result{{key: {{srepr, str}}}}, checks, notes. "
            f"Recreate it with theory.derivations.to_json."
        ) from None
    return DerivationResult(name, equation, result, list(checks), list(notes))


# ---------------------------------------------------------------------------- the srepr reader

#: Largest srepr text read back (characters) and deepest nesting of calls.
MAX_SREPR = 2_000_000
MAX_SREPR_DEPTH = 400

#: sympy classes an srepr may call; nothing else is ever looked up.
SREPR_CLASSES = frozenset({
    "Symbol", "Integer", "Rational", "Float", "Add", "Mul", "Pow", "Tuple", "ImmutableDenseMatrix",
    "exp", "log", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "atan2", "acot",
    "sinh", "cosh", "tanh", "coth", "asinh", "acosh", "atanh", "erf", "erfc", "erfinv", "erfcinv",
    "gamma", "loggamma", "polygamma", "digamma", "beta", "Abs", "sign", "floor", "ceiling", "Min", "Max",
    "Heaviside", "DiracDelta", "LambertW", "re", "im", "conjugate", "arg",
    "Piecewise", "ExprCondPair", "ITE", "And", "Or", "Not", "Xor", "Implies",
    "Equality", "Unequality", "LessThan", "GreaterThan", "StrictLessThan", "StrictGreaterThan",
    "Derivative", "Integral", "Sum", "Product", "Subs", "Limit", "Order",
})
_CONSTANTS = {"pi": "pi", "E": "E", "oo": "oo", "zoo": "zoo", "nan": "nan", "I": "I",
              "true": "true", "false": "false", "EulerGamma": "EulerGamma", "Catalan": "Catalan",
              "GoldenRatio": "GoldenRatio"}
_NAME = re.compile(r"^[^\x00-\x1f]{1,200}$")
_FLOAT_TEXT = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$|^[-+]?(inf|nan)$")
_STRING_ARG = {"Symbol", "Float"}


def _sympy_class(name: str):
    """The sympy class called ``name`` in an srepr (``name`` is in :data:`SREPR_CLASSES`)."""
    if name == "ExprCondPair":
        from sympy.functions.elementary.piecewise import ExprCondPair

        return ExprCondPair
    return getattr(sympy, name)


def _assumption_keys() -> frozenset[str]:
    from sympy.core.assumptions import _assume_defined

    return frozenset(_assume_defined) | {"commutative"}


def parse_srepr(text: str) -> sympy.Basic:
    """The sympy object whose ``sympy.srepr`` is ``text``, built without evaluating any code.

    Raises ``ValueError`` on anything outside the whitelist (see the module docstring).
    """
    if not isinstance(text, str) or len(text) > MAX_SREPR:
        raise ValueError(f"srepr must be a string of at most {MAX_SREPR} characters")
    if not text.isascii():
        raise ValueError("srepr must be ASCII")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"srepr is not well formed ({type(exc).__name__})") from None
    reader = _SreprReader(_assumption_keys())
    try:
        return reader.read(tree.body, 0)
    except RecursionError:
        raise ValueError("srepr is nested too deeply") from None


def _int_literal(node: ast.AST) -> int | None:
    """The value of an integer literal ``5`` or ``-5``, else ``None``."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None


class _SreprReader:
    def __init__(self, assumptions: frozenset[str]):
        self.assumptions = assumptions

    def read(self, node: ast.AST, depth: int):
        if depth > MAX_SREPR_DEPTH:
            raise ValueError("srepr is nested too deeply")
        if isinstance(node, ast.Name):
            if node.id not in _CONSTANTS:
                raise ValueError(f"name {node.id[:40]!r} is not an allowed constant")
            return getattr(sympy, _CONSTANTS[node.id])
        if isinstance(node, (ast.List, ast.Tuple)):  # matrix rows
            return [self.read(e, depth + 1) for e in node.elts]
        if not isinstance(node, ast.Call):
            raise ValueError(f"{type(node).__name__} is not allowed in an srepr")
        func = node.func
        if isinstance(func, ast.Call):  # Function('F')(args): an undefined function applied
            cls = self.undefined_function(func)
            if node.keywords:
                raise ValueError("function applications take no keywords")
            return cls(*[self.read(a, depth + 1) for a in node.args])
        if not isinstance(func, ast.Name) or func.id not in SREPR_CLASSES:
            shown = func.id if isinstance(func, ast.Name) else type(func).__name__
            raise ValueError(f"{shown[:40]!r} is not an allowed sympy class")
        name = func.id
        if name in ("Symbol", "Float"):
            return self.atom(name, node)
        if name in ("Integer", "Rational"):
            values = [_int_literal(a) for a in node.args]
            if node.keywords or not values or len(values) > 2 or None in values:
                raise ValueError(f"{name} takes one or two integer literals")
            return getattr(sympy, name)(*values)
        if node.keywords:
            raise ValueError(f"{name} takes no keywords in an srepr")
        args = [self.read(a, depth + 1) for a in node.args]
        if name == "ImmutableDenseMatrix":
            if len(args) != 1 or not isinstance(args[0], list):
                raise ValueError("ImmutableDenseMatrix takes one list of rows")
            return sympy.ImmutableDenseMatrix(args[0])
        if any(isinstance(a, list) for a in args):
            raise ValueError(f"{name} does not take a list")
        return _sympy_class(name)(*args)

    def keywords(self, node: ast.Call, allowed: frozenset[str]) -> dict:
        out = {}
        for kw in node.keywords:
            if kw.arg not in allowed or not isinstance(kw.value, ast.Constant):
                raise ValueError(f"keyword {str(kw.arg)[:40]!r} is not allowed")
            out[kw.arg] = kw.value.value
        return out

    def atom(self, name: str, node: ast.Call):
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or type(node.args[0].value) is not str:
            raise ValueError(f"{name} takes one string literal")
        value = node.args[0].value
        if name == "Symbol":
            kw = self.keywords(node, self.assumptions)
            if not _NAME.match(value) or not all(type(v) is bool for v in kw.values()):
                raise ValueError("bad Symbol")
            return sympy.Symbol(value, **kw)
        kw = self.keywords(node, frozenset({"precision"}))
        precision = kw.get("precision", 53)
        if not _FLOAT_TEXT.match(value) or type(precision) is not int or not 1 <= precision <= 10_000:
            raise ValueError("bad Float")
        return sympy.Float(value, precision=precision)

    def undefined_function(self, call: ast.Call):
        if not (isinstance(call.func, ast.Name) and call.func.id == "Function" and len(call.args) == 1
                and isinstance(call.args[0], ast.Constant) and type(call.args[0].value) is str
                and _NAME.match(call.args[0].value)):
            raise ValueError("only Function('name')(...) may be called")
        kw = self.keywords(call, self.assumptions)
        if not all(type(v) is bool for v in kw.values()):
            raise ValueError("bad Function assumptions")
        return sympy.Function(call.args[0].value, **kw)
