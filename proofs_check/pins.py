"""Pinned verdicts ("expect files"): one reader, validator, comparer and writer for the CLI and the pytest plugin.

An expect file pins, per claim, the verdict as checked, the verdict as printed and the
verdict of each reading, together with the seed and tier of the run that produced them::

    {"format": "stecheck-expect", "version": 2, "seed": 0, "tier": "quick",
     "verdicts": {"SBN-EX1": {"checked": "VERIFIED", "printed": "REFUTED", "readings": {}}}}

Version 1 (``"SBN-EX1": "VERIFIED"``, or a bare ``{id: verdict}`` mapping) pins the checked
verdict only; it is still read.  :func:`read_expect` validates everything before any claim is
computed (bounded read through :func:`stecheck.safeio.load_json`; unknown ids, unknown
readings, unknown verdicts, a different seed or tier are one-line errors);
:func:`compare` returns the number of matching verdicts and one line per difference.
Nothing read is evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from stecheck.errors import InvalidArgument, MalformedFile
from stecheck.safeio import load_json, shorten

from .verdict import Verdict

__all__ = ["EXPECT_FORMAT", "EXPECT_VERSION", "MAX_EXPECT_BYTES", "Pin", "Expectation", "read_expect",
           "verdicts_of", "compare", "expect_document"]

EXPECT_FORMAT = "stecheck-expect"
EXPECT_VERSION = 2
#: Largest expect file read (bytes).
MAX_EXPECT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Pin:
    """The pinned verdicts of one claim; ``None`` = not pinned.  ``readings is None``: readings not pinned (v1)."""

    checked: str | None
    printed: str | None = None
    readings: dict[str, str] | None = None


@dataclass(frozen=True)
class Expectation:
    """A validated expect file."""

    version: int
    seed: int | None
    tier: str | None
    pins: dict[str, Pin] = field(default_factory=dict)


def _readings_of(claims) -> dict[str, set[str] | None]:
    """``{claim id: reading ids}`` from claims, a mapping, or bare ids (readings then not validated)."""
    if isinstance(claims, Mapping):
        return {cid: (None if r is None else set(r)) for cid, r in claims.items()}
    out: dict[str, set[str] | None] = {}
    for c in claims:
        if isinstance(c, str):
            out[c] = None
        else:
            out[c.id] = {r.id for r in c.readings}
    return out


def read_expect(path: str, claims: Iterable | Mapping, *, seed: int, tier: str, allow_other: bool = False,
                flag: str = "--expect", seed_flag: str = "--seed", tier_flag: str = "--tier",
                allow_flag: str = "--allow-other-seed") -> Expectation:
    """Read and validate the expect file ``path`` (v1 or v2) against the known claims, seed and tier.

    ``claims``: the registry's claims (their readings are validated too), or ``{id: reading ids}``,
    or bare ids.  Raises :class:`MalformedFile` for a malformed file and :class:`InvalidArgument`
    when the file pins another seed or tier (unless ``allow_other``); both are one line.
    """
    fix = "write one with `stecheck run --write-expect FILE` (or pytest --stecheck-write-expect FILE)"
    what = f"{flag} file"
    data = load_json(path, what=what, fix=fix, limit=MAX_EXPECT_BYTES)
    shown = shorten(str(path), 80)
    known = _readings_of(claims)
    if not isinstance(data, dict):
        raise MalformedFile(f"{what} {shown} must map claim ids to verdicts, e.g. "
                            f'{{"verdicts": {{"SBN-B2": "PROVED"}}}}; {fix}')
    if "verdicts" in data:
        fmt = data.get("format", EXPECT_FORMAT)
        if fmt != EXPECT_FORMAT:
            raise MalformedFile(f"{what} {shown} has format {shorten(fmt, 40)}, not {EXPECT_FORMAT!r}; {fix}")
        version = data.get("version", 1)
        if version not in (1, 2) or isinstance(version, bool):
            raise MalformedFile(f"{what} {shown} has version {shorten(version, 20)}; versions 1 and 2 are read; {fix}")
        verdicts = data["verdicts"]
        pinned_seed, pinned_tier = data.get("seed"), data.get("tier")
        extra = set(data) - {"format", "version", "seed", "tier", "verdicts"}
        if extra:
            raise MalformedFile(f"{what} {shown} has unknown key {shorten(sorted(extra)[0], 40)}; the keys are "
                                f"format, version, seed, tier, verdicts; {fix}")
    else:  # the bare v1 form {id: verdict}
        version, verdicts, pinned_seed, pinned_tier = 1, data, None, None
    if not isinstance(verdicts, dict) or not verdicts:
        raise MalformedFile(f"{what} {shown} must map claim ids to verdicts, e.g. "
                            f'{{"verdicts": {{"SBN-B2": "PROVED"}}}}; {fix}')
    if pinned_seed is not None and (not isinstance(pinned_seed, int) or isinstance(pinned_seed, bool)
                                    or pinned_seed < 0):
        raise MalformedFile(f"{what} {shown}: seed {shorten(pinned_seed, 40)} is not a non-negative integer; {fix}")
    if pinned_tier is not None and pinned_tier not in ("quick", "full"):
        raise MalformedFile(f"{what} {shown}: tier {shorten(pinned_tier, 40)} is not quick or full; {fix}")
    if not allow_other:
        for key, pinned, used, opt in (("seed", pinned_seed, seed, seed_flag), ("tier", pinned_tier, tier, tier_flag)):
            if pinned is not None and pinned != used:
                raise InvalidArgument(f"{what} {shown} pins {key} {pinned} but this run uses {key} {used}; "
                                      f"pass {opt} {pinned}, or {allow_flag} to compare anyway")

    valid = {v.value for v in Verdict}

    def verdict(value, where: str) -> str:
        if not isinstance(value, str) or value.upper() not in valid:
            raise MalformedFile(f"{what} {shown}: verdict {shorten(value, 40)} for {where} is not one of "
                                f"{', '.join(sorted(valid))}")
        return value.upper()

    pins: dict[str, Pin] = {}
    for cid, entry in verdicts.items():
        if cid not in known:
            raise MalformedFile(f"{what} {shown} names unknown claim id {shorten(cid, 40)}; "
                                f"run `stecheck list` for ids")
        if not isinstance(entry, dict):
            pins[cid] = Pin(checked=verdict(entry, cid))
            continue
        extra = set(entry) - {"checked", "printed", "readings"}
        if extra or not entry:
            raise MalformedFile(f"{what} {shown}: {cid} must be a verdict or an object with keys checked, "
                                f"printed, readings; {fix}")
        checked = None if entry.get("checked") is None else verdict(entry["checked"], f"{cid} (checked)")
        printed = None if entry.get("printed") is None else verdict(entry["printed"], f"{cid} (printed)")
        readings = entry.get("readings")
        if readings is not None:
            if not isinstance(readings, dict):
                raise MalformedFile(f"{what} {shown}: readings of {cid} must map reading ids to verdicts; {fix}")
            allowed = known[cid]
            for rid in readings:
                if allowed is not None and rid not in allowed:
                    raise MalformedFile(f"{what} {shown}: {cid} has no reading {shorten(rid, 40)}; its readings are "
                                        f"{', '.join(sorted(allowed)) or 'none'} (see `stecheck show {cid}`)")
            readings = {rid: verdict(v, f"{cid} reading {rid}") for rid, v in readings.items()}
        if checked is None and printed is None and not readings:
            raise MalformedFile(f"{what} {shown}: {cid} pins no verdict; give checked, printed or readings; {fix}")
        pins[cid] = Pin(checked=checked, printed=printed, readings=readings)
    return Expectation(version=version, seed=pinned_seed, tier=pinned_tier, pins=pins)


def verdicts_of(result) -> dict:
    """The pinnable verdicts of a :class:`proofs_check.claim.ClaimResult`: checked, printed, per reading."""
    return {"checked": Verdict(result.verdict).value, "printed": Verdict(result.verdict_as_printed).value,
            "readings": {k: Verdict(v).value for k, v in result.reading_verdicts.items()}}


def compare(pin: Pin, got: Mapping, claim_id: str) -> tuple[int, list[str]]:
    """``(number of pinned verdicts that match, one line per difference)`` for one claim.

    ``got`` is :func:`verdicts_of` of the claim's result.  When readings are pinned (v2), a reading
    the run has but the pin lacks is a difference too: the findings changed.
    """
    matched, diffs = 0, []
    for which in ("checked", "printed"):
        want = getattr(pin, which)
        if want is None:
            continue
        if got[which] == want:
            matched += 1
        else:
            diffs.append(f"{claim_id} {which}: expected {want}, got {got[which]}")
    if pin.readings is not None:
        for rid, want in pin.readings.items():
            have = got["readings"].get(rid)
            if have == want:
                matched += 1
            else:
                diffs.append(f"{claim_id} reading {rid}: expected {want}, got {have or 'no such reading'}")
        for rid in sorted(set(got["readings"]) - set(pin.readings)):
            diffs.append(f"{claim_id} reading {rid}: not pinned, got {got['readings'][rid]}")
    return matched, diffs


def expect_document(results: Sequence, *, seed: int, tier: str) -> dict:
    """The version-2 expect file for ``results`` (ClaimResults, or ``{id: verdicts_of(...)}``)."""
    if isinstance(results, Mapping):
        verdicts = {cid: dict(v) for cid, v in results.items()}
    else:
        verdicts = {r.claim_id: verdicts_of(r) for r in results}
    return {"format": EXPECT_FORMAT, "version": EXPECT_VERSION, "seed": seed, "tier": tier, "verdicts": verdicts}
