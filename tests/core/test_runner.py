"""The runner: same seed -> identical evidence for any worker count; failing methods are reported, not raised."""

import json

import pytest

from stecheck.proofs_check import Claim, Kind, Method, Outcome, Source, Verdict
from stecheck.proofs_check.claim import Reading
from stecheck.proofs_check.verdict import Category, Finding, Scope
from stecheck.proofs_check.registry import default_registry
from stecheck.proofs_check.report import run_to_dict
from stecheck.proofs_check.runner import run_claims


def _evidence(run):
    """The report without timings, environment and worker count: what must be reproducible."""
    d = run_to_dict(run)
    for c in d["claims"]:
        for m in c["methods"]:
            m.pop("seconds")
    return json.dumps(d["claims"], sort_keys=True)


@pytest.mark.cluster
def test_same_seed_same_evidence_in_process_and_on_two_workers():
    claims = default_registry().select(["SBN-B2", "SBN-EX1"])
    local = run_claims(claims, seed=1, workers=0)
    cluster = run_claims(claims, seed=1, workers=2)
    assert cluster.workers == 2
    assert _evidence(local) == _evidence(cluster)


def test_different_seed_changes_random_evidence():
    claims = default_registry().select(["SBN-B2"])
    a, b = run_claims(claims, seed=1, workers=0), run_claims(claims, seed=2, workers=0)
    assert _evidence(a) != _evidence(b)


def _boom(ctx):
    raise ZeroDivisionError("deliberate failure")


def _fine(ctx):
    return Outcome(Verdict.PROVED, {"x": 1})


def _not_an_outcome(ctx):
    return True


def test_a_failing_method_becomes_an_error_result_and_the_run_goes_on():
    claim = Claim("T-ERR", "t", Source("f", "s"), "p", "c", (
        Method("boom", Kind.EXACT, _boom, "raises", part="a"),
        Method("fine", Kind.SYMBOLIC, _fine, "works", part="b"),
        Method("bad-return", Kind.EXACT, _not_an_outcome, "returns junk", part="c"),
    ))
    run = run_claims([claim], seed=0, workers=0)
    res = run.claims[0]
    by_name = {m.name: m for m in res.methods}
    assert by_name["boom"].verdict is Verdict.ERROR and "deliberate failure" in by_name["boom"].error
    assert by_name["bad-return"].verdict is Verdict.ERROR
    assert by_name["fine"].verdict is Verdict.PROVED
    assert res.verdict is Verdict.ERROR
    assert "ZeroDivisionError" in by_name["boom"].evidence["traceback"]


def test_each_method_records_its_seed_stream():
    run = run_claims(default_registry().select(["SBN-EX1"]), seed=7, workers=0)
    seeds = [m.evidence["seed"] for m in run.claims[0].methods]
    assert all(s["run_seed"] == 7 for s in seeds)
    assert len({tuple(s["spawn_key"]) for s in seeds}) == len(seeds)


def _proved_small(ctx):
    return Outcome(Verdict.PROVED, {"n": 3})


def _proved_tier_scope(ctx):
    return Outcome(Verdict.PROVED, {}, scope=Scope(f"n <= {16 if ctx.full else 12}"))


def _verified(ctx):
    return Outcome(Verdict.VERIFIED, {"interval": [0.1, 0.2]})


def _refuted_literal(ctx):
    return Outcome(Verdict.REFUTED, {}, discrepancies=["the printed factor is 1, the derivation gives 2"],
                   counterexample={"a": "0"})


def _refuted_with_finding(ctx):
    return Outcome(Verdict.REFUTED, {}, discrepancies=[Finding(Category.MISPRINT, "'-1' is PDF damage")])


def _bad_scope(ctx):
    return Outcome(Verdict.PROVED, {}, scope="n <= 3")


def test_a_partial_proof_run_in_process_is_verified_with_its_scope_recorded():
    claim = Claim("T-SCOPE", "t", Source("f", "s"), "p", "c", (
        Method("sympy-n3", Kind.SYMBOLIC, _proved_small, "proof for n <= 3", scope=Scope("n <= 3")),
        Method("enum", Kind.EXACT, _proved_tier_scope, "enumeration", scope=Scope("n <= ?")),
        Method("mc", Kind.MONTECARLO, _verified, "samples", scope=Scope("n = 40")),
    ))
    res = run_claims([claim], seed=0, workers=0).claims[0]
    by_name = {m.name: m for m in res.methods}
    assert by_name["sympy-n3"].scope == Scope("n <= 3")
    assert by_name["enum"].scope == Scope("n <= 12")  # the Outcome's run-time scope replaces the declared one
    assert res.verdict is Verdict.VERIFIED
    (part,) = res.parts()
    assert "proved for n <= 3 (sympy-n3); n <= 12 (enum)" in part.scope


def test_a_complete_proof_run_in_process_is_proved():
    claim = Claim("T-WHOLE", "t", Source("f", "s"), "p", "c", (
        Method("sympy", Kind.SYMBOLIC, _fine, "symbolic n", scope=Scope.whole("all n (symbolic n)")),
        Method("mc", Kind.MONTECARLO, _verified, "samples", scope=Scope("n = 40")),
    ))
    assert run_claims([claim], seed=0, workers=0).claims[0].verdict is Verdict.PROVED


def test_an_outcome_scope_that_is_not_a_scope_is_an_error():
    claim = Claim("T-BADSCOPE", "t", Source("f", "s"), "p", "c", (
        Method("bad", Kind.SYMBOLIC, _bad_scope, "returns a str scope"),
    ))
    res = run_claims([claim], seed=0, workers=0).claims[0]
    assert res.verdict is Verdict.ERROR and "Scope" in res.methods[0].error


def test_measured_discrepancies_become_findings_of_the_method_s_category():
    claim = Claim("T-FIND", "t", Source("f", "s"), "p", "c", (
        Method("main", Kind.SYMBOLIC, _fine, "proof", scope=Scope.whole()),
        Method("lit-conv", Kind.SYMBOLIC, _refuted_literal, "literal", part="factor", role="printed",
               category=Category.CONVENTION, scope=Scope.whole()),
        Method("lit-mis", Kind.SYMBOLIC, _refuted_with_finding, "literal", part="value", role="printed",
               category=Category.ERROR, scope=Scope.whole()),
    ), discrepancies=(Finding(Category.IMPRECISION, "a hypothesis is missing"),))
    res = run_claims([claim], seed=0, workers=0).claims[0]
    conv = [f for f in res.findings if f.source == "lit-conv"]
    assert conv == [Finding(Category.CONVENTION, "the printed factor is 1, the derivation gives 2", "lit-conv")]
    mis = [f for f in res.findings if f.source == "lit-mis"]
    assert mis == [Finding(Category.MISPRINT, "'-1' is PDF damage", "lit-mis")]
    assert res.findings[0] == Finding(Category.IMPRECISION, "a hypothesis is missing")
    assert res.verdict is Verdict.PROVED
    # lit-mis is a printed method of category error: its refutation refutes the printed statement
    assert res.verdict_as_printed is Verdict.REFUTED


def test_readings_are_recorded_and_judged_separately():
    claim = Claim("T-READ", "t", Source("f", "s"), "p", "c", (
        Method("main", Kind.SYMBOLIC, _fine, "proof", scope=Scope.whole()),
        Method("l2", Kind.SYMBOLIC, _fine, "l2 proof", reading="l2", role="printed",
               category=Category.IMPRECISION, scope=Scope.whole()),
        Method("coord", Kind.SYMBOLIC, _refuted_literal, "coordinate counterexample", reading="coord",
               role="printed", category=Category.IMPRECISION, scope=Scope.whole()),
    ), readings=(Reading("l2", "Euclidean norm"), Reading("coord", "in x_i only")))
    res = run_claims([claim], seed=0, workers=0).claims[0]
    assert [r.id for r in res.readings] == ["l2", "coord"]
    assert {m.name: m.reading for m in res.methods} == {"main": None, "l2": "l2", "coord": "coord"}
    assert res.reading_verdicts == {"l2": Verdict.PROVED, "coord": Verdict.REFUTED}
    assert res.verdict_as_printed is Verdict.PROVED


def test_an_error_beside_a_supporting_method_of_the_same_part_makes_the_claim_error():
    claim = Claim("T-ERR2", "t", Source("f", "s"), "p", "c", (
        Method("fine", Kind.SYMBOLIC, _fine, "works", scope=Scope.whole()),
        Method("boom", Kind.MONTECARLO, _boom, "raises", scope=Scope.whole()),
    ))
    res = run_claims([claim], seed=0, workers=0).claims[0]
    assert res.verdict is Verdict.ERROR and res.verdict_as_printed is Verdict.ERROR
    assert res.errors == ["boom: ZeroDivisionError: deliberate failure"]
