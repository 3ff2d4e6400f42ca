"""The QSTE claims split their cells into Dask block tasks: same evidence in-process and on two workers.

The four claims run on a small configuration (every (k, v) in the threshold fit, so the parallel threshold
searches run too) with ``--workers 0`` and ``--workers 2``; every method's record, without timings, must be
identical, and every simulating method must record the block tasks it used (``evidence.compute``).
"""

import pytest

from stecheck.proofs_check.registry import default_registry
from stecheck.proofs_check.runner import run_claims

from stecheck.proofs_check.reproducibility import differences

CLAIMS = ("QSTE-ERG", "QSTE-NONERG", "QSTE-NOISE", "QSTE-NONGAUSS")
SMALL = {"trials": 6, "trials_fit": 6, "steps": 30, "n_max": 8, "n_max_fit": 32, "n_max_fit_k3": 32,
         "fit_configs": 3, "n": 8, "n_max_enum": 6}


@pytest.mark.cluster
def test_qste_block_tasks_give_the_same_evidence_on_zero_and_two_workers():
    claims = default_registry().select(list(CLAIMS))
    local = run_claims(claims, seed=5, workers=0, settings=SMALL)
    cluster = run_claims(claims, seed=5, workers=2, settings=SMALL)
    assert cluster.workers == 2
    diff = differences(local, cluster)
    assert not diff, "QSTE evidence differs between --workers 0 and --workers 2:\n" + "\n".join(diff)
    simulating = [m for c in cluster.claims for m in c.methods if "compute" in m.evidence]
    assert len(simulating) == 10  # 2 sweeps + 1 fit per ERG/NONERG, return statistics, 3 family methods
    for m in simulating:
        compute = m.evidence["compute"]
        assert compute["cells"] == len(compute["per_cell"]) > 0
        assert compute["block_tasks"] == sum(c["blocks"] for c in compute["per_cell"].values()) >= compute["cells"]
    fit = next(m for c in cluster.claims if c.claim_id == "QSTE-ERG" for m in c.methods
               if m.name == "threshold-exponent")
    assert [c["config"] for c in fit.evidence["configs"]] == fit.evidence["configs_fitted"]
    assert len(fit.evidence["configs_fitted"]) == 3 and fit.evidence["configs_not_fitted"] == []
