"""The static checks: import-linter's contracts and ruff, as configured in pyproject.toml."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    exe = os.path.join(os.path.dirname(sys.executable), name)
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_import_contracts_hold():
    """The core knows no Qt; the quantizer and the codec know nothing of each
    other; the GUI and the CLI reach the core only through its public API."""
    run = run_tool("lint-imports")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "broken" in run.stdout and " 0 broken" in run.stdout


def test_ruff_finds_nothing():
    run = run_tool("ruff", "check", "--no-cache", ".")
    assert run.returncode == 0, run.stdout + run.stderr
