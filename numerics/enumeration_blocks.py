"""Exact ``E[L]`` and gradient beyond ``n = 22``: the cube in fixed blocks, as Dask tasks.

Mathematical object: the same as :func:`numerics.enumeration.exact_loss_and_gradient`
-- ``E[L] = sum_x P(x) L(x)`` and the true gradient (SBN eqs. (4)-(6))
``dE[L]/da_i = F'(a_i) sum_x x_i P_{-i}(x_{-i}) L(x)`` over all ``2^n`` states
of ``{-1, +1}^n`` -- for ``n`` up to :data:`MAX_N_BLOCKS`.

Algorithm.  The ``K = 2^(n-k)`` chunks of ``C = 2^k`` states
(:class:`numerics.enumeration._Cube`) are split into ``B = 2^b`` *blocks* of
consecutive chunks.  Each block is one task: it enumerates its chunks exactly
as the serial routine does and returns its Neumaier partial ``(s, c)``, the sum
of ``|terms|`` and ``max |L|``.  The caller folds the block partials in
block-index order (``s`` then ``c`` of each block, Neumaier again).  ``B``
depends only on ``n`` and ``block_bits`` -- never on the number of workers or
the order tasks finish in -- so the result is **bit-identical for any worker
count**, in-process (``client=None``) or on any cluster.  (It may differ in the
last bits from the serial routine, whose single Neumaier pass sums in another
order; both are within their bounds.)

Rounding error (a-priori bound, as in :mod:`numerics.enumeration`, with the
same assumptions on the loss and the noise functions)::

    |computed - exact| <= gamma_m * sum_x |t_x|  +  2^n (n + 2) 2^-1074 max_x |L(x)|,
    m = (c_F + 1)(n + 1) + C + K + 2B + 8.

The serial ``m`` has ``K`` for one Neumaier pass over ``K`` chunk sums; here
each block's pass covers ``K / B`` chunks and the fold ``2B`` partials, and
``K / B + 2B <= K + 2B``, so the serial bound plus ``2B`` units covers both
levels (Higham, *Accuracy and Stability*, Sec. 4.3).

Cost: ``2^n`` loss evaluations; about 1 s per ``2^20`` states for the quadratic
layer loss on one core of the development machine, so ``n = 26`` is ~64
core-seconds and ``n = 30`` a cluster job.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument

from ._compensated import gamma, neumaier_add
from ._validation import as_int
from .enumeration import C_F, MAX_CHUNK_BITS, ExactResult, _Cube, _m, _reencode, _underflow, accumulate_chunks
from .estimators import prepare

__all__ = ["exact_loss_and_gradient_blocks", "MAX_N_BLOCKS", "DEFAULT_BLOCK_BITS"]

#: Largest ``n`` accepted: ``2^36`` states is days of core time; beyond that use Monte Carlo.
MAX_N_BLOCKS = 36
#: Default ``b``: ``2^6 = 64`` blocks (or fewer when there are fewer chunks), enough to keep 64 workers busy.
DEFAULT_BLOCK_BITS = 6


def _block(loss: Any, p_plus: np.ndarray, p_minus: np.ndarray, chunk_bits: int, first: int, count: int):
    """Neumaier partial of chunks ``first .. first + count - 1``: ``(s, c, abs_sum, max_abs)``."""
    return accumulate_chunks(_Cube(p_plus, p_minus, chunk_bits), loss, first, count)


def exact_loss_and_gradient_blocks(
    loss: Any, a: Any, noise: Any, *, client: Any = None, block_bits: int = DEFAULT_BLOCK_BITS,
    chunk_bits: int = MAX_CHUNK_BITS, encoding: str = "pm1",
) -> tuple[ExactResult, ExactResult]:
    """``E[L]`` and ``dE[L]/da`` (eqs. (4)-(6)) at ``p = F(a)``, the cube split into ``2^block_bits`` tasks.

    ``client``: a ``distributed.Client`` to run the blocks on (``None``: in this
    process, one block after another -- the same numbers).  Returns
    ``(ExactResult(E[L], bound), ExactResult(grad (n,), bound (n,)))`` with the
    bound of the module docstring.  ``n <= MAX_N_BLOCKS``; the loss must be
    picklable when a client is given.
    """
    loss = _reencode(loss, encoding)
    loss, a, noise = prepare(loss, a, noise)
    n = a.size
    if n > MAX_N_BLOCKS:
        raise InvalidArgument(f"n={n}: 2^{n} states is beyond exact enumeration (n <= {MAX_N_BLOCKS}); "
                              "use Monte Carlo: numerics.montecarlo.monte_carlo_mean(EstimatorSampler(...), ...)")
    chunk_bits = as_int(chunk_bits, "chunk_bits", minimum=1, maximum=MAX_CHUNK_BITS)
    block_bits = as_int(block_bits, "block_bits", minimum=0, maximum=20)
    p_plus, p_minus = noise.cdf(a), noise.sf(a)
    k = min(n, chunk_bits)
    K = 1 << (n - k)
    B = 1 << min(block_bits, n - k)
    per = K // B
    if client is not None and getattr(client, "status", "running") in ("closed", "closing", "failed"):
        raise InvalidArgument("the distributed.Client is closed; pass an open Client or client=None")

    if client is None:
        parts = [_block(loss, p_plus, p_minus, chunk_bits, b * per, per) for b in range(B)]
    else:
        [loss_f, plus_f, minus_f] = client.scatter([loss, p_plus, p_minus], broadcast=True)
        from .blas import OneBlasThread

        block = OneBlasThread(_block)
        futures = [client.submit(block, loss_f, plus_f, minus_f, chunk_bits, b * per, per, pure=False)
                   for b in range(B)]
        parts = client.gather(futures)  # in block order, whatever order they finished in

    s = c = np.zeros(n + 1)
    abs_sum = np.zeros(n + 1)
    max_abs = 0.0
    for bs, bc, babs, bmax in parts:  # fixed order: bit-identical for any worker count
        s, c = neumaier_add(s, c, bs)
        s, c = neumaier_add(s, c, bc)
        abs_sum = abs_sum + babs
        max_abs = max(max_abs, bmax)
    total = s + c
    fprime = noise.pdf(a)
    m = _m(n, 1 << k, K, C_F) + 2 * B
    under = _underflow(n, max_abs)
    value = ExactResult(float(total[0]), float(gamma(m) * abs_sum[0] + under))
    grad = ExactResult(fprime * total[1:], gamma(m) * fprime * abs_sum[1:] + under * fprime)
    return value, grad
