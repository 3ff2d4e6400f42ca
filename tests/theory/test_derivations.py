"""Tests of the `stecheck derive` registry, its JSON form and its caches."""

import json

import pytest
import sympy

from stecheck.errors import InvalidArgument, MalformedFile, NonFiniteValue, UnknownDerivation
from stecheck.theory import derive_cache
from stecheck.theory.catalog import DEFAULT_MULTILINEAR_LOSS
from stecheck.theory.derivations import (
    Derivation,
    DerivationResult,
    clear_memory_cache,
    derive,
    from_json,
    get_derivation,
    list_derivations,
    register,
    to_json,
)
from stecheck.theory.multilinear import binary_points

REQUIRED = {"multilinear", "quadratic-multilinear", "ex1", "ex2", "noise-proxies", "bernoulli-gradient"}


@pytest.fixture(scope="module")
def all_results():
    return {d.name: d.compute() for d in list_derivations()}


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("STECHECK_CACHE_DIR", str(tmp_path))
    clear_memory_cache()
    yield tmp_path / "derive"
    clear_memory_cache()


def test_registry_contents():
    names = [d.name for d in list_derivations()]
    assert REQUIRED <= set(names) and len(names) == len(set(names))
    for d in list_derivations():
        assert d.title and d.equation and callable(d.compute)
    assert get_derivation("multilinear").parameters == ("expr_text", "n")


def test_unknown_derivation_suggests_close_names():
    with pytest.raises(UnknownDerivation) as info:
        get_derivation("multilinar")
    assert "'multilinear'" in str(info.value)
    with pytest.raises(UnknownDerivation, match="ex1"):
        get_derivation("ex3")
    assert isinstance(info.value, InvalidArgument)


def test_duplicate_registration_refused():
    d = get_derivation("ex1")
    with pytest.raises(InvalidArgument, match="already registered"):
        register(Derivation(d.name, "again", d.equation, d.compute))


def test_every_result_is_complete_and_json_round_trips(all_results):
    for name, res in all_results.items():
        assert isinstance(res, DerivationResult) and res.name == name
        assert res.equation and res.result and res.checks
        assert all(isinstance(v, sympy.Basic) for v in res.result.values())
        data = to_json(res)
        assert set(data) == {"name", "equation", "result", "checks", "notes"}
        text = json.dumps(data)
        back = from_json(json.loads(text))
        assert back.result == res.result and back.checks == res.checks and back.notes == res.notes
        for key, entry in data["result"].items():
            assert set(entry) == {"srepr", "str"} and entry["str"] == str(res.result[key])


def test_multilinear_default_result_is_right(all_results):
    res = all_results["multilinear"]
    x1, x2 = sympy.symbols("x1 x2")
    L = sympy.sympify(DEFAULT_MULTILINEAR_LOSS)
    assert res.result["L"] == L
    f_L = sympy.lambdify((x1, x2), L)
    for key, enc in (("multilinear_pm1", "pm1"), ("multilinear_01", "01")):
        f = sympy.lambdify((x1, x2), res.result[key])
        for p in binary_points(2, enc):
            assert f(*p) == f_L(*p)
    assert any("not multilinear" in n for n in res.notes)


def test_multilinear_custom_expression_with_parameter():
    res = derive("multilinear", use_cache=False, expr_text="w*x1^2*x3 + sin(pi*x2/2)", n=4)
    x1, x2, x3, x4 = sympy.symbols("x1:5")
    w = sympy.Symbol("w")
    assert sympy.expand(res.result["multilinear_pm1"] - (w * x3 + x2)) == 0
    assert sympy.expand(res.result["multilinear_01"] - (w * x1 * x3 + x2)) == 0
    assert any("16 cube points" in c for c in res.checks)


def test_multilinear_bad_arguments():
    with pytest.raises(InvalidArgument, match="cannot parse"):
        derive("multilinear", use_cache=False, expr_text="x1 +* x2")
    with pytest.raises(InvalidArgument, match="cannot parse"):
        derive("multilinear", use_cache=False, expr_text="x1.__class__")
    with pytest.raises(InvalidArgument, match="n=1"):
        derive("multilinear", use_cache=False, expr_text="x1*x2", n=1)
    with pytest.raises(InvalidArgument, match="binary variable"):
        derive("multilinear", use_cache=False, expr_text="y + 1")
    with pytest.raises(InvalidArgument, match="unexpected argument"):
        derive("multilinear", use_cache=False, expr="x1")
    with pytest.raises(InvalidArgument, match="unexpected argument"):
        derive("ex1", use_cache=False, n=2)


def test_discrepancies_are_recorded(all_results):
    ex1 = all_results["ex1"]
    assert ex1.result["true_gradient"] == 0 and ex1.result["expected_loss"] == 1
    assert any("misprint" in n and "2L(a)-1" in n for n in ex1.notes)
    ex2 = all_results["ex2"]
    assert ex2.result["dL_dx_at_binary_points"] == 1 - 2 * sympy.pi
    assert ex2.result["printed_dL_dx"] == -1
    assert any("not -1" in n for n in ex2.notes)
    assert any("not a density" in n for n in all_results["noise-proxies"].notes)


def test_quadratic_and_bernoulli_results(all_results):
    q = all_results["quadratic-multilinear"].result
    assert q["difference"] == 0 and all(b == 0 for b in q["st_bias_eq20"])
    assert all(b != 0 for b in q["st_bias_L"])
    b = all_results["bernoulli-gradient"].result
    assert all(v == 0 for v in b["st_bias"]) and all(v != 0 for v in b["st_bias_nonmultilinear"])
    n = all_results["noise-proxies"].result
    assert all(n[f"{k}.backward_at_0"] == 1 for k in ("logistic", "uniform", "triangular", "gaussian"))


def test_memory_and_disk_cache(cache_env):
    first = derive("ex2")
    assert derive("ex2") is first  # per-process memo
    files = list(cache_env.glob("ex2-*.json"))
    assert len(files) == 1
    clear_memory_cache()
    again = derive("ex2")  # loaded from disk
    assert again is not first and to_json(again) == to_json(first)
    # same arguments spelled differently share one entry; different ones do not
    derive("multilinear")
    derive("multilinear", expr_text=None, n=None)
    derive("multilinear", expr_text="x1*x2")
    assert len(list(cache_env.glob("multilinear-*.json"))) == 2


def test_corrupted_cache_file_is_recomputed(cache_env):
    good = to_json(derive("ex1"))
    path = next(cache_env.glob("ex1-*.json"))
    for garbage in ("{not json", json.dumps({"key": "x"}), path.read_text().replace("Integer", "Intger", 1)):
        path.write_text(garbage)
        clear_memory_cache()
        assert to_json(derive("ex1")) == good
        assert from_json(json.loads(path.read_text())["derivation"]) is not None  # rewritten


def test_cache_key_includes_sympy_version(cache_env, monkeypatch):
    params = (("expr_text", None), ("n", None))
    before = derive_cache.cache_path("multilinear", params)
    monkeypatch.setattr(sympy, "__version__", "0.0.0-test")
    assert derive_cache.cache_path("multilinear", params) != before


def test_no_cache_writes_nothing(cache_env):
    derive("ex1", use_cache=False)
    assert not cache_env.exists() or not list(cache_env.iterdir())


def test_from_json_rejects_malformed():
    with pytest.raises(MalformedFile):
        from_json({"name": "x"})
    with pytest.raises(MalformedFile):
        from_json({"name": "x", "equation": "", "result": {"k": {"srepr": "Symbol(", "str": ""}}, "checks": [], "notes": []})


def test_multilinear_non_finite_losses():
    res = derive("multilinear", use_cache=False, expr_text="1/x1 + x2")
    x1, x2 = sympy.symbols("x1 x2")
    assert res.result["multilinear_pm1"] == x1 + x2 and "multilinear_01" not in res.result
    assert any("no {0,1}-encoding form" in n for n in res.notes)
    with pytest.raises(NonFiniteValue, match=r"x = \(-1,\)"):
        derive("multilinear", use_cache=False, expr_text="log(x1)")


def test_checks_report_numbers(all_results):
    checks = " ".join(all_results["multilinear"].checks)
    assert "max |L - multilinear form| over all 4 cube points (numpy) = " in checks
    assert "Monte Carlo" in " ".join(all_results["noise-proxies"].checks)
    assert "finite-difference" in " ".join(all_results["bernoulli-gradient"].checks)
