"""The SBN-B4 / SBN-B6 checks can say no: each checked method, given a false premise, REFUTES.

A mutant is the same check function with one premise replaced by a false one
(units sharing parameters, a polynomial identity that needs them not to, a
multilinear loss where the remark needs a biased one, an exponent the data
exclude).  The printed-role B4 methods are also shown able to come out the
other way (given the reconstruction's premise they do not refute).
"""

import functools

import pytest

from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import sbn_rescaling as r
from stecheck.numerics.seeding import task_seed


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


MUTANTS = {
    # SBN-B4, checked methods: let units share parameters
    "b4 z3: J1 general": functools.partial(r.check_b4_steps_smt, coupling="shared"),
    "b4 sympy: dense J1": functools.partial(r.check_b4_symbolic_uncoupled, coupling="shared"),
    "b4 search: dense J1": functools.partial(r.check_b4_search, coupling="shared"),
    # remark: a multilinear loss (ST unbiased) cannot give the counterexample
    "b4 remark: multilinear losses only": functools.partial(r.check_b4_remark_search, multilinear_only=True),
    "b4 remark MC: x^2 term removed": functools.partial(r.check_b4_remark_montecarlo, d_scale=0.0),
    # SBN-B6: claimed exponents that the measurements exclude
    "b6 flip constant O(n^-1.5)": functools.partial(r.check_b6_lipschitz, rate=-1.5),
    "b6 cube constant O(n^-1)": functools.partial(r.check_b6_lipschitz, mode="cube", rate=-1.0),
    "b6 sympy O(n^-2)": functools.partial(r.check_b6_quadratic_symbolic, claimed_power=-2),
    "b6 bias enumeration O(n^-2)": functools.partial(r.check_b6_bias_enumeration, rate=-2.0),
    "b6 bias MC O(n^-2)": functools.partial(r.check_b6_bias_montecarlo, rate=-2.0),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_refuted(name):
    out = MUTANTS[name](_ctx(name))
    assert out.verdict is Verdict.REFUTED, (name, out.verdict, out.evidence)
    assert out.counterexample


def test_every_checked_method_has_a_mutant():
    checked = {m.name for c in r.CLAIMS for m in c.methods if m.role == "checked"}
    funcs = {getattr(m.check, "func", m.check) for c in r.CLAIMS for m in c.methods if m.role == "checked"}
    assert funcs <= {p.func for p in MUTANTS.values()}, checked


@pytest.mark.parametrize("check", [
    functools.partial(r.check_b4_steps_smt, coupling="none"),
    functools.partial(r.check_b4_search, coupling="none"),
    functools.partial(r.check_b4_enumeration_identity_st, coupling="none"),
])
def test_printed_b4_methods_do_not_refute_without_shared_parameters(check):
    assert check(_ctx()).verdict.supports


def test_b6_bias_does_not_verify_without_a_mixing_layer():
    # W = I: every unit has its own output, the relative bias does not shrink with n
    assert r.check_b6_bias_enumeration(_ctx(), layer="identity").verdict is not Verdict.VERIFIED
    assert r.check_b6_bias_montecarlo(_ctx(), layer="identity", ns=(8, 16, 32)).verdict is not Verdict.VERIFIED


def test_b6_printed_bound_holds_for_neighbouring_states():
    # the printed-role check can come out the other way: for single flips (33)'s bound holds
    assert r.check_b6_printed_bound(_ctx(), K=1, ns=(16, 64), pair="flip").verdict is Verdict.VERIFIED
    assert r.check_b6_printed_bound(_ctx(), K=1, ns=(16,)).verdict is Verdict.REFUTED
