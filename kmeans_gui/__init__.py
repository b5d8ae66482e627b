"""K-Means Palette: the desktop app (``gui``), the command line (``cli``), the engine (``core``)."""

import os as _os

# The engine splits its work over the cores itself (``core/parallel.py``).
# OpenBLAS's own threads only contend with it: its colour conversions are
# (n, 3) @ (3, 3) products, which a second thread cannot speed up but which
# slow down many times over while those threads wait for a busy core. This
# must happen before numpy is first imported; a value the user set wins.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
