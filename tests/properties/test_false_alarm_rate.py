"""The measured false-alarm rate of the sound assertions on stecheck's own unbiased estimators (slow).

>= 10,000 Hypothesis examples of ``assert_unbiased`` over ARM, REINFORCE-LOO and
local expectations (every noise, multilinear and non-multilinear losses, the
declared or the default range); a correct estimator must never fail.  At
``alpha = 1e-6`` per assertion the expected number of false alarms is <= 0.01.
Measured: 3 x 3 401 = 10 203 examples, 0 failures, 0 inconclusive (about 15 min).
"""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stecheck.numerics.noise import NOISES
from stecheck.proofs_check.battery.builtins import BUILTINS
from stecheck.proofs_check.battery.strategies import multilinear_losses, non_multilinear_losses, preactivations
from stecheck.testing import assert_unbiased

UNBIASED = ("arm", "reinforce", "local_expectations")
EXAMPLES_PER_ESTIMATOR = 3_400


@st.composite
def problems(draw):
    n = draw(st.integers(1, 4))
    noise = draw(st.sampled_from(sorted(NOISES)))
    loss = draw(st.one_of(multilinear_losses(n), non_multilinear_losses(n)))
    return loss, draw(preactivations(n, noise=noise)), noise, draw(st.booleans()), draw(st.integers(0, 2**31 - 1))


@pytest.mark.slow
@pytest.mark.parametrize("name", UNBIASED)
def test_no_false_alarm_on_a_correct_estimator(name):
    spec = BUILTINS[name]
    counts = {"examples": 0, "pass": 0, "inconclusive": 0}

    @settings(max_examples=EXAMPLES_PER_ESTIMATOR, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(problems())
    @example(None)  # the rare event: a = [0, 0, 0, 1.19e-7], every one of 20,000 ARM samples equal
    def prop(problem):
        if problem is None:
            from stecheck.proofs_check.battery.strategies import LossSpec

            problem = (LossSpec("square_sum", 4), (0.0, 0.0, 0.0, 1.19e-7), "logistic", True, 8)
        loss, a, noise, declared, seed = problem
        out = assert_unbiased(spec, loss, a, noise=noise, seed=seed, bound=None if declared else "default")
        counts["examples"] += 1
        counts[out] += 1

    prop()
    print(f"\n{name}: {counts}")
    assert counts["examples"] >= EXAMPLES_PER_ESTIMATOR
