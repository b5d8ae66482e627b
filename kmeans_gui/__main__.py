"""``python -m kmeans_gui`` starts the desktop application."""

import sys

from kmeans_gui.app import main

sys.exit(main())
