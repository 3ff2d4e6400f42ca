"""One BLAS thread wherever stecheck computes evidence.

OpenBLAS's threaded kernels split some reductions (dot products, matrix-vector products) across threads and add
the partial sums in an order that depends on the thread count.  The ARM reference gradients of SBN-BITS, for
instance, differed in the last bit between an in-process run (two BLAS threads) and a run on Dask workers (one
thread each: the nanny starts workers with ``OPENBLAS_NUM_THREADS=1``).  The promise "same seed, same evidence,
whatever the number of workers" needs the same summation order everywhere, so every method
(:func:`stecheck.proofs_check.runner.execute_method`) and every Dask task stecheck submits runs with BLAS limited
to one thread; the parallelism is across tasks and workers instead.  threadpoolctl finds every BLAS loaded in the
process (numpy's and scipy's OpenBLAS are separate libraries).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

__all__ = ["one_blas_thread", "OneBlasThread"]


@functools.lru_cache(maxsize=1)
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # scans the loaded libraries once per process


def one_blas_thread():
    """A context in which every BLAS library loaded in the process uses one thread; the previous limits are
    restored on exit.  Nested uses are harmless (the inner one restores one thread)."""
    return _controller().limit(limits=1, user_api="blas")


class OneBlasThread:
    """Picklable ``fn`` run under :func:`one_blas_thread`: the form in which stecheck submits Dask tasks."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with one_blas_thread():
            return self.fn(*args, **kwargs)

    def __reduce__(self):
        return (OneBlasThread, (self.fn,))
