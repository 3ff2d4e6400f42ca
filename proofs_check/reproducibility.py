"""What must be reproducible in a run: every claim's JSON without timings, environment and worker count.

"Same seed, same evidence, whatever the worker count" is checked with :func:`differences` (tests/determinism);
``benchmarks/mutation.py`` uses :func:`method_evidence` to tell a mutant that changes no evidence at all from one
that changes numbers but no conclusion.
"""

from __future__ import annotations

import json
from typing import Any

from .report import run_to_dict

#: Keys that hold wall-clock timings wherever they appear (method results and evidence).
TIMING_KEYS = frozenset({"seconds", "elapsed", "elapsed_seconds", "wall_seconds", "time_s"})


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _as_dict(run) -> dict[str, Any]:
    return run if isinstance(run, dict) else run_to_dict(run)


def method_evidence(run) -> dict[str, str]:
    """``"CLAIM/method"`` -> canonical JSON of the method's record without timings (``run``: a RunResult
    or its ``report.json`` dict)."""
    out = {}
    for claim in _as_dict(run)["claims"]:
        for m in claim["methods"]:
            out[f"{claim['id']}/{m['name']}"] = json.dumps(_strip(m), sort_keys=True)
    return out


def claim_records(run) -> dict[str, str]:
    """``"CLAIM"`` -> canonical JSON of the claim's record (verdicts, findings, ...) without timings."""
    return {c["id"]: json.dumps(_strip(c), sort_keys=True) for c in _as_dict(run)["claims"]}


def differences(a, b) -> list[str]:
    """The methods (and claims) whose evidence differs between runs ``a`` and ``b``, with the first key that differs."""
    ea, eb = method_evidence(a), method_evidence(b)
    out = []
    for key in sorted(set(ea) | set(eb)):
        if ea.get(key) != eb.get(key):
            out.append(f"{key}: {_first_difference(ea.get(key), eb.get(key))}")
    ca, cb = claim_records(a), claim_records(b)
    out += [f"{k} (claim record)" for k in sorted(set(ca) | set(cb)) if ca.get(k) != cb.get(k)
            and not any(d.startswith(k + "/") for d in out)]
    return out


def _first_difference(a: str | None, b: str | None, path: str = "") -> str:
    if a is None or b is None:
        return "missing in one run"
    return _diff(json.loads(a), json.loads(b), path) or "?"


def _diff(x: Any, y: Any, path: str) -> str:
    if type(x) is not type(y):
        return f"{path or '.'}: {str(x)[:80]!r} vs {str(y)[:80]!r}"
    if isinstance(x, dict):
        for k in sorted(set(x) | set(y)):
            if x.get(k) != y.get(k):
                return _diff(x.get(k), y.get(k), f"{path}.{k}")
        return ""
    if isinstance(x, list):
        if len(x) != len(y):
            return f"{path}: length {len(x)} vs {len(y)}"
        for i, (u, v) in enumerate(zip(x, y)):
            if u != v:
                return _diff(u, v, f"{path}[{i}]")
        return ""
    return "" if x == y else f"{path}: {str(x)[:80]!r} vs {str(y)[:80]!r}"
