"""QSTE-POP and QSTE-LR end to end: each decides, with the verdict its evidence supports.

These verdicts are findings, not targets: if a method changes and a verdict
moves, the change must be explained (a bug fixed or a new counterexample).
"""

import pytest

from proofs_check import Verdict
from proofs_check.registry import default_registry
from proofs_check.runner import run_claims

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED

EXPECTED = {
    # id: (verdict as checked, verdict as printed)
    "QSTE-POP": (P, P),  # closed forms = textbook moments (sympy), MC and quadrature agree; relu sign proved
    "QSTE-LR": (P, P),   # schedules classified by sympy; 1/(t+1)^2 provably cannot reach w* (movement bound)
}


@pytest.fixture(scope="module")
def run():
    return run_claims(default_registry().select(list(EXPECTED)), seed=0, workers=0)


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_claim_verdicts(run, claim_id):
    res = _claim(run, claim_id)
    errors = [(m.name, m.error) for m in res.methods if m.verdict is Verdict.ERROR]
    assert not errors
    assert (res.verdict, res.verdict_as_printed) == EXPECTED[claim_id], [(m.name, m.verdict) for m in res.methods]
    assert not res.disagreements
    assert res.replay.startswith(f"stecheck run {claim_id} --seed 0")


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_every_part_has_two_methods_of_different_kinds(run, claim_id):
    res = _claim(run, claim_id)
    parts = {}
    for m in res.methods:
        parts.setdefault(m.part, set()).add(m.kind)
    assert all(len(kinds) >= 2 for kinds in parts.values()), parts


def test_pop_numbers(run):
    res = _claim(run, "QSTE-POP")
    by = {m.name: m for m in res.methods}
    mc = by["monte-carlo-closed-forms"].evidence
    assert mc["max_z"] < 3.5 and mc["family_confidence"] > 0.98
    assert by["sympy-vs-textbook-moments"].evidence["f (v* = v)"] == "theta*v_sq/(2*pi)"
    lo, hi = by["monte-carlo-sign"].evidence["instances"][0]["interval"]
    assert 0 < lo < hi
    ext = by["teacher-flip-montecarlo"].evidence["interval"]
    assert ext[1] < 0
    assert by["teacher-flip-symbolic"].evidence["B at (v, v*)"] == "-1"
    names = {f.name for m in res.methods for f in m.figures}
    assert {"inner-products", "teacher-flip"} <= names
    assert any("outside the papers' model" in m.part for m in res.methods)


def test_lr_numbers(run):
    res = _claim(run, "QSTE-LR")
    sim = next(m for m in res.methods if m.name == "ste-simulation").evidence
    assert sim["fisher_one_sided_p"] < 1e-3
    bound = next(m for m in res.methods if m.name == "movement-bound").evidence
    assert bound["movement bound (float)"] < 2**-0.5
