"""Numerical engine of stecheck: noises, losses, exact enumeration, estimators, Monte Carlo.

Mathematical setting (paper Sec. 2, eq. (1)): binary states
``x_i = sign(a_i - z_i)`` with ``z_i`` iid of cdf ``F``, so
``P(x_i = +1) = F(a_i)``; the objects of study are ``E[L(x)]``, its gradient
in ``a`` (eqs. (4)-(6)) and the straight-through estimators of Alg. 1.

Modules (each states what it computes and its error):

* :mod:`numerics.noise` -- noise families with ``2 F'(0) = 1``;
* :mod:`numerics.losses` -- vectorized loss objects ``value``/``grad``;
* :mod:`numerics.enumeration` -- exact sums over ``{-1, +1}^n`` (``n <= 22``)
  with a-priori rounding bounds;
* :mod:`numerics.estimators` -- single-sample ST / identity ST /
  deterministic ST / local-expectation estimates;
* :mod:`numerics.seeding` -- deterministic ``SeedSequence`` per task and chunk;
* :mod:`numerics.montecarlo` -- reproducible chunked Monte Carlo means with
  CLT or empirical-Bernstein intervals.

Importing this package has no side effects.
"""
