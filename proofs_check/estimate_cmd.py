"""``stecheck estimate ESTIMATOR``: one estimator against the exact gradient on a standard problem.

Problem (paper Sec. 2, eq. (1)): ``x_i = sign(a_i - z_i)`` with ``z_i`` iid
from ``--noise``, so ``P(x_i = +1) = F(a_i)`` (encoding ``pm1``); encoding
``01`` uses ``(x + 1)/2`` instead.  Losses (``n`` variables):

* ``linear``       ``L(x) = sum_i x_i``;
* ``square-sum``   ``L(x) = (sum_i x_i)^2``;
* ``quadratic``    ``L(x) = ||W x - y||^2`` with ``W`` of shape ``(n, n)``,
  entries iid ``N(0, 1/n)``, and ``y`` iid ``N(0, 1)``, drawn from
  ``make_rng(task_seed(--problem-seed, "estimate/quadratic/n=<n>"))`` (``W`` first);
* ``ex2``          ``L(x) = sum_i (x_i - sin(2 pi x_i))``.

Pre-activations: ``--a 0.5,-1,2`` or ``--a-seed S`` (``a`` iid ``N(0, 1)``
from ``task_seed(S, "estimate/a/n=<n>")``; the default is ``--a-seed 0``).

The estimator is looked up by name in :data:`numerics.estimators.ESTIMATORS`
(new ones appear automatically); ``--encoding`` is passed through, ``--tau``
only to estimators with a ``tau`` parameter (the Gumbel-Softmax pair).

Reported (per coordinate): the mean of the estimator with its interval, the
exact gradient ``d E[L] / d a``, ``bias = mean - exact``, the per-coordinate
variance of one single-sample estimate, and the cosine similarity between the
mean and the exact gradient (``null`` when either is the zero vector).

Exact gradient.  Every loss above is a polynomial of degree <= 2 in ``x``;
with independent coordinates of mean ``mu_i`` and variance ``v_i``
(pm1: ``mu = 2F - 1``, ``v = 1 - mu^2``; 01: ``mu = F``, ``v = F (1 - F)``),
``E[L]`` is a closed form in ``mu`` (``E[(sum x)^2] = (sum mu)^2 + sum v``;
``E||Wx - y||^2 = ||W mu - y||^2 + sum_i ||W_{:,i}||^2 v_i``; ``sin(2 pi x) = 0``
on the cube) and the gradient is ``dE/dmu * dmu/da`` -- valid for every ``n``
and checked against the enumeration of :mod:`numerics.enumeration` in the
tests.  Its rounding error is a few units in the last place of the terms.

Estimator statistics.  By default, Monte Carlo (:mod:`numerics.distributed`)
with ``--samples`` draws: the interval is the CLT interval at
``--confidence`` (asymptotic), the variance the unbiased sample variance.
With ``--exact`` the random input of the estimator is enumerated by
:mod:`numerics.enumeration` (``expected_estimator`` for the mean,
``expected_transform`` with ``T(e) = (e - mean)^2`` for the variance): all
``2^n`` states (``n <= 22``) for state estimators, ``n K <= 22`` for
REINFORCE, 1-D quadrature for the Gumbel-Softmax pair at ``n = 1``; the
deterministic ST works for any ``n``.  The interval is ``mean +- bound``
(the module's a-priori rounding bound, or the quadrature error estimate).
ARM (variance not enumerable), Gumbel-Softmax at ``n > 1`` and ``n > 22``
are refused with a hint to drop ``--exact``; a quadrature that diverges (e.g.
Gumbel-Softmax at a tiny ``--tau``, where the integrand is a spike of width tau)
is reported as divergent in one line, exit status 2, never as a tiny interval.  Below
:func:`numerics.enumeration.gs_min_tau` (``spacing(|a|) / 1e-9``, about ``2e-7`` at ``|a| ~ 1``) the
quadrature points ``z = a - tau u`` cannot resolve the relaxation at all (at ``tau = 1e-30`` every point is
``z = a``): refused in one line naming the valid range, exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import sys
from dataclasses import asdict, dataclass
from typing import Any

from stecheck.errors import InvalidArgument, QuadratureDiverged

__all__ = [
    "LOSSES", "ENCODINGS", "JSON_KEYS", "EstimateReport", "estimate", "exact_gradient_closed_form", "parse_a",
    "add_estimate_parser", "cmd_estimate",
]

LOSSES = ("linear", "square-sum", "quadratic", "ex2")
#: Size limits, checked before anything is allocated (see the README's "Exit codes and limits").
MAX_N = 2048
MAX_SAMPLES = 10**9
#: Largest ``samples * n`` (the work of one run, in coordinate draws).
MAX_WORK = 2 * 10**10
#: Largest ``chunk_size * n`` (the floats of one chunk in memory).
MAX_CHUNK_CELLS = 2**24
ENCODINGS = ("pm1", "01")
JSON_KEYS = (
    "estimator", "loss", "noise", "encoding", "n", "a", "samples",
    "mean", "ci_low", "ci_high", "exact_gradient", "bias", "variance", "cosine", "null",
)


@dataclass(frozen=True)
class EstimateReport:
    """What ``stecheck estimate`` prints; vectors are lists of floats (JSON keys = field names)."""

    estimator: str
    loss: str
    noise: str
    encoding: str
    n: int
    a: list[float]
    samples: int
    mean: list[float]
    ci_low: list[float]
    ci_high: list[float]
    exact_gradient: list[float]
    bias: list[float]
    variance: list[float]
    cosine: float | None

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-plain data; a non-finite number becomes ``null`` and is explained in ``"null"``.

        ``json.dumps`` would print ``NaN``/``Infinity``, which is not JSON.  ``"null"`` maps each
        field with such entries to a reason, e.g. ``{"variance": "entries [2] are inf (overflow)"}``;
        it is ``{}`` when every number is finite.
        """
        data = asdict(self)
        reasons: dict[str, str] = {}
        for key, value in data.items():
            if isinstance(value, float) and not math.isfinite(value):
                reasons[key] = f"{value} ({_why(value)})"
                data[key] = None
            elif isinstance(value, list) and any(isinstance(v, float) and not math.isfinite(v) for v in value):
                bad = [i for i, v in enumerate(value) if isinstance(v, float) and not math.isfinite(v)]
                kinds = sorted({_why(value[i]) for i in bad})
                reasons[key] = f"entries {bad[:10]}{'...' if len(bad) > 10 else ''} are not finite ({', '.join(kinds)})"
                data[key] = [v if not (isinstance(v, float) and not math.isfinite(v)) else None for v in value]
        data["null"] = reasons
        return data


def _why(value: float) -> str:
    return "nan: undefined, e.g. 0/0 or inf - inf" if value != value else "inf: overflow"


# ---------------------------------------------------------------------------- the problem


def _estimator_name(name: str) -> str:
    from stecheck.numerics.estimators import ESTIMATORS

    if name not in ESTIMATORS:
        close = difflib.get_close_matches(name, list(ESTIMATORS), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise InvalidArgument(f"unknown estimator {name!r}; {hint}valid names: {', '.join(sorted(ESTIMATORS))}")
    return name


def _make_loss(loss: str, n: int, problem_seed: int):
    from stecheck.numerics import losses as L
    from stecheck.numerics.seeding import make_rng, task_seed

    if loss == "linear":
        return L.Linear([1.0] * n)
    if loss == "square-sum":
        return L.SquareSum()
    if loss == "ex2":
        return L.Ex2()
    if loss == "quadratic":
        rng = make_rng(task_seed(problem_seed, f"estimate/quadratic/n={n}"))
        W = rng.normal(0.0, 1.0 / math.sqrt(n), size=(n, n))
        y = rng.normal(0.0, 1.0, size=n)
        return L.Quadratic(W, y)
    raise InvalidArgument(f"--loss {loss!r} is not one of {', '.join(LOSSES)}")


def parse_a(text: str) -> list[float]:
    """``"0.5,-1,2"`` -> ``[0.5, -1.0, 2.0]``; anything else is a one-line :class:`InvalidArgument`."""
    from stecheck.safeio import shorten

    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) > MAX_N:
        raise InvalidArgument(f"--a has {len(parts)} values, more than the limit of n <= {MAX_N}")
    out = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise InvalidArgument(
                f"--a must be comma-separated numbers such as --a 0.5,-1,2; {shorten(p, 40)} is not a number"
            ) from None
        if not math.isfinite(v):
            raise InvalidArgument(f"--a must hold finite numbers; got {shorten(p, 40)}")
        out.append(v)
    return out


def _pre_activations(n: int | None, a: Any, a_seed: int | None) -> list[float]:
    from stecheck.numerics.seeding import make_rng, task_seed

    if a is not None and a_seed is not None:
        raise InvalidArgument("give either --a (explicit values) or --a-seed (random values), not both")
    if a is not None:
        values = parse_a(a) if isinstance(a, str) else [float(v) for v in a]
        if n is not None and len(values) != n:
            raise InvalidArgument(
                f"--a has {len(values)} value{'s' if len(values) != 1 else ''} but --n is {n}; "
                f"give {n} comma-separated values or drop --n"
            )
        return values
    n = 8 if n is None else n
    return make_rng(task_seed(0 if a_seed is None else a_seed, f"estimate/a/n={n}")).normal(size=n).tolist()


def _moments(encoding: str, noise, a):
    """``(mu, dmu/da, v, dv/dmu)`` of one binary coordinate."""
    F, dF = noise.cdf(a), noise.pdf(a)
    if encoding == "pm1":
        mu = 2.0 * F - 1.0
        return mu, 2.0 * dF, 1.0 - mu * mu, -2.0 * mu
    return F, dF, F * noise.sf(a), 1.0 - 2.0 * F


def exact_gradient_closed_form(loss_name: str, loss, a, noise, encoding: str = "pm1"):
    """``d E[L] / d a`` for the four losses of this command (closed form; see the module docstring)."""
    import numpy as np

    mu, dmu, _, dv = _moments(encoding, noise, a)
    if loss_name in ("linear", "ex2"):
        d_mu = np.ones_like(mu)
    elif loss_name == "square-sum":
        d_mu = 2.0 * mu.sum() + dv
    else:
        colsq = np.einsum("ki,ki->i", loss.W, loss.W)
        d_mu = 2.0 * (loss.W.T @ (loss.W @ mu - loss.y)) + colsq * dv
    return d_mu * dmu


def _params(est: Any, tau: float | None) -> dict[str, Any]:
    """Keyword parameters for the estimator: ``tau`` only for estimators that have a temperature."""
    defaults = dict(getattr(est, "params", ()) or ())
    if tau is None:
        return {}
    if "tau" not in defaults:
        with_tau = sorted(name for name, e in _registry().items() if "tau" in dict(getattr(e, "params", ()) or ()))
        raise InvalidArgument(
            f"--tau {tau:g} applies only to estimators with a temperature ({', '.join(with_tau) or 'none'}); "
            f"{est.name!r} has none, drop --tau"
        )
    return {"tau": tau}


def _registry() -> dict[str, Any]:
    from stecheck.numerics.estimators import ESTIMATORS

    return ESTIMATORS


# ---------------------------------------------------------------------------- computation


def _exact_statistics(name, loss, a, noise, encoding, params):
    """Exact mean (with its error bound) and per-coordinate variance of one estimate, by enumeration.

    Uses :func:`numerics.enumeration.expected_estimator` for the mean and
    :func:`numerics.enumeration.expected_transform` with ``T(e) = (e - mean)^2``
    for the variance.
    """
    import numpy as np

    from stecheck.numerics.enumeration import expected_estimator, expected_transform

    mean_res = expected_estimator(name, loss, a, noise, encoding=encoding, **params)
    mean = np.asarray(mean_res[0], dtype=np.float64)
    bound = np.asarray(mean_res[1], dtype=np.float64)
    var_res = expected_transform(name, loss, a, noise, lambda E: (E - mean) ** 2, encoding=encoding, **params)
    return mean, np.maximum(np.asarray(var_res[0], dtype=np.float64), 0.0), bound


def _check_enumerable(est: Any, n: int) -> None:
    """Refuse ``--exact`` early, with one hint, where enumeration cannot give both mean and variance."""
    from stecheck.numerics.enumeration import MAX_N

    kind = getattr(est, "sample", "state")
    if kind == "uniform":
        raise InvalidArgument(
            f"--exact: the per-coordinate variance of {est.name!r} (uniforms u in [0,1]^n) is not enumerable; "
            "drop --exact to estimate it by Monte Carlo"
        )
    if kind == "noise" and n != 1:
        raise InvalidArgument(
            f"--exact: {est.name!r} draws continuous noise, integrated exactly only for n = 1 (got n = {n}); "
            "its expectation cannot be enumerated, drop --exact to estimate it by Monte Carlo"
        )
    if kind != "none" and n > MAX_N:
        raise InvalidArgument(
            f"n={n} is too large to enumerate all 2^{n} states with --exact (n <= {MAX_N}); "
            "drop --exact to estimate by Monte Carlo"
        )


def _check_sizes(n: int, samples: int, chunk_size: int) -> None:
    """Refuse, before any allocation, a Monte Carlo run too large for one machine (limits in the module)."""
    if samples > MAX_SAMPLES:
        raise InvalidArgument(f"--samples {samples} is more than the limit of {MAX_SAMPLES:.0e}; use fewer samples")
    if samples * n > MAX_WORK:
        raise InvalidArgument(
            f"--samples {samples} with n = {n} is {samples * n:.2g} coordinate draws, more than the limit of "
            f"{MAX_WORK:.0e}; use fewer samples or a smaller n"
        )
    if min(chunk_size, samples) * n > MAX_CHUNK_CELLS:
        raise InvalidArgument(
            f"--chunk-size {chunk_size} with n = {n} holds {chunk_size * n:.2g} numbers per chunk, more than the "
            f"limit of {MAX_CHUNK_CELLS}; use --chunk-size {max(1, MAX_CHUNK_CELLS // n)} or less"
        )


def estimate(
    estimator: str,
    *,
    loss: str = "quadratic",
    n: int | None = None,
    noise: str = "logistic",
    encoding: str = "pm1",
    a: Any = None,
    a_seed: int | None = None,
    problem_seed: int = 0,
    samples: int = 100_000,
    seed: int = 0,
    exact: bool = False,
    tau: float | None = None,
    confidence: float = 0.99,
    chunk_size: int = 4096,
    client: Any = None,
    checkpoint: str | None = None,
    progress: Any = None,
) -> EstimateReport:
    """Compare estimator ``estimator`` with the exact gradient; see the module docstring.

    ``client``: ``None`` (this process), a ``distributed.Client`` or a scheduler address.
    """
    import numpy as np

    from stecheck.numerics.distributed import distributed_monte_carlo
    from stecheck.numerics.estimators import ESTIMATORS, EstimatorSampler
    from stecheck.numerics.noise import get_noise
    from stecheck.numerics.seeding import task_seed

    name = _estimator_name(estimator)
    if loss not in LOSSES:
        raise InvalidArgument(f"--loss {loss!r} is not one of {', '.join(LOSSES)}")
    if encoding not in ENCODINGS:
        raise InvalidArgument(f"--encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InvalidArgument(f"--n must be a positive integer, got {n!r}")
    if tau is not None and not (isinstance(tau, (int, float)) and math.isfinite(tau) and tau > 0):
        raise InvalidArgument(f"--tau must be a positive number, got {tau!r}")
    if not exact and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 2):
        raise InvalidArgument(f"--samples must be an integer >= 2 (an interval needs two samples), got {samples!r}")
    if n is not None and n > MAX_N:
        raise InvalidArgument(f"--n {n} is more than the limit of {MAX_N}; use a smaller n")
    noise_obj = get_noise(noise)
    a_vec = np.asarray(_pre_activations(n, a, a_seed), dtype=np.float64)
    n = a_vec.size
    est = ESTIMATORS[name]
    params = _params(est, tau)
    if exact:
        _check_enumerable(est, n)  # before the loss is built: W alone has n^2 entries
    else:
        _check_sizes(n, samples, chunk_size)
    loss_obj = _make_loss(loss, n, problem_seed)
    grad = exact_gradient_closed_form(loss, loss_obj, a_vec, noise_obj, encoding)

    if exact:
        try:
            mean, variance, bound = _exact_statistics(name, loss_obj, a_vec, noise_obj, encoding, params)
        except QuadratureDiverged as exc:  # one line for the CLI: what diverged and what to do instead
            floor = getattr(exc, "min_tau", None)
            if floor is not None:  # tau below the resolvable range: say which range is valid
                raise QuadratureDiverged(
                    f"--exact: --tau {params['tau']:g} is too small for the quadrature at a = {float(a_vec[0]):g}: "
                    f"valid is --tau >= {floor:.2g} (below it z = a - tau u cannot resolve the relaxation); "
                    "use a larger --tau, or drop --exact to estimate by Monte Carlo") from exc
            raise QuadratureDiverged(
                f"--exact: the quadrature for {name!r} at --tau {params.get('tau', float('nan')):g} "
                f"{getattr(exc, 'verb', 'does not converge')}, so it "
                f"has no value to report ({getattr(exc, 'reason', 'no convergence')}); "
                "use a larger --tau, or drop --exact to estimate by Monte Carlo") from exc
        low, high, used = mean - bound, mean + bound, 0
    else:
        sampler = EstimatorSampler(name, loss_obj, a_vec, noise_obj, encoding=encoding, **params)
        key = f"estimate/{name}/{loss}/{noise}/{encoding}/n={n}"
        res = distributed_monte_carlo(
            sampler, samples, task_seed(seed, key), client=client, chunk_size=chunk_size,
            confidence=confidence, checkpoint=checkpoint, progress=progress,
            fn_key=f"{key}/a={a_vec.tolist()}/problem_seed={problem_seed}/params={sorted(sampler.params.items())}",
        )
        mean, low, high, used = res.mean, res.low, res.high, samples
        variance = res.moments.variance
    bias = mean - grad
    norms = float(np.linalg.norm(mean)) * float(np.linalg.norm(grad))
    cosine = float(np.dot(mean, grad) / norms) if norms > 0 else None
    return EstimateReport(
        estimator=name, loss=loss, noise=noise_obj.name, encoding=encoding, n=n, a=a_vec.tolist(),
        samples=used, mean=mean.tolist(), ci_low=low.tolist(), ci_high=high.tolist(),
        exact_gradient=grad.tolist(), bias=bias.tolist(), variance=variance.tolist(), cosine=cosine,
    )


# ---------------------------------------------------------------------------- CLI


def _int_at_least(lo: int, flag: str, why: str = "", hi: int | None = None):
    def parse(text: str) -> int:
        from stecheck.safeio import shorten

        digits = text.strip().lstrip("+-")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 30:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer >= {lo}{why}, got {shorten(text, 40)}")
        v = int(text)
        if v < lo:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer >= {lo}{why}, got {v}")
        if hi is not None and v > hi:
            raise argparse.ArgumentTypeError(f"{flag} must be at most {hi}, got {shorten(text, 40)}")
        return v

    return parse


def _workers(text: str) -> int:
    from .cli import _workers as run_workers

    return run_workers(text)


def _scheduler(text: str) -> str:
    from stecheck.numerics.distributed import scheduler_address

    try:
        return scheduler_address(text)
    except InvalidArgument as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_float(flag: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be a positive number, got {text[:40]!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise argparse.ArgumentTypeError(f"{flag} must be a positive number, got {text[:40]!r}")
        return v

    return parse


def _confidence(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not (0.0 < v < 1.0):
        raise argparse.ArgumentTypeError(f"--confidence must be in the open interval (0, 1), got {text[:40]!r}")
    return v


def add_estimate_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``stecheck estimate`` on the subparsers object of :func:`proofs_check.cli.build_parser`."""
    from stecheck.numerics.noise import NOISES

    p = sub.add_parser(
        "estimate", help="compare one gradient estimator with the exact gradient of E[L]",
        description="Mean, interval, bias, variance and cosine of a gradient estimator against the exact "
                    "gradient of E[L(x)], x_i = sign(a_i - z_i).",
    )
    p.add_argument("estimator", metavar="ESTIMATOR", help="estimator name (see numerics.estimators.ESTIMATORS)")
    p.add_argument("--loss", choices=LOSSES, default="quadratic",
                   help="linear: sum x; square-sum: (sum x)^2; quadratic: ||Wx - y||^2, W (n, n) ~ N(0, 1/n), "
                        "y ~ N(0, 1) from --problem-seed; ex2: sum (x - sin(2 pi x)) (default: quadratic)")
    p.add_argument("--n", type=_int_at_least(1, "--n", hi=MAX_N), default=None,
                   help="number of binary variables (default: 8, or the length of --a)")
    p.add_argument("--noise", choices=sorted(NOISES), default="logistic", help="noise family (default: logistic)")
    p.add_argument("--encoding", choices=ENCODINGS, default="pm1", help="binary states in {-1,+1} or {0,1}")
    p.add_argument("--a", default=None, metavar="A1,A2,...",
                   help="comma-separated pre-activations; write --a=-1,2 when the first is negative")
    p.add_argument("--a-seed", type=_int_at_least(0, "--a-seed"), default=None,
                   help="draw a ~ N(0, 1) from this seed (default: 0 when --a is not given)")
    p.add_argument("--problem-seed", type=_int_at_least(0, "--problem-seed"), default=0,
                   help="seed of W and y for --loss quadratic (default: 0)")
    p.add_argument("--samples", type=_int_at_least(2, "--samples", " (an interval needs two samples)", MAX_SAMPLES),
                   default=100_000, help="Monte Carlo samples (default: 100000)")
    p.add_argument("--seed", type=_int_at_least(0, "--seed"), default=0, help="Monte Carlo seed (default: 0)")
    p.add_argument("--exact", action="store_true", help="enumerate all 2^n states instead of sampling (n <= 22)")
    p.add_argument("--tau", type=_positive_float("--tau"), default=None,
                   help="temperature of Gumbel-softmax estimators (only for estimators that take it)")
    p.add_argument("--confidence", type=_confidence, default=0.99, help="interval confidence (default: 0.99)")
    p.add_argument("--chunk-size", type=_int_at_least(1, "--chunk-size", hi=MAX_CHUNK_CELLS), default=4096,
                   help="samples per Monte Carlo chunk; part of the random stream (default: 4096)")
    p.add_argument("--workers", type=_workers, default=0,
                   help="0 = this process (default); N = local Dask cluster of N processes (same numbers)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None, type=_scheduler,
                   help="use an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--checkpoint", metavar="FILE", default=None,
                   help="save finished chunks here and resume from it (a .npz)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return p


def _fmt(v: float) -> str:
    return f"{v:.5g}"


def cmd_estimate(args: argparse.Namespace, console: Any) -> int:
    """Run ``stecheck estimate`` from parsed arguments; returns the exit status."""
    if args.scheduler is not None and args.workers:
        raise InvalidArgument("give either --workers (local cluster) or --scheduler (existing cluster), not both")
    if args.exact and (args.workers or args.scheduler or args.checkpoint):
        raise InvalidArgument("--exact enumerates in this process; drop --workers/--scheduler/--checkpoint")
    kwargs = dict(
        loss=args.loss, n=args.n, noise=args.noise, encoding=args.encoding, a=args.a, a_seed=args.a_seed,
        problem_seed=args.problem_seed, samples=args.samples, seed=args.seed, exact=args.exact, tau=args.tau,
        confidence=args.confidence, chunk_size=args.chunk_size, checkpoint=args.checkpoint,
    )
    _estimator_name(args.estimator)  # unknown names fail before a cluster starts
    if args.workers:
        from stecheck.numerics.distributed import local_client

        with local_client(args.workers) as client:
            report = estimate(args.estimator, client=client, **kwargs)
    else:
        report = estimate(args.estimator, client=args.scheduler, **kwargs)

    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, allow_nan=False) + "\n")
        return 0
    from rich.table import Table

    how = "exact" if args.exact else f"{report.samples} samples, seed {args.seed}"
    ci = "rounding bound" if args.exact else f"{args.confidence:.3g} CLT interval"
    table = Table(title=f"{report.estimator} on {report.loss} (n={report.n}, {report.noise} noise, "
                        f"{report.encoding}; {how})")
    for col in ("i", "a", "mean", "+- half-width", "exact grad", "bias", "variance"):
        table.add_column(col, justify="right", no_wrap=True)
    for i in range(report.n):
        half = max(report.ci_high[i] - report.mean[i], report.mean[i] - report.ci_low[i])
        table.add_row(
            str(i), _fmt(report.a[i]), _fmt(report.mean[i]), f"{half:.2g}",
            _fmt(report.exact_gradient[i]), _fmt(report.bias[i]), _fmt(report.variance[i]),
        )
    console.print(table)
    console.print(f"interval: {ci}; JSON (--json) carries ci_low / ci_high at full precision")
    cos = "undefined (zero vector)" if report.cosine is None else f"{report.cosine:.6f}"
    console.print(f"cosine(mean, exact gradient) = {cos}")
    return 0
