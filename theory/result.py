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

__all__ = ["DerivationResult", "to_json", "from_json", "to_latex"]


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
