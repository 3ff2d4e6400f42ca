"""SBN-F1 / SBN-F2 can say no: each checked method, given a false premise, REFUTES.

Mutants: BayesBiNN without its technical eps (eps = 0) must stop being (107); a wrong leading coefficient or
threshold in (104)-(106); a step-size prediction off by 2; a (107) whose data term is not scaled by N/tau cannot be
rescaled into (108) (symbolically and in floating point), nor can one that breaks the tie eta = 0 to -1; the eps = 0
run compared with itself shows no accuracy gap; a noise family mis-scaled so that 2F'(0) != 1 changes the ST
backward of the network core.
"""

import functools
import math

import numpy as np
import pytest

from stecheck.numerics import bayesbinn as bb
from stecheck.numerics import sbn_net as sn
from stecheck.numerics.noise import Logistic
from stecheck.numerics.seeding import task_seed
from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import sbn_training as tr


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


def _wrong107(eta, g, alpha, N, tau):
    return (1 - alpha) * eta - alpha * N * g  # the 1/tau dropped: no rescaling removes tau


def _wrong107_step(eta, grad_fn, *, alpha, n_train, tau):
    w = np.where(eta >= 0, 1.0, -1.0)
    g = grad_fn(w)
    return (1.0 - alpha) * eta - alpha * n_train * g, g


def _tie_to_minus_one_107_step(eta, grad_fn, *, alpha, n_train, tau):
    w = np.where(eta > 0, 1.0, -1.0)  # sign(0) = -1: (108) breaks the same tie to +1
    g = np.asarray(grad_fn(w), dtype=np.float64)
    return (1.0 - alpha) * eta - alpha * (n_train / tau) * g, g


MUTANTS = {
    "f1 stepwise: eps = 0 (float64: no data gradient)": functools.partial(tr.check_f1_stepwise, eps=0.0,
                                                                           dtypes=("float64",)),
    "f1 stepwise: eps = 0 (float32: 0/0)": functools.partial(tr.check_f1_stepwise, eps=0.0, dtypes=("float32",)),
    "f1 sympy: (104) leading 2/x^2": functools.partial(tr.check_f1_asymptotics, leading=2),
    "f1 sympy: asymptote at 4 log 10": functools.partial(tr.check_f1_asymptotics, threshold_factor=4.0),
    "f1 growth: step predicted 2x": functools.partial(tr.check_f1_growth, predicted_factor=2.0),
    "f1 phase diagram: eps = 0 taken as published": functools.partial(tr.check_f1_phase_diagram, published=(1e-10, 0.0),
                                                                      taus=(1e-10,), epss=(0.0,)),
    "f1 eps needed: eps = 1e-10 against itself": functools.partial(tr.check_f1_eps_needed, eps_alt=1e-10),
    "f2 sympy: (107) without 1/tau": functools.partial(tr.check_f2_symbolic, update=_wrong107),
    "f2 float: (107) without 1/tau": functools.partial(tr.check_f2_exact_rescaling, update=_wrong107_step,
                                                       taus=(2.0 ** -20,), ns=(2 ** 10,)),
    "f2 float: (107) breaks the tie eta = 0 to -1": functools.partial(
        tr.check_f2_exact_rescaling, update=_tie_to_minus_one_107_step, taus=(2.0 ** -20,), ns=(2 ** 10,)),
}


#: SBN-TABLE1 mutants share the claim's training runs (one cached set per process): their ctx names the claim.
TABLE1_MUTANTS = {
    "t1 noise scaling: logistic with 2F'(0) = 1/2": "misscaled",
    "t1 tost: logistic 5 points better": functools.partial(tr.check_t1_equivalence, shift={"logistic": 0.05}),
    "t1 ensemble: gain >= 5 points": functools.partial(tr.check_t1_ensemble, min_gain=0.05),
    "t1 training: every run 100%": functools.partial(tr.check_t1_training, target=1.0, refute_below=True),
}


#: SBN-BITS mutants (they share the claim's cached measurements).
BITS_MUTANTS = {
    "bits trend: ARM (unbiased, variance grows with n) improves with bits": functools.partial(
        tr.check_bits_trend, estimators=("arm",), checkpoint="init"),
    "bits trend: ST with an extra bias growing with n (ECS - 0.5 log2 n) improves with bits": functools.partial(
        tr.check_bits_trend, estimators=("st",), mutate=lambda lab, n, v: v - 0.5 * math.log2(n)),
    "bits intervention: det ST whose ECS falls as the units become deterministic (- 0.5 log2 s)": functools.partial(
        tr.check_bits_intervention, mutate=lambda s, v: v - 0.5 * math.log2(s)),
    "bits intervention: det ST gets worse when the units are made deterministic": functools.partial(
        tr.check_bits_intervention, alternative="less"),
    "bits decline: det ST's ECS falls by 0.5 per doubling past n = 16 (small sizes)": functools.partial(
        tr.check_bits_decline, mutate=lambda n, v: v - 0.5 * math.log2(n),
        sizes={"decline_bits": (16, 64), "decline_reps": 3, "steps": 20, "docs": 8, "trials": 4, "arm": 200}),
    "bits best: identity ST beats ST": functools.partial(tr.check_bits_st_best, better="identity_st", others=("st",)),
    "bits sympy: gap with (1 - F)^2": functools.partial(tr.check_bits_det_limit, power=2),
}


@pytest.mark.parametrize("name", list(BITS_MUTANTS))
def test_bits_mutant_is_refuted(name):
    ctx = MethodContext("SBN-BITS", name, 0, task_seed(0, f"SBN-BITS/{name}"), Tier.QUICK)
    out = BITS_MUTANTS[name](ctx)
    assert out.verdict is Verdict.REFUTED, (name, out.verdict, out.evidence)
    assert out.counterexample


@pytest.mark.parametrize("name", list(TABLE1_MUTANTS))
def test_table1_mutant_is_refuted(name):
    check = TABLE1_MUTANTS[name]
    if check == "misscaled":
        check = functools.partial(tr.check_t1_noise_scaling, noise_objects={"logistic": _MisScaledLogistic()})
    ctx = MethodContext("SBN-TABLE1", name, 0, task_seed(0, f"SBN-TABLE1/{name}"), Tier.QUICK)
    out = check(ctx)
    assert out.verdict is Verdict.REFUTED, (name, out.verdict, out.evidence)
    assert out.counterexample


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_refuted(name):
    out = MUTANTS[name](_ctx(name))
    assert out.verdict is Verdict.REFUTED, (name, out.verdict, out.evidence)
    assert out.counterexample


def test_every_checked_method_has_a_mutant():
    funcs = {getattr(m.check, "func", m.check) for c in tr.CLAIMS for m in c.methods if m.role == "checked"}
    mutated = ({p.func for p in MUTANTS.values()} | {p.func for p in TABLE1_MUTANTS.values() if p != "misscaled"}
               | {p.func for p in BITS_MUTANTS.values()})
    assert funcs <= mutated | {tr.check_t1_noise_scaling}


class _MisScaledLogistic(Logistic):
    """F(z) = sigmoid(z): 2 F'(0) = 1/2, not 1."""

    name = "logistic-misscaled"

    def _pdf(self, z):
        from scipy import special
        return special.expit(z) * special.expit(-z)

    def _cdf(self, z):
        from scipy import special
        return special.expit(z)


def test_misscaled_noise_breaks_the_identity_jacobian_at_zero():
    """Section 4's init needs 2F'(0) = 1: the ST backward at a = 0 is then the identity; a mis-scaled family is not."""
    for noise, expect in (("logistic", 1.0), (_MisScaledLogistic(), 0.5)):
        unit = sn.StochasticBinary(noise, "st")
        unit.forward(np.zeros((1, 3)), np.random.default_rng(0))
        np.testing.assert_allclose(unit.backward(np.ones((1, 3))), expect)


def test_eps_zero_breaks_the_published_optimizer_in_float32():
    """With eps = 0 and tanh(10) = 1 in float32 the scale is 0/0: every state becomes NaN."""
    lam = np.full(4, 10.0, dtype=np.float32)
    s = bb.PUBLISHED(100, eps=0.0)
    new, _, _ = bb.bayesbinn_step(lam, np.tanh(lam), lambda w: np.ones_like(w), np.full(4, 0.3), s)
    assert np.all(np.isnan(new))


def test_arm_reference_audit_catches_a_wrong_arm_factor(monkeypatch):
    # mutation survivor estimators.py _arm_factor: "2.0 -> 4.0" for logistic noise scales every ARM reference by 2,
    # which SBN-BITS' cosine metrics cannot see; the exact-enumeration audit behind every SBN-BITS method must
    from stecheck.errors import StecheckError
    from stecheck.numerics import estimators

    tr._arm_reference_audit.cache_clear()
    assert tr._arm_reference_audit(0, "SBN-BITS")["instances"] == 8  # the true ARM passes
    orig = estimators._arm_factor
    monkeypatch.setattr(estimators, "_arm_factor",
                        lambda a, noise, p, q: 2.0 * orig(a, noise, p, q) if noise.name == "logistic"
                        else orig(a, noise, p, q))
    import stecheck.numerics.enumeration as en

    monkeypatch.setattr(en, "_arm_factor", estimators._arm_factor, raising=False)
    tr._arm_reference_audit.cache_clear()
    with pytest.raises(StecheckError, match="ARM reference gradient is biased"):
        tr._arm_reference_audit(0, "SBN-BITS")
    tr._arm_reference_audit.cache_clear()


def test_digits_split_audit_catches_another_split(monkeypatch):
    # mutation survivor sbn_net.load_digits_split: default test_fraction 0.2 -> 0.4 (N = 1078, not the stated 1438)
    from stecheck.errors import StecheckError

    tr._digits.cache_clear()
    assert tr._digits(0).n_train == 1438
    orig = tr.load_digits_split
    monkeypatch.setattr(tr, "load_digits_split", lambda seed=0, test_fraction=0.4: orig(seed, test_fraction))
    tr._digits.cache_clear()
    with pytest.raises(StecheckError, match="stated 80/20 split"):
        tr._digits(0)
    tr._digits.cache_clear()


@pytest.mark.parametrize("mutant", ["bn-eps", "bn-backward"])
def test_mlp_audit_catches_a_wrong_network(monkeypatch, mutant):
    # mutation survivors sbn_net: BinaryWeightMLP's default bn_eps 1e-5 -> 2e-5; BatchNorm.backward's
    # "(scale * inv)" -> "(scale / inv)"
    from stecheck.errors import StecheckError

    tr._mlp_audit.cache_clear()
    tr._mlp_audit(32)  # the true network passes
    if mutant == "bn-eps":
        orig = sn.BinaryWeightMLP.__init__
        monkeypatch.setattr(sn.BinaryWeightMLP, "__init__",
                            lambda self, d, h, k, bn_eps=2e-5: orig(self, d, h, k, bn_eps=bn_eps))
    else:
        orig = sn.BatchNorm.backward

        def wrong(self, gy, scale=1.0):
            return orig(self, gy, scale) / (self._inv * self._inv)  # (scale / inv) instead of (scale * inv)

        monkeypatch.setattr(sn.BatchNorm, "backward", wrong)
    tr._mlp_audit.cache_clear()
    with pytest.raises(StecheckError, match="disagrees with the independent check"):
        tr._mlp_audit(32)
    tr._mlp_audit.cache_clear()


def test_adam_audit_catches_a_misplaced_epsilon(monkeypatch):
    # mutation survivor sbn_net.Adam.step: "self.eps * math.sqrt(c2)" -> "self.eps / math.sqrt(c2)"
    from stecheck.errors import StecheckError

    tr._adam_audit()  # the true optimizer passes
    orig = sn.Adam.step

    def misplaced(self, grads):
        eps, c2 = self.eps, 1 - self.b2 ** (self.t + 1)
        self.eps = eps / c2  # eps * sqrt(c2) becomes eps / sqrt(c2)
        try:
            orig(self, grads)
        finally:
            self.eps = eps

    monkeypatch.setattr(sn.Adam, "step", misplaced)
    with pytest.raises(StecheckError, match="is not Adam"):
        tr._adam_audit()


def test_stack_audit_catches_a_wrong_output_bias_sign(monkeypatch):
    # mutation survivor sbn_net.DeepSBNStack.forward: "... + p['bout']" -> "- p['bout']" (backward assumes +)
    from stecheck.errors import StecheckError

    tr._stack_audit()  # the true network passes
    orig = sn.DeepSBNStack.forward
    monkeypatch.setattr(sn.DeepSBNStack, "forward", lambda self, X, rng, mode="train":
                        orig(self, X, rng, mode) - 2 * self.params["bout"][:, None, :])
    with pytest.raises(StecheckError, match="output layer's gradient"):
        tr._stack_audit()


def test_train_step_audit_catches_a_wrong_batch_normalization(monkeypatch):
    # mutation survivor sbn_autoencoder.train_step: "G / Y.shape[0]" -> "G / Y.shape[1]" (divides by the vocabulary,
    # not the batch); the audit recomputes the batch-mean ARM chain rule
    from stecheck.errors import StecheckError
    from stecheck.numerics import sbn_autoencoder as sa

    tr._train_step_audit()  # the true step passes
    orig = sa.StochasticAutoencoder.train_step

    def wrong(self, opt, Y, rng):
        class Scaled:
            def step(self_, grads):
                opt.step({k: v * (Y.shape[0] / Y.shape[1]) if k in self.ENCODER else v for k, v in grads.items()})
        return orig(self, Scaled(), Y, rng)

    monkeypatch.setattr(sa.StochasticAutoencoder, "train_step", wrong)
    with pytest.raises(StecheckError, match="batch mean of the ARM chain rule"):
        tr._train_step_audit()


def test_stack_st_audit_catches_a_stack_that_breaks_latent_ties_to_minus_one(monkeypatch):
    # mutation survivor (seed 17) sbn_net.DeepSBNStack.forward: "eta >= 0.0" -> "eta > 0.0" in the 'det' mode
    from stecheck.errors import StecheckError

    tr._stack_st_audit(noises=("logistic",))  # the true network passes (ties included)
    orig = sn.DeepSBNStack.forward

    def ties_to_minus_one(self, X, rng, mode="train", **kw):
        saved = {k: v.copy() for k, v in self.params.items() if k.startswith("eta")}
        for k in saved:
            self.params[k][self.params[k] == 0.0] = -1e-300
        try:
            return orig(self, X, rng, mode, **kw)
        finally:
            for k, v in saved.items():
                self.params[k][...] = v

    monkeypatch.setattr(sn.DeepSBNStack, "forward", ties_to_minus_one)
    with pytest.raises(StecheckError, match="deterministic forwards of DeepSBNStack"):
        tr._stack_st_audit(noises=("logistic",))
