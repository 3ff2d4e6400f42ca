"""The record of one verification run (what ``report.json`` serializes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .claim import ClaimResult
from .verdict import Verdict

__all__ = ["RunResult", "SCHEMA_VERSION"]

#: Version of the ``report.json`` schema (see ``proofs_check/report/schema.py``).
SCHEMA_VERSION = 1


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

    def counts(self) -> dict[str, int]:
        out = {v.value: 0 for v in Verdict}
        for c in self.claims:
            out[c.verdict.value] += 1
        return out
