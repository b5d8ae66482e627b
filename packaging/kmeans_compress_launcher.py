"""Entry script of the frozen command-line tool."""

import multiprocessing

from frozen_env import use_own_numba_cache

# The CLI's process pool: in a frozen program, spawned workers (Windows,
# macOS) must be caught here before they would run main() again.
multiprocessing.freeze_support()
use_own_numba_cache("kmeans-compress")  # before anything imports numba

from kmeans_gui.cli import main  # noqa: E402

raise SystemExit(main())
