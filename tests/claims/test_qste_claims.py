"""QSTE-POP and QSTE-LR: the measured numbers, discrepancies and figures behind their verdicts.

Verdicts are pinned in test_pinned_verdicts.py.
"""


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


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
