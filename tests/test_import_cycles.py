"""No import cycles among posturewatch's modules, function-level imports included.

A cycle is dodged today by moving an import into a function and breaks the day
someone moves it back; the layers (app -> adapters -> pipeline -> core) and the
modules within each must import in one direction only. The graph is read from
the source (AST), so every import counts: top-level, in functions, and under
`if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "posturewatch"


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, package: str, modules: set[str]) -> set[str]:
    """The modules one import statement names; `from a import b` is a.b when that is a module."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:
        parts = package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1])
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    return {f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its file."""
    files = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            found |= _imported(node, package, set(files))
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    counter = itertools.count()

    def visit(v: str) -> None:
        index[v] = low[v] = next(counter)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_among_posturewatch_modules():
    found = cycles(import_graph(PACKAGE))
    assert found == [], "import cycles (each group imports itself round a loop):\n" + "\n".join(
        "  " + " <-> ".join(group) for group in found)


def test_the_graph_sees_function_level_and_submodule_imports():
    """A guard for the guard: imports the scan must not miss."""
    graph = import_graph(PACKAGE)
    # In a function: replaying a pose log must not load MediaPipe.
    assert "posturewatch.adapters.mediapipe_pose" in graph["posturewatch.app.inputs"]
    # `from . import history_sink, setup as daemon_setup` names two modules.
    assert {"posturewatch.app.daemon.history_sink", "posturewatch.app.daemon.setup"} \
        <= graph["posturewatch.app.daemon.run_cmd"]


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "sub" / "__init__.py"):
        init.write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import g\n")
    (pkg / "c.py").write_text("from . import a\n")
    (pkg / "d.py").write_text("import pkg.a\n")  # imports into the loop, not part of it
    assert cycles(import_graph(pkg)) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
