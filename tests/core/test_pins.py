"""Pinned verdicts (proofs_check.pins): one reader and comparer for ``stecheck run --expect`` and the pytest plugin."""

import json
from types import SimpleNamespace

import pytest

from stecheck.errors import InvalidArgument, MalformedFile
from stecheck.proofs_check.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from stecheck.proofs_check.pins import Pin, compare, expect_document, read_expect, verdicts_of
from stecheck.proofs_check.verdict import Verdict

KNOWN = {"SBN-EX1": (), "SBN-B4": ("per-unit", "shared")}


def _write(tmp_path, data):
    f = tmp_path / "pins.json"
    f.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(f)


def _v2(**verdicts):
    return {"format": "stecheck-expect", "version": 2, "seed": 0, "tier": "quick", "verdicts": verdicts}


def test_version_1_forms_pin_the_checked_verdict_only(tmp_path):
    for data in ({"SBN-EX1": "proved"}, {"format": "stecheck-expect", "version": 1, "tier": "quick", "seed": 0,
                                         "verdicts": {"SBN-EX1": "PROVED"}}):
        exp = read_expect(_write(tmp_path, data), KNOWN, seed=0, tier="quick")
        assert exp.version == 1 and exp.pins == {"SBN-EX1": Pin(checked="PROVED")}


def test_version_2_pins_checked_printed_and_readings(tmp_path):
    exp = read_expect(_write(tmp_path, _v2(**{"SBN-B4": {"checked": "VERIFIED", "printed": "REFUTED",
                                                          "readings": {"per-unit": "VERIFIED", "shared": "refuted"}}})),
                      KNOWN, seed=0, tier="quick")
    assert exp.version == 2 and exp.seed == 0 and exp.tier == "quick"
    assert exp.pins["SBN-B4"] == Pin("VERIFIED", "REFUTED", {"per-unit": "VERIFIED", "shared": "REFUTED"})


@pytest.mark.parametrize("data, error, needle", [
    (_v2(**{"SBN-B4": {"readings": {"elementwise": "PROVED"}}}), MalformedFile, "has no reading 'elementwise'"),
    (_v2(**{"SBN-B4": {"checked": "TRUE"}}), MalformedFile, "is not one of"),
    (_v2(**{"SBN-B4": {"checked": "PROVED", "extra": 1}}), MalformedFile, "keys checked, printed, readings"),
    (_v2(**{"SBN-B4": {}}), MalformedFile, "keys checked, printed, readings"),
    (_v2(**{"SBN-B4": {"checked": None}}), MalformedFile, "pins no verdict"),
    (_v2(**{"SBN-NOPE": "PROVED"}), MalformedFile, "unknown claim id 'SBN-NOPE'"),
    ({**_v2(**{"SBN-EX1": "PROVED"}), "version": 3}, MalformedFile, "versions 1 and 2"),
    ({**_v2(**{"SBN-EX1": "PROVED"}), "format": "other"}, MalformedFile, "not 'stecheck-expect'"),
    ({**_v2(**{"SBN-EX1": "PROVED"}), "seed": "0"}, MalformedFile, "not a non-negative integer"),
    ({**_v2(**{"SBN-EX1": "PROVED"}), "tier": "slow"}, MalformedFile, "not quick or full"),
    ({**_v2(**{"SBN-EX1": "PROVED"}), "comment": "x"}, MalformedFile, "unknown key"),
    ({**_v2(**{"SBN-EX1": "PROVED"}), "seed": 5}, InvalidArgument, "pins seed 5 but this run uses seed 0"),
    ({**_v2(**{"SBN-EX1": "PROVED"}), "tier": "full"}, InvalidArgument, "pins tier full"),
])
def test_bad_files_are_one_line_errors(tmp_path, data, error, needle):
    with pytest.raises(error) as info:
        read_expect(_write(tmp_path, data), KNOWN, seed=0, tier="quick")
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_other_seed_and_tier_are_allowed_when_asked(tmp_path):
    exp = read_expect(_write(tmp_path, {**_v2(**{"SBN-EX1": "PROVED"}), "seed": 5, "tier": "full"}), KNOWN,
                      seed=0, tier="quick", allow_other=True)
    assert exp.seed == 5 and exp.tier == "full"


def test_compare_counts_matches_and_reports_each_difference():
    got = {"checked": "VERIFIED", "printed": "REFUTED", "readings": {"per-unit": "VERIFIED", "shared": "REFUTED"}}
    assert compare(Pin("VERIFIED", "REFUTED", {"per-unit": "VERIFIED", "shared": "REFUTED"}), got, "B4") == (4, [])
    assert compare(Pin("VERIFIED"), got, "B4") == (1, [])  # v1: the checked verdict only
    n, diffs = compare(Pin("PROVED", "REFUTED", {"per-unit": "VERIFIED", "gone": "PROVED"}), got, "B4")
    assert n == 2 and diffs == ["B4 checked: expected PROVED, got VERIFIED",
                                "B4 reading gone: expected PROVED, got no such reading",
                                "B4 reading shared: not pinned, got REFUTED"]


def test_written_document_reads_back_and_matches_itself(tmp_path):
    res = SimpleNamespace(claim_id="SBN-B4", verdict=Verdict.VERIFIED, verdict_as_printed=Verdict.REFUTED,
                          reading_verdicts={"per-unit": Verdict.VERIFIED, "shared": Verdict.INCONCLUSIVE})
    doc = expect_document([res], seed=7, tier="full")
    exp = read_expect(_write(tmp_path, doc), KNOWN, seed=7, tier="full")
    assert exp.version == 2 and compare(exp.pins["SBN-B4"], verdicts_of(res), "SBN-B4") == (4, [])


def _no_computing(monkeypatch):
    from stecheck.proofs_check import runner

    monkeypatch.setattr(runner, "execute_method", lambda *a, **k: pytest.fail("computed before validating"))


def test_cli_refuses_another_seed_or_unpinned_selection_before_computing(capsys, tmp_path, monkeypatch):
    _no_computing(monkeypatch)
    f = _write(tmp_path, {**_v2(**{"SBN-EX1": "PROVED"}), "seed": 5})
    assert main(["run", "SBN-EX1", "--workers", "0", "--expect", f, "--out", str(tmp_path / "r")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pins seed 5" in err and "--allow-other-seed" in err
    f = _write(tmp_path, _v2(**{"SBN-B4": "PROVED"}))
    assert main(["run", "SBN-EX1", "--workers", "0", "--expect", f, "--out", str(tmp_path / "r")]) == EXIT_USAGE
    assert "pins none of the claims selected" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def ex1_pins(tmp_path_factory):
    out = tmp_path_factory.mktemp("pins")
    assert main(["run", "SBN-EX1", "--workers", "0", "--seed", "3", "--out", str(out), "--quiet",
                 "--write-expect", str(out / "pins.json")]) == EXIT_OK
    return out, json.loads((out / "pins.json").read_text())


def test_cli_writes_version_2_and_reports_matches_and_each_difference(capsys, ex1_pins, tmp_path):
    out, pins = ex1_pins
    assert pins["version"] == 2 and pins["seed"] == 3 and pins["tier"] == "quick"
    got = pins["verdicts"]["SBN-EX1"]
    assert set(got) == {"checked", "printed", "readings"}
    report = json.loads((out / "report.json").read_text())["claims"][0]
    assert got["checked"] == report["verdict"]
    capsys.readouterr()
    assert main(["run", "SBN-EX1", "--workers", "0", "--seed", "3", "--out", str(tmp_path), "--quiet",
                 "--expect", str(out / "pins.json")]) == EXIT_OK
    n = 2 + len(got["readings"])
    assert f"stecheck: {n} verdicts match" in capsys.readouterr().err
    flip = {v.value: ("PROVED" if v is Verdict.REFUTED else "REFUTED") for v in Verdict}
    wrong = {**pins, "verdicts": {"SBN-EX1": {**got, "checked": flip[got["checked"]], "printed": flip[got["printed"]]}}}
    f = _write(tmp_path, wrong)
    assert main(["run", "SBN-EX1", "--workers", "0", "--seed", "3", "--out", str(tmp_path), "--quiet",
                 "--expect", f]) == EXIT_FAILED
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"stecheck: --expect: SBN-EX1 checked: expected {flip[got['checked']]}, got {got['checked']}",
                     f"stecheck: --expect: SBN-EX1 printed: expected {flip[got['printed']]}, got {got['printed']}"]
    # another seed: compared only when asked for
    code = main(["run", "SBN-EX1", "--workers", "0", "--seed", "4", "--out", str(tmp_path), "--quiet",
                 "--expect", str(out / "pins.json"), "--allow-other-seed"])
    err = capsys.readouterr().err
    assert (code, "verdicts match" in err) in ((EXIT_OK, True), (EXIT_FAILED, False))


def test_the_pytest_plugin_uses_the_same_reader_with_its_own_option_names(tmp_path):
    from stecheck.proofs_check import pytest_plugin

    f = _write(tmp_path, {**_v2(**{"SBN-EX1": "PROVED"}), "tier": "full"})
    with pytest.raises(InvalidArgument, match="pass --stecheck-tier full, or --stecheck-allow-other-seed"):
        pytest_plugin.read_expect(f, KNOWN, 0, "quick", False)
    assert pytest_plugin.read_expect(f, KNOWN, 0, "quick", True) == {"SBN-EX1": Pin(checked="PROVED")}
