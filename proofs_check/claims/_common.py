"""Constants shared by the claim modules: the SBN seed file, the noise families, the Monte Carlo level."""

import functools

from stecheck.numerics.noise import NOISES as _NOISES

from ..claim import Source

#: The SBN paper ("Reintroducing Straight-Through Estimators ...") in ``shared/seeds/``.
SEED_FILE = "002_6db3e70c79559b51.txt"
#: How the report names the SBN paper (the seed is the anonymous ICLR 2021 submission).
SBN_PAPER = ("Reintroducing Straight-Through Estimators as Principled Methods for Stochastic Binary Networks "
             "(A. Shekhovtsov, V. Yanush; anonymous ICLR 2021 submission, later published at GCPR 2021; "
             "arXiv:2006.06880)")
#: The QSTE paper, known here from two summaries (seeds 000 and 001).
QSTE_SEED_FILES = "000_475ff5a2132a06f6.txt, 001_3ba1488f6a23a669.txt"
QSTE_PAPER = ("Beyond Discreteness: Finite-Sample Analysis of Straight-Through Estimator for Quantization "
              "(H. Jeong, J. Xin, P. Yin; arXiv:2505.18113), from two summaries")
#: The noise families scaled so that 2F'(0) = 1, in registry order: logistic, uniform, triangular, gaussian.
NOISES = tuple(_NOISES)
#: Family-wise confidence of every Monte Carlo interval a claim method uses.
CONFIDENCE = 0.999

#: ``SbnSource(section, equations)``: a place in the SBN paper.
SbnSource = functools.partial(Source, SEED_FILE, paper=SBN_PAPER)
#: ``QsteSource(section, equations)``: a place in the QSTE summaries.
QsteSource = functools.partial(Source, QSTE_SEED_FILES, paper=QSTE_PAPER)
