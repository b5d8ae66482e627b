"""Shared helpers for the packaging tests: paths and required external tools."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def require_tool(name: str, debian_package: str) -> str:
    """Path of a command-line tool, or a failure saying how to get it.

    CI installs these (see .ci/run), so a missing tool is a broken setup that
    must show up red, not a silent skip.
    """
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install {debian_package} "
                    "(.ci/run installs it)")
    return path


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
