"""Bounded, non-blocking reads of user-supplied files, and JSON parsed within limits.

Nothing here evaluates anything.  :func:`read_bytes` opens a path without
blocking (a FIFO never hangs the caller), refuses anything that is not a regular
file (folders, ``/dev/zero``, sockets) and files larger than ``limit`` bytes;
:func:`load_json` also refuses non-UTF-8 text, ``NaN``/``Infinity``, integers
of more than :data:`MAX_INT_DIGITS` digits and nesting deeper than
``max_depth``.  Every refusal is a one-line :class:`~stecheck.errors.MalformedFile`
(a usage error) naming the file and the limit.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from .errors import MalformedFile

__all__ = ["MAX_JSON_BYTES", "MAX_JSON_DEPTH", "MAX_INT_DIGITS", "read_bytes", "load_json", "shorten"]

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 64
MAX_INT_DIGITS = 100


def shorten(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters: error lines never echo unbounded input."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_bytes(path: str | os.PathLike[str], *, limit: int, what: str, fix: str) -> bytes:
    """The content of the regular file ``path`` (at most ``limit`` bytes), else :class:`MalformedFile`.

    ``what`` names the file in messages (e.g. ``"--expect file"``); ``fix`` says how to fix it.
    """
    shown = shorten(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise MalformedFile(f"{what} {shown} does not exist; {fix}") from None
    except IsADirectoryError:
        raise MalformedFile(f"{what} {shown} is a folder, not a file; {fix}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise MalformedFile(f"cannot open {what} {shown} ({reason}); {fix}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise MalformedFile(f"{what} {shown} is a folder, not a file; {fix}")
        if not stat.S_ISREG(info.st_mode):
            raise MalformedFile(f"{what} {shown} is not a regular file (a device, pipe or socket); {fix}")
        if info.st_size > limit:
            raise MalformedFile(f"{what} {shown} has {info.st_size} bytes, more than the limit of {limit}; {fix}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise MalformedFile(f"{what} {shown} has more than {limit} bytes; {fix}")
        return b"".join(chunks)
    except OSError as exc:
        raise MalformedFile(f"cannot read {what} {shown} ({exc.strerror or type(exc).__name__}); {fix}") from None
    finally:
        os.close(fd)


def _depth(value: Any, limit: int) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, d)
            if deepest > limit:
                return deepest
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return deepest


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer with {len(text.lstrip('-'))} digits (more than {MAX_INT_DIGITS})")
    return int(text)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def load_json(path: str | os.PathLike[str], *, what: str, fix: str, limit: int = MAX_JSON_BYTES,
              max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value in ``path``, read by :func:`read_bytes` and parsed within the module's limits."""
    data = read_bytes(path, limit=limit, what=what, fix=fix)
    shown = shorten(str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedFile(f"{what} {shown} is not UTF-8 text ({exc.reason} at byte {exc.start}); {fix}") from None
    return loads_json(text, what=f"{what} {shown}", fix=fix, max_depth=max_depth)


def loads_json(text: str, *, what: str, fix: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` within the module's limits; ``what`` names the source in messages."""
    try:
        value = json.loads(text, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise MalformedFile(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}); {fix}") from None
    except RecursionError:
        raise MalformedFile(f"{what} is nested more than {max_depth} levels deep; {fix}") from None
    except ValueError as exc:
        raise MalformedFile(f"{what} is not acceptable JSON ({str(exc)[:100]}); {fix}") from None
    if _depth(value, max_depth) > max_depth:
        raise MalformedFile(f"{what} is nested more than {max_depth} levels deep; {fix}")
    return value
