"""The shape of the code, checked by machine: dependencies point one way and pure rules stay pure.

`make lint` runs the import-linter contracts (.importlinter); these tests run them too and add what
they cannot say: no two modules import each other, even through others; the pure rule modules use
neither the ORM nor the clock; a function-level import or ``apps.get_model`` says why it is there.
"""

import ast
import subprocess
import sys

import grimp
import pytest

from tests.paths import REPO

PACKAGES = sorted(p.parent.name for p in REPO.glob("*/__init__.py") if p.parent.name != "tests")
PURE_RULES = ["outcomes/scoring.py", "outcomes/metrics.py", "stepped_care/review.py", "supervision/rules.py"]
PURE_RULES += ["workshops/rules.py", "common/plausibility.py", "outcomes/problems.py", "outcomes/trajectories.py"]
PURE_RULES += ["interop/codes.py"]
# Calls that read the clock: a pure rule takes ``today`` (or the time) from its caller.
CLOCK = {"now", "today", "utcnow", "localdate", "localtime", "time", "monotonic", "perf_counter"}
NOT_PURE = ("django", "rest_framework", "celery", "psycopg2")


def source_files():
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_the_import_linter_contracts_are_kept():
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def strongly_connected(graph, modules):
    """Tarjan's algorithm, iteratively: the groups of modules that import each other."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in modules), None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def test_no_two_modules_import_each_other(graph):
    """Counting imports inside functions too: a function-level import is still a dependency."""
    modules = {m for m in graph.modules if ".migrations" not in m}
    assert strongly_connected(graph, modules) == []


def test_the_cycle_check_finds_a_cycle():
    """The check above can fail: a graph with a loop through three modules is reported."""
    g = grimp.ImportGraph()
    for a, b in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        g.add_import(importer=a, imported=b)
    assert strongly_connected(g, set(g.modules)) == [["p.a", "p.b", "p.c"]]


def imports_of(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or "")


@pytest.mark.parametrize("path", PURE_RULES)
def test_pure_rule_modules_use_neither_the_orm_nor_the_clock(path):
    tree = ast.parse((REPO / path).read_text())
    ours = {f"{p}." for p in PACKAGES}
    for name in imports_of(tree):
        assert not name.startswith(NOT_PURE), f"{path} imports {name}"
        if name.startswith(tuple(ours)):
            assert name.replace(".", "/") + ".py" in PURE_RULES, f"{path} imports {name}, which is not a pure rule"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK, f"{path}:{node.lineno} reads the clock ({node.func.attr}())"


def test_function_level_imports_and_get_model_say_why():
    """Each has a comment on its line or just above it; for ``apps.get_model`` a module-level comment
    naming the reason also counts."""
    unexplained = []
    for path in source_files():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        explained_module = any("apps.get_model" in line and line.lstrip().startswith("#") for line in lines)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    near = lines[max(0, inner.lineno - 3) : inner.lineno]
                    if not any("#" in line for line in near):
                        unexplained.append(
                            f"{path.relative_to(REPO)}:{inner.lineno}: {lines[inner.lineno - 1].strip()}"
                        )
        for number, line in enumerate(lines, 1):
            if "get_model(" in line and not line.lstrip().startswith("#") and not explained_module:
                unexplained.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert unexplained == []
