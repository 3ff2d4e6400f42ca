"""The audits that close the seed-12 survivors of numerics/ (issue 8, section 5): each planted change makes its audit
raise (the method, hence the claim, is ERROR), and the unplanted audit passes.

enumeration's gradient underflow term and point masses (SBN-B2's _enum_audit), expected_loss's 1 - p (SBN-B5/B7/B8's
shared-parameter search), the +-1 branch of the GS estimator (SBN-E1's _encoding_audit), the clip of the ECS
interval (SBN-METRICS' _box_image_audit), DeepSBNStack's ST factor (SBN-TABLE1's _stack_st_audit) and the loss the
autoencoder's training step returns (SBN-BITS' _train_step_audit).
"""

import numpy as np
import pytest

from stecheck.errors import StecheckError
from stecheck.numerics import enumeration, estimators, metrics
from stecheck.numerics import sbn_autoencoder as sa
from stecheck.numerics import sbn_net as sn
from stecheck.numerics.seeding import task_seed
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import _enum_audit, sbn_ascent, sbn_estimators, sbn_gumbel, sbn_training
from stecheck.proofs_check.claims.sbn_bias import random_multilinear

from _planting import planted


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


def _enum():
    return _enum_audit.audit(np.random.default_rng(0), random_multilinear)


CASES = {
    "gradient underflow term divided by F'": (_enum, [(enumeration.exact_loss_and_gradient, "under * fprime)",
                                                        "under / fprime)")]),
    "p = 0 rejected as a probability": (_enum, [(enumeration._as_probabilities, "p < 0.0", "p <= 0.0")]),
    "expected_loss with 1 + p for 1 - p": (
        lambda: sbn_ascent.check_shared_parameter_search(_ctx(), prop="B7"),
        [(enumeration.expected_loss, "1.0 - p", "1.0 + p")]),
    "GS +-1 relaxed state F + (1 - F)": (sbn_gumbel._encoding_audit, [(
        estimators.gumbel_softmax_estimates, "noise.cdf(u) - noise.sf(u)", "noise.cdf(u) + noise.sf(u)")]),
    "ECS interval clipped at 2": (lambda: sbn_estimators.check_metrics_montecarlo(_ctx()), [(
        metrics.metrics_from_means, "min(hi[0], 1.0)", "min(hi[0], 2.0)")]),
    "ECS interval clipped at -2": (lambda: sbn_estimators.check_metrics_montecarlo(_ctx()), [(
        metrics.metrics_from_means, "max(lo[0], -1.0)", "max(lo[0], -2.0)")]),
    "DeepSBNStack ST factor 4 F'": (sbn_training._stack_st_audit, [(
        sn.DeepSBNStack._scale, "return 2.0 * self.noise.pdf(a)", "return 4.0 * self.noise.pdf(a)")]),
    "train_step returns -loss": (sbn_training._train_step_audit, [(
        sa.StochasticAutoencoder.train_step, "return loss", "return -loss")]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_audit_raises_on_the_planted_change(name):
    run, changes = CASES[name]
    run()  # the unplanted audit passes
    with planted(*[(fn, old, new) for fn, old, new in changes]):
        with pytest.raises(StecheckError):
            run()
