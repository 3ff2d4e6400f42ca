"""The checker can say no: each check, given a deliberately false premise, REFUTES.

A mutant is the same check function with one premise of its claim replaced
by a false one (a non-monotone transform, a non-multilinear loss, a wrong
reformulation).  If any of these passed, the check would be unable to detect
the error it exists for.
"""

import functools

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


def test_b1_z3_refutes_a_chain_rule_off_by_a_factor():
    out = sbn_invariance.check_generic_chain_rule_smt(_ctx(), factor=2)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample


def _multilinear_plus_a_square(n):
    import sympy

    L, xs = sbn_bias._generic_multilinear(n)
    return L + sympy.Symbol("d") * xs[0] ** 2, xs


def test_b2_symbolic_refutes_a_loss_with_a_square_term():
    out = sbn_bias.check_b2_symbolic(_ctx(), loss_builder=_multilinear_plus_a_square)
    assert out.verdict is Verdict.REFUTED


def test_b2_monte_carlo_refutes_the_biased_identity_st():
    out = sbn_bias.check_b2_montecarlo(_ctx(), estimator="identity_st")
    assert out.verdict is Verdict.REFUTED


def test_b2_linear_symbolic_refutes_a_backward_without_the_factor_2():
    out = sbn_bias.check_b2_linear_symbolic(_ctx(), scale=1)
    assert out.verdict is Verdict.REFUTED


def test_ex1_symbolic_refutes_the_appendix_form():
    from stecheck.theory import examples

    out = sbn_bias.check_ex1_symbolic(_ctx(), target=examples.EX1_PRINTED_APPENDIX)
    assert out.verdict is Verdict.REFUTED


def test_ex1_enumeration_refutes_a_wrong_closed_form():
    from stecheck.theory import examples

    out = sbn_bias.check_ex1_enumeration(_ctx(), closed_form=examples.EX1_PRINTED_APPENDIX)
    assert out.verdict is Verdict.REFUTED


def test_ex1_monte_carlo_refutes_at_points_of_one_sign():
    out = sbn_bias.check_ex1_montecarlo(_ctx(), points=(0.5, 1.0))
    assert out.verdict is Verdict.REFUTED


def test_ex2_monte_carlo_refutes_when_the_loss_is_its_multilinear_form():
    out = sbn_bias.check_ex2_montecarlo(_ctx(), loss=losses.Linear(np.ones(10)))
    assert out.verdict is Verdict.REFUTED
