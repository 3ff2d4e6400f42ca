"""On-disk cache of derivation results (``stecheck derive``).

Mathematical object: none; a store of :class:`theory.result.DerivationResult`
records in the JSON layout of :func:`theory.result.to_json`, one file per
(derivation name, arguments, sympy version, cache format).

Location: ``$STECHECK_CACHE_DIR/derive/`` if that variable is set, else
``~/.cache/stecheck/derive/``.  A file that cannot be read, parsed, or that
belongs to another key is ignored (the caller recomputes and overwrites it);
a directory that cannot be written is skipped silently: the cache never
changes a result, it only saves time.

A cache file is data, never code: it is read with a size limit (a FIFO or
device is not opened for blocking reads), its ``sha256`` over the canonical
JSON of the stored derivation must match, and the expressions are rebuilt by
the whitelisting reader of :func:`theory.result.parse_srepr` (no ``eval``, no
``sympify`` of text).  Anything unexpected is a cache miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import sympy

from stecheck.errors import StecheckError
from stecheck.safeio import loads_json, read_bytes

from .rendered_cache import cache_dir
from .result import DerivationResult, from_json, to_json

__all__ = ["CACHE_FORMAT", "cache_dir", "cache_key", "cache_path", "load", "store"]

#: Bump when the stored layout or any derivation's meaning changes.
CACHE_FORMAT = 2
#: Largest cache file read back (bytes).
MAX_CACHE_BYTES = 16 * 1024 * 1024


def cache_key(name: str, params: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The identity of a cached result: name, arguments, sympy version, format."""
    return {
        "name": name,
        "params": [[k, v] for k, v in params],
        "sympy": sympy.__version__,
        "format": CACHE_FORMAT,
    }


def cache_path(name: str, params: tuple[tuple[str, Any], ...], directory: Path | None = None) -> Path:
    """File holding the result for this key (a hash of :func:`cache_key`)."""
    key = json.dumps(cache_key(name, params), sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return (directory or cache_dir()) / f"{safe}-{digest}.json"


def load(name: str, params, directory: Path | None = None) -> DerivationResult | None:
    """The cached result, or ``None`` if absent, unreadable, corrupted or for another key."""
    path = cache_path(name, params, directory)
    try:
        raw = read_bytes(path, limit=MAX_CACHE_BYTES, what="cache file", fix="it is ignored")
        data = loads_json(raw.decode("utf-8"), what="cache file", fix="it is ignored", max_depth=16)
        if not isinstance(data, dict) or data.get("key") != cache_key(name, params):
            return None
        derivation = data["derivation"]
        if data.get("sha256") != _digest(derivation):
            return None
        result = from_json(derivation)
        return result if result.name == name else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, StecheckError):
        return None


def _digest(derivation: Any) -> str:
    """``sha256`` of the canonical JSON of a stored derivation (detects damaged or edited files)."""
    canonical = json.dumps(derivation, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def store(result: DerivationResult, params, directory: Path | None = None) -> Path | None:
    """Write ``result`` atomically; returns the path, or ``None`` if it could not be written."""
    path = cache_path(result.name, params, directory)
    derivation = to_json(result)
    payload = json.dumps({"key": cache_key(result.name, params), "derivation": derivation,
                          "sha256": _digest(derivation)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return None
    return path
