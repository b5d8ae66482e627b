"""What each palette size costs: quality and file size over k, and targets that pick k.

K-Means runs on the colour histogram, so trying many k is cheap. For one
image, :class:`KCost` evaluates a palette size: it clusters, then measures

* the quality figure: mean OKLab ΔE ×100 over the image's visible pixels
  (fully transparent ones are left out; alpha itself is not compared), the
  same definition as ``metrics.oklab_delta_e`` for opaque images. It is
  computed per distinct colour and weighted by pixel counts, so it is exact
  whenever the colours are counted exactly (up to ``MAX_EXACT_COLORS``
  distinct colours, or images of at most ``TABLE_SAMPLE_PIXELS`` pixels);
  beyond that it is estimated from a fixed random sample of that many
  pixels. With dithering the figure comes from the sampled rows below.
* the PNG size: exact (the real encoder on the whole image) up to
  ``EXACT_SIZE_PIXELS``; beyond that estimated by encoding a few bands of
  rows spread over the image with the same encoder and scaling up.

:func:`scan` yields those points over a log-spaced set of k, each K-Means
seeded afresh (warm starts from the previous palette were measured slower
and no better). :func:`search` finds the smallest k meeting a quality
target or the largest k fitting a byte budget, and checks the result it
returns with the real encoder.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..limits import MAX_K
from ..units import human_size
from .compress import encode_png, finish
from .png.writer import banded_size
from .quantizer.colorspace import rgb_to_oklab
from .quantizer.dithering import WARMUP_ROWS
from .quantizer.histogram import ColorHistogram, build_histogram
from .quantizer.kmeans import KMeansState, kmeans_steps, seeds_on_cells
from .quantizer.metrics import palette_distance_sum
from .quantizer.ordering import ordered_palette
from .quantizer.pipeline import QuantizeResult, QuantizeSettings, distinct_colours, kept_colours
from .quantizer.remapping import remap

#: The palette sizes of the curve: about two per octave.
K_STEPS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
#: Colours of larger images are counted on a random sample of this many pixels.
TABLE_SAMPLE_PIXELS = 1 << 18
#: Up to this many pixels the size of a point is the real encoder's.
EXACT_SIZE_PIXELS = 1 << 18
#: Beyond it, about this share of the rows (but at least SAMPLE_MIN_PIXELS
#: pixels), in SAMPLE_BANDS bands spread evenly over the image, is encoded.
SAMPLE_ROW_SHARE = 1 / 16
SAMPLE_MIN_PIXELS = 1 << 17
SAMPLE_MAX_PIXELS = 1 << 19
SAMPLE_BANDS = 8
#: Rows above each sampled band that are remapped with it and then dropped,
#: as many as a dithering band starts with (``dithering.WARMUP_ROWS``).
LEAD_ROWS = WARMUP_ROWS
#: Light K-Means runs (the curve, the search's trials) stop at this tolerance,
#: or after LIGHT_MAX_ITER iterations, at the latest.
LIGHT_TOL = 1e-3
LIGHT_MAX_ITER = 12
#: Light runs measuring only the file size stop after this many iterations.
LIGHT_SIZE_MAX_ITER = 6
#: Typical slopes of log figure against log k (the shared photos: ΔE falls
#: about as k^-0.45, bytes grow about as k^0.45), for the search's first step.
DELTA_E_SLOPE = -0.45
SIZE_SLOPE = 0.45
#: A typical dithered photo's light-run size in bits per pixel at k colours,
#: SIZE_BPP_AT_1 * k ** SIZE_BPP_SLOPE (fitted on a 2 MP and a 24 MP photo),
#: for the size search's first guess on photos.
SIZE_BPP_AT_1 = 0.25
SIZE_BPP_SLOPE = 0.55
#: On photos both searches bracket the answer off the grid: each step goes at
#: most BRACKET_MAX_STEP x k and aims BRACKET_AIM x past the predicted crossing.
BRACKET_MAX_STEP = 4
BRACKET_AIM = 1.04
#: When the full run's file is more than SIZE_RECAL_ERROR below its light
#: estimate, the size search tries one more full run at the k the real size
#: predicts (aimed SIZE_RECAL_AIM below the budget), if that is at least
#: SIZE_RECAL_GAIN x k; smaller errors are the estimates' usual few percent
#: and not worth a second full run.
SIZE_RECAL_ERROR = 0.15
#: A graphic's size search scales its estimates by the real size at the
#: largest k only when that estimate is off by more than this.
SIZE_SCALE_ERROR = 0.15
SIZE_RECAL_AIM = 0.03
SIZE_RECAL_GAIN = 1.25
#: The size search stops when its bracket is narrower than k / SIZE_GAP, the
#: quality search when it is narrower than k / QUALITY_GAP (then taking its
#: upper end, which meets the target): a few k either way are within the
#: light runs' noise (a light run's quality figure wobbles by about 2 %, as
#: much as 5 % of k), and each trial costs as much as a few percent of k.
#: Off the grid, the quality search steps at least k / QUALITY_STEP, so that
#: a step past a predicted crossing does not overshoot it by a whole gap.
SIZE_GAP = 8
QUALITY_GAP = 8
QUALITY_STEP = 16
#: The light runs' quality figure must beat the target by this fraction too:
#: it comes within about half of it of the full run's, and a full run that
#: misses costs a second one. Not where the light runs iterate on the
#: histogram's cells (``KCost.light_on_cells``): their figure reads about 1 %
#: above the full run's, which is margin enough (with both, the search chose
#: larger k than the exhaustive answer on most shared photos).
LIGHT_MARGIN = 0.01
#: A sampled quality figure must beat the target by this fraction.
SAMPLED_MARGIN = 0.005
#: After a full run missed the quality target, the next one aims this
#: fraction below it, so that it lands on the right side of the answer.
JUMP_MARGIN = 0.01
#: The search measures the sampled rows' bias again for a k more than this
#: factor away from every k it measured it at.
BIAS_SPAN = 1.6


@dataclass(frozen=True)
class KPoint:
    """One palette size's cost."""

    k: int  # the palette size asked for
    delta_e: float  # mean OKLab ΔE ×100 over visible pixels
    size: int  # PNG bytes
    size_exact: bool  # False: estimated from sampled rows
    delta_e_exact: bool  # False: estimated from sampled pixels
    palette: np.ndarray = field(repr=False)  # (k', 3|4) uint8, as K-Means left it
    seconds: float = 0.0  # time this point took


class ColourTable:
    """Distinct colours with pixel counts, for the quality figure."""

    def __init__(self, colors: np.ndarray, counts: np.ndarray, exact: bool) -> None:
        self.colors = np.ascontiguousarray(colors, dtype=np.uint8)[:, None, :]
        self.weights = counts.astype(np.float64)
        self.total = float(self.weights.sum())
        self.lab = rgb_to_oklab(self.colors[:, 0, :3].astype(np.float64))
        self.exact = exact

    @classmethod
    def of(cls, pixels: np.ndarray, histogram: ColorHistogram | None = None,
           seed: int = 0, sample: int | None = None) -> ColourTable:
        """The exact table when ``histogram`` is exact or the image has at most
        ``sample`` pixels (default TABLE_SAMPLE_PIXELS), else every n-th pixel's."""
        sample = sample or TABLE_SAMPLE_PIXELS
        if histogram is not None and histogram.exact:
            return cls(np.rint(histogram.colors), histogram.counts, True)
        flat = np.ascontiguousarray(pixels).reshape(-1, pixels.shape[2])
        exact = len(flat) <= sample
        if not exact:
            # Every step-th pixel: a regular sample reads memory in order; an
            # odd step that does not divide the width avoids sampling columns.
            step = len(flat) // sample
            step += 1 - step % 2
            while pixels.shape[1] % step == 0:
                step += 2
            flat = flat[seed % step::step]
        if flat.shape[1] == 4:
            flat = flat[flat[:, 3] > 0]
        packed = np.zeros(len(flat), np.uint32)
        for channel in range(flat.shape[1]):
            packed |= flat[:, channel].astype(np.uint32) << np.uint32(8 * channel)
        keys, counts = np.unique(packed, return_counts=True)
        colors = np.stack([(keys >> np.uint32(8 * c)) & np.uint32(255)
                           for c in range(flat.shape[1])], axis=1)
        return cls(colors, counts, exact)

    def delta_e(self, palette: np.ndarray, space: str) -> float:
        """Mean ΔE ×100 of the table's colours to their nearest ``palette`` entry."""
        if self.total == 0:
            return 0.0
        nearest = remap(self.colors, palette, space).ravel()
        diff = self.lab - rgb_to_oklab(palette[:, :3].astype(np.float64))[nearest]
        return 100.0 * float(self.weights @ np.sqrt(np.einsum("ij,ij->i", diff, diff))) \
            / self.total


def delta_e_of(pixels: np.ndarray, decoded: np.ndarray) -> float:
    """The quality figure for a decoded result, pixel by pixel (the reference)."""
    a = pixels.reshape(-1, pixels.shape[2])
    b = decoded.reshape(-1, decoded.shape[2])
    if a.shape[1] == 4:
        keep = a[:, 3] > 0
        a, b = a[keep], b[keep]
    if len(a) == 0:
        return 0.0
    total = 0.0
    for start in range(0, len(a), 1 << 20):
        diff = (rgb_to_oklab(a[start:start + (1 << 20), :3])
                - rgb_to_oklab(b[start:start + (1 << 20), :3]))
        total += float(np.sqrt(np.einsum("ij,ij->i", diff, diff)).sum())
    return 100.0 * total / len(a)


def _indexed_delta_e(pixels: np.ndarray, palette: np.ndarray, indices: np.ndarray) -> float:
    """``delta_e_of(pixels, palette[indices])`` for (n, 3|4) ``pixels``, each
    palette entry converted to OKLab once instead of once per pixel."""
    if pixels.shape[1] == 4:
        keep = pixels[:, 3] > 0
        pixels, indices = pixels[keep], indices[keep]
    if len(pixels) == 0:
        return 0.0
    total = 0.0
    for start in range(0, len(pixels), 1 << 20):
        total += palette_distance_sum(rgb_to_oklab(pixels[start:start + (1 << 20), :3]),
                                      indices[start:start + (1 << 20)], palette)
    return 100.0 * total / len(pixels)


def _sample_rows(height: int, width: int, share: float = SAMPLE_ROW_SHARE
                 ) -> np.ndarray | None:
    """Rows whose encoding stands for the whole image, or None to encode it all."""
    if height * width <= EXACT_SIZE_PIXELS:
        return None
    rows = max(min(math.ceil(height * share), math.ceil(SAMPLE_MAX_PIXELS / width)),
               math.ceil(SAMPLE_MIN_PIXELS / width))
    if 2 * rows >= height:
        return None
    bands = min(SAMPLE_BANDS, rows)
    per_band = math.ceil(rows / bands)
    starts = [round((height - per_band) * (i + 0.5) / bands) for i in range(bands)]
    return np.concatenate([np.arange(s, s + per_band) for s in starts])


def _lead_bands(rows: np.ndarray, lead: int) -> list[tuple[np.ndarray, int]]:
    """Each band of consecutive ``rows`` with up to ``lead`` rows above it in
    front (not reaching into the band before), and how many those are."""
    bands = []
    previous_end = 0
    for band in np.split(rows, np.flatnonzero(np.diff(rows) != 1) + 1):
        first = max(previous_end, int(band[0]) - lead)
        bands.append((np.arange(first, int(band[-1]) + 1), int(band[0]) - first))
        previous_end = int(band[-1]) + 1
    return bands


class KCost:
    """Evaluates palette sizes for one image and one set of settings.

    ``settings.k`` is ignored; every other setting is used as given, the
    kept colours (``keep``) too. A full run (``final``) seeds exactly as a
    run of those settings at that k does, so that such a run reproduces the
    result a search verified (the window runs the chosen k itself, and a
    command-line user may rerun it with ``-k``).
    """

    def __init__(self, pixels: np.ndarray, settings: QuantizeSettings, *,
                 histogram: ColorHistogram | None = None, effort: str = "auto",
                 icc_profile: bytes | None = None,
                 dpi: tuple[float, float] | None = None,
                 pace: Callable[[], None] | None = None,
                 table_pixels: int | None = None, row_share: float | None = None) -> None:
        settings.validated()
        #: Called between steps (K-Means iterations, encodes): a background
        #: caller may sleep there to leave the cores to other work.
        self.pace = pace
        self.pixels = pixels
        self.settings = settings
        self.histogram = histogram if histogram is not None else build_histogram(pixels)
        self.effort = effort
        self.icc_profile = icc_profile
        self.dpi = dpi
        dithered = settings.dither != "none" and settings.dither_strength > 0
        self.table = None if dithered else ColourTable.of(
            pixels, self.histogram, seed=0, sample=table_pixels or TABLE_SAMPLE_PIXELS)
        rows = _sample_rows(*pixels.shape[:2], share=row_share or SAMPLE_ROW_SHARE)
        self.rows = rows
        self.sample = pixels if rows is None else np.ascontiguousarray(pixels[rows])
        # The sampled rows are remapped with the rows just above each band
        # in front (then dropped): dithering and the run-keeping remap carry
        # state down from the row above, and a band that starts cold, or
        # under an unrelated band, dithers less and keeps fewer runs than
        # the same rows do in the whole image.
        # Each band is remapped on its own, as the error a dithered band
        # ends with says nothing about the next one.
        self._lead: list[tuple[np.ndarray, int]] | None = None
        if rows is not None:
            self._lead = [(np.ascontiguousarray(pixels[band]), lead)
                          for band, lead in _lead_bands(rows, LEAD_ROWS)]
        self._sample_lab: tuple[np.ndarray, np.ndarray | None] | None = None
        self._plain: ColourTable | None = None
        #: Called with each Final made (the search's full runs).
        self.on_final: Callable[[Final], None] | None = None

    @property
    def size_exact(self) -> bool:
        return self.rows is None

    @property
    def min_k(self) -> int:
        """The smallest k these settings allow: room for every kept colour
        (and the transparent entry, if the image has transparent pixels)."""
        reserved = 1 if self.histogram.n_transparent else 0
        return max(1, len(self.settings.keep) + reserved) if self.settings.keep else 1

    @property
    def light_on_cells(self) -> bool:
        """Whether light runs iterate on cells of the colours (``kmeans_steps``'s
        ``coarse``): an exact histogram of many colours, in OKLab, with no
        kept colours."""
        return seeds_on_cells(self.histogram, self.settings.space, len(self.settings.keep))

    @property
    def delta_e_exact(self) -> bool:
        if self.table is None:
            return self.rows is None
        return self.table.exact

    @property
    def final_exact(self) -> bool:
        """Whether ``final``'s quality figure is exact (else sampled)."""
        if self.table is not None:
            return self.table.exact
        return len(self.pixels.reshape(-1, self.pixels.shape[2])) <= TABLE_SAMPLE_PIXELS

    def sample_bias(self, palette: np.ndarray) -> float:
        """How much the whole image's quality figure exceeds the sampled rows'
        for ``palette`` (1.0 when the figure is not taken from rows).

        With dithering the light runs measure only the sampled rows, which may
        hold easier (or harder) parts of the image than the rest: a flat
        background, a bright centre. The plain remap's figure is cheap over the
        counted colours of the whole image and over the rows alike; their
        ratio carries most of that bias over to the dithered figure."""
        if self.table is not None or self.rows is None:
            return 1.0
        if self._plain is None:
            self._plain = ColourTable.of(self.pixels, self.histogram, seed=0)
        space = self.settings.space
        rows = self._sample_delta_e(remap(self.sample, palette, space), palette)
        whole = self._plain.delta_e(palette, space)
        return whole / rows if rows > 0 and whole > 0 else 1.0

    # -- clustering

    def cluster(self, k: int, *, light: bool = False, max_iter: int | None = None,
                race: bool = False) -> KMeansState:
        """K-Means at ``k``: the user's settings, or with ``light`` one seeding
        (with ``race``, the seedings a full run races) and a looser stop."""
        s = self.settings
        state = None
        tol = max(s.tol, LIGHT_TOL) if light else s.tol
        max_iter = min(s.max_iter, max_iter or LIGHT_MAX_ITER) if light else s.max_iter
        for state in kmeans_steps(self.histogram, k, space=s.space,  # noqa: B007 (the last)
                                  init=s.init, max_iter=max_iter, tol=tol, seed=s.seed,
                                  restarts=1 if light and not race else None,
                                  fixed=kept_colours(s), coarse=light):
            if self.pace is not None:
                self.pace()
        return state

    # -- measuring

    def _remap(self, pixels: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        s = self.settings
        return remap(pixels, ordered, s.space, s.dither, s.dither_strength, keep_runs=True)

    def _indices(self, pixels: np.ndarray, palette: np.ndarray):
        """Palette order and remap, as ``finish`` does for the whole image."""
        ordered = ordered_palette(palette)
        return self._remap(pixels, ordered), ordered

    def _band_indices(self, palette: np.ndarray):
        """The sampled bands remapped as ``_indices`` would, each with its
        lead-in rows in front: a list of (indices, lead rows), and the
        ordered palette."""
        ordered = ordered_palette(palette)
        return [(self._remap(band, ordered), lead) for band, lead in self._lead], ordered

    def _sampled_size(self, bands, palette: np.ndarray) -> int:
        """The whole image's PNG size estimated from the sampled bands.

        Each band is deflated after its lead-in rows, as their continuation:
        its rows then compress as they do inside the whole image, against
        the rows just above them (the PNG filter's row above, the deflate
        window), instead of after an unrelated band, which read a few per
        cent to a third high (benchmarks/k_targets.py estimates). All bands
        get the filter and level the whole image would."""
        overhead = self._encode(bands[0][0][:1, :1], palette)
        cost = banded_size(bands, len(palette), self.pixels.shape[0], self.effort)
        rows = sum(len(indices) - lead for indices, lead in bands)
        return overhead + round(cost * self.pixels.shape[0] / rows)

    def _sample_delta_e(self, indices: np.ndarray, palette: np.ndarray) -> float:
        """``delta_e_of(self.sample, palette[indices])``, with the sample's
        OKLab computed once for every point and each palette entry's once."""
        if self._sample_lab is None:
            flat = self.sample.reshape(-1, self.sample.shape[2])
            visible = flat[:, 3] > 0 if flat.shape[1] == 4 else None
            if visible is not None:
                flat = flat[visible]
            self._sample_lab = (rgb_to_oklab(flat[:, :3]), visible)
        lab, visible = self._sample_lab
        if len(lab) == 0:
            return 0.0
        chosen = indices.reshape(-1)
        if visible is not None:
            chosen = chosen[visible]
        return 100.0 * palette_distance_sum(lab, chosen, palette) / len(lab)

    def _encode(self, indices, palette) -> int:
        result = QuantizeResult(indices, palette, 0, 0.0, 0.0, "", 0.0)
        return len(encode_png(result, icc_profile=self.icc_profile, dpi=self.dpi,
                              effort=self.effort))

    def measure(self, state: KMeansState, k: int | None = None,
                sizes: bool = True, quality: bool = True) -> KPoint:
        """The quality figure and (estimated) PNG size of a K-Means state
        (-1 for a size, nan for a figure not asked for)."""
        started = time.perf_counter()
        palette = state.palette
        size = -1
        delta_e = None if quality else math.nan
        # A whole image's own result gives its figure exactly (runs kept);
        # the colour table is for large images, where it is each colour's
        # nearest entry (a little below the result's figure).
        if self.table is not None and quality and self.rows is not None:
            delta_e = self.table.delta_e(palette, self.settings.space)
        if sizes or delta_e is None:
            if self._lead is None:  # the whole image: its own result
                indices, ordered = self._indices(self.sample, palette)
                bands = None
            else:
                bands, ordered = self._band_indices(palette)
                indices = np.concatenate([band[lead:] for band, lead in bands])
            if delta_e is None:
                delta_e = self._sample_delta_e(indices, ordered)
            if sizes:
                if self.pace is not None:
                    self.pace()
                size = self._encode(indices, ordered) if bands is None else \
                    self._sampled_size(bands, ordered)
        return KPoint(k if k is not None else len(palette), delta_e, size, self.size_exact,
                      self.delta_e_exact, palette, time.perf_counter() - started)

    def point(self, k: int, *, light: bool = False, sizes: bool = True,
              quality: bool = True) -> KPoint:
        began = time.perf_counter()
        # A size alone barely moves over the last iterations' few percent
        # of error: a size-only light run stops sooner. It races the seedings
        # a full run races (up to k = 32): the file's size follows the palette
        # the race picks, and a light run of one seeding could read just under
        # a budget that the full run's file then missed, costing a second one.
        size_only = light and sizes and not quality
        state = self.cluster(k, light=light, max_iter=LIGHT_SIZE_MAX_ITER if size_only else None,
                             race=size_only)
        found = self.measure(state, k, sizes, quality)
        return _timed(found, time.perf_counter() - began)

    def final(self, k: int) -> Final:
        """The real result at ``k`` with the user's settings, measured; its PNG
        is encoded on first use of ``Final.data``."""
        state = self.cluster(k)
        result = finish(self.pixels, state, dataclasses.replace(self.settings, k=k),
                        colours=distinct_colours(self.histogram))
        # Pixel by pixel (on every n-th pixel of large images): the result
        # is dithered, or keeps runs, so it is not each colour's nearest entry.
        flat = self.pixels.reshape(-1, self.pixels.shape[2])
        indices = result.indices.reshape(-1)
        step = max(1, len(flat) // TABLE_SAMPLE_PIXELS)
        exact = step == 1
        delta_e = _indexed_delta_e(flat[::step], result.palette, indices[::step])
        got = Final(k, result, delta_e, exact, self)
        if self.on_final is not None:
            self.on_final(got)
        return got

    def encode(self, result: QuantizeResult) -> bytes:
        return encode_png(result, icc_profile=self.icc_profile, dpi=self.dpi,
                          effort=self.effort)

    def whole_size(self, palette: np.ndarray) -> int:
        """The real PNG size of the whole image remapped to ``palette`` (a
        light run's): what its sampled estimate stands for."""
        if self.pace is not None:
            self.pace()
        indices, ordered = self._indices(self.pixels, palette)
        return self._encode(indices, ordered)


def _timed(found: KPoint, seconds: float) -> KPoint:
    return KPoint(found.k, found.delta_e, found.size, found.size_exact, found.delta_e_exact,
                  found.palette, seconds)


class Final:
    """The result at the chosen k: quality known, file bytes encoded on demand."""

    def __init__(self, k: int, result: QuantizeResult, delta_e: float, delta_e_exact: bool,
                 cost: KCost) -> None:
        self.k, self.result, self.delta_e, self.delta_e_exact = k, result, delta_e, \
            delta_e_exact
        self._cost = cost
        self._data: bytes | None = None

    @property
    def data(self) -> bytes:
        """The PNG file."""
        if self._data is None:
            self._data = self._cost.encode(self.result)
        return self._data


def scan(cost: KCost, ks: tuple[int, ...] = K_STEPS) -> Iterator[KPoint]:
    """Points for each k in ``ks``, each a light K-Means run seeded afresh.
    A generator: stop iterating to cancel."""
    for k in ks:
        yield cost.point(k, light=True)


# ------------------------------------------------------------------ targets

@dataclass(frozen=True)
class Target:
    """``max_delta_e``: the smallest k whose figure is at most it; ``max_bytes``:
    the largest k whose PNG fits; ``floor``: with max_delta_e, the figure below
    which the result still counts (pngquant's MIN: aim for the target, accept
    down to this)."""

    max_delta_e: float | None = None
    max_bytes: int | None = None
    floor_delta_e: float | None = None

    def __post_init__(self) -> None:
        if (self.max_delta_e is None) == (self.max_bytes is None):
            raise ValueError("give exactly one of max_delta_e and max_bytes")


@dataclass(frozen=True)
class SearchResult:
    met: bool
    k: int
    final: Final | None  # the verified result (None when not met)
    points: tuple[KPoint, ...]  # every point evaluated, in order
    why: str  # one line for people: which k and why


#: Images with at most this many distinct colours (graphics) have the
#: largest k tried first by a size search, and both searches bisect the grid
#: of k; beyond it (photos) they bracket the answer off the grid (``search``).
TOP_FIRST_COLOURS = 32768


def search(cost: KCost, target: Target, *, ks: tuple[int, ...] = K_STEPS,
           on_point: Callable[[KPoint], None] | None = None) -> SearchResult:
    """The k meeting ``target``: bisection over ``ks`` to find the two points
    around the answer, then interpolation between them (log k against the log
    of the figure), with light K-Means runs; finally the user's settings at
    the chosen k, whose real result is checked (and k moved if it misses).
    On an image with more
    colours than a graphic (``TOP_FIRST_COLOURS``) both targets bracket the
    answer off the grid instead (``_power_bracket``), the size target from a
    first guess by bytes per pixel (``first_size_guess``)."""
    points: list[KPoint] = []
    cache: dict[int, KPoint] = {}
    by_size = target.max_bytes is not None
    limit = float(target.max_bytes if by_size else target.max_delta_e)
    if not by_size and not cost.final_exact:
        # The final figure will be sampled and must beat the target by a
        # margin (see _verify): aim the light runs at what it must meet.
        limit *= 1.0 - SAMPLED_MARGIN
    if not by_size and not cost.light_on_cells:
        limit *= 1.0 - LIGHT_MARGIN
    biases: dict[int, float] = {}  # the sampled rows' bias, measured at a few k
    size_scale = 1.0  # real size / sampled estimate, when measured (graphics)

    def evaluate(k: int) -> KPoint:
        k = max(k, cost.min_k)  # a smaller palette could not hold the kept colours
        if k not in cache:
            found = cost.point(k, light=True, sizes=by_size, quality=not by_size)
            cache[k] = found
            points.append(found)
            if on_point is not None:
                on_point(found)
        return cache[k]

    def figure(found: KPoint) -> float:
        """A point's size, or its quality figure corrected for the bias of
        the sampled rows, which drifts slowly with k: measured afresh only
        when no k within a factor BIAS_SPAN has it."""
        if by_size:
            return found.size * size_scale
        near = min(biases, key=lambda kk: abs(math.log(kk / found.k)), default=None)
        if near is None or abs(math.log(near / found.k)) > math.log(BIAS_SPAN):
            biases[found.k] = cost.sample_bias(found.palette)
            near = found.k
        return found.delta_e * biases[near]

    def value(k: int) -> float:
        return figure(evaluate(k))

    def high_side(k: int) -> bool:
        """True when k is on the large-k side of the answer."""
        ok = value(k) <= limit
        return ok if not by_size else not ok

    # Bracket the answer on the grid: ``low`` below it (on the small-k side),
    # ``high`` above it; 0 and MAX_K + 1 stand for "nothing tried there".
    grid = sorted(ks)
    lo, hi = -1, len(grid)
    if by_size and grid and len(cost.histogram.counts) <= TOP_FIRST_COLOURS:
        # A graphic's file size is not monotonic in k: its few thousand
        # colours compress far better at k = 256 (flat areas stay flat) than
        # dithered into 8. So the largest k is tried first, and if it fits it
        # is the answer. (Photos' sizes do grow with k, and there the light
        # run at the largest k would be the search's dearest.)
        top = evaluate(grid[-1])
        if not top.size_exact and top.size > 0:
            # Sampled rows misjudge some graphics by a sixth or more (a busy
            # centre over a flat background), always the same way, and the
            # bisection has no real run to correct it until the end: when
            # every estimate is high it ends at k = 1. One real encode of
            # this palette scales them all, when it is that far off: a
            # smaller error there says little about the other k (the light
            # runs' palettes move their files by several per cent each way).
            scale = cost.whole_size(top.palette) / top.size
            if abs(scale - 1.0) > SIZE_SCALE_ERROR:
                size_scale = scale
        if high_side(grid[-1]):
            hi = len(grid) - 1
        else:
            lo = len(grid) - 1
    slope = SIZE_SLOPE if by_size else DELTA_E_SLOPE
    # File sizes of light runs at neighbouring k differ by about as much as
    # their sampling noise, so the size search stops a little short.
    gap = (lambda a: max(1, a // SIZE_GAP)) if by_size else \
        (lambda a: max(1, a // QUALITY_GAP))
    photo = len(cost.histogram.counts) > TOP_FIRST_COLOURS
    if photo and grid:
        # A photo: its size grows and its quality figure falls steadily with
        # k, so each light run goes where the runs so far say the answer is,
        # off the grid. The size search's first one goes where a typical
        # photo's bytes per pixel would meet the budget; the quality
        # search's, to the grid's middle.
        first = first_size_guess(cost, limit / BRACKET_AIM) if by_size \
            else grid[(len(grid) - 1) // 2]
        step = gap if by_size else (lambda a: max(1, a // QUALITY_STEP))
        low, high = _power_bracket(first, limit, slope, value, high_side, step)
    else:
        while hi - lo > 1:
            mid = _next_grid_index(grid, lo, hi, cache, limit, slope, by_size, figure)
            if high_side(grid[mid]):
                hi = mid
            else:
                lo = mid
        low = grid[lo] if lo >= 0 else 0
        high = grid[hi] if hi < len(grid) else MAX_K + 1
    if 0 < low and high <= MAX_K:
        low, high = _interpolate(low, high, value, high_side, limit, gap)
    if by_size:
        chosen = max(1, min(low, MAX_K)) if low > 0 else 1
    else:
        chosen = min(high, MAX_K)
    # No palette smaller than the kept colours need.
    return _verify(cost, target, max(chosen, cost.min_k), points, cache, figure)


def first_size_guess(cost: KCost, budget: float) -> int:
    """The k at which a typical dithered photo of this many pixels would take
    ``budget`` bytes: ``SIZE_BPP_AT_1 * k ** SIZE_BPP_SLOPE`` bits per pixel."""
    pixels = cost.pixels.shape[0] * cost.pixels.shape[1]
    bits = 8.0 * budget / max(1, pixels)
    if bits <= 0:
        return 2
    k = (bits / SIZE_BPP_AT_1) ** (1.0 / SIZE_BPP_SLOPE)
    colours = len(cost.histogram.counts) + (1 if cost.histogram.n_transparent else 0)
    return int(min(max(2, round(k)), MAX_K, max(2, colours)))


def _power_bracket(first: int, limit: float, slope: float, value, high_side,
                   min_step: Callable[[int], int]) -> tuple[int, int]:
    """``low`` < answer <= ``high`` (0 and MAX_K + 1 for an open end) for a
    figure that follows a power law in k, as a photo's size and quality
    figure do: the first light run at ``first``, each next one where a power
    law through the two runs nearest ``limit`` (one run: the typical
    ``slope``) meets it, stepping at least ``min_step(k)`` and at most a factor
    BRACKET_MAX_STEP, until both ends are known. Each step aims a factor
    BRACKET_AIM past the predicted crossing: the light runs' figures wobble
    by a few percent from one k to the next, and a step that lands just
    short of the crossing would cost one more run."""
    low, high = 0, MAX_K + 1
    k = first
    tried: list[tuple[int, float]] = []
    tiny = 1e-12
    while True:
        if high_side(k):
            high = k
        else:
            low = k
        tried.append((k, value(k)))
        if low > 0 and high <= MAX_K:
            return low, high
        if low >= MAX_K or high <= 1 or (high <= 2 and low == 0):
            return low, high
        (k0, v0), *rest = sorted(
            tried, key=lambda kv: abs(math.log(max(kv[1], tiny) / limit)))
        fitted_slope = slope
        if rest:
            k1, v1 = rest[0]
            if k1 != k0 and v1 > 0 and v0 > 0 and v1 != v0:
                fitted = (math.log(v1) - math.log(v0)) / (math.log(k1) - math.log(k0))
                # Kept to the typical slope's sign, within a factor three of it.
                same_sign = abs(fitted) if (fitted > 0) == (slope > 0) else 0.0
                magnitude = min(max(same_sign, abs(slope) / 3), 3 * abs(slope))
                fitted_slope = math.copysign(magnitude, slope)
        going_up = low == k
        if v0 > 0:
            want = k0 * math.exp((math.log(limit) - math.log(v0)) / fitted_slope)
        else:
            want = 2 * k0 if going_up else k0 / BRACKET_MAX_STEP
        step = min_step(k)
        if going_up:  # past the crossing by a hair, so that it brackets
            nxt = min(max(math.ceil(want * BRACKET_AIM), k + step), k * BRACKET_MAX_STEP,
                      MAX_K)
        else:  # a little below the crossing
            nxt = max(min(math.floor(want / BRACKET_AIM), k - step), k // BRACKET_MAX_STEP, 1)
        nxt = int(nxt)
        if nxt < 2:
            # Even k = 2 is on the high side: 1 is left to the real run to check.
            return 0, 2 if high == 2 else high
        if nxt == k or not low < nxt < high:
            return low, high
        k = nxt


def _next_grid_index(grid: list[int], lo: int, hi: int, cache: dict[int, KPoint],
                     limit: float, slope: float, by_size: bool,
                     figure: Callable[[KPoint], float]) -> int:
    """The grid point to try next, strictly between ``lo`` and ``hi``: where
    the figure should cross ``limit``, by a power law through the points tried
    (the two nearest; with one, the typical ``slope`` of log figure against
    log k), or the middle when nothing is known."""
    known = sorted((k, figure(p)) for k, p in cache.items() if k in grid and figure(p) > 0)
    middle = (lo + hi) // 2
    if not known or limit <= 0:
        return middle
    ends = [(grid[i], figure(cache[grid[i]])) for i in (lo, hi)
            if 0 <= i < len(grid) and grid[i] in cache]
    if len(ends) == 2 and min(v for _, v in ends) > 0:
        # Both ends of the bracket are known: the crossing lies between them.
        (k0, v0), (k1, v1) = ends
        if v0 != v1:
            slope = (math.log(v1) - math.log(v0)) / (math.log(k1) - math.log(k0))
    elif len(known) >= 2:
        # Two points on one side: extrapolated, with the slope kept within a
        # factor three of the typical one (two nearly equal figures would
        # put the guess at the bracket's far end, one grid step at a time).
        (k0, v0), (k1, v1) = sorted(known, key=lambda kv: abs(math.log(kv[1] / limit)))[:2]
        if k0 != k1 and v0 != v1:
            fitted = (math.log(v1) - math.log(v0)) / (math.log(k1) - math.log(k0))
            if (fitted > 0) == (slope > 0):
                slope = math.copysign(min(max(abs(fitted), abs(slope) / 3), 3 * abs(slope)),
                                      slope)
    else:
        k0, v0 = known[0]
    if slope == 0 or (slope > 0) != by_size:
        return middle
    target = math.exp(math.log(k0) + (math.log(limit) - math.log(v0)) / slope)
    best = min(range(lo + 1, hi), key=lambda i: abs(math.log(grid[i]) - math.log(target)))
    return best


def _interpolate(low: int, high: int, value, high_side, limit: float,
                 gap) -> tuple[int, int]:
    """Narrow ``low`` < answer <= ``high`` until ``high - low <= gap(high)``:
    guess where the figure crosses ``limit`` (linear in log k and log figure,
    at least one k from either end; the middle instead when the same end
    moved twice running, as a flat stretch would keep the guesses at one
    end), and try the k one gap beyond the guess too, which usually closes
    the bracket."""
    moved = []
    # The gaps are measured at the large end and at the guess: a bracket
    # that starts far down (a first size guess of 12 for an answer near 40)
    # would otherwise be closed to within 1 there, one light run per k.
    while high - low > gap(high):
        guess = None
        a, b = value(low), value(high)
        if (a > 0 and b > 0 and limit > 0 and a != b
                and not (len(moved) >= 2 and moved[-1] == moved[-2])):
            t = (math.log(limit) - math.log(a)) / (math.log(b) - math.log(a))
            guess = round(math.exp(math.log(low) + t * (math.log(high) - math.log(low))))
            # A crossing right by one end: the k next to that end.
            guess = min(max(guess, low + 1), high - 1)
        if guess is None or not low < guess < high:
            guess = (low + high) // 2
        if high_side(guess):
            high = guess
            neighbour = guess - gap(guess)
            moved.append("high")
        else:
            low = guess
            neighbour = guess + gap(guess)
            moved.append("low")
        if high - low > gap(high) and low < neighbour < high:
            if high_side(neighbour):
                high = neighbour
            else:
                low = neighbour
    return low, high


def _verify(cost: KCost, target: Target, k: int, points: list[KPoint],
            cache: dict[int, KPoint], figure: Callable[[KPoint], float]) -> SearchResult:
    """Run the user's settings at ``k``; move k until the real result meets the
    target. A quality miss calibrates the light runs' figures against the real
    one and jumps to the k they then predict."""
    tried: dict[int, Final] = {}

    def final(k: int) -> Final:
        if k not in tried:
            tried[k] = cost.final(k)
        return tried[k]

    if target.max_bytes is not None:
        budget = target.max_bytes
        while True:
            got = final(k)
            size = len(got.data)
            if size <= budget:
                better = _recalibrated_size_k(k, size, budget, cache)
                if better is not None:
                    again = final(better)
                    if len(again.data) <= budget:
                        got, k = again, better
                return SearchResult(True, k, got, tuple(points), _why_size(got, budget))
            if k <= cost.min_k:
                need = "1 colour needs" if k == 1 else f"{k} colours need"
                return SearchResult(False, k, None, tuple(points),
                                    f"even {need} {size} bytes, more than {budget}")
            # The estimate was low: scale the estimates by this miss and take
            # the largest tried k that still fits, else one step down.
            scale = size / cache[k].size if k in cache and cache[k].size > 0 else 1.0
            # A tried k far below (a graphic's bisection may have tried only
            # much smaller ones) gives way to a small step down.
            fitting = [kk for kk, p in cache.items() if kk < k and p.size * scale <= budget]
            step = k - max(1, k // 16)
            k = max(fitting) if fitting and max(fitting) >= k - max(1, k // 4) else step
            k = max(cost.min_k, k)
    goal = target.max_delta_e
    floor = target.floor_delta_e if target.floor_delta_e is not None else goal
    while True:
        got = final(k)
        # A sampled figure (large images with many colours) keeps a margin
        # for its error.
        margin = 1.0 if got.delta_e_exact else 1.0 - SAMPLED_MARGIN
        if got.delta_e <= goal * margin:
            return SearchResult(True, k, got, tuple(points), _why_quality(got, goal))
        if k >= MAX_K:
            if got.delta_e <= floor * margin:
                return SearchResult(True, k, got, tuple(points),
                                    f"k={k}: ΔE {got.delta_e:.2f} misses {goal:.3g} but "
                                    f"meets the minimum {floor:.3g}")
            return SearchResult(False, k, None, tuple(points),
                                f"even k={MAX_K} gives ΔE {got.delta_e:.2f}, above "
                                f"{floor:.3g}")
        k = _next_quality_k(k, got.delta_e, goal * margin, cache, figure)


def _recalibrated_size_k(k: int, size: int, budget: int,
                         cache: dict[int, KPoint]) -> int | None:
    """A larger k worth one more full run, or None: when the real file at
    ``k`` came out far below its light estimate (sampled rows of a graphic
    whose content varies over the image can overstate its size by a third),
    the k where the real size should reach the budget, by a power law
    through it (the light points' slope near k), aimed SIZE_RECAL_AIM below."""
    estimate = cache[k].size if k in cache else -1
    if estimate <= 0 or size > estimate * (1.0 - SIZE_RECAL_ERROR) or k >= MAX_K:
        return None
    near = [(math.log(kk), math.log(p.size)) for kk, p in cache.items()
            if k / 2 <= kk <= 2 * k and p.size > 0]
    slope = SIZE_SLOPE
    if len({x for x, _ in near}) >= 2:
        fitted = float(np.polyfit([x for x, _ in near], [y for _, y in near], 1)[0])
        if math.isfinite(fitted):
            slope = min(max(fitted, SIZE_SLOPE / 3), 3 * SIZE_SLOPE)
    want = k * (budget * (1.0 - SIZE_RECAL_AIM) / size) ** (1.0 / slope)
    better = min(MAX_K, 2 * k, math.floor(want))
    return better if better >= k * SIZE_RECAL_GAIN else None


def _next_quality_k(k: int, real: float, aim: float, cache: dict[int, KPoint],
                    figure: Callable[[KPoint], float]) -> int:
    """The k whose real figure should reach ``aim``, given that the real one
    at ``k`` is ``real`` (above it): a power law in k through ``real``, its
    slope fitted to the light points within a factor two of ``k`` (the
    typical slope without two of them), clamped to a plausible range so a
    flat or noisy stretch cannot send k far; aimed JUMP_MARGIN beyond, as
    the real figures near the answer wobble; at least k + 1, at most 2k."""
    near = [(math.log(kk), math.log(figure(p))) for kk, p in cache.items()
            if k / 2 <= kk <= 2 * k and figure(p) > 0]
    slope = DELTA_E_SLOPE
    if len({x for x, _ in near}) >= 2:
        xs = np.array([x for x, _ in near])
        ys = np.array([y for _, y in near])
        fitted = float(np.polyfit(xs, ys, 1)[0])
        if math.isfinite(fitted):
            slope = min(max(fitted, 3 * DELTA_E_SLOPE), DELTA_E_SLOPE / 3)
    aim *= 1.0 - JUMP_MARGIN
    if real > 0 and aim > 0:
        want = k * math.exp((math.log(aim) - math.log(real)) / slope)
        step = math.ceil(want - 1e-9) if math.isfinite(want) else 2 * k
    else:
        step = k + 1
    return min(MAX_K, max(k + 1, min(step, 2 * k)))


def _why_size(got: Final, budget: int) -> str:
    return f"k={got.k}: the largest palette whose file fits {human_size(budget)} " \
           f"({human_size(len(got.data))}, ΔE {got.delta_e:.2f})"


def _why_quality(got: Final, goal: float) -> str:
    return f"k={got.k}: the smallest palette with ΔE ≤ {goal:.3g} " \
           f"(ΔE {got.delta_e:.2f}, {human_size(len(got.data))})"
