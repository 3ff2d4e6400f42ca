"""A sympy-free cache of what ``stecheck derive NAME`` prints, so a warm call answers at once.

Mathematical object: none.  The derivation results themselves are cached by
:mod:`theory.derive_cache`; reading those back needs sympy, whose import alone
takes about a second.  This module stores the *rendered* output (the human
text or the ``--json`` text) under a key of: derivation name, arguments,
output format, the installed sympy version (read from package metadata, not by
importing sympy) and a fingerprint of the ``theory/`` sources (their sizes and
modification times), so editing a derivation invalidates it.  Like the result
cache it never changes an answer: anything unreadable is ignored and recomputed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "load", "store"]

FORMAT = 1


def cache_dir() -> Path:
    """``$STECHECK_CACHE_DIR/derive/`` if that variable is set, else ``~/.cache/stecheck/derive/``."""
    root = os.environ.get("STECHECK_CACHE_DIR")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "stecheck"
    return base / "derive"


def _sources_fingerprint() -> str:
    here = Path(__file__).resolve().parent
    stats = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in here.glob("*.py"))
    return hashlib.sha256(repr(stats).encode()).hexdigest()[:16]


def _path(name: str, args: dict, fmt: str, directory: Path | None) -> tuple[Path, dict]:
    try:
        sympy_version = importlib.metadata.version("sympy")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - sympy is a dependency
        sympy_version = "unknown"
    key = {"name": name, "args": sorted(args.items()), "format": fmt, "sympy": sympy_version,
           "sources": _sources_fingerprint(), "cache_format": FORMAT}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return (directory or cache_dir()) / f"rendered-{safe}-{digest}.json", key


def load(name: str, args: dict, fmt: str, directory: Path | None = None) -> str | None:
    """The cached output text, or ``None``."""
    path, key = _path(name, args, fmt, directory)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data["text"] if data.get("key") == json.loads(json.dumps(key)) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(name: str, args: dict, fmt: str, text: str, directory: Path | None = None) -> None:
    """Write the output text atomically; an unwritable directory is skipped silently."""
    path, key = _path(name, args, fmt, directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"key": key, "text": text}, fh)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass
