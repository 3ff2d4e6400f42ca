"""Symbolic derivations (sympy) behind the SBN straight-through claims.

Modules, one job each:

* :mod:`theory.noise`: noise families scaled to ``2F'(0) = 1`` and their proxies (Fig. A.1),
* :mod:`theory.multilinear`: multilinear forms on the cube, Prop. B.3 eq. (20),
* :mod:`theory.bernoulli_layer`: exact / ST / identity-ST / deterministic-ST gradients (eqs. (3)-(9)),
* :mod:`theory.examples`: Examples 1 and 2 of App. B.2,
* :mod:`theory.population`: population loss and expected STE gradients for Gaussian input (QSTE),
* :mod:`theory.gumbel_softmax`: Gumbel-Softmax and ST-GS expectations, bias and variance series (App. E),
* :mod:`theory.mirror`: mirror maps, Bregman divergences, MD and composite steps (section 3, App. C),
* :mod:`theory.obligations`: algebraic proof steps as z3 queries (Props. B.5, B.7),
* :mod:`theory.enumeration`: plain numpy enumeration used as the independent cross-check,
* :mod:`theory.parsing`: parsing a loss given as text,
* :mod:`theory.result`, :mod:`theory.derive_cache`, :mod:`theory.derivations` and the
  catalogs :mod:`theory.catalog`, :mod:`theory.population_catalog`,
  :mod:`theory.gumbel_catalog`, :mod:`theory.mirror_catalog`: the ``stecheck derive``
  registry, its results and cache.

Importing the package imports no submodule; import the one you need.
"""
