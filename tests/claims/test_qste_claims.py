"""QSTE-POP and QSTE-LR: the measured numbers, discrepancies and figures behind their verdicts.

Verdicts are pinned in test_pinned_verdicts.py.
"""

from stecheck.proofs_check import Verdict


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


def test_pop_numbers(run):
    res = _claim(run, "QSTE-POP")
    by = {m.name: m for m in res.methods}
    mc = by["monte-carlo-closed-forms"].evidence
    assert mc["max_z"] < 3.5 and mc["family_confidence"] > 0.98
    assert all(r["precise_enough"] for r in mc["instances"])
    assert by["sympy-vs-textbook-moments"].evidence["f (v* = v)"] == "theta*v_sq/(2*pi)"
    assert by["sympy-vs-textbook-moments"].evidence["identity_is_twice_relu"]   # the number a finding asserts
    lo, hi = by["monte-carlo-sign"].evidence["instances"][0]["interval"]
    assert 0 < lo < hi
    names = {f.name for m in res.methods for f in m.figures}
    assert {"inner-products", "teacher-flip"} <= names


def test_pop_extension_keeps_w_star_the_minimizer_and_counts_for_no_verdict(run):
    res = _claim(run, "QSTE-POP")
    by = {m.name: m for m in res.methods}
    sym, mc = by["teacher-flip-symbolic"], by["teacher-flip-montecarlo"]
    assert sym.evidence["B at (v, v*)"] == "-1" and sym.evidence["w_star_is_the_minimizer"]
    assert mc.evidence["interval"][1] < 0 and mc.evidence["v.v*"] > 0
    for m in (sym, mc):
        assert m.role == "printed" and m.refutation_category.value != "error"   # never in the paper's verdict
    parts = {p.part for which in ("checked", "printed") for p in res.parts(which)}
    assert not any("outside" in p for p in parts)


def test_lr_numbers(run):
    res = _claim(run, "QSTE-LR")
    sim = next(m for m in res.methods if m.name == "ste-simulation")
    assert sim.evidence["fisher_one_sided_p"] < 1e-3
    # the sweep states for which c the summable schedules still fail: small c only
    assert 0.05 in sim.evidence["summable_never_reach_w_star_for_c"]
    assert 50.0 in sim.evidence["summable_reach_w_star_for_c"]
    assert "c =" in sim.scope.covers
    bound = next(m for m in res.methods if m.name == "movement-bound")
    assert bound.verdict is Verdict.PROVED and not bound.scope.complete
    assert bound.evidence["movement bound"] < 2**-0.5 and bound.evidence["c0 (freeze threshold)"] > 0.05


def test_quadrature_low_precision_audit_is_recorded_and_refuses_an_inflated_error(monkeypatch):
    """QSTE-POP's quadrature method audits the stated error at 10 digits (where the working-precision term is the
    error): recorded as stated/measured (33 here, at most QUAD_MAX_LOOSENESS = 100), and a stated error inflated
    5x beyond its derivation at that precision makes the method an error (SelfCheckFailed)."""
    import pytest

    from stecheck.errors import SelfCheckFailed
    from stecheck.proofs_check.claims import qste
    from stecheck.theory import population as pop

    out = qste.check_pop_quadrature(None)
    audit = out.evidence["low_precision_audit"]
    assert audit["dps"] == 10 and 1.0 < audit["stated_over_measured"] <= audit["limit"] == qste.QUAD_MAX_LOOSENESS
    assert audit["stated_over_measured"] * 5 > qste.QUAD_MAX_LOOSENESS
    real = pop.clipped_relu_quadrature

    def inflated(*args, dps=20, **kw):
        q = real(*args, dps=dps, **kw)
        return pop.QuadratureEstimate(q.value, q.error * 5, q.dps) if dps == 10 else q

    monkeypatch.setattr(pop, "clipped_relu_quadrature", inflated)
    with pytest.raises(SelfCheckFailed, match="10 digits"):
        qste.check_pop_quadrature(None)
