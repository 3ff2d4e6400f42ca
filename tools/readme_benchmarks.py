"""Regenerate the README's benchmark table from a ``benchmarks/run.py --json`` result (never edit it by hand).

Usage::

    python benchmarks/run.py --json /tmp/bench.json          # on an idle machine
    python tools/readme_benchmarks.py /tmp/bench.json README.md

The table sits between the markers ``<!-- benchmarks:start -->`` and
``<!-- benchmarks:end -->``; everything else in the README is left as it is.
One row per benchmark key: every key the result file measured or names a
target for, and every key of ``TARGETS`` in ``benchmarks/run.py`` (read as a
literal, never imported or executed); a key without a value in the file is
shown as "not measured" (with the reason the run gave, if it skipped it).
Below the table, one line names the run: mode, start time, commit, machine,
and the load average before and after.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared helper beside this file (also when loaded by path)
from _readme_markers import replace_between  # noqa: E402

START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"

#: What a key measures, shown after its name (keys not listed get no description).
DESCRIPTIONS = {
    "mc_vs_floor": "engine / numpy floor: variates, sign, two products",
    "torch_vs_stecheck": "PyTorch eager autograd peer / engine",
    "enum_n26_seconds": "64 blocks on 2 Dask workers, bit-identical for any worker count",
    "dask_2v1_speedup": "1 worker / 2 workers, results identical",
    "net_step_vs_matmul": "deep SBN forward + backward / its 11 matrix products",
    "ste_step_vs_matmul": "one batched STE step / its two products",
    "ste_vs_loop": "per-trial Python loop / batched engine",
}


def run_py_targets(path: Path = RUN_PY) -> dict[str, tuple[str, float, str]]:
    """``TARGETS`` of ``benchmarks/run.py`` as a literal (``{}`` if the file or the assignment is missing)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TARGETS" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return {k: tuple(v) for k, v in value.items()} if isinstance(value, dict) else {}
    return {}


def _number(value: float, unit: str) -> str:
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return f"{text} s" if unit == "s" else text


def _target(spec: Any) -> tuple[str, str]:
    """``(text, unit)`` of a target given as run.py's tuple or as the result file's string (e.g. ``"<= 1.2x"``)."""
    if isinstance(spec, (tuple, list)) and len(spec) == 3:
        op, threshold, unit = spec
        return f"{op} {_number(float(threshold), unit)}", unit
    text = str(spec).strip()
    unit = "s" if text.endswith("s") else ("x" if text.endswith("x") else "")
    body = text[:-1] if unit else text
    return (f"{body} s" if unit == "s" else body), unit


def _keys(result: dict[str, Any], targets: dict[str, tuple[str, float, str]]) -> list[str]:
    keys = list(targets)
    for key in list(result.get("targets", {})) + list(result.get("passed", {})):
        if key not in keys:
            keys.append(key)
    return keys


def _skip_reason(result: dict[str, Any], key: str) -> str | None:
    for reason in result.get("skipped", {}).values():
        if isinstance(reason, str) and key in reason:
            return reason
    return None


def table(result: dict[str, Any], source: str, targets: dict[str, tuple[str, float, str]] | None = None) -> str:
    """The Markdown table and the line naming the run, for the result dict ``result`` read from ``source``."""
    targets = run_py_targets() if targets is None else targets
    lines = ["| key | measured | spread | target | |", "| --- | ---: | ---: | ---: | --- |"]
    for key in _keys(result, targets):
        spec = result.get("targets", {}).get(key, targets.get(key))
        target, unit = _target(spec) if spec is not None else ("-", "")
        name = f"`{key}`" + (f" ({DESCRIPTIONS[key]})" if key in DESCRIPTIONS else "")
        value = result.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            reason = _skip_reason(result, key)
            status = "not measured" + (f" ({reason})" if reason else "")
            lines.append(f"| {name} | - | | {target} | {status} |")
            continue
        ok = result.get("passed", {}).get(key)
        status = "met" if ok is True else ("missed" if ok is False else "no verdict")
        sp = result.get("spread", {}).get(key)
        spread = f"+-{100 * sp:.0f} %" if isinstance(sp, (int, float)) else ""
        lines.append(f"| {name} | {_number(float(value), unit)} | {spread} | {target} | {status} |")
    lines += ["", run_line(result, source)]
    return "\n".join(lines)


def run_line(result: dict[str, Any], source: str) -> str:
    """One sentence: which run (mode, time, commit) on which machine under which load."""
    env = result.get("environment", {})
    commit = str(env.get("commit") or "unknown")[:7] + (" with uncommitted changes" if env.get("commit_dirty") else "")
    before, after = env.get("loadavg_before") or ["?"], env.get("loadavg_after") or ["?"]

    def load(values: list[Any]) -> str:
        return f"{values[0]:.1f}" if isinstance(values[0], (int, float)) else "?"

    machine = (f"{env.get('host', '?')} ({env.get('cpu', '?')}, {env.get('cpus', '?')} cpus, Python "
               f"{env.get('python', '?')}, numpy {env.get('numpy', '?')}, BLAS threads {env.get('blas_threads', '?')})")
    return (f"Generated by `tools/readme_benchmarks.py` from [`{source}`]({source}): a {result.get('mode', '?')}-mode "
            f"run started {result.get('started_at', '?')} at commit {commit} on {machine}; load average "
            f"{load(before)} at the start and {load(after)} at the end.")


def replace_block(text: str, body: str, readme: str = "README.md") -> str:
    """``text`` with the part between the markers replaced by ``body``."""
    return replace_between(text, START, END, body, readme=readme, where="around the benchmark table")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tools/readme_benchmarks.py RESULT_JSON README_MD", file=sys.stderr)
        return 2
    source, readme = argv
    try:
        result = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"readme_benchmarks: cannot read {source} ({exc}); pass a file written by benchmarks/run.py --json",
              file=sys.stderr)
        return 2
    if not isinstance(result, dict):
        print(f"readme_benchmarks: {source} is not a benchmarks/run.py --json result (not an object)", file=sys.stderr)
        return 2
    text = Path(readme).read_text(encoding="utf-8")
    Path(readme).write_text(replace_block(text, table(result, source), readme), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
