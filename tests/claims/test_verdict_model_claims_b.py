"""Issue 8 for SBN-E1..E4, SBN-STGS, SBN-B4..B8 and QSTE-POP/LR: every static discrepancy is a Finding, every
printed method declares what its refutation means, every method states its scope, and no part is PROVED by a
proof narrower than its range."""

import pytest

from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claims import qste, sbn_ascent, sbn_gumbel, sbn_rescaling
from stecheck.proofs_check.verdict import UNSTATED, Category, Finding, Scope

CLAIMS = [c for mod in (sbn_gumbel, sbn_rescaling, sbn_ascent, qste) for c in mod.CLAIMS]
IDS = {"SBN-E1", "SBN-E2", "SBN-E3", "SBN-E4", "SBN-STGS", "SBN-B4", "SBN-B6", "SBN-B5", "SBN-B7", "SBN-B8",
       "QSTE-POP", "QSTE-LR"}


def test_these_are_the_claims():
    assert {c.id for c in CLAIMS} == IDS


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_static_discrepancies_are_findings(claim):
    assert claim.discrepancies
    for d in claim.discrepancies:
        assert isinstance(d, Finding) and isinstance(d.category, Category) and d.text, d


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_printed_methods_declare_a_category(claim):
    for m in claim.methods:
        if m.role == "printed":
            assert isinstance(m.category, Category), m.name


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_method_states_its_scope(claim):
    for m in claim.methods:
        assert isinstance(m.scope, Scope) and m.scope != UNSTATED and m.scope.covers.strip(), m.name


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_reading_is_decided_by_some_method(claim):
    for r in claim.readings:
        assert any(m.reading == r.id for m in claim.methods), r.id


def test_narrow_proofs_do_not_claim_the_whole_range():
    # the proofs issue 8 names: two-unit z3, n <= 3 sympy, small-tau series
    narrow = {("SBN-B4", "z3-steps-uncoupled"), ("SBN-B4", "sympy-sum-of-squares"),
              ("SBN-B5", "z3 sufficiency (one parameter per unit)"), ("SBN-B7", "z3 sufficiency (one parameter per unit)"),
              ("SBN-B8", "z3 sufficiency (one parameter per unit)"), ("SBN-B5", "z3 necessity (|E[g_i]| >= L)"),
              ("SBN-E1", "sympy-linear"), ("QSTE-LR", "movement-bound")}
    by = {(c.id, m.name): m for c in CLAIMS for m in c.methods}
    for key in narrow:
        assert not by[key].scope.complete, key


def test_run_results_carry_scopes_and_no_part_is_proved_by_a_narrow_proof(run):
    for res in run.claims:
        if res.claim_id not in IDS:
            continue
        for m in res.methods:
            assert m.scope != UNSTATED, (res.claim_id, m.name)
        for p in res.parts("checked"):
            if p.verdict is Verdict.PROVED:
                names = [n for n in p.methods]
                assert any(m.scope.complete and m.verdict is Verdict.PROVED for m in res.methods if m.name in names)
