"""Registry of symbolic derivations for ``stecheck derive NAME [--json]``.

Mathematical object: none of its own; each registered :class:`Derivation`
names the SBN paper equation it reproduces and its ``compute`` (from
:mod:`theory.catalog`) returns a :class:`DerivationResult`.

:func:`derive` is the cached entry point: a result is computed once per
process (``functools.lru_cache``) and stored on disk (:mod:`theory.derive_cache`)
under a key made of the derivation name, its arguments and the sympy version.
Registration is explicit (:func:`register`, duplicates refused); nothing is
computed at import time.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stecheck.errors import InvalidArgument, UnknownDerivation

from . import derive_cache
from .result import DerivationResult, from_json, to_json

__all__ = [
    "Derivation",
    "DerivationResult",
    "register",
    "list_derivations",
    "get_derivation",
    "derive",
    "clear_memory_cache",
    "to_json",
    "from_json",
]


@dataclass(frozen=True)
class Derivation:
    """A named derivation: ``compute(**params) -> DerivationResult``."""

    name: str
    title: str
    equation: str
    compute: Callable[..., DerivationResult]

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the keyword arguments ``compute`` accepts."""
        return tuple(inspect.signature(self.compute).parameters)


_REGISTRY: dict[str, Derivation] = {}


def register(derivation: Derivation) -> Derivation:
    """Add ``derivation`` to the registry; a name already taken raises ``InvalidArgument``."""
    if derivation.name in _REGISTRY:
        raise InvalidArgument(
            f"a derivation named {derivation.name!r} is already registered; choose another name."
        )
    _REGISTRY[derivation.name] = derivation
    return derivation


#: Modules that define derivations; each exposes ``DERIVATIONS``: a tuple of
#: ``(name, title, equation, compute)`` tuples.  Add a module here to register it.
CATALOG_MODULES = (
    "stecheck.theory.catalog",
    "stecheck.theory.population_catalog",
    "stecheck.theory.mirror_catalog",
    "stecheck.theory.gumbel_catalog",
)

for _module in CATALOG_MODULES:
    for _name, _title, _equation, _compute in importlib.import_module(_module).DERIVATIONS:
        register(Derivation(_name, _title, _equation, _compute))
del _module, _name, _title, _equation, _compute


def list_derivations() -> list[Derivation]:
    """All registered derivations, in registration order."""
    return list(_REGISTRY.values())


def get_derivation(name: str) -> Derivation:
    """The derivation called ``name``; unknown names raise ``UnknownDerivation`` with suggestions."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownDerivation(
            f"unknown derivation {name!r}.{hint} Known derivations: {', '.join(_REGISTRY)} "
            f"(list them with `stecheck derive --list`)."
        ) from None


def _normalize(derivation: Derivation, params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    sig = inspect.signature(derivation.compute)
    try:
        bound = sig.bind(**params)
    except TypeError:
        unknown = sorted(set(params) - set(sig.parameters))
        raise InvalidArgument(
            f"derivation {derivation.name!r} got unexpected argument(s) {unknown}; it accepts "
            f"{list(sig.parameters) or 'no arguments'}."
        ) from None
    bound.apply_defaults()
    items = tuple(sorted(bound.arguments.items()))
    try:
        hash(items)
    except TypeError:
        raise InvalidArgument(
            f"arguments of {derivation.name!r} must be plain values (str, int, None), got {params!r}."
        ) from None
    return items


@functools.lru_cache(maxsize=128)
def _derive_memo(name: str, params: tuple[tuple[str, Any], ...], directory: Path | None) -> DerivationResult:
    cached = derive_cache.load(name, params, directory)
    if cached is not None:
        return cached
    result = get_derivation(name).compute(**dict(params))
    derive_cache.store(result, params, directory)
    return result


def derive(name: str, /, *, use_cache: bool = True, cache_dir: str | Path | None = None, **params) -> DerivationResult:
    """Run derivation ``name`` with ``params``, memoized per process and cached on disk.

    ``use_cache=False`` recomputes and touches neither cache.  ``cache_dir``
    overrides the on-disk location (default: :func:`theory.derive_cache.cache_dir`).
    """
    derivation = get_derivation(name)
    items = _normalize(derivation, params)
    if not use_cache:
        return derivation.compute(**dict(items))
    directory = Path(cache_dir) if cache_dir is not None else derive_cache.cache_dir()
    return _derive_memo(name, items, directory)


def clear_memory_cache() -> None:
    """Forget the per-process results (the on-disk cache is untouched)."""
    _derive_memo.cache_clear()
