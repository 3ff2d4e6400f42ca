"""A sympy-free cache of what ``stecheck derive NAME`` prints, so a warm call answers at once.

Mathematical object: none.  The derivation results themselves are cached by
:mod:`theory.derive_cache`; reading those back needs sympy, whose import alone
takes about a second.  This module stores the *rendered* output (the human
text or the ``--json`` text) under a key of: derivation name, arguments,
output format, the installed sympy version (read from package metadata, not by
importing sympy) and a fingerprint of the ``theory/`` sources (their sizes and
modification times), so editing a derivation invalidates it.  Like the result
cache it never changes an answer: anything unreadable is ignored and recomputed.
A file is read with a size limit, must carry the ``sha256`` of its text, and a
text holding control characters (other than newline and tab) is ignored, so a
file planted in the cache folder cannot write terminal escape sequences.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "load", "store"]

FORMAT = 2
MAX_BYTES = 16 * 1024 * 1024


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
    from stecheck.errors import StecheckError
    from stecheck.safeio import loads_json, read_bytes

    path, key = _path(name, args, fmt, directory)
    try:
        raw = read_bytes(path, limit=MAX_BYTES, what="cache file", fix="it is ignored")
        data = loads_json(raw.decode("utf-8"), what="cache file", fix="it is ignored", max_depth=8)
        if not isinstance(data, dict) or data.get("key") != json.loads(json.dumps(key)):
            return None
        text = data["text"]
        if not isinstance(text, str) or data.get("sha256") != _digest(text) or not _printable(text):
            return None
        return text
    except (OSError, ValueError, KeyError, TypeError, RecursionError, StecheckError):
        return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _printable(text: str) -> bool:
    return all(ch in "\n\t" or (ch >= " " and ch != "\x7f" and not 0x80 <= ord(ch) < 0xA0) for ch in text)


def store(name: str, args: dict, fmt: str, text: str, directory: Path | None = None) -> None:
    """Write the output text atomically; an unwritable directory is skipped silently."""
    path, key = _path(name, args, fmt, directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"key": key, "text": text, "sha256": _digest(text)}, fh)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass
