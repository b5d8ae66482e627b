"""Names and paths that identify the application, defined once."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

APP_ID = "io.github.kmeans_gui.KMeansGui"  # desktop file, metainfo id, icon name
APP_NAME = "K-Means Palette"  # shown to people
ORG_NAME = "kmeans_gui"  # QSettings organisation
ORG_DOMAIN = "kmeans_gui.github.io"
SETTINGS_APP = "kmeans-gui"  # QSettings application name

try:
    from importlib.metadata import PackageNotFoundError, version

    VERSION = version("kmeans-gui")
except PackageNotFoundError:  # running from a source tree or a frozen build
    VERSION = "0.1.0"


def asset(name: str) -> Path:
    """Path of a bundled runtime asset in ``kmeans_gui/assets``.

    The package is installed as plain files (wheel, source tree or a one-folder
    frozen build), so the traversable is a real path.
    """
    return Path(str(resources.files("kmeans_gui") / "assets" / name))


SAMPLE_IMAGE = "sample.png"
