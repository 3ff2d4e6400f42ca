"""Constants shared by the claim modules: the SBN seed file, the noise families, the Monte Carlo level."""

from numerics.noise import NOISES as _NOISES

#: The SBN paper ("Reintroducing Straight-Through Estimators ...") in ``shared/seeds/``.
SEED_FILE = "002_6db3e70c79559b51.txt"
#: The noise families scaled so that 2F'(0) = 1, in registry order: logistic, uniform, triangular, gaussian.
NOISES = tuple(_NOISES)
#: Family-wise confidence of every Monte Carlo interval a claim method uses.
CONFIDENCE = 0.999
