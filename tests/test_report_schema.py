"""report.json: layout, exact round trip, and one-line refusals of bad files."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_report_support import sample_run

from stecheck.proofs_check.claim import ClaimResult, Figure, Kind, MethodResult, Reading, Series
from stecheck.errors import MalformedFile
from stecheck.proofs_check.report import dumps_report, load_report, run_from_dict, run_to_dict
from stecheck.proofs_check.report import schema
from stecheck.proofs_check.results import SCHEMA_VERSION, RunResult
from stecheck.proofs_check.verdict import Category, Finding, Scope, Verdict


# ------------------------------------------------------------------ layout and round trip


def test_top_level_layout_matches_the_documented_schema():
    d = run_to_dict(sample_run())
    assert list(d) == ["schema_version", "tool", "run", "summary", "claims"]
    assert d["schema_version"] == SCHEMA_VERSION == 2 and d["tool"] == "stecheck"
    assert list(d["run"]) == ["seed", "tier", "workers", "started_at", "seconds", "environment"]
    assert d["summary"] == {
        "as_checked": {"PROVED": 1, "VERIFIED": 0, "REFUTED": 1, "INCONCLUSIVE": 1, "ERROR": 1},
        "as_printed": {"PROVED": 0, "VERIFIED": 0, "REFUTED": 2, "INCONCLUSIVE": 1, "ERROR": 1},
        "findings": {"error": 2, "misprint": 1, "convention": 0, "imprecision": 1},
    }
    claim = d["claims"][1]
    assert list(claim) == ["id", "title", "source", "paper", "verdict", "verdict_as_printed", "statement_printed",
                           "statement_checked", "parts", "readings", "findings", "finding_counts",
                           "disagreements", "errors", "replay", "static_discrepancies", "methods"]
    assert list(claim["methods"][0]) == ["name", "kind", "part", "role", "reading", "category", "scope", "verdict",
                                         "evidence", "seconds", "discrepancies", "counterexample", "fingerprint",
                                         "error", "figures"]
    assert claim["methods"][0]["scope"] == {"covers": "2 x 2 matrices, 16 restarts", "complete": False}
    assert claim["methods"][2]["category"] == "misprint"
    assert list(claim["parts"][0]) == ["part", "role", "verdict", "scope", "methods", "disagreement"]
    assert claim["findings"][0] == {"category": "imprecision", "source": "",
                                    "text": "the printed statement omits that units share parameters"}
    assert d["claims"][2]["readings"] == [
        {"id": "l2", "text": "L Lipschitz in the Euclidean norm", "verdict": "VERIFIED"},
        {"id": "linf", "text": "L Lipschitz in the max norm", "verdict": "REFUTED"}]
    fig = d["claims"][0]["methods"][1]["figures"][0]
    assert list(fig) == ["name", "title", "xlabel", "ylabel", "xscale", "yscale", "hlines", "series", "xticks"]
    assert list(fig["series"][0]) == ["label", "x", "y", "y_low", "y_high", "style"]


def test_derived_fields_are_the_claim_results_own():
    run = sample_run()
    for c, d in zip(run.claims, run_to_dict(run)["claims"]):
        assert d["verdict"] == c.verdict.value
        assert d["verdict_as_printed"] == c.verdict_as_printed.value
        assert d["findings"] == [{"category": f.category.value, "text": f.text, "source": f.source}
                                 for f in c.findings]
        assert d["finding_counts"] == c.finding_counts()
        assert d["disagreements"] == c.disagreements
        assert d["errors"] == c.errors
        assert d["paper"] == c.paper
    disagreeing = run_to_dict(run)["claims"][2]
    assert disagreeing["verdict"] == "INCONCLUSIVE" and len(disagreeing["disagreements"]) == 1


def test_round_trip_is_exact():
    run = sample_run()
    d = run_to_dict(run)
    back = run_from_dict(json.loads(json.dumps(d)))
    assert back == run
    assert run_to_dict(back) == d
    assert isinstance(back.claims[0].methods[0].kind, Kind)
    assert isinstance(back.claims[0].methods[1].figures[0].series[0].x, tuple)


def test_dumps_report_is_strict_json_with_a_trailing_newline():
    text = dumps_report(sample_run())
    assert text.endswith("}\n")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


def test_numpy_and_non_finite_evidence_is_stored_as_its_jsonable_image():
    run = sample_run()
    run.claims[0].methods[0].evidence = {"a": np.arange(3), "x": np.float64("nan"), "t": (1, np.inf)}
    d = run_to_dict(run)
    assert d["claims"][0]["methods"][0]["evidence"] == {"a": [0, 1, 2], "x": "nan", "t": [1, "inf"]}
    text = dumps_report(run)  # allow_nan=False: would raise on a bare NaN
    assert run_to_dict(run_from_dict(json.loads(text))) == d


def test_non_finite_figure_values_round_trip_as_floats():
    run = sample_run()
    fig = Figure("f", "t", "x", "y", (Series("s", (1.0, 2.0), (math.inf, -math.inf)),), hlines=(math.inf,))
    run.claims[0].methods[0].figures = [fig]
    d = run_to_dict(run)
    assert d["claims"][0]["methods"][0]["figures"][0]["series"][0]["y"] == ["inf", "-inf"]
    assert run_from_dict(json.loads(dumps_report(run))) == run


def test_categorical_x_ticks_round_trip_and_a_figure_without_them_still_loads():
    run = sample_run()
    fig = Figure("f", "t", "schedule", "$y$", (Series("s", (0.0, 1.0), (0.5, 0.25)),),
                 xticks=((0.0, r"$c/\sqrt{t+1}$"), (1.0, "$c$")))
    run.claims[0].methods[0].figures = [fig]
    d = run_to_dict(run)
    assert d["claims"][0]["methods"][0]["figures"][0]["xticks"] == [{"at": 0.0, "label": r"$c/\sqrt{t+1}$"},
                                                                    {"at": 1.0, "label": "$c$"}]
    assert run_from_dict(json.loads(dumps_report(run))) == run
    _validator().validate(json.loads(dumps_report(run)))  # the published JSON Schema knows xticks
    del d["claims"][0]["methods"][0]["figures"][0]["xticks"]  # written before xticks existed: still valid
    assert run_from_dict(json.loads(json.dumps(d))).claims[0].methods[0].figures[0].xticks == ()
    d["claims"][0]["methods"][0]["figures"][0]["xticks"] = [{"at": 0.0}]
    with pytest.raises(MalformedFile, match="label"):
        run_from_dict(json.loads(json.dumps(d)))


_json_scalar = (st.none() | st.booleans() | st.integers(-(2 ** 60), 2 ** 60)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
_json = st.recursive(_json_scalar, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
_num = st.floats(allow_nan=False) | st.integers(-1000, 1000)


@st.composite
def _series(draw):
    n = draw(st.integers(0, 3))
    col = st.lists(_num, min_size=n, max_size=n).map(tuple)
    band = draw(st.booleans())
    return Series(draw(st.text(max_size=4)), draw(col), draw(col), draw(col) if band else None,
                  draw(col) if band else None, draw(st.sampled_from(["line", "points", "step"])))


_figure = st.builds(Figure, name=st.text(max_size=4), title=st.text(max_size=4), xlabel=st.text(max_size=3),
                    ylabel=st.text(max_size=3), series=st.lists(_series(), max_size=2).map(tuple),
                    xscale=st.sampled_from(["linear", "log"]), yscale=st.sampled_from(["linear", "log"]),
                    hlines=st.lists(_num, max_size=2).map(tuple))
_finding = st.builds(Finding, st.sampled_from(list(Category)), st.text(max_size=6), st.text(max_size=4))
_method = st.builds(
    MethodResult, name=st.text(max_size=6), kind=st.sampled_from(list(Kind)),
    part=st.sampled_from(["main", "a", "b"]), role=st.sampled_from(["checked", "printed"]),
    verdict=st.sampled_from(list(Verdict)), evidence=st.dictionaries(st.text(max_size=4), _json, max_size=3),
    seconds=st.floats(0, 1e4), discrepancies=st.lists(_finding, max_size=2),
    scope=st.builds(Scope, st.text(max_size=6), st.booleans()), reading=st.none() | st.sampled_from(["r1", "r2"]),
    category=st.none() | st.sampled_from(list(Category)),
    counterexample=st.none() | st.dictionaries(st.text(max_size=4), _json, max_size=2),
    figures=st.lists(_figure, max_size=1), fingerprint=st.text(max_size=4), error=st.none() | st.text(max_size=6))
_claim = st.builds(ClaimResult, claim_id=st.text(max_size=6), title=st.text(max_size=6),
                   source=st.text(max_size=6), statement_printed=st.text(max_size=6),
                   statement_checked=st.text(max_size=6), methods=st.lists(_method, max_size=3),
                   static_discrepancies=st.lists(_finding, max_size=2), replay=st.text(max_size=6),
                   readings=st.lists(st.sampled_from([Reading("r1", "one reading"), Reading("r2", "another")]),
                                     max_size=2, unique=True),
                   paper=st.text(max_size=6))
_run = st.builds(RunResult, claims=st.lists(_claim, max_size=3, unique_by=lambda c: c.claim_id),
                 seed=st.integers(0, 2 ** 64), tier=st.sampled_from(["quick", "full"]),
                 workers=st.integers(0, 64) | st.just("tcp://127.0.0.1:8786"), started_at=st.text(max_size=8),
                 seconds=st.floats(0, 1e6), environment=st.dictionaries(st.text(max_size=4), _json, max_size=3))


@settings(max_examples=40, deadline=None)
@given(_run)
def test_any_run_round_trips_exactly_through_json_text(run):
    text = dumps_report(run)
    back = run_from_dict(json.loads(text))
    assert back == run
    assert dumps_report(back) == text


# ------------------------------------------------------------------ refusing bad files


@pytest.fixture
def report_file(tmp_path):
    def write(data, text=None):
        path = tmp_path / "report.json"
        path.write_text(text if text is not None else json.dumps(data), encoding="utf-8")
        return path
    return write


def _refused(path) -> str:
    with pytest.raises(MalformedFile) as info:
        load_report(path)
    msg = str(info.value)
    assert "\n" not in msg, "messages are one line"
    assert str(path) in msg, "messages name the file"
    return msg


def test_load_report_reads_what_dumps_report_wrote(report_file):
    run = sample_run()
    assert load_report(report_file(None, dumps_report(run))) == run


def test_missing_file(tmp_path):
    msg = _refused(tmp_path / "nope.json")
    assert "no such file" in msg and "stecheck run" in msg


def test_directory_instead_of_file(tmp_path):
    msg = _refused(tmp_path)
    assert "is a directory" in msg and "report.json" in msg


def test_invalid_json_names_line_and_column(report_file):
    msg = _refused(report_file(None, '{"schema_version": 1,\n  "tool": }'))
    assert "invalid JSON at line 2" in msg


def test_nan_literal_is_not_json(report_file):
    d = run_to_dict(sample_run())
    text = json.dumps(d).replace('"seconds": 12.75', '"seconds": NaN')
    assert "NaN is not a JSON value" in _refused(report_file(None, text))


def test_not_utf8(tmp_path):
    path = tmp_path / "report.json"
    path.write_bytes(b'{"a": "\xff"}')
    assert "not UTF-8" in _refused(path)


@pytest.mark.parametrize("data", [[], "x", 3])
def test_top_level_must_be_an_object(report_file, data):
    assert "top level" in _refused(report_file(data))


def test_missing_schema_version(report_file):
    d = run_to_dict(sample_run())
    del d["schema_version"]
    assert "has no schema_version" in _refused(report_file(d))
    assert "not a stecheck report" in _refused(report_file({"foo": 1}))


def test_newer_schema_asks_to_upgrade(report_file):
    d = run_to_dict(sample_run())
    d["schema_version"] = SCHEMA_VERSION + 1
    msg = _refused(report_file(d))
    assert "newer stecheck" in msg and "upgrade stecheck" in msg


def test_older_schema_without_migration_is_refused(report_file):
    d = run_to_dict(sample_run())
    d["schema_version"] = SCHEMA_VERSION - 1
    msg = _refused(report_file(d))
    assert "no longer supported" in msg and "re-run `stecheck run`" in msg


def test_older_schema_with_a_migration_is_migrated(report_file, monkeypatch):
    run = sample_run()
    d = run_to_dict(run)
    d["schema_version"] = SCHEMA_VERSION - 1
    d["run"]["old_name"] = d["run"].pop("started_at")

    def migrate(old):
        new = copy.deepcopy(old)
        new["run"]["started_at"] = new["run"].pop("old_name")
        new["schema_version"] = SCHEMA_VERSION
        return new

    monkeypatch.setitem(schema.MIGRATIONS, SCHEMA_VERSION - 1, migrate)
    assert load_report(report_file(d)) == run


@pytest.mark.parametrize("version", ["1", 1.0, True, None])
def test_schema_version_must_be_an_integer(report_file, version):
    d = run_to_dict(sample_run())
    d["schema_version"] = version
    assert "schema_version" in _refused(report_file(d))


def test_wrong_tool(report_file):
    d = run_to_dict(sample_run())
    d["tool"] = "asv"
    assert "not a stecheck report" in _refused(report_file(d))


def _mutated(edit):
    d = run_to_dict(sample_run())
    edit(d)
    return d


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d.pop("claims"), "missing key 'claims'"),
    (lambda d: d["run"].pop("seed"), "run: missing key 'seed'"),
    (lambda d: d["claims"][1].pop("replay"), "claims[1]: missing key 'replay'"),
    (lambda d: d["claims"][1]["methods"][0].pop("evidence"), "claims[1] (SBN-B4).methods[0]: missing key 'evidence'"),
    (lambda d: d["claims"][0]["methods"][1]["figures"][0]["series"][0].pop("y"), "series[0]: missing key 'y'"),
    (lambda d: d["claims"][0].update(extra=1), "unknown key 'extra'"),
    (lambda d: d["run"].update(seed="7"), "run.seed: expected an integer, got a string"),
    (lambda d: d["run"].update(workers=[2]), "run.workers: expected an integer or a scheduler address"),
    (lambda d: d["claims"][0]["methods"][0].update(verdict="MAYBE"), "unknown value 'MAYBE'"),
    (lambda d: d["claims"][0]["methods"][0].update(kind="magic"), "kind: unknown value 'magic'"),
    (lambda d: d["claims"][0]["methods"][0].update(role="both"), "unknown role 'both'"),
    (lambda d: d["claims"][0]["methods"][0].update(seconds="fast"), "expected a number or one of"),
    (lambda d: d["claims"][0]["methods"][0].update(counterexample=[1]), "expected an object or null"),
    (lambda d: d["claims"][0]["methods"][1]["figures"][0]["series"][0].update(style="bars"), "unknown style"),
    (lambda d: d["claims"][0]["methods"][1]["figures"][0]["series"][0]["x"].__setitem__(0, None),
     "series[0].x[0]: expected a number, got null"),
    (lambda d: d["claims"].append(copy.deepcopy(d["claims"][0])), "SBN-COR-B1 appear more than once"),
])
def test_malformed_contents_name_the_place_and_the_problem(report_file, edit, expected):
    msg = _refused(report_file(_mutated(edit)))
    assert expected in msg
    assert msg.endswith("re-run `stecheck run` to write a fresh report") or "upgrade" in msg


def test_an_edited_verdict_is_refused_not_trusted(report_file):
    d = _mutated(lambda d: d["claims"][1].update(verdict="PROVED"))
    msg = _refused(report_file(d))
    assert "records PROVED but its methods combine to REFUTED" in msg and "edited by hand" in msg


def test_edited_derived_lists_and_summary_are_refused(report_file):
    d = _mutated(lambda d: d["claims"][2].update(disagreements=[]))
    assert "disagreements: does not match" in _refused(report_file(d))
    d = _mutated(lambda d: d["summary"]["as_checked"].update(PROVED=4))
    assert "summary" in _refused(report_file(d))
    d = _mutated(lambda d: d["summary"]["findings"].update(error=0))
    assert "summary" in _refused(report_file(d))
    d = _mutated(lambda d: d["claims"][1]["finding_counts"].update(misprint=0))
    assert "finding_counts: does not match" in _refused(report_file(d))
    d = _mutated(lambda d: d["claims"][1]["methods"][2].update(category="convention"))
    assert "claims[1] (SBN-B4).findings: does not match" in _refused(report_file(d))
    d = _mutated(lambda d: d["claims"][2]["readings"][1].update(verdict="PROVED"))
    assert "readings: does not match" in _refused(report_file(d))


def test_run_from_dict_names_its_source():
    with pytest.raises(MalformedFile, match=r"^x\.json: run: missing key"):
        run_from_dict(_mutated(lambda d: d["run"].pop("tier")), source="x.json")


# ------------------------------------------------------------------ the schema document stays true

DOC = Path(__file__).resolve().parent.parent / "docs" / "report-schema.md"


def _keys(value, out=None):
    out = set() if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            if k not in ("evidence", "counterexample", "environment", "summary"):
                _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


def test_doc_describes_every_key_written():
    doc = DOC.read_text(encoding="utf-8")
    missing = [k for k in sorted(_keys(run_to_dict(sample_run()))) if f"`{k}`" not in doc and f'"{k}"' not in doc]
    assert missing == []


def test_doc_example_is_a_valid_report():
    doc = DOC.read_text(encoding="utf-8")
    example = doc[doc.index("## Example"):]
    example = example[example.index("```json") + len("```json"):]
    example = example[: example.index("```")]
    run = run_from_dict(json.loads(example), source="docs example")
    assert run.claims[0].verdict is Verdict.REFUTED


# ------------------------------------------------------------------ the published JSON Schema

jsonschema = pytest.importorskip("jsonschema")
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "report.schema.json"


def test_published_schema_is_the_packaged_one_and_is_a_valid_json_schema():
    from stecheck.proofs_check.report import json_schema

    published = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert published == json_schema()
    jsonschema.Draft202012Validator.check_schema(published)
    assert published["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def _validator():
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_reports_validate_against_the_json_schema():
    v = _validator()
    v.validate(json.loads(dumps_report(sample_run())))
    doc = DOC.read_text(encoding="utf-8")
    example = doc[doc.index("## Example"):]
    example = example[example.index("```json") + len("```json"):]
    v.validate(json.loads(example[: example.index("```")]))


@settings(max_examples=25, deadline=None)
@given(_run)
def test_any_run_validates_against_the_json_schema(run):
    _validator().validate(json.loads(dumps_report(run)))


@pytest.mark.parametrize("edit", [
    lambda d: d.pop("claims"),
    lambda d: d["run"].update(seed="7"),
    lambda d: d["summary"]["as_checked"].pop("PROVED"),
    lambda d: d["summary"].update(PROVED=1),
    lambda d: d["claims"][0].update(extra=1),
    lambda d: d["claims"][0]["methods"][0].update(verdict="MAYBE"),
    lambda d: d["claims"][0]["methods"][0]["scope"].update(complete="yes"),
    lambda d: d["claims"][1]["findings"][0].update(category="typo"),
    lambda d: d["claims"][1]["static_discrepancies"].append("a plain string"),
    lambda d: d["claims"][2]["readings"][0].pop("verdict"),
    lambda d: d["claims"][0]["methods"][1]["figures"][0]["series"][0].update(style="bars"),
    lambda d: d.update(schema_version=1),
])
def test_the_json_schema_rejects_what_the_loader_rejects(edit, report_file):
    d = _mutated(edit)
    assert not _validator().is_valid(d)
    _refused(report_file(d))
