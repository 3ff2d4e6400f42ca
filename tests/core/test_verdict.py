"""The verdict model: scopes, errors never outvoted, disagreements, finding categories, readings.

Each rule of ``proofs_check/verdict.py`` is exercised on hand-built method
results, so a change of the combination rules shows up here before it shows up
in a report.
"""

import pytest

from stecheck.errors import InvalidArgument
from stecheck.proofs_check.claim import (
    Claim, ClaimResult, Kind, Method, MethodResult, Outcome, Reading, Source,
)
from stecheck.proofs_check.verdict import (
    UNSTATED, Category, Finding, PartVerdict, Scope, Verdict, combine, combine_part,
)

P, V, R, I, E = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED, Verdict.INCONCLUSIVE, Verdict.ERROR
WHOLE = Scope.whole("all n (symbolic n)")
SMALL = Scope("n <= 3")


def _entries(*items):
    """``(verdict, scope)`` pairs -> ``(name, verdict, scope)`` entries named m0, m1, ..."""
    return [(f"m{i}", v, s) for i, (v, s) in enumerate(items)]


# --------------------------------------------------------------------------- one part


@pytest.mark.parametrize(
    "items, expected",
    [
        ([(P, WHOLE)], P), ([(P, SMALL)], V), ([(V, WHOLE)], V), ([(R, SMALL)], R), ([(I, WHOLE)], I),
        ([(E, WHOLE)], E), ([(P, WHOLE), (V, SMALL)], P), ([(P, SMALL), (V, WHOLE)], V),
        ([(P, SMALL), (P, WHOLE)], P), ([(R, SMALL), (I, WHOLE)], R), ([(I, SMALL), (I, WHOLE)], I),
        ([], I),
    ],
)
def test_combine_part_without_conflict(items, expected):
    pv = combine_part(_entries(*items), "main")
    assert isinstance(pv, PartVerdict)
    assert pv.verdict is expected
    assert pv.disagreement is None
    assert pv.part == "main"


def test_a_proof_of_a_sub_range_gives_verified_and_says_what_was_proved():
    pv = combine_part([("sympy-n3", P, SMALL), ("monte-carlo", V, Scope("n = 40, 10^5 samples"))])
    assert pv.verdict is V
    assert "proved for n <= 3 (sympy-n3)" in pv.scope
    assert "n = 40" in pv.scope and "monte-carlo" in pv.scope
    assert "no proof covers the whole range" in pv.scope


def test_a_proof_with_a_complete_scope_gives_proved_and_names_its_range():
    pv = combine_part([("sympy", P, WHOLE), ("enum", V, Scope("n <= 12"))])
    assert pv.verdict is P
    assert "all n (symbolic n)" in pv.scope
    assert "VERIFIED at best" not in pv.scope


def test_an_unstated_scope_is_never_complete():
    assert UNSTATED.complete is False
    assert combine_part([("z3", P, UNSTATED)]).verdict is V
    assert Method("m", Kind.SMT, _ok, "d").scope is UNSTATED


def test_scope_text():
    assert str(WHOLE) == "all n (symbolic n) (whole range)"
    assert str(SMALL) == "n <= 3"
    assert Scope.whole().complete and not Scope("x").complete


@pytest.mark.parametrize("sibling", [P, V, R, I])
@pytest.mark.parametrize("scope", [WHOLE, SMALL])
def test_an_error_is_never_outvoted_by_a_sibling_method(sibling, scope):
    pv = combine_part([("good", sibling, scope), ("crashed", E, scope)])
    assert pv.verdict is E
    assert pv.errors == ("crashed",)
    assert "crashed" in pv.scope


@pytest.mark.parametrize("support, scope", [(P, WHOLE), (P, SMALL), (V, SMALL)])
def test_conflicting_methods_leave_the_part_undecided_and_say_so(support, scope):
    pv = combine_part([("symbolic", support, scope), ("montecarlo", R, SMALL)])
    assert pv.verdict is I
    note = pv.disagreement
    assert note is not None
    assert "symbolic" in note and "montecarlo" in note and "disagree" in note


# --------------------------------------------------------------------------- across parts


@pytest.mark.parametrize(
    "parts, expected",
    [
        ([P, P], P), ([P, V], V), ([V, V], V), ([P, R], R), ([R, E], E),
        ([P, E], E), ([E, I], E), ([P, I], I), ([R, I], R), ([], I),
    ],
)
def test_conjunction_across_parts(parts, expected):
    assert combine(parts) is expected


# --------------------------------------------------------------------------- claim results


def _mr(name, verdict, *, part="main", role="checked", scope=WHOLE, reading=None, category=None,
        discrepancies=(), error=None):
    return MethodResult(name=name, kind=Kind.EXACT, part=part, role=role, verdict=verdict, evidence={},
                        seconds=0.0, discrepancies=list(discrepancies), scope=scope, reading=reading,
                        category=category, error=error)


def _result(*methods, readings=(), static=(Finding(Category.MISPRINT, "printed differs"),)):
    return ClaimResult(
        claim_id="X-1", title="t", source="s", statement_printed="p", statement_checked="c",
        methods=list(methods), static_discrepancies=list(static), readings=list(readings),
    )


def test_claim_with_a_complete_proof_is_proved_and_with_a_partial_proof_verified():
    assert _result(_mr("a", P, scope=WHOLE)).verdict is P
    partial = _result(_mr("a", P, scope=SMALL), _mr("b", V, scope=Scope("n <= 12")))
    assert partial.verdict is V
    (part,) = partial.parts("checked")
    assert "proved for n <= 3 (a)" in part.scope


def test_claim_result_reports_disagreement_in_discrepancies():
    res = _result(_mr("a", P), _mr("b", R), _mr("c", V, part="other"))
    assert res.verdict is I
    assert any("disagree" in d for d in res.disagreements)
    assert any("disagree" in d for d in res.discrepancies)
    assert res.discrepancies[0] == "[misprint] printed differs"


@pytest.mark.parametrize("sibling", [P, V])
def test_any_error_makes_both_verdicts_error_even_with_a_supporting_sibling(sibling):
    res = _result(_mr("a", sibling), _mr("b", E, error="ZeroDivisionError: boom"),
                  _mr("lit", P, part="literal", role="printed", category=Category.ERROR))
    assert res.verdict is E
    assert res.verdict_as_printed is E
    assert res.errors == ["b: ZeroDivisionError: boom"]
    assert any("boom" in d for d in res.discrepancies)


@pytest.mark.parametrize("category", [Category.MISPRINT, Category.CONVENTION, Category.IMPRECISION])
def test_an_error_in_a_printed_method_of_any_category_is_visible(category):
    res = _result(_mr("a", P), _mr("lit", E, part="literal", role="printed", category=category, error="boom"))
    assert res.verdict is E and res.verdict_as_printed is E


@pytest.mark.parametrize("category", [Category.MISPRINT, Category.CONVENTION, Category.IMPRECISION])
def test_a_refuted_printed_check_of_a_non_error_category_is_a_finding_not_a_refutation(category):
    res = _result(_mr("a", P), _mr("lit", R, part="literal", role="printed", category=category), static=())
    assert res.verdict is P
    assert res.verdict_as_printed is P
    found = [f for f in res.findings if f.source == "lit"]
    assert len(found) == 1 and found[0].category is category
    assert res.finding_counts()[category.value] == 1
    assert res.finding_counts()["error"] == 0


def test_the_method_s_own_discrepancy_replaces_the_generic_finding():
    mine = Finding(Category.CONVENTION, "factor 2 of the +-1 encoding", "lit")
    res = _result(_mr("a", P), _mr("lit", R, part="literal", role="printed", category=Category.CONVENTION,
                                   discrepancies=[mine]))
    assert [f for f in res.findings if f.source == "lit"] == [mine]


@pytest.mark.parametrize("category", [Category.ERROR, None])
def test_a_refuted_printed_check_of_category_error_refutes_the_printed_statement(category):
    # a printed method without a category counts as an error (the conservative reading)
    res = _result(_mr("a", P), _mr("lit", R, part="literal", role="printed", category=category))
    assert res.verdict is P
    assert res.verdict_as_printed is R
    assert any(f.category is Category.ERROR and f.source == "lit" for f in res.findings)


def test_printed_methods_do_not_touch_the_checked_verdict_and_a_refuted_reconstruction_refutes_both():
    res = _result(_mr("a", R, scope=SMALL), _mr("lit", P, part="literal", role="printed",
                                                 category=Category.ERROR))
    assert res.verdict is R and res.verdict_as_printed is R


def test_without_printed_methods_the_printed_verdict_is_the_checked_one():
    res = _result(_mr("a", V, scope=SMALL))
    assert res.verdict_as_printed is V


def test_per_reading_verdicts():
    readings = [Reading("l2", "g Lipschitz in the Euclidean norm"), Reading("linf", "... infinity norm"),
                Reading("coord", "... in x_i only")]
    res = _result(
        _mr("a", V, scope=SMALL),
        _mr("l2-proof", P, reading="l2", role="printed", category=Category.IMPRECISION),
        _mr("linf-proof", P, reading="linf", scope=SMALL, role="printed", category=Category.IMPRECISION),
        _mr("linf-mc", V, reading="linf", scope=Scope("n <= 8"), role="printed",
            category=Category.IMPRECISION),
        _mr("coord-ce", R, reading="coord", role="printed", category=Category.IMPRECISION),
        readings=readings,
    )
    assert res.reading_verdicts == {"l2": P, "linf": V, "coord": R}
    # the refuted reading is an imprecision of the wording, not an error of the statement
    assert res.verdict_as_printed is V
    assert any(f.category is Category.IMPRECISION and f.source == "coord-ce" for f in res.findings)
    (linf,) = res.parts("linf")
    assert "proved for n <= 3 (linf-proof)" in linf.scope
    with pytest.raises(InvalidArgument, match="no reading"):
        res.parts("l1")


def test_a_reading_whose_methods_disagree_or_fail():
    readings = [Reading("a", "reading a"), Reading("b", "reading b")]
    res = _result(_mr("main", P), _mr("a1", P, reading="a"), _mr("a2", R, reading="a"),
                  _mr("b1", V, reading="b"), _mr("b2", E, reading="b", error="boom"), readings=readings)
    assert res.reading_verdicts == {"a": I, "b": E}
    assert res.verdict is E


# --------------------------------------------------------------------------- Claim validation


def _ok(ctx):
    return Outcome(V)


def _claim(methods, readings=(), discrepancies=()):
    return Claim("T-1", "title", Source("f", "s"), "printed", "checked", tuple(methods),
                 discrepancies=tuple(discrepancies), readings=tuple(readings))


def test_a_method_naming_an_unknown_reading_is_rejected():
    with pytest.raises(InvalidArgument, match="names reading 'l1'"):
        _claim([Method("m", Kind.EXACT, _ok, "d", reading="l1")], readings=[Reading("l2", "Euclidean")])


def test_a_reading_checked_by_no_method_is_rejected():
    with pytest.raises(InvalidArgument, match="checked by no method"):
        _claim([Method("m", Kind.EXACT, _ok, "d")], readings=[Reading("l2", "Euclidean")])


def test_duplicate_reading_ids_are_rejected():
    with pytest.raises(InvalidArgument, match="duplicate reading"):
        _claim([Method("m", Kind.EXACT, _ok, "d", reading="l2")],
               readings=[Reading("l2", "Euclidean"), Reading("l2", "again")])


def test_an_empty_reading_is_rejected():
    with pytest.raises(InvalidArgument, match="non-empty"):
        Reading("", "text")


def test_a_static_discrepancy_must_be_a_finding_or_string():
    with pytest.raises(InvalidArgument, match="must be a Finding"):
        _claim([Method("m", Kind.EXACT, _ok, "d")], discrepancies=[42])
    claim = _claim([Method("m", Kind.EXACT, _ok, "d")], discrepancies=["uncategorized"])
    # a plain string is not yet categorized: it counts as an error (tests/core/test_registry.py forbids it)
    assert claim.findings == (Finding(Category.ERROR, "uncategorized"),)


@pytest.mark.parametrize("bad", [
    dict(role="both"), dict(kind="exact"), dict(scope="n <= 3"), dict(category="misprint"),
])
def test_method_fields_are_validated(bad):
    fields = dict(name="m", kind=Kind.EXACT, check=_ok, description="d") | bad
    with pytest.raises(InvalidArgument):
        Method(**fields)


def test_refutation_category_of_methods():
    assert Method("m", Kind.EXACT, _ok, "d").refutation_category is Category.ERROR
    printed = Method("m", Kind.EXACT, _ok, "d", role="printed", category=Category.MISPRINT)
    assert printed.refutation_category is Category.MISPRINT
    # a checked method refutes the reconstruction itself, whatever category it declares
    checked = Method("m", Kind.EXACT, _ok, "d", category=Category.CONVENTION)
    assert checked.refutation_category is Category.ERROR


def test_finding_text_names_its_category_and_source():
    assert str(Finding(Category.CONVENTION, "factor 2", "lit")) == "[convention] lit: factor 2"
    assert str(Finding(Category.MISPRINT, "typo")) == "[misprint] typo"
    assert all(c.meaning for c in Category)
