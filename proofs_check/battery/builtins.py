"""stecheck's own estimators (:mod:`numerics.estimators`) as battery specs, with their tags and ranges.

Each is a module-level :class:`EstimatorSpec`, so a replay line can name it as
``stecheck.proofs_check.battery.builtins:<name>``.  The tags state what the
paper says about each; the one known failure declared here is the
deterministic ST's bias (it is an ST of Sec. 2.2 V, not Alg. 1); the expected
outcomes of all of them are pinned in ``tests/properties``.
"""

from __future__ import annotations

from stecheck.numerics.estimators import estimate_batch

from .estimator import EstimatorSpec

__all__ = ["BUILTINS", "st", "identity_st", "deterministic_st", "local_expectations", "arm", "reinforce",
           "gumbel_softmax", "st_gumbel_softmax"]


class _Builtin:
    """``fn(loss, a, noise, rng, size[, tau])`` calling :func:`numerics.estimators.estimate_batch` (picklable)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, loss, a, noise, rng, size, **params):
        return estimate_batch(self.name, loss, a, noise, rng, size, **params)

    def __repr__(self):
        return f"builtin({self.name!r})"


def _spec(name, tags, bound, noises=None, xfail=None):
    return EstimatorSpec(fn=_Builtin(name), name=name, tags=frozenset(tags), bound=bound, noises=noises,
                         xfail=xfail or {}, ref=f"stecheck.proofs_check.battery.builtins:{name}")


st = _spec("st", ["st"], "st")
identity_st = _spec("identity_st", ["st"], "identity")
deterministic_st = _spec("deterministic_st", ["st", "deterministic"], "st", xfail={
    "unbiased_multilinear": "evaluated at x* = sign(a), not at a sample: biased even for multilinear L (Sec. 2.2 V)"})
local_expectations = _spec("local_expectations", ["unbiased"], "local_expectations")
arm = _spec("arm", ["unbiased"], "arm")
reinforce = _spec("reinforce", ["unbiased"], "score")
gumbel_softmax = _spec("gumbel_softmax", ["relaxation"], "relaxation", noises=("logistic",))
st_gumbel_softmax = _spec("st_gumbel_softmax", ["relaxation"], "relaxation", noises=("logistic",))

#: name -> spec
BUILTINS = {s.name: s for s in (st, identity_st, deterministic_st, local_expectations, arm, reinforce,
                                gumbel_softmax, st_gumbel_softmax)}
