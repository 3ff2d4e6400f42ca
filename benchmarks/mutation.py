"""Mutation testing of the checker: does the quick tier notice a wrong line in theory/ or numerics/?

    python benchmarks/mutation.py [--budget-minutes 20] [--jobs 2] [--seed 0] [--work DIR] [--json FILE]

Three phases (issue 8, section 7):

1. **Coverage and baseline.**  Every claim of the quick tier is run once
   (seed 0) in a fresh process of its own with an empty ``STECHECK_CACHE_DIR``
   (so no cache or memo filled by another claim hides a line), under a line
   tracer restricted to ``theory/`` and ``numerics/``: which lines each claim
   executes, and the verdicts it gets.  A null run of the unmutated tree in a subprocess (the
   same way mutants run) must give the same verdicts; claims that do not are
   reported and left out (their verdicts are not reproducible).
2. **Mutants.**  One AST node on a covered line is rewritten at a time:
   a number constant (int ``c -> c + 1``, float ``c -> 2c``, ``0.0 -> 1.0``), an
   arithmetic operator (``+ <-> -``, ``* <-> /``, ``** -> *``, ``// -> /``), a
   comparison (``< <-> <=``, ``> <-> >=``, ``== <-> !=``, ``is <-> is not``,
   ``in <-> not in``), a boolean operator (``and <-> or``), a unary minus or
   ``not`` dropped, or a returned value negated (``return e -> return -(e)``).
   Mutants are drawn uniformly (seeded) from all such sites; docstrings and
   other strings are never touched.
3. **Runs.**  Each mutant is written into a temporary copy of the package tree
   (symlinks to the unchanged files) put first on ``PYTHONPATH``, and the claims
   whose coverage contains the mutated line are run in a fresh ``python``
   subprocess (``run_claims(..., seed=0, workers=0)``).  The mutant is
   **detected** when a verdict the report shows changes (a claim's verdict as
   checked or as printed, a reading's, a part's), a disagreement or an error
   appears, or the number of findings of a category changes (the report's
   first screen counts them; ``non_equivalent_quick_tier_verdicts_only``
   gives the share without this last rule); a run that exceeds its time limit (``6 x`` the claims' own traced
   baseline times, at least ``10 x`` their average untraced time, + 120 s)
   counts as detected and is reported separately (``timeouts``, with each
   run's time and limit); since a timeout can be the machine's load rather
   than the mutant, the share over non-equivalent mutants is also given with
   the timeouts left out (``non_equivalent_quick_tier_timeouts_excluded``).

4. **Guards, by their unit tests.**  A mutant inside an argument-validation
   guard (the test of an ``if`` whose body only raises, or a ``raise``
   statement itself) changes behaviour on invalid input only, which claims
   never pass.  When the quick tier misses such a mutant, the unit tests of the
   mutated module (the files in ``tests/numerics`` or ``tests/theory`` named
   after it, else those there that import it; ``-m "not slow"``) are
   run on the mutated tree, and a failing test counts as detection **by the
   unit tests**, reported apart from detection by the quick tier.

5.  **Self-test code apart.**  The known-answer self-tests live in the
   modules they test.  Their own lines (the functions ``OncePerProcess``
   wraps or named as self-tests, and the fixtures and references only they
   name: :func:`self_test_statements`) are test code: a mutant there that
   leaves the self-test passing changes no output on any input, one that makes
   it fail breaks a test rather than the mathematics.  Every record carries
   ``self_test``; the summary gives the share over the **code under test**
   and over the self-test code apart, and ``--population code-under-test``
   samples only the former.

The report gives the share of detected mutants with its exact binomial
(Clopper-Pearson, ``scipy.stats.binomtest``) 95% interval, per operator and
per module, and lists every undetected mutant (file, line, change): each is
either an equivalent mutant (no observable change is possible) or a gap in
the checks.  The **raw share** counts every mutant and detection by the quick
tier only.  Next to it, the share over **non-equivalent** mutants leaves out
the mutants of the reviewed list ``benchmarks/mutation_equivalent.json``
(matched by file, source line text and change; each entry carries the
mathematical argument why no output can change, or, for class
``equivalent in distribution``, why only the seeded realization of the
evidence changes while its law does not), once with detection by the quick
tier only and once counting guard mutants caught by their unit tests.
Survivors not in the list stay in the denominator.  ``--summarize FILE``
recomputes the summary of a results file with the current list.
``--single FILE:LINE --claims ID,... [--change TEXT]`` reruns the mutants of one
line against the named claims (each compared with a null run of the same claims),
e.g. to confirm that a fix catches a survivor.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The repository folders that form the ``stecheck`` package (see pyproject.toml).
LAYOUT = {"stecheck": ROOT / "src" / "stecheck", "stecheck/theory": ROOT / "theory",
          "stecheck/numerics": ROOT / "numerics", "stecheck/proofs_check": ROOT / "proofs_check"}
TARGETS = ("theory", "numerics")

# ----------------------------------------------------------------------------- the driver (subprocess)

DRIVER = r"""
import hashlib, json, sys, time
from stecheck.proofs_check.registry import default_registry
from stecheck.proofs_check.reproducibility import method_evidence
from stecheck.proofs_check.runner import run_claims
sys.path.insert(0, {bench!r})
from mutation import signature
ids = json.loads(sys.argv[1])
t = time.perf_counter()
run = run_claims(default_registry().select(ids), seed=0, workers=0)
seconds = time.perf_counter() - t
evidence = {{k: hashlib.sha256(v.encode()).hexdigest()[:16] for k, v in method_evidence(run).items()}}
print("@@" + json.dumps({{"signature": signature(run), "evidence": evidence, "seconds": seconds}}))
"""


def source_tree_digest() -> str:
    """SHA-256 (first 16 hex digits) of every file of the package tree (``theory/``, ``numerics/``,
    ``proofs_check/``, ``src/``), names and bytes: the key of the coverage and null-run caches."""
    import hashlib

    h = hashlib.sha256()
    for folder in ("theory", "numerics", "proofs_check", "src"):
        for f in sorted((ROOT / folder).rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def evidence_changed(null: dict, res: dict) -> list[str] | None:
    """The ``CLAIM/method`` records (without timings) that differ between the null run and a mutant's run, over the
    mutant's claims; ``None`` if either run recorded no evidence digests.  ``[]`` means the mutant changed no number,
    text or counterexample anywhere in its claims' records: it is equivalent on the claims' inputs."""
    a, b = null.get("evidence"), res.get("evidence")
    if a is None or b is None:
        return None
    claims = {k.split("/", 1)[0] for k in b}
    return sorted(k for k in set(a) | set(b) if k.split("/", 1)[0] in claims and a.get(k) != b.get(k))


def signature(run) -> dict[str, list]:
    """Per claim, what the report concludes: both verdicts, readings, parts, disagreements, errors, and the number
    of findings per category (the report's first screen counts them: a misprint that appears or disappears is a
    changed conclusion about the paper; a changed number inside a finding's text is not counted)."""
    out = {}
    for c in run.claims:
        parts = [[role, p.part, p.verdict.value] for role in ("checked", "printed") for p in c.parts(role)]
        readings = sorted([k, v.value] for k, v in c.reading_verdicts.items())
        out[c.claim_id] = [c.verdict.value, c.verdict_as_printed.value, readings, parts,
                           len(c.disagreements), len(c.errors), sorted(c.finding_counts().items())]
    return out


_LABELS = ("as checked", "as printed", "readings", "parts", "disagreements", "errors", "findings")


def detected_by_findings_only(rec: dict) -> bool:
    """A detected mutant whose only visible change is in the finding counts (no verdict, disagreement or error)."""
    ch = rec.get("changes") or []
    return bool(ch) and all(c.split(": ", 1)[1].split(" (", 1)[0] == "findings" for c in ch)


def changes(base: dict, mutant: dict) -> list[str]:
    out = []
    for cid, sig in base.items():
        got = mutant.get(cid)
        if got is None:
            out.append(f"{cid}: missing")
            continue
        diff = [lab for lab, a, b in zip(_LABELS, sig, got) if a != b]
        if diff:
            out.append(f"{cid}: {', '.join(diff)} ({sig[0]}/{sig[1]} -> {got[0]}/{got[1]})")
    return out


# ----------------------------------------------------------------------------- phase 1: coverage


def coverage_one(claim_id: str, work: Path) -> dict:
    """Run one claim in this (fresh) process under a line tracer restricted to theory/ and numerics/."""
    from stecheck.proofs_check.registry import default_registry
    from stecheck.proofs_check.runner import run_claims

    prefixes = tuple(str(ROOT / t) + os.sep for t in TARGETS)
    hits: dict[str, set[int]] = {}

    def tracer(frame, event, arg):
        fn = frame.f_code.co_filename
        if not fn.startswith(prefixes):
            return None
        lines = hits.setdefault(os.path.relpath(fn, ROOT), set())

        def local(frame, event, arg):
            if event == "line":
                lines.add(frame.f_lineno)
            return local
        lines.add(frame.f_lineno)
        return local

    claim = default_registry().get(claim_id)
    t = time.perf_counter()
    sys.settrace(tracer)
    try:
        run = run_claims([claim], seed=0, workers=0)
    finally:
        sys.settrace(None)
    return {"lines": {f: sorted(v) for f, v in hits.items()}, "signature": signature(run)[claim.id],
            "traced_seconds": time.perf_counter() - t}


def coverage(work: Path, jobs: int) -> dict:
    """Per claim, in a fresh process each (so no cache or memo filled by another claim hides a line):
    ``{claim: {"lines": {file: [lines]}, "signature", "traced_seconds"}}``."""
    from stecheck.proofs_check.registry import default_registry

    def one(cid):
        env = dict(os.environ, STECHECK_CACHE_DIR=tempfile.mkdtemp(dir=work, prefix="cache-"), MPLBACKEND="Agg")
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--coverage-one", cid,
                               "--work", str(work)], capture_output=True, text=True, env=env, cwd=str(work))
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"coverage run of {cid} failed: {proc.stderr.strip().splitlines()[-1:]}")
        rec = json.loads(lines[-1][2:])
        print(f"  coverage {cid}: {sum(len(v) for v in rec['lines'].values())} lines, "
              f"{rec['traced_seconds']:.0f} s", flush=True)
        return cid, rec

    with ThreadPoolExecutor(jobs) as pool:
        return dict(pool.map(one, default_registry().ids()))


# ----------------------------------------------------------------------------- phase 2: mutants

_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
          ast.FloorDiv: ast.Div}
_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def sites(tree: ast.AST) -> list[tuple[int, str, int]]:
    """``(node index in ast.walk order, operator, line)`` of every mutable node."""
    skip = _docstring_nodes(tree)
    out = []
    for i, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            out.append((i, "constant", node.lineno))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
            out.append((i, "operator", node.lineno))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
            out.append((i, "comparison", node.lineno))
        elif isinstance(node, ast.BoolOp):
            out.append((i, "boolean", node.lineno))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            out.append((i, "unary", node.lineno))
        elif isinstance(node, ast.Return) and node.value is not None:
            out.append((i, "return", node.lineno))
    return out


def guard_nodes(tree: ast.AST) -> set[int]:
    """Indices (``ast.walk`` order) of nodes inside an argument-validation guard: the test of an ``if`` whose
    body is only ``raise`` statements (and which has no ``else``), or a ``raise`` statement."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        roots = []
        if isinstance(node, ast.If) and not node.orelse and all(isinstance(b, ast.Raise) for b in node.body):
            roots = [node.test, *node.body]
        elif isinstance(node, ast.Raise):
            roots = [node]
        for r in roots:
            inside.update(id(n) for n in ast.walk(r))
    return {i for i, n in enumerate(ast.walk(tree)) if id(n) in inside}


def default_nodes(tree: ast.AST) -> set[int]:
    """Indices of nodes inside a default argument value.  A default is evaluated when its ``def`` line runs (at
    import), so line coverage cannot tell whether any claim relies on it; such mutants are flagged."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for d in [*node.args.defaults, *[k for k in node.args.kw_defaults if k is not None]]:
                inside.update(id(n) for n in ast.walk(d))
    return {i for i, n in enumerate(ast.walk(tree)) if id(n) in inside}


#: Folders whose modules may name a module-level function of theory/ or numerics/ (a name used there is not
#: private to a self-test).
PACKAGE_DIRS = ("theory", "numerics", "proofs_check", "src/stecheck")


def _top_level_names(stmt: ast.stmt) -> list[str]:
    """The names a module-level statement defines: a ``def``/``class`` name or the plain targets of an assignment."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    targets = stmt.targets if isinstance(stmt, ast.Assign) else (
        [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _self_test_seeds(tree: ast.AST) -> set[str]:
    """A module's self-test functions: the names passed as the first argument of ``OncePerProcess(...)`` and the
    module-level functions named as self-tests (``selftest`` or ``self_test`` in the name)."""
    wrapped = {node.args[0].id for node in ast.walk(tree)
               if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None))
               == "OncePerProcess" and node.args and isinstance(node.args[0], ast.Name)}
    named = {s.name for s in getattr(tree, "body", []) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
             and ("selftest" in s.name.lower() or "self_test" in s.name.lower())}
    return wrapped | named


def _exported(tree: ast.AST) -> set[str]:
    """The names of a module's ``__all__`` (its public API: never test code, whoever calls them in the package)."""
    for s in getattr(tree, "body", []):
        if isinstance(s, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in s.targets):
            try:
                return set(ast.literal_eval(s.value))
            except ValueError:
                return set()
    return set()


def self_test_statements(tree: ast.AST, used_elsewhere: set[str] = frozenset()) -> list[ast.stmt]:
    """The module-level statements that are **test code**: the self-test functions a module hands to
    :class:`stecheck.selftest.OncePerProcess`, and, transitively, every module-level function, class or constant
    that only they (or the ``OncePerProcess(...)`` statements) name, that no other module of the package names
    (``used_elsewhere``) and that the module does not export (``__all__``).

    A self-test has no input: it passes or fails on the code under test.  A mutant of its own lines that leaves it
    passing changes no output of the checker on any input (an equivalent mutant by definition), and one that makes
    it fail breaks a test, it does not plant a fault in the mathematics.  So mutants of test code measure the
    self-tests' brittleness, not whether the checker notices a wrong line, and are reported apart.  Library code
    that a self-test calls is not test code: it is named by the code under test too, or by another module."""
    body = [s for s in getattr(tree, "body", []) if _top_level_names(s)]
    names = {n: s for s in body for n in _top_level_names(s)}
    wrappers = {id(s) for s in body if any(isinstance(c, ast.Call) and getattr(c.func, "id", None) ==
                                           "OncePerProcess" for c in ast.walk(s))}
    referrers: dict[str, set[int]] = {n: set() for n in names}
    for s in getattr(tree, "body", []):
        own = set(_top_level_names(s))
        for node in ast.walk(s):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in referrers \
                    and node.id not in own:
                referrers[node.id].add(id(s))
    test = {id(names[n]) for n in _self_test_seeds(tree) if n in names}
    exported = _exported(tree)
    grown = True
    while grown:
        grown = False
        for n, s in names.items():
            if id(s) in test or id(s) in wrappers or n in used_elsewhere or n in exported or n.startswith("__"):
                continue
            refs = referrers[n]
            if refs and refs <= test | wrappers:
                test.add(id(s))
                grown = True
    return [s for s in body if id(s) in test]


def self_test_nodes(tree: ast.AST, used_elsewhere: set[str] = frozenset()) -> set[int]:
    """Indices (``ast.walk`` order) of the nodes inside :func:`self_test_statements`."""
    inside = {id(n) for s in self_test_statements(tree, used_elsewhere) for n in ast.walk(s)}
    return {i for i, n in enumerate(ast.walk(tree)) if id(n) in inside}


def names_used_outside(relfile: str) -> set[str]:
    """Every identifier that occurs in a package module other than ``relfile`` (a superset of the names imported
    from it: a name shared by chance only makes the self-test set smaller)."""
    import re

    words: set[str] = set()
    for d in PACKAGE_DIRS:
        for f in (ROOT / d).rglob("*.py"):
            if f.resolve() != (ROOT / relfile).resolve():
                words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f.read_text(encoding="utf-8")))
    return words


def self_test_lines(relfile: str, source: str) -> set[int]:
    """The source lines of ``relfile`` that lie in its self-test code (see :func:`self_test_statements`)."""
    stmts = self_test_statements(ast.parse(source), names_used_outside(relfile))
    return {ln for s in stmts for ln in range(min([s.lineno] + [d.lineno for d in
                                                                getattr(s, "decorator_list", [])]),
                                              s.end_lineno + 1)}


def line_text(source: str, line: int) -> str:
    """The stripped text of source line ``line`` (1-based): how the equivalence list names a site."""
    return source.splitlines()[line - 1].strip()


EQUIVALENT_FILE = Path(__file__).resolve().parent / "mutation_equivalent.json"
EQUIVALENT_CLASSES = ("equivalent", "equivalent in distribution", "equivalent on the claims' inputs")
#: The classes that leave the headline denominator: no output of the library can change (or only the seeded
#: realization, its law unchanged).  A mutant "equivalent on the claims' inputs" changes the library function on
#: inputs no claim passes (off the {-1,1} cube, a default argument every caller overrides, a branch no claim
#: reaches): the quick tier cannot see it, but it is a real change of a public function, so it stays in the
#: headline denominator and a second share leaves it out.
STRICTLY_EQUIVALENT = ("equivalent", "equivalent in distribution")
CLAIMS_INPUTS = EQUIVALENT_CLASSES[2]


def load_equivalent(path: Path = EQUIVALENT_FILE) -> list[dict]:
    """The reviewed list of equivalent mutants: ``[{file, source, change, class, argument}]``."""
    if not path.exists():
        return []
    entries = json.loads(path.read_text(encoding="utf-8"))["mutants"]
    for e in entries:
        if e.get("class") not in EQUIVALENT_CLASSES or not e.get("argument"):
            raise ValueError(f"{path}: entry {e.get('file')}:{e.get('change')} needs a class in "
                             f"{EQUIVALENT_CLASSES} and an argument")
    return entries


def equivalence_of(rec: dict, entries: list[dict]) -> dict | None:
    """The entry of the reviewed list that matches ``rec`` (file, source line, change text and, where the entry gives
    it, the mutated statement: two mutants of a line can have the same change text), or ``None``."""
    for e in entries:
        if e["file"] == rec["file"] and e["change"] == rec["change"] and e["source"] == rec.get("source") \
                and ("mutated" not in e or e["mutated"] == rec.get("mutated")):
            return e
    return None


def unit_tests_for(relfile: str) -> list[str]:
    """The unit-test files of the module ``relfile`` (e.g. ``numerics/losses.py``): the files in
    ``tests/<package>/`` whose name contains the module's name, else those there that import it."""
    import re

    pkg, stem = Path(relfile).parent.name, Path(relfile).stem.lstrip("_")
    folder = ROOT / "tests" / pkg
    named = sorted(f for f in folder.glob("test_*.py") if stem in f.stem)
    if not named:
        pat = re.compile(rf"(stecheck\.{pkg}\.{stem}\b|from stecheck\.{pkg} import [^\n]*\b{stem}\b)")
        named = sorted(f for f in folder.glob("test_*.py") if pat.search(f.read_text(encoding="utf-8")))
    return [str(f.relative_to(ROOT)) for f in named]


def run_unit_tests(tree: Path, files: list[str], timeout: float, work: Path) -> dict:
    """``pytest -x -q -m "not slow"`` on ``files`` with the mutated ``tree`` first on the path."""
    env = dict(os.environ, PYTHONPATH=str(tree) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               STECHECK_CACHE_DIR=tempfile.mkdtemp(dir=work, prefix="cache-"), MPLBACKEND="Agg")
    env.setdefault("OMP_NUM_THREADS", "1")
    t = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "-p", "no:cacheprovider",
                               *files], capture_output=True, text=True, timeout=timeout, env=env, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "seconds": round(time.perf_counter() - t, 1)}
    tail = (proc.stdout.strip().splitlines() or ["?"])[-1][:200]
    status = {0: "passed", 1: "failed"}.get(proc.returncode, f"error (exit {proc.returncode})")
    return {"status": status, "seconds": round(time.perf_counter() - t, 1), "summary": tail}


def mutate(source: str, index: int) -> tuple[str, str]:
    """The module source with node ``index`` (ast.walk order) mutated, and a description of the change."""
    tree = ast.parse(source)
    return _apply(tree, index)


def mutated_statement(source: str, index: int) -> str:
    """The first line of the statement that holds node ``index``, as it reads after the mutation (``ast.unparse``):
    tells apart two mutants of one line whose change texts are equal (e.g. two constants ``1`` on the line)."""
    tree = ast.parse(source)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == index)
    # the smallest statement that spans the node's line, or the decorator that holds it (a decorator's line is
    # not inside its function's span)
    spans = [(s.end_lineno - s.lineno, -s.col_offset, id(s), s) for s in ast.walk(tree)
             if isinstance(s, ast.stmt) and s.lineno <= node.lineno <= s.end_lineno]
    decorators = [d for s in ast.walk(tree) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  for d in s.decorator_list if d.lineno <= node.lineno <= d.end_lineno]
    _apply(tree, index)
    if decorators:
        return "@" + ast.unparse(decorators[0]).splitlines()[0]
    return ast.unparse(min(spans)[3]).splitlines()[0]


def _apply(tree: ast.AST, index: int) -> tuple[str, str]:
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == index)
    before = ast.unparse(node) if not isinstance(node, ast.Return) else ast.unparse(node.value)
    if isinstance(node, ast.Constant):
        v = node.value
        node.value = v + 1 if isinstance(v, int) else (2.0 * v if v != 0 else 1.0)
    elif isinstance(node, ast.BinOp):
        node.op = _BINOP[type(node.op)]()
    elif isinstance(node, ast.Compare):
        node.ops = [_CMP[type(node.ops[0])]()]
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):
        replacement = node.operand
        parent = next(p for p in ast.walk(tree) for f, v in ast.iter_fields(p)
                      if v is node or (isinstance(v, list) and any(x is node for x in v)))
        for f, v in ast.iter_fields(parent):
            if v is node:
                setattr(parent, f, replacement)
            elif isinstance(v, list):
                setattr(parent, f, [replacement if x is node else x for x in v])
        after = ast.unparse(replacement)
        return ast.unparse(ast.fix_missing_locations(tree)), f"{before} -> {after}"
    elif isinstance(node, ast.Return):
        node.value = ast.UnaryOp(ast.USub(), node.value)
        after = ast.unparse(node.value)
        return ast.unparse(ast.fix_missing_locations(tree)), f"return {before} -> return {after}"
    after = ast.unparse(node)
    return ast.unparse(ast.fix_missing_locations(tree)), f"{before} -> {after}"


def _tree_with(work: Path, relfile: str | None, text: str | None) -> Path:
    """A package tree under ``work`` (symlinks), with ``relfile`` (e.g. ``theory/noise.py``) replaced by ``text``."""
    root = Path(tempfile.mkdtemp(dir=work, prefix="tree-"))
    for pkg, src in LAYOUT.items():
        dst = root / pkg
        mutated_here = relfile is not None and (ROOT / relfile).parent == src
        if not mutated_here and pkg != "stecheck":
            dst.symlink_to(src, target_is_directory=True)
            continue
        dst.mkdir(parents=True, exist_ok=True)
        for entry in src.iterdir():
            if entry.name == "__pycache__":
                continue
            target = dst / entry.name
            if mutated_here and entry == ROOT / relfile:
                target.write_text(text, encoding="utf-8")
            else:
                target.symlink_to(entry, target_is_directory=entry.is_dir())
    return root


def run_tree(tree: Path | None, claim_ids: list[str], timeout: float, work: Path) -> dict:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree) + os.pathsep + env.get("PYTHONPATH", "")
    env["STECHECK_CACHE_DIR"] = tempfile.mkdtemp(dir=work, prefix="cache-")
    env["MPLBACKEND"] = "Agg"
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    code = DRIVER.format(bench=str(Path(__file__).resolve().parent))
    t = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(claim_ids)], capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=str(work))
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "seconds": time.perf_counter() - t}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        return {"status": "crash", "seconds": time.perf_counter() - t, "detail": tail[0][:200]}
    return {"status": "ok", **json.loads(lines[-1][2:]), "wall": time.perf_counter() - t}


# ----------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget-minutes", type=float, default=20.0, help="wall-clock budget of phase 3")
    ap.add_argument("--until", default=None, metavar="HH:MM",
                    help="also start no mutant after this UTC wall-clock time (the next time the clock shows it), "
                         "whichever comes first")
    ap.add_argument("--jobs", type=int, default=2, help="mutants run in parallel")
    ap.add_argument("--seed", type=int, default=0, help="seed of the mutant sample")
    ap.add_argument("--max-mutants", type=int, default=1000)
    ap.add_argument("--population", choices=("all", "code-under-test"), default="all",
                    help="sample every covered line (default) or only the code under test, leaving the self-tests' "
                         "own lines out (see self_test_statements)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "stecheck-mutation")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument("--summarize", type=Path, default=None,
                    help="only recompute the summary of this results file (with the current equivalence list)")
    ap.add_argument("--single", default=None, metavar="FILE:LINE",
                    help="run only the mutants of this line (e.g. theory/obligations.py:426) against --claims, "
                         "each compared with a null run of the same claims; no coverage phase")
    ap.add_argument("--change", default="", help="with --single: only the mutants whose change contains this text")
    ap.add_argument("--claims", default="", help="with --single: comma-separated claim ids to run")
    ap.add_argument("--resume", action="store_true",
                    help="keep the records already in --json (an interrupted run of the same seed) and run only the "
                         "sampled mutants not among them")
    ap.add_argument("--coverage-one", default=None, help=argparse.SUPPRESS)  # internal: one claim, traced
    args = ap.parse_args(argv)
    if args.summarize:
        data = json.loads(args.summarize.read_text())
        backfill_self_test(data["mutants"])
        data["summary"] = summarize(data["mutants"])
        print(json.dumps(data["summary"], indent=2))
        print(headline(data["summary"]))
        args.summarize.write_text(json.dumps(data, indent=2))
        return 0
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.coverage_one:
        print("@@" + json.dumps(coverage_one(args.coverage_one, work)))
        return 0
    if args.single:
        return single(args, work)

    # the caches are keyed by the tree they were computed on: a coverage or null run of another commit would pair
    # this tree's lines with another tree's covered lines and baseline verdicts
    tree = source_tree_digest()
    cov_file = work / f"coverage-{tree}.json"
    if cov_file.exists():
        cov = json.loads(cov_file.read_text())
        print(f"coverage and baseline from {cov_file}")
    else:
        print("phase 1: coverage and baseline (every claim traced, each in a fresh process)", flush=True)
        cov = coverage(work, args.jobs)
        cov_file.write_text(json.dumps(cov))
    base = {cid: c["signature"] for cid, c in cov.items()}

    null_file = work / f"null-{tree}.json"
    if null_file.exists():
        null = json.loads(null_file.read_text())
    else:
        print("null run: the unmutated tree in a subprocess", flush=True)
        null = run_tree(_tree_with(work, None, None), list(cov), 3600, work)
        null_file.write_text(json.dumps(null))
    if null["status"] != "ok":
        print(f"the null run failed: {null}", file=sys.stderr)
        return 2
    unstable = sorted(cid for cid in base if null["signature"].get(cid) != base[cid])
    if unstable:
        print(f"not reproducible between the traced and the null run, left out: {unstable}")
    per_claim_seconds = null["seconds"] / max(1, len(cov))

    covered: dict[str, dict[int, list[str]]] = {}
    for cid, c in cov.items():
        if cid in unstable:
            continue
        for f, lines in c["lines"].items():
            for ln in lines:
                covered.setdefault(f, {}).setdefault(ln, []).append(cid)
    candidates = []
    sources = {}
    guards: dict[str, set[int]] = {}
    defaults: dict[str, set[int]] = {}
    self_tests: dict[str, set[int]] = {}
    for f in sorted(covered):
        sources[f] = (ROOT / f).read_text(encoding="utf-8")
        tree_f = ast.parse(sources[f])
        guards[f] = guard_nodes(tree_f)
        defaults[f] = default_nodes(tree_f)
        self_tests[f] = self_test_lines(f, sources[f])
        for idx, op, line in sites(tree_f):
            if line in covered[f] and not (args.population == "code-under-test" and line in self_tests[f]):
                candidates.append((f, idx, op, line))
    rng = random.Random(args.seed)
    rng.shuffle(candidates)
    candidates = candidates[: args.max_mutants]
    print(f"phase 2: {len(candidates)} mutable sites on covered lines in {len(covered)} files "
          f"(population: {args.population}; sampled in random order, seed {args.seed})", flush=True)

    deadline = time.time() + 60 * args.budget_minutes
    if args.until:
        import datetime as _dt
        hh, mm = (int(x) for x in args.until.split(":"))
        now = _dt.datetime.now(_dt.timezone.utc)
        until = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if until <= now:  # a time past midnight: tomorrow's
            until += _dt.timedelta(days=1)
        deadline = min(deadline, until.timestamp())
    results = []
    if args.resume and args.json and args.json.exists():
        kept = json.loads(args.json.read_text())
        if kept.get("seed") != args.seed:
            print(f"--resume: {args.json} holds seed {kept.get('seed')}, not {args.seed}", file=sys.stderr)
            return 2
        results = kept["mutants"]
        done_keys = {(r["file"], r["line"], r["change"], r.get("mutated")) for r in results}
        candidates = [c for c in candidates
                      if (c[0], c[3], mutate(sources[c[0]], c[1])[1], mutated_statement(sources[c[0]], c[1]))
                      not in done_keys]
        print(f"--resume: {len(results)} records kept, {len(candidates)} sampled mutants left", flush=True)
    null_tree = _tree_with(work, None, None)
    null_units: dict[tuple, dict] = {}  # the unit tests must pass on the unmutated tree to count a failure

    def unit_check(f: str, tree: Path) -> dict:
        files = unit_tests_for(f)
        if not files:
            return {"files": [], "detected": False, "status": "no unit tests import this module"}
        key = tuple(files)
        if key not in null_units:
            null_units[key] = run_unit_tests(null_tree, files, 900, work)
        if null_units[key]["status"] != "passed":
            return {"files": files, "detected": False, "status": f"not counted: {null_units[key]['status']} "
                                                                  "on the unmutated tree"}
        res = run_unit_tests(tree, files, 900, work)
        return {"files": files, "detected": res["status"] == "failed", **res}

    def one(item):
        f, idx, op, line = item
        if time.time() > deadline:
            return None
        text, change = mutate(sources[f], idx)
        claims = sorted(covered[f][line])
        tree = _tree_with(work, f, text)
        # each claim's own traced baseline time (slower than untraced), so a slow claim on a loaded machine is
        # not mistaken for a mutant that hangs; never below the old average-based limit
        timeout = max(6 * sum(cov[c]["traced_seconds"] for c in claims), 10 * per_claim_seconds * len(claims)) + 120
        res = run_tree(tree, claims, timeout, work)
        rec = {"file": f, "line": line, "operator": op, "change": change, "source": line_text(sources[f], line),
               "mutated": mutated_statement(sources[f], idx),
               "guard": idx in guards[f], "default_argument": idx in defaults[f],
               "self_test": line in self_tests[f], "claims": claims,
               "status": res["status"], "time_limit": round(timeout, 1),
               "seconds": round(res.get("seconds", 0.0), 1)}
        if res["status"] == "ok":
            rec["changes"] = changes({c: base[c] for c in claims}, res["signature"])
            rec["detected"] = bool(rec["changes"])
            ev = evidence_changed(null, res)
            if ev is not None:
                rec["evidence_changed"] = len(ev)
                rec["evidence_changed_in"] = ev[:5]
        else:
            rec["detected"] = True
            rec["detail"] = res.get("detail", "")
        if rec["guard"] and not rec["detected"]:
            rec["unit_tests"] = unit_check(f, tree)
        mark = "DETECTED" if rec["detected"] else (
            "units   " if rec.get("unit_tests", {}).get("detected") else "missed  ")
        print(f"  {mark} {f}:{line} [{op}] {change[:70]}  ({rec['status']}, {rec['seconds']} s)", flush=True)
        return rec

    print(f"phase 3: running mutants for up to {args.budget_minutes:g} min on {args.jobs} job(s)", flush=True)
    def save(final: bool) -> dict:
        try:
            summary = summarize(results)
        except ValueError as e:  # a listed "equivalent" mutant was detected: the list is wrong; keep the records
            if final:
                raise
            summary = {"error": str(e)}
        if args.json:  # written after every mutant too, so an interrupted run keeps what it measured
            args.json.write_text(json.dumps({"summary": summary, "mutants": results, "unstable_claims": unstable,
                                             "seed": args.seed, "population": args.population,
                                             "complete": final}, indent=2))
        return summary

    with ThreadPoolExecutor(args.jobs) as pool:
        for rec in pool.map(one, candidates):
            if rec is not None:
                results.append(rec)
                save(False)

    summary = save(True)
    print(json.dumps(summary, indent=2))
    print(headline(summary))
    return 0


def single(args, work: Path) -> int:
    """``--single FILE:LINE``: the mutants of one line, each run on ``--claims`` and compared with a null run of the
    same claims in a subprocess (the way phase 3 runs them).  Prints one line per mutant; exit 1 if one survives."""
    relfile, _, line = args.single.rpartition(":")
    claims = [c for c in args.claims.split(",") if c]
    if not relfile or not line.isdigit() or not claims:
        print("--single needs FILE:LINE (a path under theory/ or numerics/) and --claims ID[,ID...]", file=sys.stderr)
        return 2
    source = (ROOT / relfile).read_text(encoding="utf-8")
    todo = []
    for idx, op, ln in sites(ast.parse(source)):
        if ln == int(line):
            text, change = mutate(source, idx)
            if args.change in change:
                todo.append((op, f"{change}  [{mutated_statement(source, idx)}]", text))
    if not todo:
        print(f"no mutant of {relfile}:{line} matches --change {args.change!r}", file=sys.stderr)
        return 2
    null = run_tree(_tree_with(work, None, None), claims, 7200, work)
    if null["status"] != "ok":
        print(f"the null run failed: {null}", file=sys.stderr)
        return 2
    survived = 0
    for op, change, text in todo:
        res = run_tree(_tree_with(work, relfile, text), claims, 7200, work)
        diff = changes(null["signature"], res["signature"]) if res["status"] == "ok" else [res["status"]]
        survived += not diff
        ev = evidence_changed(null, res) if res["status"] == "ok" else None
        evidence = "" if ev is None else (" [evidence identical]" if not ev else
                                          f" [evidence differs in {len(ev)} method(s): {', '.join(ev[:3])}]")
        print(f"{'DETECTED' if diff else 'missed  '} {relfile}:{line} [{op}] {change}  "
              f"({res['status']}, {res.get('seconds', 0.0):.0f} s) {'; '.join(diff)[:300]}{evidence}", flush=True)
    return 1 if survived else 0


def headline(summary: dict) -> str:
    """One paragraph: the share over non-equivalent mutants with and without the timeouts, and the counts."""
    def fmt(sh):
        if not sh.get("mutants"):
            return "no mutants"
        lo, hi = sh["clopper_pearson_95"]
        return f"{sh['detected']}/{sh['mutants']} = {100 * sh['share']:.1f} % (Clopper-Pearson 95 % [{100 * lo:.1f}, {100 * hi:.1f}])"
    st = summary["by_status"]
    return (f"detected by the quick tier, non-equivalent mutants: {fmt(summary['non_equivalent_quick_tier'])}; "
            f"timeouts excluded: {fmt(summary['non_equivalent_quick_tier_timeouts_excluded'])}; "
            f"runs: {st['ok']} completed, {st['timeout']} timeouts (counted as detected in the first share), "
            f"{st['crash']} crashes; equivalent (left out): "
            f"{sum(v for c, v in summary['equivalent'].items() if c in STRICTLY_EQUIVALENT)}; "
            f"leaving out also the {summary['equivalent'].get(CLAIMS_INPUTS, 0)} mutants equivalent on the claims' "
            f"inputs: {fmt(summary.get('non_equivalent_quick_tier_on_claims_inputs', {}))}; "
            f"verdicts only (a change of the finding counts alone not counted): "
            f"{fmt(summary.get('non_equivalent_quick_tier_verdicts_only', {}))}"
            + (f"; {summary['silent_mutants']} mutants left every record bit-identical, over the others: "
               f"{fmt(summary['non_equivalent_changing_evidence'])}" if "silent_mutants" in summary else "")
            + (f"; code under test (the self-tests' own lines left out): {fmt(summary['code_under_test'])}; "
               f"self-test code: {fmt(summary['self_test_code'])}" if "code_under_test" in summary else ""))


def backfill_self_test(results: list[dict]) -> None:
    """Set the ``self_test`` flag of records written before it existed, from the current tree: the line whose
    stripped text is the record's ``source``, nearest its recorded line number; left unset where the line is gone
    or the file has no such line (the summary counts those as ``self_test_flag_missing``)."""
    cache: dict[str, tuple[list[str], set[int]]] = {}
    for r in results:
        if "self_test" in r or not (ROOT / r["file"]).exists():
            continue
        if r["file"] not in cache:
            src = (ROOT / r["file"]).read_text(encoding="utf-8")
            cache[r["file"]] = (src.splitlines(), self_test_lines(r["file"], src))
        lines, tests = cache[r["file"]]
        found = [i + 1 for i, text in enumerate(lines) if text.strip() == r.get("source")]
        if found:
            r["self_test"] = min(found, key=lambda i: abs(i - r["line"])) in tests


def summarize(results: list[dict], equivalent: list[dict] | None = None) -> dict:
    """Raw share (every mutant, quick tier only), per operator and module, and the shares over non-equivalent
    mutants (reviewed list), by the quick tier alone and with guard mutants caught by their unit tests."""
    from scipy.stats import binomtest

    equivalent = load_equivalent() if equivalent is None else equivalent

    def share(rs, key=lambda r: r["detected"]):
        n, k = len(rs), sum(bool(key(r)) for r in rs)
        if n == 0:
            return {"mutants": 0}
        ci = binomtest(k, n).proportion_ci(0.95, method="exact")
        return {"mutants": n, "detected": k, "share": round(k / n, 3),
                "clopper_pearson_95": [round(ci.low, 3), round(ci.high, 3)]}

    def by_units(r):
        return r["detected"] or r.get("unit_tests", {}).get("detected", False)

    eq = {id(r): equivalence_of(r, equivalent) for r in results}
    for r in results:  # a listed mutant that a check detects is not equivalent: the list is wrong
        if eq[id(r)] is not None and by_units(r):
            raise ValueError(f"{r['file']}:{r['line']} {r['change']} is listed as {eq[id(r)]['class']} but was "
                             "detected; remove it from the equivalence list")
        # "equivalent on the claims' inputs" promises bit-identical records on those inputs: a run that recorded
        # evidence digests (phase 3 since session 10) must show none changed
        if eq[id(r)] is not None and eq[id(r)]["class"] == "equivalent on the claims' inputs" \
                and r.get("evidence_changed", 0) > 0:
            raise ValueError(f"{r['file']}:{r['line']} {r['change']} is listed as equivalent on the claims' inputs but "
                             f"changed the evidence of {r['evidence_changed_in']}; reclassify it")
    non_eq = [r for r in results if eq[id(r)] is None or eq[id(r)]["class"] not in STRICTLY_EQUIVALENT]
    out = {"all": share(results)}
    out["non_equivalent_quick_tier"] = share(non_eq)
    out["non_equivalent_quick_tier_on_claims_inputs"] = share([r for r in results if eq[id(r)] is None])
    out["non_equivalent_quick_tier_or_guard_unit_tests"] = share(non_eq, by_units)
    # the same share when a change of the finding counts alone does not count (signatures before 2026-11-30 had none)
    out["non_equivalent_quick_tier_verdicts_only"] = share(
        non_eq, lambda r: r["detected"] and not detected_by_findings_only(r))
    # mutants that left every record of their claims bit-identical (evidence digests, phase 3 since session 10):
    # whatever they change, the quick tier never computes it; the share over the others says how often a change
    # that reaches the evidence also reaches a conclusion
    silent = [r for r in non_eq if r["status"] == "ok" and r.get("evidence_changed") == 0]
    with_digests = [r for r in non_eq if "evidence_changed" in r or r["status"] != "ok"]
    if with_digests:
        out["silent_mutants"] = len(silent)
        out["non_equivalent_changing_evidence"] = share([r for r in with_digests if r not in silent])
    # the code under test against the self-tests' own code (see self_test_statements): a mutant of a self-test
    # breaks or leaves a test, it does not plant a fault in the mathematics; records without the flag (samples
    # before session 13) are classified by --summarize from the current tree where their line is still found
    flagged = [r for r in non_eq if r.get("self_test") is not None]
    if flagged:
        out["code_under_test"] = share([r for r in flagged if not r["self_test"]])
        out["code_under_test_changing_evidence"] = share(
            [r for r in flagged if not r["self_test"] and not (r["status"] == "ok" and r.get("evidence_changed") == 0)])
        out["self_test_code"] = share([r for r in flagged if r["self_test"]])
        out["self_test_flag_missing"] = len(non_eq) - len(flagged)
    out["equivalent"] = {c: sum(1 for r in results if eq[id(r)] is not None and eq[id(r)]["class"] == c)
                         for c in EQUIVALENT_CLASSES}
    guard = [r for r in results if r.get("guard")]
    out["guards"] = {"mutants": len(guard), "detected_by_quick_tier": sum(r["detected"] for r in guard),
                     "detected_by_unit_tests_only": sum(1 for r in guard if not r["detected"] and by_units(r))}
    out["default_arguments"] = share([r for r in results if r.get("default_argument")])
    out["by_status"] = {s: sum(r["status"] == s for r in results) for s in ("ok", "timeout", "crash")}
    out["completed_runs_only"] = share([r for r in results if r["status"] == "ok"])
    # a timeout may be the machine's load rather than the mutant: the headline is also given without them
    out["non_equivalent_quick_tier_timeouts_excluded"] = share([r for r in non_eq if r["status"] != "timeout"])
    out["timeouts"] = [f"{r['file']}:{r['line']} [{r['operator']}] {r['change']} ({r['seconds']} s, limit "
                       f"{r.get('time_limit', '?')} s)" for r in results if r["status"] == "timeout"]
    out["crashes"] = [f"{r['file']}:{r['line']} [{r['operator']}] {r['change']}: {r.get('detail', '')}"
                      for r in results if r["status"] == "crash"]
    out["by_operator"] = {op: share([r for r in results if r["operator"] == op])
                          for op in sorted({r["operator"] for r in results})}
    out["by_module"] = {f: share([r for r in results if r["file"] == f]) for f in sorted({r["file"] for r in results})}
    def label(r):
        e = eq[id(r)]
        if e is not None:
            return f" ({e['class']})"
        if r.get("unit_tests", {}).get("detected"):
            return " (guard: detected by its unit tests)"
        tags = [t for t, on in (("self-test code", r.get("self_test")), ("guard", r.get("guard")),
                                 ("default argument", r.get("default_argument"))) if on]
        return f" ({', '.join(tags)})" if tags else ""

    out["missed"] = [f"{r['file']}:{r['line']} [{r['operator']}] {r['change']}{label(r)}"
                     for r in results if not r["detected"]]
    return out


if __name__ == "__main__":
    sys.exit(main())
