"""The bounded assignment (Hamerly's bounds, sorted search) against an
exhaustive nearest-centroid search, over whole runs of Lloyd iterations."""

import numpy as np
import pytest

from kmeans_gui.core._native import kernels as _kernels


@pytest.mark.parametrize("dims", [3, 4])
@pytest.mark.parametrize("k", [2, 17, 256])
def test_every_iteration_labels_each_sample_with_its_nearest_centroid(k, dims):
    rng = np.random.default_rng(k * 10 + dims)
    n = 3000
    x = np.ascontiguousarray(rng.normal(0, 1, (n, dims)) * [40, 10, 10, 5][:dims])
    w = rng.integers(1, 20, n).astype(np.float64)
    c = np.ascontiguousarray(x[rng.choice(n, k, replace=False)])
    labels = np.zeros(n, dtype=np.int64)
    upper, lower = np.full(n, np.inf), np.zeros(n)
    for step in range(12):
        _kernels.assign(x, c, labels, upper, lower, step == 0)
        d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        nearest = d[np.arange(n), labels]
        # The label's distance is the smallest (equal distances may pick either).
        assert np.array_equal(nearest, d.min(axis=1))
        # The bounds hold: upper above the own distance, lower below the others'.
        d[np.arange(n), labels] = np.inf
        assert (upper >= np.sqrt(nearest) - 1e-9).all()
        assert (lower <= np.sqrt(d.min(axis=1)) + 1e-9).all()
        c, _ = _kernels.update(x, w, labels, c, upper, lower)
