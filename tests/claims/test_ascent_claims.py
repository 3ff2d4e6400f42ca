"""SBN-B5, SBN-B7, SBN-B8: the measured numbers, discrepancies and figures behind their verdicts.

As checked (every parameter drives one unit; B.7/B.8 with g_i Lipschitz in all of x, infinity norm) the
propositions are VERIFIED: z3 proves them for two units only, the searches and linear programs go further.
As printed ("for any a(phi)", (23) without |.|, Lipschitz in another norm) each reading gets its verdict.
"""


from fractions import Fraction

import pytest

from stecheck.proofs_check import Verdict

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED


def _res(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


def _m(run, claim_id, name):
    return next(m for m in _res(run, claim_id).methods if m.name == name)


@pytest.mark.parametrize("claim_id", ["SBN-B5", "SBN-B7", "SBN-B8"])
def test_shared_parameter_counterexample_meets_the_condition(run, claim_id):
    m = _m(run, claim_id, "shared-parameter search")
    ce = m.counterexample
    assert m.verdict is R
    assert ce["condition_margin"] >= 0 and ce["scalar_product"] < 0
    assert len(ce["c (a = a0 + c phi)"]) >= 2   # one parameter driving several units


@pytest.mark.parametrize("claim_id,sp,margin", [("SBN-B5", "-14/25", "1/5"), ("SBN-B7", "-11/25", "29/200")])
def test_coupled_counterexamples_are_exact(run, claim_id, sp, margin):
    ce = _m(run, claim_id, "coupled counterexample").counterexample
    assert ce["scalar_product (exact)"] == sp and ce["condition_margin (exact)"] == margin
    assert Fraction(sp) < 0 <= Fraction(margin)


def test_b5_necessity_is_constructed_at_every_level_in_both_lipschitz_classes(run):
    for name in ("lp construction (necessity)", "lp construction (necessity, Lipschitz in x)"):
        m = _m(run, "SBN-B5", name)
        assert all(r["constructed"] and r["scalar_product"] < 0 for r in m.evidence["constructions"]), name


def test_reading_verdicts(run):
    assert _res(run, "SBN-B5").reading_verdicts == {"per-unit": V, "shared": R, "lipschitz-in-x": V,
                                                     "per-instance": R}
    for cid in ("SBN-B7", "SBN-B8"):
        assert _res(run, cid).reading_verdicts == {"inf": V, "l2": R, "l1": R, "coordinate": R, "shared": R}, cid


def test_per_unit_sufficiency_is_verified_not_proved(run):
    # z3 covers two units; the part is VERIFIED with the proved sub-range stated
    for cid in ("SBN-B5", "SBN-B7", "SBN-B8"):
        part = next(p for p in _res(run, cid).parts("checked") if p.part == "sufficiency, one parameter per unit")
        assert part.verdict is V and "two units" in part.scope, cid


def test_magnitudes_are_compared_with_closed_forms(run):
    for cid in ("SBN-B5", "SBN-B7", "SBN-B8"):
        ev = _m(run, cid, "search (one parameter per unit)").evidence
        assert ev["max_gradient_gap_vs_closed_form"] <= ev["gap_tolerance"] == 1e-9, cid


def test_restatements_are_checked_as_printed(run):
    assert _m(run, "SBN-B5", "section 2.2 III per instance").verdict is R
    m = _m(run, "SBN-B8", "section 2.2 V: multilinear L")
    assert m.verdict is R and Fraction(m.evidence["det_dot_true"]) < 0


def test_printed_discrepancies_are_reported(run):
    b5 = _res(run, "SBN-B5")
    assert any("vacuous" in d for d in b5.discrepancies)
    b7 = _res(run, "SBN-B7")
    assert any("B7-(37)-coordinate-lipschitz" in d for d in b7.discrepancies)


# --- the refuted printed steps' hypotheses are the printed ones (sbn_ascent.PRINTED_HYPOTHESES) -------------------

import dataclasses  # noqa: E402

import sympy  # noqa: E402

from stecheck.errors import StecheckError  # noqa: E402
from stecheck.proofs_check.claims import sbn_ascent as sa  # noqa: E402


@pytest.mark.parametrize("name", sorted(sa.PRINTED_HYPOTHESES))
def test_every_refuted_printed_step_encodes_exactly_the_printed_hypotheses(name):
    audit = sa._printed_hypotheses_audit(sa._get_obligation(name), 20_000)
    assert audit["printed => encoded"] == audit["encoded => printed"] == "PROVED"
    assert set(audit.values()) == {"PROVED"} and len(audit) == (4 if name in sa.PRINTED_CONCLUSIONS else 2)


@pytest.mark.parametrize("change", ["stronger", "weaker"])
def test_an_encoding_stronger_or_weaker_than_printed_is_an_error(change):
    obl = sa._get_obligation("B5-psd-outer-product-printed")
    g1, d1 = (next(v for v in obl.variables if v.name == n) for n in ("g1", "d1"))
    first = g1 * d1 >= 1 if change == "stronger" else g1 * d1 >= -1  # the seed-13 survivor was the stronger one
    bad = dataclasses.replace(obl, assumptions=(first, *obl.assumptions[1:]))
    with pytest.raises(StecheckError, match="are not the printed ones"):
        sa._printed_hypotheses_audit(bad, 20_000)


@pytest.mark.parametrize("name", sorted(sa.PRINTED_CONCLUSIONS))
def test_a_refuted_steps_conclusion_other_than_printed_is_an_error(name):
    obl = sa._get_obligation(name)
    audit = sa._printed_hypotheses_audit(obl, 20_000)
    assert audit["encoded conclusion => printed"] == audit["printed conclusion => encoded"] == "PROVED"
    bad = dataclasses.replace(obl, conclusion=sympy.Not(obl.conclusion))  # the seed-14 survivor: j2 * s2 -> j2 / s2
    with pytest.raises(StecheckError, match="are not the printed ones .*conclusion"):
        sa._printed_hypotheses_audit(bad, 20_000)


def test_a_proved_step_with_a_strengthened_hypothesis_is_an_error():
    """A proof still goes through when a hypothesis is strengthened (the seed-14 survivor: |gbar| >= L -> |gbar| > L
    in the (29)-(30) summary), so only the comparison with the printed hypotheses sees it."""
    obl = sa._get_obligation("B5-(29)-(30)-summary")
    gb, lc = (next(v for v in obl.variables if v.name == n) for n in ("gbar", "Lc"))
    stronger = tuple(sympy.Abs(gb) > lc if a == (sympy.Abs(gb) >= lc) else a for a in obl.assumptions)
    assert stronger != obl.assumptions
    bad = dataclasses.replace(obl, assumptions=stronger)
    assert bad.check(timeout_ms=20_000).verdict == "PROVED"  # the proof alone cannot tell
    with pytest.raises(StecheckError, match="are not the printed ones"):
        sa._printed_hypotheses_audit(bad, 20_000)


def test_the_39_bound_with_a_wrong_total_probability_is_an_error():
    """The seed-17 survivor: sum_x p(x|a) = 1 -> = 2 in B7-(39)-bound.  The bound (39) holds term by term, so z3 proves
    it with any total (and without one: the sum p = 1 is not needed by this step, only by (39)'s identity); only the
    comparison with the hypotheses written apart sees a wrong one."""
    obl = sa._get_obligation("B7-(39)-bound")
    total = next(a for a in obl.assumptions if isinstance(a, sympy.Eq))
    for other in (sympy.Eq(total.lhs, 2), None):
        changed = tuple(a for a in obl.assumptions if a != total) + ((other,) if other is not None else ())
        bad = dataclasses.replace(obl, assumptions=changed)
        assert bad.check(timeout_ms=20_000).verdict == "PROVED"  # the proof alone cannot tell
        with pytest.raises(StecheckError, match="are not the printed ones"):
            sa._printed_hypotheses_audit(bad, 20_000)


def test_the_reconstructed_30_with_a_strict_or_shifted_case_condition_is_an_error():
    """B5-(30)-reconstructed: gbar < 0 -> gbar <= 0 or 2(gbar + L) <= 0 -> < 0 still prove; the audit refuses them."""
    obl = sa._get_obligation("B5-(30)-reconstructed")
    gb, lc = (next(v for v in obl.variables if v.name == n) for n in ("gbar", "Lc"))
    for old, new in ((gb < 0, gb <= 0), (2 * (gb + lc) <= 0, 2 * (gb + lc) < 0)):
        assert old in obl.assumptions
        bad = dataclasses.replace(obl, assumptions=tuple(new if a == old else a for a in obl.assumptions))
        assert bad.check(timeout_ms=20_000).verdict == "PROVED"
        with pytest.raises(StecheckError, match="are not the printed ones"):
            sa._printed_hypotheses_audit(bad, 20_000)


@pytest.mark.parametrize("name, sym, strict", [("B5-sufficiency-reconstructed", "g1", True)])
def test_a_reconstructed_step_with_a_strengthened_hypothesis_is_an_error(name, sym, strict):
    """The seed-16 survivor: |gbar_1| >= L -> |gbar_1| > L in the reconstructed sufficiency step; the proof still goes
    through, the comparison with the hypotheses written apart does not."""
    obl = sa._get_obligation(name)
    g, lc = (next(v for v in obl.variables if v.name == n) for n in (sym, "Lc"))
    stronger = tuple(sympy.Abs(g) > lc if a == (sympy.Abs(g) >= lc) else a for a in obl.assumptions)
    assert stronger != obl.assumptions
    bad = dataclasses.replace(obl, assumptions=stronger)
    assert bad.check(timeout_ms=20_000).verdict == "PROVED"
    with pytest.raises(StecheckError, match="are not the printed ones"):
        sa._printed_hypotheses_audit(bad, 20_000)


def test_state_order_audit_refuses_a_mirrored_enumeration(monkeypatch):
    """The coupled-counterexample methods check theory.enumeration's rows against itertools in the documented bit
    order (bit i of k <=> x_i = +1): the true enumeration passes, the mirrored one (-x, which leaves every
    expectation unchanged) is refused."""
    from stecheck.errors import SelfCheckFailed
    from stecheck.proofs_check.claims import sbn_ascent
    from stecheck.theory import enumeration as th_enum
    from stecheck.theory import obligations as ob

    out = ob.coupled_counterexample("B5")
    audit = sbn_ascent._audit_state_order(out["a0"], sbn_ascent._COUPLED["B5"][2])
    assert audit["states"] == 4 and audit["max_relative_probability_error"] < 1e-14
    real = th_enum.states
    monkeypatch.setattr(th_enum, "states", lambda n: -real(n))
    with pytest.raises(SelfCheckFailed, match="documented order"):
        sbn_ascent._audit_state_order(out["a0"], sbn_ascent._COUPLED["B5"][2])
