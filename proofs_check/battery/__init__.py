"""The estimator battery: named property checks of the paper's propositions for any STE estimator.

See :mod:`.api` (front ends), :mod:`.checks` (the checks), :mod:`.core` (sound
intervals and ranges), :mod:`.estimator` (the contract and tags) and
:mod:`.strategies` (Hypothesis strategies).
"""

from .api import (
    FAILED_STATUSES,
    PROFILES,
    CheckRecord,
    check_estimator,
    iter_checks,
    parametrize_with_checks,
    register_hypothesis_profiles,
    replay_check,
    run_check,
    set_default_profile,
)
from .checks import CHECKS, CheckFailure, Outcome, get_check
from .core import BOUNDS, DEFAULT_ALPHA, EstimatorContractError, Problem
from .estimator import TAGS, EstimatorSpec, as_spec, estimator, load_estimator
from .strategies import LossSpec

__all__ = [
    "FAILED_STATUSES", "PROFILES", "CheckRecord", "check_estimator", "iter_checks", "parametrize_with_checks",
    "register_hypothesis_profiles", "replay_check", "run_check", "set_default_profile", "CHECKS", "CheckFailure",
    "Outcome", "get_check", "BOUNDS", "DEFAULT_ALPHA", "EstimatorContractError", "Problem", "TAGS",
    "EstimatorSpec", "as_spec", "estimator", "load_estimator", "LossSpec",
]
