"""SBN-B4 and SBN-B6: the measured numbers, discrepancies and figures behind their verdicts.

Verdicts are pinned in test_pinned_verdicts.py.
"""


from fractions import Fraction

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


def test_b4_counterexamples_are_realizable_and_minimal(run):
    res = _claim(run, "SBN-B4")
    by = {m.name: m for m in res.methods}
    for name in ("printed-z3-steps-any-J1", "printed-optimization-any-J1"):
        ce = by[name].counterexample
        a = ce["a (Lambda0 = diag(F'(a)), logistic)"]
        assert a is not None and all(x >= 0 for x in a), name          # every Lambda0_ii = F'(a_i) for some a_i
    minimal = by["printed-minimal-exact"].counterexample
    assert (minimal["n"], minimal["m"]) == (2, 1) and minimal["scalar_product"] == "-1151/625"
    assert Fraction(minimal["scalar_product"]) < 0
    assert res.reading_verdicts == {"per-unit": V, "shared": R}


def test_b6_readings_and_exponents(run):
    res = _claim(run, "SBN-B6")
    by = {m.name: m for m in res.methods}
    assert res.reading_verdicts == {"flip": P, "l2": P, "sup": R}
    flip = by["lipschitz-flip"].evidence
    assert flip["upper"]["ci"][1] < -0.9          # the B.5 (single-flip) constant decays like 1/n
    l2 = by["lipschitz-l2-quadratic"].evidence    # exact supremum: the n^-1/2 rate is tight
    assert l2["upper"]["ci"][0] <= -0.5 <= l2["upper"]["ci"][1] + 0.02
    sup = by["lipschitz-sup-quadratic"].evidence  # exact sup-norm supremum does not decay
    assert sup["lower"]["ci"][0] > -0.1
    assert by["enumeration-bias"].evidence["relative_bias"]["ci"][1] < 0


def test_figures_are_produced(run):
    names = {(c.claim_id, f.name) for c in run.claims for m in c.methods for f in m.figures}
    assert {("SBN-B4", "b4-search-none"), ("SBN-B6", "lipschitz-flip-logcosh"), ("SBN-B6", "bias-vs-n")} <= names


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


def test_b6_suprema_match_brute_force_enumeration():
    # the exact suprema (quadratic l) and the tanh brackets against brute force over all 2^n states, n = 8
    import itertools
    import math

    import numpy as np

    from stecheck.proofs_check.claims import sbn_rescaling as r

    rng = np.random.default_rng(5)
    n = 8
    W, y = r._normalized_gaussian(rng, 4, n), rng.normal(size=4)
    X = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    for loss, lp in (("quadratic", lambda u: u), ("logcosh", np.tanh)):
        G = lp(X @ W.T - y) @ W
        sup = (G.max(axis=0) - G.min(axis=0)) / 2
        flip = np.zeros(n)
        l2 = np.zeros(n)
        for a_idx in range(len(X)):
            D = np.abs(G[a_idx] - G)                                  # (2^n, n)
            dist = np.sqrt(np.sum((X[a_idx] - X) ** 2, axis=1))
            mask = dist > 0
            l2 = np.maximum(l2, (D[mask] / dist[mask, None]).max(axis=0))
        for i in range(n):
            Xf = X.copy()
            Xf[:, i] *= -1
            flip[i] = np.max(np.abs(G[:, i] - (lp(Xf @ W.T - y) @ W)[:, i])) / 2
        for mode, brute in (("flip", flip), ("sup", sup), ("l2", l2)):
            lo, up = r._lipschitz_bounds(W, y, X[:16], mode=mode, loss=loss)
            assert np.all(lo <= brute * (1 + 1e-9) + 1e-12) and np.all(brute <= up * (1 + 1e-9) + 1e-12), (loss, mode)
            if loss == "quadratic":
                assert np.allclose(lo, brute) and np.allclose(up, brute), mode
    assert math.isfinite(float(l2.max()))


def _b4_ctx():
    from stecheck.numerics.seeding import task_seed
    from stecheck.proofs_check.claim import MethodContext, Tier
    return MethodContext("SBN-B4", "printed-enumeration-identity-st", 0,
                         task_seed(0, "SBN-B4/printed-enumeration-identity-st"), Tier.QUICK)


def test_b4_identity_st_enumeration_agrees_with_the_closed_forms():
    from stecheck.proofs_check.claims import sbn_rescaling as rs
    out = rs.check_b4_enumeration_identity_st(_b4_ctx(), coupling="shared")
    assert out.verdict is R
    assert out.evidence["closed_form_comparisons"] == 160 and out.evidence["closed_form_misses"] == []


def test_b4_identity_st_closed_form_comparison_can_fail(monkeypatch):
    """A loss that is not the stated c.x (a constant added) changes E[L] only: the closed-form check catches it."""
    from stecheck.numerics import losses
    from stecheck.proofs_check.claims import sbn_rescaling as rs
    linear = losses.Linear
    monkeypatch.setattr(rs.losses, "Linear", lambda c: linear(c, 1.0))
    out = rs.check_b4_enumeration_identity_st(_b4_ctx(), coupling="shared")
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.evidence["closed_form_misses"][0]["quantity"] == "E[L]"
