"""Nothing stecheck reads -- a loss on the command line, a derive-cache file -- is ever run as code.

The payloads below are the known ways around a text filter in front of ``eval``/``sympify``: look-alike
(fullwidth) letters that Python's parser NFKC-normalises, dunder names, attribute and subscript access,
lambdas, keyword tricks and exponent bombs.  Each must be refused with exit 2 and must run nothing: every
payload tries to create a canary file, and ``eval``/``exec``/``sympify``/``parse_expr`` are booby-trapped
while the parser runs.
"""

from __future__ import annotations

import builtins
import json
import time

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stecheck.errors import InvalidArgument
from stecheck.proofs_check.cli import EXIT_USAGE, main
from stecheck.theory import derive_cache, parsing, rendered_cache
from stecheck.theory.derivations import clear_memory_cache, derive, to_json
from stecheck.theory.result import from_json, parse_srepr


def _payloads(canary: str) -> list[str]:
    touch = f"__import__('os').system('touch {canary}')"
    return [
        touch,
        f"x1 + {touch}",
        f"ｓubs(x1) + __ｉmport__('os').system('touch {canary}')",
        "x1.subs(x1, 2)",
        "x1.__class__.__mro__[1].__subclasses__()",
        "x1.func",
        "(x1).__dict__",
        "x1[0]",
        "sin.__globals__",
        "(lambda: __import__('os'))()",
        "lambda x1: x1",
        f"[x for x in ().__class__.__base__.__subclasses__()] and {touch}",
        "__builtins__",
        "__x1__",
        "Symbol('x1')",
        "eval('x1')",
        "exec('x1=1')",
        "getattr(x1, 'subs')",
        f"sin(x1, **{{'evaluate': {touch}}})",
        "x1 if __import__('os') else x1",
        "x1*9**9**9",
        "x1**(10**10)",
        "2**2**2**2**2*x1",
        "Ｓｙｍｂｏｌ('x1')",
        "x1 + ℯ",
        f"x1 + open('{canary}', 'w').close()",
        "x1 := 2",
        "x1; import os",
        "f'{x1}'",
    ]


@pytest.fixture
def trapped(monkeypatch):
    """Make every evaluating entry point raise while the test runs."""
    def boom(*args, **kwargs):
        raise AssertionError("an evaluating function was called on user text")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    monkeypatch.setattr(sympy, "sympify", boom)
    monkeypatch.setattr(sympy.parsing.sympy_parser, "parse_expr", boom)
    return boom


def test_known_payloads_are_refused_by_the_parser_and_run_nothing(tmp_path, trapped):
    canary = tmp_path / "canary"
    for payload in _payloads(str(canary)):
        start = time.perf_counter()
        with pytest.raises(InvalidArgument):
            parsing.parse_loss(payload)
        assert time.perf_counter() - start < 1.0, payload
    assert not canary.exists()


def test_known_payloads_exit_2_on_the_command_line_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STECHECK_CACHE_DIR", str(tmp_path / "cache"))
    canary = tmp_path / "canary"
    for payload in _payloads(str(canary)):
        code = main(["derive", "multilinear", "--expr", payload])
        out, err = capsys.readouterr()
        assert code == EXIT_USAGE, (payload, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in err and out == "", (payload, err)
    assert not canary.exists()


# ------------------------------------------------------------------ the derive cache


def _plant(path, derivation):
    data = json.loads(path.read_text())
    data["derivation"] = derivation
    data["sha256"] = derive_cache._digest(derivation)  # the attacker can compute the hash too
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("srepr", [
    "__import__('os').system('touch {canary}')",
    "Symbol('x').__class__",
    "Function('F')(__import__('os').system('touch {canary}'))",
    "Add(Symbol('x'), eval('1'))",
    "Symbol('x', **{{'real': True}})",
    "Integer(1).func(Integer(2))",
])
def test_a_planted_cache_file_is_a_miss_and_runs_nothing(tmp_path, monkeypatch, srepr):
    monkeypatch.setenv("STECHECK_CACHE_DIR", str(tmp_path / "cache"))
    canary = tmp_path / "canary"
    good = to_json(derive("ex1"))
    path = next(derive_cache.cache_dir().glob("ex1-*.json"))
    bad = json.loads(json.dumps(good))
    key = next(iter(bad["result"]))
    bad["result"][key]["srepr"] = srepr.format(canary=canary)
    _plant(path, bad)
    clear_memory_cache()
    assert to_json(derive("ex1")) == good  # recomputed
    assert not canary.exists()
    with pytest.raises(InvalidArgument):
        from_json(bad)


def test_a_cache_file_with_a_wrong_hash_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("STECHECK_CACHE_DIR", str(tmp_path / "cache"))
    good = to_json(derive("ex1"))
    path = next(derive_cache.cache_dir().glob("ex1-*.json"))
    data = json.loads(path.read_text())
    data["derivation"]["checks"] = ["forged"]
    path.write_text(json.dumps(data))
    assert derive_cache.load("ex1", (), derive_cache.cache_dir()) is None
    clear_memory_cache()
    assert to_json(derive("ex1")) == good


@pytest.mark.parametrize("content", [b"", b"{" * 100_000, b"[" * 50 + b"]" * 50, b"\xff\xfe", b'{"key": 1' + b"9" * 5000])
def test_damaged_cache_files_are_misses(tmp_path, content):
    path = derive_cache.cache_path("ex1", (), tmp_path)
    path.write_bytes(content)
    assert derive_cache.load("ex1", (), tmp_path) is None


def test_a_cache_entry_that_is_a_fifo_or_folder_does_not_hang(tmp_path):
    import os

    path = derive_cache.cache_path("ex1", (), tmp_path)
    os.mkfifo(path)
    start = time.perf_counter()
    assert derive_cache.load("ex1", (), tmp_path) is None
    path.unlink()
    path.mkdir()
    assert derive_cache.load("ex1", (), tmp_path) is None
    assert time.perf_counter() - start < 2


def test_a_planted_rendered_text_with_escape_sequences_is_ignored(tmp_path):
    rendered_cache.store("ex1", {"expr": None}, "json", "fine\n", tmp_path)
    path = next(tmp_path.glob("rendered-ex1-*.json"))
    assert rendered_cache.load("ex1", {"expr": None}, "json", tmp_path) == "fine\n"
    data = json.loads(path.read_text())
    data["text"] = "\x1b]0;owned\x07fine\n"
    data["sha256"] = rendered_cache._digest(data["text"])
    path.write_text(json.dumps(data))
    assert rendered_cache.load("ex1", {"expr": None}, "json", tmp_path) is None


def test_srepr_reader_round_trips_every_derivation():
    from stecheck.theory.derivations import list_derivations

    for d in list_derivations():
        res = derive(d.name)
        for expr in res.result.values():
            assert parse_srepr(sympy.srepr(expr)) == expr


# ------------------------------------------------------------------ property: the parser never runs code


_TOKENS = st.sampled_from([
    "x1", "x2", "x12", "w", "1", "0", "2.5", "1e308", "9", "+", "-", "*", "/", "**", "^", "(", ")", ",",
    "sin", "log", "exp", "Rational", "Min", "pi", "E", ".", "__", "_", "import", "os", "[", "]", "'", "lambda",
    ":", "ｓ", "ｕ", "getattr", "eval", "subs", "__class__", " ", "=", "nan", "oo", "I", "{", "}", ";", "\\",
])


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(_TOKENS, max_size=40).map("".join), st.text(max_size=80)))
def test_parser_never_evaluates_and_never_hangs(text):
    real = (builtins.eval, builtins.exec, sympy.sympify)

    def boom(*args, **kwargs):
        raise AssertionError("evaluating function called")

    builtins.eval = builtins.exec = sympy.sympify = boom
    try:
        start = time.perf_counter()
        try:
            expr, n = parsing.parse_loss(text)
        except InvalidArgument as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 1000
        else:
            assert isinstance(expr, sympy.Expr) and n >= 1
        assert time.perf_counter() - start < 1.5
    finally:
        builtins.eval, builtins.exec, sympy.sympify = real
