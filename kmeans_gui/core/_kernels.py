"""Compiled inner loops (numba). Everything here is sequential per pixel or per
sample, which numpy cannot vectorize; all functions release the GIL so a GUI
thread stays responsive while a worker thread runs them."""

from __future__ import annotations

import numpy as np
from numba import njit


def _jit(fn):
    # Cache compiled code on disk when the package folder (or numba's user cache)
    # is writable; a frozen build without source files falls back to compiling.
    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:
        return njit(nogil=True)(fn)


SPACE_RGB = 0
SPACE_OKLAB = 1


# ---------------------------------------------------------------- colour math

@_jit
def work_coords(r, g, b, a, space, nch, lin, out):
    """One straight sRGB(A) colour (floats 0..255) to working coordinates."""
    if space == SPACE_RGB:
        x0 = r
        x1 = g
        x2 = b
        ascale = 255.0
    else:
        lr = lin_interp(lin, r)
        lg = lin_interp(lin, g)
        lb = lin_interp(lin, b)
        l_ = np.cbrt(0.4122214708 * lr + 0.5363325363 * lg + 0.0514459929 * lb)
        m_ = np.cbrt(0.2119034982 * lr + 0.6806995451 * lg + 0.1073969566 * lb)
        s_ = np.cbrt(0.0883024619 * lr + 0.2817188376 * lg + 0.6299787005 * lb)
        x0 = 100.0 * (0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_)
        x1 = 100.0 * (1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_)
        x2 = 100.0 * (0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_)
        ascale = 100.0
    if nch == 4:
        alpha = a / 255.0
        out[0] = x0 * alpha
        out[1] = x1 * alpha
        out[2] = x2 * alpha
        out[3] = alpha * ascale
    else:
        out[0] = x0
        out[1] = x1
        out[2] = x2


@_jit
def lin_interp(lin, v):
    """sRGB -> linear for a float byte value; exact at integers."""
    if v <= 0.0:
        return lin[0]
    if v >= 255.0:
        return lin[255]
    i = int(v)
    f = v - i
    if f == 0.0:
        return lin[i]
    return lin[i] + f * (lin[i + 1] - lin[i])


# ------------------------------------------------------------------ histogram

@_jit
def _hash(key, shift):
    return ((np.uint64(key) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)) >> np.uint64(shift)


@_jit
def build_histogram(pix, mask, cap_bits, limit):
    """Count colours of ``pix`` ((n, 3|4) uint8) in an open-addressing table.

    Colours are grouped by ``key & mask`` (mask 0xFFFFFFFF groups exact colours,
    0xFCFCFCFC groups 6-bit bins). Each group keeps its pixel count and the
    exact sums of its members' channels, so group means are exact.
    Fully transparent pixels are left out and counted separately.
    Returns (keys, counts, sums, n_groups, n_transparent); n_groups is -1 when
    more than ``limit`` groups appear (the caller then bins more coarsely).
    """
    n, nch = pix.shape
    cap = 1 << cap_bits
    shift = 32 - cap_bits
    keys = np.zeros(cap, dtype=np.uint32)
    counts = np.zeros(cap, dtype=np.int64)  # 0 marks an empty slot
    sums = np.zeros((cap, nch), dtype=np.int64)
    used = 0
    transparent = 0
    m = np.uint32(mask)
    for i in range(n):
        r = np.uint32(pix[i, 0])
        g = np.uint32(pix[i, 1])
        b = np.uint32(pix[i, 2])
        if nch == 4:
            a = np.uint32(pix[i, 3])
            if a == 0:
                transparent += 1
                continue
        else:
            a = np.uint32(255)
        key = ((r << np.uint32(24)) | (g << np.uint32(16)) | (b << np.uint32(8)) | a) & m
        h = _hash(key, shift)
        while True:
            if counts[h] == 0:
                keys[h] = key
                used += 1
                if used > limit:
                    return keys, counts, sums, -1, transparent
                break
            if keys[h] == key:
                break
            h = (h + np.uint64(1)) & np.uint64(cap - 1)
        counts[h] += 1
        sums[h, 0] += r
        sums[h, 1] += g
        sums[h, 2] += b
        if nch == 4:
            sums[h, 3] += a
    return keys, counts, sums, used, transparent


@_jit
def build_histogram_rgb6(pix):
    """``build_histogram`` with ``BIN_MASK`` for opaque RGB, by direct indexing
    into the 2**18 bins instead of hashing. Returns (counts, sums) per bin."""
    counts = np.zeros(1 << 18, dtype=np.int64)
    sums = np.zeros((1 << 18, 3), dtype=np.int64)
    for i in range(pix.shape[0]):
        r = np.int64(pix[i, 0])
        g = np.int64(pix[i, 1])
        b = np.int64(pix[i, 2])
        key = ((r >> 2) << 12) | ((g >> 2) << 6) | (b >> 2)
        counts[key] += 1
        sums[key, 0] += r
        sums[key, 1] += g
        sums[key, 2] += b
    return counts, sums


# -------------------------------------------------------------------- k-means

@_jit
def sq_dist(x, i, c, j):
    d = 0.0
    for t in range(x.shape[1]):
        diff = x[i, t] - c[j, t]
        d += diff * diff
    return d


@_jit
def kmeanspp(x, w, k, uniforms, n_trials):
    """Greedy k-means++ seeding on weighted samples.

    ``uniforms`` holds k * n_trials random numbers in [0, 1) drawn by the caller
    (so a numpy seed fully determines the result). Returns sample indices.
    A candidate cannot be closer to sample i than i's current centre when
    the two centres are at least twice i's distance apart, which skips most
    distance computations once a few centres exist.
    """
    n, d = x.shape
    chosen = np.empty(k, dtype=np.int64)
    cum = np.cumsum(w)
    first = np.searchsorted(cum, uniforms[0] * cum[-1], side="right")
    chosen[0] = min(first, n - 1)
    closest = np.empty(n)  # squared distance to the nearest chosen centre
    owner = np.zeros(n, dtype=np.int64)  # which chosen centre that is
    for i in range(n):
        closest[i] = sq_dist(x, i, x, chosen[0])
    pot = np.empty(n)
    centre_gap = np.empty(k)  # squared distance candidate -> each chosen centre
    best_gap = np.empty(k)
    for c in range(1, k):
        total = 0.0
        for i in range(n):
            total += w[i] * closest[i]
            pot[i] = total
        best_pot = np.inf
        best_idx = -1
        for t in range(n_trials):
            if total <= 0.0:
                break
            idx = np.searchsorted(pot, uniforms[c * n_trials + t] * total, side="right")
            idx = min(idx, n - 1)
            for j in range(c):
                centre_gap[j] = sq_dist(x, idx, x, chosen[j])
            p = 0.0
            for i in range(n):
                ci = closest[i]
                # |cand - own| >= 2 |x - own|  =>  |x - cand| >= |x - own|
                if centre_gap[owner[i]] >= 4.0 * ci:
                    p += w[i] * ci
                    continue
                dd = sq_dist(x, i, x, idx)
                p += w[i] * (dd if dd < ci else ci)
            if p < best_pot:
                best_pot = p
                best_idx = idx
                best_gap[:c] = centre_gap[:c]
        if best_idx < 0:
            # Fewer distinct samples than k: the caller handles that case.
            return chosen[:c]
        chosen[c] = best_idx
        for i in range(n):
            ci = closest[i]
            if best_gap[owner[i]] >= 4.0 * ci:
                continue
            dd = sq_dist(x, i, x, best_idx)
            if dd < ci:
                closest[i] = dd
                owner[i] = c
    return chosen


@_jit
def _sorted_centroids(c):
    """Centroids sorted by projection on their principal-ish axis (the
    normalised spread of the coordinate with the largest range)."""
    k, d = c.shape
    axis = np.zeros(d)
    best_range = -1.0
    best_t = 0
    for t in range(d):
        lo = c[:, t].min()
        hi = c[:, t].max()
        if hi - lo > best_range:
            best_range = hi - lo
            best_t = t
    axis[best_t] = 1.0
    proj = c[:, best_t].copy()
    order = np.argsort(proj, kind="mergesort")
    return c[order].copy(), proj[order].copy(), axis, order


@_jit
def assign(x, c, labels, upper, lower, full):
    """Hamerly's bounded nearest-centroid assignment.

    ``upper[i]`` bounds the distance from sample i to its centroid from above,
    ``lower[i]`` the distance to any other centroid from below; a sample whose
    bounds already prove its centroid nearest is skipped. Samples that must be
    rescanned search the centroids sorted along one axis, stopping once the
    axis gap alone rules out the rest. With ``full`` every sample is scanned.
    Returns the number of samples whose label changed.
    """
    n = x.shape[0]
    k = c.shape[0]
    # half the distance from each centroid to its nearest other centroid
    half = np.full(k, np.inf)
    for j in range(k):
        for jj in range(j + 1, k):
            d = np.sqrt(sq_dist(c, j, c, jj)) * 0.5
            if d < half[j]:
                half[j] = d
            if d < half[jj]:
                half[jj] = d
    cs, proj, axis, order = _sorted_centroids(c)
    changed = 0
    for i in range(n):
        a = labels[i]
        if not full:
            bound = max(half[a], lower[i])
            if upper[i] <= bound:
                continue
            upper[i] = np.sqrt(sq_dist(x, i, c, a))
            if upper[i] <= bound:
                continue
        j, best, second = sorted_search(x[i], cs, proj, axis, True)
        best_j = order[j]
        if best_j != a:
            changed += 1
            labels[i] = best_j
        upper[i] = np.sqrt(best)
        lower[i] = np.sqrt(second)
    return changed


@_jit
def update(x, w, labels, c_old, upper, lower):
    """Move each centroid to its members' weighted mean; keep bounds valid.

    Empty clusters are re-seeded at the sample that contributes most to the
    inertia (and its bounds reset). Returns (centroids, n_reseeded).
    """
    n, d = x.shape
    k = c_old.shape[0]
    sums = np.zeros((k, d))
    weight = np.zeros(k)
    for i in range(n):
        a = labels[i]
        weight[a] += w[i]
        for t in range(d):
            sums[a, t] += w[i] * x[i, t]
    c = np.empty_like(c_old)
    reseeded = 0
    for j in range(k):
        if weight[j] > 0:
            for t in range(d):
                c[j, t] = sums[j, t] / weight[j]
        else:
            c[j, :] = c_old[j, :]
    for j in range(k):
        if weight[j] > 0:
            continue
        # farthest weighted sample from its (new) centroid becomes the new centre
        worst = -1.0
        worst_i = -1
        for i in range(n):
            a = labels[i]
            if weight[a] <= w[i]:
                continue  # never steal a cluster's only sample
            e = w[i] * sq_dist(x, i, c, a)
            if e > worst:
                worst = e
                worst_i = i
        if worst_i < 0 or worst <= 0.0:
            continue
        a = labels[worst_i]
        weight[a] -= w[worst_i]
        for t in range(d):
            sums[a, t] -= w[worst_i] * x[worst_i, t]
            c[a, t] = sums[a, t] / weight[a]
            c[j, t] = x[worst_i, t]
        weight[j] = w[worst_i]
        labels[worst_i] = j
        reseeded += 1
    # Bounds: a sample's centroid moved by move[a]; every other by at most max_move.
    move = np.empty(k)
    for j in range(k):
        move[j] = np.sqrt(sq_dist(c, j, c_old, j))
    first = -1
    m1 = 0.0
    m2 = 0.0
    for j in range(k):
        if move[j] > m1:
            m2 = m1
            m1 = move[j]
            first = j
        elif move[j] > m2:
            m2 = move[j]
    if reseeded:
        for i in range(n):
            lower[i] = 0.0
    for i in range(n):
        a = labels[i]
        upper[i] += move[a]
        lower[i] -= m2 if a == first else m1
    return c, reseeded


@_jit
def inertia(x, w, labels, c):
    total = 0.0
    for i in range(x.shape[0]):
        total += w[i] * sq_dist(x, i, c, labels[i])
    return total


# ------------------------------------------------------------------ remapping

@_jit
def sorted_search(v, pal, proj, axis, want_second):
    """Nearest entry of a palette sorted by projection on a unit ``axis``.

    The projection difference bounds the distance from below, so the scan
    outwards from v's projection stops once no closer entry can follow (with
    ``want_second``, once none can beat the second nearest either).
    Returns (index into the sorted palette, its squared distance, the second
    nearest squared distance, or inf when not wanted).
    """
    k = pal.shape[0]
    d = pal.shape[1]
    p = 0.0
    for t in range(d):
        p += v[t] * axis[t]
    hi = np.searchsorted(proj, p)
    lo = hi - 1
    best = np.inf
    second = np.inf
    best_j = 0
    while lo >= 0 or hi < k:
        for side in range(2):
            j = hi if side == 0 else lo
            if j < 0 or j >= k:
                continue
            gap = proj[j] - p
            if gap * gap >= (second if want_second else best):
                if side == 0:
                    hi = k
                else:
                    lo = -1
                continue
            dd = 0.0
            for t in range(d):
                diff = v[t] - pal[j, t]
                dd += diff * diff
            if dd < best:
                second = best
                best = dd
                best_j = j
            elif dd < second:
                second = dd
            if side == 0:
                hi += 1
            else:
                lo -= 1
    return best_j, best, second


@_jit
def _nearest(v, pal, proj, axis):
    return sorted_search(v, pal, proj, axis, False)[0]


@_jit
def remap(pix, pal, proj, axis, order, space, lin, transparent_index, cap_bits):
    """Exact nearest-palette index for every pixel, cached per distinct colour.

    ``pal``/``proj``/``order``: the palette's working coordinates sorted by
    projection on ``axis`` and the original index of each sorted entry.
    """
    n, nch = pix.shape
    cap = 1 << cap_bits
    shift = 32 - cap_bits
    keys = np.zeros(cap, dtype=np.uint32)
    vals = np.zeros(cap, dtype=np.uint8)
    filled = np.zeros(cap, dtype=np.bool_)
    used = 0
    out = np.empty(n, dtype=np.uint8)
    v = np.empty(pal.shape[1])
    for i in range(n):
        r = np.uint32(pix[i, 0])
        g = np.uint32(pix[i, 1])
        b = np.uint32(pix[i, 2])
        a = np.uint32(pix[i, 3]) if nch == 4 else np.uint32(255)
        if a == 0 and transparent_index >= 0:
            out[i] = transparent_index
            continue
        key = (r << np.uint32(24)) | (g << np.uint32(16)) | (b << np.uint32(8)) | a
        h = _hash(key, shift)
        found = False
        while True:
            if not filled[h]:
                break
            if keys[h] == key:
                found = True
                break
            h = (h + np.uint64(1)) & np.uint64(cap - 1)
        if found:
            out[i] = vals[h]
            continue
        work_coords(float(r), float(g), float(b), float(a), space, nch, lin, v)
        idx = order[_nearest(v, pal, proj, axis)]
        out[i] = idx
        if used * 2 < cap:  # keep the table at most half full; beyond, just compute
            keys[h] = key
            vals[h] = idx
            filled[h] = True
            used += 1
    return out


@_jit
def remap_rgb(pix, pal, proj, axis, order, space, lin):
    """``remap`` for opaque RGB with a direct 2**24-entry cache (32 MB):
    faster than hashing when the image has millions of pixels."""
    n = pix.shape[0]
    table = np.full(1 << 24, 0xFFFF, dtype=np.uint16)
    out = np.empty(n, dtype=np.uint8)
    v = np.empty(pal.shape[1])
    prev_key = -1
    prev_val = 0
    for i in range(n):
        key = (np.int64(pix[i, 0]) << 16) | (np.int64(pix[i, 1]) << 8) | np.int64(pix[i, 2])
        if key == prev_key:
            out[i] = prev_val
            continue
        val = table[key]
        if val == 0xFFFF:
            work_coords(float(pix[i, 0]), float(pix[i, 1]), float(pix[i, 2]), 255.0,
                        space, 3, lin, v)
            val = order[_nearest(v, pal, proj, axis)]
            table[key] = val
        out[i] = val
        prev_key = key
        prev_val = val
    return out


@_jit
def dither(img, pal_rgba, pal, proj, axis, order, space, lin, transparent_index, strength):
    """Serpentine Floyd-Steinberg error diffusion at ``strength`` (0..1).

    The error is diffused in straight sRGB; the nearest entry for each
    error-adjusted colour (rounded to whole sRGB steps) is found in the working
    space. For opaque images the choice is cached per 2x2x2 cell of sRGB
    (2**21 cells, 4 MB): the diffused error makes most adjusted colours new,
    and the error carried forward absorbs the at most one-step approximation.
    """
    h, w, nch = img.shape
    out = np.empty((h, w), dtype=np.uint8)
    cur = np.zeros((w + 2, 3))
    nxt = np.zeros((w + 2, 3))
    v = np.empty(pal.shape[1])
    col = np.empty(3)
    table = np.full(1 << 21 if nch == 3 else 1, 0xFFFF, dtype=np.uint16)
    for y in range(h):
        forward = (y % 2) == 0
        step = 1 if forward else -1
        for xi in range(w):
            x = xi if forward else w - 1 - xi
            a = float(img[y, x, 3]) if nch == 4 else 255.0
            if nch == 4 and img[y, x, 3] == 0 and transparent_index >= 0:
                out[y, x] = transparent_index
                continue
            for t in range(3):
                c = img[y, x, t] + cur[x + 1, t]
                col[t] = min(255.0, max(0.0, c))
            ri = int(col[0] + 0.5)
            gi = int(col[1] + 0.5)
            bi = int(col[2] + 0.5)
            if nch == 3:
                key = ((ri >> 1) << 14) | ((gi >> 1) << 7) | (bi >> 1)
                idx = table[key]
                if idx == 0xFFFF:
                    work_coords(float(ri | 1) - 0.5, float(gi | 1) - 0.5, float(bi | 1) - 0.5,
                                a, space, nch, lin, v)
                    idx = order[_nearest(v, pal, proj, axis)]
                    table[key] = idx
            else:
                work_coords(float(ri), float(gi), float(bi), a, space, nch, lin, v)
                idx = order[_nearest(v, pal, proj, axis)]
            out[y, x] = idx
            for t in range(3):
                err = (col[t] - pal_rgba[idx, t]) * strength
                cur[x + 1 + step, t] += err * (7.0 / 16.0)
                nxt[x + 1 - step, t] += err * (3.0 / 16.0)
                nxt[x + 1, t] += err * (5.0 / 16.0)
                nxt[x + 1 + step, t] += err * (1.0 / 16.0)
        cur, nxt = nxt, cur
        nxt[:, :] = 0.0
    return out
