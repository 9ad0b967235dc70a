"""Import cycles: none at run time; the type-only ones are named where they live.

A module that imports another only under ``TYPE_CHECKING`` (for annotations) makes no
cycle when Python runs, but a reader still sees two modules that know each other. The
rule: no cycle among the imports that run at load time, and every cycle that type-only
imports close is named in the docstring of the package that holds it, which says why.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {"ec_core": "ec_core/src", "ec_mock": "ec_mock/src", "ec_cqg": "ec_cqg/src"}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top, src in SOURCES.items():
        base = ROOT / src
        for path in (base / top).rglob("*.py"):
            if "_proto" in path.parts:
                continue
            parts = path.relative_to(base).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _imports(name: str, path: Path, modules: dict[str, Path], *, types: bool) -> set[str]:
    """Modules ``name`` imports at load time (and under TYPE_CHECKING if ``types``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                if types:
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Import):
                out.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    out.add(sub if sub in modules else base)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                visit(node.body)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "finalbody", []))
            # imports inside functions and classes run late: they close no load cycle

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    # a submodule importing its own package's names is the package's re-export, not a cycle
    return {m for m in out if m in modules and m != name and not name.startswith(f"{m}.")}


def _cycles(*, types: bool) -> list[list[str]]:
    modules = _modules()
    graph = {m: _imports(m, p, modules, types=types) for m, p in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: list[str] = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(found)


def test_no_import_cycle_runs_at_load_time() -> None:
    assert _cycles(types=False) == []


def test_each_type_only_cycle_is_named_in_its_package_docstring() -> None:
    unexplained = []
    for component in _cycles(types=True):
        package = component[0].rpartition(".")[0]
        while not all(m == package or m.startswith(f"{package}.") for m in component):
            package = package.rpartition(".")[0]
        doc = importlib.import_module(package).__doc__ or ""
        missing = [m for m in component if m.removeprefix(f"{package}.") not in doc]
        if "Type-only import cycles" not in doc or missing:
            unexplained.append((package, missing or component))
    assert unexplained == [], (
        f"explain these type-only cycles in the package docstring: {unexplained}"
    )
