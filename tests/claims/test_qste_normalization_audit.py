"""The QSTE-NONGAUSS normalization audit: passes on the engine's inputs, fails (ERROR) on inputs that are not
normalized as the evidence states (the mutant ``Z / sd -> Z * sd`` of the standardization)."""

import numpy as np
import pytest

from stecheck.errors import StecheckError
from stecheck.proofs_check.claims import qste_dynamics as qd


class _Ctx:
    run_seed = 0
    claim_id = "QSTE-NONGAUSS"


def _specs():
    return qd._family_specs({"n": 8, "trials": 2, "steps": 4}, "standardize", None)


def test_audit_passes_on_engine_inputs():
    out = qd._audit_normalization(_Ctx(), _specs())
    assert set(out) == set(qd.INPUTS)
    for rec in out.values():
        assert rec["max |feature mean|"] <= rec["tolerance"]
        assert rec["max |feature sd - 1|"] <= qd.AUDIT_TOL


def test_audit_refuses_inputs_scaled_the_wrong_way(monkeypatch):
    real = qd.generate_trial

    def scaled(model, seed, *a, **k):
        X, *rest = real(model, seed, *a, **k)
        return (X * 1.7, *rest)

    monkeypatch.setattr(qd, "generate_trial", scaled)
    with pytest.raises(StecheckError, match="normalization audit"):
        qd._audit_normalization(_Ctx(), _specs())


def test_audit_skips_raw_inputs():
    raw = qd._family_specs({"n": 8, "trials": 2, "steps": 4}, "none", None)
    assert qd._audit_normalization(_Ctx(), raw) == {}
