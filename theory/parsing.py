"""Parse a user-supplied loss ``L(x1, ..., xn)`` from text (``stecheck derive multilinear``).

Mathematical object: a real function of binary variables ``x1..xn`` given as a
sympy expression (SBN appendix B.2: "any real-valued function of binary
variables has a unique multilinear representation").  Names ``x1, x2, ...``
are the binary variables; any other plain name is a real parameter; the
functions of :data:`ALLOWED_FUNCTIONS` and the constants ``pi`` and ``E`` are
known, and ``^`` means power.

Nothing in the text is ever evaluated as code.  The text (ASCII only; a
look-alike letter such as the fullwidth ``ｓ`` is refused before Python's
parser would NFKC-normalise it) is parsed by :func:`ast.parse` into a syntax
tree, and :func:`parse_loss` walks that tree itself, accepting only numbers,
names, ``+ - * / ** ^``, unary ``+``/``-`` and calls of whitelisted function
names, and building the sympy expression node by node.  Attributes,
subscripts, lambdas, keywords, strings, comparisons and every other construct
are refused.  Limits keep every step fast: at most :data:`MAX_TEXT`
characters, :data:`MAX_DEPTH` levels of nesting, :data:`MAX_INT_DIGITS`
digits per integer literal (and per exact number computed from them),
numeric exponents of magnitude at most :data:`MAX_EXPONENT` and at most
:data:`MAX_TERMS` terms once expanded.  A sub-expression that is not a finite real number
(``x1/0``, ``log(0)``, ``nan``, ``1e999``) is refused with one line naming it.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata

import sympy

from stecheck.errors import InvalidArgument, NonFiniteValue

__all__ = [
    "ALLOWED_FUNCTIONS", "CONSTANTS", "MAX_TEXT", "MAX_DEPTH", "MAX_EXPONENT", "MAX_INT_DIGITS",
    "parse_loss", "binary_symbols",
]

#: Function name -> (sympy callable, minimum number of arguments, maximum number of arguments).
_FUNCTIONS = {
    "sin": (sympy.sin, 1, 1), "cos": (sympy.cos, 1, 1), "tan": (sympy.tan, 1, 1),
    "exp": (sympy.exp, 1, 1), "log": (sympy.log, 1, 2), "sqrt": (sympy.sqrt, 1, 1),
    "Abs": (sympy.Abs, 1, 1), "tanh": (sympy.tanh, 1, 1), "sinh": (sympy.sinh, 1, 1),
    "cosh": (sympy.cosh, 1, 1), "atan": (sympy.atan, 1, 1), "erf": (sympy.erf, 1, 1),
    "Min": (sympy.Min, 1, 16), "Max": (sympy.Max, 1, 16), "sign": (sympy.sign, 1, 1),
    "Rational": (sympy.Rational, 1, 2),
}
#: Named constants.
CONSTANTS = {"pi": sympy.pi, "E": sympy.E}
ALLOWED_FUNCTIONS = tuple(_FUNCTIONS) + tuple(CONSTANTS)

MAX_TEXT = 2000
MAX_DEPTH = 200
MAX_EXPONENT = 64
MAX_INT_DIGITS = 15
MAX_NAME = 32
#: Largest number of terms the expression may expand to (products of sums, integer powers of sums).
MAX_TERMS = 2000
#: Largest number of decimal digits of an exact (Integer or Rational) value, literal or computed:
#: larger ones would leave float64 (write 1e20 for a large float).
_MAX_NUMBER_DIGITS = MAX_INT_DIGITS

_XNAME = re.compile(r"^x([1-9][0-9]{0,5})$")
_PARAM = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
#: Names sympy or Python read as something special: refused as parameters to avoid any confusion.
_RESERVED = frozenset({
    "nan", "NaN", "inf", "Inf", "oo", "zoo", "I", "infinity", "Infinity", "S", "N", "O", "Q", "lambda",
    "True", "False", "None", "and", "or", "not", "if", "else", "for", "in", "is",
})
_EXAMPLE = "e.g. '(x1 + 2*x2 - 1)**2 + w*sin(pi*x3)'"


def binary_symbols(n: int) -> tuple[sympy.Symbol, ...]:
    """``(x1, ..., xn)`` as plain sympy symbols (the names :func:`parse_loss` produces)."""
    return tuple(sympy.Symbol(f"x{i}") for i in range(1, n + 1))


def _show(text: str, limit: int = 60) -> str:
    """``text`` quoted and cut to ``limit`` characters, for error messages (never echo unbounded input)."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _refuse(text: str, why: str) -> InvalidArgument:
    return InvalidArgument(
        f"cannot parse loss {_show(text)}: {why}; accepted are numbers, x1..xn, parameter names, "
        f"+ - * / ** ^, parentheses and the functions {', '.join(_FUNCTIONS)} and constants "
        f"{', '.join(CONSTANTS)} ({_EXAMPLE})"
    )


_ALLOWED_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t+-*/^().,")


def _check_characters(text: str) -> None:
    for pos, ch in enumerate(text):
        if ch in _ALLOWED_CHARS:
            continue
        if not ch.isascii() or not ch.isprintable():
            normal = unicodedata.normalize("NFKC", ch)
            looks = f", which looks like {normal!r}" if normal != ch and normal.isascii() else ""
            name = unicodedata.name(ch, "a control character")
            raise _refuse(text, f"character {pos + 1} is U+{ord(ch):04X} ({name}){looks}; only plain ASCII "
                                f"is accepted, retype it")
        raise _refuse(text, f"character {pos + 1} {ch!r} is not part of an arithmetic expression")


def _depth(tree: ast.AST) -> int:
    """Nesting depth of ``tree`` (iterative: a deep tree never exhausts the Python stack here)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _digits(value: sympy.Basic) -> int:
    if isinstance(value, sympy.Integer):
        return len(str(abs(int(value)))) if value != 0 else 1
    if isinstance(value, sympy.Rational):
        return max(_digits(sympy.Integer(value.p)), _digits(sympy.Integer(value.q)))
    return 0


class _Builder:
    """Builds the sympy expression of a checked syntax tree; see the module docstring."""

    def __init__(self, text: str):
        self.text = text

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or "?"

    def refuse(self, why: str) -> InvalidArgument:
        return _refuse(self.text, why)

    def finite(self, node: ast.AST, value: sympy.Basic) -> sympy.Basic:
        bad = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)
        if value in bad or (isinstance(value, sympy.Basic) and any(value.has(b) for b in bad)):
            raise NonFiniteValue(
                f"loss {_show(self.text)}: the sub-expression {_show(self.segment(node), 40)} is not a finite "
                f"real number (division by zero, log(0) or an infinite constant); change the loss"
            )
        if _digits(value) > _MAX_NUMBER_DIGITS:
            raise self.refuse(f"the exact number {_show(self.segment(node), 40)} has more than "
                              f"{_MAX_NUMBER_DIGITS} digits (write a float such as 1e20 for a large number)")
        return value

    def build(self, node: ast.AST) -> sympy.Basic:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self.refuse(f"{_show(self.segment(node), 40)} is a {_kind(node)}, which is not allowed")
        return self.finite(node, method(node))

    def _Expression(self, node: ast.Expression):
        return self.build(node.body)

    def _Constant(self, node: ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.refuse(f"{_show(self.segment(node), 40)} is not a real number literal")
        if isinstance(v, int):
            return sympy.Integer(v)
        return sympy.Float(repr(v)) if v == v and abs(v) != float("inf") else sympy.nan

    def _Name(self, node: ast.Name):
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in _FUNCTIONS:
            raise self.refuse(f"{name} is a function: call it, e.g. {name}(x1)")
        if len(name) > MAX_NAME or not _PARAM.match(name) or name in _RESERVED:
            raise self.refuse(f"name {_show(name, 40)} is not allowed (variables are x1, x2, ...; parameters "
                              f"are letters and digits, at most {MAX_NAME} characters, not {', '.join(sorted(_RESERVED)[:6])}...)")
        if name.startswith("x") and name[1:].isdigit() and not _XNAME.match(name):
            raise self.refuse(f"variable {name} is not one of x1, x2, ... (at most 6 digits, no leading zero)")
        return sympy.Symbol(name)

    def _UnaryOp(self, node: ast.UnaryOp):
        operand = self.build(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.refuse(f"operator in {_show(self.segment(node), 40)} is not allowed (only + and -)")

    def _BinOp(self, node: ast.BinOp):
        op = node.op
        left = self.build(node.left)
        right = self.build(node.right)
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            if right == 0:
                raise NonFiniteValue(f"loss {_show(self.text)}: {_show(self.segment(node), 40)} divides by zero; "
                                     f"change the loss")
            return left / right
        if isinstance(op, ast.Pow):
            return self.power(node, left, right)
        raise self.refuse(f"operator in {_show(self.segment(node), 40)} is not allowed (only + - * / ** ^)")

    def power(self, node: ast.AST, base: sympy.Basic, exponent: sympy.Basic) -> sympy.Basic:
        if not exponent.is_number:
            raise self.refuse(f"the exponent in {_show(self.segment(node), 40)} depends on a variable or "
                              f"parameter; use exp(...) for exponentials")
        try:
            size = abs(float(exponent))
        except (TypeError, ValueError, OverflowError):
            raise self.refuse(f"the exponent in {_show(self.segment(node), 40)} is not a real number") from None
        if not size <= MAX_EXPONENT:
            raise self.refuse(f"the exponent in {_show(self.segment(node), 40)} has magnitude > {MAX_EXPONENT}")
        if base == 0 and exponent.is_negative:
            raise NonFiniteValue(f"loss {_show(self.text)}: {_show(self.segment(node), 40)} divides by zero; "
                                 f"change the loss")
        if isinstance(base, sympy.Rational) and exponent.is_Integer and abs(base) != 1 and base != 0 and \
                math.floor(abs(int(exponent)) * math.log10(max(abs(int(base.p)), int(base.q)))) + 1 > _MAX_NUMBER_DIGITS:
            raise self.refuse(f"{_show(self.segment(node), 40)} is an exact number with more than "
                              f"{_MAX_NUMBER_DIGITS} digits (write a float such as 1e20 for a large number)")
        return base**exponent

    def _Call(self, node: ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.refuse(f"{_show(self.segment(func), 40)} is not a function name")
        if func.id not in _FUNCTIONS:
            raise self.refuse(f"unknown function {_show(func.id, 40)}")
        if node.keywords:
            raise self.refuse(f"{func.id}(...) takes no keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.refuse(f"{func.id}(...) takes no starred arguments")
        fn, lo, hi = _FUNCTIONS[func.id]
        if not lo <= len(node.args) <= hi:
            count = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise self.refuse(f"{func.id} takes {count} argument{'s' if hi > 1 else ''}, got {len(node.args)}")
        args = [self.build(a) for a in node.args]
        if func.id == "Rational":
            if not all(isinstance(a, sympy.Integer) for a in args):
                raise self.refuse("Rational(p, q) takes integers p and q")
            if len(args) == 2 and args[1] == 0:
                raise NonFiniteValue(f"loss {_show(self.text)}: {_show(self.segment(node), 40)} divides by zero; "
                                     f"change the loss")
        if func.id == "log" and len(args) == 2 and (args[1] == 1 or args[1] == 0):
            raise NonFiniteValue(f"loss {_show(self.text)}: {_show(self.segment(node), 40)} has a base of 0 or "
                                 f"1; change the loss")
        return fn(*args)


def _kind(node: ast.AST) -> str:
    names = {
        "Attribute": "attribute access", "Subscript": "subscript", "Lambda": "lambda", "Compare": "comparison",
        "BoolOp": "boolean operation", "IfExp": "conditional expression", "Dict": "dict", "List": "list",
        "Tuple": "tuple", "Set": "set", "ListComp": "comprehension", "GeneratorExp": "comprehension",
        "DictComp": "comprehension", "SetComp": "comprehension", "NamedExpr": "assignment",
        "JoinedStr": "string", "Starred": "starred expression", "Await": "await", "Yield": "yield",
        "YieldFrom": "yield", "Slice": "slice", "FormattedValue": "string",
    }
    return names.get(type(node).__name__, f"{type(node).__name__} construct")


def parse_expression(text: str) -> sympy.Expr:
    """The sympy expression of ``text`` (any free symbols); see the module docstring for the grammar."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(
            f"the loss must be a non-empty string, got {_show(str(text)) if isinstance(text, str) else type(text).__name__}; "
            f"{_EXAMPLE}."
        )
    if len(text) > MAX_TEXT:
        raise _refuse(text, f"it has {len(text)} characters, more than {MAX_TEXT}")
    _check_characters(text)
    # `^` means power (as in sympy's convert_xor); the text has no strings, so a plain replacement is exact
    source = text.replace("^", "**")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        reason = getattr(exc, "msg", None) or type(exc).__name__
        raise _refuse(text, f"it is not a well-formed expression ({reason})") from None
    if _depth(tree) > MAX_DEPTH:
        raise _refuse(text, f"it is nested more than {MAX_DEPTH} levels deep")
    builder = _Builder(source.strip())
    for node in ast.walk(tree):  # refuse integer literals too long to convert before touching any of them
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            if node.value.bit_length() > 4 * MAX_INT_DIGITS:
                raise _refuse(text, f"an integer literal has more than {MAX_INT_DIGITS} digits "
                                    f"(write a float such as 1e20 for a large number)")
    try:
        expr = builder.build(tree)
    except RecursionError:
        raise _refuse(text, "it is nested too deeply") from None
    if not isinstance(expr, sympy.Expr) or expr.has(sympy.I):
        raise InvalidArgument(f"loss {_show(text)} is not a real scalar expression (it parsed as "
                              f"{_show(str(expr), 40)}); write a real-valued expression, {_EXAMPLE}")
    terms = _expanded_terms(expr)
    if terms > MAX_TERMS:
        size = f"about {terms:.3g}" if math.isfinite(terms) else "a function argument with too many"
        raise _refuse(text, f"expanded, it has {size} terms, more than {MAX_TERMS}; use smaller powers of sums")
    return expr


def _expanded_terms(expr: sympy.Basic) -> float:
    """An upper bound on the number of terms of ``expand(expr)`` (floats: no big integers arise)."""
    if expr.is_Add:
        return sum(_expanded_terms(a) for a in expr.args)
    if expr.is_Mul:
        out = 1.0
        for a in expr.args:
            out *= _expanded_terms(a)
        return out
    if expr.is_Pow and expr.exp.is_Integer:
        k, e = _expanded_terms(expr.base), abs(int(expr.exp))
        return math.comb(int(min(k, 1e6)) + e - 1, e) if k > 1 else 1.0
    if expr.args:  # a function: one term; its arguments are expanded on their own
        return 1.0 if max(_expanded_terms(a) for a in expr.args) <= MAX_TERMS else math.inf
    return 1.0


def parse_loss(text: str) -> tuple[sympy.Expr, int]:
    """``(expr, n)``: the parsed expression and the largest index ``n`` of an ``x<i>`` in it."""
    expr = parse_expression(text)
    indices = [int(m.group(1)) for s in expr.free_symbols if (m := _XNAME.match(s.name))]
    if not indices:
        raise InvalidArgument(
            f"loss {_show(text)} does not contain any binary variable; use x1, x2, ... for them."
        )
    return expr, max(indices)
