"""The estimator contract and its tags.

Contract.  An estimator is a callable ``fn(loss, a, noise, rng, size)`` (plus
``tau=`` for a ``relaxation``) that returns ``size`` iid single-sample
estimates of ``g = d E_{x ~ p(x; a)}[L(x)] / da`` as a float array of shape
``(size, n)``, where (paper eq. (1)) ``x_i = sign(a_i - z_i)``, ``z_i`` iid
from ``noise``:

* ``loss`` -- an object with ``value(X (B, n)) -> (B,)``, ``grad(X (B, n)) -> (B, n)``
  and ``n`` (:mod:`numerics.losses`); states are in ``{-1, +1}^n``;
* ``a`` -- the pre-activations, a float64 vector of length ``n``;
* ``noise`` -- a :class:`numerics.noise.Noise`: ``cdf`` (``F``, so ``p_i = F(a_i)``),
  ``sf`` (``1 - F``), ``pdf`` (``F'``), ``icdf`` and ``sample(rng, shape)``;
  draw noise with ``noise.sample(rng, ...)`` (the invariance check of Prop. B.1
  then couples your samples exactly);
* ``rng`` -- a :class:`numpy.random.Generator`: the only source of randomness
  (the same generator state must give the same output);
* ``size`` -- the number of rows (the battery asks for 1 to 4096 at a time).

Tags say what the estimator claims, and so which checks apply:

``unbiased``       ``E[e] = g`` for every loss (ARM, REINFORCE-LOO, local expectations).
``st``             a straight-through estimator of Alg. 1's kind: unbiased for multilinear
                   losses (Prop. B.2), exact with zero variance for linear ones (Sec. 2.2 I),
                   an ascent direction under Prop. B.5's condition.
``relaxation``     takes a temperature ``tau=`` (Gumbel-Softmax type, App. E).
``deterministic``  draws nothing: every row equals the same vector.
``invariant``      the gradient transforms covariantly under a strictly increasing change of
                   noise and pre-activation (Prop. B.1); implied by ``st`` and ``unbiased``.

``bound`` is an almost-sure bound on ``|e_i|`` (a name of :data:`core.BOUNDS`, a number or
``f(problem)``); it makes the statistical checks sound (see :mod:`core`).  ``xfail`` maps a
check name to the reason it is known to fail (a reason is required).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument
from stecheck.numerics.noise import NOISES

from .core import EstimatorContractError

__all__ = ["TAGS", "EstimatorSpec", "estimator", "as_spec", "load_estimator"]

#: The tags an estimator may carry.
TAGS = ("unbiased", "st", "relaxation", "deterministic", "invariant")

_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class EstimatorSpec:
    """An estimator with its tags, declared range, supported noises and known failures."""

    fn: Callable[..., Any]
    name: str
    tags: frozenset = frozenset()
    bound: Any = None
    noises: tuple[str, ...] | None = None
    xfail: Mapping[str, str] = field(default_factory=dict)
    taus: tuple[float, ...] = (1.0, 0.5)
    ref: str | None = None
    bad_tags: tuple[str, ...] = ()

    def has(self, *tags: str) -> bool:
        return any(t in self.tags for t in tags)

    @property
    def noise_names(self) -> tuple[str, ...]:
        return tuple(self.noises) if self.noises else tuple(NOISES)

    def call(self, loss, a, noise, rng, size, *, tau=None, check: str = "") -> np.ndarray:
        """Call the estimator and validate its output (one clear line on a broken contract)."""
        kwargs = {"tau": tau} if self.has("relaxation") and tau is not None else {}
        out = self.fn(loss, a, noise, rng, size, **kwargs)
        n = np.asarray(a).size
        where = f"estimator {self.name!r} in check {check!r}" if check else f"estimator {self.name!r}"
        if not isinstance(out, np.ndarray):
            if hasattr(out, "detach") and hasattr(out, "numpy"):
                fix = "return out.detach().cpu().double().numpy() (a torch tensor is not a numpy array)"
            else:
                fix = "return a numpy array of shape (size, n)"
            raise EstimatorContractError(f"{where} returned {type(out).__name__}, not a numpy array; {fix}.")
        if out.shape != (size, n):
            raise EstimatorContractError(
                f"{where} returned shape {out.shape} for size={size}, n={n}; return one row of n gradient "
                f"estimates per sample, shape ({size}, {n}).")
        if out.dtype.kind != "f":
            raise EstimatorContractError(
                f"{where} returned dtype {out.dtype}; return floating-point estimates (np.float64).")
        bad = ~np.isfinite(out)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise EstimatorContractError(
                f"{where} returned a non-finite estimate {out[r, c]!r} (row {r}, coordinate {c}) at "
                f"a={np.asarray(a).tolist()}, noise={getattr(noise, 'name', noise)!r}; every estimate must be finite "
                "(guard divisions by p, 1 - p or F'(a)).")
        return np.asarray(out, dtype=np.float64)


def _validate_xfail(xfail: Any) -> dict[str, str]:
    if xfail is None:
        return {}
    if not isinstance(xfail, Mapping):
        raise InvalidArgument(f"xfail={xfail!r}; expected a dict {{check name: reason}}.")
    out = {}
    for k, v in xfail.items():
        if not isinstance(v, str) or not v.strip():
            raise InvalidArgument(f"xfail[{k!r}] has no reason; a known failure needs a reason string.")
        out[str(k)] = v
    return out


def estimator(*, tags: Any = (), bound: Any = None, noises: Any = None, xfail: Any = None,
              taus: Any = (1.0, 0.5), name: str | None = None):
    """Decorator: declare an estimator's tags, range, noises and known failures for :func:`check_estimator`.

    ::

        @estimator(tags=["st"], bound="st")
        def my_st(loss, a, noise, rng, size):
            ...
    """
    if isinstance(tags, str):
        tags = (tags,)
    meta = {"tags": tuple(tags), "bound": bound, "noises": None if noises is None else tuple(noises),
            "xfail": _validate_xfail(xfail), "taus": tuple(float(t) for t in taus), "name": name}
    if meta["noises"] is not None:
        unknown = sorted(set(meta["noises"]) - set(NOISES))
        if unknown:
            raise InvalidArgument(f"unknown noise(s) {unknown}; valid names are {sorted(NOISES)}.")

    def wrap(fn):
        fn.__stecheck__ = meta
        return fn

    return wrap


def _ref_of(fn: Any) -> str | None:
    mod, qual = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not mod or not qual or "<" in qual or mod == "__main__":
        return None
    return f"{mod}:{qual}"


def as_spec(obj: Any, ref: str | None = None) -> EstimatorSpec:
    """An :class:`EstimatorSpec` from a spec, a decorated function or a plain callable (no tags)."""
    if isinstance(obj, EstimatorSpec):
        return obj if ref is None or obj.ref else replace(obj, ref=ref)
    if not callable(obj):
        raise InvalidArgument(
            f"{obj!r} is not an estimator; expected a callable fn(loss, a, noise, rng, size) -> (size, n).")
    meta = getattr(obj, "__stecheck__", {}) or {}
    tags = tuple(meta.get("tags", ()))
    bad = tuple(t for t in tags if t not in TAGS)
    name = meta.get("name") or getattr(obj, "__name__", None) or repr(obj)
    return EstimatorSpec(fn=obj, name=name, tags=frozenset(t for t in tags if t in TAGS), bound=meta.get("bound"),
                         noises=meta.get("noises"), xfail=dict(meta.get("xfail", {})),
                         taus=tuple(meta.get("taus", (1.0, 0.5))), ref=ref or _ref_of(obj), bad_tags=bad)


def load_estimator(ref: str) -> EstimatorSpec:
    """``"package.module:function"`` -> spec, by :func:`importlib.import_module` and ``getattr`` (nothing is evaluated)."""
    if not isinstance(ref, str) or not _REF.match(ref):
        raise InvalidArgument(
            f"{ref!r} is not MODULE:FUNCTION (dotted Python identifiers, e.g. mypkg.estimators:my_st).")
    mod_name, attr = ref.split(":")
    try:
        obj = importlib.import_module(mod_name)
    except Exception as exc:  # ImportError and any error raised while importing the module
        raise InvalidArgument(
            f"cannot import module {mod_name!r} ({type(exc).__name__}: {exc}); check the name and that it is on "
            "sys.path (run from the project root or pip install it).") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InvalidArgument(f"module {mod_name!r} has no attribute {attr!r}; check the function name.")
        obj = getattr(obj, part)
    if inspect.isclass(obj) and not isinstance(obj, EstimatorSpec):
        raise InvalidArgument(f"{ref} is a class; pass the estimator function (or an EstimatorSpec).")
    return as_spec(obj, ref=ref)
