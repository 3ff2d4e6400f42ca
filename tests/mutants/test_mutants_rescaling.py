"""The SBN-B4 / SBN-B6 checks can say no: each checked method, given a false premise, REFUTES.

A mutant is the same check function with one premise replaced by a false one (units sharing parameters, a
polynomial identity that needs them not to, a multilinear loss where the remark needs a biased one, a layer
that is not fan-in normalized -- the data change, not only the claimed rate).  The printed-role methods are
also shown able to come out the other way.
"""

import functools

import pytest

from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import sbn_rescaling as r
from stecheck.numerics.seeding import task_seed


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


_SMALL = (32, 64, 128, 256)

MUTANTS = {
    # SBN-B4, checked methods: let units share parameters
    "b4 z3: J1 general": functools.partial(r.check_b4_steps_smt, coupling="shared"),
    "b4 sympy: dense J1": functools.partial(r.check_b4_symbolic_uncoupled, coupling="shared"),
    "b4 search: dense J1": functools.partial(r.check_b4_search, coupling="shared"),
    # remark: a multilinear loss (ST unbiased) cannot give the counterexample
    "b4 remark: multilinear losses only": functools.partial(r.check_b4_remark_search, multilinear_only=True),
    "b4 remark MC: x^2 term removed": functools.partial(r.check_b4_remark_montecarlo, d_scale=0.0),
    # SBN-B6: the data change -- W not normalized by the fan-in (entries N(0, 1)): no decay
    "b6 flip constant, unnormalized W": functools.partial(r.check_b6_lipschitz, mode="flip", layer="unnormalized",
                                                          ns=_SMALL),
    "b6 l2 constant (exact), unnormalized W": functools.partial(r.check_b6_lipschitz, mode="l2", loss="quadratic",
                                                                layer="unnormalized", ns=_SMALL),
    "b6 sup constant (bounded l'), unnormalized W": functools.partial(r.check_b6_lipschitz, mode="sup",
                                                                     layer="unnormalized", ns=_SMALL),
    "b6 symbolic flip bound claimed O(n^-2)": functools.partial(r.check_b6_bound_symbolic, mode="flip", claimed_power=-2),
    "b6 symbolic l2 bound claimed O(n^-1)": functools.partial(r.check_b6_bound_symbolic, mode="l2", claimed_power=-1),
    "b6 bias enumeration O(n^-2)": functools.partial(r.check_b6_bias_enumeration, rate=-2.0),
    "b6 bias MC O(n^-2)": functools.partial(r.check_b6_bias_montecarlo, rate=-2.0),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_refuted(name):
    out = MUTANTS[name](_ctx(name))
    assert out.verdict is Verdict.REFUTED, (name, out.verdict, out.evidence)
    assert out.counterexample


def test_every_checked_method_has_a_mutant():
    funcs = {getattr(m.check, "func", m.check) for c in r.CLAIMS for m in c.methods if m.role == "checked"}
    assert funcs <= {p.func for p in MUTANTS.values()}


@pytest.mark.parametrize("check", [
    functools.partial(r.check_b4_steps_smt, coupling="none"),
    functools.partial(r.check_b4_search, coupling="none"),
    functools.partial(r.check_b4_enumeration_identity_st, coupling="none"),
    functools.partial(r.check_b4_minimal_exact, J1=(1, 0)),          # the parameter drives one unit only
])
def test_printed_b4_methods_do_not_refute_without_shared_parameters(check):
    assert check(_ctx()).verdict.supports


def test_b4_minimal_counterexample_needs_a_biased_mix_of_densities():
    # equal F'(a_i): the rescaled estimator is a positive multiple of the original -- no counterexample
    assert r.check_b4_minimal_exact(_ctx(), p1="1/2").verdict is Verdict.VERIFIED


def test_b4_z3_counterexample_is_realizable():
    ce = r.check_b4_steps_smt(_ctx(), coupling="shared").counterexample
    from fractions import Fraction
    for k in ("m1", "m2"):
        assert 0 < Fraction(ce[k]) <= Fraction(1, 2)
    assert all(a >= 0 for a in ce["a (Lambda0 = diag(F'(a)), logistic)"])


def test_b6_bias_does_not_verify_without_a_mixing_layer():
    # W = I: every unit has its own output, the relative bias does not shrink with n
    assert r.check_b6_bias_enumeration(_ctx(), layer="identity").verdict is not Verdict.VERIFIED
    assert r.check_b6_bias_montecarlo(_ctx(), layer="identity", ns=(8, 16, 32)).verdict is not Verdict.VERIFIED


def test_b6_printed_checks_can_come_out_the_other_way():
    # (33) holds for single flips; the sup reading holds for a bounded l'
    assert r.check_b6_printed_bound(_ctx(), K=1, ns=(16, 64), pair="flip").verdict is Verdict.VERIFIED
    assert r.check_b6_printed_bound(_ctx(), K=1, ns=(16,)).verdict is Verdict.REFUTED
    assert r.check_b6_lipschitz(_ctx(), mode="sup", loss="logcosh", ns=_SMALL).verdict is Verdict.VERIFIED
