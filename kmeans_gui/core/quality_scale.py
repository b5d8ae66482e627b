"""pngquant's 0-100 quality scale mapped onto our quality figure (stdlib only).

``--quality MIN-MAX`` and the app's "quality ≥ Q" target use it. The figure is
the mean OKLab ΔE ×100 (``kscan``). ``QUALITY_TABLE`` holds, for each setting,
the median ΔE that pngquant 3.0.3 (``--nofs``) reaches at that setting on the
shared test images (17 photos and graphics), measured by
``benchmarks/quality_calibration.py``; in between, ΔE is interpolated
linearly on a log scale (linearly in the last step, which ends at lossless).
So quality 80 asks for about the error pngquant's own ``--quality 0-80``
typically ends at.
"""

from __future__ import annotations

import math

#: (pngquant quality, ΔE ×100 it reaches: median over the shared images).
QUALITY_TABLE = (
    (0, 12.26),
    (10, 2.48),
    (20, 2.18),
    (30, 2.05),
    (40, 1.80),
    (50, 1.58),
    (60, 1.385),
    (70, 1.19),
    (80, 0.94),
    (90, 0.68),
    (95, 0.53),
    (100, 0.0),  # lossless: every colour kept (pngquant's 100 means the same)
)


def quality_to_delta_e(q: float) -> float:
    """The ΔE ×100 that a pngquant quality setting stands for."""
    q = min(100.0, max(0.0, float(q)))
    for (q0, d0), (q1, d1) in zip(QUALITY_TABLE, QUALITY_TABLE[1:], strict=False):
        if q0 <= q <= q1:
            t = (q - q0) / (q1 - q0)
            if d1 <= 0:  # the last step ends at lossless: interpolate linearly
                return d0 * (1 - t)
            return math.exp(math.log(d0) * (1 - t) + math.log(d1) * t)
    return QUALITY_TABLE[-1][1]
