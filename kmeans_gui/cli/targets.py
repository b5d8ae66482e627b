"""Targets that choose k: parsing --max-delta-e, --max-size and --quality.

Stdlib only (the parser runs before numpy is imported). ``--quality MIN-MAX``
keeps pngquant's meaning: use the fewest colours that reach MAX; if even 256
colours stay below MIN, write nothing (exit 99). The 0-100 scale is mapped
onto our quality figure by ``core.quality_scale``.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass

from ..core import QUALITY_TABLE, quality_to_delta_e  # noqa: F401 (re-export)

#: Exit status when a target cannot be met (pngquant's).
EXIT_TARGET_MISSED = 99


@dataclass(frozen=True)
class TargetSpec:
    """A target as the user gave it; ``label`` names it in output file names."""

    max_delta_e: float | None = None
    max_bytes: int | None = None
    floor_delta_e: float | None = None  # --quality's MIN, as ΔE
    label: str = ""


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?[bB])?\s*$")
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def parse_size(text: str) -> int:
    """``200K``, ``1.5M``, ``90000``: bytes (K = 1024, M = 1024²)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 200K, 1.5M or 90000 (bytes), got {text!r}")
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if value < 1:
        raise argparse.ArgumentTypeError(f"the size must be at least 1 byte, got {text}")
    return int(value)


def parse_delta_e(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def parse_quality(text: str) -> tuple[int, int]:
    """``MIN-MAX``, ``MAX`` or ``-MAX`` (MIN 0), ``MIN-`` (MAX 100), each 0-100."""
    match = re.fullmatch(r"\s*(\d*)\s*(-?)\s*(\d*)\s*", text)
    if not match or not (match.group(1) or match.group(3)):
        raise argparse.ArgumentTypeError(f"expected MIN-MAX such as 60-80, got {text!r}")
    low, dash, high = match.groups()
    if not dash:
        low, high = "0", low
    low_q = int(low) if low else 0
    high_q = int(high) if high else 100
    if not (0 <= low_q <= 100 and 0 <= high_q <= 100):
        raise argparse.ArgumentTypeError(f"qualities are 0-100, got {text}")
    if low_q > high_q:
        raise argparse.ArgumentTypeError(f"MIN must not exceed MAX, got {text}")
    return low_q, high_q


def _number_label(value: float) -> str:
    return f"{value:g}"


def target_from(max_delta_e: float | None, max_size: int | None, size_text: str | None,
                quality: tuple[int, int] | None) -> TargetSpec | None:
    if max_delta_e is not None:
        return TargetSpec(max_delta_e=max_delta_e, label=f"-de{_number_label(max_delta_e)}")
    if max_size is not None:
        label = (size_text or str(max_size)).strip().replace(" ", "")
        return TargetSpec(max_bytes=max_size, label=f"-max{label}")
    if quality is not None:
        low, high = quality
        goal = quality_to_delta_e(high)
        if goal <= 0:  # 100 = lossless; the smallest figure that still rounds to it
            goal = 1e-9
        return TargetSpec(max_delta_e=goal, floor_delta_e=max(goal, quality_to_delta_e(low)),
                          label=f"-q{low}-{high}")
    return None
