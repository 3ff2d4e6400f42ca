"""SBN-ALG1 and SBN-METRICS: the measured numbers, discrepancies and figures behind their verdicts.

Verdicts are pinned in test_pinned_verdicts.py.
"""


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


def test_alg1_records_the_cost_of_the_linearization(run):
    enum = next(m for m in _claim(run, "SBN-ALG1").methods if m.name == "enumeration")
    # (6) is exact to rounding, Alg. 1 = (6)+(7) exactly per state, and ST is biased for these losses
    assert enum.evidence["max_E_form6_gap"] < 1e-12
    assert all(r["max_rel_gap_linearized_form6_vs_st"] == 0.0 for r in enum.evidence["instances"])
    assert enum.evidence["max_st_bias"] > 0.1
    sym = next(m for m in _claim(run, "SBN-ALG1").methods if m.name == "sympy-generic-F")
    assert all(r["st_bias_nonzero_for_this_L"] for r in sym.evidence["instances"])


def test_alg1_backprop_matches_the_sum_form_to_rounding(run):
    bp = next(m for m in _claim(run, "SBN-ALG1").methods if m.name == "backprop-a=W.phi")
    assert max(r["max_rel_gap_backprop_vs_sum_form"] for r in bp.evidence["instances"]) < 1e-13


def test_metrics_discrepancy_on_the_sign_of_66_is_reported(run):
    res = _claim(run, "SBN-METRICS")
    assert any("even in E<G,g>" in d for d in res.discrepancies)
    mc = next(m for m in res.methods if m.name == "monte-carlo-vs-exact")
    assert mc.evidence["intervals_missing_exact"] == 0
    assert ("SBN-METRICS", "ei-exact-vs-mc") in {(res.claim_id, f.name) for m in res.methods for f in m.figures}


def test_alg1_nine_is_checked_without_any_2F_prime_in_the_reference(run):
    res = _claim(run, "SBN-ALG1")
    fd = next(m for m in res.methods if m.name == "backprop-vs-finite-differences")
    for r in fd.evidence["instances"]:
        assert r["per_state_max_abs_gap"] < 1e-9 < r["per_state_max_tolerance"] < 1e-3
        assert r["expectation_max_abs_gap"] < 1e-9 < r["expectation_tolerance"] < 1e-3
    every_n = next(m for m in res.methods if m.name == "sympy-every-n")
    assert every_n.evidence["(6)_minus_gradient"] == "0" and every_n.scope.complete
    sym = next(m for m in res.methods if m.name == "sympy-generic-F")
    assert not sym.scope.complete  # n <= 2 only


def test_metrics_proof_covers_every_law_and_mc_states_its_precision(run):
    res = _claim(run, "SBN-METRICS")
    sym = next(m for m in res.methods if m.name == "sympy-minimisation")
    assert sym.scope.complete and sym.evidence["checks"]["generic_alpha_star_minus_(64)"] == "0"
    mc = next(m for m in res.methods if m.name == "monte-carlo-vs-exact")
    assert mc.evidence["precise_enough_to_decide"]


def test_metrics_audits_cover_popoviciu_and_the_zero_fraction(run):
    """The CLT interval audit of SBN-METRICS exercises the Popoviciu branch (one underflowing column with a spread)
    and the zero-fraction audit reads 13 zero rows of 64 (metrics_from_samples' fraction exactly 13/64)."""
    mc = next(m for m in _claim(run, "SBN-METRICS").methods if m.name == "monte-carlo-vs-exact")
    audit = mc.evidence["instances"][0]["clt_interval_audit"]
    assert audit["popoviciu_columns"] == 1 and audit["max_error_over_slack"] < 1.0
    zf = mc.evidence["instances"][0]["zero_fraction_audit"]
    assert zf["zero_rows"] == 13 and zf["library"] == 13 / 64


def test_zero_fraction_audit_refuses_a_wrong_fraction(monkeypatch):
    """The zero-fraction audit of SBN-METRICS counts the zero rows of G itself: a metrics_from_samples that reported
    the fraction of non-zero draws (13/64 -> 51/64) is caught and the method errs."""
    import dataclasses

    import pytest

    from stecheck.errors import SelfCheckFailed
    from stecheck.numerics import metrics
    from stecheck.proofs_check.claim import MethodContext, Tier
    from stecheck.proofs_check.claims import sbn_estimators as se
    from stecheck.numerics.seeding import task_seed

    real = metrics.metrics_from_samples

    def flipped(G, g, **kw):
        out = real(G, g, **kw)
        return dataclasses.replace(out, zero_fraction=1.0 - out.zero_fraction)

    monkeypatch.setattr(metrics, "metrics_from_samples", flipped)
    ctx = MethodContext("SBN-METRICS", "zero-fraction", 0, task_seed(0, "SBN-METRICS/zero-fraction"), Tier.QUICK)
    with pytest.raises(SelfCheckFailed, match="draws with G = 0, but"):
        se.check_metrics_montecarlo(ctx)


def test_clt_audit_refuses_a_wrong_popoviciu_width(monkeypatch):
    """The audit's Popoviciu width is computed from the raw draws: a library that used (max - min) * 2 instead of
    (max - min) / 2 on an underflowing column is caught."""
    import numpy as np
    import pytest

    from stecheck.errors import SelfCheckFailed
    from stecheck.numerics import montecarlo
    from stecheck.proofs_check.claims import sbn_estimators as se

    T = np.random.default_rng(0).uniform(-1.0, 1.0, size=(500, 3))
    se._clt_interval_audit(T, 0.99)
    real = montecarlo.clt_interval

    def wide(moments, confidence=0.99, *, simultaneous=False):
        lo, hi = real(moments, confidence, simultaneous=simultaneous)
        under = np.maximum(np.abs(moments.minimum), np.abs(moments.maximum)) < 1e-150
        return np.where(under, lo * 4, lo), np.where(under, hi * 4, hi)

    monkeypatch.setattr(montecarlo, "clt_interval", wide)
    with pytest.raises(SelfCheckFailed, match="column 4"):
        se._clt_interval_audit(T, 0.99)
