"""Verdicts, scopes, finding categories, and how a claim's verdict is combined.

Definitions (``shared/CLAIMS.md``):

* ``PROVED`` -- symbolic or SMT proof of the formal statement, or an exact
  finite computation covering all cases, **over the whole range of the part**.
* ``VERIFIED`` -- numerical evidence (a comparison within a stated bound, a
  certified interval, a Monte Carlo interval at a stated confidence level), or a
  proof that covers only part of the range (its scope is stated).
* ``REFUTED`` -- a counterexample, or a confidence interval that excludes the claim.
* ``INCONCLUSIVE`` -- the evidence could not decide at the chosen budget.
* ``ERROR`` -- a method itself failed (an exception): a bug in stecheck, never a
  statement about the paper.

**Scope.**  Every method states a :class:`Scope`: the part of the quantifier
range its evidence covers ("n <= 3", "two units, one shared parameter",
"all n (symbolic n)").  Only a scope marked ``complete`` covers the part's whole
range.

**Combination within a part** (:func:`combine_part`):

1. Any ERROR makes the part ERROR -- an error is never outvoted by a sibling method.
2. If one method REFUTES what another PROVES or VERIFIES, the part is
   INCONCLUSIVE and the conflict is a *disagreement* -- never resolved silently.
3. Otherwise a refutation makes the part REFUTED.
4. Otherwise the part is PROVED only if a PROVED method's scope is complete; a
   proof of a sub-range gives VERIFIED at best, and the proved sub-range is stated.
5. Otherwise INCONCLUSIVE.

**Across parts** (:func:`combine`, a conjunction): any ERROR part makes the claim
ERROR; otherwise any REFUTED part refutes it; otherwise any INCONCLUSIVE part
makes it INCONCLUSIVE; otherwise PROVED if every part is PROVED, else VERIFIED.

**Finding categories** (:class:`Category`): where the printed statement, the
reconstruction and the evidence differ, each difference is an *error* (the
intended mathematics is false), a *misprint* (typo or PDF damage; the intended
statement is recoverable and true), a *convention* (a factor or an encoding
choice) or an *imprecision* (a missing hypothesis, a looser bound than the proof
gives, an ambiguous wording).  Only errors make the statement as printed REFUTED.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Verdict", "Category", "Scope", "PartVerdict", "combine", "combine_part", "Finding"]


class Verdict(str, enum.Enum):
    PROVED = "PROVED"
    VERIFIED = "VERIFIED"
    REFUTED = "REFUTED"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"

    def __str__(self) -> str:
        return self.value

    @property
    def decided(self) -> bool:
        """True for PROVED, VERIFIED and REFUTED: the evidence settled the question."""
        return self in (Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED)

    @property
    def supports(self) -> bool:
        """True for PROVED and VERIFIED."""
        return self in (Verdict.PROVED, Verdict.VERIFIED)


class Category(str, enum.Enum):
    """What kind of difference between the printed statement and the mathematics a finding is."""

    ERROR = "error"
    MISPRINT = "misprint"
    CONVENTION = "convention"
    IMPRECISION = "imprecision"

    def __str__(self) -> str:
        return self.value

    @property
    def meaning(self) -> str:
        return _CATEGORY_MEANING[self]


_CATEGORY_MEANING = {
    Category.ERROR: "the mathematics as intended is false",
    Category.MISPRINT: "a typo or PDF-extraction damage; the intended statement is recoverable and true",
    Category.CONVENTION: "a factor or encoding choice, not a mistake",
    Category.IMPRECISION: "a missing hypothesis, a looser bound than the proof gives, or an ambiguous wording",
}


@dataclass(frozen=True)
class Scope:
    """The part of a claim's quantifier range that a method's evidence covers.

    ``covers`` says it in words ("n <= 3, generic F"; "tau in [1e-3, 0.1]";
    "all n (symbolic n)").  ``complete`` is True only when the evidence covers
    the *whole* range of the part the method checks: only then can a proof make
    the part PROVED.
    """

    covers: str
    complete: bool = False

    def __str__(self) -> str:
        return self.covers + (" (whole range)" if self.complete else "")

    @classmethod
    def whole(cls, covers: str = "the whole range of the part") -> "Scope":
        """A scope that covers the part's entire quantifier range."""
        return cls(covers, complete=True)


#: The scope of a method that did not state one: never complete.
UNSTATED = Scope("not stated", complete=False)


@dataclass(frozen=True)
class Finding:
    """One categorized difference between the printed statement, the reconstruction and the evidence."""

    category: Category
    text: str
    source: str = ""  # "" for a static (claim-level) finding, else the method name

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"[{self.category.value}] {where}{self.text}"


@dataclass(frozen=True)
class PartVerdict:
    """The combined verdict of one part, with the scope it holds on and why."""

    part: str
    verdict: Verdict
    scope: str
    methods: tuple[str, ...]
    disagreement: str | None = None
    errors: tuple[str, ...] = field(default=())


def _scope_summary(entries: Sequence[tuple[str, Verdict, Scope]]) -> str:
    proved = [f"{s.covers} ({n})" for n, v, s in entries if v is Verdict.PROVED]
    verified = [f"{s.covers} ({n})" for n, v, s in entries if v is Verdict.VERIFIED]
    bits = []
    if proved:
        bits.append("proved for " + "; ".join(proved))
    if verified:
        bits.append("verified numerically for " + "; ".join(verified))
    return ". ".join(bits)


def combine_part(entries: Sequence[tuple[str, Verdict, Scope]], part: str = "main") -> PartVerdict:
    """Combine the ``(method_name, verdict, scope)`` entries of the methods that check one part.

    The rules are those of the module docstring; the returned
    :class:`PartVerdict` states the scope the verdict holds on and any
    disagreement or error.
    """
    names = tuple(n for n, _, _ in entries)
    if not entries:
        return PartVerdict(part, Verdict.INCONCLUSIVE, "no method ran", names)
    errors = tuple(n for n, v, _ in entries if v is Verdict.ERROR)
    if errors:
        return PartVerdict(part, Verdict.ERROR, f"method(s) failed: {', '.join(errors)}", names, errors=errors)
    refuting = [n for n, v, _ in entries if v is Verdict.REFUTED]
    supporting = [n for n, v, _ in entries if v.supports]
    if refuting and supporting:
        detail = ", ".join(f"{n}: {v}" for n, v, _ in entries)
        return PartVerdict(part, Verdict.INCONCLUSIVE, "methods disagree", names, disagreement=(
            f"methods disagree ({detail}); {', '.join(refuting)} refute what "
            f"{', '.join(supporting)} support -- one of them is wrong, so the part is left undecided"))
    if refuting:
        return PartVerdict(part, Verdict.REFUTED, "counterexample: " + ", ".join(refuting), names)
    if supporting:
        summary = _scope_summary(entries)
        if any(v is Verdict.PROVED and s.complete for _, v, s in entries):
            return PartVerdict(part, Verdict.PROVED, summary, names)
        if any(v is Verdict.PROVED for _, v, _ in entries):
            summary += " -- no proof covers the whole range, so VERIFIED at best"
        return PartVerdict(part, Verdict.VERIFIED, summary, names)
    return PartVerdict(part, Verdict.INCONCLUSIVE, "the evidence did not decide at this budget", names)


def combine(parts: Iterable[Verdict]) -> Verdict:
    """Combine part verdicts as a conjunction (the rule in the module docstring)."""
    parts = list(parts)
    if not parts:
        return Verdict.INCONCLUSIVE
    for v in (Verdict.ERROR, Verdict.REFUTED, Verdict.INCONCLUSIVE):
        if v in parts:
            return v
    return Verdict.PROVED if all(v is Verdict.PROVED for v in parts) else Verdict.VERIFIED
