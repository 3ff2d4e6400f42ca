"""The STE-dynamics checks can say no: each mutant of the method or the data breaks the claim it is meant to break.

Mutants: the zero surrogate gradient (no proxy), the projection onto Q1 removed, label noise set to zero for
QSTE-NOISE, centering removed from the normalization (and the raw inputs secretly centered) for QSTE-NONGAUSS.
(The identity proxy is not a mutant of these claims: it converges as well -- see the report evidence.)
"""

import math

import pytest

from stecheck.numerics.seeding import task_seed
from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import qste_dynamics as q

R = Verdict.REFUTED


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


ZERO = {"proxy": "zero"}
NO_PROJECTION = {"project": False}


@pytest.mark.parametrize("variant", [ZERO, NO_PROJECTION], ids=["zero-proxy", "no-projection"])
def test_erg_sweep_refutes_a_broken_method(variant):
    out = q.check_erg_sweep(_ctx(), variant=variant, n_max=16, trials=30)
    assert out.verdict is R and out.counterexample["cell"]["rate"] < q.P_OK


def test_erg_loss_reading_refutes_the_zero_proxy():
    assert q.check_erg_sweep(_ctx(), variant=ZERO, criterion="loss", n_max=16, trials=30).verdict is R


def test_erg_exponent_refutes_the_zero_proxy():
    out = q.check_erg_exponent(_ctx(), variant=ZERO, n_max_fit=32, trials_fit=20)
    assert out.verdict is R


@pytest.mark.parametrize("variant", [ZERO, NO_PROJECTION], ids=["zero-proxy", "no-projection"])
def test_nonerg_sweep_refutes_a_broken_method(variant):
    out = q.check_nonerg_sweep(_ctx(), variant=variant, n_max=6, trials=30)
    assert out.verdict is R


def test_nonerg_visits_reading_refutes_the_zero_proxy():
    assert q.check_nonerg_sweep(_ctx(), variant=ZERO, criterion="visits", n_max=6, trials=30).verdict is R


def test_nonerg_fixed_points_refute_the_zero_proxy():
    out = q.check_nonerg_fixed_points(_ctx(), variant=ZERO, n_max_enum=5)
    assert out.verdict is R


def test_nonerg_exponent_cannot_decide_the_zero_proxy_below_its_search_range():
    # the search stops at 16 n^2: a missing crossing says nothing about O(n^4)
    assert q.check_nonerg_exponent(_ctx(), variant=ZERO, n_max_fit=32, trials_fit=20).verdict is Verdict.INCONCLUSIVE


def test_noise_recurrence_refutes_zero_label_noise():
    out = q.check_noise_recurrence(_ctx(), variant={"noise": 0.0}, steps=300, trials=20)
    assert out.verdict is R and out.counterexample["test"]["returning"] == 0


def test_noise_forced_escape_refutes_zero_label_noise():
    out = q.check_noise_forced_escape(_ctx(), variant={"noise": 0.0})
    assert out.verdict is R


def test_nongauss_normalized_refutes_normalization_without_centering():
    out = q.check_nongauss_normalized(_ctx(), variant={"normalize": "scale"}, trials=40)
    assert out.verdict is R
    assert "bernoulli01" in out.counterexample["families_not_restored"]


def test_nongauss_population_refutes_normalization_without_centering():
    assert q.check_nongauss_population_normalized(_ctx(), center=False, n_max_enum=6).verdict is R


def test_nongauss_raw_refutes_secretly_normalized_raw_inputs():
    out = q.check_nongauss_raw(_ctx(), variant={"normalize": "standardize"}, trials=40)
    assert out.verdict is R


def test_nongauss_population_traps_refute_centered_raw_inputs():
    assert q.check_nongauss_population_traps(_ctx(), center_raw=True, n_max_enum=6).verdict is R


@pytest.mark.parametrize("family,sampler", [
    ("rademacher", lambda g, s: 2.0 * g.integers(0, 2, size=s) + 1.0),  # mutation survivor: {1, 3}, not +-1
    ("exponential", lambda g, s: g.exponential(2.0, size=s)),  # mutation survivor: Exp(1/2), not Exp(1)
])
def test_input_law_audit_catches_a_family_drawing_another_law(monkeypatch, family, sampler):
    from stecheck.errors import StecheckError
    from stecheck.numerics import ste_dynamics as sd
    from stecheck.proofs_check.claims import qste_dynamics as qd

    assert set(qd._input_law_audit(0, "QSTE-NONGAUSS")) == set(sd.INPUTS)  # the true families pass
    monkeypatch.setitem(sd.INPUTS, family, (sampler, *sd.INPUTS[family][1:]))
    with pytest.raises(StecheckError, match=f"input family '{family}'"):
        qd._input_law_audit(0, "QSTE-NONGAUSS")


def test_threshold_audit_recomputes_the_crossing():
    # mutation survivors ste_stats.crossing: "(level - lo) / (hi - lo)" -> "*", "return float(ms[0])" -> "ms[1]":
    # the shown m* must be the isotonic crossing recomputed from the shown evaluations (exact rationals)
    from stecheck.errors import StecheckError
    from stecheck.numerics import ste_stats as st

    ms, ks, N = [8, 16, 32, 64], [2, 6, 9, 15], 16
    th = st.Threshold(0.5, dict(zip(ms, zip(ks, [N] * 4))), st.crossing(ms, ks, [N] * 4, 0.5), (None, None), 0.99)
    q._check_threshold_evidence(0.5, {"4": th.as_evidence()})  # the true crossing passes
    lo, hi = 6 / 16, 9 / 16
    wrong = math.exp(math.log(16) + (0.5 - lo) * (hi - lo) * (math.log(32) - math.log(16)))
    bad = st.Threshold(0.5, th.evaluations, wrong, (None, None), 0.99)
    with pytest.raises(StecheckError, match="isotonic crossing"):
        q._check_threshold_evidence(0.5, {"4": bad.as_evidence()})
    first = st.Threshold(0.5, {8: (9, 16), 16: (12, 16)}, 16.0, (None, None), 0.99)  # starts above: m* = 8, not 16
    with pytest.raises(StecheckError, match="isotonic crossing"):
        q._check_threshold_evidence(0.5, {"4": first.as_evidence()})


@pytest.mark.parametrize("fn_name,old,new", [
    # seed-12 mutation survivors in the reference loop and its record definitions (caught by reference_selftest)
    ("reference_trial", "w_star = s_star / math.sqrt(n)", "w_star = s_star * math.sqrt(n)"),
    ("reference_trial", "np.where(u >= 0.0, 1.0, -1.0) if", "np.where(u > 0.0, 1.0, -1.0) if"),
    ("reference_trial", "else u * math.sqrt(n)", "else u / math.sqrt(n)"),
    ("_compare_with_reference", "if a), -1)", "if a), -2)"),
    ("_compare_with_reference", "for t in range(1, len(at))", "for t in range(2, len(at))"),
    ("_compare_with_reference", "if at[t - 1] and not", "if at[t - 2] and not"),
    ("_compare_with_reference", "max(visits - 1, 0)", "max(visits - 2, 0)"),
    # and their twins in the engine
    ("run_block", "W = np.where(U >= 0.0, 1.0, -1.0)", "W = np.where(U > 0.0, 1.0, -1.0)"),
    ("run_block", "first_hit = np.full(B, -1, np.int64)", "first_hit = np.full(B, -2, np.int64)"),
])
def test_reference_selftest_catches_edge_case_mutants(fn_name, old, new):
    from stecheck.numerics import ste_dynamics as sd

    from _planting import planted

    assert sd.reference_selftest() == {}
    with planted((getattr(sd, fn_name), old, new)):
        assert sd.reference_selftest() != {}


def test_record_invariants_catch_a_start_not_at_the_asked_hamming_distance():
    # seed-12 survivor generate_trial: "s0[...] *= -1.0" -> "*= 1.0" (QSTE-NOISE starts at distance d from w*)
    from stecheck.numerics import ste_dynamics as sd

    from _planting import planted

    model = sd.STEModel(n=8, m=16, schedule="constant", lr=0.5)
    seed = task_seed(0, "MUTANT/init")
    assert sd.record_invariants(sd.simulate(model, trials=6, steps=20, seed=seed, init_hamming=3), 3) == []
    with planted((sd.generate_trial, "*= -1.0", "*= 1.0")):
        tr = sd.simulate(model, trials=6, steps=20, seed=seed, init_hamming=3)
    assert any("init_hamming" in b for b in sd.record_invariants(tr, 3))
