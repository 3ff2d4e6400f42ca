"""stecheck: a formal-verification-aided numeric checker for straight-through-estimator theory.

The package has three layers, read bottom-up (each imports only from the ones before it):

* ``stecheck.errors`` -- the one exception tree (:class:`StecheckError`, :class:`InvalidArgument`, ...);
* ``stecheck.theory`` -- sympy derivations, z3 proof obligations, cvxpy constructions;
* ``stecheck.numerics`` -- exact enumeration, certified quadrature, Monte Carlo, Dask;
* ``stecheck.proofs_check`` -- claims, verdicts, the runner, reports, CLI and pytest plugin.

The public API is what this module exports (``__all__``)::

    import stecheck
    run = stecheck.run(["SBN-B2"], seed=1, workers=0)   # a RunResult
    print(run.claims[0].verdict)
    stecheck.write_reports(run, "reports")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from .errors import InvalidArgument, MalformedFile, StecheckError, UnknownClaim

try:
    __version__ = _version("stecheck")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "run",
    "check",
    "write_reports",
    "default_registry",
    "testing",
    "Claim",
    "ClaimResult",
    "MethodResult",
    "RunResult",
    "Verdict",
    "StecheckError",
    "InvalidArgument",
    "MalformedFile",
    "UnknownClaim",
]

_LAZY = {
    "default_registry": ("stecheck.proofs_check.registry", "default_registry"),
    "write_reports": ("stecheck.proofs_check.report", "write_reports"),
    "Claim": ("stecheck.proofs_check.claim", "Claim"),
    "ClaimResult": ("stecheck.proofs_check.claim", "ClaimResult"),
    "MethodResult": ("stecheck.proofs_check.claim", "MethodResult"),
    "RunResult": ("stecheck.proofs_check.results", "RunResult"),
    "Verdict": ("stecheck.proofs_check.verdict", "Verdict"),
}


def __getattr__(name: str):  # lazy: importing stecheck must not import sympy, dask or z3
    if name == "testing":
        import importlib

        return importlib.import_module("stecheck.proofs_check.testing")
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'stecheck' has no attribute {name!r}")


def run(claim_ids=None, *, seed: int = 0, tier: str = "quick", workers=0, scheduler=None, client=None):
    """Check claims and return a :class:`RunResult` (the Python form of ``stecheck run``).

    ``claim_ids``: ids from ``stecheck list`` (default: all).  ``workers=0`` runs in this
    process; ``workers=N`` on an embedded local Dask cluster; ``workers=None`` on the
    scheduler of Dask's configuration (``DASK_SCHEDULER_ADDRESS``) if one is set, else a local
    cluster; ``scheduler`` is the address of an existing cluster; ``client`` an open
    ``distributed.Client`` you already hold (e.g. of a ``dask_jobqueue.SLURMCluster``), used
    and left open.  A closed client is refused with one line (:class:`InvalidArgument`).
    """
    from .proofs_check.registry import default_registry as _registry
    from .proofs_check.runner import run_claims

    if client is not None:
        if workers not in (0, None) or scheduler is not None:
            raise InvalidArgument("give one of client=, scheduler= or workers=, not several")
        workers = None
    claims = _registry().select(claim_ids) if claim_ids else list(_registry())
    return run_claims(claims, seed=seed, tier=tier, workers=workers, scheduler=scheduler, client=client)


def check(claim_id: str, *, seed: int = 0, tier: str = "quick"):
    """Check one claim in this process and return its :class:`ClaimResult`."""
    return run([claim_id], seed=seed, tier=tier, workers=0).claims[0]
