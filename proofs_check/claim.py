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
reconstruction, and say with ``category`` what a refutation of theirs means
(an *error*, a *misprint*, a *convention* or an *imprecision*, see
:class:`~stecheck.proofs_check.verdict.Category`).  Both verdicts are
reported (``verdict`` and ``verdict_as_printed``); only errors refute the
statement as printed.

Every method states its :class:`~stecheck.proofs_check.verdict.Scope` (the part
of the quantifier range its evidence covers; an :class:`Outcome` may narrow or
state it at run time).  Where the printed wording admits several precise
readings, the claim lists them as :class:`Reading` objects and each method that
decides a reading names it; every reading gets its own verdict.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import inspect
import json
import math
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument
from .verdict import UNSTATED, Category, Finding, PartVerdict, Scope, Verdict, combine, combine_part

__all__ = [
    "Kind",
    "Tier",
    "Scope",
    "Category",
    "Finding",
    "Reading",
    "Parameter",
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
    paper: str = ""  # title, authors, arXiv id where known (the report's first screen names it)

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
    """Figure *data* produced by a method; reporters render it with matplotlib (150 dpi PNG and SVG).

    Conventions (``tests/test_claim_figures.py`` checks them on the cheap claims): title, axis labels and legend
    entries in mathematical language (mathtext ``$...$`` in labels and legends; the title is also the HTML
    caption, so it uses plain text or Unicode), never a Python repr; an axis shows the quantity that varies
    (``n``, ``tau``, a margin), and instances without one get a categorical axis via ``xticks`` naming each;
    every Monte Carlo point carries its interval (``Series.y_low``/``y_high``), and the legend says which.
    """

    name: str  # file-name safe, unique within the claim
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    xscale: str = "linear"
    yscale: str = "linear"
    hlines: tuple[float, ...] = ()
    #: Categorical x axis: ``((position, label), ...)``; when given, the x axis shows exactly these ticks
    #: (labels may use mathtext), e.g. one tick per schedule or per (noise, estimator) case instead of an index.
    xticks: tuple[tuple[float, str], ...] = ()


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
    #: The claim's resolved parameters (tier defaults, then ``--set`` values): read-only.
    params: Mapping[str, Any] = field(default_factory=lambda: types.MappingProxyType({}))

    def rng(self) -> np.random.Generator:
        """A fresh PCG64 generator on this task's stream."""
        return np.random.Generator(np.random.PCG64(self.seed))

    @property
    def full(self) -> bool:
        return self.tier is Tier.FULL


@dataclass
class Outcome:
    """What a check returns.

    ``discrepancies`` are :class:`Finding` objects (or plain strings, which take
    the method's ``category``); ``scope``, when given, replaces the method's
    declared scope for this run (e.g. "n <= 12" in the quick tier, "n <= 16" in
    the full tier).
    """

    verdict: Verdict
    evidence: dict[str, Any] = field(default_factory=dict)
    discrepancies: list[Any] = field(default_factory=list)
    counterexample: dict[str, Any] | None = None
    figures: list[Figure] = field(default_factory=list)
    scope: Scope | None = None


@dataclass(frozen=True)
class Reading:
    """One precise reading of an ambiguous printed statement (e.g. "Lipschitz in the l2 norm")."""

    id: str
    text: str

    def __post_init__(self) -> None:
        if not self.id or not self.text:
            raise InvalidArgument("a Reading needs a non-empty id and text")


_PARAM_TYPES = (int, float, bool, str)


@dataclass(frozen=True)
class Parameter:
    """A per-claim parameter a user may set (``stecheck run ID --set name=value``), with its tier defaults."""

    name: str
    type: type
    quick: Any
    full: Any
    help: str = ""
    minimum: float | None = None

    def __post_init__(self) -> None:
        if self.type not in _PARAM_TYPES:
            raise InvalidArgument(f"parameter {self.name!r}: type must be one of int, float, bool, str")

    def default(self, tier: "Tier") -> Any:
        return self.full if Tier(tier) is Tier.FULL else self.quick

    def parse(self, value: Any) -> Any:
        """``value`` (a string from the command line, or a Python value) as this parameter's type; never evaluated."""
        want = self.type.__name__ + (f" >= {self.minimum:g}" if self.minimum is not None else "")
        hint = f" ({self.help})" if self.help else ""
        if isinstance(value, str):
            text = value.strip()
            try:
                if self.type is bool:
                    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError
                    out = text.lower() in ("true", "1", "yes")
                elif self.type is int:
                    out = int(text, 10)
                else:
                    out = self.type(text)
            except ValueError:
                raise InvalidArgument(f"--set {self.name}={value}: expected {want}{hint}") from None
        else:
            if self.type is bool:
                ok = isinstance(value, bool)
            elif self.type is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            else:
                ok = isinstance(value, self.type) and not isinstance(value, bool)
            if not ok:
                raise InvalidArgument(f"--set {self.name}={value!r}: expected {want}{hint}")
            out = self.type(value)
        if self.minimum is not None and self.type in (int, float) and not out >= self.minimum:
            raise InvalidArgument(f"--set {self.name}={value}: expected {want}{hint}")
        return out


def resolve_params(claim: "Claim", tier: "Tier", settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The claim's parameters for ``tier``: defaults, overridden by the ``settings`` keys the claim declares."""
    out = {p.name: p.default(tier) for p in claim.parameters}
    for p in claim.parameters:
        if settings and p.name in settings:
            out[p.name] = p.parse(settings[p.name])
    return out


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
    scope: Scope = UNSTATED
    reading: str | None = None
    category: Category | None = None  # printed-role methods: what a refutation of theirs means

    def __post_init__(self) -> None:
        if self.role not in ("checked", "printed"):
            raise InvalidArgument(f"method {self.name!r}: role must be 'checked' or 'printed', got {self.role!r}")
        if not isinstance(self.kind, Kind):
            raise InvalidArgument(f"method {self.name!r}: kind must be a Kind, got {self.kind!r}")
        if not isinstance(self.scope, Scope):
            raise InvalidArgument(f"method {self.name!r}: scope must be a Scope, got {self.scope!r}")
        if self.category is not None and not isinstance(self.category, Category):
            raise InvalidArgument(f"method {self.name!r}: category must be a Category, got {self.category!r}")

    @property
    def refutation_category(self) -> Category:
        """What a REFUTED verdict of this method means for the printed statement."""
        if self.role == "checked":
            return Category.ERROR  # the reconstruction itself is false
        return self.category if self.category is not None else Category.ERROR

    def fingerprint(self) -> str:
        """Hash of the method's definition and source, to mark stale results as stale."""
        fn = self.check
        target = getattr(fn, "func", fn)  # functools.partial
        try:
            src = inspect.getsource(target)
        except (OSError, TypeError):
            src = repr(target)
        extra = repr(getattr(fn, "args", ())) + repr(sorted(getattr(fn, "keywords", {}).items()))
        text = "\n".join([self.name, self.kind.value, self.part, self.role, str(self.scope), str(self.reading),
                          str(self.category), src, extra])
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
    discrepancies: tuple[Finding, ...] = ()
    tags: tuple[str, ...] = ()
    readings: tuple[Reading, ...] = ()
    parameters: tuple[Parameter, ...] = ()

    def __post_init__(self) -> None:
        names = [m.name for m in self.methods]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InvalidArgument(f"claim {self.id}: duplicate method names {dupes}")
        if not any(m.role == "checked" for m in self.methods):
            raise InvalidArgument(f"claim {self.id}: needs at least one method with role='checked'")
        reading_ids = [r.id for r in self.readings]
        if len(set(reading_ids)) != len(reading_ids):
            raise InvalidArgument(f"claim {self.id}: duplicate reading ids {reading_ids}")
        for m in self.methods:
            if m.reading is not None and m.reading not in reading_ids:
                raise InvalidArgument(
                    f"claim {self.id}: method {m.name!r} names reading {m.reading!r}, "
                    f"but the claim's readings are {reading_ids}")
        for r in self.readings:
            if not any(m.reading == r.id for m in self.methods):
                raise InvalidArgument(f"claim {self.id}: reading {r.id!r} is checked by no method")
        for d in self.discrepancies:
            if not isinstance(d, (Finding, str)):
                raise InvalidArgument(
                    f"claim {self.id}: static discrepancy {str(d)[:60]!r} must be a Finding with a category "
                    "(error, misprint, convention or imprecision)")

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The static discrepancies as findings (a plain string, not yet categorized, counts as an error;
        ``tests/core/test_registry.py`` requires every claim to categorize its own)."""
        return tuple(d if isinstance(d, Finding) else Finding(Category.ERROR, d) for d in self.discrepancies)

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
    scope: Scope = UNSTATED
    reading: str | None = None
    category: Category | None = None

    @property
    def refutation_category(self) -> Category:
        if self.role == "checked":
            return Category.ERROR
        return self.category if self.category is not None else Category.ERROR


@dataclass
class ClaimResult:
    """A claim's combined verdict with all its method results."""

    claim_id: str
    title: str
    source: str
    statement_printed: str
    statement_checked: str
    methods: list[MethodResult]
    static_discrepancies: list[Finding] = field(default_factory=list)
    replay: str = ""
    readings: list[Reading] = field(default_factory=list)
    paper: str = ""

    def _parts(self, keep) -> list[PartVerdict]:
        by_part: dict[str, list[tuple[str, Verdict, Scope]]] = {}
        for m in self.methods:
            if keep(m):
                by_part.setdefault(f"{m.role}: {m.part}" if m.role == "printed" else m.part, []).append(
                    (m.name, m.verdict, m.scope))
        return [combine_part(entries, part) for part, entries in by_part.items()]

    def parts(self, which: str = "checked") -> list[PartVerdict]:
        """Per-part verdicts with their scopes: ``"checked"``, ``"printed"`` or a reading id."""
        if which == "checked":
            return self._parts(lambda m: m.role == "checked")
        if which == "printed":
            # the reconstruction, plus the literal checks whose refutation would be a mathematical
            # error; a literal check of another category enters only through an ERROR (never hidden)
            return self._parts(lambda m: m.role == "checked" or m.refutation_category is Category.ERROR
                               or m.verdict is Verdict.ERROR)
        if any(r.id == which for r in self.readings):
            return self._parts(lambda m: m.reading == which)
        raise InvalidArgument(f"claim {self.claim_id}: no reading {which!r}")

    @property
    def verdict(self) -> Verdict:
        """Verdict on the statement as checked (``role='checked'`` methods); any ERROR makes it ERROR."""
        return self._with_errors(combine(p.verdict for p in self.parts("checked")))

    @property
    def verdict_as_printed(self) -> Verdict:
        """Verdict on the statement as printed: REFUTED only by a finding of category *error*."""
        return self._with_errors(combine(p.verdict for p in self.parts("printed")))

    def _with_errors(self, verdict: Verdict) -> Verdict:
        return Verdict.ERROR if any(m.verdict is Verdict.ERROR for m in self.methods) else verdict

    @property
    def reading_verdicts(self) -> dict[str, Verdict]:
        """Reading id -> the verdict of the printed statement under that reading."""
        return {r.id: combine(p.verdict for p in self.parts(r.id)) for r in self.readings}

    @property
    def disagreements(self) -> list[str]:
        out = []
        for which in ("checked", "printed"):
            for p in self.parts(which):
                if p.disagreement and f"[{p.part}] {p.disagreement}" not in out:
                    out.append(f"[{p.part}] {p.disagreement}")
        return out

    @property
    def errors(self) -> list[str]:
        """One line per method that failed: its name and the exception."""
        return [f"{m.name}: {m.error}" for m in self.methods if m.verdict is Verdict.ERROR]

    @property
    def findings(self) -> list[Finding]:
        """Every categorized discrepancy: static ones first, then those measured by methods.

        A printed-role method that refuted its literal statement without saying
        why contributes one finding of its category.
        """
        out = list(self.static_discrepancies)
        for m in self.methods:
            out.extend(m.discrepancies)
            if m.role == "printed" and m.verdict is Verdict.REFUTED and not m.discrepancies:
                out.append(Finding(m.refutation_category, f"the literal check `{m.name}` is refuted", m.name))
        return out

    def _repr_html_(self) -> str:
        """Jupyter: verdicts, reason, findings, parts and methods with their scopes."""
        from .report.notebook import claim_html

        return claim_html(self)

    def finding_counts(self) -> dict[str, int]:
        counts = {c.value: 0 for c in Category}
        for f in self.findings:
            counts[f.category.value] += 1
        return counts

    @property
    def discrepancies(self) -> list[str]:
        """Every finding, disagreement and error as one line each (for terminals and logs)."""
        out = [str(f) for f in self.findings]
        out.extend(f"{e} (method failed with an error)" for e in self.errors)
        out.extend(self.disagreements)
        return out


def jsonable(value: Any) -> Any:
    """Convert evidence to plain JSON values (numpy scalars/arrays, tuples, enums, non-finite floats).

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"`` so a
    report never contains invalid JSON.
    """
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Finding):
        return {"category": value.category.value, "text": value.text, "source": value.source}
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
