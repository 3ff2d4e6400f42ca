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
* :mod:`numerics.encodings` -- the +-1 and {0,1} state encodings;
* :mod:`numerics.estimators` -- single-sample estimates: ST (Alg. 1), identity ST,
  deterministic ST, local expectations (eq. 6), ARM, REINFORCE, Gumbel-Softmax,
  ST Gumbel-Softmax, ST weights (Alg. 2);
* :mod:`numerics.deep` -- chains of stochastic binary layers, deep ST and exact gradients;
* :mod:`numerics.metrics` -- expected cosine similarity, expected improvement, RMSE (eqs. (61)-(67));
* :mod:`numerics.seeding` -- deterministic ``SeedSequence`` per task and chunk;
* :mod:`numerics.montecarlo` -- reproducible chunked Monte Carlo means with
  CLT or empirical-Bernstein intervals;
* :mod:`numerics.distributed` -- the same Monte Carlo over Dask futures, checkpointed and resumable;
* :mod:`numerics.quadrature` -- certified (python-flint Arb) and estimated (mpmath) quadrature.

Importing this package has no side effects.
"""
