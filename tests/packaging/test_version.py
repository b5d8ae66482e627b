"""The version the commands print is the one the package is built with."""

import re
from importlib.metadata import version
from pathlib import Path

from kmeans_gui.appinfo import VERSION

ROOT = Path(__file__).resolve().parents[2]


def test_version_matches_pyproject_and_the_installed_metadata():
    text = (ROOT / "pyproject.toml").read_text()
    assert VERSION == re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    assert VERSION == version("kmeans-gui")
