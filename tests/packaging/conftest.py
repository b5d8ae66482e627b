import os

# The icon tests paint with Qt; no display is needed for that.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
