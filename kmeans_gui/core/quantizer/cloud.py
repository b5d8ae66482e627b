"""The colour-space view's maths: a weighted sample of the histogram, the
axes of the two clustering spaces, a 3D rotation and its projection, and
per-cluster figures. Qt-free, so it is tested like the rest of the core.

World coordinates are right-handed with Z up. In OKLab, X = a, Y = b and
Z = L (scaled by 100 like the working space, centred on L = 50), so looking
down Z shows the a/b chroma plane. In RGB, X = R, Y = G, Z = B around the
cube's centre. The view looks along +Y from the front at yaw = pitch = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .colorspace import to_working
from .histogram import ColorHistogram, working_colours

#: The most points the view draws; more would not show more on screen.
SAMPLE_POINTS = 20_000


@dataclass(frozen=True)
class ColourSample:
    """Histogram groups standing for all the image's pixels."""

    colors: np.ndarray  # (n, 3|4) uint8 straight sRGB(A) of each point
    weights: np.ndarray  # (n,) float64 pixels each point stands for
    groups: np.ndarray  # (n,) int64 histogram group of each point
    n_pixels: int  # all pixels, transparent ones included
    n_transparent: int  # fully transparent pixels (not in any group)

    def __len__(self) -> int:
        return len(self.groups)


def _certain_count(sorted_counts: np.ndarray, points: int) -> tuple[int, float]:
    """How many of the largest groups to keep for sure, and the sampling step.

    With the j largest kept, the rest is sampled every ``step = rest / (points - j)``
    pixels; the smallest j with every remaining group under one step means no
    group can be picked twice.
    """
    total = sorted_counts.sum()
    j = np.arange(points)
    rest = total - np.concatenate([[0.0], np.cumsum(sorted_counts[: points - 1])])
    step = rest / (points - j)
    first = int(np.flatnonzero(sorted_counts[:points] < step)[0])
    return first, float(step[first])


def sample_histogram(hist: ColorHistogram, points: int = SAMPLE_POINTS) -> ColourSample:
    """A deterministic weighted sample of at most ``points`` histogram groups.

    Small histograms are taken whole. Otherwise the largest groups are always
    kept with their own pixel counts and the others are picked by systematic
    sampling over their pixels in colour-key order (stratified in RGB), each
    standing for one sampling step of pixels: every group's expected weight is
    its pixel count, and the weights add up to the clustered pixels exactly.
    """
    if points < 1:
        raise ValueError("a sample needs at least one point")
    counts = hist.counts.astype(np.float64)
    n = len(counts)
    if n <= points:
        groups = np.arange(n, dtype=np.int64)
        weights = counts.copy()
    else:
        by_size = np.argsort(-counts, kind="stable")
        certain_n, step = _certain_count(counts[by_size], points)
        certain = by_size[:certain_n]
        rest = by_size[certain_n:]
        rest = rest[np.argsort(hist.keys[rest], kind="stable")]
        cumulative = np.cumsum(counts[rest])
        positions = (np.arange(points - certain_n) + 0.5) * step
        picked = rest[np.searchsorted(cumulative, positions, side="right")]
        groups = np.concatenate([np.sort(certain), picked]).astype(np.int64)
        weights = np.concatenate([counts[np.sort(certain)],
                                  np.full(len(picked), step)])
    colors = np.clip(np.rint(hist.colors[groups]), 0, 255).astype(np.uint8)
    return ColourSample(colors, weights, groups, hist.n_pixels, hist.n_transparent)


def size_classes(weights: np.ndarray, classes: int = 4) -> np.ndarray:
    """Point size class 0..classes-1 from pixel counts: one class per factor
    of four above the lightest point (log scale, as counts span decades)."""
    weights = np.asarray(weights, dtype=np.float64)
    if not len(weights):
        return np.zeros(0, np.int8)
    base = max(float(weights.min()), 1e-12)
    steps = np.floor(np.log(np.maximum(weights, base) / base) / np.log(4.0))
    return np.clip(steps, 0, classes - 1).astype(np.int8)


# ------------------------------------------------------------------ axes
@dataclass(frozen=True)
class Axes:
    """How to draw one space: axis names, ends (in world units) and a scale."""

    names: tuple[str, str, str]  # along world X, Y, Z
    low: tuple[float, float, float]  # where each axis starts, world units
    high: tuple[float, float, float]
    radius: float  # world distance from the centre that fits the whole gamut
    unit: float  # world units per tick step on the scale bar
    unit_label: str


AXES = {
    "oklab": Axes(("a", "b", "L"), (-30.0, -30.0, -50.0), (30.0, 30.0, 50.0), 62.0,
                  10.0, "0.1 OKLab"),
    "rgb": Axes(("R", "G", "B"), (-127.5, -127.5, -127.5), (127.5, 127.5, 127.5),
                221.0, 51.0, "51 sRGB levels (20 %)"),
}


#: Half the working L of white: the height at which L is centred in the view.
_MID_L = float(to_working(np.full((1, 3), 255.0), "oklab")[0, 0]) / 2


def world_coords(colors: np.ndarray, space: str) -> np.ndarray:
    """(n, 3|4) sRGB(A) to (n, 3) world coordinates; alpha is not drawn."""
    rgb = np.asarray(colors, dtype=np.float64)[:, :3]
    if space == "oklab":  # the working coordinates K-Means measures, L centred
        lab = to_working(rgb, "oklab")
        return np.column_stack([lab[:, 1], lab[:, 2], lab[:, 0] - _MID_L])
    if space == "rgb":
        return rgb - 127.5
    raise ValueError(f"unknown colour space {space!r}")


# ------------------------------------------------------------ projection
def view_matrix(yaw: float, pitch: float) -> np.ndarray:
    """(3, 3) world -> view: rows give screen right, screen up and depth
    (positive away from the viewer). ``yaw`` (radians) turns the world about
    its Z axis; ``pitch`` tilts the view down onto it (pi/2 looks straight
    down Z, with +Y up on screen)."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    turn = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, sp, cp], [0.0, cp, -sp]])
    return tilt @ turn


#: Named views: (yaw, pitch) in radians.
PRESETS = {
    "top": (0.0, np.pi / 2),  # down Z: the a/b chroma plane in OKLab
    "front": (0.0, 0.0),  # X to the right, Z up
    "side": (-np.pi / 2, 0.0),  # Y to the right, Z up
    "default": (-np.pi / 6, np.pi / 7),
}


def project(world: np.ndarray, matrix: np.ndarray, scale: float,
            centre: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Screen x, screen y (down) and depth of (n, 3) world points, float32."""
    view = np.asarray(world, dtype=np.float32) @ np.asarray(matrix, dtype=np.float32).T
    x = centre[0] + scale * view[:, 0]
    y = centre[1] - scale * view[:, 1]
    return x, y, view[:, 2]


def fit_scale(space: str, width: float, height: float, zoom: float = 1.0) -> float:
    """Screen pixels per world unit so the gamut fills the smaller side."""
    return zoom * 0.46 * min(width, height) / AXES[space].radius


# ------------------------------------------------------------- clusters
def nearest_labels(colors: np.ndarray, palette: np.ndarray, space: str) -> np.ndarray:
    """Index of the nearest palette entry for each colour, as K-Means assigns:
    distances in the working space; a fully transparent first entry (alpha 0)
    is left out, as K-Means keeps it for the transparent pixels only."""
    palette = np.asarray(palette)
    channels = palette.shape[1]
    offset = 1 if channels == 4 and len(palette) and palette[0, 3] == 0 else 0
    x = to_working(np.asarray(colors, dtype=np.float64)[:, :channels], space)
    c = to_working(palette[offset:].astype(np.float64), space)
    d = (x * x).sum(1)[:, None] - 2 * x @ c.T + (c * c).sum(1)[None, :]
    return d.argmin(axis=1) + offset


def cluster_stats(hist: ColorHistogram, labels: np.ndarray, palette: np.ndarray,
                  space: str) -> tuple[np.ndarray, np.ndarray]:
    """Share of all pixels and mean distance to its colour (working units)
    for each palette entry, from the histogram and its groups' labels."""
    k = len(palette)
    counts = hist.counts.astype(np.float64)
    labels = np.asarray(labels)
    pixels = np.bincount(labels, weights=counts, minlength=k)[:k]
    channels = palette.shape[1]
    x = working_colours(hist, channels, space)
    c = to_working(palette.astype(np.float64), space)
    dist = np.sqrt(((x - c[labels]) ** 2).sum(1))
    error = np.bincount(labels, weights=counts * dist, minlength=k)[:k]
    mean_error = np.divide(error, pixels, out=np.zeros(k), where=pixels > 0)
    if hist.n_transparent and k and channels == 4 and palette[0, 3] == 0:
        pixels[0] += hist.n_transparent
    return pixels / max(hist.n_pixels, 1), mean_error


def cluster_figures(hist: ColorHistogram, labels: np.ndarray, palette: np.ndarray,
                    space: str, index: int) -> tuple[float, float]:
    """``cluster_stats`` for the one entry ``index``: its share of all pixels
    and its pixels' mean distance to its colour (less work per iteration)."""
    channels = palette.shape[1]
    if hist.n_transparent and channels == 4 and index == 0 and palette[0, 3] == 0:
        members = np.asarray(labels) == 0
        pixels = hist.counts[members].sum() + hist.n_transparent
        return pixels / max(hist.n_pixels, 1), 0.0
    members = np.flatnonzero(np.asarray(labels) == index)
    counts = hist.counts[members].astype(np.float64)
    pixels = counts.sum()
    if not pixels:
        return 0.0, 0.0
    x = working_colours(hist, channels, space)[members]
    c = to_working(palette[index:index + 1].astype(np.float64), space)[0]
    error = float((counts * np.sqrt(((x - c) ** 2).sum(1))).sum() / pixels)
    return float(pixels / max(hist.n_pixels, 1)), error


def palette_permutation(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``perm`` with ``new[i] == old[perm[i]]`` for a reordered palette
    (equal entries are matched in order)."""
    old = np.asarray(old)
    new = np.asarray(new)
    if old.shape != new.shape:
        raise ValueError("the palettes differ in size")
    perm = np.empty(len(new), dtype=np.int64)
    used = np.zeros(len(old), dtype=bool)
    for i, entry in enumerate(new):
        candidates = np.flatnonzero((old == entry).all(axis=1) & ~used)
        if not len(candidates):
            raise ValueError("the palettes hold different colours")
        perm[i] = candidates[0]
        used[candidates[0]] = True
    return perm


# ------------------------------------------------------------ rendering
#: Pixel offsets of the point stamps, grouped by the smallest size class
#: that uses them: 1 px, a plus, a 3x3 square, a disc of radius 2.
_STAMP = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1),
                   (-1, -1), (2, 0), (-2, 0), (0, 2), (0, -2), (2, 1), (-2, 1), (2, -1),
                   (-2, -1), (1, 2), (-1, 2), (1, -2), (-1, -2)], dtype=np.int64)
_STAMP_CLASS = np.array([0] + [1] * 4 + [2] * 4 + [3] * 12, dtype=np.int8)
_STAMP_SIZE = np.array([1, 5, 9, 21], dtype=np.int64)


def pack_rgb(colors: np.ndarray) -> np.ndarray:
    """(n, 3|4) uint8 to opaque 0xAARRGGBB uint32 (the QImage RGB32 layout)."""
    c = np.asarray(colors)[:, :3].astype(np.uint32)
    return (np.uint32(0xFF000000) | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]).astype(np.uint32)


def splat_plan(x: np.ndarray, y: np.ndarray, depth: np.ndarray, classes: np.ndarray,
               width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each point's disc goes: (target pixel, point index) rows in
    drawing order, far to near, each point's stamp after the farther points'.
    Depends on the view only, so new colours reuse it (see ``splat_paint``)."""
    n = len(x)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(-depth)  # far first
    xi = np.floor(x[order]).astype(np.int64)
    yi = np.floor(y[order]).astype(np.int64)
    # One row per stamp pixel: point i's stamp is the first _STAMP_SIZE[class]
    # offsets (the offsets are sorted by class).
    count = _STAMP_SIZE[classes[order]]
    row_point = np.repeat(np.arange(n), count)
    offset = np.arange(len(row_point)) - np.repeat(np.cumsum(count) - count, count)
    px = xi[row_point] + _STAMP[offset, 0]
    py = yi[row_point] + _STAMP[offset, 1]
    ok = (px >= 0) & (px < width) & (py >= 0) & (py < height)
    return (py * width + px)[ok], order[row_point[ok]]


def splat_paint(plan: tuple[np.ndarray, np.ndarray], colors: np.ndarray, width: int,
                height: int, background: int, out: np.ndarray | None = None,
                front: np.ndarray | None = None) -> np.ndarray:
    """Paint a ``splat_plan`` with packed uint32 ``colors`` into a (height, width)
    image. Rows are written in order, so a nearer point overwrites a farther
    one (numpy assigns a 1-D fancy index in order; the tests check that the
    nearest point wins where points overlap). ``front`` (bool per point):
    those points are painted again over all others, still nearest on top."""
    if out is None or out.shape != (height, width):
        out = np.empty((height, width), dtype=np.uint32)
    out.fill(background)
    target, point = plan
    flat = out.reshape(-1)
    flat[target] = colors[point]
    if front is not None:
        rows = front[point]
        flat[target[rows]] = colors[point[rows]]
    return out


def splat(x: np.ndarray, y: np.ndarray, depth: np.ndarray, classes: np.ndarray,
          colors: np.ndarray, width: int, height: int, background: int,
          out: np.ndarray | None = None) -> np.ndarray:
    """Draw points as small discs into a (height, width) uint32 image, the
    nearest point (smallest depth) on top. ``colors`` are packed uint32."""
    plan = splat_plan(x, y, depth, classes, width, height)
    return splat_paint(plan, colors, width, height, background, out)
