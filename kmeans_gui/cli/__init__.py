"""``kmeans-compress``: the command line shell over the Qt-free core.

Kept import-light: ``--help`` and argument errors never load numpy or Qt.
"""

from .main import main, run

__all__ = ["main", "run"]
