"""Runs ``stecheck`` invocations sent by the fuzz test, one per line, in this (sub)process.

Protocol: stdin gets one JSON list of arguments per line; for each, the CLI's ``main(argv)`` runs
with file descriptors 1 and 2 redirected to a temporary file, and one JSON line
``{"code": ..., "output": ...}`` is written to the original stdout.  The parent applies the
timeout (a hang kills this process) -- starting Python once instead of once per invocation keeps
a thousand invocations affordable.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile


def main() -> None:
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    from stecheck.proofs_check.cli import main as stecheck_main

    for line in sys.stdin:
        argv = json.loads(line)
        with tempfile.TemporaryFile() as capture:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = os.dup(1), os.dup(2)
            os.dup2(capture.fileno(), 1)
            os.dup2(capture.fileno(), 2)
            try:
                code = stecheck_main(argv)
            except BaseException as exc:  # noqa: BLE001 - anything escaping main is a finding
                import traceback

                traceback.print_exc()
                code = f"escaped: {type(exc).__name__}"
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
            capture.seek(0)
            output = capture.read(200_000).decode("utf-8", "replace")
        reply.write(json.dumps({"code": code, "output": output}) + "\n")


if __name__ == "__main__":
    main()
