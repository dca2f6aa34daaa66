"""The dependency rule of docs/architecture: arrows point inward, app -> adapters -> pipeline -> core.

- The pure core imports with cv2 and mediapipe blocked (in a fresh interpreter).
- No core module imports a clock, threads, processes, sockets, databases or file
  I/O, or any third-party package but numpy (AST scan, lazy imports included).
- Each heavy library stays in its adapter.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "posturewatch"
CORE = PACKAGE / "core"

FORBIDDEN_IN_CORE = {
    "time": "time is an argument (`update(obs, now)`); the core never reads a clock",
    "threading": "the core schedules nothing", "asyncio": "the core schedules nothing",
    "sched": "the core schedules nothing", "concurrent": "the core schedules nothing",
    "multiprocessing": "no processes in the core", "subprocess": "no processes in the core",
    "signal": "no processes in the core",
    "socket": "no I/O in the core", "select": "no I/O in the core", "selectors": "no I/O in the core",
    "sqlite3": "no I/O in the core", "http": "no I/O in the core", "urllib": "no I/O in the core",
    "os": "no I/O in the core", "io": "no I/O in the core", "pathlib": "no I/O in the core",
    "shutil": "no I/O in the core", "tempfile": "no I/O in the core", "glob": "no I/O in the core",
}
THIRD_PARTY_IN_CORE = {"numpy"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file, as absolute dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                mod = f"{prefix}.{node.module}" if node.module else prefix
                # `from . import x` may name submodules
                found.update([mod] + ([f"{mod}.{a.name}" for a in node.names] if not node.module else []))
            elif node.module != "__future__":
                found.add(node.module)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


CORE_FILES = python_files(CORE)


def test_the_import_scanner_resolves_relative_imports():
    # A guard for the guard: features.py does `from .pose import Part, Pose`.
    assert "posturewatch.core.pose" in imports(CORE / "features.py")
    assert "math" in imports(CORE / "features.py")


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_imports_nothing_impure(path):
    problems = []
    for name in sorted(imports(path)):
        root = top(name)
        if root in FORBIDDEN_IN_CORE:
            problems.append(f"{name}: {FORBIDDEN_IN_CORE[root]}")
        elif root == "posturewatch" and not name.startswith("posturewatch.core"):
            problems.append(f"{name}: the core must not import the outer layers")
        elif root != "posturewatch" and root not in sys.stdlib_module_names \
                and root not in THIRD_PARTY_IN_CORE:
            problems.append(f"{name}: the core uses the standard library and numpy only")
    assert not problems, f"{path.relative_to(PACKAGE)}:\n  " + "\n  ".join(problems)


def test_core_imports_with_cv2_and_mediapipe_blocked():
    """In a fresh interpreter where `import cv2` / `import mediapipe` fail, import all of core."""
    code = f"""
import importlib, json, pkgutil, sys
sys.modules["cv2"] = None
sys.modules["mediapipe"] = None
import posturewatch.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "posturewatch.core.")]
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.startswith("posturewatch"))
print(json.dumps({{"core": names, "loaded": loaded}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    expected = {module_name(p) for p in CORE_FILES if p.name != "__init__.py"}
    assert set(result["core"]) == expected
    outside = [m for m in result["loaded"] if not m.startswith("posturewatch.core") and m != "posturewatch"]
    assert outside == [], f"importing the core pulled in {outside}"


def test_pipeline_and_ports_depend_on_the_core_only():
    for path in (PACKAGE / "pipeline.py", PACKAGE / "ports.py"):
        outer = [n for n in imports(path) if top(n) == "posturewatch"
                 and not n.startswith(("posturewatch.core", "posturewatch.ports"))]
        heavy = [n for n in imports(path) if top(n) in {"cv2", "mediapipe", "plyer", "platformdirs"}]
        assert not outer and not heavy, f"{path.name} imports {outer + heavy}"


@pytest.mark.parametrize("path", python_files(PACKAGE / "adapters"), ids=lambda p: p.name)
def test_adapters_do_not_import_the_app(path):
    bad = [n for n in imports(path) if n.startswith("posturewatch.app")]
    assert not bad, f"{path.name} imports {bad}: arrows point inward (app -> adapters)"


# Each heavy library lives in the adapter that owns it.
OWNERS = {
    "mediapipe": {"adapters/mediapipe_pose.py"},
    "plyer": {"adapters/notify.py"},
    "sqlite3": {"adapters/history.py"},
    "jeepney": {"adapters/dbus.py"},  # every D-Bus adapter goes through adapters/dbus.py
    "matplotlib": set(),  # charts are SVG text (adapters/charts.py)
    "dask": {"adapters/dask_engine.py"},
    "distributed": {"adapters/dask_engine.py"},
    "multiprocessing": {"adapters/processes.py"},
}
OWNED_BY_ADAPTERS = {"cv2", "mediapipe", "plyer", "platformdirs", "sqlite3", "jeepney"}


def test_heavy_libraries_stay_in_their_adapters():
    problems = []
    for path in python_files(PACKAGE):
        where = str(path.relative_to(PACKAGE))
        for name in imports(path):
            lib = top(name)
            if lib in OWNERS and where not in OWNERS[lib]:
                problems.append(f"{where} imports {lib} (only {sorted(OWNERS[lib])} may)")
            elif lib in OWNED_BY_ADAPTERS and not where.startswith("adapters/"):
                problems.append(f"{where} imports {lib} (only adapters/ may)")
    assert not problems, "\n".join(problems)
