"""The checker can say no: each check, given a deliberately false premise, REFUTES.

A mutant is the same check function with one premise of its claim replaced
by a false one (a non-monotone transform, a non-multilinear loss, a wrong
reformulation).  If any of these passed, the check would be unable to detect
the error it exists for.
"""


import numpy as np
import pytest

from stecheck.numerics import losses
from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import sbn_bias, sbn_invariance
from stecheck.numerics.seeding import task_seed


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


def test_b1_non_monotone_transform_changes_the_samples():
    out = sbn_invariance.check_samples_unchanged(_ctx(), transforms=sbn_invariance.NON_MONOTONE)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["sign(a-z)"] != out.counterexample["sign(T(a)-T(z))"]


def test_b1_decreasing_transform_refutes_the_printed_monotone_statement():
    out = sbn_invariance.check_samples_unchanged(_ctx(), transforms=sbn_invariance.DECREASING)
    assert out.verdict is Verdict.REFUTED


def test_b1_invariant_proxy_would_refute_the_non_invariance_claim():
    # under T(a) = a every proxy is unchanged, so "hand-designed proxies change" must be refuted
    identity = sbn_invariance.Transform("a", sbn_invariance.A, sbn_invariance.T_)
    out = sbn_invariance.check_hand_designed_proxy_changes(_ctx(), transforms=(identity,))
    assert out.verdict is Verdict.REFUTED


def test_b1_symbolic_check_refutes_a_wrong_inverse():
    wrong = sbn_invariance.Transform("3a+1 with inverse t/3", 3 * sbn_invariance.A + 1, sbn_invariance.T_ / 3)
    out = sbn_invariance.check_symbolic_transforms(_ctx(), transforms=(wrong,))
    assert out.verdict is Verdict.REFUTED


def _square_sum(rng, n):
    return losses.SquareSum()


def _power4(rng, n):
    return losses.Power(4)


@pytest.mark.parametrize("factory", [_square_sum, _power4])
def test_b2_non_multilinear_loss_is_refuted_as_unbiased(factory):
    out = sbn_bias.check_b2_enumeration(_ctx(), loss_factory=factory, sizes=(3, 6))
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["max_abs_gap"] > out.counterexample["rounding_tolerance"]


def test_b2_sampled_zero_variance_fails_for_a_non_linear_loss():
    out = sbn_bias.check_b2_linear_samples(_ctx(), n=6, loss=losses.Multilinear({(0, 1): 1.0, (2,): 0.5}, n=6))
    assert out.verdict is Verdict.REFUTED


def test_b2_biased_example_check_refutes_when_only_multilinear_losses_are_offered():
    only_multilinear = lambda n: (losses.Linear(np.ones(n)), losses.Multilinear({(0, 1): 2.0}, n=n))
    out = sbn_bias.check_b2_biased_example(_ctx(), loss_family=only_multilinear)
    assert out.verdict is Verdict.REFUTED


def _eq20_without_constant(W, y):
    """Eq. (20) with the '+ sum_i ||W_:,i||^2' term dropped: wrong on the cube."""
    colsq = float((W**2).sum())
    base = losses.QuadraticMultilinear(W, y)
    return losses.Callable(lambda X: base.value(X) - colsq, base.grad, n=W.shape[1])


def _raw_loss(W, y):
    """No reformulation at all: equal on the cube but not multilinear."""
    return losses.Quadratic(W, y)


def test_b3_wrong_reformulation_is_refuted_on_the_cube():
    out = sbn_bias.check_b3_on_cube(_ctx(), reformulation=_eq20_without_constant)
    assert out.verdict is Verdict.REFUTED


def test_b3_st_on_the_raw_loss_is_refuted_as_unbiased():
    out = sbn_bias.check_b3_st_unbiased(_ctx(), reformulation=_raw_loss)
    assert out.verdict is Verdict.REFUTED


def test_ex2_enumeration_refutes_when_the_loss_is_its_multilinear_form():
    # L(x) = sum x_i: ST is exact, so "opposite direction" must be refuted
    out = sbn_bias.check_ex2_enumeration(_ctx(), n=6, loss=losses.Linear(np.ones(6)))
    assert out.verdict is Verdict.REFUTED


def test_ex1_sign_change_refutes_at_points_of_one_sign():
    out = sbn_bias.check_ex1_sign_change(_ctx(), points=(1, 2))
    assert out.verdict is Verdict.REFUTED


# ---------------------------------------------------------------- one mutant per remaining method


def test_b1_z3_refutes_a_non_strict_transform_with_a_model():
    # a flat T (non-decreasing, not strictly) maps a != z to T(a) = T(z): sign 0 vs +-1
    out = sbn_invariance.check_sign_invariance_smt(_ctx(), direction="non-decreasing")
    assert out.verdict is Verdict.REFUTED
    ce = out.counterexample
    assert ce["a"] != ce["z"] and ce["T(a)"] == ce["T(z)"]


def test_b1_z3_refutes_a_decreasing_transform_and_proves_an_increasing_one():
    out = sbn_invariance.check_sign_invariance_smt(_ctx(), direction="decreasing")
    assert out.verdict is Verdict.REFUTED
    from fractions import Fraction as Fr
    ce = {k: Fr(v) for k, v in out.counterexample.items()}
    # the model is a genuine counterexample: T reverses the order of a and z
    assert (ce["a"] - ce["z"]) * (ce["T(a)"] - ce["T(z)"]) < 0
    assert sbn_invariance.check_sign_invariance_smt(_ctx()).verdict is Verdict.PROVED


def test_b1_z3_evidence_is_canonical():
    q1 = sbn_invariance.check_sign_invariance_smt(_ctx("a")).evidence["query"]
    sbn_invariance.check_sign_invariance_smt(_ctx("b"), direction="decreasing")
    assert sbn_invariance.check_sign_invariance_smt(_ctx("c")).evidence["query"] == q1


@pytest.mark.parametrize("premise", [{"transformed_cdf": "F o T"}, {"factor": 1}])
def test_b1_generic_chain_rule_refutes_a_wrong_transformed_cdf_or_factor(premise):
    out = sbn_invariance.check_generic_chain_rule_sympy(_ctx(), **premise)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["residual"] != "0"


@pytest.mark.parametrize("premise", [{"power": 2}, {"factor": 1}, {"linear": True, "power": 3}])
def test_b2_every_n_proof_refutes_a_square_term_or_a_missing_factor(premise):
    out = sbn_bias.check_b2_coordinate(_ctx(), **premise)
    assert out.verdict is Verdict.REFUTED


def test_ex2_symbolic_compares_the_ratio_not_only_its_sign():
    import sympy

    for enc in ("pm1", "01"):
        out = sbn_bias.check_ex2_symbolic(_ctx(), encoding=enc, claimed_ratio=1 - sympy.pi)  # negative, but wrong
        assert out.verdict is Verdict.REFUTED


def test_ex2_enumeration_compares_the_ratio_not_only_the_cosine():
    out = sbn_bias.check_ex2_enumeration(_ctx(), claimed_ratio=-1.0)  # the cosine is still -1
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["max_rel_gap_to_claimed_ratio"] > 0.5


def test_ex2_monte_carlo_refutes_half_the_claimed_ratio():
    import sympy

    out = sbn_bias.check_ex2_montecarlo(_ctx(), claimed_ratio=(1 - 2 * sympy.pi) / 2)
    assert out.verdict is Verdict.REFUTED


def test_b3_printed_unique_polynomial_is_refuted_but_multilinear_uniqueness_holds():
    assert sbn_bias.check_b3_printed_unique_polynomial(_ctx()).verdict is Verdict.REFUTED
    assert sbn_bias.check_b3_uniqueness(_ctx()).verdict is Verdict.PROVED


# ---------------------------------------------------------------- Monte Carlo: too wide to decide


def test_b2_monte_carlo_is_inconclusive_when_its_interval_is_too_wide():
    out = sbn_bias.check_b2_montecarlo(_ctx(), samples=100)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.evidence["max_half_width_over_required"] > 1
    assert sbn_bias.check_b2_montecarlo(_ctx()).evidence["max_half_width_over_required"] <= 1


def test_ex1_monte_carlo_is_inconclusive_when_its_interval_is_too_wide():
    out = sbn_bias.check_ex1_montecarlo(_ctx(), samples=30)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.evidence["max_half_width_over_required"] > 1


def test_ex2_monte_carlo_has_zero_variance_so_its_interval_is_narrow_at_any_budget():
    # per sample the ST estimate of Example 2 is 2F'(a)(1 - 2 pi) whatever x: the gate passes even at 20 samples
    out = sbn_bias.check_ex2_montecarlo(_ctx(), samples=20)
    assert out.verdict is Verdict.VERIFIED
    assert out.evidence["max_half_width_over_required"] < 1e-6


def test_precision_gate_says_no_when_any_interval_is_too_wide():
    from stecheck.proofs_check.claims._mc_precision import gate

    assert gate([0.1, 0.2], 0.2, "r")[0] is True
    decides, ev = gate([0.1, 0.3], [0.2, 0.2], "r")
    assert decides is False and abs(ev["max_half_width_over_required"] - 1.5) < 1e-12


@pytest.mark.parametrize("premise", [{"keep_constant": False}, {"subtract_square": False}])
def test_b3_every_n_proof_refutes_eq20_with_a_term_dropped(premise):
    out = sbn_bias.check_b3_every_n(_ctx(), **premise)
    assert out.verdict is Verdict.REFUTED


def test_b1_proxy_change_is_certified_and_a_non_integer_scale_is_only_verified():
    out = sbn_invariance.check_hand_designed_proxy_changes(_ctx())
    assert out.verdict is Verdict.PROVED
    assert len(out.evidence["certified_witnesses"]) == 3
    exp = sbn_invariance.Transform("exp(a)", sbn_invariance.sympy.exp(sbn_invariance.A), sbn_invariance.sympy.log(
        sbn_invariance.T_))
    assert sbn_invariance.check_hand_designed_proxy_changes(_ctx(), transforms=(exp,)).verdict is Verdict.VERIFIED


def test_b3_basis_proof_refutes_the_01_points():
    out = sbn_bias.check_b3_basis_every_n(_ctx(), points=(0, 1))
    assert out.verdict is Verdict.REFUTED


def test_ex1_generic_sign_change_refutes_a_one_signed_expected_st():
    import sympy

    from stecheck.theory import examples

    Fp = sympy.Derivative(examples.F_GENERIC(examples.A), examples.A)
    out = sbn_bias.check_ex1_sign_change_generic(_ctx(), expected_st=4 * Fp * examples.F_GENERIC(examples.A))
    assert out.verdict is Verdict.REFUTED
    assert sbn_bias.check_ex1_sign_change_generic(_ctx()).evidence["int_{-oo}^m g"] == "-1"
