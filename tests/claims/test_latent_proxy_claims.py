"""SBN-PGD, SBN-P1, SBN-P2, SBN-INIT, SBN-PROXY, SBN-COR-B1: the measured numbers, discrepancies and figures behind their verdicts.

Verdicts are pinned in test_pinned_verdicts.py.
"""


from stecheck.proofs_check import Verdict

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


def test_key_numbers(run):
    pgd = _claim(run, "SBN-PGD")
    sym = next(m for m in pgd.methods if m.name == "sympy-derive-eps-prime")
    assert sym.evidence["derived_eps_prime"] == "4*epsilon"
    p2 = _claim(run, "SBN-P2")
    assert any("eps/(1 - eps lambda)" in d for d in p2.discrepancies)
    assert any("log(2)" in d for d in p2.discrepancies)
    crit = next(m for m in p2.methods if m.name == "sympy-critical-point")
    assert crit.evidence["sigmoid(2z)_scaling_latent_decay"] == "2*lambda"
    p1 = _claim(run, "SBN-P1")
    mm = next(m for m in p1.methods if m.name == "sympy-mirror-maps")
    assert [r["D_Phi / KL"] for r in mm.evidence["instances"] if "D_Phi / KL" in r] == ["1/2", "1"]
    proxy = _claim(run, "SBN-PROXY")
    assert any("R**2/4 + 1" in d for d in proxy.discrepancies)
    init = _claim(run, "SBN-INIT")
    assert any("4 I" in d for d in init.discrepancies)
    cor = _claim(run, "SBN-COR-B1")
    assert any("2G' = 2" in d for d in cor.discrepancies)


def test_figures_are_produced(run):
    names = {(c.claim_id, f.name) for c in run.claims for m in c.methods for f in m.figures}
    assert {("SBN-PROXY", "fig-a1-forward"), ("SBN-PROXY", "fig-a1-backward"), ("SBN-PGD", "pgd-paths"),
            ("SBN-P1", "latent-vs-smd")} <= names


def test_issue8_numbers_are_compared(run):
    pgd = _claim(run, "SBN-PGD")
    sym = next(m for m in pgd.methods if m.name == "sympy-derive-eps-prime")
    assert sym.evidence["theory.mirror.pgd_eps_prime"] == sym.evidence["derived_eps_prime"] == "4*epsilon"
    proxy = _claim(run, "SBN-PROXY")
    back = next(m for m in proxy.methods if m.name == "sympy-backward")
    for r in back.evidence["instances"]:
        assert r["2F' = d/da named proxy"] and r["2F' = published proxy derivative"]
        assert r["2F' = theory.noise.proxy_backward"] and r["2F'(0)"] == "1"
    p1 = _claim(run, "SBN-P1")
    step = next(m for m in p1.methods if m.name == "sympy-generic-step")
    assert step.evidence["stationarity_at_latent_step"] == "0" and step.evidence["smd_rate"] == "epsilon/2"


def test_issue8_categories(run):
    cats = {c: {f.category.value for f in _claim(run, c).findings} for c in ("SBN-INIT", "SBN-PROXY", "SBN-P1",
                                                                               "SBN-COR-B1", "SBN-P2")}
    assert "misprint" in cats["SBN-INIT"] and "misprint" in cats["SBN-PROXY"]
    assert "convention" in cats["SBN-P1"] and "convention" in cats["SBN-COR-B1"]
    assert "imprecision" in cats["SBN-P2"]
    assert not any("error" in c for c in cats.values())
