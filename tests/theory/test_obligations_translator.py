"""The sympy-to-z3 translator of theory.obligations is checked against sympy before the first proof of a process."""

import pytest
import sympy

from stecheck.errors import SelfCheckFailed
from stecheck.theory import obligations as ob


def test_the_translator_agrees_with_sympy_on_every_construct_it_encodes():
    assert ob._translator_selftest() == []


@pytest.mark.parametrize("construct", [sympy.Abs, sympy.Pow, sympy.Min])
def test_a_translator_that_gets_one_construct_wrong_is_caught(monkeypatch, construct):
    orig = ob._Translator.__call__

    def broken(self, e):
        out = orig(self, e)
        return -out if isinstance(e, construct) else out

    monkeypatch.setattr(ob._Translator, "__call__", broken)
    bad = ob._translator_selftest()
    assert bad and all("sympy" in b and "z3" in b for b in bad)


def test_no_proof_is_attempted_with_a_translator_that_fails_its_selftest(monkeypatch):
    monkeypatch.setattr(ob._check_translator, "passed", False)
    monkeypatch.setattr(ob._check_translator, "failures", lambda: ["Abs(x) at ('-1',): sympy 1, z3 -1"])
    with pytest.raises(SelfCheckFailed, match="translator disagrees with sympy: Abs"):
        ob.prove_step("t", ["x"], [], sympy.Symbol("x", real=True) ** 2 >= 0)
