"""The claim data model: what a claim is, what a method returns, what a run records.

A :class:`Claim` is a small frozen object: its stable id from
``shared/CLAIMS.md``, where it is printed, the statement *as printed* and
*as checked* (quantifiers, assumptions, encoding), the known discrepancies
between the two, and one or more :class:`Method` objects.

A method's ``check`` is a plain module-level function ``check(ctx) ->
Outcome`` (so it can be shipped to a Dask worker by reference).  It gets a
:class:`MethodContext` with its own ``SeedSequence`` and budget, computes,
and returns an :class:`Outcome`: a verdict, JSON-plain evidence, any
discrepancies it measured, a counterexample if it found one, and figure
*data* (rendering is the reporters' job).

``role="checked"`` methods decide the statement as checked; ``role="printed"``
methods test the statement exactly as printed where it differs from the
reconstruction.  Both verdicts are reported (``verdict`` and
``verdict_as_printed``).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import inspect
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InvalidArgument
from .verdict import Verdict, combine, combine_part

__all__ = [
    "Kind",
    "Tier",
    "Source",
    "Figure",
    "Series",
    "MethodContext",
    "Outcome",
    "Method",
    "Claim",
    "MethodResult",
    "ClaimResult",
    "jsonable",
]


class Kind(str, enum.Enum):
    """What kind of computation a method is (the ``kind`` field of the report)."""

    SYMBOLIC = "symbolic"
    SMT = "smt"
    INTERVAL = "interval"
    QUADRATURE = "quadrature"
    EXACT = "exact"
    MONTECARLO = "montecarlo"
    PROPERTY = "property"
    OPTIMIZATION = "optimization"

    def __str__(self) -> str:
        return self.value


class Tier(str, enum.Enum):
    """Effort level: ``quick`` runs in minutes on a laptop, ``full`` belongs on a cluster."""

    QUICK = "quick"
    FULL = "full"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Source:
    """Where a claim is printed: seed file, section, equation numbers."""

    seed_file: str
    section: str
    equations: str = ""

    def __str__(self) -> str:
        eq = f", eqs. {self.equations}" if self.equations else ""
        return f"{self.seed_file}, {self.section}{eq}"


@dataclass(frozen=True)
class Series:
    """One curve of a figure: ``y`` against ``x`` (optionally with an error band)."""

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    y_low: tuple[float, ...] | None = None
    y_high: tuple[float, ...] | None = None
    style: str = "line"  # "line" | "points" | "step"


@dataclass(frozen=True)
class Figure:
    """Figure *data* produced by a method; reporters render it with matplotlib."""

    name: str  # file-name safe, unique within the claim
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    xscale: str = "linear"
    yscale: str = "linear"
    hlines: tuple[float, ...] = ()


@dataclass(frozen=True)
class MethodContext:
    """Everything a method may depend on besides its own code.

    ``seed`` is the task's ``numpy.random.SeedSequence``, derived from the run
    seed and the task's stable key ``"CLAIM-ID/method-name"``: never from the
    worker or completion order, so results are identical for any worker count.
    """

    claim_id: str
    method: str
    run_seed: int
    seed: np.random.SeedSequence
    tier: Tier = Tier.QUICK

    def rng(self) -> np.random.Generator:
        """A fresh PCG64 generator on this task's stream."""
        return np.random.Generator(np.random.PCG64(self.seed))

    @property
    def full(self) -> bool:
        return self.tier is Tier.FULL


@dataclass
class Outcome:
    """What a check returns."""

    verdict: Verdict
    evidence: dict[str, Any] = field(default_factory=dict)
    discrepancies: list[str] = field(default_factory=list)
    counterexample: dict[str, Any] | None = None
    figures: list[Figure] = field(default_factory=list)


@dataclass(frozen=True)
class Method:
    """One independent way of checking (a part of) a claim."""

    name: str
    kind: Kind
    check: Callable[[MethodContext], Outcome]
    description: str
    part: str = "main"
    role: str = "checked"  # "checked" | "printed"
    tiers: tuple[Tier, ...] = (Tier.QUICK, Tier.FULL)

    def __post_init__(self) -> None:
        if self.role not in ("checked", "printed"):
            raise InvalidArgument(f"method {self.name!r}: role must be 'checked' or 'printed', got {self.role!r}")
        if not isinstance(self.kind, Kind):
            raise InvalidArgument(f"method {self.name!r}: kind must be a Kind, got {self.kind!r}")

    def fingerprint(self) -> str:
        """Hash of the method's definition and source, to mark stale results as stale."""
        fn = self.check
        target = getattr(fn, "func", fn)  # functools.partial
        try:
            src = inspect.getsource(target)
        except (OSError, TypeError):
            src = repr(target)
        extra = repr(getattr(fn, "args", ())) + repr(sorted(getattr(fn, "keywords", {}).items()))
        text = "\n".join([self.name, self.kind.value, self.part, self.role, src, extra])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Claim:
    """A claim of a paper, stated precisely, with the methods that check it."""

    id: str
    title: str
    source: Source
    statement_printed: str
    statement_checked: str
    methods: tuple[Method, ...]
    discrepancies: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [m.name for m in self.methods]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InvalidArgument(f"claim {self.id}: duplicate method names {dupes}")
        if not any(m.role == "checked" for m in self.methods):
            raise InvalidArgument(f"claim {self.id}: needs at least one method with role='checked'")

    @property
    def tiers(self) -> tuple[Tier, ...]:
        return tuple(t for t in Tier if any(t in m.tiers for m in self.methods))

    def methods_for(self, tier: Tier) -> tuple[Method, ...]:
        return tuple(m for m in self.methods if tier in m.tiers)

    def method(self, name: str) -> Method:
        for m in self.methods:
            if m.name == name:
                return m
        raise InvalidArgument(f"claim {self.id} has no method {name!r}; it has {[m.name for m in self.methods]}")


@dataclass
class MethodResult:
    """A method's outcome as recorded in a report."""

    name: str
    kind: Kind
    part: str
    role: str
    verdict: Verdict
    evidence: dict[str, Any]
    seconds: float
    discrepancies: list[str] = field(default_factory=list)
    counterexample: dict[str, Any] | None = None
    figures: list[Figure] = field(default_factory=list)
    fingerprint: str = ""
    error: str | None = None


@dataclass
class ClaimResult:
    """A claim's combined verdict with all its method results."""

    claim_id: str
    title: str
    source: str
    statement_printed: str
    statement_checked: str
    methods: list[MethodResult]
    static_discrepancies: list[str] = field(default_factory=list)
    replay: str = ""

    def _combined(self, roles: tuple[str, ...]) -> tuple[Verdict, list[str]]:
        by_part: dict[str, list[tuple[str, Verdict]]] = {}
        for m in self.methods:
            if m.role in roles:
                by_part.setdefault(m.part, []).append((m.name, m.verdict))
        verdicts, notes = [], []
        for part, vs in by_part.items():
            v, note = combine_part(vs)
            verdicts.append(v)
            if note:
                notes.append(f"[{part}] {note}")
        return combine(verdicts), notes

    @property
    def verdict(self) -> Verdict:
        """Verdict on the statement as checked (``role='checked'`` methods)."""
        return self._combined(("checked",))[0]

    @property
    def verdict_as_printed(self) -> Verdict:
        """Verdict on the statement as printed: the printed-role methods if any, else the checked verdict."""
        if any(m.role == "printed" for m in self.methods):
            return self._combined(("printed",))[0]
        return self.verdict

    @property
    def disagreements(self) -> list[str]:
        return self._combined(("checked",))[1] + self._combined(("printed",))[1]

    @property
    def discrepancies(self) -> list[str]:
        """Static (printed vs reconstructed) discrepancies, then measured ones, then disagreements."""
        out = list(self.static_discrepancies)
        for m in self.methods:
            out.extend(f"{m.name}: {d}" for d in m.discrepancies)
            if m.verdict is Verdict.ERROR:
                out.append(f"{m.name}: method failed with an error: {m.error}")
        out.extend(self.disagreements)
        return out


def jsonable(value: Any) -> Any:
    """Convert evidence to plain JSON values (numpy scalars/arrays, tuples, enums, non-finite floats).

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"`` so a
    report never contains invalid JSON.
    """
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bool, type(None), str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isfinite(f):
            return f
        return "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, Sequence)) and not isinstance(value, (bytes, bytearray)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.random.SeedSequence):
        return {"entropy": jsonable(value.entropy), "spawn_key": jsonable(value.spawn_key)}
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)
