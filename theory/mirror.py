"""Latent weights as mirror descent: SBN section 3 and appendix C (eqs. (10)-(14), (46)-(58)).

Mathematical objects (``theta`` in ``(0, 1)`` is ``P(w = +1)``, ``eta = F^{-1}(theta)``
the latent weight, ``F`` the noise cdf of :mod:`theory.noise`, scaled so
``2F'(0) = 1``):

* :func:`mirror_map`: ``Phi(theta) = int_0^theta F^{-1}(u) du`` (App. C.1, text
  after (49)), derived by sympy integration (Gaussian: closed form
  ``-exp(-erfinv(2 theta - 1)^2)/pi``, checked by differentiation);
* :func:`bregman_divergence`: ``D_Phi(theta, theta_t) = Phi(theta) - Phi(theta_t)
  - F^{-1}(theta_t)(theta - theta_t)`` (eq. (46));
* :func:`kl_factor`: the constant ``c`` with ``D_Phi = c KL(Ber(theta) || Ber(theta_t))``
  when there is one: ``c = 1/2`` for logistic ``F(z) = sigmoid(2z)`` (in general
  ``1/k`` for ``F(z) = sigmoid(k z)``; the paper's eq. (14) has ``k = 1``);
* :func:`md_step`: the mirror-descent step, solution of the proximal problem
  (12)/(47) ``argmin_{theta in [0,1]} g theta + D_Phi(theta, theta_t)/eps``, in
  closed form ``F(F^{-1}(theta_t) - eps g)`` (eqs. (48)-(49)); for uniform and
  triangular noise the saturating ``F`` makes this the constrained minimizer;
* :func:`pgd_eps_prime`, :func:`pgd_equivalence`: eqs. (10)-(11) for uniform
  noise: PGD on ``theta`` with step ``eps`` is clipped SGD on ``eta`` with
  ``eps' = 4 eps`` (derived; the z3 proof covers the clipping);
* :func:`vb_step`: Prop. 2, the composite step (55)-(57) and the simplified
  step (58), as printed (``F = sigmoid``, ``eta = logit theta``, KL) and in the
  repository's scaling (``F = sigmoid(2z)``, ``D_Phi = KL/2``).

Numeric counterparts (vectorized numpy): :func:`md_step_numpy`,
:func:`bregman_numpy`, :func:`pgd_theta_step`, :func:`pgd_latent_step`,
:func:`vb_step_numpy`; independent solvers of the proximal problems:
:func:`prox_step_cvxpy` (exponential cone / QP), :func:`prox_step_scalar`
(bounded 1-D minimization, any family) and :func:`vb_prox_cvxpy` (eq. (55)).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import sympy

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.selftest import OncePerProcess

from .noise import NOISE_FAMILIES, U, Z, NoiseFamily, get_noise
from .obligations import ObligationResult, prove_step

__all__ = [
    "THETA",
    "THETA_T",
    "EPS",
    "G",
    "LAM",
    "ETA",
    "ETA_T",
    "mirror_map",
    "mirror_gradient",
    "bregman_divergence",
    "bernoulli_kl",
    "bernoulli_entropy",
    "kl_factor",
    "md_step",
    "md_stationarity",
    "pgd_eps_prime",
    "pgd_equivalence",
    "vb_step",
    "md_step_numpy",
    "bregman_numpy",
    "pgd_theta_step",
    "pgd_latent_step",
    "vb_step_numpy",
    "prox_step_cvxpy",
    "prox_step_scalar",
    "vb_prox_cvxpy",
]

#: Probability ``theta = P(w = +1)`` after the step (meaningful on ``(0, 1)``).
THETA = sympy.Symbol("theta", positive=True)
#: Probability at the current iterate.
THETA_T = sympy.Symbol("theta_t", positive=True)
#: Step size.
EPS = sympy.Symbol("epsilon", positive=True)
#: Gradient of the (linearized) loss in ``theta``.
G = sympy.Symbol("g", real=True)
#: Prior scaling coefficient of Prop. 2 (``lambda = 1/N``).
LAM = sympy.Symbol("lambda", positive=True)
#: Latent weight after / before the step.
ETA = sympy.Symbol("eta", real=True)
ETA_T = sympy.Symbol("eta_t", real=True)

_MODULES = ["scipy", "numpy"]
_DIVERGENCES = ("kl", "bregman")


def _family(noise) -> NoiseFamily:
    if isinstance(noise, NoiseFamily):
        return noise
    if isinstance(noise, str):
        return get_noise(noise)
    raise InvalidArgument(
        f"noise must be a family name or a NoiseFamily, got {type(noise).__name__} {noise!r}; "
        f"pass one of {', '.join(sorted(NOISE_FAMILIES))}."
    )


# --------------------------------------------------------------------------- symbolic


def mirror_gradient(noise) -> sympy.Expr:
    """``Phi'(theta) = F^{-1}(theta)`` in :data:`THETA` (the condition on Phi in Prop. 1's proof)."""
    return _family(noise).icdf.subs(U, THETA)


def mirror_map(noise) -> sympy.Expr:
    """``Phi(theta) = int_0^theta F^{-1}(u) du`` in :data:`THETA` (App. C.1), simplified."""
    return _mirror_map(_family(noise))


@functools.lru_cache(maxsize=16)
def _mirror_map(fam: NoiseFamily) -> sympy.Expr:
    u = sympy.Symbol("u", positive=True)
    if fam.name == "gaussian":
        # int_0^theta s Phi_N^{-1}(u) du = -s phi_N(Phi_N^{-1}(theta)) with s = sqrt(2/pi);
        # sympy does not integrate erfinv, so this closed form is checked by differentiation
        # (theory tests and the "mirror-map" derivation), not derived.
        return -sympy.exp(-sympy.erfinv(2 * THETA - 1) ** 2) / sympy.pi
    icdf = fam.icdf.subs(U, u)
    if isinstance(icdf, sympy.Piecewise):
        # a quantile given in two pieces split at u = c (triangular: c = 1/2):
        # Phi = int_0^theta piece_1 for theta <= c, int_0^c piece_1 + int_c^theta piece_2 above
        (low, cond), (high, last) = icdf.args
        if len(icdf.args) != 2 or last is not sympy.true or not isinstance(cond, sympy.Le) or cond.lhs != u:
            raise AssertionError(f"unsupported piecewise quantile {icdf}")  # a new family: extend here
        c = cond.rhs
        lower = sympy.expand(sympy.integrate(low, (u, 0, THETA)))
        upper = sympy.expand(sympy.integrate(low, (u, 0, c)) + sympy.integrate(high, (u, c, THETA)))
        return sympy.Piecewise((lower, THETA <= c), (upper, True))
    v = sympy.Symbol("v", positive=True)
    phi = sympy.Integer(0)
    for term in sympy.Add.make_args(sympy.expand_log(icdf, force=True)):
        if term.has(sympy.log(1 - u)):
            # int_0^theta log(1 - u) du = int_{1-theta}^1 log(v) dv keeps the real form (a direct
            # integrate writes it with the principal log(2u - 2), complex on (0, 1))
            phi += sympy.integrate(term.subs(u, 1 - v), (v, 1 - THETA, 1))
        else:
            phi += sympy.integrate(term, (u, 0, THETA))
    return sympy.expand(phi)


def bregman_divergence(noise) -> sympy.Expr:
    """``D_Phi(theta, theta_t)`` of eq. (46) in :data:`THETA`, :data:`THETA_T`."""
    fam = _family(noise)
    phi = _mirror_map(fam)
    return phi - phi.subs(THETA, THETA_T) - mirror_gradient(fam).subs(THETA, THETA_T) * (THETA - THETA_T)


def bernoulli_kl(p=THETA, q=THETA_T) -> sympy.Expr:
    """``KL(Ber(p) || Ber(q)) = p log(p/q) + (1-p) log((1-p)/(1-q))`` (section 3, before (13))."""
    return p * sympy.log(p / q) + (1 - p) * sympy.log((1 - p) / (1 - q))


def bernoulli_entropy(p=THETA) -> sympy.Expr:
    """``H(Ber(p)) = -p log p - (1-p) log(1-p)`` (eq. (55))."""
    return -p * sympy.log(p) - (1 - p) * sympy.log(1 - p)


def kl_factor(noise) -> sympy.Expr | None:
    """The constant ``c`` with ``D_Phi = c KL(Ber(theta)||Ber(theta_t))``, or ``None`` if there is none.

    Both divergences vanish with their first ``theta``-derivative at
    ``theta = theta_t``, so ``D_Phi = c KL`` iff ``D_Phi'' = c KL''``
    identically; the candidate ``c = D_Phi''/KL''`` is accepted only if it is
    constant and ``D_Phi - c KL`` simplifies to 0 (after ``expand_log``).
    """
    return _kl_factor(_family(noise))


@functools.lru_cache(maxsize=16)
def _kl_factor(fam: NoiseFamily):
    d = bregman_divergence(fam)
    kl = bernoulli_kl()
    c = sympy.cancel(sympy.together(sympy.diff(d, THETA, 2) / sympy.diff(kl, THETA, 2)))
    if c.free_symbols or c.has(sympy.Piecewise):
        return None
    diff = sympy.expand(sympy.expand_log(d - c * kl, force=True))
    return c if diff == 0 else None


def md_stationarity(noise) -> sympy.Expr:
    """Left side of the critical-point equation of (12)/(47): ``g + (F^{-1}(theta) - F^{-1}(theta_t))/eps``.

    Obtained by differentiating ``g theta + D_Phi(theta, theta_t)/eps`` in ``theta``.
    """
    fam = _family(noise)
    return G + sympy.diff(bregman_divergence(fam), THETA) / EPS


def md_step(noise) -> sympy.Expr:
    """The MD step ``theta_{t+1} = F(F^{-1}(theta_t) - eps g)`` (eqs. (48)-(49)) in THETA_T, EPS, G."""
    return _md_step(_family(noise))


@functools.lru_cache(maxsize=16)
def _md_step(fam: NoiseFamily) -> sympy.Expr:
    step = fam.cdf.subs(Z, fam.icdf.subs(U, THETA_T) - EPS * G)
    if fam.name == "logistic":
        step = sympy.simplify(step)
    return step


def pgd_eps_prime() -> sympy.Expr:
    """``eps'`` of eq. (11), derived for uniform noise in the interior of ``[0, 1]``.

    With ``eta = F^{-1}(theta) = 2 theta - 1`` and the chain rule
    ``h = dE/deta = g dtheta/deta`` (``dtheta/deta = 1/(F^{-1})' = 1/2``), the
    unclipped PGD step ``theta - eps g`` mapped to ``eta`` must equal
    ``eta - eps' h``; solving for ``eps'`` gives ``4 eps``.
    """
    fam = get_noise("uniform")
    inv = fam.icdf.subs(U, THETA)
    dtheta_deta = 1 / sympy.diff(inv, THETA)
    h = G * dtheta_deta
    eps_p = sympy.Symbol("eps_prime")
    eq = sympy.Eq(inv.subs(THETA, THETA - EPS * G), inv - eps_p * h)
    (sol,) = sympy.solve(eq, eps_p)
    return sympy.simplify(sol)


def pgd_equivalence(eps_factor=4, *, timeout_ms: int = 20_000) -> ObligationResult:
    """z3: for all ``theta in [0,1]``, ``g``, ``eps > 0``, ``F^{-1}(clip(theta - eps g, 0, 1))
    = clip(eta - eps' h, -1, 1)`` with ``eta = 2 theta - 1``, ``h = g/2``, ``eps' = eps_factor * eps``.

    ``eps_factor = 4`` (eq. (11)) is PROVED; any other factor is REFUTED with a counterexample.
    """
    try:
        factor = sympy.Rational(eps_factor)
    except (TypeError, ValueError, sympy.SympifyError):
        raise InvalidArgument(
            f"eps_factor must be a number, got {eps_factor!r}; pass e.g. 4 (eq. (11)) or 2."
        ) from None
    th, g, e = sympy.symbols("theta g epsilon", real=True)
    inv = get_noise("uniform").icdf.subs(U, th)

    def clip(x, lo, hi):
        return sympy.Min(sympy.Max(x, lo), hi)

    eta = inv
    h = g / 2  # = g F'(eta), F' = 1/2 on [-1, 1]
    lhs = get_noise("uniform").icdf.subs(U, clip(th - e * g, 0, 1))
    rhs = clip(eta - factor * e * h, -1, 1)
    hypotheses = (th >= 0, th <= 1, e > 0)
    _audit_domain("pgd_equivalence", hypotheses, (th, g, e), _PGD_DOMAIN_POINTS)
    return prove_step(
        f"SBN-PGD eqs. (10)-(11) with eps' = {factor} eps",
        (th, g, e), hypotheses, sympy.Eq(lhs, rhs), timeout_ms=timeout_ms,
    )


#: Points ``(theta, g, eps)`` on both sides of every boundary of the domain ``theta in [0, 1]``, ``g`` real,
#: ``eps > 0`` that :func:`pgd_equivalence` quantifies over, with whether each lies in it (the docstring's domain).
_PGD_DOMAIN_POINTS = (
    ((0, -3, sympy.Rational(1, 10**9)), True), ((1, 3, sympy.Rational(1, 10**9)), True),
    ((sympy.Rational(1, 2), 0, 5), True), ((-sympy.Rational(1, 10**9), 0, 1), False),
    ((1 + sympy.Rational(1, 10**9), 0, 1), False), ((sympy.Rational(1, 2), 0, 0), False),
    ((sympy.Rational(1, 2), 0, -sympy.Rational(1, 10**9)), False),
)


def _audit_domain(what: str, hypotheses, symbols, points) -> None:
    """Check that the hypotheses of a z3 obligation describe the domain its docstring states: at each known point
    (both sides of every boundary) their conjunction must be true exactly when the point lies in that domain.  A
    proof under narrower hypotheses (e.g. ``theta >= 1`` for ``theta >= 0``) would still print PROVED while
    covering less; this makes it an error instead.  Raises :class:`~stecheck.errors.SelfCheckFailed`."""
    wrong = []
    for values, inside in points:
        sub = dict(zip(symbols, values))
        holds = all(bool(h.subs(sub)) for h in hypotheses)
        if holds != inside:
            wrong.append(f"{dict(zip([str(s) for s in symbols], [str(v) for v in values]))} is "
                         f"{'inside' if inside else 'outside'} the stated domain but the hypotheses "
                         f"{'reject' if inside else 'admit'} it")
    if wrong:
        raise SelfCheckFailed(f"{what}: the hypotheses {[str(h) for h in hypotheses]} do not describe the stated "
                              "domain: " + "; ".join(wrong) + ". Fix the hypotheses in theory/mirror.py.")


def vb_step(divergence: str = "kl") -> dict[str, sympy.Expr]:
    """Prop. 2's composite step, derived from the critical point of (55).

    ``divergence='kl'`` (as printed): ``F = sigmoid``, ``eta = logit theta``,
    problem ``g theta + KL(theta||theta_t)/eps - lambda H(theta)``.
    ``divergence='bregman'``: the repository's ``F = sigmoid(2z)`` with its own
    divergence ``D_Phi = KL/2`` and ``eta = F^{-1}(theta) = logit(theta)/2``;
    the prior term stays ``-lambda H`` (``= lambda KL(theta||1/2)`` up to ``log 2``).

    Returns ``stationarity`` (eq. (56b), in ``theta``), ``eta_next`` (solved),
    ``eq57`` (the printed form ``eta_t - eps/(eps lambda + 1) (lambda eta_t + g)``
    or its analogue), ``eq58`` (the step with the factor dropped),
    ``dropped_factor`` and ``difference_58_minus_57``.
    """
    if divergence not in _DIVERGENCES:
        raise InvalidArgument(
            f"divergence must be one of {_DIVERGENCES}, got {divergence!r}; 'kl' is the paper's "
            f"(55) with F = sigmoid, 'bregman' the divergence of F = sigmoid(2z)."
        )
    return dict(_vb_step(divergence))


@functools.lru_cache(maxsize=4)
def _vb_step(divergence: str):
    k = 1 if divergence == "kl" else 2             # F(z) = sigmoid(k z), eta = logit(theta)/k
    scale = sympy.Rational(1, k)                    # D = KL/k (kl_factor; k = 1 is KL itself)
    objective = G * THETA + scale * bernoulli_kl() / EPS - LAM * bernoulli_entropy()
    stat = sympy.expand_log(sympy.diff(objective, THETA), force=True)
    # write the logits through eta: log(theta) - log(1 - theta) = k eta
    stat_eta = stat.subs(sympy.log(THETA), k * ETA + sympy.log(1 - THETA))
    stat_eta = stat_eta.subs(sympy.log(THETA_T), k * ETA_T + sympy.log(1 - THETA_T))
    stat_eta = sympy.simplify(stat_eta)
    if stat_eta.has(THETA) or stat_eta.has(THETA_T):
        raise AssertionError(f"stationarity did not reduce to logits: {stat_eta}")  # a bug
    (eta_next,) = sympy.solve(sympy.Eq(stat_eta, 0), ETA)
    decay = k * LAM                                 # lambda * logit(theta) = k lambda eta
    factor = 1 / (EPS * decay + 1)
    eq57 = ETA_T - EPS * factor * (decay * ETA_T + G)
    eq58 = ETA_T - EPS * (G + decay * ETA_T)
    return (
        ("stationarity", stat),
        ("stationarity_in_eta", stat_eta),
        ("eta_next", sympy.simplify(eta_next)),
        ("eq57", eq57),
        ("eq58", eq58),
        ("latent_decay", decay),
        ("dropped_factor", factor),
        ("difference_58_minus_57", sympy.factor(sympy.simplify(eq58 - eq57))),
    )


# --------------------------------------------------------------------------- numeric


def _finite_array(x, what: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{what} must be numeric, got {x!r}; pass a float or an array of floats.") from None
    if not np.all(np.isfinite(arr)):
        raise InvalidArgument(f"{what} must be finite, got {x!r}; remove inf/nan values.")
    return arr


def _check_inputs(theta_t, g, eps, *, open_interval: bool = True):
    th = _finite_array(theta_t, "theta_t")
    gg = _finite_array(g, "g")
    ee = _finite_array(eps, "eps")
    lo_ok = np.all(th > 0) and np.all(th < 1) if open_interval else np.all(th >= 0) and np.all(th <= 1)
    if not lo_ok:
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise InvalidArgument(
            f"theta_t must lie in {interval} (a probability), got {theta_t!r}; clip it into {interval}."
        )
    if not np.all(ee > 0):
        raise InvalidArgument(f"eps must be positive, got {eps!r}; pass a step size > 0.")
    try:
        th, gg, ee = np.broadcast_arrays(th, gg, ee)
    except ValueError:
        raise InvalidArgument(
            f"theta_t, g, eps have incompatible shapes {np.shape(theta_t)}, {np.shape(g)}, "
            f"{np.shape(eps)}; pass arrays of one shape (or scalars)."
        ) from None
    return th, gg, ee


@functools.lru_cache(maxsize=16)
def _np_funcs(fam: NoiseFamily):
    _, cdf, icdf = fam.numpy_functions()
    breg = sympy.lambdify((THETA, THETA_T), bregman_divergence(fam), modules=_MODULES)
    return cdf, icdf, breg


def md_step_numpy(noise) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Vectorized ``(theta_t, g, eps) -> F(F^{-1}(theta_t) - eps g)``."""
    fam = _family(noise)
    cdf, icdf, _ = _np_funcs(fam)

    def step(theta_t, g, eps):
        th, gg, ee = _check_inputs(theta_t, g, eps)
        return np.asarray(cdf(icdf(th) - ee * gg), dtype=float)

    return step


def bregman_numpy(noise) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Vectorized ``(theta, theta_t) -> D_Phi(theta, theta_t)``."""
    fam = _family(noise)
    _, _, breg = _np_funcs(fam)

    def d(theta, theta_t):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(breg(np.asarray(theta, float), np.asarray(theta_t, float)), dtype=float)

    return d


def pgd_theta_step(theta, g, eps) -> np.ndarray:
    """Eq. (10): ``clip(theta - eps g, 0, 1)``."""
    th, gg, ee = _check_inputs(theta, g, eps, open_interval=False)
    return np.clip(th - ee * gg, 0.0, 1.0)


def pgd_latent_step(eta, h, eps_prime) -> np.ndarray:
    """Eq. (11): ``clip(eta - eps' h, -1, 1)``."""
    et = _finite_array(eta, "eta")
    if not (np.all(et >= -1) and np.all(et <= 1)):
        raise InvalidArgument(f"eta must lie in [-1, 1] (uniform noise), got {eta!r}; clip it.")
    hh, ee = _finite_array(h, "h"), _finite_array(eps_prime, "eps_prime")
    if not np.all(ee > 0):
        raise InvalidArgument(f"eps_prime must be positive, got {eps_prime!r}.")
    return np.clip(et - ee * hh, -1.0, 1.0)


def _vb_numpy_selftest_failures() -> list[str]:
    """:func:`vb_step_numpy` against the closed form of the step, or ``[]``.

    With ``F(z) = sigmoid(k z)`` (``k = 1`` for ``"kl"``, 2 for ``"bregman"``), ``eta_t = logit(theta_t) / k``,
    eq. (57) solved is ``eta = (eta_t - eps g) / (1 + eps k lam)`` and eq. (58) is ``eta_t - eps (g + k lam eta_t)``;
    ``theta_{t+1} = 1 / (1 + e^(-k eta))``, here in 30-digit mpmath at four points including ``lam = 0`` (no prior:
    the plain mirror-descent step ``sigmoid(logit(theta_t) - k eps g)``, which SBN-P2's solver comparison never
    reaches) and a large ``lam``.  Tolerance ``1e-14`` absolute: the float step is a few roundings of operands of
    order 1 (``theta`` in (0, 1), ``|logit| <= 3``)."""
    import mpmath

    points = [(0.3, 0.7, 0.5, 0.0), (0.9, -1.2, 0.25, 0.0), (0.2, 0.4, 0.1, 1.5), (0.6, -2.0, 0.3, 20.0)]
    th, g, eps, lam = (np.array(c) for c in zip(*points))
    bad = []
    for divergence, k in (("kl", 1), ("bregman", 2)):
        for drop in (False, True):
            try:
                got = vb_step_numpy(divergence, drop_factor=drop)(th, g, eps, lam)
            except InvalidArgument as exc:  # every point is valid: lam >= 0, theta in (0, 1), eps > 0
                bad.append(f"vb_step_numpy({divergence!r}, drop_factor={drop}) refuses the valid points "
                           f"(theta, g, eps, lam) = {points}: {exc}")
                continue
            with mpmath.workdps(30):
                want = []
                for t0, g0, e0, l0 in points:
                    t0, g0, e0, l0 = (mpmath.mpf(v) for v in (t0, g0, e0, l0))
                    eta_t = mpmath.log(t0 / (1 - t0)) / k
                    eta = eta_t - e0 * (g0 + k * l0 * eta_t) if drop else (eta_t - e0 * g0) / (1 + e0 * k * l0)
                    want.append(float(1 / (1 + mpmath.exp(-k * eta))))
            if not (got.shape == th.shape and np.all(np.abs(got - np.array(want)) <= 1e-14)):
                bad.append(f"vb_step_numpy({divergence!r}, drop_factor={drop}) at (theta, g, eps, lam) = {points} "
                           f"gives {got.tolist()}; expected the closed form {want}")
    return bad


#: :func:`_vb_numpy_selftest_failures` once per process, at the first step function made.
_vb_numpy_selftest = OncePerProcess(
    _vb_numpy_selftest_failures, what="theory.mirror.vb_step_numpy misses the closed form of eqs. (57)-(58)",
    remedy="Fix vb_step_numpy or _vb_step in theory/mirror.py.")


def vb_step_numpy(divergence: str = "kl", *, drop_factor: bool = False):
    """Vectorized ``(theta_t, g, eps, lam) -> theta_{t+1}`` of eq. (57) (or (58) with ``drop_factor``).

    Checked once per process against the closed form, ``lam = 0`` included (:func:`_vb_numpy_selftest_failures`)."""
    _vb_numpy_selftest()
    res = vb_step(divergence)
    k = 1 if divergence == "kl" else 2
    expr = res["eq58"] if drop_factor else res["eq57"]
    f = sympy.lambdify((ETA_T, G, EPS, LAM), expr, modules=_MODULES)

    def step(theta_t, g, eps, lam):
        th, gg, ee = _check_inputs(theta_t, g, eps)
        ll = _finite_array(lam, "lam")
        if not np.all(ll >= 0):
            raise InvalidArgument(f"lam must be >= 0, got {lam!r}.")
        eta_t = np.log(th / (1 - th)) / k
        eta = np.asarray(f(eta_t, gg, ee, ll), dtype=float)
        return 1.0 / (1.0 + np.exp(-k * eta))

    return step


def _solve(problem, what: str) -> None:
    import cvxpy as cp

    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise ArithmeticError(f"{what}: cvxpy status {problem.status}")  # a solver failure, not the user's


def prox_step_cvxpy(noise, g, theta_t, eps, *, kl_scale=None) -> np.ndarray:
    """Solve the proximal problem (12) ``argmin_{theta in [0,1]^m} <g, theta> + D(theta, theta_t)/eps`` with cvxpy.

    ``logistic``: ``D = kl_scale * KL(Ber(theta)||Ber(theta_t))`` (exponential
    cone via ``cp.rel_entr``); default ``kl_scale`` is 1/2, the factor of
    ``D_Phi`` for ``F = sigmoid(2z)``; ``kl_scale=1`` is (12) with the plain KL.
    ``uniform``: ``D = (theta - theta_t)^2`` (= ``D_Phi``, a QP with the box constraint).
    Other families: use :func:`prox_step_scalar`.
    """
    import cvxpy as cp

    fam = _family(noise)
    th, gg, ee = _check_inputs(theta_t, g, eps)
    shape = th.shape
    th, gg, ee = th.ravel(), gg.ravel(), ee.ravel()
    x = cp.Variable(th.size)
    cons = [x >= 0, x <= 1]  # the box of (12) (for logistic noise also implied by the domain of rel_entr)
    if fam.name == "logistic":
        s = 0.5 if kl_scale is None else float(_finite_array(kl_scale, "kl_scale"))
        if s <= 0:
            raise InvalidArgument(f"kl_scale must be positive, got {kl_scale!r}.")
        div = cp.rel_entr(x, th) + cp.rel_entr(1 - x, 1 - th)
        obj = gg @ x + cp.sum(cp.multiply(s / ee, div))
    elif fam.name == "uniform":
        if kl_scale is not None:
            raise InvalidArgument("kl_scale applies to logistic noise only; omit it for 'uniform'.")
        obj = gg @ x + cp.sum(cp.multiply(1 / ee, cp.square(x - th)))
    else:
        raise InvalidArgument(
            f"prox_step_cvxpy handles 'logistic' and 'uniform', got {fam.name!r}; "
            f"use prox_step_scalar for {fam.name!r}."
        )
    _solve(cp.Problem(cp.Minimize(obj), cons), f"prox step ({fam.name})")
    return _box_solution(x.value, f"prox step ({fam.name})").reshape(shape)


#: How far a solver's point may leave the box ``[0, 1]`` of (12) and (55) (Clarabel's feasibility tolerance is
#: 1e-10; the interior-point iterate at an active bound is within ~1e-9 of it).
_BOX_SLACK = 1e-7


def _box_solution(value, what: str) -> np.ndarray:
    """The solver's point, checked to lie in the feasible box ``[0, 1]^m`` of the problem as stated (to
    :data:`_BOX_SLACK`), then clipped onto it (removing the solver's tolerance-sized excursions).  A point farther
    out means the problem handed to the solver is not the stated one (a wrong constraint): SelfCheckFailed."""
    v = np.asarray(value, dtype=float)
    out = np.flatnonzero(~((v >= -_BOX_SLACK) & (v <= 1 + _BOX_SLACK)))
    if out.size:
        k = int(out[0])
        raise SelfCheckFailed(f"{what}: the solver returned theta = {v.ravel()[k]!r} at coordinate {k}, outside the "
                              f"feasible box [0, 1] of the stated problem (slack {_BOX_SLACK:g}); the constraints "
                              "given to cvxpy are wrong. Fix them in theory/mirror.py.")
    return np.clip(v, 0.0, 1.0)


def prox_step_scalar(noise, g, theta_t, eps, *, xatol: float = 1e-12) -> np.ndarray:
    """Solve (12) coordinate-wise with ``scipy.optimize.minimize_scalar`` (bounded on ``[0, 1]``).

    Uses only ``D_Phi`` (:func:`bregman_numpy`), never the closed-form step.
    """
    from scipy.optimize import minimize_scalar

    fam = _family(noise)
    th, gg, ee = _check_inputs(theta_t, g, eps)
    d = bregman_numpy(fam)
    out = np.empty(th.shape)
    for idx in np.ndindex(th.shape):
        t, gi, ei = th[idx], gg[idx], ee[idx]

        def f(x, t=t, gi=gi, ei=ei):
            return gi * x + float(d(x, t)) / ei

        res = minimize_scalar(f, bounds=(0.0, 1.0), method="bounded", options={"xatol": xatol})
        best = res.x
        for end in (0.0, 1.0):  # the bounded method never evaluates the end points themselves
            if np.isfinite(f(end)) and f(end) <= f(best):
                best = end
        out[idx] = best
    return out


def vb_prox_cvxpy(g, theta_t, eps, lam, *, kl_scale: float = 1.0) -> np.ndarray:
    """Solve eq. (55) ``argmin <g, theta> + kl_scale KL(theta||theta_t)/eps - lam H(theta)`` with cvxpy.

    ``kl_scale = 1`` is the paper's problem; ``1/2`` the divergence of ``F = sigmoid(2z)``.
    """
    import cvxpy as cp

    th, gg, ee = _check_inputs(theta_t, g, eps)
    ll = _finite_array(lam, "lam")
    if not np.all(ll >= 0):
        raise InvalidArgument(f"lam must be >= 0, got {lam!r}.")
    if not kl_scale > 0:
        raise InvalidArgument(f"kl_scale must be positive, got {kl_scale!r}.")
    th, gg, ee, ll = (np.broadcast_to(v, th.shape).ravel() for v in (th, gg, ee, ll))
    x = cp.Variable(th.size)
    kl = cp.rel_entr(x, th) + cp.rel_entr(1 - x, 1 - th)
    neg_entropy = -cp.entr(x) - cp.entr(1 - x)
    obj = gg @ x + cp.sum(cp.multiply(kl_scale / ee, kl)) + cp.sum(cp.multiply(ll, neg_entropy))
    _solve(cp.Problem(cp.Minimize(obj), [x >= 0, x <= 1]), "variational prox step (55)")
    return _box_solution(x.value, "variational prox step (55)").reshape(np.shape(theta_t))
