"""Kiali conformance: our graph, given Kiali's own golden-test telemetry, must equal Kiali's graph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_kiali_conformance_cases_all_match(shared_dir: Path) -> None:
    base = shared_dir / "conformance" / "kiali"
    cases = sorted(str(p) for p in (base / "cases").glob("*.json"))
    if not cases:
        pytest.skip(f"no conformance cases under {base / 'cases'}")
    cmd = f"{sys.executable} -m meshdesk graph --snapshot {{case}} --format kiali"
    run = subprocess.run([sys.executable, str(base / "check.py"), "--cmd", cmd, *cases],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert last == f"conformance: {len(cases)} of {len(cases)} cases match"
