"""Monte Carlo means with confidence intervals, reproducible under any scheduling.

Mathematical object: the mean ``mu = E[Y]`` of a random vector ``Y in R^d``
(e.g. a single-sample gradient estimate of Alg. 1 / eq. (6) at ``x ~ p(x; a)``,
eq. (1)), estimated from ``N`` iid draws produced in chunks by
``fn_chunk(rng, size) -> (size, d)``.

Reproducibility.  Chunk ``i`` draws from ``make_rng(chunk_seed(seed_seq, i))``
(:mod:`numerics.seeding`), so its samples depend only on ``(seed_seq, i,
chunk_size)``.  Chunk statistics (:class:`RunningMoments`) are merged in
chunk-index order, whatever order ``map`` returns them in, so the builtin
``map``, a thread pool or Dask give bit-identical results on the same
platform (numpy build and CPU; ``fn_chunk`` itself may use BLAS kernels that
differ between CPUs).  A different ``chunk_size`` gives different streams.

Errors.  Each result carries an interval at a stated confidence level:

* :func:`clt_interval` -- ``mean +- z_{1-alpha/2} * s / sqrt(N)``: coverage
  ``-> confidence`` as ``N -> inf`` (CLT; asymptotic, not a finite-sample
  guarantee; needs finite variance).
* :func:`empirical_bernstein_interval` -- Maurer & Pontil (2009), Thm. 4,
  two-sided: for values in ``[lo, hi]`` with ``R = hi - lo``,
  ``|mean - mu| <= sqrt(2 V ln(4/alpha) / N) + 7 R ln(4/alpha) / (3 (N - 1))``
  with probability ``>= 1 - alpha`` for every ``N >= 2`` (``V`` the unbiased
  sample variance).

Both intervals are widened by the rounding bound of the mean,
``gamma_{N+2} * max|Y|`` (in-chunk sums of at most ``m - 1`` additions, Neumaier accumulation
across chunks; Higham Sec. 4), so a zero-variance quantity still gets an
interval that contains its exact mean.  ``simultaneous=True`` applies a
Bonferroni correction over the ``d`` coordinates (``alpha -> alpha/d``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special
from scipy.linalg.blas import dger as _dger

from stecheck.errors import InvalidArgument, NonFiniteValue
from stecheck.selftest import OncePerProcess

from ._compensated import compensated_selftest_failures, gamma, neumaier_add
from ._validation import as_confidence, as_int, check_finite_rows, short_repr
from .seeding import chunk_seed, make_rng

__all__ = [
    "RunningMoments",
    "clt_interval",
    "empirical_bernstein_interval",
    "MonteCarloResult",
    "Decision",
    "monte_carlo_mean",
    "monte_carlo_decide",
    "dask_map",
    "chunk_plan",
]

METHODS = ("clt", "empirical_bernstein")


@dataclass(frozen=True, eq=False)
class RunningMoments:
    """Per-coordinate count, mean and ``M2 = sum (y - mean)^2`` of ``d``-vectors.

    The sum is kept as a Neumaier pair ``(total, comp)``; ``M2`` is merged
    with Chan et al.'s formula.  :meth:`merge` is a pure function of its two
    arguments, so folding a sequence of chunk moments in a fixed order is
    bit-reproducible.  ``minimum``/``maximum`` are kept for range checks.
    """

    count: int
    total: np.ndarray
    comp: np.ndarray
    m2: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray

    @property
    def dim(self) -> int:
        return self.total.size

    @classmethod
    def empty(cls, d: int) -> RunningMoments:
        """No observations of a ``d``-vector (the identity of :meth:`merge`)."""
        d = as_int(d, "d", minimum=1)
        z = np.zeros(d)
        return cls(0, z, z, z, np.full(d, np.inf), np.full(d, -np.inf))

    @classmethod
    def from_samples(cls, samples: Any, *, who: str = "samples") -> RunningMoments:
        """Moments of the rows of ``samples`` (shape ``(size, d)``, finite; corrected two-pass ``M2``)."""
        Y = np.asarray(samples, dtype=np.float64)
        if Y.ndim != 2 or Y.shape[0] == 0 or Y.shape[1] == 0:
            raise InvalidArgument(
                f"{who} has shape {Y.shape}; expected a non-empty 2-D array (size, d) with one draw per row."
            )
        size = Y.shape[0]
        total = _column_sum(Y)
        if not np.isfinite(total).all():  # a NaN or inf anywhere makes its column sum non-finite
            check_finite_rows(Y, None, who=who, what="value")  # names the sample and coordinate
            raise NonFiniteValue(f"{who}: the column sums overflowed (|values| near 1.8e308); rescale the quantity.")
        dev = _wide_rows(_deviations(Y, total / size))
        sdev = _column_sum(dev, Y.shape[1])
        m2 = np.maximum(_fold(np.einsum("bj,bj->j", dev, dev), Y.shape[1]) - sdev * sdev / size, 0.0)
        del dev
        return cls(size, total, np.zeros_like(total), m2, _column_extremum(Y, np.minimum),
                   _column_extremum(Y, np.maximum))

    @property
    def mean(self) -> np.ndarray:
        if self.count == 0:
            raise InvalidArgument("RunningMoments has no observations; the mean is undefined. Merge some samples first.")
        return (self.total + self.comp) / self.count

    @property
    def variance(self) -> np.ndarray:
        """Unbiased sample variance (``ddof = 1``)."""
        if self.count < 2:
            raise InvalidArgument(f"count={self.count}: the sample variance needs at least 2 observations.")
        return self.m2 / (self.count - 1)

    @property
    def std_error(self) -> np.ndarray:
        return np.sqrt(self.variance / self.count)

    @property
    def rounding_bound(self) -> np.ndarray:
        """A-priori bound ``gamma_{N+2} max|Y|`` on the rounding error of :attr:`mean`."""
        return gamma(self.count + 2) * np.maximum(np.abs(self.minimum), np.abs(self.maximum))

    def merge(self, other: RunningMoments) -> RunningMoments:
        """Moments of the union of both samples (``self`` first)."""
        if not isinstance(other, RunningMoments):
            raise InvalidArgument(f"cannot merge RunningMoments with {short_repr(other)}.")
        if other.dim != self.dim:
            raise InvalidArgument(
                f"cannot merge moments of dimension {self.dim} and {other.dim}; "
                "every chunk must return the same number of columns."
            )
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        n = self.count + other.count
        total, comp = neumaier_add(self.total, self.comp, other.total)
        total, comp = neumaier_add(total, comp, other.comp)
        delta = other.mean - self.mean
        m2 = self.m2 + other.m2 + delta * delta * (self.count * other.count / n)
        return RunningMoments(
            n, total, comp, m2, np.minimum(self.minimum, other.minimum), np.maximum(self.maximum, other.maximum)
        )

    @classmethod
    def merge_all(cls, parts: Iterable[RunningMoments]) -> RunningMoments:
        """Left fold of :meth:`merge` over ``parts`` in the given order."""
        acc: RunningMoments | None = None
        for part in parts:
            acc = part if acc is None else acc.merge(part)
        if acc is None:
            raise InvalidArgument("merge_all got no parts; pass at least one RunningMoments.")
        return acc


#: Width (floats) of the rows :func:`_column_extremum` reduces over: a few KiB, in L1 cache.
_EXTREMUM_WIDTH = 1024


def _column_extremum(Y: np.ndarray, op: np.ufunc) -> np.ndarray:
    """``op.reduce(Y, axis=0)`` for ``op`` = ``np.minimum``/``np.maximum``, about 3x faster.

    Numpy reduces a C-ordered ``(size, d)`` array over axis 0 one row of ``d``
    numbers at a time; viewing ``k`` consecutive rows as one row of ``k d``
    numbers makes the inner loop ``k`` times longer.  A minimum or maximum is
    exact in any order, so the result is the same (NaN propagates as before).
    """
    size, d = Y.shape
    k = max(1, _EXTREMUM_WIDTH // d)
    full = (size // k) * k
    if k == 1 or full == 0 or not Y.flags.c_contiguous:
        return op.reduce(Y, axis=0)
    acc = op.reduce(op.reduce(Y[:full].reshape(size // k, k * d), axis=0).reshape(k, d), axis=0)
    if full < size:
        acc = op(acc, op.reduce(Y[full:], axis=0))
    return acc


def _width_rows(size: int, d: int) -> int:
    """Rows ``k`` viewed as one wide row by :func:`_wide_rows` (1 when the view is not possible)."""
    k = max(1, _EXTREMUM_WIDTH // d)
    return k if k > 1 and size % k == 0 else 1


def _wide_rows(Y: np.ndarray) -> np.ndarray:
    """``Y`` (``(size, d)``) in C order viewed as rows of ``k d`` numbers (``k`` consecutive rows each), or ``Y`` in
    C order.  A ``Y`` that is not C-ordered (Fortran order, a strided view) is copied first: numpy sums a column
    of a Fortran array pairwise but a C array row after row, so without the copy the order of the additions, and
    the last bits of the sums, would depend on the memory layout and not on the shape alone (self-tested)."""
    Y = np.ascontiguousarray(Y)
    size, d = Y.shape
    k = _width_rows(size, d)
    return Y if k == 1 else Y.reshape(size // k, k * d)


def _deviations(Y: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``Y - mean`` (a new C-ordered array), bit for bit, about 2x faster than numpy's broadcast subtraction.

    A copy of ``Y`` gets the rank-one update ``dev^T += (-mean) 1^T`` (BLAS ``dger`` on the
    Fortran view ``dev^T``): each element is ``y_ij + (-mean_j) * 1`` with an exact product, so it
    rounds once to ``fl(y_ij - mean_j)`` with or without FMA, in any order and on any number of
    BLAS threads -- the same numbers as ``Y - mean``.
    """
    dev = np.array(Y, dtype=np.float64, order="C", copy=True)
    if dev.shape[0] < 2:
        return Y - mean
    out = _dger(-1.0, mean, np.ones(dev.shape[0]), a=dev.T, overwrite_a=1)
    return out.T


def _fold(w: np.ndarray, d: int) -> np.ndarray:
    """Column sums of a wide row ``w`` of ``k d`` partial sums (``k`` rows of ``d``), added in row order."""
    return w if w.size == d else w.reshape(w.size // d, d).sum(axis=0)


def _column_sum(Y: np.ndarray, d: int | None = None) -> np.ndarray:
    """Column sums of ``Y`` (``(size, d)``, or already a :func:`_wide_rows` view of one with ``d`` columns).

    Order of the additions (fixed by the shape alone, so bit-reproducible): each
    column of the wide view is summed row after row (``k`` partial sums per
    coordinate, each over every ``k``-th sample), then the ``k`` partials are
    added in order.  That is a summation tree of ``size - 1`` additions and
    height ``size / k + k - 1 <= size - 1``, so the rounding error is at most
    ``gamma_{size-1} sum |y|`` (Higham, Sec. 4.2), the bound of the sequential
    sum it replaces.  About 2x faster: the inner loop runs over ``k d`` numbers.
    """
    if d is None:
        d = Y.shape[1]
        Y = _wide_rows(Y)
    return _fold(Y.sum(axis=0), d)


def _alpha(confidence: Any, d: int, simultaneous: bool) -> float:
    alpha = 1.0 - as_confidence(confidence)
    return alpha / d if simultaneous else alpha


def _need_two(moments: RunningMoments, who: str) -> None:
    if not isinstance(moments, RunningMoments):
        raise InvalidArgument(f"{who}: moments={short_repr(moments)} is not a RunningMoments.")
    if moments.count < 2:
        raise InvalidArgument(f"{who}: count={moments.count}; an interval needs at least 2 samples.")


def clt_interval(
    moments: RunningMoments, confidence: float = 0.99, *, simultaneous: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Asymptotic normal interval ``mean +- z s/sqrt(N)`` (+ rounding bound) per coordinate.

    Where every value of a coordinate is below 1e-150 in magnitude their squares
    underflow and the sample variance is meaningless (often exactly 0); there
    ``s`` is replaced by Popoviciu's bound ``(max - min)/2`` on the observed range.
    """
    _need_two(moments, "clt_interval")
    alpha = _alpha(confidence, moments.dim, simultaneous)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    se = moments.std_error
    underflow = np.maximum(np.abs(moments.minimum), np.abs(moments.maximum)) < 1e-150
    if underflow.any():
        popoviciu = (moments.maximum - moments.minimum) / 2.0 / np.sqrt(moments.count)
        se = np.where(underflow, np.maximum(se, popoviciu), se)
    half = z * se + moments.rounding_bound
    m = moments.mean
    return m - half, m + half


def empirical_bernstein_interval(
    moments: RunningMoments,
    value_range: tuple[Any, Any],
    confidence: float = 0.99,
    *,
    simultaneous: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Maurer-Pontil (2009, Thm. 4) two-sided interval for values in ``value_range = (lo, hi)``.

    Valid for every ``N >= 2`` with probability ``>= confidence`` per
    coordinate (all coordinates jointly if ``simultaneous``), provided every
    draw lies in ``[lo, hi]``; observed values outside raise ``InvalidArgument``.
    """
    _need_two(moments, "empirical_bernstein_interval")
    _montecarlo_selftest()
    try:
        lo, hi = value_range
        lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), (moments.dim,))
        hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), (moments.dim,))
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"value_range={short_repr(value_range)} is not a pair (lo, hi) of scalars or length-{moments.dim} "
            "arrays; pass e.g. value_range=(-1.0, 1.0)."
        ) from None
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)):
        raise InvalidArgument(f"value_range={short_repr(value_range)} must be finite with lo <= hi.")
    outside = np.flatnonzero((moments.minimum < lo) | (moments.maximum > hi))
    if outside.size:
        j = int(outside[0])
        raise InvalidArgument(
            f"coordinate {j} has observed values in [{moments.minimum[j]!r}, {moments.maximum[j]!r}] outside "
            f"value_range [{lo[j]!r}, {hi[j]!r}]; the empirical Bernstein bound needs a range that holds "
            "for every possible draw. Pass a correct (wider) range or use method='clt'."
        )
    alpha = _alpha(confidence, moments.dim, simultaneous)
    n = moments.count
    log_term = math.log(4.0 / alpha)
    half = (
        np.sqrt(2.0 * moments.variance * log_term / n)
        + 7.0 * (hi - lo) * log_term / (3.0 * (n - 1))
        + moments.rounding_bound
    )
    m = moments.mean
    return m - half, m + half


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """A Monte Carlo mean with its interval: ``P(low <= mu <= high) >= confidence`` per coordinate.

    (Asymptotically for ``method='clt'``; for every ``n`` for
    ``'empirical_bernstein'``; jointly over coordinates if ``simultaneous``.)
    """

    mean: np.ndarray
    std_error: np.ndarray
    low: np.ndarray
    high: np.ndarray
    confidence: float
    n: int
    method: str = "clt"
    simultaneous: bool = False
    n_chunks: int = 0
    moments: RunningMoments | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class Decision:
    """Outcome of :func:`monte_carlo_decide`.

    ``decision`` is the predicate's first non-``None`` answer (``None`` if
    the budget ran out).  Every look used ``result.confidence =
    1 - (1 - confidence)/looks_planned`` so that, by a union bound, all
    intervals hold simultaneously with probability ``>= confidence``.
    """

    decision: Any
    result: MonteCarloResult
    confidence: float
    looks: int
    looks_planned: int




def _selftest_failures() -> list[str]:
    """What is wrong with the chunk plan or the empirical Bernstein interval, or ``[]`` (known answers).

    * :func:`chunk_plan` at the boundaries (``n_samples = 2``, the smallest accepted; chunk size 1, equal to and
      above ``n_samples``; a remainder) against a loop that hands out ``min(chunk_size, left)`` samples at a time;
    * :func:`empirical_bernstein_interval` on five fixed 2-D draws in ``[-1, 2]``, per coordinate and
      simultaneous: the half-width of Maurer and Pontil (2009, Thm. 4), one-sided at level ``delta / 2`` per side
      (``sqrt(2 V ln(2/(delta/2)) / n) + 7 (b - a) ln(2/(delta/2)) / (3 (n - 1))``, ``delta = (1 - confidence)``,
      divided by ``d`` when simultaneous), with the unbiased variance ``V`` and the mean in exact rationals;
      tolerance ``1e-12`` (the rounding-bound term is below ``1e-14`` here);
    * :meth:`RunningMoments.from_samples` and :meth:`RunningMoments.merge` on dyadic samples whose row counts sit
      on and off the blocking of the wide-row reductions (1, 2, 1025, 1027, 2048 rows of 1 column; 7 rows of 300):
      count, minimum and maximum exact, the mean (exact integer sums) within :attr:`RunningMoments.rounding_bound` of the exact
      rational mean, ``M2`` within ``1e-12 (M2 + 1)`` of the exact rational ``sum (y - mean)^2``.
    * :meth:`RunningMoments.from_samples` of the same values in Fortran order and as a strided view, bit for bit
      equal to C order (the reductions' order of additions is fixed by the shape alone);
    * :meth:`RunningMoments.merge` of the one-row samples ``2^53``, ``1``, ``-2^53`` (a left fold, and the third
      merged with the merge of the first two, so that the other side's compensation is added): the plain sum
      loses the ``1``, the Neumaier pair ``(total, comp)`` keeps it exactly (Fast2Sum), so :attr:`mean` must be
      ``fl(1/3)``, the exact mean correctly rounded (tolerance 0);
    * :func:`~numerics._compensated.compensated_selftest_failures`: ``gamma_k`` and the Neumaier step that
      :meth:`RunningMoments.merge` uses, at exact known answers.
    """
    from fractions import Fraction

    failures = []
    for n, c in ((2, 1), (2, 2), (2, 5), (3, 1), (7, 3), (6, 3)):
        want, i, left = [], 0, n
        while left > 0:
            want.append((i, min(c, left)))
            left -= min(c, left)
            i += 1
        try:
            got = chunk_plan(n, c)
        except InvalidArgument as exc:
            failures.append(f"chunk_plan({n}, {c}) raised {exc}")
            continue
        if got != want:
            failures.append(f"chunk_plan({n}, {c}) = {got}, expected {want}")
    rng = np.random.default_rng(20261201)
    for size, d in ((1, 3), (2, 1), (1025, 1), (1027, 1), (2048, 1), (7, 300)):
        Y = np.round(rng.standard_normal((size, d)) * 64) / 64  # dyadic draws: exact rational moments
        cut = max(1, size // 3)
        parts = [RunningMoments.from_samples(Y)]
        if size > 1:
            parts.append(RunningMoments.from_samples(Y[:cut]).merge(RunningMoments.from_samples(Y[cut:])))
        Yi = np.rint(Y * 64).astype(np.int64)  # the draws in units of 1/64: exact integer sums
        sums, squares = Yi.sum(axis=0), (Yi * Yi).sum(axis=0)
        for how, mom in zip(("from_samples", f"merge at row {cut}"), parts):
            for j in range(d):
                mean = Fraction(int(sums[j]), 64 * size)
                m2 = Fraction(int(squares[j]) * size - int(sums[j]) ** 2, 64 * 64 * size)
                lo_j, hi_j = int(Yi[:, j].min()) / 64, int(Yi[:, j].max()) / 64
                bad = (mom.count != size or mom.minimum[j] != lo_j or mom.maximum[j] != hi_j
                       or abs(Fraction(float(mom.mean[j])) - mean) > Fraction(float(mom.rounding_bound[j]))
                       or abs(Fraction(float(mom.m2[j])) - m2) > Fraction(1, 10**12) * (m2 + 1))
                if bad:
                    failures.append(f"RunningMoments ({how}) of a ({size}, {d}) sample, column {j}: count "
                                    f"{mom.count}, min {mom.minimum[j]!r}, max {mom.maximum[j]!r}, mean "
                                    f"{mom.mean[j]!r}, M2 {mom.m2[j]!r}; expected {size}, {lo_j!r}, {hi_j!r}, "
                                    f"{float(mean)!r}, {float(m2)!r}")
                    break
    for size, d in ((4096, 3), (1000, 8), (5, 1500)):  # wide rows of k > 1 rows, and k = 1 (d above the width)
        Y = rng.standard_normal((size, d)) * 1e3 + rng.standard_normal((size, d))  # not dyadic: rounding shows
        ref = RunningMoments.from_samples(Y)
        for layout, Z in (("Fortran order", np.asfortranarray(Y)), ("a strided view", np.repeat(Y, 2, axis=1)[:, ::2])):
            mom = RunningMoments.from_samples(Z)
            same = all(np.array_equal(getattr(mom, f), getattr(ref, f))
                       for f in ("total", "mean", "m2", "minimum", "maximum")) and mom.count == ref.count
            if not same:
                failures.append(f"RunningMoments.from_samples of a ({size}, {d}) sample in {layout} differs in its bits "
                                f"from the same values in C order (the order of the additions must depend on the shape "
                                f"alone)")
    data = [[0.0, 2.0], [1.0, 2.0], [1.0, -1.0], [0.0, 0.5], [1.0, 1.0]]
    moments = RunningMoments.from_samples(np.array(data))
    n, d, a, b = len(data), 2, -1.0, 2.0
    for confidence, simultaneous in ((0.9, False), (0.99, True)):
        delta = (1 - confidence) / (d if simultaneous else 1)
        log_side = math.log(2 / (delta / 2))
        low, high = empirical_bernstein_interval(moments, (a, b), confidence, simultaneous=simultaneous)
        for j in range(d):
            col = [Fraction(row[j]) for row in data]
            mean = sum(col) / n
            var = sum((x - mean) ** 2 for x in col) / (n - 1)
            half = math.sqrt(2 * float(var) * log_side / n) + 7 * (b - a) * log_side / (3 * (n - 1))
            if abs((low[j] + high[j]) / 2 - float(mean)) > 1e-12 or abs((high[j] - low[j]) / 2 - half) > 1e-12:
                failures.append(f"empirical_bernstein_interval(confidence={confidence}, simultaneous={simultaneous})"
                                f" coordinate {j} = [{low[j]!r}, {high[j]!r}], expected {float(mean)!r} +- {half!r}")
    ones = [RunningMoments.from_samples(np.array([[v]])) for v in (2.0**53, 1.0, -(2.0**53))]
    for how, mom in (("left fold", ones[0].merge(ones[1]).merge(ones[2])),
                     ("third into the merge of the first two", ones[2].merge(ones[0].merge(ones[1])))):
        if mom.count != 3 or mom.mean[0] != float(Fraction(1, 3)):
            failures.append(f"RunningMoments.merge of the samples 2^53, 1, -2^53 ({how}): count {mom.count}, mean "
                            f"{mom.mean[0]!r} (total {mom.total[0]!r}, comp {mom.comp[0]!r}); expected 3 and "
                            f"{float(Fraction(1, 3))!r} (the compensation must keep the 1 the plain sum loses)")
    # the rounding constant of the compensated sums (its overflow branch) and the Neumaier step (known answers)
    failures += compensated_selftest_failures()
    return failures


#: :func:`_selftest_failures` once per process (first chunk plan or Bernstein interval); a mismatch raises
#: :class:`~stecheck.errors.SelfCheckFailed` (a fault of this module).
_montecarlo_selftest = OncePerProcess(_selftest_failures, what="numerics.montecarlo fails its known-answer self-test",
                                      remedy="Fix numerics/montecarlo.py.")


def chunk_plan(n_samples: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[(chunk_index, size), ...]``: full chunks of ``chunk_size`` and a smaller last one."""
    _montecarlo_selftest()
    n_samples = as_int(n_samples, "n_samples", minimum=2)
    chunk_size = as_int(chunk_size, "chunk_size", minimum=1)
    full, rest = divmod(n_samples, chunk_size)
    plan = [(i, chunk_size) for i in range(full)]
    if rest:
        plan.append((full, rest))
    return plan


class _ChunkTask:
    """Picklable ``(index, size) -> (index, RunningMoments)`` for ``map``."""

    def __init__(self, fn_chunk: Callable[[np.random.Generator, int], Any], seed_seq: np.random.SeedSequence):
        self.fn_chunk = fn_chunk
        self.seed_seq = seed_seq

    def __call__(self, task: tuple[int, int]) -> tuple[int, RunningMoments]:
        index, size = task
        rng = make_rng(chunk_seed(self.seed_seq, index))
        Y = np.asarray(self.fn_chunk(rng, size), dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape[0] != size:
            raise InvalidArgument(
                f"fn_chunk returned shape {Y.shape} for chunk {index} of size {size}; expected ({size}, d)."
            )
        return index, RunningMoments.from_samples(Y, who=f"fn_chunk (chunk {index})")


def _run_chunks(task: _ChunkTask, plan: Sequence[tuple[int, int]], map_fn: Callable) -> list[RunningMoments]:
    results = list(map_fn(task, list(plan)))
    results.sort(key=lambda r: r[0])
    got = [r[0] for r in results]
    want = [p[0] for p in plan]
    if got != want:
        raise InvalidArgument(
            f"map returned results for chunks {got[:10]}... but chunks {want[:10]}... were submitted; "
            "map(fn, items) must return exactly one result per item."
        )
    return [r[1] for r in results]


def _validate_common(fn_chunk, seed_seq, method, value_range, map_fn):
    if not callable(fn_chunk):
        raise InvalidArgument(f"fn_chunk={short_repr(fn_chunk)} is not callable; expected fn(rng, size) -> (size, d).")
    if not isinstance(seed_seq, np.random.SeedSequence):
        raise InvalidArgument(
            f"seed_seq={short_repr(seed_seq)} is not a numpy.random.SeedSequence; use numerics.seeding.task_seed."
        )
    if method not in METHODS:
        raise InvalidArgument(f"method={short_repr(method)} is not one of {METHODS}.")
    if method == "empirical_bernstein" and value_range is None:
        raise InvalidArgument("method='empirical_bernstein' needs value_range=(lo, hi) bounding every draw.")
    if not callable(map_fn):
        raise InvalidArgument(f"map={short_repr(map_fn)} is not callable; expected a map(fn, items) function.")


def _result(moments, confidence, method, value_range, simultaneous, n_chunks) -> MonteCarloResult:
    if method == "clt":
        low, high = clt_interval(moments, confidence, simultaneous=simultaneous)
    else:
        low, high = empirical_bernstein_interval(moments, value_range, confidence, simultaneous=simultaneous)
    return MonteCarloResult(
        mean=moments.mean,
        std_error=moments.std_error,
        low=low,
        high=high,
        confidence=float(confidence),
        n=moments.count,
        method=method,
        simultaneous=simultaneous,
        n_chunks=n_chunks,
        moments=moments,
    )


def monte_carlo_mean(
    fn_chunk: Callable[[np.random.Generator, int], Any],
    n_samples: int,
    seed_seq: np.random.SeedSequence,
    *,
    chunk_size: int = 4096,
    map: Callable = map,  # noqa: A002 - the parameter is named after the builtin it replaces
    confidence: float = 0.99,
    method: str = "clt",
    value_range: tuple[Any, Any] | None = None,
    simultaneous: bool = False,
) -> MonteCarloResult:
    """Mean of ``n_samples`` draws of ``fn_chunk`` with an interval at ``confidence``.

    ``map(task, items)`` may be any map (builtin, thread pool, :func:`dask_map`);
    results are merged in chunk-index order, so the output is bit-identical.
    """
    _validate_common(fn_chunk, seed_seq, method, value_range, map)
    as_confidence(confidence)
    plan = chunk_plan(n_samples, chunk_size)
    parts = _run_chunks(_ChunkTask(fn_chunk, seed_seq), plan, map)
    moments = RunningMoments.merge_all(parts)
    return _result(moments, confidence, method, value_range, bool(simultaneous), len(plan))


def monte_carlo_decide(
    fn_chunk: Callable[[np.random.Generator, int], Any],
    predicate: Callable[[np.ndarray, np.ndarray], Any],
    max_samples: int,
    seed_seq: np.random.SeedSequence,
    *,
    chunk_size: int = 4096,
    map: Callable = map,  # noqa: A002
    confidence: float = 0.99,
    method: str = "clt",
    value_range: tuple[Any, Any] | None = None,
    simultaneous: bool = False,
) -> Decision:
    """Sequential Monte Carlo: stop as soon as ``predicate(low, high)`` returns non-``None``.

    Looks happen after 1, 2, 4, ... chunks (and at the last chunk of the
    ``max_samples`` budget).  Each look's interval uses confidence
    ``1 - (1 - confidence)/L`` for ``L`` planned looks, so the decision is
    right with probability ``>= confidence`` (union bound; asymptotically for
    ``'clt'``).  The samples of chunk ``i`` are the same as in
    :func:`monte_carlo_mean` with the same ``seed_seq`` and ``chunk_size``.
    """
    _validate_common(fn_chunk, seed_seq, method, value_range, map)
    if not callable(predicate):
        raise InvalidArgument(
            f"predicate={short_repr(predicate)} is not callable; expected predicate(low, high) -> decision or None."
        )
    conf = as_confidence(confidence)
    plan = chunk_plan(max_samples, chunk_size)
    if plan[0][1] < 2:
        raise InvalidArgument(f"chunk_size={chunk_size} gives a first chunk of size < 2; use chunk_size >= 2.")
    stops = []
    k = 1
    while k < len(plan):
        stops.append(k)
        k *= 2
    stops.append(len(plan))
    per_look = 1.0 - (1.0 - conf) / len(stops)
    task = _ChunkTask(fn_chunk, seed_seq)
    moments: RunningMoments | None = None
    done = 0
    result = None
    decision = None
    looks = 0
    for stop in stops:
        for part in _run_chunks(task, plan[done:stop], map):
            moments = part if moments is None else moments.merge(part)
        done = stop
        looks += 1
        result = _result(moments, per_look, method, value_range, bool(simultaneous), done)
        decision = predicate(result.low, result.high)
        if decision is not None:
            break
    return Decision(decision=decision, result=result, confidence=conf, looks=looks, looks_planned=len(stops))


def dask_map(client: Any = None) -> Callable:
    """A ``map(fn, items)`` running on Dask: ``client.map`` + ``gather`` if a
    ``distributed.Client`` is given, else ``dask.delayed`` with the threaded
    scheduler.  Results come back in item order (not that it matters here)."""

    def _map(fn: Callable, items: Iterable[Any]) -> list[Any]:
        items = list(items)
        if client is not None:
            from .blas import OneBlasThread

            return client.gather(client.map(OneBlasThread(fn), items, pure=False))
        import dask

        return list(dask.compute(*[dask.delayed(fn)(it) for it in items], scheduler="threads"))

    return _map
