"""Shared builders for the report tests (no tests here).

``sample_run()`` covers every case a reporter must show (report schema version 2):
PROVED and VERIFIED methods with figures and stated scopes (one complete), a
REFUTED claim with a counterexample, a printed-role method of category
*misprint* and categorized findings (static and measured), a claim with two
readings, two methods that disagree on one part, a method that failed with an
error, claims of two papers, and text that must be escaped in Markdown and HTML.
"""

from __future__ import annotations

from stecheck.proofs_check.claim import ClaimResult, Figure, Kind, MethodResult, Reading, Series
from stecheck.proofs_check.results import RunResult
from stecheck.proofs_check.verdict import Category, Finding, Scope, Verdict

SBN = "Reintroducing Straight-Through Estimators (A. Shekhovtsov, V. Yanush; arXiv:2006.06880)"
QSTE = "Beyond Discreteness (H. Jeong, J. Xin, P. Yin; arXiv:2505.18113)"

HOSTILE = 'a <script>alert("x")</script> | *b* _c_ & `d`'


def band_figure(name: str = "bias") -> Figure:
    n = (2, 4, 8, 16, 32)
    return Figure(
        name=name, title="Bias of ST vs width", xlabel="n", ylabel="cosine bias",
        series=(
            Series("ST", n, (0.5, 0.35, 0.25, 0.18, 0.12), y_low=(0.45, 0.3, 0.2, 0.15, 0.1),
                   y_high=(0.55, 0.4, 0.3, 0.21, 0.14)),
            Series("n^-1/2", n, tuple(0.7 * k ** -0.5 for k in n), style="points"),
        ),
        xscale="log", yscale="log", hlines=(0.1,),
    )


def step_figure(name: str = "threshold") -> Figure:
    return Figure(
        name=name, title="Success rate", xlabel="m", ylabel="rate",
        series=(Series("n=8", (1.0, 2.0, 3.0, 4.0), (0.0, 0.2, 0.9, 1.0), style="step"),),
    )


def sample_run() -> RunResult:
    proved = ClaimResult(
        claim_id="SBN-COR-B1",
        title="T = F gives the identity proxy",
        source="002_6db3e70c79559b51.txt, appendix B, eqs. (17)",
        statement_printed="For T = F the proxy is the identity.",
        statement_checked="For all noises in {logistic, uniform, triangular}: d/dx F(F^-1(x)) = 1.",
        methods=[
            MethodResult(name="sympy-identity", kind=Kind.SYMBOLIC, part="main", role="checked",
                         verdict=Verdict.PROVED, evidence={"noises": ["logistic", "uniform", "triangular"],
                                                           "simplified": "1"},
                         seconds=0.42, fingerprint="0123456789abcdef",
                         scope=Scope.whole("all x in (0, 1), three noises (symbolic x)")),
            MethodResult(name="mc-identity", kind=Kind.MONTECARLO, part="main", role="checked",
                         verdict=Verdict.VERIFIED,
                         evidence={"samples": 100000, "max_abs_err": 1.25e-7, "confidence": 0.999,
                                   "errors": [float(i) / 1000 for i in range(40)],
                                   "per_noise": {"logistic": {"mean": 1.0, "ci": [0.9999, 1.0001]}},
                                   "ok": True, "note": None},
                         seconds=1.5, figures=[band_figure()], fingerprint="fedcba9876543210",
                         scope=Scope("x on a 1000-point grid")),
            MethodResult(name="literal-constant", kind=Kind.EXACT, part="constant", role="printed",
                         verdict=Verdict.REFUTED, evidence={"printed": 2, "derived": 1}, seconds=0.01,
                         category=Category.ERROR, scope=Scope.whole("the printed constant"),
                         discrepancies=[Finding(Category.ERROR, "the printed constant 2 should be 1",
                                                "literal-constant")]),
        ],
        replay="stecheck run SBN-COR-B1 --seed 7 --tier quick",
        paper=SBN,
    )
    refuted = ClaimResult(
        claim_id="SBN-B4",
        title="PSD rescaling keeps a non-negative scalar product " + HOSTILE,
        source="002_6db3e70c79559b51.txt, appendix B, eqs. (21)-(22)",
        statement_printed="For any PSD diagonal Lambda, <Lambda g, g> >= 0.",
        statement_checked="For all J1, J2 and PSD diagonal Lambda, Lambda0:\n  tr(J1 Lambda J2) >= 0.",
        methods=[
            MethodResult(name="search-J", kind=Kind.OPTIMIZATION, part="main", role="checked",
                         verdict=Verdict.REFUTED, evidence={"restarts": 16, "best": -0.37},
                         seconds=3.25, counterexample={"J1": [[1.0, -2.0], [0.5, 1.0]], "Lambda": [1.0, 0.0],
                                                       "value": -0.37},
                         discrepancies=[Finding(Category.ERROR, "eq. (22) drops the off-diagonal terms of J1", "search-J")],
                         scope=Scope("2 x 2 matrices, 16 restarts")),
            MethodResult(name="trace-step", kind=Kind.INTERVAL, part="trace-identity", role="checked",
                         verdict=Verdict.VERIFIED, evidence={"width": 1e-12}, seconds=0.05, scope=Scope("n <= 4")),
            MethodResult(name="as-printed", kind=Kind.EXACT, part="main", role="printed",
                         verdict=Verdict.REFUTED, evidence={"cases": 12}, seconds=0.01,
                         counterexample={"g": [1, -1], "Lambda": [1, 0]}, category=Category.MISPRINT,
                         scope=Scope("the printed vector form, 12 cases")),
        ],
        static_discrepancies=[Finding(Category.IMPRECISION, "the printed statement omits that units share parameters")],
        replay="stecheck run SBN-B4 --seed 7 --tier quick",
        paper=SBN,
    )
    disagree = ClaimResult(
        claim_id="SBN-B5",
        title="Expected ST is an ascent direction iff Lipschitz",
        source="002_6db3e70c79559b51.txt, appendix B, eqs. (23)-(30)",
        statement_printed="Expected ST is an ascent direction for all a(phi), L iff ...",
        statement_checked="Both directions, with shared parameters.",
        methods=[
            MethodResult(name="smt-necessity", kind=Kind.SMT, part="necessity", role="checked",
                         verdict=Verdict.PROVED, evidence={"solver": "z3", "result": "unsat"}, seconds=2.0,
                         scope=Scope("n <= 3"), reading="l2"),
            MethodResult(name="opt-necessity", kind=Kind.OPTIMIZATION, part="necessity", role="checked",
                         verdict=Verdict.REFUTED, evidence={"objective": -1e-3}, seconds=4.0,
                         counterexample={"a": "phi**2", "L": "x**3"}, scope=Scope("polynomials of degree <= 3"),
                         reading="linf"),
            MethodResult(name="sufficiency", kind=Kind.SYMBOLIC, part="sufficiency", role="checked",
                         verdict=Verdict.PROVED, evidence={}, seconds=0.3,
                         figures=[step_figure()], scope=Scope.whole("all a, L (symbolic)")),
        ],
        replay="stecheck run SBN-B5 --seed 7 --tier quick",
        readings=[Reading("l2", "L Lipschitz in the Euclidean norm"), Reading("linf", "L Lipschitz in the max norm")],
        paper=SBN,
    )
    errored = ClaimResult(
        claim_id="QSTE-ERG",
        title="O(n^2) samples give ergodic convergence",
        source="000_475ff5a2132a06f6.txt, section 3",
        statement_printed="m = O(n^2) samples suffice.",
        statement_checked="The empirical threshold m*(n) grows like n^2.",
        methods=[
            MethodResult(name="threshold-fit", kind=Kind.MONTECARLO, part="main", role="checked",
                         verdict=Verdict.ERROR, seconds=0.2,
                         evidence={"traceback": "Traceback (most recent call last):\n  File \"fit.py\", line 3\n"
                                                "ZeroDivisionError: division by zero\n"},
                         error="ZeroDivisionError: division by zero", scope=Scope("n in {4, 8, 16}")),
            MethodResult(name="small-grid", kind=Kind.MONTECARLO, part="main", role="checked",
                         verdict=Verdict.INCONCLUSIVE, evidence={"trials": 10}, seconds=0.7, scope=Scope("n in {4, 8}")),
        ],
        replay="stecheck run QSTE-ERG --seed 7 --tier quick",
        paper=QSTE,
    )
    return RunResult(
        claims=[proved, refuted, disagree, errored],
        seed=7,
        tier="quick",
        workers=2,
        started_at="2025-01-02T03:04:05Z",
        seconds=12.75,
        environment={"python": "3.12.1", "numpy": "2.1.0", "stecheck": "0.1.0", "platform": "Linux-x86_64"},
    )
