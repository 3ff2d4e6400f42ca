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


def test_a_changed_finding_count_is_detected_and_counted_apart():
    """A mutant that only adds a misprint finding changes the report's conclusions (detected), but the share
    'verdicts only' leaves it out; a verdict change together with a finding change stays in both."""
    base = {"C": ["PROVED", "REFUTED", [], [], 0, 0, [("error", 1), ("misprint", 0)]]}
    only = {"C": ["PROVED", "REFUTED", [], [], 0, 0, [("error", 1), ("misprint", 1)]]}
    both = {"C": ["VERIFIED", "REFUTED", [], [], 0, 0, [("error", 1), ("misprint", 1)]]}
    (line,) = mutation.changes(base, only)
    assert "findings" in line and "as checked" not in line
    recs = [{"detected": True, "status": "ok", "operator": "constant", "file": "theory/x.py", "line": i,
             "change": "1 -> 2", "changes": mutation.changes(base, m)} for i, m in enumerate((only, both))]
    assert [mutation.detected_by_findings_only(r) for r in recs] == [True, False]
    s = mutation.summarize(recs)
    assert s["non_equivalent_quick_tier"]["detected"] == 2
    assert s["non_equivalent_quick_tier_verdicts_only"]["detected"] == 1


def test_clopper_pearson_summary():
    recs = [{"detected": i < 9, "status": "ok", "operator": "constant", "file": "theory/x.py", "line": i,
             "change": "1 -> 2"} for i in range(10)]
    s = mutation.summarize(recs)
    assert s["all"]["share"] == 0.9
    lo, hi = s["all"]["clopper_pearson_95"]
    assert 0.55 < lo < 0.9 < hi <= 1.0
    assert s["missed"] == ["theory/x.py:9 [constant] 1 -> 2"]


def test_timeouts_are_listed_and_left_out_of_the_second_headline_share():
    recs = [{"detected": i < 6, "status": "timeout" if i < 2 else "ok", "operator": "constant", "file": "theory/x.py",
             "line": i, "change": "1 -> 2", "source": f"s{i}", "seconds": 300.0, "time_limit": 250.0}
            for i in range(10)]
    s = mutation.summarize(recs, [])
    assert s["non_equivalent_quick_tier"]["detected"] == 6 and s["non_equivalent_quick_tier"]["mutants"] == 10
    assert s["non_equivalent_quick_tier_timeouts_excluded"] == {
        **s["non_equivalent_quick_tier_timeouts_excluded"], "mutants": 8, "detected": 4}
    assert s["by_status"] == {"ok": 8, "timeout": 2, "crash": 0} and len(s["timeouts"]) == 2
    assert "limit 250.0 s" in s["timeouts"][0]
    line = mutation.headline(s)
    assert "6/10" in line and "4/8" in line and "2 timeouts" in line


GUARDED = '''
def g(x, n=3):
    if x < 0 or n > 10:
        raise ValueError("bad")
    return x + n
'''


def test_guard_and_default_argument_sites():
    tree = ast.parse(GUARDED)
    guards, defaults = mutation.guard_nodes(tree), mutation.default_nodes(tree)
    by_line = {}
    for idx, op, line in mutation.sites(tree):
        by_line.setdefault(line, []).append((idx in guards, idx in defaults))
    assert all(g and not d for g, d in by_line[3])        # the guard's test
    assert by_line[2] == [(False, True)]                   # the default 3
    assert all(not g and not d for g, d in by_line[5])     # the computation


def test_equivalent_mutants_leave_only_the_non_equivalent_share():
    recs = [{"detected": i < 8, "status": "ok", "operator": "comparison", "file": "numerics/x.py", "line": i,
             "change": f"c{i}", "source": f"s{i}"} for i in range(10)]
    listed = [{"file": "numerics/x.py", "source": "s9", "change": "c9", "class": "equivalent", "argument": "a"}]
    s = mutation.summarize(recs, listed)
    assert s["all"]["share"] == 0.8 and s["all"]["mutants"] == 10           # the raw share keeps it
    assert s["non_equivalent_quick_tier"] == {**s["non_equivalent_quick_tier"], "mutants": 9, "detected": 8}
    assert s["equivalent"]["equivalent"] == 1 and any("(equivalent)" in m for m in s["missed"])
    with pytest.raises(ValueError, match="listed as equivalent but was detected"):
        mutation.summarize(recs, [{**listed[0], "source": "s0", "change": "c0"}])


def test_a_guard_mutant_caught_by_its_unit_tests_counts_apart():
    recs = [{"detected": False, "status": "ok", "operator": "constant", "file": "numerics/x.py", "line": 1,
             "change": "2 -> 3", "source": "s", "guard": True, "unit_tests": {"detected": True}}]
    s = mutation.summarize(recs, [])
    assert s["non_equivalent_quick_tier"]["detected"] == 0
    assert s["non_equivalent_quick_tier_or_guard_unit_tests"]["detected"] == 1
    assert s["guards"] == {"mutants": 1, "detected_by_quick_tier": 0, "detected_by_unit_tests_only": 1}


def test_the_reviewed_equivalence_list_is_well_formed_and_matches_the_source():
    for e in mutation.load_equivalent():
        src = (mutation.ROOT / e["file"]).read_text(encoding="utf-8")
        assert e["source"] in [ln.strip() for ln in src.splitlines()], e
        # the change text is ast.unparse's spelling (``c ** j``, ``1e-05``), the source line the author's (``c**j``,
        # ``1e-5``): compare with the line as written and, when it parses alone, as ast.unparse spells it
        squeeze = lambda t: "".join(t.split())  # noqa: E731
        left = squeeze(e["change"].split(" -> ")[0].removeprefix("return "))
        try:
            spelled = squeeze(ast.unparse(ast.parse(e["source"])))
        except SyntaxError:
            spelled = ""
        assert left in squeeze(e["source"]) or left in spelled, e


def test_evidence_changed_compares_only_the_mutants_claims_and_needs_digests_on_both_sides():
    null = {"evidence": {"A/m1": "x", "A/m2": "y", "B/m1": "z"}}
    assert mutation.evidence_changed(null, {"evidence": {"A/m1": "x", "A/m2": "y"}}) == []
    assert mutation.evidence_changed(null, {"evidence": {"A/m1": "x", "A/m2": "Y"}}) == ["A/m2"]
    assert mutation.evidence_changed(null, {"evidence": {"B/m1": "z", "B/m2": "new"}}) == ["B/m2"]
    assert mutation.evidence_changed({}, {"evidence": {"A/m1": "x"}}) is None


def test_a_mutant_listed_equivalent_on_the_claims_inputs_must_leave_every_record_unchanged():
    rec = {"detected": False, "status": "ok", "operator": "constant", "file": "numerics/x.py", "line": 1,
           "change": "1 -> 2", "source": "s", "evidence_changed": 0, "evidence_changed_in": []}
    listed = [{"file": "numerics/x.py", "source": "s", "change": "1 -> 2", "class": "equivalent on the claims' inputs",
               "argument": "a"}]
    assert mutation.summarize([rec], listed)["non_equivalent_quick_tier_on_claims_inputs"] == {"mutants": 0}
    moved = {**rec, "evidence_changed": 1, "evidence_changed_in": ["SBN-B2/enumeration"]}
    with pytest.raises(ValueError, match="changed the evidence of \\['SBN-B2/enumeration'\\]; reclassify it"):
        mutation.summarize([moved], listed)
    assert mutation.summarize([moved], [{**listed[0], "class": "equivalent in distribution"}])["all"]["mutants"] == 1


def test_two_mutants_with_the_same_change_text_are_told_apart_by_the_mutated_statement():
    src = "def f(n):\n    return g(h((1, n))).shape[1]\n"
    ones = [idx for idx, op, _ in mutation.sites(ast.parse(src)) if mutation.mutate(src, idx)[1] == "1 -> 2"]
    stmts = [mutation.mutated_statement(src, idx) for idx in ones]
    assert sorted(stmts) == ["return g(h((1, n))).shape[2]", "return g(h((2, n))).shape[1]"]
    entry = {"file": "f.py", "source": "s", "change": "1 -> 2", "mutated": stmts[0], "class": "equivalent"}
    rec = {"file": "f.py", "source": "s", "change": "1 -> 2"}
    assert mutation.equivalence_of({**rec, "mutated": stmts[0]}, [entry]) is entry
    assert mutation.equivalence_of({**rec, "mutated": stmts[1]}, [entry]) is None
    assert mutation.equivalence_of(rec, [entry]) is None  # a record of an older run (no statement): not matched


def test_every_mutated_statement_of_the_equivalence_list_is_a_mutant_of_its_line():
    for e in (e for e in mutation.load_equivalent() if "mutated" in e):
        src = (mutation.ROOT / e["file"]).read_text(encoding="utf-8")
        line = next(i for i, ln in enumerate(src.splitlines(), 1) if ln.strip() == e["source"])
        got = {mutation.mutated_statement(src, idx) for idx, _, ln in mutation.sites(ast.parse(src))
               if ln == line and mutation.mutate(src, idx)[1] == e["change"]}
        assert e["mutated"] in got, (e["file"], got)


def test_the_mutated_statement_of_a_decorator_constant_is_the_decorator():
    src = "import functools\n\n\n@functools.lru_cache(maxsize=16)\ndef f(x):\n    return x\n"
    idx = next(i for i, op, ln in mutation.sites(ast.parse(src)) if ln == 4)
    assert mutation.mutated_statement(src, idx) == "@functools.lru_cache(maxsize=17)"
def test_mutants_that_leave_every_record_identical_are_counted_apart():
    base = {"status": "ok", "operator": "constant", "file": "numerics/x.py", "source": "s"}
    recs = [{**base, "line": 1, "change": "a", "detected": True, "evidence_changed": 3},
            {**base, "line": 2, "change": "b", "detected": False, "evidence_changed": 2},
            {**base, "line": 3, "change": "c", "detected": False, "evidence_changed": 0},
            {**base, "line": 4, "change": "d", "detected": True, "status": "crash"}]
    s = mutation.summarize(recs, [])
    assert s["silent_mutants"] == 1
    assert (s["non_equivalent_changing_evidence"]["mutants"], s["non_equivalent_changing_evidence"]["detected"]) == (3, 2)
    assert "1 mutants left every record bit-identical" in mutation.headline(s)
    old = [{k: v for k, v in r.items() if k != "evidence_changed"} for r in recs[:3]]  # a run without digests
    assert "silent_mutants" not in mutation.summarize(old, [])


def test_the_caches_are_keyed_by_the_source_tree(tmp_path, monkeypatch):
    """A coverage or null run cached for another tree must never be reused (it pairs this tree's lines with another
    tree's covered lines and baseline verdicts): the digest changes with any byte of the package tree."""
    for folder in ("theory", "numerics", "proofs_check", "src"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.py").write_text("x = 1\n")
    monkeypatch.setattr(mutation, "ROOT", tmp_path)
    first = mutation.source_tree_digest()
    assert first == mutation.source_tree_digest() and len(first) == 16
    (tmp_path / "numerics" / "m.py").write_text("x = 2\n")
    assert mutation.source_tree_digest() != first


SELF_TEST_SOURCE = '''
from stecheck.selftest import OncePerProcess

_CASES = [(1.0, 2.0), (3.0, 4.0)]


def _reference(a, b):
    return a + b


def shared(a, b):
    return a + b


def _failures():
    return [f"{a}, {b}" for a, b in _CASES if shared(a, b) != _reference(a, b)]


_check = OncePerProcess(_failures, what="x", remedy="y")


def _named_selftest():
    return shared(0.0, 0.0) == 0.0


def code_under_test(a):
    _check()
    return shared(a, 1.0)


def exported_helper():
    return 1
'''


def test_self_test_code_is_the_wrapped_and_named_self_tests_and_what_only_they_use():
    tree = ast.parse(SELF_TEST_SOURCE)
    names = {mutation._top_level_names(s)[0] for s in mutation.self_test_statements(tree)}
    # the fixture and the reference only the self-test names are test code; `shared` is named by the code under
    # test too, and the wrapper statement itself runs at import
    assert names == {"_failures", "_CASES", "_reference", "_named_selftest"}
    # a name another module uses is not private to the self-test
    names = {mutation._top_level_names(s)[0] for s in mutation.self_test_statements(tree, {"_reference"})}
    assert names == {"_failures", "_CASES", "_named_selftest"}
    # nor is a name the module exports
    exported = ast.parse(SELF_TEST_SOURCE + '\n__all__ = ["_reference"]\n')
    names = {mutation._top_level_names(s)[0] for s in mutation.self_test_statements(exported)}
    assert names == {"_failures", "_CASES", "_named_selftest"}


def test_the_code_under_test_share_leaves_the_self_tests_own_lines_out():
    base = {"status": "ok", "operator": "constant", "file": "numerics/x.py", "source": "s"}
    recs = [{**base, "line": 1, "change": "a", "detected": True, "self_test": False},
            {**base, "line": 2, "change": "b", "detected": False, "self_test": False},
            {**base, "line": 3, "change": "c", "detected": False, "self_test": True},
            {**base, "line": 4, "change": "d", "detected": True, "self_test": True},
            {**base, "line": 5, "change": "e", "detected": True}]  # an old record, unclassified
    s = mutation.summarize(recs, [])
    assert (s["code_under_test"]["mutants"], s["code_under_test"]["detected"]) == (2, 1)
    assert (s["self_test_code"]["mutants"], s["self_test_code"]["detected"]) == (2, 1)
    assert s["self_test_flag_missing"] == 1
    assert s["non_equivalent_quick_tier"]["mutants"] == 5  # the headline population is unchanged
    assert "code under test (the self-tests' own lines left out): 1/2" in mutation.headline(s)
    assert "numerics/x.py:3 [constant] c (self-test code)" in s["missed"]


def test_the_repository_self_tests_are_found_in_every_module_that_has_one():
    import re

    root = _PATH.parents[1]
    for folder in ("theory", "numerics"):
        for f in sorted((root / folder).glob("*.py")):
            src = f.read_text(encoding="utf-8")
            rel = f"{folder}/{f.name}"
            lines = mutation.self_test_lines(rel, src)
            for m in re.finditer(r"^def (\w*self_?test\w*)\(", src, flags=re.M):
                line = src[: m.start()].count("\n") + 1
                assert line in lines, f"{rel}: {m.group(1)} (line {line}) is not classified as self-test code"
            # the public entry points of a module are never test code
            for name in re.findall(r"^def ([a-z]\w*)\(", src, flags=re.M):
                if "selftest" in name or "self_test" in name or name.endswith("_audit"):
                    continue
                line = next(i + 1 for i, t in enumerate(src.splitlines()) if t.startswith(f"def {name}("))
                assert line not in lines, f"{rel}: public {name} counted as test code"
