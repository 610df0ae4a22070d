"""The core (mesh, sources, store) must never import Qt: a developer working on graph semantics
never opens a Qt file. Checked two ways: statically, and by importing every core module in a
fresh interpreter where importing PySide6/pyqtgraph/shiboken6 raises."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ("mesh", "sources", "store")
QT = ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6")


def _core_files() -> list[Path]:
    return sorted(p for pkg in CORE for p in (ROOT / "meshdesk" / pkg).rglob("*.py"))


def test_no_qt_import_statement_in_core() -> None:
    offenders = []
    for path in _core_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in QT]
    assert not offenders, "Qt imported in the Qt-free core:\n" + "\n".join(offenders)


def test_core_modules_import_with_qt_blocked() -> None:
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in _core_files()
    ]
    assert len(modules) > 5
    script = (
        "import sys, importlib\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {QT!r}: raise ImportError('Qt blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
        "assert not bad, bad\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
