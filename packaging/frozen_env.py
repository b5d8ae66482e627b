"""Start-up settings shared by the frozen build's entry scripts."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def use_own_numba_cache(program: str) -> None:
    """Give each frozen executable its own numba cache folder.

    In a frozen program numba stamps its cache with the *executable's* size and
    time, so kmeans-gui and kmeans-compress sharing one folder would each find
    the other's entries stale and recompile (about 10 s) after the other ran.
    An explicit NUMBA_CACHE_DIR still wins.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    os.environ.setdefault("NUMBA_CACHE_DIR", str(base / "kmeans-gui" / "numba" / program))
