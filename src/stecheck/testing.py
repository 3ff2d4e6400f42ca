"""``stecheck.testing``: property tests for your own estimators (see :mod:`stecheck.proofs_check.testing`)."""

from stecheck.proofs_check.testing import *  # noqa: F401,F403
from stecheck.proofs_check.testing import __all__  # noqa: F401
