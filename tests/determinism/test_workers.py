"""Same seed, same evidence, whatever the worker count: the whole quick tier in-process and on two workers.

Every method's record (verdict, evidence, scope, findings, counterexample,
figures) must be identical between ``--workers 0`` and ``--workers 2``; only
timings, the environment and the worker count may differ.  Two runs of the
whole tier take a few minutes, so the test is ``slow`` and ``cluster``.
"""

import pytest

from stecheck.proofs_check.registry import default_registry
from stecheck.proofs_check.runner import run_claims

from stecheck.proofs_check.reproducibility import differences, method_evidence

SEED = 0


@pytest.mark.slow
@pytest.mark.cluster
def test_the_whole_quick_tier_gives_identical_evidence_on_zero_and_two_workers():
    claims = default_registry().select([])
    local = run_claims(claims, seed=SEED, workers=0)
    cluster = run_claims(claims, seed=SEED, workers=2)
    assert cluster.workers == 2
    assert len(method_evidence(local)) == sum(len(c.methods) for c in local.claims) > 100
    diff = differences(local, cluster)
    assert not diff, f"{len(diff)} method(s) differ between --workers 0 and --workers 2:\n" + "\n".join(diff)


def test_the_comparison_sees_a_changed_number_and_ignores_timings():
    claims = default_registry().select(["SBN-EX1"])
    a = run_claims(claims, seed=SEED, workers=0)
    b = run_claims(claims, seed=SEED, workers=0)
    assert differences(a, b) == []
    b.claims[0].methods[0].seconds += 1.0
    assert differences(a, b) == []
    key = next(iter(b.claims[0].methods[-1].evidence))
    b.claims[0].methods[-1].evidence[key] = "changed"
    diff = differences(a, b)
    assert len(diff) == 1 and diff[0].startswith(f"SBN-EX1/{b.claims[0].methods[-1].name}: .evidence.{key}")
