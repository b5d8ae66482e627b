"""Names and paths that identify the application, defined once."""

from __future__ import annotations

from pathlib import Path

APP_ID = "io.github.kmeans_gui.KMeansGui"  # desktop file, metainfo id, icon name
APP_NAME = "K-Means Palette"  # shown to people
ORG_NAME = "kmeans_gui"  # QSettings organisation
ORG_DOMAIN = "kmeans_gui.github.io"
SETTINGS_APP = "kmeans-gui"  # QSettings application name

#: The project's version, as in pyproject.toml (a test keeps them in step).
#: Written out rather than read from the installed metadata: importlib.metadata
#: alone costs more than the rest of ``kmeans-compress --version``.
VERSION = "0.1.0"


def asset(name: str) -> Path:
    """Path of a bundled runtime asset in ``kmeans_gui/assets``.

    The package is installed as plain files (wheel, source tree or a one-folder
    frozen build), so the traversable is a real path.
    """
    from importlib import resources  # only here: the CLI never needs it
    return Path(str(resources.files("kmeans_gui") / "assets" / name))


SAMPLE_IMAGE = "sample.png"
