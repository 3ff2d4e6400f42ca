"""benchmarks/mutation.py: its mutants are one-node changes, never of docstrings, and it compares verdicts."""

import ast
import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "mutation.py"
_spec = importlib.util.spec_from_file_location("stecheck_mutation_script", _PATH)
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)

SOURCE = '''
def f(x, y):
    """Docstring with 2 numbers 3.5."""
    if x < 0 and y >= 1:
        return -x
    return 2.0 * x + y ** 2
'''


def test_sites_skip_docstrings_and_cover_every_operator():
    sites = mutation.sites(ast.parse(SOURCE))
    ops = {op for _, op, _ in sites}
    assert ops == {"constant", "operator", "comparison", "boolean", "unary", "return"}
    assert all(line != 3 for _, _, line in sites)  # the docstring line


@pytest.mark.parametrize("k", range(14))
def test_each_mutant_changes_exactly_the_program_and_keeps_the_docstring(k):
    sites = mutation.sites(ast.parse(SOURCE))
    if k >= len(sites):
        pytest.skip("fewer sites")
    idx, op, _ = sites[k]
    text, change = mutation.mutate(SOURCE, idx)
    assert "->" in change
    assert ast.dump(ast.parse(text)) != ast.dump(ast.parse(SOURCE))
    assert "Docstring with 2 numbers 3.5." in text
    ns_orig, ns_mut = {}, {}
    exec(SOURCE, ns_orig)
    exec(text, ns_mut)
    points = [(-1.0, 1.0), (-1.0, 0.5), (3.0, 2.0), (0.0, 0.0), (2.0, 1.0), (0.5, 1.0), (-1.0, 2.0), (0.0, 1.0)]
    outs = []
    for x, y in points:
        try:
            outs.append(ns_mut["f"](x, y))
        except Exception as exc:  # e.g. a negated return of a tuple; counts as a change
            outs.append(type(exc))
    assert outs != [ns_orig["f"](x, y) for x, y in points], change


def test_changes_names_the_verdicts_that_moved():
    base = {"C": ["PROVED", "REFUTED", [], [["checked", "main", "PROVED"]], 0, 0]}
    same = {"C": ["PROVED", "REFUTED", [], [["checked", "main", "PROVED"]], 0, 0]}
    moved = {"C": ["VERIFIED", "REFUTED", [], [["checked", "main", "VERIFIED"]], 1, 0]}
    assert mutation.changes(base, same) == []
    (line,) = mutation.changes(base, moved)
    assert "as checked" in line and "parts" in line and "disagreements" in line


def test_clopper_pearson_summary():
    recs = [{"detected": i < 9, "status": "ok", "operator": "constant", "file": "theory/x.py", "line": i,
             "change": "1 -> 2"} for i in range(10)]
    s = mutation.summarize(recs)
    assert s["all"]["share"] == 0.9
    lo, hi = s["all"]["clopper_pearson_95"]
    assert 0.55 < lo < 0.9 < hi <= 1.0
    assert s["missed"] == ["theory/x.py:9 [constant] 1 -> 2"]
