"""Verdict combination: agreement within a part, conjunction across parts, disagreements surfaced."""

import pytest

from stecheck.proofs_check.claim import ClaimResult, Kind, MethodResult
from stecheck.proofs_check.verdict import Verdict, combine, combine_part

P, V, R, I, E = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED, Verdict.INCONCLUSIVE, Verdict.ERROR


@pytest.mark.parametrize(
    "verdicts, expected",
    [
        ([P], P), ([V], V), ([R], R), ([I], I), ([E], E),
        ([P, V], P), ([V, V], V), ([R, I], R), ([R, E], R),
        ([P, E], P), ([I, E], E), ([I, I], I), ([], I),
    ],
)
def test_combine_part_without_conflict(verdicts, expected):
    verdict, note = combine_part([(f"m{i}", v) for i, v in enumerate(verdicts)])
    assert verdict is expected
    assert note is None


@pytest.mark.parametrize("support", [P, V])
def test_conflicting_methods_leave_the_part_undecided_and_say_so(support):
    verdict, note = combine_part([("symbolic", support), ("montecarlo", R)])
    assert verdict is I
    assert "symbolic" in note and "montecarlo" in note and "disagree" in note


@pytest.mark.parametrize(
    "parts, expected",
    [
        ([P, P], P), ([P, V], V), ([V, V], V), ([P, R], R), ([R, E], R),
        ([P, E], E), ([E, I], E), ([P, I], I), ([], I),
    ],
)
def test_conjunction_across_parts(parts, expected):
    assert combine(parts) is expected


def _result(methods):
    return ClaimResult(
        claim_id="X-1", title="t", source="s", statement_printed="p", statement_checked="c",
        methods=[
            MethodResult(name=n, kind=Kind.EXACT, part=part, role=role, verdict=v, evidence={}, seconds=0.0)
            for n, part, role, v in methods
        ],
        static_discrepancies=["printed differs"],
    )


def test_claim_result_reports_disagreement_in_discrepancies():
    res = _result([("a", "main", "checked", P), ("b", "main", "checked", R), ("c", "other", "checked", V)])
    assert res.verdict is I
    assert any("disagree" in d for d in res.discrepancies)
    assert res.discrepancies[0] == "printed differs"


def test_printed_role_has_its_own_verdict():
    res = _result([("a", "main", "checked", P), ("lit", "printed: x", "printed", R)])
    assert res.verdict is P
    assert res.verdict_as_printed is R


def test_without_printed_methods_the_printed_verdict_is_the_checked_one():
    res = _result([("a", "main", "checked", V)])
    assert res.verdict_as_printed is V


def test_error_methods_appear_among_discrepancies():
    res = _result([("a", "main", "checked", P), ("b", "second", "checked", E)])
    res.methods[1].error = "ZeroDivisionError: boom"
    assert res.verdict is E
    assert any("boom" in d for d in res.discrepancies)
