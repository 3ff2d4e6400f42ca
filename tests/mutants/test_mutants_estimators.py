"""Mutants for SBN-ALG1 and SBN-METRICS: each checked method, given a false premise, REFUTES.

* a linearization (7) without its factor 2 (symbolic and enumeration checks);
* an ST backward that multiplies by F'(a) instead of 2F'(a) (backprop check);
* a proxy objective (63) whose quadratic term has the wrong sign (symbolic check);
* the expected improvement (66) with the sign dropped (exact check);
* a reference gradient that is off by a constant (Monte Carlo check);
* a non-linear loss given to the "linear L is exact" check;
* (9) against references with no 2F' in them: an ST backward with F' instead of 2F', the identity proxy, the
  density at the wrong point, or a wrong local derivative upstream of the ST node (backprop vs finite differences);
* the every-n proof of (6) and (8) with a wrong linearization or an unsigned d p(x_i)/d a_i;
* Monte Carlo intervals too wide to decide give INCONCLUSIVE.
"""

import numpy as np

from stecheck.numerics import losses
from stecheck.numerics.seeding import task_seed
from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import sbn_estimators as se


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


def _half_linearization(loss, state, i):
    return state[i] * loss.grad(state, i)  # (7) without the factor 2


def test_alg1_symbolic_refutes_a_linearization_without_the_factor_2():
    out = se.check_alg1_symbolic(_ctx(), sizes=(1, 2), difference=_half_linearization)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["state_failures"][0]["part"] == "(6)+(7) vs Alg. 1"


def test_alg1_enumeration_refutes_a_linearization_without_the_factor_2():
    out = se.check_alg1_enumeration(_ctx(), sizes=(3,), noises=("logistic",), difference="half")
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["max_rel_gap_linearized_form6_vs_st"] > 0.1


def test_alg1_backprop_refutes_a_backward_without_the_factor_2():
    out = se.check_alg1_backprop(_ctx(), noises=("logistic", "uniform"), backward_scale=1.0)
    assert out.verdict is Verdict.REFUTED
    assert abs(out.counterexample["max_rel_gap_backprop_vs_sum_form"] - 0.5) < 1e-9


def test_metrics_symbolic_refutes_a_concave_proxy_objective():
    out = se.check_metrics_symbolic(_ctx(), objective_sign=-1)
    assert out.verdict is Verdict.REFUTED


def test_metrics_exact_refutes_an_expected_improvement_without_its_sign():
    out = se.check_metrics_exact(_ctx(), sizes=(3,), noises=("logistic",), ei_sign=1.0)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["gaps"]["improvement"] > 0


def test_metrics_montecarlo_refutes_a_shifted_reference_gradient():
    out = se.check_metrics_montecarlo(_ctx(), noises=("logistic",), samples=4000, shift=0.3)
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["metric"] in {"cosine", "improvement", "rmse", "optimal_step"}


def test_metrics_linear_check_refutes_a_non_linear_loss():
    out = se.check_metrics_linear_exact(_ctx(), loss=losses.SquareSum())
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample["got"]["rmse"] > 0


def test_generic_loss_is_really_generic():
    # values and gradients on the cube are independent symbols: 2^n values, n 2^n gradients
    import sympy

    xs = sympy.symbols("x1:3")
    L = se.GenericLoss(xs)
    syms = {L.value(s) for s in [(-1, -1), (-1, 1), (1, -1), (1, 1)]}
    syms |= {L.grad(s, i) for s in [(-1, -1), (-1, 1), (1, -1), (1, 1)] for i in range(2)}
    assert len(syms) == 12
    assert np.isclose(float(L.local_model((1, 1)).subs(dict(zip(xs, (1, 1)))).subs(L.value((1, 1)), 3.0)), 3.0)


# ---------------------------------------------------------------- (9) against references with no 2F' in them


import pytest


@pytest.mark.parametrize("premise", [
    {"st_backward": "no-factor-2"},       # F' instead of 2F'
    {"st_backward": "identity"},          # the identity proxy
    {"st_backward": "shifted-density"},   # 2F' at the wrong point
    {"tanh_vjp": "input"},                # a wrong local derivative upstream of the ST node
])
def test_alg1_backprop_vs_finite_differences_refutes_wrong_backward_passes(premise):
    out = se.check_alg1_backprop_vs_fd(_ctx(), noises=("logistic", "triangular"), **premise)
    assert out.verdict is Verdict.REFUTED
    ce = out.counterexample
    # the failure is O(1), far beyond the finite-difference tolerance
    assert ce["per_state_max_abs_gap"] > 1e3 * ce["per_state_max_tolerance"]


def test_alg1_backprop_vs_finite_differences_passes_the_correct_backward():
    out = se.check_alg1_backprop_vs_fd(_ctx())
    assert out.verdict is Verdict.VERIFIED
    assert max(r["per_state_max_abs_gap"] for r in out.evidence["instances"]) < 1e-9
    assert max(r["expectation_max_abs_gap"] for r in out.evidence["instances"]) < 1e-9


def test_metrics_montecarlo_is_inconclusive_when_its_intervals_are_too_wide():
    out = se.check_metrics_montecarlo(_ctx(), noises=("logistic",), samples=200)
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.evidence["max_half_width_over_required"] > 1


def test_metrics_symbolic_is_proved_for_every_law_of_g():
    out = se.check_metrics_symbolic(_ctx())
    assert out.verdict is Verdict.PROVED
    checks = out.evidence["checks"]
    assert checks["generic_alpha_star_minus_(64)"] == "0" and checks["generic_objective_minus_(65)"] == "0"
    assert checks["3-outcome_(63)_minus_reduced_form"] == "0"


@pytest.mark.parametrize("premise", [{"linearization_factor": 1}, {"with_sign": False}])
def test_alg1_every_n_proof_refutes_a_wrong_linearization_or_an_unsigned_probability_derivative(premise):
    out = se.check_alg1_every_n(_ctx(), **premise)
    assert out.verdict is Verdict.REFUTED


def test_metrics_66_readings():
    assert se.check_metrics_66_reading(_ctx()).verdict is Verdict.PROVED
    out = se.check_metrics_66_reading(_ctx(), reading="ranking")
    assert out.verdict is Verdict.REFUTED
    a, b = out.counterexample["estimators"]
    assert a["(65)"] == b["(65)"] and a["(66)"] != b["(66)"]


def test_metrics_box_audit_catches_a_too_wide_ei_interval(monkeypatch):
    # mutation survivor metrics.py metrics_from_means: "xl, xh = lo[1], hi[1]" -> "hi[2]" widens EI's interval
    # (the exact value stays inside, the precision gate still passes); the box-image audit recomputes it
    import dataclasses

    from stecheck.errors import StecheckError
    from stecheck.numerics import metrics as M
    from stecheck.numerics.seeding import task_seed as _ts
    from stecheck.proofs_check.claim import MethodContext as _MC, Tier as _T
    from stecheck.proofs_check.claims import sbn_estimators as se

    orig = M.metrics_from_means

    def wide(*args, **kw):
        r = orig(*args, **kw)
        ei = r.improvement
        return dataclasses.replace(r, improvement=M.MetricValue(ei.value, ei.low - 0.5 * abs(ei.low), ei.high))

    monkeypatch.setattr(M, "metrics_from_means", wide)
    ctx = _MC("SBN-METRICS", "mutant", 0, _ts(0, "MUTANT/box"), _T.QUICK)
    with pytest.raises(StecheckError, match="improvement interval"):
        se.check_metrics_montecarlo(ctx, noises=("logistic",), samples=4000)


@pytest.mark.parametrize("mutant", ["z", "m2"])
def test_clt_interval_audit_catches_a_wrong_quantile_or_variance(monkeypatch, mutant):
    # mutation survivors montecarlo.py: clt_interval's "ndtri(1 - alpha / 2)" -> "alpha / 4" (intervals ~6% too wide)
    # and from_samples' "max(M2, 0.0)" -> "max(M2, 1.0)" (a constant column gets a nonzero interval)
    from stecheck.errors import StecheckError
    from stecheck.numerics import montecarlo as MC

    rng = np.random.default_rng(5)
    T = rng.normal(size=(4000, 3))
    se._clt_interval_audit(T, 0.99)  # the true code passes
    if mutant == "z":
        orig = MC.clt_interval

        def wide(moments, confidence=0.99, *, simultaneous=False):
            lo, hi = orig(moments, 1.0 - (1.0 - confidence) / 2.0, simultaneous=simultaneous)
            return lo, hi

        monkeypatch.setattr(MC, "clt_interval", wide)
    else:
        orig = MC.RunningMoments.from_samples

        def floored(samples, **kw):
            r = orig(samples, **kw)
            return MC.RunningMoments(r.count, r.total, r.comp, np.maximum(r.m2, 1.0), r.minimum, r.maximum)

        monkeypatch.setattr(MC.RunningMoments, "from_samples", staticmethod(floored))
    with pytest.raises(StecheckError, match="Monte Carlo interval of column"):
        se._clt_interval_audit(T, 0.99)


def test_enumeration_audit_checks_the_chunked_estimator_bound(monkeypatch):
    # mutation survivor enumeration._sum_over: "(C_F + 1) * (n_inexact + 1)" -> "/" shrinks the stated rounding bound
    # of every expected_estimator / expected_transform result; the audit compares it with the documented formula
    from stecheck.numerics import enumeration as en
    from stecheck.proofs_check.claims import _enum_audit, sbn_bias

    _enum_audit.audit(np.random.default_rng(0), sbn_bias.random_multilinear)  # the true bound passes
    orig = en._sum_over

    def shrunk(product, values_of, k_out, c_extra, n_inexact):  # the mutant's m is about half the documented one
        val, bound = orig(product, values_of, k_out, c_extra, n_inexact)
        return val, bound * 0.49

    monkeypatch.setattr(en, "_sum_over", shrunk)
    with pytest.raises(_enum_audit.EnumerationAuditFailed, match="E\\[ST\\]"):
        _enum_audit.audit(np.random.default_rng(0), sbn_bias.random_multilinear)


def test_ex2_audit_catches_a_wrong_frequency():
    # mutation survivor losses.Ex2._value: "sin(2.0 * math.pi * X)" -> "sin(4.0 * math.pi * X)" (equal on the cube up
    # to rounding); SBN-EX2's enumeration method audits the loss off the cube against the printed formula
    import math

    from stecheck.errors import StecheckError
    from stecheck.proofs_check.claims import sbn_bias

    sbn_bias._ex2_audit(losses.Ex2())

    class Wrong(losses.Ex2):
        def _value(self, X):
            return (X - np.sin(4.0 * math.pi * X)).sum(axis=1)

    with pytest.raises(StecheckError, match="is not L"):
        sbn_bias._ex2_audit(Wrong())
