"""Plant an error in a function of theory/ or numerics/ for the duration of a ``with`` block.

:func:`planted` rewrites one fragment of a function's source (exactly one
occurrence, so the mutant is the one intended), compiles it in the function's
own module namespace and swaps the function's ``__code__``: every caller sees
the mutant, including those that imported the function by name or captured it
in a registry.  On exit the original code is restored.  Every ``lru_cache`` in
the stecheck package is cleared on entry and exit, so no result computed
before the mutation hides it (and none computed under it leaks out); the
on-disk derivation caches must be pointed at an empty directory by the caller
(``STECHECK_CACHE_DIR``).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import textwrap
import types


def _unwrap(fn):
    while True:
        if isinstance(fn, (staticmethod, classmethod)):
            fn = fn.__func__
        elif isinstance(fn, property):
            fn = fn.fget
        elif hasattr(fn, "__wrapped__"):
            fn = fn.__wrapped__
        else:
            return fn


def clear_caches() -> None:
    """Clear every ``functools.lru_cache`` of the stecheck modules loaded."""
    for name, module in list(sys.modules.items()):
        if not name.startswith("stecheck") or module is None:
            continue
        for value in list(vars(module).values()):
            targets = [value]
            if isinstance(value, type):
                targets += list(vars(value).values())
            for t in targets:
                if isinstance(t, (staticmethod, classmethod)):
                    t = t.__func__
                if isinstance(t, functools._lru_cache_wrapper):
                    t.cache_clear()


def _find_code(code: types.CodeType, name: str) -> types.CodeType:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_name == name:
                return const
            with contextlib.suppress(LookupError):
                return _find_code(const, name)
    raise LookupError(name)


def mutated_code(fn, *replacements: tuple[str, str]) -> types.CodeType:
    """``fn``'s code with, for each ``(old, new)``, the single occurrence of ``old`` in its source replaced."""
    fn = _unwrap(fn)
    src = textwrap.dedent(inspect.getsource(fn))
    for old, new in replacements:
        count = src.count(old)
        if count != 1:
            raise AssertionError(f"{fn.__qualname__}: expected one occurrence of {old!r}, found {count}")
        src = src.replace(old, new)
    module = compile(src, inspect.getsourcefile(fn), "exec")
    code = _find_code(module, fn.__name__)
    if code.co_freevars != fn.__code__.co_freevars:
        raise AssertionError(f"{fn.__qualname__}: the mutant changes the closure; cannot plant it")
    return code


@contextlib.contextmanager
def planted(*changes):
    """``with planted((fn, old, new), ...):`` -- run the block with each ``fn``'s source fragment replaced."""
    by_fn: dict = {}
    for fn, old, new in changes:
        by_fn.setdefault(_unwrap(fn), []).append((old, new))
    fns = list(by_fn)
    codes = [mutated_code(fn, *reps) for fn, reps in by_fn.items()]
    saved = [fn.__code__ for fn in fns]
    clear_caches()
    try:
        for fn, code in zip(fns, codes):
            fn.__code__ = code
        yield
    finally:
        for fn, code in zip(fns, saved):
            fn.__code__ = code
        clear_caches()
