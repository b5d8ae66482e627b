"""The cost of each k (quality figure, file size) and the targets that pick k."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

from kmeans_gui.core import QuantizeSettings as _Settings
from kmeans_gui.core import build_histogram, encode_png, finish, kmeans_steps, kscan, quantize
from kmeans_gui.core.kscan import K_STEPS, ColourTable, KCost, Target, delta_e_of, scan, search
from kmeans_gui.core.quantizer.metrics import oklab_delta_e
from kmeans_gui.core.quantizer.remapping import remap


def QuantizeSettings(**kwargs) -> _Settings:  # noqa: N802
    """The engine's settings, undithered unless asked: the figure is then exact."""
    kwargs.setdefault("dither", "none")
    return _Settings(**kwargs)


def photo_like(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / (width - 1), y * 255 / (height - 1),
                     128 + 100 * np.sin((x + 2 * y) / 9.0)], axis=-1)
    return np.clip(np.rint(base + rng.normal(0, 3, base.shape)), 0, 255).astype(np.uint8)


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA"))


@pytest.fixture(scope="module")
def images(photo) -> list[np.ndarray]:
    """A small test set: two crops of the sample photo and two synthetic images."""
    return [np.ascontiguousarray(photo[60:108, 100:164]),
            np.ascontiguousarray(photo[150:190, 250:306]),
            photo_like(56, 40, 1), photo_like(48, 48, 2)]


def test_quality_figure_is_the_pixel_by_pixel_one(small_photo):
    settings = QuantizeSettings(k=12)
    cost = KCost(small_photo, settings)
    result = quantize(small_photo, settings)
    figure = cost.table.delta_e(result.palette, "oklab")
    assert cost.table.exact
    nearest = result.palette[remap(small_photo, result.palette, "oklab")]
    assert figure == pytest.approx(oklab_delta_e(small_photo, nearest), rel=1e-9)
    assert figure == pytest.approx(delta_e_of(small_photo, nearest), rel=1e-9)
    # The saved result keeps runs: a little worse, never better.
    assert figure <= delta_e_of(small_photo, result.to_rgb()) <= figure * 1.1


def test_quality_figure_leaves_out_transparent_pixels(rgba_image):
    settings = QuantizeSettings(k=6)
    result = quantize(rgba_image, settings)
    table = ColourTable.of(rgba_image, build_histogram(rgba_image))
    visible = rgba_image[..., 3] > 0
    diff = np.linalg.norm(kscan.rgb_to_oklab(rgba_image[visible][:, :3])
                          - kscan.rgb_to_oklab(result.to_rgb()[visible][:, :3]), axis=1)
    nearest = result.palette[remap(rgba_image, result.palette, "oklab")]
    diff_nearest = np.linalg.norm(kscan.rgb_to_oklab(rgba_image[visible][:, :3])
                                  - kscan.rgb_to_oklab(nearest[visible][:, :3]), axis=1)
    assert table.delta_e(result.palette, "oklab") == pytest.approx(100 * np.mean(diff_nearest))
    assert np.mean(diff_nearest) <= np.mean(diff)


def test_sampled_quality_figure_is_close(photo, monkeypatch):
    result = quantize(photo, QuantizeSettings(k=16))
    exact = delta_e_of(photo, result.to_rgb())
    monkeypatch.setattr(kscan, "TABLE_SAMPLE_PIXELS", photo.shape[0] * photo.shape[1] // 9)
    table = ColourTable.of(photo)  # no histogram: counted on the sample
    assert not table.exact
    assert table.total < photo.shape[0] * photo.shape[1] / 8
    assert table.delta_e(result.palette, "oklab") == pytest.approx(exact, rel=0.03)


def test_small_image_sizes_are_the_real_files(small_photo):
    settings = QuantizeSettings()
    cost = KCost(small_photo, settings)
    assert cost.size_exact
    for k in (3, 16, 40):
        state = cost.cluster(k, light=True)
        point = cost.measure(state, k)
        real = encode_png(finish(small_photo, state, dataclasses.replace(settings, k=k)))
        assert point.size == len(real)
        assert point.delta_e == pytest.approx(delta_e_of(small_photo, decoded(real)[..., :3]))


def test_sampled_sizes_estimate_the_real_files(photo, monkeypatch):
    monkeypatch.setattr(kscan, "EXACT_SIZE_PIXELS", 1000)
    monkeypatch.setattr(kscan, "SAMPLE_MIN_PIXELS", 1000)
    settings = QuantizeSettings()
    cost = KCost(photo, settings)
    assert not cost.size_exact and len(cost.rows) < photo.shape[0] / 4
    for k in (4, 32, 200):
        state = cost.cluster(k, light=True)
        estimate = cost.measure(state, k).size
        real = len(encode_png(finish(photo, state, dataclasses.replace(settings, k=k))))
        assert estimate == pytest.approx(real, rel=0.2)


def test_scan_yields_the_curve_in_order_and_stops_when_asked(small_photo):
    cost = KCost(small_photo, QuantizeSettings())
    points = list(scan(cost, K_STEPS[:9]))
    assert [p.k for p in points] == list(K_STEPS[:9])
    figures = [p.delta_e for p in points]
    assert figures[-1] < figures[0] / 2
    assert all(b <= a * 1.05 for a, b in zip(figures, figures[1:], strict=False))  # nearly monotone
    assert all(p.size > 0 and p.size_exact and p.delta_e_exact for p in points)
    curve = scan(cost)
    next(curve)
    curve.close()  # cancelling: the generator ends, nothing more is computed
    with pytest.raises(StopIteration):
        next(curve)


def exhaustive(cost: KCost, ks, good) -> list[int]:
    """Every k in ``ks`` whose real result (user's settings) is ``good``."""
    return [k for k in ks if good(cost.final(k))]


def within_one_grid_step(got: int, want: int) -> bool:
    grid = [1, *K_STEPS]
    below = max(g for g in grid if g <= want)
    above = min((g for g in grid if g >= want), default=256)
    lower = grid[max(0, grid.index(below) - 1)]
    upper = grid[min(len(grid) - 1, grid.index(above) + 1)]
    return lower <= got <= upper


@pytest.mark.parametrize("goal", [3.5, 2.2])
def test_quality_search_matches_an_exhaustive_scan(images, goal):
    for pixels in images[:3]:
        cost = KCost(pixels, QuantizeSettings())
        found = search(cost, Target(max_delta_e=goal))
        assert found.met
        # Every k up to the answer: the smallest that meets the goal.
        meeting = exhaustive(cost, range(1, found.k + 1), lambda f: f.delta_e <= goal)
        assert within_one_grid_step(found.k, min(meeting)), (found.k, min(meeting))
        # The reported figure and file are the real ones.
        assert found.final.delta_e <= goal
        assert delta_e_of(pixels, decoded(found.final.data)[..., :3]) == \
            pytest.approx(found.final.delta_e, rel=1e-9)


def test_size_search_matches_an_exhaustive_scan(images):
    for pixels in images[:3]:
        cost = KCost(pixels, QuantizeSettings())
        budget = len(cost.final(20).data)
        found = search(cost, Target(max_bytes=budget))
        assert found.met and len(found.final.data) <= budget
        fitting = exhaustive(cost, range(1, 65), lambda f, budget=budget: len(f.data) <= budget)
        assert max(fitting) < 64
        assert within_one_grid_step(found.k, max(fitting)), (found.k, max(fitting))


def test_targets_are_met_on_every_image(images):
    for pixels in images:
        cost = KCost(pixels, QuantizeSettings())
        for target in (Target(max_delta_e=2.0), Target(max_delta_e=4.5),
                       Target(max_bytes=2500), Target(max_bytes=5000)):
            found = search(cost, target)
            assert found.met, found.why
            data = found.final.data
            assert decoded(data).shape[:2] == pixels.shape[:2]
            if target.max_bytes is not None:
                assert len(data) <= target.max_bytes
            else:
                assert delta_e_of(pixels, decoded(data)[..., :3]) <= target.max_delta_e
            assert str(found.k) in found.why


def test_unreachable_targets_are_reported_not_met(images):
    cost = KCost(images[2], QuantizeSettings())
    too_small = search(cost, Target(max_bytes=50))
    assert not too_small.met and too_small.final is None
    assert "50" in too_small.why
    too_fine = search(cost, Target(max_delta_e=0.01))
    assert not too_fine.met and "256" in too_fine.why
    # pngquant's MIN: the goal is out of reach, but the floor is met at 256.
    best = search(cost, Target(max_delta_e=0.01, floor_delta_e=50.0))
    assert best.met and best.k == 256


def test_few_colours_need_no_more_than_they_have():
    pixels = np.zeros((40, 50, 3), np.uint8)
    pixels[:, 25:] = (200, 30, 90)
    pixels[20:, :10] = (10, 240, 20)
    cost = KCost(pixels, QuantizeSettings())
    found = search(cost, Target(max_delta_e=0.5))
    assert found.met and found.k <= 3 and found.final.delta_e == 0.0


def test_dithered_targets_are_measured_on_the_dithered_result(images):
    pixels = images[0]
    cost = KCost(pixels, QuantizeSettings(dither="fs"))
    assert cost.table is None
    found = search(cost, Target(max_delta_e=3.0))
    assert found.met
    assert delta_e_of(pixels, decoded(found.final.data)[..., :3]) == \
        pytest.approx(found.final.delta_e, rel=1e-9)


class OptimisticCost(KCost):
    """Light runs that read a few per cent better than the real results, as
    sampled rows of an image with easy parts do; counts its full runs."""

    def __init__(self, *args, optimism: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.optimism = optimism
        self.full_runs: list[int] = []

    def measure(self, *args, **kwargs):
        found = super().measure(*args, **kwargs)
        return dataclasses.replace(found, delta_e=found.delta_e * self.optimism)

    def final(self, k, *args, **kwargs):
        self.full_runs.append(k)
        return super().final(k, *args, **kwargs)


@pytest.mark.parametrize("optimism", [0.92, 0.85])
def test_an_optimistic_estimate_costs_at_most_two_full_runs(images, optimism):
    # The first full run's miss says how far off the estimates are: the
    # search jumps to the k they then predict instead of stepping up one
    # full run at a time.
    for pixels in images[:3]:
        cost = OptimisticCost(pixels, QuantizeSettings(), optimism=optimism)
        goal = cost.final(24).delta_e * 1.001
        cost.full_runs.clear()
        found = search(cost, Target(max_delta_e=goal))
        assert found.met and found.final.delta_e <= goal
        # 15 % optimistic: the undithered result keeps runs, whose figure
        # moves a little less smoothly with k; one more full run at most.
        assert len(cost.full_runs) <= (2 if optimism > 0.9 else 3), cost.full_runs
        meeting = exhaustive(cost, range(1, found.k + 1), lambda f, goal=goal: f.delta_e <= goal)
        assert within_one_grid_step(found.k, min(meeting)), (found.k, min(meeting))


@pytest.mark.parametrize("channels", [3, 4])
def test_dithered_points_measure_the_sample_as_delta_e_of_does(channels):
    """The curve's quality figure with dithering (OKLab of the sample cached,
    each palette entry converted once) equals the pixel-by-pixel reference."""
    from kmeans_gui.core.kscan import delta_e_of
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (40, 50, channels), np.uint8)
    if channels == 4:
        pixels[::3, ::2, 3] = 0
    cost = KCost(pixels, QuantizeSettings(dither="auto"))
    for k in (4, 12):
        state = cost.cluster(k)
        indices, ordered = cost._indices(cost.sample, state.palette)
        assert cost._sample_delta_e(indices, ordered) == pytest.approx(
            delta_e_of(cost.sample, ordered[indices]), rel=1e-12)


def test_a_size_target_finds_the_large_k_of_a_graphic_whose_size_falls_with_k():
    """Flat blocks of close colours: dithered into a few entries they turn into
    noise that deflates badly, kept exact (k >= their count) they cost little.
    The largest k that fits is then far above the small ones that also fit."""
    levels = np.arange(144)
    blocks = np.stack([60 + levels % 12 * 3, 80 + levels // 12 * 3, 120 + levels % 5],
                      axis=-1).reshape(12, 12, 3).astype(np.uint8)
    pixels = np.ascontiguousarray(np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1))
    cost = KCost(pixels, QuantizeSettings(dither="fs"))
    exact = cost.final(256)
    small = cost.final(4)
    assert len(small.data) > len(exact.data)  # the premise: size is not monotonic
    found = search(cost, Target(max_bytes=len(small.data)))
    assert found.met and len(found.final.data) <= len(small.data)
    assert found.k >= 144, found.k


def test_lead_bands_put_the_rows_above_each_band_in_front():
    rows = np.array([3, 4, 5, 10, 11, 30, 31, 32])
    bands = kscan._lead_bands(rows, 4)
    assert [(list(b), lead) for b, lead in bands] == [
        ([0, 1, 2, 3, 4, 5], 3), ([6, 7, 8, 9, 10, 11], 4), ([26, 27, 28, 29, 30, 31, 32], 4)]
    # Dropping the lead-in rows gives back exactly the sampled rows.
    assert list(np.concatenate([b[lead:] for b, lead in bands])) == list(rows)


def test_sampled_rows_are_dithered_as_in_the_whole_image(photo, monkeypatch):
    """The sampled rows' dithered figure is the whole image's result on those
    rows (each band remapped after the rows above it), not a cold start's."""
    monkeypatch.setattr(kscan, "EXACT_SIZE_PIXELS", 1000)
    monkeypatch.setattr(kscan, "SAMPLE_MIN_PIXELS", 1000)
    settings = QuantizeSettings(dither="auto")
    cost = KCost(photo, settings)
    assert cost.rows is not None and len(cost.rows) < photo.shape[0] / 4
    for k in (6, 24):
        state = cost.cluster(k, light=True)
        bands, ordered = cost._band_indices(state.palette)
        indices = np.concatenate([band[lead:] for band, lead in bands])
        whole = finish(photo, state, dataclasses.replace(settings, k=k))
        assert np.array_equal(ordered, whole.palette)
        rows = cost.rows
        sampled = cost._sample_delta_e(indices, ordered)
        reference = delta_e_of(photo[rows], whole.palette[whole.indices[rows]])
        # Started cold, the bands came out 2-3 % below the reference here.
        assert sampled == pytest.approx(reference, rel=0.005)


def test_a_photos_size_search_starts_near_the_answer_and_matches_an_exhaustive_scan():
    """More colours than a graphic: the first light run is the bytes-per-pixel
    model's guess rather than the grid's middle, the next ones off the grid;
    the answer is still the exhaustive one within a grid step, in few runs."""
    pixels = photo_like(192, 192, 7)
    cost = KCost(pixels, QuantizeSettings(dither="fs"))
    assert len(cost.histogram.counts) > kscan.TOP_FIRST_COLOURS
    for k in (6, 20):
        budget = len(cost.final(k).data)
        found = search(cost, Target(max_bytes=budget))
        assert found.met and len(found.final.data) <= budget
        assert found.points[0].k == kscan.first_size_guess(cost, budget / kscan.BRACKET_AIM)
        assert len(found.points) <= 5, [p.k for p in found.points]
        # k itself fits: the largest k that does lies from there on.
        fitting = exhaustive(cost, range(k, 3 * k), lambda f, b=budget: len(f.data) <= b)
        assert max(fitting) < 3 * k - 1
        assert within_one_grid_step(found.k, max(fitting)), (found.k, max(fitting))


def test_a_photos_quality_search_brackets_off_the_grid_and_matches_an_exhaustive_scan():
    """More colours than a graphic: from the grid's middle, each light run goes
    where a power law through the runs so far meets the goal, off the grid;
    the answer is still the exhaustive one within a grid step, in few runs."""
    pixels = photo_like(192, 192, 7)
    cost = KCost(pixels, QuantizeSettings())
    assert len(cost.histogram.counts) > kscan.TOP_FIRST_COLOURS
    for k in (6, 20):
        goal = cost.final(k).delta_e
        found = search(cost, Target(max_delta_e=goal))
        assert found.met and found.final.delta_e <= goal
        tried = [p.k for p in found.points]
        assert tried[0] == K_STEPS[(len(K_STEPS) - 1) // 2]
        assert any(t not in K_STEPS for t in tried), tried
        assert len(tried) <= 4, tried
        # k itself meets the goal: the smallest k that does lies up to there.
        meeting = exhaustive(cost, range(k // 2, k + 1), lambda f, g=goal: f.delta_e <= g)
        assert min(meeting) > k // 2
        assert within_one_grid_step(found.k, min(meeting)), (found.k, min(meeting))


def test_the_first_size_guess_follows_the_budget_per_pixel():
    pixels = photo_like(192, 192, 7)
    cost = KCost(pixels, QuantizeSettings())
    guesses = [kscan.first_size_guess(cost, budget) for budget in (500, 3000, 9000, 40000,
                                                                   10 ** 7)]
    assert guesses == sorted(guesses) and guesses[0] == 2 and guesses[-1] == 256


class PessimisticSizes(OptimisticCost):
    """Light size estimates a third above the real files, as the sampled rows
    of a graphic whose content varies over the image can give."""

    def measure(self, *args, **kwargs):
        found = KCost.measure(self, *args, **kwargs)
        return dataclasses.replace(found, size=round(found.size * self.optimism))


@pytest.mark.parametrize("colours", ["graphic", "photo"])
def test_a_far_too_high_size_estimate_costs_one_more_full_run_not_the_answer(colours):
    pixels = photo_like(192, 192, 7) if colours == "photo" else photo_like(64, 48, 3)
    cost = PessimisticSizes(pixels, QuantizeSettings(dither="fs"), optimism=1.35)
    budget = len(cost.final(40).data)
    cost.full_runs.clear()
    found = search(cost, Target(max_bytes=budget))
    assert found.met and len(found.final.data) <= budget
    assert len(cost.full_runs) <= 3, cost.full_runs
    fitting = exhaustive(cost, range(40, 100), lambda f, b=budget: len(f.data) <= b)
    assert max(fitting) < 99
    assert within_one_grid_step(found.k, max(fitting)), (found.k, max(fitting))
    # Without the second look the search would stop a grid step or more short.
    assert found.k > min(cost.full_runs), cost.full_runs


def test_a_graphics_sampled_sizes_are_scaled_by_one_real_encode():
    """When the sampled rows overstate every size of a graphic whose size falls
    with k, no estimate fits and the bisection would end at k = 1; one real
    encode at the largest k corrects them all."""
    levels = np.arange(144)
    blocks = np.stack([60 + levels % 12 * 3, 80 + levels // 12 * 3, 120 + levels % 5],
                      axis=-1).reshape(12, 12, 3).astype(np.uint8)
    pixels = np.ascontiguousarray(np.repeat(np.repeat(blocks, 48, axis=0), 48, axis=1))
    cost = PessimisticSizes(pixels, QuantizeSettings(dither="fs"), optimism=1.3)
    assert not cost.size_exact  # the premise: sizes come from sampled rows
    budget = round(len(cost.final(256).data) * 1.05)
    assert len(cost.final(8).data) > budget  # ... and small palettes do not fit
    found = search(cost, Target(max_bytes=budget))
    assert found.met and len(found.final.data) <= budget
    assert found.k >= 144, found.k


def _palette_colours(final) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in c[:3]) for c in final.result.palette}


@pytest.mark.parametrize("target", [Target(max_bytes=6000), Target(max_delta_e=4.0)])
def test_a_search_keeps_the_kept_colours(target):
    # --keep with a target: every full run holds the kept colours, as a run
    # at a fixed k does, and no k too small to hold them is tried.
    pixels = photo_like(96, 80, 5)
    keep = ((255, 0, 255), (0, 255, 0), (10, 20, 200))
    cost = KCost(pixels, QuantizeSettings(keep=keep))
    found = search(cost, target)
    assert found.met and found.k >= 3
    assert set(keep) <= _palette_colours(found.final)
    assert all(p.k >= 3 for p in found.points)


def test_a_budget_below_what_the_kept_colours_need_is_not_met():
    pixels = photo_like(96, 80, 5)
    keep = ((255, 0, 255), (0, 255, 0), (10, 20, 200))
    cost = KCost(pixels, QuantizeSettings(keep=keep))
    need = len(cost.final(3).data)
    found = search(cost, Target(max_bytes=need - 1))
    assert not found.met and found.final is None
    assert "even 3 colours" in found.why


@pytest.mark.parametrize("target", [Target(max_bytes=7000), Target(max_delta_e=3.0)])
@pytest.mark.parametrize("dither", ["none", "auto"])
def test_the_verified_result_is_what_a_run_at_its_k_gives(target, dither):
    # The window runs the chosen k itself, and a user may rerun it with -k:
    # that run must be the very result the search checked against the
    # target, not one that may miss it.
    pixels = photo_like(120, 90, 8)
    settings = QuantizeSettings(dither=dither)
    found = search(KCost(pixels, settings), target)
    assert found.met
    run = quantize(pixels, dataclasses.replace(settings, k=found.k))
    assert np.array_equal(run.palette, found.final.result.palette)
    assert np.array_equal(run.indices, found.final.result.indices)
    assert encode_png(run) == found.final.data


def test_interpolation_closes_to_the_gap_at_the_brackets_large_end():
    # A size search whose bracket starts far below the answer (12 .. 48 for a
    # crossing near 37.5) on a figure that bends over, as photos' sizes do:
    # the gap is k/8 where the answer is, not 1 as at k = 12, so two runs
    # close it instead of a run for every k from 41 down.
    def size(k):
        return 1000 * k ** 0.8 if k <= 20 else 1000 * 20 ** 0.8 * (k / 20) ** 0.3

    limit = size(37.5)
    tried = []

    def value(k):
        tried.append(k)
        return size(k)

    def high_side(k):
        return value(k) > limit

    def gap(k):
        return max(1, k // kscan.SIZE_GAP)

    low, high = kscan._interpolate(12, 48, value, high_side, limit, gap)
    assert low < 37.5 <= high
    assert high - low <= gap(high)
    assert len(set(tried) - {12, 48}) <= 3


@pytest.mark.parametrize("dither", ["none", "auto"])
def test_the_sampled_size_is_close_to_the_real_file(photo, monkeypatch, dither):
    """Each sampled band is encoded after its lead-in rows, less those rows
    alone, so its rows compress against the rows above them as in the whole
    image. Encoded one after another without that, the bands read 5-16 %
    high on the sample photo."""
    monkeypatch.setattr(kscan, "EXACT_SIZE_PIXELS", 1000)
    monkeypatch.setattr(kscan, "SAMPLE_MIN_PIXELS", 1000)
    settings = QuantizeSettings(dither=dither)
    cost = KCost(photo, settings)
    assert cost.rows is not None and len(cost.rows) < photo.shape[0] / 8
    for k in (4, 16, 64):
        state = cost.cluster(k, light=True)
        estimate = cost.measure(state, k).size
        real = len(cost.encode(finish(photo, state, dataclasses.replace(settings, k=k))))
        assert estimate == pytest.approx(real, rel=0.05), k


def test_light_runs_iterate_on_cells_only_where_the_histogram_has_them(photo, small_photo):
    """Light runs on the photo's exact histogram stay on its cells (each
    group labelled as its cell), so their quality figure needs no extra
    margin; with kept colours, in RGB or with few colours they are the
    ordinary runs."""
    cost = KCost(photo, QuantizeSettings())
    assert cost.histogram.exact and cost.light_on_cells
    light = cost.cluster(24, light=True)
    as_light = {"restarts": 1, "tol": kscan.LIGHT_TOL, "max_iter": kscan.LIGHT_MAX_ITER}

    def last(**kwargs):
        return list(kmeans_steps(cost.histogram, 24, **as_light, **kwargs))[-1]

    assert np.array_equal(light.palette, last(coarse=True).palette)
    assert not np.array_equal(light.palette, last().palette)
    assert not KCost(photo, QuantizeSettings(keep=((0, 0, 0),))).light_on_cells
    assert not KCost(photo, QuantizeSettings(space="rgb")).light_on_cells
    assert not KCost(small_photo, QuantizeSettings()).light_on_cells


def test_size_only_light_runs_race_the_seedings_a_full_run_races(small_photo):
    """A size search's light run picks among the seedings as the full run
    does (its file follows that choice); a run measuring quality keeps one."""
    cost = KCost(small_photo, QuantizeSettings())
    as_light = {"tol": kscan.LIGHT_TOL, "coarse": True}

    def last(restarts, max_iter):
        return list(kmeans_steps(cost.histogram, 12, restarts=restarts, max_iter=max_iter,
                                 **as_light))[-1].palette

    raced = last(None, kscan.LIGHT_SIZE_MAX_ITER)
    assert not np.array_equal(raced, last(1, kscan.LIGHT_SIZE_MAX_ITER))
    assert np.array_equal(cost.point(12, light=True, sizes=True, quality=False).palette, raced)
    assert np.array_equal(cost.point(12, light=True).palette, last(1, kscan.LIGHT_MAX_ITER))
