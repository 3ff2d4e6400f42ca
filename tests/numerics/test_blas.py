"""One BLAS thread wherever evidence is computed (numerics.blas): the summation order of OpenBLAS's threaded
reductions depends on the thread count, so in-process runs and Dask workers must use the same count."""

import dataclasses
import pickle

import numpy as np
from threadpoolctl import threadpool_info

from stecheck.numerics.blas import OneBlasThread, one_blas_thread
from stecheck.proofs_check.claim import Outcome
from stecheck.proofs_check.registry import default_registry
from stecheck.proofs_check.runner import execute_method
from stecheck.proofs_check.verdict import Verdict


def _blas_threads():
    return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})


def test_the_context_limits_every_blas_to_one_thread_and_restores_the_limits():
    before = _blas_threads()
    assert before, "no BLAS found by threadpoolctl: the limit would silently do nothing"
    with one_blas_thread():
        assert _blas_threads() == [1]
        with one_blas_thread():
            assert _blas_threads() == [1]
        assert _blas_threads() == [1]
    assert _blas_threads() == before


def test_a_wrapped_task_pickles_runs_with_one_thread_and_keeps_its_result():
    task = pickle.loads(pickle.dumps(OneBlasThread(_blas_threads)))
    assert task() == [1]
    double = OneBlasThread(np.multiply)
    assert double(np.arange(3.0), 2.0).tolist() == [0.0, 2.0, 4.0]


def test_a_method_runs_with_one_blas_thread_in_process():
    seen = []

    def probe(ctx):
        seen.append(_blas_threads())
        return Outcome(verdict=Verdict.VERIFIED, evidence={"threads": seen[-1]})

    claim = default_registry().get("SBN-EX1")
    method = dataclasses.replace(claim.methods[0], check=probe)
    res = execute_method(claim, method, 0, "quick")
    assert res.verdict is Verdict.VERIFIED, res.error
    assert seen == [[1]]
