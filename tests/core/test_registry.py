"""The claim registry: explicit registration, unique ids, helpful lookups."""

import pytest

from stecheck.proofs_check import Claim, Kind, Method, Outcome, Source, Verdict
from stecheck.errors import InvalidArgument, UnknownClaim
from stecheck.proofs_check.registry import Registry, default_registry

REQUIRED_FIRST_CLAIMS = {"SBN-B1", "SBN-B2", "SBN-EX1", "SBN-EX2", "SBN-B3"}


def _ok(ctx):
    return Outcome(Verdict.VERIFIED)


def _claim(cid="T-1", methods=None):
    methods = methods or (Method("m", Kind.EXACT, _ok, "d"),)
    return Claim(cid, "title", Source("f", "s"), "printed", "checked", methods)


def test_default_registry_holds_the_first_claims_with_two_independent_methods_each():
    reg = default_registry()
    assert REQUIRED_FIRST_CLAIMS <= set(reg.ids())
    for cid in REQUIRED_FIRST_CLAIMS:
        claim = reg.get(cid)
        checked = [m for m in claim.methods if m.role == "checked"]
        assert len({m.kind for m in checked}) >= 2, cid
        assert claim.statement_printed and claim.statement_checked


def test_duplicate_ids_are_rejected():
    reg = Registry([_claim()])
    with pytest.raises(InvalidArgument, match="twice"):
        reg.register(_claim())


def test_duplicate_method_names_are_rejected():
    m = Method("m", Kind.EXACT, _ok, "d")
    with pytest.raises(InvalidArgument, match="duplicate"):
        _claim(methods=(m, m))


def test_a_claim_needs_a_checked_method():
    with pytest.raises(InvalidArgument, match="checked"):
        _claim(methods=(Method("m", Kind.EXACT, _ok, "d", role="printed"),))


def test_unknown_id_suggests_close_matches():
    with pytest.raises(UnknownClaim, match="did you mean SBN-B2"):
        default_registry().get("SBN-B22")


def test_unknown_id_without_match_points_to_list():
    with pytest.raises(UnknownClaim, match="stecheck list"):
        default_registry().get("NOPE")


def test_lookup_is_case_insensitive_and_select_keeps_order():
    reg = default_registry()
    assert reg.get("sbn-ex1").id == "SBN-EX1"
    assert [c.id for c in reg.select(["SBN-EX2", "SBN-B1", "SBN-EX2"])] == ["SBN-EX2", "SBN-B1"]


def test_fingerprint_changes_with_the_method():
    a = Method("m", Kind.EXACT, _ok, "d")
    b = Method("m", Kind.EXACT, _ok, "d", part="other")
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == Method("m", Kind.EXACT, _ok, "d").fingerprint()


def test_a_reading_method_and_the_claim_agree_on_reading_ids():
    from stecheck.proofs_check.claim import Reading
    m = Method("m", Kind.EXACT, _ok, "d", reading="l2")
    claim = Claim("T-2", "title", Source("f", "s"), "printed", "checked", (m,), readings=(Reading("l2", "l2"),))
    assert Registry([claim]).get("T-2").readings[0].id == "l2"


def test_every_registered_claim_categorizes_its_findings_and_states_its_scopes():
    from stecheck.proofs_check.verdict import UNSTATED, Category, Finding

    problems = []
    for claim in default_registry():
        for d in claim.discrepancies:
            if not isinstance(d, Finding) or not isinstance(d.category, Category):
                problems.append(f"{claim.id}: static discrepancy is not a Finding: {str(d)[:60]!r}")
        for m in claim.methods:
            if m.role == "printed" and m.category is None:
                problems.append(f"{claim.id}/{m.name}: printed method declares no category")
            if m.scope == UNSTATED or not m.scope.covers.strip():
                problems.append(f"{claim.id}/{m.name}: states no scope")
    assert not problems, "\n".join(problems)
