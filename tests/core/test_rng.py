"""The native seeded generator draws exactly numpy.random.default_rng's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from kmeans_gui.core._native.rng import Generator, seed_state

SEEDS = [0, 1, 2, 7, 42, 12345, 2**31 - 1, 2**32 - 1, 2**32, 2**63 + 5, 2**64 + 7, 2**130 + 3,
         np.int64(9), np.uint32(77)]


@pytest.mark.parametrize("seed", SEEDS)
def test_seeding_matches_numpy_seed_sequence(seed) -> None:
    expected = np.random.SeedSequence(int(seed)).generate_state(8, np.uint32)
    assert seed_state(int(seed), 8) == [int(v) for v in expected]


@pytest.mark.parametrize("seed", SEEDS)
def test_uniforms_match_default_rng(seed) -> None:
    ours, numpy_rng = Generator(seed), np.random.default_rng(seed)
    for size in (0, 1, 5, 1000, 3):
        a, b = ours.random(size), numpy_rng.random(size)
        assert a.dtype == np.float64 and a.shape == (size,)
        assert np.array_equal(a, b)
    assert ours.random() == numpy_rng.random()


def test_other_methods_continue_numpy_stream() -> None:
    # After native draws, numpy's own generator takes over at the same point,
    # and random() then follows it too.
    ours, numpy_rng = Generator(3), np.random.default_rng(3)
    assert np.array_equal(ours.random(17), numpy_rng.random(17))
    assert np.array_equal(ours.choice(50, size=5, replace=False, p=np.full(50, 0.02)),
                          numpy_rng.choice(50, size=5, replace=False, p=np.full(50, 0.02)))
    assert ours.integers(4) == numpy_rng.integers(4)
    assert np.array_equal(ours.random(9), numpy_rng.random(9))


def test_no_seed_or_a_bad_seed_is_numpy_own() -> None:
    assert 0.0 <= Generator(None).random() < 1.0
    with pytest.raises(ValueError):
        Generator(-1)
    with pytest.raises(ValueError):
        Generator(1).random(-1)
