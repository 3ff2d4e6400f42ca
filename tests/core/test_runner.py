"""The runner: same seed -> identical evidence for any worker count; failing methods are reported, not raised."""

import json

import pytest

from stecheck.proofs_check import Claim, Kind, Method, Outcome, Source, Verdict
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
