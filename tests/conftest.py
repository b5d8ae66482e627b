"""Shared test setup. Qt must never need a display: the offscreen platform is
chosen before anything imports Qt (an explicit setting still wins)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
