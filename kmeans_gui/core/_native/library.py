"""The native library's file name, in one place.

Standard library only and free of package-relative imports: the build hook
(``hatch_build.py``) and the PyInstaller spec load this file by its path,
before the package is installed.
"""

from __future__ import annotations

import sys

#: The library's name without its platform suffix.
STEM = "_kmeans_native"


def library_name(platform: str = sys.platform) -> str:
    """The shared library's file name on ``platform`` (a ``sys.platform`` value)."""
    if platform == "win32":
        return f"{STEM}.dll"
    if platform == "darwin":
        return f"{STEM}.dylib"
    return f"{STEM}.so"
