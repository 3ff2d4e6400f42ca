"""Verdicts and how a claim's verdict is combined from its methods' verdicts.

Definitions (``shared/CLAIMS.md``):

* ``PROVED`` -- symbolic or SMT proof of the formal statement, or an exact
  finite computation covering all cases.
* ``VERIFIED`` -- numerical evidence: certified interval/ball arithmetic, or
  Monte Carlo with a stated confidence level.
* ``REFUTED`` -- a counterexample, or a confidence interval that excludes the claim.
* ``INCONCLUSIVE`` -- the evidence could not decide at the chosen budget.
* ``ERROR`` -- the method itself failed (an exception); never a statement about the claim.

Combination rule (:func:`combine`).  A claim is a *conjunction of parts*
(e.g. "ST is unbiased for multilinear L" and "ST is biased for some
non-multilinear L").  Every method checks one part; several methods may check
the same part independently.

1. Within a part, methods must agree.  If one method REFUTES what another
   PROVES or VERIFIES, the part is INCONCLUSIVE and the conflict is returned
   as a *disagreement* -- it is never resolved silently in favour of either.
   Otherwise the part takes the strongest decided verdict
   (REFUTED > PROVED > VERIFIED), then ERROR, then INCONCLUSIVE.
2. Across parts (conjunction): any REFUTED part refutes the claim; otherwise
   any ERROR part makes it ERROR; otherwise any INCONCLUSIVE part makes it
   INCONCLUSIVE; otherwise PROVED if every part is PROVED, else VERIFIED.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

__all__ = ["Verdict", "combine", "combine_part"]


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


def combine_part(verdicts: Sequence[tuple[str, Verdict]]) -> tuple[Verdict, str | None]:
    """Combine the verdicts of the methods that check one part of a claim.

    ``verdicts`` holds ``(method_name, verdict)`` pairs.  Returns the part's
    verdict and, if methods conflict, a sentence describing the disagreement.
    """
    if not verdicts:
        return Verdict.INCONCLUSIVE, None
    refuting = [name for name, v in verdicts if v is Verdict.REFUTED]
    supporting = [name for name, v in verdicts if v.supports]
    if refuting and supporting:
        detail = ", ".join(f"{name}: {v}" for name, v in verdicts)
        return Verdict.INCONCLUSIVE, (
            f"methods disagree ({detail}); {', '.join(refuting)} refute what "
            f"{', '.join(supporting)} support -- one of them is wrong, so the part is left undecided"
        )
    kinds = {v for _, v in verdicts}
    for v in (Verdict.REFUTED, Verdict.PROVED, Verdict.VERIFIED, Verdict.ERROR):
        if v in kinds:
            return v, None
    return Verdict.INCONCLUSIVE, None


def combine(parts: Iterable[Verdict]) -> Verdict:
    """Combine part verdicts as a conjunction (rule 2 of the module docstring)."""
    parts = list(parts)
    if not parts:
        return Verdict.INCONCLUSIVE
    for v in (Verdict.REFUTED, Verdict.ERROR, Verdict.INCONCLUSIVE):
        if v in parts:
            return v
    return Verdict.PROVED if all(v is Verdict.PROVED for v in parts) else Verdict.VERIFIED
