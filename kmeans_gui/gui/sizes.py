"""What the sizes box and the status bar's summary say about the image and
the current result: its PNG size, the ratio to the original file, bit
depth, colours used and the mean colour error."""

from __future__ import annotations

import numpy as np

from kmeans_gui.core import bit_depth

from .imaging import human_size
from .session import Session


def colours(n: int) -> str:
    return f"{n} colour" if n == 1 else f"{n} colours"


def iterations(n: int) -> str:
    return f"{n} iteration" if n == 1 else f"{n} iterations"


def image_texts(image) -> tuple[str, str]:
    """The image's pixel size and the original file's size."""
    return (f"{image.width} × {image.height} px"
            + (", with transparency" if image.has_alpha else ""),
            f"{human_size(image.file_size)}"
            + (f" ({image.source_format})" if image.source_format else ""))


def result_texts(s: Session) -> tuple[str, str, str]:
    """The PNG line, the ratio line and the status bar's summary."""
    image, f = s.image, s.result
    if image is None or f is None:
        waiting = "computing…" if s.is_running() else "–"
        return waiting, "–", waiting
    size = f.estimated_size
    text = (f"{human_size(size)} (saved)" if s.saved_size is not None
            else f"{human_size(size)} (not saved yet)")
    # Counted by the worker (the shares), not again over every pixel here.
    used = int(np.count_nonzero(f.shares))
    ratio_text = "–"
    if image.file_size:
        ratio = image.file_size / max(size, 1)
        ratio_text = (f"{ratio:.2f} × smaller" if ratio >= 1
                      else f"{1 / ratio:.2f} × larger")
    parts = [f"PNG {human_size(size)}"]
    if image.file_size:
        parts.append(ratio_text)
    parts.append(f"{bit_depth(f.result.n_colors)}-bit")
    parts.append(f"{colours(used)} used")
    if f.delta_e == f.delta_e:  # not NaN
        parts.append(f"ΔE {f.delta_e:.2f}")
    return f"{text}, {colours(f.result.n_colors)}", ratio_text, " · ".join(parts)
