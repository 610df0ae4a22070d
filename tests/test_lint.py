"""ruff and mypy, as configured in pyproject.toml, stay clean: a lint or type error fails the run
(the lines they print say where)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> list[str]:
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]' brings it)")
    return [sys.executable, "-m", name]


def test_ruff_is_clean() -> None:
    run = subprocess.run([*_tool("ruff"), "check", "meshdesk", "tests", "benchmarks", "packaging"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_is_clean(tmp_path: Path) -> None:
    run = subprocess.run([*_tool("mypy"), "--cache-dir", str(tmp_path / "mypy"), "meshdesk"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
