"""stecheck's claim registry, verdict logic, runner and reports.

Public API::

    from stecheck.proofs_check import default_registry, run_claims, write_reports
    run = run_claims(default_registry().select(["SBN-B2"]), seed=1, workers=0)
    write_reports(run, "reports")
"""

from .claim import Claim, ClaimResult, Figure, Kind, Method, MethodContext, MethodResult, Outcome, Series, Source, Tier
from stecheck.errors import InvalidArgument, StecheckError, UnknownClaim
from .registry import Registry, default_registry
from .results import SCHEMA_VERSION, RunResult
from .verdict import Verdict, combine, combine_part

__all__ = [
    "Claim", "ClaimResult", "Figure", "Kind", "Method", "MethodContext", "MethodResult", "Outcome",
    "Series", "Source", "Tier", "InvalidArgument", "StecheckError", "UnknownClaim", "Registry",
    "default_registry", "SCHEMA_VERSION", "RunResult", "Verdict", "combine", "combine_part",
    "run_claims", "write_reports",
]


def __getattr__(name):  # lazy: the runner imports numerics and dask only when used
    if name == "run_claims":
        from .runner import run_claims

        return run_claims
    if name == "write_reports":
        from .report import write_reports

        return write_reports
    raise AttributeError(name)
