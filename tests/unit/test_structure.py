"""The structure rules of DESIGN.md that a linter cannot see, checked on the real code.

- no import circle anywhere in ``app/``, counting imports written inside functions
  (grimp, the graph import-linter builds, sees those too); the layer order itself is the
  import-linter contract in pyproject.toml (``make lint``);
- no module over 400 lines;
- a ``.status`` is assigned only inside a function that consults a transition table;
- templates hold no copy of a status list or of the risk bands (they ask the service).

Each rule's checker is also run on a small made-up example that breaks it, so a checker
that silently finds nothing fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
TEMPLATES = ROOT / "templates"
MAX_LINES = 400


def import_circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    circles: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
    return circles


def app_import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("app", cache_dir=None)
    return {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}


def is_state_column(name: str) -> bool:
    # an HTTP status kept on an error object is a fact, not a state that moves
    return name == "status" or (name.endswith("_status") and name != "http_status")


def status_assignments_outside_transitions(source: str) -> list[int]:
    """Line numbers of ``x.status = ...`` (or ``x.<name>_status = ...``) not inside a function
    that reads a ``*TRANSITIONS`` table."""
    tree = ast.parse(source)
    bad: list[int] = []

    def stores_status(node: ast.AST) -> list[int]:
        lines = []
        for sub in ast.walk(node):
            targets = []
            if isinstance(sub, ast.Assign):
                targets = sub.targets
            elif isinstance(sub, ast.AugAssign | ast.AnnAssign):
                targets = [sub.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if (isinstance(leaf, ast.Attribute) and isinstance(leaf.ctx, ast.Store)
                            and is_state_column(leaf.attr)):
                        lines.append(leaf.lineno)
        return lines

    def reads_transitions(func: ast.AST) -> bool:
        return any((isinstance(n, ast.Name) and n.id.endswith("TRANSITIONS"))
                   or (isinstance(n, ast.Attribute) and n.attr.endswith("TRANSITIONS")) for n in ast.walk(func))

    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    # A transition function may check the table through a helper of the same module.
    checkers = {func.name for func in functions if reads_transitions(func)}

    def checks_table(func: ast.AST) -> bool:
        return reads_transitions(func) or any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in checkers for n in ast.walk(func))

    inside = set()
    for func in functions:
        lines = stores_status(func)
        inside.update(lines)
        if lines and not checks_table(func):
            bad.extend(lines)
    bad.extend(line for line in stores_status(tree) if line not in inside)
    return sorted(set(bad))


STATUS_LIST = re.compile(r"status\s+(not\s+)?in\s*[\(\[]")
RISK_BANDS = re.compile(r"risk_score\s*[<>]=?\s*\d")


def template_rule_copies(text: str) -> list[str]:
    return [m.group(0) for pattern in (STATUS_LIST, RISK_BANDS) for m in pattern.finditer(text)]


# -- the checkers catch what they are for ---------------------------------------------------

def test_the_circle_finder_finds_a_circle_through_an_inner_import_and_nothing_in_a_line():
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_grimp_counts_an_import_written_inside_a_function(tmp_path, monkeypatch):
    package = tmp_path / "circlepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "service.py").write_text("def run():\n    from circlepkg import jobs\n    return jobs\n")
    (package / "jobs.py").write_text("from circlepkg import service\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("circlepkg", cache_dir=None)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert import_circles(edges) == [["circlepkg.jobs", "circlepkg.service"]]


def test_the_status_checker_tells_a_transition_function_from_a_stray_assignment():
    source = (
        "TRANSITIONS = {('a', 'b')}\n"
        "def transition(row, to):\n"
        "    if (row.status, to) not in TRANSITIONS:\n"
        "        raise ValueError\n"
        "    row.status = to\n"
        "def _check(row, to):\n"
        "    assert (row.status, to) in TRANSITIONS\n"
        "def transition_via_helper(row, to):\n"
        "    _check(row, to)\n"
        "    row.status = to\n"
        "def shortcut(row):\n"
        "    row.status, row.note = 'b', 'x'\n"
    )
    assert status_assignments_outside_transitions(source) == [12]


def test_the_template_checker_sees_a_status_list_and_a_risk_band():
    assert template_rule_copies('{% if s.status in ("a", "b") %}{{ "high" if r.risk_score >= 50 }}') == [
        "status in (", "risk_score >= 5"]
    assert template_rule_copies('{% if "dispute" in actions %}') == []


# -- the rules hold in app/ and templates/ --------------------------------------------------

def test_there_is_no_import_circle_in_app():
    assert import_circles(app_import_graph()) == []


def test_no_module_in_app_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in APP.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_status_changes_only_in_transition_functions():
    found = {str(p.relative_to(ROOT)): lines for p in sorted(APP.rglob("*.py"))
             if (lines := status_assignments_outside_transitions(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_templates_hold_no_copy_of_a_transition_rule():
    found = {str(p.relative_to(ROOT)): hits for p in sorted(TEMPLATES.rglob("*.html"))
             if (hits := template_rule_copies(p.read_text(encoding="utf-8")))}
    assert found == {}
