"""Per-claim parameters: `stecheck run ID --set key=value` (validated before any work, recorded in the report)."""

import json

import pytest

from stecheck.errors import InvalidArgument
from stecheck.proofs_check.claim import Parameter, Tier, resolve_params
from stecheck.proofs_check.cli import main
from stecheck.proofs_check.registry import default_registry


def test_parameter_parsing_never_evaluates_and_checks_types():
    p = Parameter("trials", int, 10, 100, "trials per cell", minimum=1)
    assert p.parse("2000") == 2000 and p.parse(7) == 7
    for bad in ("2e3", "__import__('os')", "0", True, 1.5):
        with pytest.raises(InvalidArgument, match="expected int >= 1"):
            p.parse(bad)
    assert Parameter("x", float, 0.1, 0.2).parse("3") == 3.0
    assert Parameter("b", bool, False, True).parse("yes") is True


def test_resolve_params_uses_tier_defaults_and_declared_keys_only():
    claim = default_registry().get("QSTE-NOISE")
    quick = resolve_params(claim, Tier.QUICK)
    assert quick["steps"] == 1000 and resolve_params(claim, Tier.FULL)["steps"] == 4000
    assert resolve_params(claim, Tier.QUICK, {"steps": "50", "other": "1"})["steps"] == 50


@pytest.mark.parametrize("setting, message", [
    ("bogus=1", "valid keys: n, n_max_enum, steps, trials"),
    ("trials=abc", "expected int >= 1"),
    ("trials", "expected KEY=VALUE"),
])
def test_bad_settings_are_one_line_and_exit_2(tmp_path, capsys, setting, message):
    assert main(["run", "QSTE-NONGAUSS", "--set", setting, "--out", str(tmp_path), "--quiet", "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (tmp_path / "report.json").exists()


def test_settings_reach_the_methods_and_the_report(tmp_path):
    args = ["run", "QSTE-NONGAUSS", "--set", "trials=8", "--set", "n_max_enum=4", "--set", "steps=30",
            "--out", str(tmp_path), "--quiet", "--workers", "0"]
    main(args)
    report = json.loads((tmp_path / "report.json").read_text())
    claim = report["claims"][0]
    assert "--set n_max_enum=4 --set steps=30 --set trials=8" in claim["replay"]
    for m in claim["methods"]:
        assert m["evidence"]["parameters"] == {"n": 16, "trials": 8, "steps": 30, "n_max_enum": 4}
    raw = next(m for m in claim["methods"] if m["name"] == "raw-success-by-family")
    assert raw["evidence"]["families"]["gaussian"]["trials"] == 8


@pytest.mark.cluster
def test_ste_claims_give_identical_evidence_in_process_and_on_two_workers():
    import json

    from stecheck.proofs_check.report import run_to_dict
    from stecheck.proofs_check.runner import run_claims

    def strip(value):  # timings (method seconds, the block tasks' seconds in evidence.compute) may differ
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "seconds"}
        return [strip(v) for v in value] if isinstance(value, list) else value

    def evidence(run):
        return json.dumps(strip(run_to_dict(run)["claims"]), sort_keys=True)

    claims = default_registry().select(["QSTE-NONGAUSS", "QSTE-NOISE"])
    settings = {"trials": "6", "steps": "40", "n_max_enum": "4", "n": "8"}
    local = run_claims(claims, seed=2, workers=0, settings=settings)
    cluster = run_claims(claims, seed=2, workers=2, settings=settings)
    assert evidence(local) == evidence(cluster)
