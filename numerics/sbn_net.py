"""A small network core for training stochastic binary networks (SBN paper, sections 3-5, appendices D, F).

Layers act on a batch ``X (B, d)`` (rows are samples) with explicit forward
and backward passes in numpy; every backward is the exact derivative of its
forward (tested against complex-step differences in
``tests/numerics/test_sbn_net.py``) except the binary units, whose backward is
the straight-through estimate named by the layer:

* :class:`Dense` ``y = x W^T + b``; :func:`relu`; :class:`BatchNorm` (batch
  statistics, ``y = gamma (x - mean) / sqrt(var + eps) + beta``, the standard
  training-mode BN);
* :class:`StochasticBinary`: the unit of eq. (1), ``x = enc(a - z >= 0)`` with
  ``z`` iid from a noise family of :mod:`numerics.noise` (``P(on) = F(a)``),
  ``enc`` the encoding (``"pm1"`` = sign, or ``"01"``, :mod:`numerics.encodings`).
  Backward (Alg. 1; the names of :mod:`numerics.estimators`): ``"st"`` scales
  the incoming gradient by ``c F'(a)`` (``c`` the span), ``"identity_st"`` by 1,
  ``"deterministic_st"`` samples nothing (``z = 0``, the mode) and scales by
  ``c F'(a)``.  For one layer and a shared ``a`` these are exactly
  :func:`numerics.estimators.st_estimates` etc. (tested);
* :class:`BernoulliWeights`: latent logits ``eta``, weights ``w = sign(eta - z)``
  (Alg. 2), identity backward ``dL/deta := dL/dw``;
* :func:`softmax_cross_entropy`: the mean multinomial log-loss and its gradient;
* :class:`BinaryWeightMLP`: ``x -> BN(x W_1^T) -> ReLU -> BN(. W_2^T)`` with
  real weight matrices supplied per call (hard +-1 or soft in [-1, 1]): the
  closure a weight optimizer (BayesBiNN, latent SGD) differentiates.

Data: :func:`load_digits_split` loads scikit-learn's bundled digits (1797
8x8 images, 10 classes), scales features to [0, 1] and splits it with a seeded
permutation.

Accuracy: every forward and backward is a few dense float64 operations (relative
error ``O(d u)`` for a reduction of length ``d``, ``u = 2^-53``); nothing is
approximated except the ST backward of the binary units, which is an estimator
(its bias is the subject of the paper, not a rounding error).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument
from stecheck.selftest import OncePerProcess

from ._validation import as_int, short_repr
from .encodings import check_encoding, encode, span
from .noise import Noise, resolve_noise

__all__ = [
    "BINARY_ESTIMATORS",
    "Dense",
    "relu",
    "relu_backward",
    "BatchNorm",
    "StochasticBinary",
    "BernoulliWeights",
    "softmax_cross_entropy",
    "BinaryWeightMLP",
    "DigitsData",
    "load_digits_split",
    "check_estimator",
    "check_width",
    "DeepSBN",
    "Adam",
    "train_deep_sbn",
    "DeepSBNStack",
    "softmax_cross_entropy_stack",
    "train_deep_sbn_seeds",
    "map_tasks",
]

#: The straight-through backward passes a binary unit supports (names of :mod:`numerics.estimators`).
BINARY_ESTIMATORS = ("st", "identity_st", "deterministic_st")


def check_estimator(name: Any) -> str:
    """``name`` if it is one of :data:`BINARY_ESTIMATORS`, else one clear :class:`InvalidArgument`."""
    if not isinstance(name, str) or name not in BINARY_ESTIMATORS:
        raise InvalidArgument(
            f"unknown binary-unit estimator {short_repr(name)}; valid names are {list(BINARY_ESTIMATORS)}. "
            "Pass one of them, e.g. estimator='st'.")
    return name


def check_width(value: Any, name: str = "width") -> int:
    """A layer width / bit count: an int >= 1 (one clear :class:`InvalidArgument` otherwise)."""
    return as_int(value, name, minimum=1)


def _real(a: np.ndarray) -> np.ndarray:
    return a.real if np.iscomplexobj(a) else a


def _buffer(store: dict | None, key: Any, like: np.ndarray) -> np.ndarray | None:
    """A persistent work array of ``like``'s shape and dtype kept in ``store`` under ``key`` (``None`` when
    ``store`` is ``None``: the caller allocates).  Reusing the same memory every training step avoids the page
    faults of fresh 0.5 MB arrays; the values computed are the same."""
    return None if store is None else _buffer_of(store, key, like.shape, like.dtype)


def _buffer_of(store: dict, key: Any, shape: tuple, dtype: Any) -> np.ndarray:
    """The persistent work array of ``shape`` and ``dtype`` in ``store`` under ``key`` (made on first use)."""
    buf = store.get(key)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = store[key] = np.empty(shape, dtype)
    return buf


def _buffer32(store: dict, key: Any, like: np.ndarray) -> np.ndarray:
    """A persistent float32 work array of ``like``'s shape in ``store`` under ``key``."""
    return _buffer_of(store, key, like.shape, np.float32)


def _sample_pm1(rng: np.random.Generator, p: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``+1`` where ``u <= p`` else ``-1`` (``u ~ U[0, 1)`` iid): ``copysign(1, p - u)``, bitwise the same as
    ``encode(u <= p, "pm1")`` (``p - u`` is ``+0.0`` exactly when ``p = u`` and has the sign of ``p - u``
    otherwise, by gradual underflow) in two passes.  ``out`` (float64, ``p``'s shape) receives the result; the
    draws are the same as ``rng.random(p.shape)``'s."""
    x = rng.random(p.shape) if out is None else rng.random(out=out)
    np.subtract(p, x, out=x)
    return _unit_with_sign_of(x)


#: IEEE-754 binary64: the sign bit, and the bits of +1.0.
_SIGN_BIT, _ONE_BITS = np.int64(-(1 << 63)), np.float64(1.0).view(np.int64)


def _unit_with_sign_of(x: np.ndarray) -> np.ndarray:
    """``copysign(1, x)`` in place for a C-contiguous float64 ``x``, as two integer passes on its bits: keep the sign
    bit, set the rest to those of 1.0 -- bit for bit ``np.copysign(1.0, x)`` for every ``x`` (signed zeros and nans
    included), about twice as fast (numpy's ``copysign`` has no SIMD loop)."""
    if x.dtype != np.float64 or not x.flags.c_contiguous:
        return np.copysign(1.0, x, out=x)
    bits = x.view(np.int64)
    np.bitwise_and(bits, _SIGN_BIT, out=bits)
    np.bitwise_or(bits, _ONE_BITS, out=bits)
    return x


def _cdf(noise: Noise, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``F(a)`` of ``noise``; for the logistic ``F(a) = sigmoid(2a)`` as ``1 / (1 + exp(-2a))`` with numpy's
    vectorized ``exp`` in place (several times faster than ``scipy.special.expit`` on large arrays; a few ulps
    relative error, and ``exp`` overflowing for ``a < -354`` gives ``1/inf = 0``, the correctly rounded value)."""
    if noise.name != "logistic" or np.iscomplexobj(a):
        return noise.cdf(a)
    out = np.multiply(a, -2.0, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


# ---------------------------------------------------------------------------- deterministic layers


class Dense:
    """Affine layer ``y = x W^T + b``, ``W (out, in)``, ``b (out,)``; complex-safe (complex-step tests)."""

    def __init__(self, W: np.ndarray, b: np.ndarray | None = None):
        self.W = np.asarray(W)
        if self.W.ndim != 2:
            raise InvalidArgument(f"Dense: W has shape {self.W.shape}; expected a 2-D (out, in) matrix.")
        self.b = np.zeros(self.W.shape[0]) if b is None else np.asarray(b)
        self._x = None

    @classmethod
    def init(cls, rng: np.random.Generator, n_in: int, n_out: int) -> "Dense":
        """Fan-in-normalized Gaussian init ``W ~ N(0, 1/n_in)``, ``b = 0``."""
        n_in, n_out = check_width(n_in, "n_in"), check_width(n_out, "n_out")
        return cls(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in))

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return x @ self.W.T + self.b

    def backward(self, gy: np.ndarray) -> np.ndarray:
        """Stores ``dW = gy^T x``, ``db = sum_rows gy``; returns ``dx = gy W``."""
        self.dW = gy.T @ self._x
        self.db = gy.sum(axis=0)
        return gy @ self.W


def relu(a: np.ndarray) -> np.ndarray:
    """``max(a, 0)`` (on the real part for complex-step input)."""
    return np.where(_real(a) > 0, a, 0)


def relu_backward(a: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """``gy * 1[a > 0]`` (the derivative of :func:`relu` away from 0; 0 at 0)."""
    return np.where(_real(a) > 0, gy, 0)


class BatchNorm:
    """Training-mode batch normalization over the rows: ``y = gamma xhat + beta``, ``xhat = (x - m)/sqrt(v + eps)``.

    ``m``, ``v`` are the batch mean and (biased) variance per column; the backward is the exact derivative
    through ``m`` and ``v``.  ``affine=False`` fixes ``gamma = 1``, ``beta = 0`` (BayesBiNN's ``bn_affine=0``).
    """

    def __init__(self, width: int, *, eps: float = 1e-5, affine: bool = True, momentum: float = 0.1):
        width = check_width(width, "width")
        if not eps > 0:
            raise InvalidArgument(f"BatchNorm: eps={short_repr(eps)}; expected a positive float such as 1e-5.")
        self.eps, self.affine, self.momentum = float(eps), bool(affine), float(momentum)
        self.gamma, self.beta = np.ones(width), np.zeros(width)
        self.running_mean, self.running_var = np.zeros(width), np.ones(width)
        #: persistent work arrays for the training passes (a dict), or None; the output of one training forward
        #: and backward is then overwritten by the next (DeepSBN sets it; the values are the same either way);
        #: ``scratch``: the same for arrays dead once the next layer has run (may be shared by several layers)
        self.workspace = self.scratch = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Batch statistics (and an update of the running ones) when ``training``, else the running statistics."""
        if not training:
            return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + self.eps) + self.beta
        ws = self.workspace
        if x.dtype == np.float32:
            # exact float32 products (DeepSBN's +-1 layers): converted exactly into the float64 work array, whose
            # column sums add the same float64 values in the same order (row after row) as x.mean(axis=0) would;
            # one same-type reduce and an in-place subtraction are faster than the mixed-type ones
            xc = np.empty(x.shape, np.float64) if ws is None else _buffer_of(ws, "xc", x.shape, np.float64)
            np.copyto(xc, x)
            m = np.add.reduce(xc, axis=0) / x.shape[0]
            xc -= m
        else:
            m = x.mean(axis=0)
            xc = np.subtract(x, m, out=_buffer(ws, "xc", x))
        # sum_b xc_b^2 (no conjugation: complex-step safe), one pass without a temporary
        v = np.einsum("ij,ij->j", xc, xc) / x.shape[0]
        if not np.iscomplexobj(x):
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * m
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * v
        inv = 1.0 / np.sqrt(v + self.eps)
        self._xc, self._inv = xc, inv  # xhat = xc inv is never formed
        out = np.multiply(xc, self.gamma * inv, out=_buffer(ws, "out", xc))
        out += self.beta
        return out

    def backward(self, gy: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """``dx = gamma inv (gy - mean(gy) - xhat mean(gy xhat))`` for the incoming gradient ``scale * gy``: the two
        means are ``dbeta / B`` and ``dgamma / B`` with ``dgamma = inv sum_b gy xc`` (the same formula as
        differentiating through ``m`` and ``v``; ``scale`` lets a caller fold a constant factor in for free)."""
        xc, inv = self._xc, self._inv
        B = gy.shape[0]
        dbeta = gy.sum(axis=0)
        dgamma = np.einsum("ij,ij->j", gy, xc) * inv
        if self.affine:
            self.dgamma, self.dbeta = scale * dgamma, scale * dbeta
        out = np.multiply(xc, dgamma * inv / B, out=_buffer(self.scratch, "bn_gx", gy))
        np.subtract(gy, out, out=out)
        out -= dbeta / B
        out *= (scale * inv) * self.gamma
        return out


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[Any, np.ndarray]:
    """Mean multinomial log-loss ``-(1/B) sum_b log softmax(logits_b)[y_b]`` and its gradient ``(p - onehot)/B``."""
    B = logits.shape[0]
    shift = logits - _real(logits).max(axis=1, keepdims=True)
    e = np.exp(shift)
    s = e.sum(axis=1, keepdims=True)
    logp = shift - np.log(s)
    loss = -logp[np.arange(B), y].mean()
    g = e / s
    g[np.arange(B), y] -= 1.0
    return loss, g / B


# ---------------------------------------------------------------------------- binary units


class StochasticBinary:
    """Stochastic binary unit of eq. (1): ``x = enc(a - z >= 0)``, ``z ~ F`` iid, with an ST backward.

    ``forward(a, rng)`` samples the noise (``deterministic_st`` and ``rng=None`` use ``z = 0``, the mode).
    ``backward(gy)`` returns ``s(a) * gy`` with ``s = c F'(a)`` (st, deterministic_st) or ``1`` (identity_st).
    """

    def __init__(self, noise: Noise | str, estimator: str = "st", *, encoding: str = "pm1"):
        self.noise = resolve_noise(noise)
        self.estimator = check_estimator(estimator)
        self.encoding = check_encoding(encoding)
        self.c = span(self.encoding)
        #: persistent work arrays (see BatchNorm.workspace and BatchNorm.scratch), or None
        self.workspace = self.scratch = None

    def forward(self, a: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        """Sample ``x = enc(a - z >= 0)``.  Drawn by inversion: ``a - z >= 0`` with ``z = F^{-1}(u)``,
        ``u ~ U(0, 1)``, is ``u <= F(a)`` (``F`` non-decreasing), the same law with one uniform per unit."""
        self._a = a
        self._p = None
        if self.estimator == "deterministic_st" or rng is None:
            return encode(a >= 0.0, self.encoding)
        ws = None if np.iscomplexobj(a) else self.workspace
        self._p = _cdf(self.noise, a, _buffer(ws, "p", a))
        if self.encoding == "pm1" and not np.iscomplexobj(a):
            return _sample_pm1(rng, self._p, _buffer(ws, "x", a))
        return encode(rng.random(a.shape) <= self._p, self.encoding)

    def backward(self, gy: np.ndarray) -> np.ndarray:
        if self.estimator == "identity_st":
            return gy
        out, const = self.backward_unscaled(gy)
        out *= const
        return out

    def backward_unscaled(self, gy: np.ndarray) -> tuple[np.ndarray, float]:
        """``(t, k)`` with ``backward(gy) = k t``: the caller may fold the constant ``k`` into a later product."""
        if self.estimator == "identity_st":
            return gy.copy(), 1.0
        if self.noise.name == "logistic" and self._p is not None:
            # F = sigmoid(2z): F'(a) = 2 F(a) (1 - F(a)), from the probabilities of the forward pass
            p = self._p
            out = np.subtract(1.0, p, out=_buffer(self.scratch, "st_g", p) if gy.dtype == p.dtype else None)
            out *= p
            out *= gy
            return out, self.c * 2.0
        return self.noise.pdf(self._a) * gy, self.c


class BernoulliWeights:
    """Binary weights ``w = sign(eta - z)`` with latent logits ``eta`` and noise ``F`` (Alg. 2).

    ``P(w = +1) = F(eta)``; ``sample(rng)`` draws a weight matrix, ``mode()`` is ``sign(eta)``
    (``sign(0) = +1``); the backward of Alg. 2 is the identity, ``dL/deta := dL/dw``.
    """

    def __init__(self, eta: np.ndarray, noise: Noise | str = "logistic"):
        self.eta = np.array(eta, dtype=np.float64)
        self.noise = resolve_noise(noise)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """``sign(eta - z)``, drawn by inversion as ``u <= F(eta)`` (see :meth:`StochasticBinary.forward`)."""
        return encode(rng.random(self.eta.shape) <= self.noise.cdf(self.eta), "pm1")

    def mode(self) -> np.ndarray:
        return encode(self.eta >= 0.0, "pm1")

    def probabilities(self) -> np.ndarray:
        return self.noise.cdf(self.eta)

    @staticmethod
    def backward(gw: np.ndarray) -> np.ndarray:
        return gw


# ---------------------------------------------------------------------------- a binary-weight MLP


class BinaryWeightMLP:
    """``logits = BN_2(ReLU(BN_1(X W_1^T)) W_2^T)``: two weight matrices, BN without affine parameters.

    The model of the SBN-F1/F2 experiments (BinaryConnect-style MLP as in Meng et al.'s MNIST runs,
    scaled down): ``W_1 (h, d)``, ``W_2 (k, h)`` are supplied per call, so the same closure serves hard
    (+-1) and soft (tanh) weights.  :meth:`loss_and_grad` returns the mean cross-entropy and its exact
    gradient in ``(W_1, W_2)``.
    """

    def __init__(self, d: int, h: int, k: int, *, bn_eps: float = 1e-5):
        _kernel_selftest()
        self.d, self.h, self.k = check_width(d, "d"), check_width(h, "hidden width"), check_width(k, "k")
        self.bn1 = BatchNorm(self.h, eps=bn_eps, affine=False)
        self.bn2 = BatchNorm(self.k, eps=bn_eps, affine=False)
        self.shapes = ((self.h, self.d), (self.k, self.h))
        self.n_weights = self.h * self.d + self.k * self.h

    def split(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(W_1, W_2)`` from a flat vector of length :attr:`n_weights` (row-major)."""
        n1 = self.h * self.d
        return flat[:n1].reshape(self.shapes[0]), flat[n1:].reshape(self.shapes[1])

    def logits(self, flat_w: np.ndarray, X: np.ndarray) -> np.ndarray:
        W1, W2 = self.split(flat_w)
        self._X = X
        self._l1 = Dense(W1)
        self._a1 = self.bn1.forward(self._l1.forward(X))
        self._l2 = Dense(W2)
        return self.bn2.forward(self._l2.forward(relu(self._a1)))

    def loss_and_grad(self, flat_w: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean cross-entropy at weights ``flat_w`` on ``(X, y)`` and its gradient in ``flat_w``."""
        loss, g = softmax_cross_entropy(self.logits(flat_w, X), y)
        g = self._l2.backward(self.bn2.backward(g))
        self._l1.backward(self.bn1.backward(relu_backward(self._a1, g)))
        return loss, np.concatenate([self._l1.dW.ravel(), self._l2.dW.ravel()])

    def accuracy(self, flat_w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        """Classification accuracy with batch statistics of ``X`` (the whole evaluation set)."""
        return float(np.mean(_real(self.logits(flat_w, X)).argmax(axis=1) == y))


# ---------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DigitsData:
    """A seeded train/test split of scikit-learn's digits, features scaled to [0, 1]."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_train(self) -> int:
        return int(self.y_train.size)


def load_digits_split(seed: int = 0, test_fraction: float = 0.2) -> DigitsData:
    """scikit-learn's bundled digits (1797 x 64, 10 classes) split with ``default_rng(seed).permutation``."""
    if not 0.0 < float(test_fraction) < 1.0:
        raise InvalidArgument(f"test_fraction={short_repr(test_fraction)}; expected a float in (0, 1) such as 0.2.")
    try:
        from sklearn.datasets import load_digits
        data = load_digits()
    except Exception as exc:  # an ImportError or a damaged installation
        raise InvalidArgument(
            f"cannot load scikit-learn's digits data set ({type(exc).__name__}: {exc}); "
            "install scikit-learn (pip install scikit-learn) and retry.") from None
    X = np.asarray(data.data, dtype=np.float64) / 16.0
    y = np.asarray(data.target, dtype=np.int64)
    perm = np.random.default_rng(as_int(seed, "seed", minimum=0)).permutation(y.size)
    n_test = int(round(float(test_fraction) * y.size))
    te, tr = perm[:n_test], perm[n_test:]
    return DigitsData(X[tr], y[tr], X[te], y[te])


# ---------------------------------------------------------------------------- a deep SBN (Fig. D.2, scaled down)


class Adam:
    """Adam (Kingma & Ba 2014; PyTorch defaults beta = (0.9, 0.999), eps = 1e-8) over a dict of arrays, in place."""

    def __init__(self, params: dict, lr: float = 0.01, betas=(0.9, 0.999), eps: float = 1e-8):
        if not lr > 0:
            raise InvalidArgument(f"Adam: lr={short_repr(lr)}; expected a positive float such as 0.01.")
        self.params, self.lr, self.b1, self.b2, self.eps = params, float(lr), betas[0], betas[1], eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self._tmp: dict = {}  # one persistent work array per parameter
        self.t = 0

    def step(self, grads: dict) -> None:
        """``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g^2``, ``p -= lr (m/c1) / (sqrt(v/c2) + eps)``, in place
        (regrouped as ``(sqrt(c2)/c1) m / (sqrt(v) + eps sqrt(c2))``, which changes the result by a few ulps)."""
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        b1, b2, a1, a2 = self.b1, self.b2, 1 - self.b1, 1 - self.b2
        # (m/c1) / (sqrt(v/c2) + eps) = (sqrt(c2)/c1) m / (sqrt(v) + eps sqrt(c2))
        shift, rate = self.eps * math.sqrt(c2), self.lr * math.sqrt(c2) / c1
        ms, vs, ps, tmps = self.m, self.v, self.params, self._tmp
        multiply, sqrt, divide = np.multiply, np.sqrt, np.divide
        for k, g in grads.items():
            m, v = ms[k], vs[k]
            m *= b1
            tmp = multiply(g, a1, out=_buffer(tmps, k, m) if g.dtype == m.dtype else None)
            m += tmp
            v *= b2
            multiply(g, g, out=tmp)
            tmp *= a2
            v += tmp
            sqrt(v, out=tmp)
            tmp += shift
            divide(m, tmp, out=tmp)
            tmp *= rate
            ps[k] -= tmp


def _support_clip(support: tuple[float, float]) -> tuple[float, float] | None:
    """The clip interval of the latent weights for a noise of support ``(lo, hi)``: ``None`` when both ends are
    infinite (nothing to clip), else ``(lo, hi)`` (one infinite end clips one side only)."""
    lo, hi = support
    return None if (math.isinf(lo) and math.isinf(hi)) else (lo, hi)


def _clip_latent(params: dict, depth: int, clip: tuple[float, float] | None) -> None:
    """Projection of eqs. (10)-(11): clip each latent weight array ``eta_1 .. eta_depth`` of ``params`` to the noise
    support ``clip = (lo, hi)``, in place (``None``: unbounded noise, nothing to do)."""
    if clip is not None:
        for j in range(1, depth + 1):
            np.clip(params[f"eta{j}"], *clip, out=params[f"eta{j}"])


class DeepSBN:
    """A deep stochastic binary network in the spirit of the paper's Fig. D.2, as an MLP.

    ``x0 -> Dense_0 (real) -> BN_0 -> SB_0 -> [BernoulliDense_j -> BN_j -> SB_j]_{j=1..depth} -> Dense_out (real)
    -> softmax``.  ``SB`` are stochastic binary units ``sign(a - z)`` (noise ``F``, ST backward ``2F'(a)``,
    Alg. 1), BN has affine terms (section 4: they set the pre-activation scale relative to the noise), the
    hidden weights are +-1 Bernoulli with latent ``eta`` (``w = sign(eta - z)``, identity backward, Alg. 2),
    initialized as in section 4: ``theta ~ U(0, 1)``, ``eta = F^{-1}(theta)``.  For noise with bounded support
    ``eta`` is clipped to the support after each step (PGD on theta, eqs. (10)-(11)).  One weight sample per
    mini-batch, one activation-noise sample per data point (D.2).  ``mode``: ``"train"`` (noise, batch BN
    statistics), ``"det"`` (all noises 0, running statistics) or ``"sample"`` (noise, running statistics).
    """

    def __init__(self, rng: np.random.Generator, noise: Noise | str, *, d: int = 64, h: int = 64, k: int = 10,
                 depth: int = 1):
        _kernel_selftest()
        self.noise = resolve_noise(noise)
        self.d, self.h, self.k = check_width(d, "d"), check_width(h, "hidden width"), check_width(k, "k")
        self.depth = as_int(depth, "depth", minimum=0)
        p = {"W0": rng.standard_normal((self.h, self.d)) / np.sqrt(self.d),
             "Wout": rng.standard_normal((self.k, self.h)) / np.sqrt(self.h), "bout": np.zeros(self.k)}
        for j in range(1, self.depth + 1):
            p[f"eta{j}"] = self.noise.icdf(rng.uniform(0.0, 1.0, (self.h, self.h)))
        for j in range(self.depth + 1):
            p[f"gamma{j}"], p[f"beta{j}"] = np.ones(self.h), np.zeros(self.h)
        self.params = p
        self.bns = [BatchNorm(self.h, affine=True) for _ in range(self.depth + 1)]
        self.units = [StochasticBinary(self.noise, "st") for _ in range(self.depth + 1)]
        # persistent work arrays: each pass writes its states, probabilities, BN outputs and sampled weights into
        # the same memory (so :attr:`record` and the cache hold views that the next pass overwrites)
        self._workspace: dict = {}
        for layer in self.bns + self.units:
            layer.workspace, layer.scratch = {}, self._workspace
        self.clip = _support_clip(self.noise.support)

    def _weights(self, j: int, mode: str, rng) -> np.ndarray:
        eta = self.params[f"eta{j}"]
        if mode == "det":
            return encode(eta >= 0.0, "pm1")
        ws = self._workspace
        # sign(eta - z) by inversion
        return _sample_pm1(rng, _cdf(self.noise, eta, _buffer(ws, "p", eta)), _buffer(ws, ("w", j), eta))

    def forward(self, X: np.ndarray, rng: np.random.Generator | None, mode: str = "train", *, surrogate=None):
        """Logits ``(B, k)``.  ``surrogate`` (tests only): the record of an earlier pass; binary states become
        ``x_rec + 2 (F(a) - F(a_rec))`` and weights ``w_rec + (eta - eta_rec)``, smooth functions whose exact
        derivatives at the recorded point are the ST / Alg. 2 backward."""
        if mode not in ("train", "det", "sample"):
            raise InvalidArgument(f"DeepSBN.forward: mode={short_repr(mode)}; expected 'train', 'det' or 'sample'.")
        training = mode == "train"
        p, rec = self.params, {"x": [], "a": [], "w": [], "eta": []}
        cache = {"X": X, "pre": [], "ws": [], "hs": []}
        h = X
        for j in range(self.depth + 1):
            if j == 0:
                W = p["W0"]
            elif surrogate is not None:
                W = surrogate["w"][j] + (p[f"eta{j}"] - surrogate["eta"][j])
            else:
                W = self._weights(j, mode, rng)
            rec["w"].append(W)
            rec["eta"].append(p.get(f"eta{j}"))
            cache["ws"].append(W)
            cache["hs"].append(h)
            bn = self.bns[j]
            bn.gamma, bn.beta = p[f"gamma{j}"], p[f"beta{j}"]
            if j and surrogate is None:
                pre = self._pm1_product(h, W)
            else:
                pre = self._matmul(h, W.T, "pre")
            a = bn.forward(pre, training=training)
            unit = self.units[j]
            if surrogate is not None:
                xr, ar = surrogate["x"][j], surrogate["a"][j]
                unit._a = a
                h = xr + 2.0 * (self.noise.cdf(a) - self.noise.cdf(ar))
            else:
                h = unit.forward(a, None if mode == "det" else rng)
            rec["x"].append(h)
            rec["a"].append(a)
        cache["hlast"] = h
        self._cache, self.record = cache, rec
        return h @ p["Wout"].T + p["bout"]

    def _pm1_product(self, h: np.ndarray, W: np.ndarray) -> np.ndarray:
        """``h @ W.T`` for +-1 states ``h`` and +-1 weights ``W`` (float64), computed in float32: every entry is an
        integer of modulus ``<= h.shape[1] < 2^24``, so every partial sum is exact in float32 whatever BLAS's
        order, and the float32 result (returned as it is: :class:`BatchNorm` reads it as float64, exactly) holds
        the values of the float64 product bit for bit (in about half the time)."""
        if h.dtype != np.float64 or W.dtype != np.float64 or h.shape[1] >= 1 << 24:
            return self._matmul(h, W.T, "pre")
        ws = self._workspace
        h32, W32 = _buffer32(ws, "h32", h), _buffer32(ws, "W32", W)
        np.copyto(h32, h, casting="same_kind")
        np.copyto(W32, W, casting="same_kind")
        return self._matmul(h32, W32.T, "pre32")  # BatchNorm reads it as float64 (exact)

    def _matmul(self, A: np.ndarray, B: np.ndarray, key: Any) -> np.ndarray:
        """``A @ B``, real products written into a persistent work array (the same BLAS call, the same values)."""
        if np.iscomplexobj(A) or np.iscomplexobj(B) or A.dtype != B.dtype:
            return A @ B
        ws = self._workspace
        shape = (A.shape[0], B.shape[1])
        out = ws.get(key)
        if out is None or out.shape != shape or out.dtype != A.dtype:
            out = ws[key] = np.empty(shape, A.dtype)
        return np.matmul(A, B, out=out)

    def backward(self, g_logits: np.ndarray) -> dict:
        """Gradients of the loss whose logit gradient is ``g_logits``: ST through the units, Alg. 2 for eta.
        The arrays returned live in the network's work space: the next :meth:`backward` overwrites them."""
        p, c = self.params, self._cache
        grads = {"Wout": g_logits.T @ c["hlast"], "bout": g_logits.sum(axis=0)}
        g = g_logits @ p["Wout"]
        for j in range(self.depth, -1, -1):
            g, const = self.units[j].backward_unscaled(g)
            bn = self.bns[j]
            g_pre = bn.backward(g, scale=const)
            grads[f"gamma{j}"], grads[f"beta{j}"] = bn.dgamma, bn.dbeta
            gW = self._matmul(g_pre.T, c["hs"][j], ("gW", j))
            grads["W0" if j == 0 else f"eta{j}"] = gW  # Alg. 2: dL/deta := dL/dw
            if j:  # the input X needs no gradient
                g = self._matmul(g_pre, c["ws"][j], "gin")
        return grads

    def project(self) -> None:
        """Clip the latent weights to the noise support (bounded noise only; eq. (11))."""
        _clip_latent(self.params, self.depth, self.clip)

    def predict_proba(self, X: np.ndarray, rng: np.random.Generator | None, samples: int = 0) -> np.ndarray:
        """Class probabilities: the deterministic network (``samples = 0``) or the mean over ``samples`` draws (69)."""
        if samples == 0:
            Z = self.forward(X, None, "det")
            return _softmax(Z)
        return np.mean([_softmax(self.forward(X, rng, "sample")) for _ in range(samples)], axis=0)


def _softmax(Z: np.ndarray) -> np.ndarray:
    """Softmax over the LAST axis (the classes) of ``(B, k)`` logits or a seed stack ``(S, B, k)``."""
    e = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _batch_starts(n: int, batch: int) -> range:
    """The first indices of an epoch's full mini-batches of ``batch`` out of ``n`` (the last partial one dropped):
    ``0, batch, .., (n // batch - 1) batch``."""
    return range(0, n - batch + 1, batch)


def train_deep_sbn(data: DigitsData, noise: Noise | str, seed_seq: np.random.SeedSequence, *, h: int = 64,
                   depth: int = 1, epochs: int = 40, batch: int = 64, lr: float = 0.01, ensemble: int = 10) -> dict:
    """Train a :class:`DeepSBN` with Adam on the expected loss (68) (one noise sample per data point), then report
    train / test accuracy of the deterministic network and of the ``ensemble``-sample predictive (69)."""
    rng = np.random.Generator(np.random.PCG64(seed_seq))
    net = DeepSBN(rng, noise, d=data.X_train.shape[1], h=h, k=int(data.y_train.max()) + 1, depth=depth)
    opt = Adam(net.params, lr=lr)
    n = data.n_train
    for _ in range(as_int(epochs, "epochs", minimum=1)):
        perm = rng.permutation(n)
        for i in _batch_starts(n, batch):
            idx = perm[i:i + batch]
            _, g = softmax_cross_entropy(net.forward(data.X_train[idx], rng, "train"), data.y_train[idx])
            opt.step(net.backward(g))
            net.project()
    out = {}
    for split, X, y in (("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)):
        out[f"{split}_det"] = float(np.mean(net.predict_proba(X, None, 0).argmax(axis=1) == y))
        out[f"{split}_ens"] = float(np.mean(net.predict_proba(X, rng, ensemble).argmax(axis=1) == y))
    return out


def tost_ind(x: Any, y: Any, margin: float) -> dict:
    """Two one-sided Welch t-tests (TOST) of ``|mean(x) - mean(y)| < margin``; returns both p-values and their max.

    H0: ``mean(x) - mean(y) <= -margin`` or ``>= margin``; equivalence is shown at level ``alpha`` when
    ``p = max(p_low, p_high) < alpha`` (Schuirmann 1987), computed with ``scipy.stats.ttest_ind``.
    """
    from scipy import stats

    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin > 0):
        raise InvalidArgument(f"equivalence margin={short_repr(margin)}; expected a positive number such as 0.02.")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size < 2 or y.size < 2:
        raise InvalidArgument(f"TOST needs >= 2 values per group, got {x.size} and {y.size}; run more seeds.")
    p_low = stats.ttest_ind(x + margin, y, equal_var=False, alternative="greater").pvalue
    p_high = stats.ttest_ind(x - margin, y, equal_var=False, alternative="less").pvalue
    # zero variance in both groups: t = +-inf (p exactly 0 or 1, the constant groups decide exactly) unless the
    # shifted difference is exactly 0 too, where t = 0/0 is undefined: count that as no evidence (p = 1)
    p_low, p_high = (1.0 if not math.isfinite(p) else float(p) for p in (p_low, p_high))
    return {"diff": float(x.mean() - y.mean()), "p_low": p_low, "p_high": p_high, "p": max(p_low, p_high),
            "margin": float(margin)}


# ---------------------------------------------------------------------------- many seeds as one computation


class DeepSBNStack:
    """``S`` independent :class:`DeepSBN` networks trained as one batched computation.

    Every parameter, activation and BN statistic carries a leading seed axis ``s = 0..S-1``; network ``s`` is
    exactly the :class:`DeepSBN` of the same parameters (the same forward and backward formulas, applied per
    slice by ``np.matmul`` on stacks and reductions over the batch axis only), so the ``S`` networks never
    interact: the loss is ``sum_s L_s`` and its gradient in network ``s``'s parameters is ``dL_s``.  Adam is
    elementwise, so one :class:`Adam` over the stacked arrays is ``S`` independent Adams.  The random draws of a
    step are made for all slices at once (one ``rng.random((S, ...))`` per layer, in :class:`DeepSBN`'s order),
    so ``S = 1`` consumes the stream exactly as :class:`DeepSBN` does (tested: equal forward and gradients).
    """

    def __init__(self, rng: np.random.Generator, noise: Noise | str, seeds: int, *, d: int = 64, h: int = 64,
                 k: int = 10, depth: int = 1, bn_eps: float = 1e-5, momentum: float = 0.1):
        _kernel_selftest()
        self.noise = resolve_noise(noise)
        self.S = check_width(seeds, "seeds")
        self.d, self.h, self.k = check_width(d, "d"), check_width(h, "hidden width"), check_width(k, "k")
        self.depth = as_int(depth, "depth", minimum=0)
        S = self.S
        p = {"W0": rng.standard_normal((S, self.h, self.d)) / np.sqrt(self.d),
             "Wout": rng.standard_normal((S, self.k, self.h)) / np.sqrt(self.h), "bout": np.zeros((S, self.k))}
        for j in range(1, self.depth + 1):
            p[f"eta{j}"] = self.noise.icdf(rng.uniform(0.0, 1.0, (S, self.h, self.h)))
        for j in range(self.depth + 1):
            p[f"gamma{j}"], p[f"beta{j}"] = np.ones((S, self.h)), np.zeros((S, self.h))
        self.params = p
        self.bn_eps, self.momentum = float(bn_eps), float(momentum)
        shape = (S, 1, self.h)  # running mean and variance per layer, per seed
        self.running = [(np.zeros(shape), np.ones(shape)) for _ in range(self.depth + 1)]
        self.clip = _support_clip(self.noise.support)

    def _scale(self, a: np.ndarray, prob: np.ndarray | None) -> np.ndarray:
        """The ST factor ``c F'(a)`` (``c = 2``, +-1 states); logistic from the forward's ``F(a)``."""
        if self.noise.name == "logistic" and prob is not None:
            return 4.0 * prob * (1.0 - prob)
        return 2.0 * self.noise.pdf(a)

    def forward(self, X: np.ndarray, rng: np.random.Generator | None, mode: str = "train") -> np.ndarray:
        """Logits ``(S, B, k)`` of ``X (S, B, d)`` (or ``(B, d)``, shared by all slices); modes as in
        :class:`DeepSBN` (``"train"``: noise and batch BN statistics; ``"det"``: no noise, running statistics;
        ``"sample"``: noise, running statistics)."""
        if mode not in ("train", "det", "sample"):
            raise InvalidArgument(f"DeepSBNStack.forward: mode={short_repr(mode)}; expected 'train', 'det' or "
                                  "'sample'.")
        p, training, det = self.params, mode == "train", mode == "det"
        h = X if X.ndim == 3 else np.broadcast_to(X, (self.S,) + X.shape)
        cache = {"hs": [], "ws": [], "xhat": [], "inv": [], "scale": []}
        for j in range(self.depth + 1):
            if j == 0:
                W = p["W0"]
            else:
                eta = p[f"eta{j}"]
                W = encode(eta >= 0.0, "pm1") if det else _sample_pm1(rng, _cdf(self.noise, eta))
            cache["hs"].append(h)
            cache["ws"].append(W)
            pre = np.matmul(h, W.transpose(0, 2, 1))
            if training:
                m = pre.mean(axis=1, keepdims=True)
                xc = pre - m
                v = (xc * xc).mean(axis=1, keepdims=True)
                rm, rv = self.running[j]
                self.running[j] = ((1 - self.momentum) * rm + self.momentum * m,
                                   (1 - self.momentum) * rv + self.momentum * v)
            else:
                m, v = self.running[j]
                xc = pre - m
            inv = 1.0 / np.sqrt(v + self.bn_eps)
            xhat = xc * inv
            a = p[f"gamma{j}"][:, None, :] * xhat + p[f"beta{j}"][:, None, :]
            if det:
                h, prob = encode(a >= 0.0, "pm1"), None
            else:
                prob = _cdf(self.noise, a)
                h = _sample_pm1(rng, prob)
            cache["xhat"].append(xhat)
            cache["inv"].append(inv)
            cache["scale"].append(self._scale(a, prob) if training else None)
        cache["hlast"] = h
        self._cache = cache
        return np.matmul(h, p["Wout"].transpose(0, 2, 1)) + p["bout"][:, None, :]

    def backward(self, g_logits: np.ndarray) -> dict:
        """Per-slice gradients (ST through the units, Alg. 2 for eta) after a ``"train"`` forward."""
        p, c = self.params, self._cache
        grads = {"Wout": np.matmul(g_logits.transpose(0, 2, 1), c["hlast"]), "bout": g_logits.sum(axis=1)}
        g = np.matmul(g_logits, p["Wout"])
        for j in range(self.depth, -1, -1):
            g = g * c["scale"][j]
            xhat, inv = c["xhat"][j], c["inv"][j]
            B = g.shape[1]
            dgamma, dbeta = np.einsum("sbi,sbi->si", g, xhat), g.sum(axis=1)
            grads[f"gamma{j}"], grads[f"beta{j}"] = dgamma, dbeta
            # BatchNorm.backward's formula: gamma inv (g - mean(g) - xhat mean(g xhat)) with the means dbeta/B, dgamma/B
            g_pre = xhat * (dgamma / B)[:, None, :]
            np.subtract(g, g_pre, out=g_pre)
            g_pre -= (dbeta / B)[:, None, :]
            g_pre *= p[f"gamma{j}"][:, None, :] * inv
            grads["W0" if j == 0 else f"eta{j}"] = np.matmul(g_pre.transpose(0, 2, 1), c["hs"][j])
            if j:
                g = np.matmul(g_pre, c["ws"][j])
        return grads

    def project(self) -> None:
        """Clip the latent weights to the noise support (bounded noise only; eq. (11))."""
        _clip_latent(self.params, self.depth, self.clip)

    def predict_proba(self, X: np.ndarray, rng: np.random.Generator | None, samples: int = 0) -> np.ndarray:
        """``(S, B, k)`` class probabilities: deterministic (``samples = 0``) or the ``samples``-draw mean (69)."""
        if samples == 0:
            return _softmax(self.forward(X, None, "det"))
        out = _softmax(self.forward(X, rng, "sample"))
        for _ in range(samples - 1):
            out += _softmax(self.forward(X, rng, "sample"))
        return out / samples


def softmax_cross_entropy_stack(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-slice mean log-loss of ``logits (S, B, k)``, labels ``y (S, B)``, and its gradient ``(p - onehot)/B``."""
    S, B, _ = logits.shape
    shift = logits - logits.max(axis=2, keepdims=True)
    e = np.exp(shift)
    s = e.sum(axis=2, keepdims=True)
    rows, cols = np.arange(S)[:, None], np.arange(B)[None, :]
    loss = -(shift[rows, cols, y] - np.log(s[..., 0])).mean(axis=1)
    g = e / s
    g[rows, cols, y] -= 1.0
    return loss, g / B


def train_deep_sbn_seeds(X: np.ndarray, y: np.ndarray, noise: Noise | str, seed_seq: np.random.SeedSequence,
                         seeds: int, *, h: int = 64, depth: int = 1, epochs: int = 40, batch: int = 64,
                         lr: float = 0.01, ensemble: int = 10, test_fraction: float = 0.2) -> dict:
    """Train ``seeds`` independent deep SBNs (:class:`DeepSBNStack`), each on its own random split of ``(X, y)``.

    Network ``s`` draws a uniformly random ``test_fraction`` hold-out (``rng.permutation``), its initialization
    (section 4), its epoch permutations, one weight sample per mini-batch and one activation-noise sample per
    data point; Adam (lr ``lr``) on the expected loss (68).  All draws come from one stream
    ``PCG64(seed_seq)``, made in the same order whatever the noise: the noises of one call see common random
    numbers (a paired design).  Returns per network the training accuracy of the deterministic network, the
    test accuracy of the deterministic network and of the ``ensemble``-sample predictive (69), and per held-out
    example (``test_index (S, n_test)``) whether each was correct."""
    rng = np.random.Generator(np.random.PCG64(seed_seq))
    S = check_width(seeds, "seeds")
    n = int(y.size)
    n_test = int(round(float(test_fraction) * n))
    perms = np.stack([rng.permutation(n) for _ in range(S)])
    te, tr = perms[:, :n_test], perms[:, n_test:]
    n_tr = tr.shape[1]
    net = DeepSBNStack(rng, noise, S, d=X.shape[1], h=h, k=int(y.max()) + 1, depth=depth)
    opt = Adam(net.params, lr=lr)
    rows = np.arange(S)[:, None]
    for _ in range(as_int(epochs, "epochs", minimum=1)):
        order = rng.permuted(np.broadcast_to(np.arange(n_tr), (S, n_tr)), axis=1)
        for i in _batch_starts(n_tr, batch):
            idx = tr[rows, order[:, i:i + batch]]
            _, g = softmax_cross_entropy_stack(net.forward(X[idx], rng, "train"), y[idx])
            opt.step(net.backward(g))
            net.project()
    out = {"seeds": S, "n_train": n_tr, "n_test": n_test}
    out["train_det"] = (net.predict_proba(X[tr], None, 0).argmax(axis=2) == y[tr]).mean(axis=1).tolist()
    det = net.predict_proba(X[te], None, 0).argmax(axis=2) == y[te]
    ens = net.predict_proba(X[te], rng, ensemble).argmax(axis=2) == y[te]
    out["test_det"], out["test_ens"] = det.mean(axis=1).tolist(), ens.mean(axis=1).tolist()
    out["test_index"], out["test_det_correct"], out["test_ens_correct"] = te, det, ens
    return out


# ---------------------------------------------------------------------------- a known-answer self-test


def _softmax_close(got, want) -> bool:
    """The softmax comparison of :func:`_kernel_selftest_failures`: equal shapes and
    ``|got - want| <= 1e-15 + 1e-13 want`` elementwise (``want`` a 50-digit reference in [0, 1])."""
    got, want = np.asarray(got), np.asarray(want)
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= 1e-15 + 1e-13 * want))


def _matmul_error_ok(err) -> bool:
    """The matmul comparison of :func:`_kernel_selftest_failures`: the exact relative error ``err`` (a
    :class:`fractions.Fraction`) is at most ``1e-15`` (two-term sums: at most 2 roundings of ``2^-53``)."""
    from fractions import Fraction

    return err <= Fraction(1, 10 ** 15)


def _proba_close(got, want) -> bool:
    """The ``predict_proba`` comparison of :func:`_network_selftest_failures`: 3 classes and
    ``|got - want| <= 1e-15`` elementwise (``want`` a 50-digit mean of softmaxes)."""
    got = np.asarray(got)
    return len(got) == 3 and bool(np.all(np.abs(got - np.asarray(want, dtype=float)) <= 1e-15))


def _forward_close(got, want) -> bool:
    """The stack-forward comparison of :func:`_network_selftest_failures`: equal shapes and ``|got - want| <= 1e-13``
    elementwise (normalized pre-activations and ST factors of order 1 against 50-digit references)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= 1e-13))


def _comparison_control_failures() -> list[str]:
    """Controls of the four comparisons above (each must say no just past its tolerance and yes just inside it),
    part of :func:`_kernel_selftest_failures`."""
    from fractions import Fraction

    bad = []
    w = np.array([0.0, 0.5, 1.0])
    soft = [_softmax_close(w + d, w) for d in (np.array([0.9e-15, 0.0, 0.0]), np.array([2e-15, 0.0, 0.0]),
                                                np.array([0.0, 0.0, 0.9e-13]), np.array([0.0, 0.0, 1.5e-13]),
                                                np.array([0.0, -0.5e-13, 0.0]), np.array([0.0, -0.8e-13, 0.0]))]
    soft += [_softmax_close(w[:2], w), _softmax_close(w + np.array([1e-15, 0.0, 0.0]), w)]  # the end: exactly 1e-15
    if soft != [True, False, True, False, True, False, False, True]:
        bad.append(f"_softmax_close on its controls gives {soft}; expected [True, False, True, False, True, False, "
                   "False, True] (|got - want| <= 1e-15 + 1e-13 want, equal shapes, the end included)")
    mm = [_matmul_error_ok(e) for e in (Fraction(1, 10 ** 15), Fraction(2, 10 ** 15), Fraction(0))]
    if mm != [True, False, True]:
        bad.append(f"_matmul_error_ok(1e-15, 2e-15, 0) gives {mm}; expected [True, False, True]")
    pr = [_proba_close(w + d, w) for d in (np.array([0.0, 0.0, -0.9e-15]), np.array([0.0, 0.0, -1.5e-15]),
                                           np.array([0.9e-15, 0.0, 0.0]), np.array([1.5e-15, 0.0, 0.0]))]
    pr += [_proba_close(np.append(w, 0.0), list(w) + [0.0]), _proba_close(w + np.array([1e-15, 0.0, 0.0]), w)]
    if pr != [True, False, True, False, False, True]:
        bad.append(f"_proba_close on its controls gives {pr}; expected [True, False, True, False, False, True] "
                   "(|got - want| <= 1e-15, 3 classes, the end included)")
    fw = [_forward_close(w + d, w) for d in (np.array([0.0, 0.9e-13, 0.0]), np.array([0.0, 1.5e-13, 0.0]),
                                             np.array([-0.9e-13, 0.0, 0.0]), np.array([-1.5e-13, 0.0, 0.0]))]
    fw += [_forward_close(w[:2], w), _forward_close(w + np.array([1e-13, 0.0, 0.0]), w)]
    if fw != [True, False, True, False, False, True]:
        bad.append(f"_forward_close on its controls gives {fw}; expected [True, False, True, False, False, True] "
                   "(|got - want| <= 1e-13, equal shapes, the end included)")
    return bad


def _kernel_selftest_failures() -> list[str]:
    """Known-answer test of the kernels at the corner cases the training data never reach, run once per process at
    the first network built (:class:`BinaryWeightMLP`, :class:`DeepSBN`, :class:`DeepSBNStack`; well under 10 ms,
    no random draws, so training results are unchanged).  The known answers come from the definitions, not from
    the code under test:

    * :func:`relu` and :func:`relu_backward` at the kink and on both sides (``x = -1.5, -0.0, +0.0, 1.5``), real
      and complex-step input ``x + 1e-20 i``: ``relu`` has real part ``(0, 0, 0, 1.5)`` and complex-step slope
      ``(0, 0, 0, 1)``, and ``relu_backward(x, 1) = (0, 0, 0, 1)`` (the documented derivative, 0 at 0), so the
      complex-step tests and the backward agree at ties (continuous pre-activations never sit on 0);
    * :func:`_softmax` over the class (last) axis of ``(B, k)`` and ``(S, B, k)`` logits as large as 1000 (``exp``
      overflows unless the maximum is subtracted) against ``exp(z_j) / sum_i exp(z_i)`` in 50-digit mpmath, to
      ``1e-15`` absolute plus ``1e-13`` relative;
    * ``DeepSBN._matmul`` on float32 x float64, float64 x float32 and real x complex operands (a branch training
      never takes) against the exact product of the same floats (:class:`fractions.Fraction`), to a relative
      ``1e-15`` (two-term sums: at most 2 rounding errors of ``2^-53``), result dtype the promoted one;
    * :func:`_batch_starts` at ``n = 3, 4, 7, 8, 9`` for ``batch = 4`` (both sides of a multiple of the batch):
      exactly ``n // batch`` full batches ``0, 4, ..``.

    Returns the mismatches, each naming the kernel (:data:`_kernel_selftest` raises on them)."""
    import types
    from fractions import Fraction

    import mpmath

    bad = []
    x = np.array([-1.5, -0.0, 0.0, 1.5])
    want_val, want_slope = np.array([0.0, 0.0, 0.0, 1.5]), np.array([0.0, 0.0, 0.0, 1.0])
    rc = relu(x + 1e-20j)
    if not (np.array_equal(relu(x), want_val) and np.array_equal(rc.real, want_val)
            and np.array_equal(rc.imag / 1e-20, want_slope)):
        bad.append(f"relu at {x.tolist()} gives {relu(x).tolist()} (complex step: value {rc.real.tolist()}, slope "
                   f"{(rc.imag / 1e-20).tolist()}); expected value {want_val.tolist()}, slope {want_slope.tolist()}")
    gb = relu_backward(x, np.ones(4))
    if not np.array_equal(gb, want_slope):
        bad.append(f"relu_backward at {x.tolist()} gives {gb.tolist()}; expected {want_slope.tolist()} (0 at 0)")

    Z = np.array([[[1000.0, 999.0, -1000.0], [0.5, -2.0, 3.0]], [[-700.0, -705.0, -699.0], [40.0, 40.0, 40.0]]])
    with mpmath.workdps(50):
        ref = np.array([[[float(mpmath.exp(z) / mpmath.fsum(mpmath.exp(v) for v in row)) for z in row]
                         for row in block] for block in Z.tolist()])
    for name, got, want in (("(S, B, k)", _softmax(Z), ref), ("(B, k)", _softmax(Z[0]), ref[0])):
        if not _softmax_close(got, want):
            bad.append(f"_softmax of {name} logits {Z.tolist() if name[1] == 'S' else Z[0].tolist()} gives "
                       f"{np.asarray(got).tolist()}; expected the softmax over the last axis {want.tolist()}")

    A32 = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    B64 = np.array([[1 / 3, 1 + 2.0 ** -40], [0.1, 0.7]])
    Bc = B64 + 1j * np.array([[0.25, 1 / 7], [2.0, 0.3]])
    stub = types.SimpleNamespace(_workspace={})

    def exact(P, Q):
        return [[sum(Fraction(float(P[i, t])) * Fraction(float(Q[t, j])) for t in range(P.shape[1]))
                 for j in range(Q.shape[1])] for i in range(P.shape[0])]

    for name, P, Q, dtype in (("float32 x float64", A32, B64, np.float64), ("float64 x float32", B64, A32, np.float64),
                              ("float64 x complex128", B64, Bc, np.complex128)):
        try:
            got = DeepSBN._matmul(stub, P, Q, "selftest")
        except Exception as exc:  # a wrong branch may fail to cast
            bad.append(f"DeepSBN._matmul ({name}) raises {type(exc).__name__}: {exc}")
            continue
        parts = [(got.real, exact(P, Q.real))] + ([(got.imag, exact(P, Q.imag))] if np.iscomplexobj(Q) else [])
        err = max(abs(Fraction(float(g[i, j])) - w[i][j]) / abs(w[i][j]) for g, w in parts
                  for i in range(2) for j in range(2))
        if got.dtype != dtype or not _matmul_error_ok(err):
            bad.append(f"DeepSBN._matmul ({name}) gives dtype {got.dtype} with relative error {float(err):.3g}; "
                       f"expected dtype {np.dtype(dtype)} and <= 1e-15 from the exact product")

    for n in (3, 4, 7, 8, 9):
        got, want = list(_batch_starts(n, 4)), [4 * k for k in range(n // 4)]
        if got != want:
            bad.append(f"_batch_starts(n={n}, batch=4) gives {got}; expected the {n // 4} full batches {want}")
    bad += _network_selftest_failures()
    bad += _comparison_control_failures()
    return bad


#: :func:`_kernel_selftest_failures` once per process, at the first network built; a mismatch raises
#: :class:`~stecheck.errors.SelfCheckFailed` naming the kernel: the networks cannot be trusted then.
_kernel_selftest = OncePerProcess(
    _kernel_selftest_failures, what="numerics.sbn_net fails its known-answer self-test",
    remedy="Fix the named kernel in numerics/sbn_net.py; the networks cannot be trusted until it passes.")


def _ema_exact(momentum: float, values: list) -> list:
    """``r_T = (1 - mu)^T r_0 + sum_t mu (1 - mu)^(T - t) v_t`` in exact rational arithmetic (``r_0 = 0`` for the
    mean, 1 for the variance is passed as ``values[0]``): the closed form of the running statistics' recursion."""
    from fractions import Fraction

    mu = Fraction(momentum)
    r0, rest = values[0], values[1:]
    T = len(rest)
    return [(1 - mu) ** T * Fraction(float(r0[i])) + sum(mu * (1 - mu) ** (T - 1 - t) * Fraction(float(v[i]))
                                                      for t, v in enumerate(rest)) for i in range(len(r0))]


def _close_exact(got, want) -> bool:
    """The comparison of :func:`_network_selftest_failures`: equal lengths and ``|got_i - want_i| <= 1e-15
    max(|want_i|, 1)`` for every ``i``, with ``got`` floats and ``want`` exact :class:`fractions.Fraction` values
    (the difference is computed exactly)."""
    from fractions import Fraction

    return len(got) == len(want) and all(abs(Fraction(float(g)) - w) <= Fraction(1, 10 ** 15) * max(abs(w), 1)
                                         for g, w in zip(got, want))


def _network_selftest_failures() -> list[str]:
    """Known answers for the network code the claims' runs never exercise or never read (part of
    :func:`_kernel_selftest`; no constructor of a network is called, so no recursion; a few ms).  Returns the
    failures (empty when all pass).  The known answers come from the definitions, not from the code under test:

    * the running batch statistics of :class:`BatchNorm` and of :class:`DeepSBNStack` (``W_0 = I``, so the
      pre-activations are the inputs) after three training batches of 3 rows, momentum 0.1 and 0.25, against the
      closed form of the exponential moving average ``(1 - mu)^T r_0 + sum_t mu (1 - mu)^(T-t) stat_t`` of the
      batch means and (biased) variances, in exact rational arithmetic, to ``1e-15`` relative; the stack's training
      forward itself: normalized pre-activations ``(x - mean) / sqrt(var + 10^-5)`` and ST factor ``4 F(a)(1 - F(a))``
      against 50-digit mpmath from the exact batch statistics (``1e-13`` absolute), logits ``= h`` with ``h`` the
      seed-0 states ``u <= F(a)`` (``W_out = I``, ``b_out = 0``, shape ``(1, 3, 2)``); a complex-step
      input must leave :class:`BatchNorm`'s running statistics unchanged (SBN-F1/F2 never evaluate with them);
    * :class:`StochasticBinary` sampling for the ``"01"`` encoding and for complex-step input (branches the
      claims never take), from a seeded generator: ``enc(u <= F(a))`` with ``u`` the same generator's
      ``random(shape)`` and ``F(a) = 1 / (1 + exp(-2a))`` (logistic), the complex input's states those of its
      real part;
    * :func:`_support_clip` for both ends infinite, one infinite end on each side and a bounded support, and
      :func:`_clip_latent` for ``depth = 2`` with a one-sided clip: ``eta_1, eta_2`` clipped elementwise,
      ``eta_3`` (beyond ``depth``) untouched;
    * ``predict_proba`` of :class:`DeepSBN` and :class:`DeepSBNStack` with ``samples = 0, 1, 3`` on a stub whose
      forward pass returns known logits per call: the mean of exactly ``samples`` softmaxes (``"det"`` for 0),
      computed in 50-digit mpmath, to ``1e-15`` absolute.
    """
    import types
    import warnings
    from fractions import Fraction

    import mpmath

    bad = []
    batches = [np.array([[1.0, -2.0], [4.0, 0.5], [-3.0, 7.0]]), np.array([[0.25, 3.0], [2.0, -1.0], [5.0, 6.0]]),
               np.array([[-1.0, 1.0], [9.0, 2.0], [0.0, -4.0]])]

    close = _close_exact

    # the comparison itself must say no: 1e-15 relative above 1 in magnitude, absolute below, the end included
    # (exact rationals), and unequal lengths refused
    one, tiny = Fraction(1), Fraction(1, 10 ** 15)
    controls = [(([1 + 2.0 ** -49], [one]), False), (([1 + 2.0 ** -50], [one]), True),
                (([0.5], [Fraction(1, 2) - tiny]), True), (([0.5], [Fraction(1, 2) - 2 * tiny]), False),
                (([1e6 * (1 + 2.0 ** -49)], [Fraction(10 ** 6)]), False), (([1e6], [Fraction(10 ** 6) + 10 ** 6 * tiny]), True),
                (([1.0, 2.0], [one]), False), (([1.0], [one, 2 * one]), False)]
    verdicts = [close(*args) for args, _ in controls]
    if verdicts != [want for _, want in controls]:
        bad.append(f"the self-test's comparison close(got, want) gives {verdicts} on the controls {controls}; expected "
                   "|got - want| <= 1e-15 max(|want|, 1) elementwise and equal lengths")

    def exact_stats(x):
        rows = [[Fraction(float(v)) for v in r] for r in x.tolist()]
        B = len(rows)
        m = [sum(r[i] for r in rows) / B for i in range(len(rows[0]))]
        return m, [sum((r[i] - m[i]) ** 2 for r in rows) / B for i in range(len(m))]

    for mom in (0.1, 0.25):
        means = [exact_stats(x)[0] for x in batches]
        varis = [exact_stats(x)[1] for x in batches]
        want_m = _ema_exact(mom, [np.zeros(2)] + [[float(v) for v in m] for m in means])
        want_v = _ema_exact(mom, [np.ones(2)] + [[float(v) for v in w] for w in varis])
        bn = BatchNorm(2, momentum=mom)
        for x in batches:
            bn.forward(x.copy(), training=True)
        if not (close(bn.running_mean, want_m) and close(bn.running_var, want_v)):
            bad.append(f"BatchNorm(momentum={mom}) after batches {[x.tolist() for x in batches]}: running mean "
                       f"{bn.running_mean.tolist()}, variance {bn.running_var.tolist()}; expected the moving averages "
                       f"{[float(w) for w in want_m]}, {[float(w) for w in want_v]}")
        rm, rv = bn.running_mean.copy(), bn.running_var.copy()
        bn.forward(batches[0] + 1e-20j, training=True)
        if not (np.array_equal(bn.running_mean, rm) and np.array_equal(bn.running_var, rv)):
            bad.append(f"BatchNorm(momentum={mom}): a complex-step forward changed the running statistics")
        stack = object.__new__(DeepSBNStack)  # forward reads noise, S, depth, params, bn_eps, momentum, running
        stack.noise, stack.S, stack.depth = resolve_noise("logistic"), 1, 0
        stack.params = {"W0": np.eye(2)[None], "Wout": np.eye(2)[None], "bout": np.zeros((1, 2)),
                        "gamma0": np.ones((1, 2)), "beta0": np.zeros((1, 2))}
        stack.bn_eps, stack.momentum = 1e-5, mom
        stack.running = [(np.zeros((1, 1, 2)), np.ones((1, 1, 2)))]
        rng, draws = np.random.default_rng(0), np.random.default_rng(0)
        for x in batches:
            z = stack.forward(x, rng, "train")
            # the output: W_0 = I, gamma = 1, beta = 0, so a = xhat = (x - m) / sqrt(v + 10^-5) with the batch's exact
            # mean and biased variance (50-digit mpmath from the exact rationals, to 1e-13 absolute: a few roundings
            # of operands of order 1); h = +1 where u <= F(a) = 1 / (1 + e^(-2a)) with u the same seed's
            # random((1, 3, 2)) draws; logits = h W_out^T + b_out = h; the cached ST factor is 4 F(a) (1 - F(a))
            m_ex, v_ex = exact_stats(x)
            with mpmath.workdps(50):
                def mpq(q):
                    return mpmath.mpf(q.numerator) / q.denominator

                a_ref = [[mpq(Fraction(float(v)) - m_ex[i]) / mpmath.sqrt(mpq(v_ex[i]) + mpmath.mpf(1) / 10 ** 5)
                          for i, v in enumerate(r)] for r in x.tolist()]
                f_ref = [[1 / (1 + mpmath.exp(-2 * v)) for v in r] for r in a_ref]
            u = draws.random((1, 3, 2))
            h_ref = [[1.0 if u[0, b, i] <= f_ref[b][i] else -1.0 for i in range(2)] for b in range(3)]
            xhat, scale = np.asarray(stack._cache["xhat"][0]), np.asarray(stack._cache["scale"][0])
            scale_ref = [[float(4 * f * (1 - f)) for f in r] for r in f_ref]  # the ST factor 2F'(a) = 4F(1 - F)
            if not (z.shape == (1, 3, 2) and xhat.shape == (1, 3, 2) and scale.shape == (1, 3, 2)
                    and z[0].tolist() == h_ref
                    and _forward_close(xhat[0], [[float(v) for v in r] for r in a_ref])
                    and _forward_close(scale[0], scale_ref)):
                bad.append(f"DeepSBNStack(momentum={mom}, W_0 = W_out = I, gamma = 1, beta = 0, bn_eps = 1e-5).forward of "
                           f"{x.tolist()}: normalized {xhat.tolist()}, ST factor {scale.tolist()}, logits {z.tolist()}; "
                           f"expected shape (1, 3, 2), (x - mean) / sqrt(var + 1e-5) = {[[float(v) for v in r] for r in a_ref]}, "
                           f"4 F(a) (1 - F(a)) = {scale_ref} and logits = the seed-0 states {h_ref}")
        sm, sv = stack.running[0]
        if not (close(np.ravel(sm), want_m) and close(np.ravel(sv), want_v)):
            bad.append(f"DeepSBNStack(momentum={mom}, W_0 = I) after batches {[x.tolist() for x in batches]}: running "
                       f"mean {np.ravel(sm).tolist()}, variance {np.ravel(sv).tolist()}; expected the moving averages "
                       f"{[float(w) for w in want_m]}, {[float(w) for w in want_v]}")

    a = np.array([[-1.0, 0.0, 0.3], [2.0, -0.2, 0.05]])
    u = np.random.default_rng(5).random(a.shape)
    on = np.array([[u[i, j] <= 1.0 / (1.0 + math.exp(-2.0 * a[i, j])) for j in range(3)] for i in range(2)])
    for enc, lo in (("01", 0.0), ("pm1", -1.0)):
        want = np.where(on, 1.0, lo)
        unit = StochasticBinary("logistic", "st", encoding=enc)
        for name, inp in (("real", a), ("complex-step", a + 1e-20j)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = unit.forward(inp, np.random.default_rng(5))
                ok = np.array_equal(np.real(got), want)
            except Exception as exc:  # a wrong branch may fail on complex input
                got, ok = f"{type(exc).__name__}: {exc}", False
            if not ok:
                bad.append(f"StochasticBinary(encoding={enc!r}).forward({name} a = {a.tolist()}, seed 5) gives "
                           f"{np.asarray(got).tolist()}; expected enc(u <= F(a)) = {want.tolist()}")

    inf = math.inf
    for sup, want in (((-inf, inf), None), ((0.0, inf), (0.0, inf)), ((-inf, 0.5), (-inf, 0.5)), ((-1.0, 1.0), (-1.0, 1.0))):
        if _support_clip(sup) != want:
            bad.append(f"_support_clip({sup}) gives {_support_clip(sup)}; expected {want}")
    vals = [[-2.0, 0.5], [3.0, -0.0]]
    ps = {f"eta{j}": np.array(vals) * j for j in (1, 2, 3)}
    _clip_latent(ps, 2, (0.0, inf))
    for j in (1, 2, 3):
        want = [[(max(v * j, 0.0) if j <= 2 else v * j) for v in r] for r in vals]
        if ps[f"eta{j}"].tolist() != want:
            bad.append(f"_clip_latent(depth=2, clip=(0, inf)) turns eta{j} = {(np.array(vals) * j).tolist()} into "
                       f"{ps[f'eta{j}'].tolist()}; expected {want} (eta_1, eta_2 clipped below at 0, eta_3 untouched)")

    logits = [np.array([[0.0, 1.0, -2.0]]), np.array([[3.0, 0.5, 0.5]]), np.array([[-1.0, -1.0, 2.5]]),
              np.array([[7.0, 0.0, 1.0]])]
    for cls, stack_axis in ((DeepSBN, False), (DeepSBNStack, True)):
        calls = []

        def forward(X, rng, mode):
            calls.append(mode)
            z = logits[0] if mode == "det" else logits[sum(1 for c in calls if c == "sample")]
            return z[None] if stack_axis else z

        stub = types.SimpleNamespace(forward=forward)
        for samples in (0, 1, 3):
            calls.clear()
            used = [logits[0]] if samples == 0 else logits[1:samples + 1]
            with mpmath.workdps(50):
                want = [float(mpmath.fsum(mpmath.exp(z[0, j]) / mpmath.fsum(mpmath.exp(v) for v in z[0]) for z in used)
                              / len(used)) for j in range(3)]
            got = np.ravel(cls.predict_proba(stub, None, None, samples))
            if not _proba_close(got, want):
                bad.append(f"{cls.__name__}.predict_proba(samples={samples}) on logits {[z.tolist() for z in used]} "
                           f"gives {got.tolist()} ({len(calls)} forward passes); expected the mean of the "
                           f"{len(used)} softmaxes {want}")
    return bad


# ---------------------------------------------------------------------------- independent tasks


def map_tasks(fn, items, *, key: str) -> list:
    """``[fn(*item) for item in items]`` in item order; inside a Dask worker, one Dask task per item.

    Called from a task running on a ``distributed`` worker (a claim's method under ``stecheck run --workers N``),
    it opens a ``worker_client`` (the calling task secedes, so it holds no worker thread while it waits) and
    submits every item as its own task with the key ``"{key}-{tokenize(item)}"``: equal items submitted by
    several methods at the same time are computed once.  Elsewhere (in-process runs, tests) the items run
    here, one after another.  ``fn`` must draw its randomness only from its arguments (a seed in the item),
    so the results are the same for any number of workers and in-process."""
    items = [tuple(it) for it in items]
    try:
        from distributed import get_worker, worker_client
        get_worker()
    except (ImportError, ValueError):
        return [fn(*it) for it in items]
    from dask.base import tokenize

    from .blas import OneBlasThread

    with worker_client() as client:
        task = OneBlasThread(fn)
        futures = [client.submit(task, *it, key=f"{key}-{tokenize(*it)}", pure=False) for it in items]
        return client.gather(futures)
