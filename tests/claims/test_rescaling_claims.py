"""SBN-B4 and SBN-B6: the measured numbers, discrepancies and figures behind their verdicts.

Verdicts are pinned in test_pinned_verdicts.py.
"""


from stecheck.proofs_check import Verdict

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED


def _claim(run, cid):
    return next(c for c in run.claims if c.claim_id == cid)


def test_b4_the_psd_step_is_the_invalid_one(run):
    res = _claim(run, "SBN-B4")
    printed = next(m for m in res.methods if m.name == "printed-z3-steps-any-J1")
    assert printed.evidence["invalid_steps"] == ["R = Lambda J1 J1^T Lambda0 is PSD", "Prop. B.4 conclusion"]
    uncoupled = next(m for m in res.methods if m.name == "z3-steps-uncoupled")
    assert uncoupled.evidence["invalid_steps"] == []
    search = next(m for m in res.methods if m.name == "printed-optimization-any-J1")
    assert search.evidence["min_cosine"] < -0.99


def test_b6_exponents_are_reported_with_intervals(run):
    res = _claim(run, "SBN-B6")
    by = {m.name: m for m in res.methods}
    flip, cube = by["montecarlo-lipschitz-flip"].evidence, by["montecarlo-lipschitz-cube"].evidence
    assert flip["ci"][1] < -0.9          # the B.5 (single-flip) constant decays like 1/n
    assert cube["ci"][0] <= -0.5 <= cube["ci"][1]   # the sup-norm constant decays like n^-1/2
    assert by["enumeration-bias"].evidence["relative_bias"]["ci"][1] < 0
    assert any("-0.5" in d for d in res.discrepancies)


def test_figures_are_produced(run):
    names = {(c.claim_id, f.name) for c in run.claims for m in c.methods for f in m.figures}
    assert {("SBN-B4", "b4-search-none"), ("SBN-B6", "lipschitz-flip"), ("SBN-B6", "bias-vs-n")} <= names


def test_b6_monte_carlo_sampler_agrees_with_enumeration():
    # the vectorized per-sample (ST - LE, LE) of the Monte Carlo method against exact enumeration, n = 8
    import numpy as np

    from stecheck.numerics import enumeration
    from stecheck.numerics.montecarlo import monte_carlo_mean
    from stecheck.numerics.noise import get_noise
    from stecheck.proofs_check.claims import sbn_rescaling as r

    rng = np.random.default_rng(3)
    W, y, a = r._b6_instance(rng, 8)
    loss = r._b6_loss(W, y)
    st = np.asarray(enumeration.expected_estimator("st", loss, a, r.NOISE).value)
    true = np.asarray(enumeration.exact_gradient(loss, a, r.NOISE).value)
    mc = monte_carlo_mean(r._mc_bias_chunk(W, y, a, get_noise(r.NOISE).pdf(a)), 40_000,
                          np.random.SeedSequence(1), confidence=0.9999)
    exact = np.concatenate([st - true, true])
    assert np.all((mc.low <= exact) & (exact <= mc.high))
