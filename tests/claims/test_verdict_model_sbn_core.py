"""Issue 8 for SBN-B1, B2, EX1, EX2, B3, ALG1, METRICS, INIT, PROXY, COR-B1, PGD, P1, P2: every verdict says
exactly what its evidence shows.

* every static discrepancy is a categorized :class:`Finding` (no plain strings);
* every printed-role method declares the category its refutation means;
* every method states its scope (never "not stated");
* a claim with readings gets a verdict per reading, and the readings that fail carry a counterexample;
* only findings of category *error* refute the statement as printed.
"""

import pytest

from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import Category, Finding
from stecheck.proofs_check.claims import sbn_bias, sbn_estimators, sbn_invariance, sbn_latent, sbn_proxies

CLAIMS = {c.id: c for m in (sbn_invariance, sbn_bias, sbn_estimators, sbn_proxies, sbn_latent) for c in m.CLAIMS}
MINE = ("SBN-B1", "SBN-B2", "SBN-EX1", "SBN-EX2", "SBN-B3", "SBN-ALG1", "SBN-METRICS", "SBN-INIT", "SBN-PROXY",
        "SBN-COR-B1", "SBN-PGD", "SBN-P1", "SBN-P2")

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED


def test_the_thirteen_claims_are_these():
    assert set(CLAIMS) == set(MINE)


@pytest.mark.parametrize("claim_id", MINE)
def test_static_discrepancies_are_findings_and_methods_state_scope_and_category(claim_id):
    claim = CLAIMS[claim_id]
    assert all(isinstance(d, Finding) for d in claim.discrepancies), claim_id
    for m in claim.methods:
        assert m.scope.covers and m.scope.covers != "not stated", (claim_id, m.name)
        if m.role == "printed":
            assert isinstance(m.category, Category), (claim_id, m.name)


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


@pytest.mark.parametrize("claim_id", MINE)
def test_recorded_methods_carry_their_scope_and_findings_their_category(run, claim_id):
    res = _claim(run, claim_id)
    for m in res.methods:
        assert m.scope.covers != "not stated", m.name
    for f in res.findings:
        assert isinstance(f, Finding) and isinstance(f.category, Category)


# reading id -> verdict, per claim: which readings make the printed statement true and which refute it
READINGS = {
    "SBN-B1": {"increasing": P, "decreasing": R, "either": R},
    "SBN-B2": {"expression": P, "function": R},
    "SBN-PGD": {"slope": P, "cdf-derivative": R},
    "SBN-METRICS": {"magnitude": P, "ranking": R},
    "SBN-EX2": {"pm1": R, "01": R},   # the opposite direction holds in both; the printed "-1" is wrong in both
    "SBN-PROXY": {"input-scaled": P, "output-scaled": R},
    "SBN-COR-B1": {"pm1": R, "01": P},
}


@pytest.mark.parametrize("claim_id", list(READINGS))
def test_reading_verdicts(run, claim_id):
    res = _claim(run, claim_id)
    assert res.reading_verdicts == READINGS[claim_id]
    for m in res.methods:
        if m.reading is not None and m.verdict is R:
            assert m.counterexample, m.name


def test_ex2_opposite_direction_holds_in_both_encodings_with_ratio_1_minus_2pi(run):
    res = _claim(run, "SBN-EX2")
    for name in ("sympy-ratio-pm1", "sympy-ratio-01"):
        m = next(m for m in res.methods if m.name == name)
        assert m.verdict is P and m.evidence["ratio_minus_claimed"] == "0"
    enum = next(m for m in res.methods if m.name == "enumeration")
    assert enum.evidence["max_rel_gap_to_claimed_ratio"] <= 1e-12


def test_only_errors_refute_as_printed(run):
    # misprints, conventions and imprecisions are listed, never a refutation
    for claim_id in MINE:
        res = _claim(run, claim_id)
        errors = [f for f in res.findings if f.category is Category.ERROR]
        if res.verdict_as_printed is R:
            assert errors, claim_id
    counts = {c: _claim(run, c).finding_counts() for c in ("SBN-PROXY", "SBN-INIT", "SBN-P1", "SBN-COR-B1")}
    assert counts["SBN-PROXY"]["misprint"] >= 2 and counts["SBN-PROXY"]["error"] == 0
    assert counts["SBN-INIT"]["misprint"] >= 1 and counts["SBN-INIT"]["error"] == 0
    assert counts["SBN-P1"]["convention"] >= 2 and counts["SBN-P1"]["error"] == 0
    assert counts["SBN-COR-B1"]["convention"] >= 1 and counts["SBN-COR-B1"]["error"] == 0


def test_proved_parts_rest_on_complete_scopes(run):
    # a part is PROVED only through a proof whose scope covers the whole range; SBN-ALG1's (9) and SBN-METRICS'
    # implementation are checked numerically only, which leaves those claims VERIFIED
    for claim_id in MINE:
        res = _claim(run, claim_id)
        for part in res.parts("checked"):
            if part.verdict is P:
                entries = [m for m in res.methods if m.role == "checked" and m.part == part.part]
                assert any(m.verdict is P and m.scope.complete for m in entries), (claim_id, part.part)
    for claim_id, part in (("SBN-ALG1", "(9): backprop computes (8)"), ("SBN-METRICS", "metrics implemented")):
        res = _claim(run, claim_id)
        assert res.verdict is V
        pv = next(p for p in res.parts("checked") if p.part == part)
        assert pv.verdict is V, (claim_id, pv)
