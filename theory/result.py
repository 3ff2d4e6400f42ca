"""The record a derivation returns, and its JSON form.

Mathematical object: none of its own; a :class:`DerivationResult` names the
paper equation it reproduces (e.g. "SBN Prop. B.3, eq. (20)"), holds the
derived sympy expressions, the cross-checks that were run (with their numbers)
and the notes on where the derived result differs from the printed paper.

JSON form (``stecheck derive NAME --json`` and the on-disk cache)::

    {"name": ..., "equation": ...,
     "result": {key: {"srepr": sympy.srepr(e), "str": str(e)}},
     "checks": [...], "notes": [...]}

``srepr`` round-trips exactly (symbols keep their assumptions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy

from stecheck.errors import MalformedFile

__all__ = ["DerivationResult", "to_json", "from_json"]


@dataclass(frozen=True)
class DerivationResult:
    """Derived expressions of one derivation, with its cross-checks and notes."""

    name: str
    equation: str
    result: dict[str, sympy.Basic]
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def to_json(result: DerivationResult) -> dict[str, Any]:
    """JSON-plain dict of ``result`` (see the module docstring for the layout)."""
    return {
        "name": result.name,
        "equation": result.equation,
        "result": {k: {"srepr": sympy.srepr(v), "str": str(v)} for k, v in result.result.items()},
        "checks": list(result.checks),
        "notes": list(result.notes),
    }


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
            expr = sympy.sympify(text)
            if sympy.srepr(expr) != text:
                raise ValueError(f"srepr of {key!r} does not round-trip")
            result[key] = expr
    except Exception as exc:  # noqa: BLE001 - any defect means the same thing: malformed
        raise MalformedFile(
            f"not a derivation result in the to_json layout ({type(exc).__name__}: {exc}); "
            f"expected keys name, equation, result{{key: {{srepr, str}}}}, checks, notes. "
            f"Recreate it with theory.derivations.to_json."
        ) from None
    return DerivationResult(name, equation, result, list(checks), list(notes))
