"""Entry script of the frozen command-line tool."""

import multiprocessing

# The CLI's process pool: in a frozen program, spawned workers (Windows,
# macOS) must be caught here before they would run main() again.
multiprocessing.freeze_support()

from kmeans_gui.cli import run  # noqa: E402

run()
