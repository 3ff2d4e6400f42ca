"""Claim-specific numbers of the STE-dynamics claims (QSTE-ERG, -NONERG, -NOISE, -NONGAUSS) from the session run."""

from stecheck.proofs_check import Verdict
from stecheck.proofs_check.verdict import Category


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


def _method(run, claim_id, name):
    return next(m for m in _claim(run, claim_id).methods if m.name == name)


def test_erg_exponent_is_measured_below_two_and_reported_as_an_imprecision(run):
    m = _method(run, "QSTE-ERG", "threshold-exponent")
    fit = m.evidence["configs"][0]["fits"]["0.9"]
    assert fit["conservative_interval"][1] <= 2 and 0.5 < fit["exponent_b"] < 2
    assert any(f.category is Category.IMPRECISION and "loose" in f.text for f in m.discrepancies)
    assert {f.name for f in m.figures} == {"m-star-ergodic", "phase-ergodic"}


def test_erg_both_readings_have_their_own_verdict(run):
    assert set(_claim(run, "QSTE-ERG").reading_verdicts) == {"visit", "loss"}


def test_nonerg_readings_coincide_without_label_noise(run):
    m = _method(run, "QSTE-NONERG", "last-iterate-at-C-n4")
    assert m.evidence["trials_where_last_iterate_and_late_visit_readings_differ"] == 0


def test_noise_returns_keep_occurring_and_the_noiseless_contrast_is_absorbing(run):
    m = _method(run, "QSTE-NOISE", "return-statistics")
    levels = {row["sigma"]: row["by_start"]["w*"] for row in m.evidence["levels"]}
    assert all(levels[s]["returns_late_mean"] > 1 for s in (0.1, 0.3, 0.5))
    assert levels[0.0]["returns_mean"] == 0 and levels[0.0]["certified_absorbed"] == m.evidence["trials"]
    forced = _method(run, "QSTE-NOISE", "forced-escape").evidence["rows"]
    assert forced[-1]["sigma"] == 0.0 and forced[-1]["gradient_exactly_zero_at_w_star"] == forced[-1]["data_sets"]


def test_nongauss_failure_is_explained_by_the_mean(run):
    res = _claim(run, "QSTE-NONGAUSS")
    assert res.reading_verdicts == {"some": Verdict.VERIFIED, "every": Verdict.REFUTED}
    raw = _method(run, "QSTE-NONGAUSS", "raw-success-by-family").evidence
    assert "shifted-gaussian" in raw["failing (upper bound < 1/2)"]
    assert all(not raw["families"][f]["centered"] for f in raw["failing (upper bound < 1/2)"])
    assert raw["fisher_p_centered_succeed_more"] < 1e-3


def test_timing_failures_accepts_real_block_seconds_and_rejects_impossible_ones():
    import numpy as np

    from stecheck.numerics.ste_dynamics import CellJob, STEModel, simulate_cells
    from stecheck.proofs_check.claims.qste_dynamics import TIMING_SLACK_SECONDS, timing_failures

    cell = STEModel(n=3, m=3, k=2, v=(2.0, 1.0), noise=1.0, proxy="identity", schedule="constant", lr=0.5,
                    normalize="scale")
    _, compute = simulate_cells([CellJob(cell, 5, 12, np.random.SeedSequence(7))], block_size=2)[0]
    assert compute["blocks"] == 3 and timing_failures(compute) == ""
    assert timing_failures({"blocks": 2, "seconds": {"wall": 0.0, "cpu": 0.0}}) == ""  # loaded from checkpoints
    assert timing_failures({"blocks": 1, "seconds": {"wall": 1.0, "cpu": 1.0 + 0.9 * TIMING_SLACK_SECONDS}}) == ""
    assert "exceeds wall" in timing_failures({"blocks": 1, "seconds": {"wall": 1.0, "cpu": 1.0 + 2 * TIMING_SLACK_SECONDS}})
    assert "non-negative" in timing_failures({"blocks": 1, "seconds": {"wall": 1.0, "cpu": -0.5}})
    assert "non-negative" in timing_failures({"blocks": 1, "seconds": {"wall": float("nan"), "cpu": 0.0}})
