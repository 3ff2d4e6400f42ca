"""Mutants for SBN-B5/B7/B8: every checked method, given a false premise, REFUTES.

* z3 steps: the step with its assumptions dropped (or, for an identity, its
  right-hand side shifted by 1);
* searches and linear programs: the condition weakened (its L scaled by
  ``condition_scale < 1``);
* the necessity construction: a "violation" level above L, i.e. the
  condition actually holds, so no breaking loss can exist.
"""

import dataclasses

import pytest
import sympy

from stecheck.numerics.seeding import task_seed
from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import sbn_ascent as sa


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


def _mutate(obligation):
    if obligation.assumptions:
        return dataclasses.replace(obligation, assumptions=())
    c = obligation.conclusion
    if isinstance(c, sympy.And):
        c = c.args[0]
    return dataclasses.replace(obligation, conclusion=sympy.Eq(c.lhs, c.rhs + 1))


CHECKED_STEPS = sorted({
    m.check.keywords["step"]
    for claim in sa.CLAIMS for m in claim.methods
    if m.role == "checked" and getattr(m.check, "func", None) is sa.check_step
})


def test_every_checked_step_is_covered():
    assert "B5-(27)" in CHECKED_STEPS and "B8-(45)" in CHECKED_STEPS and len(CHECKED_STEPS) >= 20


@pytest.mark.parametrize("step", CHECKED_STEPS)
def test_z3_step_without_its_premises_is_refuted(step):
    out = sa.check_step(_ctx(), obligation=_mutate(sa._get_obligation(step)))
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample


@pytest.mark.parametrize("prop,lipschitz,scale,per_size", [
    ("B5", "coordinate", 0.5, None), ("B7", "inf", 0.25, 150), ("B8", "inf", 0.25, 150)])
def test_random_search_with_weakened_condition_is_refuted(prop, lipschitz, scale, per_size):
    out = sa.check_random_search(_ctx(), prop=prop, lipschitz=lipschitz, condition_scale=scale, per_size=per_size)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["scalar_product"] < 0


@pytest.mark.parametrize("prop,lipschitz", [("B5", "coordinate"), ("B7", "inf"), ("B8", "inf")])
def test_lp_with_weakened_condition_is_refuted(prop, lipschitz):
    out = sa.check_lp_worst_case(_ctx(), prop=prop, lipschitz=lipschitz, condition_scale=0.5, points=4)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["coordinate_product"] < 0


def test_necessity_construction_fails_when_the_condition_holds():
    out = sa.check_b5_necessity_construction(_ctx(), levels=(1.2,))
    assert out.verdict is Verdict.REFUTED


def test_shared_parameter_search_finds_nothing_for_one_unit():
    # one unit: a shared parameter is a single parameter, and (23) suffices -- no refutation
    out = sa.check_shared_parameter_search(_ctx(), prop="B5", lipschitz="coordinate", sizes=(1,), per_size=40)
    assert out.verdict is not Verdict.REFUTED


def test_necessity_construction_in_the_smaller_class_fails_when_the_condition_holds():
    out = sa.check_b5_necessity_construction(_ctx(), levels=(1.2,), lipschitz="inf")
    assert out.verdict is Verdict.REFUTED


@pytest.mark.parametrize("prop", ["B7", "B8"])
def test_a_wrong_deterministic_st_magnitude_is_caught(monkeypatch, prop):
    # deterministic ST with F'(a) instead of 2F'(a): no sign changes, only the magnitude -- the closed-form
    # comparison of the search must refute
    real = sa.enumeration.expected_estimator

    class Half:
        def __init__(self, r):
            self.value, self.error_bound = 0.5 * sa.np.asarray(r.value), r.error_bound

    def wrong(name, *args, **kw):
        r = real(name, *args, **kw)
        return Half(r) if name == "deterministic_st" else r

    monkeypatch.setattr(sa.enumeration, "expected_estimator", wrong)
    out = sa.check_random_search(_ctx(), prop=prop, lipschitz="inf", per_size=5)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["problem"].startswith("an enumerated gradient differs")


def test_printed_exact_checks_can_come_out_the_other_way():
    from fractions import Fraction

    # per instance: with the condition met there is nothing to refute
    assert sa.check_b5_per_instance(_ctx(), b1=Fraction(3), q11=Fraction(1)).verdict is Verdict.VERIFIED
    # section 2.2 V: a linear loss (no interaction) makes deterministic ST an ascent direction
    assert sa.check_b8_restatement_multilinear(_ctx(), q12=Fraction(0)).verdict is Verdict.VERIFIED


@pytest.mark.parametrize("prop,kind", [("B7", "l1"), ("B8", "l1")])
def test_lipschitz_reading_lp_verifies_in_the_infinity_norm(prop, kind):
    # the same LP in the infinity-norm class finds no witness: the l1 refutation is the norm's doing
    assert sa.check_lp_worst_case(_ctx(), prop=prop, lipschitz="inf", points=3).verdict is Verdict.VERIFIED
    assert sa.check_lp_worst_case(_ctx(), prop=prop, lipschitz=kind, points=3).verdict is Verdict.REFUTED


def test_l2_box_search_never_verifies():
    # a box inside the l2 class can find a witness, never prove its absence
    out = sa.check_lp_worst_case(_ctx(), prop="B7", lipschitz="l2", sizes=(2,), points=2)
    assert out.verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize("prop,lipschitz,scale", [("B5", "coordinate", 0.25), ("B7", "inf", 0.25), ("B8", "inf", 0.25)])
def test_hypothesis_search_with_weakened_condition_is_refuted(prop, lipschitz, scale):
    out = sa.check_hypothesis_search(_ctx(), prop=prop, lipschitz=lipschitz, shared=False, condition_scale=scale)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["scalar_product"] < 0


def test_hypothesis_search_is_reproducible():
    # the run's own task seed (run seed 0); the same seed gives the same examples in any process
    name = "hypothesis search (shared parameter)"
    ctx = MethodContext("SBN-B5", name, 0, task_seed(0, f"SBN-B5/{name}"), Tier.QUICK)
    a = sa.check_hypothesis_search(ctx, prop="B5", lipschitz="coordinate", shared=True)
    b = sa.check_hypothesis_search(ctx, prop="B5", lipschitz="coordinate", shared=True)
    assert a.verdict is Verdict.REFUTED and a.counterexample == b.counterexample
    assert a.evidence == b.evidence


def test_hypothesis_hunt_that_finds_nothing_is_inconclusive():
    out = sa.check_hypothesis_search(_ctx(), prop="B5", lipschitz="coordinate", shared=False,
                                     none_found=Verdict.INCONCLUSIVE)
    assert out.verdict is Verdict.INCONCLUSIVE


def test_value_feed_37_to_38_breaks_with_a_looser_lower_bound():
    # (37) reconstructed with g* - 3L instead of g* - 2L is still true (weaker) but no longer gives (38)'s hypothesis
    o = sa._get_obligation("B7-(37)-reconstructed")
    Lc = next(v for v in o.variables if v.name == "Lc")
    loose = o.conclusion.xreplace({-2 * Lc: -3 * Lc})  # the lower bounds g* - 2L only
    out = sa.check_step(_ctx(), obligation=dataclasses.replace(o, conclusion=loose))
    assert loose != o.conclusion
    assert out.verdict is Verdict.REFUTED and out.counterexample["link"] == "B7-(37)-reconstructed -> B7-(38)"
    assert sa.check_step(_ctx(), step="B7-(37)-reconstructed").evidence["feeds"]["z3"] == "PROVED"


def _check_with_next_assuming(monkeypatch, step, nxt, assumptions):
    """check_step(step) while the next obligation ``nxt`` assumes ``assumptions`` instead of its own."""
    orig = sa._get_obligation
    monkeypatch.setattr(sa, "_get_obligation",
                        lambda n: dataclasses.replace(nxt, assumptions=assumptions) if n == nxt.name else orig(n))
    out = sa.check_step(_ctx(), step=step)
    monkeypatch.setattr(sa, "_get_obligation", orig)
    return out


def test_feed_27_to_28_breaks_when_28_assumes_strict_bounds(monkeypatch):
    nxt = sa._get_obligation("B5-(28)")
    strict = tuple(sympy.StrictLessThan(a.lhs, a.rhs) if isinstance(a, sympy.LessThan) and a.lhs.is_Symbol and a.lhs.name.startswith("Dx")
                   else a for a in nxt.assumptions)
    assert strict != nxt.assumptions
    out = _check_with_next_assuming(monkeypatch, "B5-(27)", nxt, strict)
    assert out.verdict is Verdict.REFUTED and out.counterexample["link"] == "B5-(27) -> B5-(28)"
    assert sa.check_step(_ctx(), step="B5-(27)").evidence["feeds"]["z3"] == "PROVED"


def test_value_feed_28_to_29_breaks_when_29_assumes_a_tighter_lower_bound(monkeypatch):
    # (29) (and (30), the summary) assume the bounds (28) on gbar, Dbar; a lower bound 2(gbar + L) is not what (28)
    # gives, although (29) stays provable with it
    nxt = sa._get_obligation("B5-(29)")
    Lc = next(v for v in nxt.variables if v.name == "Lc")
    tight = tuple(a.xreplace({-2 * Lc: 2 * Lc}) if a in sa._bounds_28(nxt) else a for a in nxt.assumptions)
    assert tight != nxt.assumptions
    out = _check_with_next_assuming(monkeypatch, "B5-(28)", nxt, tight)
    assert out.verdict is Verdict.REFUTED and out.counterexample["link"] == "B5-(28) -> B5-(29)"
    fed = sa.check_step(_ctx(), step="B5-(28)").evidence["feeds"]
    assert fed["z3"] == "PROVED" and len(fed["hypotheses_fed"]) == 2


# ---- audits of the proof steps against the rest of the proof (s9 mutation survivors of theory/obligations.py)

def _sym(o, name):
    return next(v for v in o.variables if v.name == name)


def _replace_assumption(o, old, new):
    assert old in o.assumptions
    return dataclasses.replace(o, assumptions=tuple(new if a == old else a for a in o.assumptions))


def test_step_whose_hypotheses_exclude_a_typical_p_star_is_not_proved():
    o = sa._get_obligation("B7-(40)")
    p = _sym(o, "pstar")
    out = sa.check_step(_ctx(), obligation=_replace_assumption(o, p >= 0, p >= 1))   # p* = 1 only: trivially true
    assert out.verdict is Verdict.INCONCLUSIVE and "p* = 1/2" in out.discrepancies[0]


def test_step_whose_hypotheses_exclude_L_zero_is_not_proved():
    o = sa._get_obligation("B7-(37)-reconstructed")
    Lc = _sym(o, "Lc")
    out = sa.check_step(_ctx(), obligation=_replace_assumption(o, Lc >= 0, Lc > 0))
    assert out.verdict is Verdict.INCONCLUSIVE and "L = 0" in out.discrepancies[0]
    assert sa.check_step(_ctx(), step="B7-(37)-reconstructed").verdict is Verdict.PROVED


def test_weakened_38_no_longer_feeds_39():
    # the feed may not pass on (38)'s own hypotheses (the (37) bounds), which alone would give (39)'s
    o = sa._get_obligation("B7-(38)")
    Lc = _sym(o, "Lc")
    weak = o.conclusion.xreplace({-2 * Lc * sympy.Abs(_sym(o, "gstar")): -3 * Lc * sympy.Abs(_sym(o, "gstar"))})
    assert weak != o.conclusion
    out = sa.check_step(_ctx(), obligation=dataclasses.replace(o, conclusion=weak))
    assert out.verdict is Verdict.REFUTED and out.counterexample["link"] == "B7-(38) -> B7-(39)-bound"


@pytest.mark.parametrize("step,prop", [("B7-(40)", "B7"), ("B7-sufficiency-reconstructed", "B7"),
                                       ("B8-(45)", "B8"), ("B8-sufficiency-reconstructed", "B8")])
def test_condition_stronger_than_the_propositions_is_refuted(step, prop):
    # (34) / (41) with 3(1 - p*)L instead of 2(1 - p*)L: the step is still provable, but not from the premises
    o = sa._get_obligation(step)
    Lc, p = _sym(o, "Lc"), _sym(o, "pstar")
    strong = tuple(sympy.GreaterThan(a.lhs, a.rhs + Lc * (1 - p)) if isinstance(a, sympy.GreaterThan)
                   and isinstance(a.lhs, sympy.Abs) else a for a in o.assumptions)
    assert strong != o.assumptions
    out = sa.check_step(_ctx(), obligation=dataclasses.replace(o, assumptions=strong))
    assert out.verdict is Verdict.REFUTED and "audit" in out.counterexample
    assert sa.check_step(_ctx(), step=step).evidence["hypotheses_audit"]["z3"] == "PROVED"


def test_weakened_necessity_conclusion_is_refuted():
    o = sa._get_obligation("B5-necessity-reconstructed")
    gb, Lc = _sym(o, "gbar"), _sym(o, "Lc")
    weak = sympy.Or(gb * 2 * (gb - Lc) < 1, gb * 2 * (gb + Lc) < 0)
    out = sa.check_step(_ctx(), obligation=dataclasses.replace(o, conclusion=weak))
    assert out.verdict is Verdict.REFUTED and "audit" in out.counterexample


def test_overlapping_sign_cases_of_29_30_are_refuted():
    o = sa._get_obligation("B5-(30)-printed")
    gb = _sym(o, "gbar")
    out = sa.check_step(_ctx(), obligation=_replace_assumption(o, gb < 0, gb <= 0))
    assert out.verdict is Verdict.REFUTED and out.evidence["case_split"]["z3"] == "REFUTED"
    assert sa.check_step(_ctx(), step="B5-(30)-printed").evidence["case_split"]["z3"] == "PROVED"


def test_printed_sufficiency_model_is_replayed_apart_from_its_conclusion():
    o = sa._get_obligation("B7-sufficiency-printed")
    j1, j2, e1, e2 = (_sym(o, n) for n in ("j1", "j2", "Eg1", "Eg2"))
    s1, s2 = _sym(o, "gs1"), _sym(o, "gs2")
    wrong = dataclasses.replace(o, conclusion=(j1 * e1 - j2 * e2) * (j1 * s1 + j2 * s2) >= 0)
    out = sa.check_step(_ctx(), obligation=wrong)
    assert out.evidence["witness_replay"]["not_psd"] is False and out.verdict is Verdict.INCONCLUSIVE
    assert sa.check_step(_ctx(), step="B7-sufficiency-printed").evidence["witness_replay"]["not_psd"] is True
