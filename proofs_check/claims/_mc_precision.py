"""The precision a Monte Carlo method needs before its interval may decide (issue 8, section 5).

A Monte Carlo interval that contains the claimed value supports the claim only if
it is narrow enough to have excluded the alternative the method exists to detect;
an interval wider than that says nothing and must give INCONCLUSIVE.  (An interval
that *excludes* the claimed value refutes at its stated confidence whatever its
width.)  Each method states its ``required`` half-width and why; :func:`gate`
compares the measured half-widths with it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gate"]


def gate(half_widths, required, reason: str) -> tuple[bool, dict]:
    """Whether every interval is narrow enough to decide, and the evidence that says so.

    ``half_widths`` and ``required`` broadcast elementwise (``required`` may be a
    scalar or one bound per interval).  Returns ``(decides, evidence)``; the
    evidence records the widest interval, the bound and ``reason`` (what size of
    deviation the bound is chosen to detect).
    """
    hw = np.asarray(half_widths, dtype=float)
    req = np.broadcast_to(np.asarray(required, dtype=float), hw.shape)
    ratio = hw / req
    k = int(np.argmax(ratio)) if ratio.size else 0
    decides = bool(ratio.size == 0 or np.all(ratio <= 1.0))
    return decides, {
        "required_half_width": float(req.flat[k]) if ratio.size else None,
        "max_half_width_over_required": float(ratio.flat[k]) if ratio.size else 0.0,
        "widest_interval_half_width": float(hw.flat[k]) if ratio.size else None,
        "precision_reason": reason,
        "precise_enough_to_decide": decides,
    }
