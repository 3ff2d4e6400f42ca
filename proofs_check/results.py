"""The record of one verification run (what ``report.json`` serializes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .claim import ClaimResult
from .verdict import Category, Verdict

__all__ = ["RunResult", "SCHEMA_VERSION"]

#: Version of the ``report.json`` schema (see ``proofs_check/report/schema.py``).
SCHEMA_VERSION = 2


@dataclass
class RunResult:
    """All claim results of one ``stecheck run`` plus the run's environment."""

    claims: list[ClaimResult]
    seed: int
    tier: str
    workers: int | str  # 0 = in-process, N = local cluster size, or the scheduler address
    started_at: str  # ISO 8601, UTC
    seconds: float
    environment: dict[str, Any] = field(default_factory=dict)  # versions of python and libraries, platform

    def counts(self, which: str = "checked") -> dict[str, int]:
        """Number of claims per verdict, on the statement as checked or as printed."""
        out = {v.value: 0 for v in Verdict}
        for c in self.claims:
            out[(c.verdict if which == "checked" else c.verdict_as_printed).value] += 1
        return out

    def finding_counts(self) -> dict[str, int]:
        """Number of findings per category over all claims."""
        out = {c.value: 0 for c in Category}
        for claim in self.claims:
            for k, v in claim.finding_counts().items():
                out[k] += v
        return out

    def _repr_html_(self) -> str:
        """Jupyter: the report's first screen (papers, verdict counts, one line per claim)."""
        from .report.notebook import run_html

        return run_html(self)

    def summary(self) -> dict[str, Any]:
        """The ``summary`` object of ``report.json``: both verdict counts and the finding counts."""
        return {"as_checked": self.counts("checked"), "as_printed": self.counts("printed"),
                "findings": self.finding_counts()}
