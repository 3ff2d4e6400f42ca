"""Each checked method of SBN-PGD, -P1, -P2, -INIT, -PROXY, -COR-B1 REFUTES a false premise.

A mutant is the same check function with one premise replaced by a false one:
eps' = 2 eps, a wrong mirror map / divergence, a dropped factor, a wrong
density scale, a transform that is not the noise cdf.
"""

import pytest
import sympy

from stecheck.numerics.seeding import task_seed
from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import sbn_latent as lat
from stecheck.proofs_check.claims import sbn_proxies as prx
from stecheck.theory import mirror as mr
from stecheck.theory.noise import NOISE_FAMILIES, NoiseFamily


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


def _refuted(out):
    assert out.verdict is Verdict.REFUTED, (out.verdict, out.evidence)
    assert out.counterexample
    return out


def _euclid(theta, theta_t):
    return 0.5 * (theta - theta_t) ** 2


# ---------------------------------------------------------------- SBN-PGD


@pytest.mark.parametrize("premise", [{"claimed_factor": 2}, {"half_width": 2}])
def test_pgd_symbolic_refutes_wrong_factor_or_noise_scale(premise):
    _refuted(lat.check_pgd_symbolic(_ctx(), **premise))


def test_pgd_z3_refutes_eps_prime_2eps_with_a_replayable_counterexample():
    out = _refuted(lat.check_pgd_smt(_ctx(), eps_factor=2))
    ce = out.counterexample
    assert ce["F^-1(theta_next) via (10)"] != ce["eta_next via (11)"]


@pytest.mark.parametrize("check", [lat.check_pgd_trajectory_rational, lat.check_pgd_trajectory_loss])
def test_pgd_trajectories_refute_eps_prime_2eps(check):
    _refuted(check(_ctx(), eps_factor=2))


# ---------------------------------------------------------------- SBN-P1


def test_p1_symbolic_refutes_the_euclidean_mirror_map():
    out = _refuted(lat.check_p1_symbolic(_ctx(), families=("logistic", "triangular"),
                                         mirror_map=lambda fam: mr.THETA**2 / 2))
    assert out.counterexample["identity"] == "Phi' = F^-1"


@pytest.mark.parametrize("premise", [
    {"families": ("logistic",), "kl_scale": 1.0},               # KL is the divergence of sigmoid(z), not sigmoid(2z)
    {"families": ("triangular",), "divergences": {"triangular": _euclid}},
])
def test_p1_prox_solver_refutes_a_wrong_divergence(premise):
    _refuted(lat.check_p1_prox_solver(_ctx(), **premise))


@pytest.mark.parametrize("premise", [
    {"noises": ("logistic",), "divergence": _euclid},          # wrong mirror map (projected SGD)
    {"noises": ("logistic",), "smd_step_factor": 1.0},         # wrong rate (ignores the +-1 factor)
    {"noises": ("triangular",), "clip_latent": False},         # latent weights leave the support
])
def test_p1_latent_sgd_vs_smd_refutes_false_premises(premise):
    _refuted(lat.check_p1_latent_vs_smd(_ctx(), steps=15, **premise))


# ---------------------------------------------------------------- SBN-P2

_WRONG_DECAY = lat._ETA_T - lat._EPS * (lat._G + 2 * lat._LAM * lat._ETA_T)


@pytest.mark.parametrize("premise", [{"target": lat.EQ58}, {"kl_scale": sympy.Rational(1, 2)}])
def test_p2_symbolic_refutes_58_as_the_minimizer_or_a_wrong_divergence(premise):
    _refuted(lat.check_p2_symbolic(_ctx(), **premise))


@pytest.mark.parametrize("premise", [{"drop_factor": True}, {"kl_scale": 0.5}])
def test_p2_cvxpy_refutes_58_or_a_wrong_divergence(premise):
    _refuted(lat.check_p2_cvxpy(_ctx(), **premise))


@pytest.mark.parametrize("check", [lat.check_p2_eq58_symbolic, lat.check_p2_eq58_smt])
def test_p2_rescaled_step_refutes_a_wrong_decay(check):
    _refuted(check(_ctx(), candidate=_WRONG_DECAY))


# ---------------------------------------------------------------- SBN-INIT


def test_init_symbolic_refutes_unscaled_logistic():
    _refuted(prx.check_init_symbolic(_ctx(), families={"logistic": lat.logistic_k_family(1)}, names=("logistic",)))


@pytest.mark.parametrize("check", [prx.check_init_alg1_numeric, prx.check_init_montecarlo])
def test_init_numeric_checks_refute_unscaled_logistic(check):
    _refuted(check(_ctx(), noises={"logistic": lat.LogisticK(1)}, names=("logistic",)))


def test_init_printed_check_passes_the_reconstructed_value():
    assert prx.check_init_printed(_ctx(), printed_fprime0=sympy.Rational(1, 2)).verdict is Verdict.PROVED


# ---------------------------------------------------------------- SBN-PROXY

_TRI1 = prx.scaled_triangular_family(1)  # triangular on [-1, 1]: 2F'(0) = 2, 2F - 1 = ApproxSign(a)


@pytest.mark.parametrize("check", [prx.check_proxy_forward_symbolic, prx.check_proxy_backward_symbolic])
def test_proxy_symbolic_refutes_a_wrong_density_scale(check):
    _refuted(check(_ctx(), families={"triangular": _TRI1}))


def test_proxy_montecarlo_refutes_unscaled_logistic():
    _refuted(prx.check_proxy_montecarlo(_ctx(), noises={"logistic": lat.LogisticK(1)}, samples=20_000))


def test_proxy_backward_numeric_refutes_a_wrong_scale():
    _refuted(prx.check_proxy_backward_numeric(_ctx(), noises={"triangular": prx.ScaledNoise("triangular", 0.5)}))


def test_densities_symbolic_refutes_a_doubled_density():
    fam = NOISE_FAMILIES["triangular"]
    doubled = NoiseFamily("triangular-doubled", 2 * fam.pdf, fam.cdf, fam.icdf)
    _refuted(prx.check_densities_symbolic(_ctx(), families={"triangular": doubled}, names=("triangular",)))


def test_densities_quadrature_refutes_a_doubled_density():
    _refuted(prx.check_densities_quadrature(_ctx(), noises={"uniform": prx.ScaledNoise("uniform", 1, pdf_factor=2)},
                                            names=("uniform",)))


# ---------------------------------------------------------------- SBN-COR-B1


def test_corb1_symbolic_refutes_a_transform_that_is_not_the_cdf():
    _refuted(prx.check_corb1_symbolic(_ctx(), names=("logistic",), transforms={"logistic": lat.logistic_k_family(1)}))


def test_corb1_samples_refute_a_transform_that_is_not_the_cdf():
    _refuted(prx.check_corb1_samples(_ctx(), names=("logistic",), transforms={"logistic": lat.LogisticK(1)}))


# ---------------------------------------------------------------- issue 8: compared numbers, readings, precision


def test_pgd_symbolic_compares_the_library_eps_prime(monkeypatch):
    monkeypatch.setattr(mr, "pgd_eps_prime", lambda: 2 * sympy.Symbol("epsilon", real=True))
    out = _refuted(lat.check_pgd_symbolic(_ctx()))
    assert any(m["what"] == "theory.mirror.pgd_eps_prime" for m in out.counterexample["mismatches"])


def test_proxy_backward_is_compared_with_the_named_proxy_itself():
    # published backward right, forward proxy wrong (tanh(2a)): only the comparison with d/da of the named
    # forward proxy can notice
    wrong = prx.ProxyCase("logistic", "tanh(2a)", sympy.tanh(2 * prx.A), 1 - sympy.tanh(prx.A) ** 2)
    out = _refuted(prx.check_proxy_backward_symbolic(_ctx(), cases=(wrong,)))
    assert out.counterexample["2F' = d/da named proxy"] is False
    assert out.counterexample["2F' = published proxy derivative"] is True


def test_proxy_backward_is_compared_with_theory_proxy_backward(monkeypatch):
    monkeypatch.setattr(prx, "proxy_backward", lambda fam: 2 * fam.pdf.subs(prx.Z, prx.A) / 2)
    out = _refuted(prx.check_proxy_backward_symbolic(_ctx()))
    assert out.counterexample["2F' = theory.noise.proxy_backward"] is False


def test_approxsign_readings():
    _refuted(prx.check_approxsign_output_scaled(_ctx()))
    tri = (prx.PROXY_CASES[2],)
    assert prx.check_proxy_forward_symbolic(_ctx(), cases=tri).verdict is Verdict.PROVED


def test_printed_uniform_density_is_refuted_literally():
    out = _refuted(prx.check_printed_density(_ctx(), which="uniform"))
    assert out.counterexample["total_mass"] == "2"


@pytest.mark.parametrize("check, kwargs", [
    (prx.check_init_montecarlo, {"samples": 500}),
    (prx.check_proxy_montecarlo, {"samples": 300}),
    (prx.check_corb1_samples, {"samples": 300}),
])
def test_monte_carlo_methods_are_inconclusive_when_too_wide(check, kwargs):
    out = check(_ctx(), **kwargs)
    assert out.verdict is Verdict.INCONCLUSIVE, out.evidence.get("max_half_width_over_required")
    assert out.evidence["max_half_width_over_required"] > 1


def test_corb1_generic_pit_refutes_a_flat_cdf_and_the_01_reading_is_the_identity():
    out = _refuted(prx.check_corb1_pit_smt(_ctx(), monotone="non-decreasing"))
    assert out.counterexample["z"] != out.counterexample["w"]
    assert prx.check_corb1_pit_smt(_ctx()).verdict is Verdict.PROVED
    assert prx.check_corb1_printed_identity(_ctx(), encoding="01").verdict is Verdict.PROVED
    assert prx.check_corb1_printed_identity(_ctx()).counterexample["line5_factor"] == "2"


@pytest.mark.parametrize("premise", [{"mirror": "F"}, {"what": "mirror", "mirror": "F"},
                                     {"smd_rate": sympy.Integer(1)}])
def test_p1_generic_proof_refutes_a_wrong_mirror_map_or_rate(premise):
    _refuted(lat.check_p1_generic(_ctx(), **premise))


def test_identity_only_uniform_refutes_a_uniform_noise_with_the_wrong_scale():
    fam = NOISE_FAMILIES["uniform"]
    doubled = NoiseFamily("uniform-doubled", 2 * fam.pdf, fam.cdf, fam.icdf)
    out = _refuted(prx.check_identity_only_uniform(_ctx(), families={"uniform": doubled}))
    assert out.counterexample["noise"] == "uniform-doubled"
    assert prx.check_identity_only_uniform(_ctx()).verdict is Verdict.PROVED


def test_init_generic_refutes_the_literal_fprime0_2():
    out = _refuted(prx.check_init_generic(_ctx(), fprime0=2))
    assert "4" in out.counterexample["jacobian_at_0"]
    assert prx.check_init_generic(_ctx()).verdict is Verdict.PROVED


def test_sign_mean_generic_refutes_swapped_events():
    _refuted(prx.check_sign_mean_generic(_ctx(), plus_probability="1-F"))
    assert prx.check_sign_mean_generic(_ctx()).verdict is Verdict.PROVED
