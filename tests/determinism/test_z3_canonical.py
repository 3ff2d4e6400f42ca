"""z3 evidence is canonical: the same obligation gives the same query, verdict and model whatever ran before.

Every obligation is decided twice in one process, in opposite orders, with
unrelated z3 work in the global context in between; the JSON evidence (all but
the seconds) must be identical.  A Dask worker runs many methods in one
process, so this is the property "same seed, same evidence, any worker count"
needs from z3.
"""

import json

import pytest
import sympy
import z3

from stecheck.theory import mirror
from stecheck.theory import obligations as ob


def _obligations():
    steps = [*ob.B5_STEPS, *ob.B7_STEPS]
    try:  # Prop. B.8's steps live in the claim module
        from stecheck.proofs_check.claims import sbn_ascent

        steps += list(sbn_ascent.B8_STEPS())
    except (ImportError, AttributeError):  # pragma: no cover - claim module being edited
        pass
    return [(s.name, s.check) for s in steps] + [
        (f"pgd-{k}", lambda k=k: mirror.pgd_equivalence(k)) for k in (2, 4)
    ]


def _canonical(res: ob.ObligationResult) -> str:
    d = res.to_json()
    d.pop("seconds")
    return json.dumps(d, sort_keys=True)


def _pollute():
    """Unrelated z3 work in the global context (as another claim's method would do in the same worker)."""
    x, y = z3.Reals("x y")
    s = z3.Solver()
    s.set("random_seed", 17)
    s.add(x * x + y * y == 2, x > y, y > 0)
    assert s.check() == z3.sat
    s.model()
    ob.prove_step("pollution", ["a", "b"], [sympy.Symbol("a", real=True) > 1],
                  sympy.Symbol("a", real=True) * sympy.Symbol("b", real=True) > 0)


def test_each_obligation_gives_identical_evidence_in_any_order():
    items = _obligations()
    assert len(items) >= 30
    first = {name: _canonical(check()) for name, check in items}
    _pollute()
    second = {}
    for name, check in reversed(items):
        second[name] = _canonical(check())
        _pollute()
    differ = sorted(n for n in first if first[n] != second[n])
    assert not differ, f"z3 evidence depends on what ran before: {differ}"


def test_counterexamples_are_sorted_and_exact():
    res = ob.get_step("B5-sufficiency-printed").check()
    assert res.verdict == "REFUTED"
    ce = res.to_json()["counterexample"]
    assert list(ce) == sorted(ce)
    assert all(isinstance(v, str) and "." not in v for v in ce.values())  # exact rationals p/q, no floats


def test_the_bound_is_a_resource_limit_not_a_clock():
    # a tiny budget makes z3 give up (UNKNOWN) deterministically, the same way every time
    step = ob.get_step("B5-(28)")
    verdicts = {step.check(timeout_ms=1).verdict for _ in range(2)}
    assert verdicts == {"UNKNOWN"}
    assert step.check().verdict == "PROVED"


@pytest.mark.parametrize("step", ["B7-sufficiency-printed", "B5-necessity-printed"])
def test_the_query_text_names_only_the_obligation_s_variables(step):
    obl = ob.get_step(step)
    _pollute()
    query = obl.check().query
    declared = {line.split()[1] for line in query.splitlines() if line.startswith("(declare-fun")}
    assert declared == {v.name for v in obl.variables}
