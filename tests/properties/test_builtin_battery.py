"""The propositions as property tests of stecheck itself: the battery on every built-in estimator.

Expected outcomes (what the paper says, decided by the battery's own
Hypothesis properties, profile ``dev``):

* ST (Alg. 1) passes Sec. 2.2 I (exact on linear L), Prop. B.2 (unbiased on
  multilinear L), B.1 (invariance) and B.5 (ascent under the condition);
  claimed unbiased for every loss it fails on non-multilinear L ((sum x)^2).
* identity ST fails exactness, unbiasedness and invariance (it is not Alg. 1).
* deterministic ST: its bias is a declared known failure (XFAIL); it passes
  Prop. B.8 (ascent direction under B.8's condition).
* ARM, REINFORCE-LOO and local expectations pass every check an unbiased
  estimator must (B.2, any loss, invariance).
* Gumbel-Softmax and ST-GS: the bias does not grow as tau falls fourfold.
* Prop. B.4 (diagonal rescaling): ST, identity ST (Alg. 1 rescaled by 1/F'(a), the paper's example)
  and the unbiased estimators keep E[e_i] g_i >= 0; a sign-flipped ST fails.
* Prop. B.6 / Cor. B.2 (bias shrinking with width at initialization): ST and identity ST pass; an ST with
  a constant bias 3 F'(a) (not shrinking with n) fails.
* Prop. B.7: deterministic ST has the sign of the expected stochastic ST under (34); a sign-flipped
  deterministic ST fails.
"""

from dataclasses import replace

import pytest

from stecheck.numerics import losses
from stecheck.proofs_check.battery import check_estimator, get_check, run_check
from stecheck.proofs_check.battery.builtins import BUILTINS
from stecheck.testing import assert_unbiased

P, F, S, X = "PASS", "FAIL", "SKIP", "XFAIL"
ORDER = ("output_contract", "seed_determinism", "linear_exact", "unbiased_multilinear", "unbiased_any_loss",
         "invariance_b1", "ascent_b5", "ascent_b8", "relaxation_bias_order", "rescaling_b4", "width_bias_b6",
         "deterministic_b7")
EXPECTED = {
    "st":                 (P, P, P, P, S, P, P, S, S, P, P, S),
    "identity_st":        (P, P, F, F, S, F, P, S, S, P, P, S),
    "deterministic_st":   (P, P, P, X, S, P, P, P, S, S, S, P),
    "local_expectations": (P, P, S, P, P, P, S, S, S, P, S, S),
    "arm":                (P, P, S, P, P, P, S, S, S, P, S, S),
    "reinforce":          (P, P, S, P, P, P, S, S, S, P, S, S),
    "gumbel_softmax":     (P, P, S, S, S, S, S, S, P, S, S, S),
    "st_gumbel_softmax":  (P, P, S, S, S, S, S, S, P, S, S, S),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_battery_gives_the_expected_outcome_for_each_builtin(name):
    records = check_estimator(BUILTINS[name], profile="dev")
    got = {r.check: r.status for r in records}
    assert tuple(got[c] for c in ORDER) == EXPECTED[name], [(r.check, r.status, r.evidence) for r in records]
    for r in records:
        if r.status == F:
            assert "minimal example" in r.evidence and r.replay.startswith("from stecheck.testing import")


def test_st_claimed_unbiased_for_every_loss_is_caught_on_a_non_multilinear_loss():
    rec = run_check(replace(BUILTINS["st"], tags=frozenset({"unbiased"})), get_check("unbiased_any_loss"),
                    profile="dev")
    assert rec.status == F, rec
    with pytest.raises(AssertionError, match="biased"):
        assert_unbiased(BUILTINS["st"], losses.SquareSum(), [0.3, -0.7, 1.1])


def test_a_failure_replays_when_pasted():
    rec = run_check(BUILTINS["identity_st"], get_check("linear_exact"), profile="dev")
    assert rec.status == F
    code = rec.replay
    with pytest.raises(AssertionError, match="linear loss"):
        exec(compile(code, "<replay>", "exec"), {})  # the line printed for the user, run as they would paste it


@pytest.mark.slow  # ~2 min of quadrature
def test_the_premise_of_the_tau_check_holds_for_gumbel_softmax_by_quadrature():
    """relaxation_bias_order assumes |bias(tau/4)| <= |bias(tau)| on its domain; check it for GS exactly (n = 1)."""
    import numpy as np

    from stecheck.numerics import enumeration

    loss = losses.Linear(np.array([1.0]))
    gaps = []
    for a in np.linspace(-2, 2, 41):
        g = enumeration.exact_gradient(loss, [a], "logistic").value[0]
        for tau in (0.4, 0.2):
            b1 = enumeration.expected_estimator("gumbel_softmax", loss, [a], "logistic", tau=tau)
            b2 = enumeration.expected_estimator("gumbel_softmax", loss, [a], "logistic", tau=tau / 4)
            gaps.append(abs(b1.value[0] - g) - abs(b2.value[0] - g) - b1.error_bound[0] - b2.error_bound[0])
    assert min(gaps) > 5e-4


def _flip_first(name):
    """The builtin ``name`` with the sign of coordinate 0 flipped: a wrong backward pass."""
    base = BUILTINS[name]

    def fn(loss, a, noise, rng, size, **kw):
        e = base.fn(loss, a, noise, rng, size, **kw)
        e[:, 0] = -e[:, 0]
        return e

    return replace(base, fn=fn, name=f"flipped_{name}", xfail={}, ref=None)


@pytest.mark.parametrize("name, check", [("st", "rescaling_b4"), ("arm", "rescaling_b4"),
                                         ("deterministic_st", "deterministic_b7")])
def test_a_sign_flipped_estimator_fails_the_rescaling_and_b7_checks(name, check):
    rec = run_check(_flip_first(name), get_check(check), profile="ci")  # 12 examples: power, not luck
    assert rec.status == F, rec
    assert "minimal example" in rec.evidence


def _constant_bias_st(c):
    """Alg. 1 plus ``c F'(a)``: a bias that does not shrink with width (declared range: ST's plus ``c F'(a)``)."""
    import numpy as np

    from stecheck.proofs_check.battery.core import BOUNDS

    base = BUILTINS["st"]

    def fn(loss, a, noise, rng, size, **kw):
        return base.fn(loss, a, noise, rng, size, **kw) + c * noise.pdf(np.asarray(a))

    return replace(base, fn=fn, name=f"st_plus_{c:g}", bound=lambda pr: BOUNDS["st"](pr) + c * pr.fprime, ref=None)


def test_an_st_whose_bias_does_not_shrink_with_width_fails_b6():
    rec = run_check(_constant_bias_st(3.0), get_check("width_bias_b6"), profile="ci")
    assert rec.status == F, rec
    assert "bias grows with width" in rec.evidence
