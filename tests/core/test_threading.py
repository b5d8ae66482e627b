"""Kernels split over threads give exactly what one piece gives."""

import numpy as np
import pytest

from kmeans_gui.core import (
    QuantizeSettings,
    build_histogram,
    index_counts,
    parallel,
    quantize,
    remap,
)
from kmeans_gui.core._native import kernels as _kernels
from kmeans_gui.core.quantizer import remapping


@pytest.fixture
def many_pieces(monkeypatch):
    """Split every kernel into several pieces, even for small inputs."""
    monkeypatch.setattr(_kernels, "SPLIT_PIXELS", 1000)
    monkeypatch.setattr(_kernels, "SPLIT_SAMPLES", 100)
    monkeypatch.setattr(parallel, "_threads", 3)  # restored after the test


def one_piece():
    parallel.set_threads(1)


def test_index_counts_match_bincount(many_pieces):
    data = np.random.default_rng(0).integers(0, 256, 100_003).astype(np.uint8)
    data[:5000] = 7  # a skewed value as well
    split = index_counts(data.reshape(-1, 1))
    one_piece()
    assert np.array_equal(split, np.bincount(data, minlength=256))
    assert np.array_equal(index_counts(data), split)


def test_split_quantize_equals_one_piece(many_pieces, photo):
    settings = QuantizeSettings(k=24, seed=3)
    split = quantize(photo, settings)
    split_hist = build_histogram(photo, max_exact=500)  # binned path
    one_piece()
    whole = quantize(photo, settings)
    whole_hist = build_histogram(photo, max_exact=500)
    assert np.array_equal(split.indices, whole.indices)
    assert np.array_equal(split.palette, whole.palette)
    assert split.iterations == whole.iterations
    assert np.array_equal(split_hist.counts, whole_hist.counts)
    assert np.array_equal(split_hist.colors, whole_hist.colors)


def test_split_direct_cache_remap_equals_one_piece(many_pieces, photo, monkeypatch):
    monkeypatch.setattr(remapping, "DIRECT_CACHE_PIXELS", 1)
    palette = np.random.default_rng(5).integers(0, 256, (40, 3), dtype=np.uint8)
    split = remap(photo, palette, "oklab")
    one_piece()
    assert np.array_equal(split, remap(photo, palette, "oklab"))


def test_importing_the_package_keeps_openblas_to_one_thread():
    """The engine threads its own work; BLAS threads would only contend with it.
    Set on import, before numpy loads, unless the user chose a value."""
    import os
    import subprocess
    import sys
    code = ("import kmeans_gui, numpy, os; "
            "print(os.environ['OPENBLAS_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "2"
