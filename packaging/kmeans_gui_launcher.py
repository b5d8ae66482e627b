"""Entry script for the frozen build (PyInstaller needs a file, not an entry point)."""

from frozen_env import use_own_numba_cache

use_own_numba_cache("kmeans-gui")  # before anything imports numba

from kmeans_gui.app import main  # noqa: E402

raise SystemExit(main())
