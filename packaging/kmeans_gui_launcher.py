"""Entry script for the frozen build (PyInstaller needs a file, not an entry point)."""

from kmeans_gui.app import main

raise SystemExit(main())
