"""No import cycles between taxolab's modules, and the workflow is above the reports (issue 13).

Read statically from the source: every ``import`` counts, including those
inside functions (a lazy import hides a cycle, it does not remove it), except
imports under ``if TYPE_CHECKING:``, which never run. ``from pkg import sub``
of a submodule counts as an import of that submodule only.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "taxolab").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for guard in ast.walk(tree)
        if isinstance(guard, ast.If) and "TYPE_CHECKING" in ast.unparse(guard.test)
        for node in ast.walk(guard)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known.keys()
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(base)
    return {target for target in found if target in known and target != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One import cycle (its modules, the first repeated at the end), or [] when there is none."""
    try:
        TopologicalSorter(edges).prepare()
    except CycleError as error:
        return list(error.args[1])
    return []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert sorted(cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})[:-1]) == ["a", "b", "c"]
    assert cycle({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_through_others() -> None:
    assert cycle(graph()) == []


def test_reports_never_import_the_workflow() -> None:
    """The run report is written by the workflow; the reports package must not call back into it."""
    offenders = {
        (name, target)
        for name, targets in graph().items()
        if name.startswith("taxolab.reports")
        for target in targets
        if target.startswith("taxolab.workflow")
    }
    assert offenders == set()
