/* The K-Means engine's inner loops: histogram, seeding, Hamerly assignment,
 * centroid update, remapping and Floyd-Steinberg dithering.
 *
 * Everything here is sequential per pixel or per sample, which numpy cannot
 * vectorize. Arrays are C-contiguous and allocated by the Python wrappers in
 * kmeans_gui/core/_native/kernels.py, which also document each function. Scratch
 * memory is allocated here; a failed allocation returns -2 (the wrapper
 * raises MemoryError).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"

#define SPACE_RGB 0
#define SPACE_OKLAB 1
#define OUT_OF_MEMORY (-2)

/* ------------------------------------------------------------ colour math */

/* sRGB -> linear for a float byte value; exact at integers. */
static inline double lin_interp(const double *lin, double v) {
    if (v <= 0.0) return lin[0];
    if (v >= 255.0) return lin[255];
    int i = (int)v;
    double f = v - i;
    if (f == 0.0) return lin[i];
    return lin[i] + f * (lin[i + 1] - lin[i]);
}

/* One straight sRGB(A) colour (floats 0..255) to working coordinates: sRGB
 * or OKLab x100, premultiplied by alpha when there are four channels. */
static inline void work_coords(double r, double g, double b, double a, int space, int nch,
                               const double *lin, double *out) {
    double x0, x1, x2, ascale;
    if (space == SPACE_RGB) {
        x0 = r;
        x1 = g;
        x2 = b;
        ascale = 255.0;
    } else {
        double lr = lin_interp(lin, r), lg = lin_interp(lin, g), lb = lin_interp(lin, b);
        double l, m, s;
        oklab_lms(lr, lg, lb, &l, &m, &s);
        oklab_from_lms_roots(work_root(l), work_root(m), work_root(s), &x0, &x1, &x2);
        ascale = 100.0;
    }
    store_coords(x0, x1, x2, a, ascale, nch, out);
}

static inline double sq_dist(const double *a, const double *b, int64_t d) {
    double s = 0.0;
    for (int64_t t = 0; t < d; t++) {
        double diff = a[t] - b[t];
        s += diff * diff;
    }
    return s;
}

/* First index whose value is > v (numpy searchsorted side="right"). */
static int64_t upper_bound(const double *a, int64_t n, double v) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] > v) hi = mid; else lo = mid + 1;
    }
    return lo;
}

/* First index whose value is >= v (numpy searchsorted side="left"). */
static int64_t lower_bound(const double *a, int64_t n, double v) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* -------------------------------------------------------------- histogram */

static inline uint64_t hash_key(uint32_t key, int shift) {
    return (((uint64_t)key * 2654435761u) & 0xFFFFFFFFu) >> shift;
}

/* Where ``key`` sits in a linear-probing colour cache (returns 1), or the
 * empty slot it would take (returns 0); the table is kept at most half full. */
static inline int probe_slot(const uint32_t *keys, const uint8_t *filled, uint32_t key, int shift,
                             uint64_t cap, uint64_t *slot) {
    uint64_t h = hash_key(key, shift);
    while (filled[h]) {
        if (keys[h] == key) {
            *slot = h;
            return 1;
        }
        h = (h + 1) & (cap - 1);
    }
    *slot = h;
    return 0;
}

static inline uint32_t pack(const uint8_t *p, int nch) {
    uint32_t a = nch == 4 ? p[3] : 255u;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | a;
}

EXPORT int64_t build_histogram(const uint8_t *pix, int64_t n, int nch, uint32_t mask,
                               int cap_bits, int64_t limit, uint32_t *keys, int64_t *counts,
                               int64_t *sums, int64_t *n_transparent) {
    uint64_t cap_mask = ((uint64_t)1 << cap_bits) - 1;
    int shift = 32 - cap_bits;
    int64_t used = 0, transparent = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = pix + i * nch;
        if (nch == 4 && p[3] == 0) {
            transparent++;
            continue;
        }
        uint32_t key = pack(p, nch) & mask;
        uint64_t h = hash_key(key, shift);
        for (;;) {
            if (counts[h] == 0) {
                keys[h] = key;
                if (++used > limit) {
                    *n_transparent = transparent;
                    return -1;
                }
                break;
            }
            if (keys[h] == key) break;
            h = (h + 1) & cap_mask;
        }
        counts[h]++;
        if (sums) { /* NULL for exact colours: a group's mean is its key */
            int64_t *s = sums + h * nch;
            for (int t = 0; t < nch; t++) s[t] += p[t];
        }
    }
    *n_transparent = transparent;
    return used;
}

/* build_histogram with 6-bit bins for opaque RGB, by direct indexing into the
 * 2**18 bins instead of hashing. Adds to counts and sums (so row ranges can be
 * counted separately and merged). */
EXPORT void build_histogram_rgb6(const uint8_t *pix, int64_t n, int64_t *counts,
                                 int64_t *sums) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = pix + 3 * i;
        int64_t key = ((int64_t)(p[0] >> 2) << 12) | ((int64_t)(p[1] >> 2) << 6) | (p[2] >> 2);
        counts[key]++;
        sums[3 * key] += p[0];
        sums[3 * key + 1] += p[1];
        sums[3 * key + 2] += p[2];
    }
}

/* ---------------------------------------------------------------- k-means */

/* Greedy k-means++ on weighted samples; writes chosen sample indices and
 * returns how many were chosen (fewer than k when there are fewer distinct
 * samples). A candidate cannot be closer to sample i than i's current centre
 * when the two centres are at least twice i's distance apart. The samples are
 * kept in lists by their current centre, with each list's summed potential
 * and largest distance, so a whole list that is that far from a candidate is
 * skipped at once: with many centres a candidate only visits the samples of
 * the few centres near it. Each list holds its own copy of its members'
 * coordinates, weights and distances, so the visits read memory in order
 * instead of gathering from the whole sample array; the sums are taken in
 * the same order as over the indices, so the result is the same. */
typedef struct {
    int64_t *items; /* sample indices */
    double *xs;     /* (cap, d) the members' coordinates */
    double *ws;     /* the members' weights */
    double *cs;     /* the members' squared distances to this centre */
    int64_t len, cap;
    double pot;     /* sum of w * closest over the members */
    double radius;  /* largest closest (squared distance) among the members */
} Members;

static void members_stats(Members *m) {
    double pot = 0.0, radius = 0.0;
    for (int64_t t = 0; t < m->len; t++) {
        pot += m->ws[t] * m->cs[t];
        if (m->cs[t] > radius) radius = m->cs[t];
    }
    m->pot = pot;
    m->radius = radius;
}

static void members_free(Members *m) {
    free(m->items);
    free(m->xs);
    free(m->ws);
    free(m->cs);
}

static int members_alloc(Members *m, int64_t cap, int64_t d) {
    if (cap < 1) cap = 1;
    m->items = malloc(sizeof(int64_t) * cap);
    m->xs = malloc(sizeof(double) * cap * d);
    m->ws = malloc(sizeof(double) * cap);
    m->cs = malloc(sizeof(double) * cap);
    m->len = 0;
    m->cap = cap;
    return m->items && m->xs && m->ws && m->cs ? 0 : OUT_OF_MEMORY;
}

/* Potential of one list with a candidate added, gap being the squared
 * distance from the candidate to the list's centre (inlined with d = 3). */
static inline double members_pot(const Members *m, const double *cand, double gap, int64_t d) {
    double p = 0.0;
    /* Without branches: which members the bound skips is hard to predict,
     * and computing every distance costs less than the mispredictions. */
    for (int64_t s2 = 0; s2 < m->len; s2++) {
        double ci = m->cs[s2];
        double dd = sq_dist(m->xs + s2 * d, cand, d);
        double v = dd < ci ? dd : ci;
        v = gap >= 4.0 * ci ? ci : v;
        p += m->ws[s2] * v;
    }
    return p;
}

/* Moves the members that the new centre best (list fresh) serves better out
 * of m, into fresh, keeping both in order. */
static inline void members_split(Members *m, Members *fresh, const double *best, double gap,
                                 double *closest, int64_t d) {
    int64_t kept = 0;
    for (int64_t s2 = 0; s2 < m->len; s2++) {
        double ci = m->cs[s2];
        const double *xi = m->xs + s2 * d;
        double dd = gap >= 4.0 * ci ? ci : sq_dist(xi, best, d);
        int64_t i = m->items[s2];
        if (dd < ci) {
            closest[i] = dd;
            int64_t f = fresh->len++;
            fresh->items[f] = i;
            memcpy(fresh->xs + f * d, xi, sizeof(double) * d);
            fresh->ws[f] = m->ws[s2];
            fresh->cs[f] = dd;
        } else {
            if (kept != s2) {
                m->items[kept] = i;
                memmove(m->xs + kept * d, xi, sizeof(double) * d);
                m->ws[kept] = m->ws[s2];
                m->cs[kept] = ci;
            }
            kept++;
        }
    }
    if (kept != m->len) {
        m->len = kept;
        members_stats(m);
        if (kept < m->cap / 2) { /* shrink, so the lists stay near n members in all */
            int64_t cap = kept > 0 ? kept : 1;
            int64_t *items = realloc(m->items, sizeof(int64_t) * cap);
            double *xs = realloc(m->xs, sizeof(double) * cap * d);
            double *ws = realloc(m->ws, sizeof(double) * cap);
            double *cs = realloc(m->cs, sizeof(double) * cap);
            /* a failed shrink leaves the old block, still large enough */
            if (items) m->items = items;
            if (xs) m->xs = xs;
            if (ws) m->ws = ws;
            if (cs) m->cs = cs;
            if (items && xs && ws && cs) m->cap = cap;
        }
    }
}

EXPORT int64_t kmeanspp(const double *x, int64_t n, int64_t d, const double *w, int64_t k,
                        const double *uniforms, int64_t n_trials, int64_t *chosen) {
    double *cum = malloc(sizeof(double) * n);
    double *closest = malloc(sizeof(double) * n);
    double *gap = malloc(sizeof(double) * k);
    double *best_gap = malloc(sizeof(double) * k);
    Members *lists = calloc(k, sizeof(Members));
    Members spare = {0}; /* where a new centre's members are gathered */
    int64_t result = k;
    if (!cum || !closest || !gap || !best_gap || !lists ||
        members_alloc(&spare, n, d) != 0) {
        result = OUT_OF_MEMORY;
        goto done;
    }
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        total += w[i];
        cum[i] = total;
    }
    int64_t first = upper_bound(cum, n, uniforms[0] * cum[n - 1]);
    chosen[0] = first < n - 1 ? first : n - 1;
    if (members_alloc(&lists[0], n, d) != 0) {
        result = OUT_OF_MEMORY;
        goto done;
    }
    lists[0].len = n;
    memcpy(lists[0].xs, x, sizeof(double) * n * d);
    memcpy(lists[0].ws, w, sizeof(double) * n);
    for (int64_t i = 0; i < n; i++) {
        closest[i] = sq_dist(x + i * d, x + chosen[0] * d, d);
        lists[0].items[i] = i;
        lists[0].cs[i] = closest[i];
    }
    members_stats(&lists[0]);
    double *pot = cum; /* reused: running potential */
    for (int64_t c = 1; c < k; c++) {
        total = 0.0;
        for (int64_t i = 0; i < n; i++) {
            total += w[i] * closest[i];
            pot[i] = total;
        }
        double best_pot = INFINITY;
        int64_t best_idx = -1;
        for (int64_t t = 0; t < n_trials; t++) {
            if (total <= 0.0) break;
            int64_t idx = upper_bound(pot, n, uniforms[c * n_trials + t] * total);
            if (idx > n - 1) idx = n - 1;
            const double *cand = x + idx * d;
            double p = 0.0;
            for (int64_t j = 0; j < c; j++) {
                gap[j] = sq_dist(cand, x + chosen[j] * d, d);
                Members *m = &lists[j];
                /* |cand - own| >= 2 |x - own| for every member: none moves */
                if (gap[j] >= 4.0 * m->radius) {
                    p += m->pot;
                    continue;
                }
                p += d == 3 ? members_pot(m, cand, gap[j], 3) : members_pot(m, cand, gap[j], d);
            }
            if (p < best_pot) {
                best_pot = p;
                best_idx = idx;
                memcpy(best_gap, gap, sizeof(double) * c);
            }
        }
        if (best_idx < 0) {
            result = c;
            goto done;
        }
        chosen[c] = best_idx;
        const double *best = x + best_idx * d;
        spare.len = 0;
        for (int64_t j = 0; j < c; j++) {
            Members *m = &lists[j];
            if (best_gap[j] >= 4.0 * m->radius) continue;
            if (d == 3)
                members_split(m, &spare, best, best_gap[j], closest, 3);
            else
                members_split(m, &spare, best, best_gap[j], closest, d);
        }
        Members *fresh = &lists[c];
        if (members_alloc(fresh, spare.len, d) != 0) {
            result = OUT_OF_MEMORY;
            goto done;
        }
        fresh->len = spare.len;
        memcpy(fresh->items, spare.items, sizeof(int64_t) * spare.len);
        memcpy(fresh->xs, spare.xs, sizeof(double) * spare.len * d);
        memcpy(fresh->ws, spare.ws, sizeof(double) * spare.len);
        memcpy(fresh->cs, spare.cs, sizeof(double) * spare.len);
        members_stats(fresh);
    }
done:
    if (lists)
        for (int64_t j = 0; j < k; j++) members_free(&lists[j]);
    members_free(&spare);
    free(lists);
    free(cum);
    free(closest);
    free(gap);
    free(best_gap);
    return result;
}

/* A palette or centroid set sorted by projection on one unit axis, for
 * sorted_search. */
typedef struct {
    int64_t k, d;
    double *coords; /* (k, d) sorted */
    double *proj;   /* (k,) ascending */
    double *axis;   /* (d,) */
    int64_t *order; /* sorted position -> original index */
} SortedSet;

/* Distances up to this are an exact match: the pixel's coordinates and the
 * palette's (computed by numpy) may differ in the last bits. */
#define EXACT_MATCH 1e-6

/* Nearest entry of a sorted set to v. The projection difference bounds the
 * distance from below, so the scan outwards from v's projection stops once no
 * closer entry can follow (with want_second, once none can beat the second
 * nearest either; with relative >= 0 as well, once none lies within the slack
 * max(relative * nearest distance, absolute) of the nearest, or at once after
 * an exact match). Returns the sorted position; *best and *second get the
 * squared distances (second stays inf when not wanted), *second_j the second's
 * sorted position (0 when there is none). */
static inline __attribute__((always_inline)) int64_t sorted_scan(
    const double *v, const SortedSet *s, int64_t hint, int want_second, double relative,
    double absolute, double *best_out, double *second_out, int64_t *second_j_out) {
    int64_t k = s->k, d = s->d;
    double p = 0.0;
    for (int64_t t = 0; t < d; t++) p += v[t] * s->axis[t];
    int64_t hi;
    if (hint < 0) {
        hi = lower_bound(s->proj, k, p);
    } else {
        /* the same position, walked to from a nearby one */
        hi = hint;
        while (hi > 0 && s->proj[hi - 1] >= p) hi--;
        while (hi < k && s->proj[hi] < p) hi++;
    }
    int64_t lo = hi - 1;
    double best = INFINITY, second = INFINITY, reach = INFINITY;
    int64_t best_j = 0, second_j = 0;
    while (lo >= 0 || hi < k) {
        for (int side = 0; side < 2; side++) {
            int64_t j = side == 0 ? hi : lo;
            if (j < 0 || j >= k) continue;
            double gap = s->proj[j] - p;
            if (gap * gap >= (want_second ? (second < reach ? second : reach) : best)) {
                if (side == 0) hi = k; else lo = -1;
                continue;
            }
            double dd = sq_dist(v, s->coords + j * d, d);
            if (dd < best) {
                second = best;
                second_j = best_j;
                best = dd;
                best_j = j;
                if (relative >= 0.0) {
                    /* beyond the slack a second nearest cannot stand in: no need to find it */
                    double r = sqrt(best), slack = relative * r > absolute ? relative * r : absolute;
                    reach = r > EXACT_MATCH ? (r + slack) * (r + slack) : best;
                }
            } else if (dd < second) {
                second = dd;
                second_j = j;
            }
            if (side == 0) hi++; else lo--;
        }
    }
    *best_out = best;
    *second_out = second;
    *second_j_out = second_j;
    return best_j;
}

static inline int64_t sorted_search_from(const double *v, const SortedSet *s, int64_t hint,
                                         int want_second, double *best_out,
                                         double *second_out) {
    int64_t second_j;
    return sorted_scan(v, s, hint, want_second, -1.0, 0.0, best_out, second_out, &second_j);
}

static inline int64_t sorted_search(const double *v, const SortedSet *s, int want_second,
                                    double *best_out, double *second_out) {
    return sorted_search_from(v, s, -1, want_second, best_out, second_out);
}

static inline int64_t nearest(const double *v, const SortedSet *s) {
    double best, second;
    return s->order[sorted_search(v, s, 0, &best, &second)];
}

/* Centroids sorted along the coordinate with the largest range (stable). */
static int sort_centroids(const double *c, int64_t k, int64_t d, SortedSet *s) {
    s->k = k;
    s->d = d;
    s->coords = malloc(sizeof(double) * k * d);
    s->proj = malloc(sizeof(double) * k);
    s->axis = calloc(d, sizeof(double));
    s->order = malloc(sizeof(int64_t) * k);
    if (!s->coords || !s->proj || !s->axis || !s->order) return OUT_OF_MEMORY;
    double best_range = -1.0;
    int64_t best_t = 0;
    for (int64_t t = 0; t < d; t++) {
        double lo = c[t], hi = c[t];
        for (int64_t j = 1; j < k; j++) {
            double v = c[j * d + t];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (hi - lo > best_range) {
            best_range = hi - lo;
            best_t = t;
        }
    }
    s->axis[best_t] = 1.0;
    /* insertion sort: stable, and k is at most 256 */
    for (int64_t j = 0; j < k; j++) {
        double v = c[j * d + best_t];
        int64_t pos = j;
        while (pos > 0 && s->proj[pos - 1] > v) {
            s->proj[pos] = s->proj[pos - 1];
            s->order[pos] = s->order[pos - 1];
            pos--;
        }
        s->proj[pos] = v;
        s->order[pos] = j;
    }
    for (int64_t j = 0; j < k; j++)
        memcpy(s->coords + j * d, c + s->order[j] * d, sizeof(double) * d);
    return 0;
}

static void free_sorted(SortedSet *s) {
    free(s->coords);
    free(s->proj);
    free(s->axis);
    free(s->order);
}

/* assign adds up the weight that changed cluster per block of this many samples. */
#define MOVED_BLOCK 4096

/* assign's loop, inlined with d = 3 (the opaque case) so the distances unroll. */
static inline int64_t assign_range(const double *x, int64_t start, int64_t stop, int64_t d,
                                   const double *c, int64_t *labels, double *upper,
                                   double *lower, int full, const double *half,
                                   const SortedSet *sorted, const int64_t *where,
                                   const double *w, double *moved) {
    SortedSet s = *sorted;
    s.d = d;
    int64_t changed = 0;
    for (int64_t i = start; i < stop; i++) {
        int64_t a = labels[i];
        const double *xi = x + i * d;
        if (!full) {
            double bound = half[a] > lower[i] ? half[a] : lower[i];
            if (upper[i] <= bound) continue;
            upper[i] = sqrt(sq_dist(xi, c + a * d, d));
            if (upper[i] <= bound) continue;
        }
        double best, second;
        /* a sample lies near its centroid: start the search from its place */
        int64_t best_j = s.order[sorted_search_from(xi, &s, full ? -1 : where[a], 1, &best,
                                                    &second)];
        if (best_j != a) {
            changed++;
            labels[i] = best_j;
            if (moved) moved[(i - start) / MOVED_BLOCK] += w[i];
        }
        upper[i] = sqrt(best);
        lower[i] = sqrt(second);
    }
    return changed;
}

/* Hamerly's bounded nearest-centroid assignment over samples [start, stop).
 * upper[i] bounds the distance from sample i to its centroid from above,
 * lower[i] the distance to any other centroid from below; a sample whose
 * bounds already prove its centroid nearest is skipped. With full every
 * sample is scanned. Returns the number of labels changed. With moved (and
 * the weights w) not NULL, the weight of the samples that changed is added up
 * per block of MOVED_BLOCK samples from start: moved[b] gets the block's
 * total, summed in sample order, so a caller that splits the samples at block
 * boundaries gets the same totals however it splits them. */
EXPORT int64_t assign(const double *x, int64_t start, int64_t stop, int64_t d,
                      const double *c, int64_t k, int64_t *labels, double *upper,
                      double *lower, int full, const double *w, double *moved) {
    double *half = malloc(sizeof(double) * k);
    int64_t *where = malloc(sizeof(int64_t) * k); /* centroid -> sorted position */
    SortedSet s = {0};
    int64_t changed = 0;
    if (!half || !where || sort_centroids(c, k, d, &s) != 0) {
        changed = OUT_OF_MEMORY;
        goto done;
    }
    /* half the distance from each centroid to its nearest other centroid */
    for (int64_t j = 0; j < k; j++) half[j] = INFINITY;
    for (int64_t j = 0; j < k; j++) {
        for (int64_t jj = j + 1; jj < k; jj++) {
            double h = sqrt(sq_dist(c + j * d, c + jj * d, d)) * 0.5;
            if (h < half[j]) half[j] = h;
            if (h < half[jj]) half[jj] = h;
        }
    }
    for (int64_t j = 0; j < k; j++) where[s.order[j]] = j;
    if (moved)
        for (int64_t b = 0; b < (stop - start + MOVED_BLOCK - 1) / MOVED_BLOCK; b++)
            moved[b] = 0.0;
    changed = d == 3 ? assign_range(x, start, stop, 3, c, labels, upper, lower, full, half, &s,
                                    where, w, moved)
                     : assign_range(x, start, stop, d, c, labels, upper, lower, full, half, &s,
                                    where, w, moved);
done:
    free(half);
    free(where);
    free_sorted(&s);
    return changed;
}

/* update's weighted sums per cluster, inlined with d = 3, and each cluster's
 * largest upper and lower bound (reach and far, both start at 0). */
static inline void update_sums(const double *x, int64_t n, int64_t d, const double *w,
                               const int64_t *labels, double *sums, double *weight,
                               const double *upper, const double *lower, double *reach,
                               double *far) {
    for (int64_t i = 0; i < n; i++) {
        int64_t a = labels[i];
        weight[a] += w[i];
        for (int64_t t = 0; t < d; t++) sums[a * d + t] += w[i] * x[i * d + t];
        if (upper[i] > reach[a]) reach[a] = upper[i];
        if (lower[i] > far[a]) far[a] = lower[i];
    }
}

/* update's last pass: widen the bounds by the centroids' moves and, with
 * stats, take the inertia of the new centroids (summed as inertia sums it). */
static inline double update_bounds(const double *x, int64_t n, int64_t d, const double *w,
                                   const int64_t *labels, const double *c, double *upper,
                                   double *lower, const double *move, const double *drop,
                                   int with_inertia) {
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t a = labels[i];
        upper[i] += move[a];
        lower[i] -= drop[a];
        if (with_inertia) total += w[i] * sq_dist(x + i * d, c + a * d, d);
    }
    return total;
}

/* Move each centroid to its members' weighted mean (into c) and keep the
 * bounds valid. Empty clusters are re-seeded at the sample that contributes
 * most to the inertia, never stealing a cluster's only sample. Centroids
 * with fixed[j] set (fixed may be NULL) stay where they are and are never
 * re-seeded. Returns the number re-seeded. With stats not NULL, stats[0]
 * gets the inertia of the new centroids with the final labels (the value
 * inertia returns for them, in the same pass as the bounds) and stats[1] the
 * largest distance a centroid moved. */
EXPORT int64_t update(const double *x, int64_t n, int64_t d, const double *w, int64_t *labels,
                      const double *c_old, int64_t k, double *upper, double *lower,
                      double *c, const uint8_t *fixed, double *stats) {
    double *sums = calloc(k * d, sizeof(double));
    double *weight = calloc(k, sizeof(double));
    double *move = malloc(sizeof(double) * k);
    double *reach = calloc(k, sizeof(double));
    double *far = calloc(k, sizeof(double));
    int64_t reseeded = 0;
    if (!sums || !weight || !move || !reach || !far) {
        reseeded = OUT_OF_MEMORY;
        goto done;
    }
    if (d == 3)
        update_sums(x, n, 3, w, labels, sums, weight, upper, lower, reach, far);
    else
        update_sums(x, n, d, w, labels, sums, weight, upper, lower, reach, far);
    for (int64_t j = 0; j < k; j++) {
        for (int64_t t = 0; t < d; t++)
            c[j * d + t] = weight[j] > 0 && !(fixed && fixed[j]) ? sums[j * d + t] / weight[j]
                                                                 : c_old[j * d + t];
    }
    for (int64_t j = 0; j < k; j++) {
        if (weight[j] > 0 || (fixed && fixed[j])) continue;
        double worst = -1.0;
        int64_t worst_i = -1;
        for (int64_t i = 0; i < n; i++) {
            int64_t a = labels[i];
            if (weight[a] <= w[i]) continue;
            double e = w[i] * sq_dist(x + i * d, c + a * d, d);
            if (e > worst) {
                worst = e;
                worst_i = i;
            }
        }
        if (worst_i < 0 || worst <= 0.0) continue;
        int64_t a = labels[worst_i];
        weight[a] -= w[worst_i];
        for (int64_t t = 0; t < d; t++) {
            sums[a * d + t] -= w[worst_i] * x[worst_i * d + t];
            if (!(fixed && fixed[a])) c[a * d + t] = sums[a * d + t] / weight[a];
            c[j * d + t] = x[worst_i * d + t];
        }
        weight[j] = w[worst_i];
        labels[worst_i] = j;
        reseeded++;
    }
    /* A sample's centroid moved by move[a]; every other by at most the
     * largest move of the others. */
    int64_t first = -1;
    double m1 = 0.0, m2 = 0.0;
    for (int64_t j = 0; j < k; j++) {
        move[j] = sqrt(sq_dist(c + j * d, c_old + j * d, d));
        if (move[j] > m1) {
            m2 = m1;
            m1 = move[j];
            first = j;
        } else if (move[j] > m2) {
            m2 = move[j];
        }
    }
    if (reseeded) {
        for (int64_t i = 0; i < n; i++) lower[i] = 0.0;
        for (int64_t j = 0; j < k; j++) far[j] = j == first ? m2 : m1; /* Hamerly's */
    } else {
        /* A member i of cluster a is at least lower[i] from every other old
         * centroid j, and at least |c_j - c_a| - upper[i] from it (old
         * positions). A centroid j so far from c_a that |c_j - c_a| -
         * reach[a] - move[j] >= far[a] is still at least lower[i] from i
         * after moving; so i's lower bound drops only by the largest move
         * among the others, the near ones (never more than Hamerly's
         * largest move of all others). Kept in far[a]. */
        for (int64_t a = 0; a < k; a++) {
            double limit = reach[a] + far[a], drop = 0.0;
            for (int64_t j = 0; j < k; j++) {
                if (j == a || move[j] <= drop) continue;
                if (sqrt(sq_dist(c_old + j * d, c_old + a * d, d)) < limit + move[j])
                    drop = move[j];
            }
            far[a] = drop;
        }
    }
    double total;
    if (!stats)
        total = update_bounds(x, n, d, w, labels, c, upper, lower, move, far, 0);
    else if (d == 3)
        total = update_bounds(x, n, 3, w, labels, c, upper, lower, move, far, 1);
    else
        total = update_bounds(x, n, d, w, labels, c, upper, lower, move, far, 1);
    if (stats) {
        stats[0] = total;
        stats[1] = m1;
    }
done:
    free(sums);
    free(weight);
    free(move);
    free(reach);
    free(far);
    return reseeded;
}

static inline double inertia_d(const double *x, int64_t n, int64_t d, const double *w,
                               const int64_t *labels, const double *c) {
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) total += w[i] * sq_dist(x + i * d, c + labels[i] * d, d);
    return total;
}

EXPORT double inertia(const double *x, int64_t n, int64_t d, const double *w,
                      const int64_t *labels, const double *c) {
    return d == 3 ? inertia_d(x, n, 3, w, labels, c) : inertia_d(x, n, d, w, labels, c);
}

/* -------------------------------------------------------------- remapping */

static SortedSet palette_set(const double *pal, int64_t k, int64_t d, const double *proj,
                             const double *axis, const int64_t *order) {
    SortedSet s = {k, d, (double *)pal, (double *)proj, (double *)axis, (int64_t *)order};
    return s;
}

/* Exact nearest-palette index for every pixel, cached per distinct colour in
 * a hash table kept at most half full (beyond that, colours are computed). */
EXPORT int64_t remap(const uint8_t *pix, int64_t n, int nch, const double *pal, int64_t k,
                     int64_t d, const double *proj, const double *axis, const int64_t *order,
                     int space, const double *lin, int64_t transparent_index, int cap_bits,
                     uint8_t *out) {
    uint64_t cap = (uint64_t)1 << cap_bits;
    int shift = 32 - cap_bits;
    uint32_t *keys = malloc(sizeof(uint32_t) * cap);
    uint8_t *vals = malloc(cap);
    uint8_t *filled = calloc(cap, 1);
    if (!keys || !vals || !filled) {
        free(keys);
        free(vals);
        free(filled);
        return OUT_OF_MEMORY;
    }
    SortedSet s = palette_set(pal, k, d, proj, axis, order);
    uint64_t used = 0;
    double v[4];
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = pix + i * nch;
        uint32_t a = nch == 4 ? p[3] : 255u;
        if (a == 0 && transparent_index >= 0) {
            out[i] = (uint8_t)transparent_index;
            continue;
        }
        uint32_t key = pack(p, nch);
        uint64_t h;
        if (probe_slot(keys, filled, key, shift, cap, &h)) {
            out[i] = vals[h];
            continue;
        }
        work_coords(p[0], p[1], p[2], a, space, nch, lin, v);
        uint8_t idx = (uint8_t)nearest(v, &s);
        out[i] = idx;
        if (used * 2 < cap) {
            keys[h] = key;
            vals[h] = idx;
            filled[h] = 1;
            used++;
        }
    }
    free(keys);
    free(vals);
    free(filled);
    return 0;
}

/* remap for opaque RGB with the cache packed into one 32-bit slot per
 * colour, (rgb << 8) | index, 0 meaning empty (black with index 0 would be
 * 0 too, so black's index is kept apart): one memory access per lookup
 * instead of three, and a third smaller than remap's table. At most half of
 * the 2**cap_bits slots are filled; beyond that colours are computed. */
EXPORT int64_t remap_rgb_packed(const uint8_t *pix, int64_t n, const double *pal, int64_t k,
                                int64_t d, const double *proj, const double *axis,
                                const int64_t *order, int space, const double *lin,
                                int cap_bits, uint8_t *out) {
    uint64_t cap = (uint64_t)1 << cap_bits;
    uint64_t mask = cap - 1;
    int shift = 32 - cap_bits;
    uint32_t *table = calloc(cap, sizeof(uint32_t));
    if (!table) return OUT_OF_MEMORY;
    SortedSet s = palette_set(pal, k, d, proj, axis, order);
    double v[4];
    uint64_t used = 0;
    int black = -1;
    uint32_t prev_key = 0xFFFFFFFFu;
    uint8_t prev_val = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = pix + 3 * i;
        uint32_t key = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
        if (key == prev_key) {
            out[i] = prev_val;
            continue;
        }
        uint8_t idx;
        if (key == 0 && black >= 0) {
            idx = (uint8_t)black;
        } else {
            uint64_t h = hash_key(key, shift);
            uint32_t slot;
            int found = 0;
            while ((slot = table[h]) != 0) {
                if ((slot >> 8) == key) {
                    found = 1;
                    break;
                }
                h = (h + 1) & mask;
            }
            if (found) {
                idx = (uint8_t)slot;
            } else {
                work_coords(p[0], p[1], p[2], 255.0, space, 3, lin, v);
                idx = (uint8_t)nearest(v, &s);
                if (key == 0) {
                    black = idx;
                } else if (used * 2 < cap) {
                    table[h] = (key << 8) | idx;
                    used++;
                }
            }
        }
        out[i] = idx;
        prev_key = key;
        prev_val = idx;
    }
    free(table);
    return 0;
}

/* remap for opaque RGB with a direct 2**24-entry cache (32 MB): faster than
 * hashing when the image has millions of pixels. */
EXPORT int64_t remap_rgb(const uint8_t *pix, int64_t n, const double *pal, int64_t k,
                         int64_t d, const double *proj, const double *axis,
                         const int64_t *order, int space, const double *lin, uint8_t *out) {
    uint16_t *table = malloc(sizeof(uint16_t) << 24);
    if (!table) return OUT_OF_MEMORY;
    memset(table, 0xFF, sizeof(uint16_t) << 24);
    SortedSet s = palette_set(pal, k, d, proj, axis, order);
    double v[4];
    int64_t prev_key = -1;
    uint8_t prev_val = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = pix + 3 * i;
        int64_t key = ((int64_t)p[0] << 16) | ((int64_t)p[1] << 8) | p[2];
        if (key == prev_key) {
            out[i] = prev_val;
            continue;
        }
        uint16_t val = table[key];
        if (val == 0xFFFF) {
            work_coords(p[0], p[1], p[2], 255.0, space, 3, lin, v);
            val = (uint16_t)nearest(v, &s);
            table[key] = val;
        }
        out[i] = (uint8_t)val;
        prev_key = key;
        prev_val = (uint8_t)val;
    }
    free(table);
    return 0;
}

/* The nearest entry of a sorted set to v and the second nearest, if that is
 * within the slack max(relative * nearest distance, absolute) of the nearest
 * (the scan stops once no entry within it can follow): their original
 * indices and plain (not squared) distances. When none is, the second is
 * some entry beyond the slack, or the first at infinite distance. */
static inline void nearest_two(const double *v, const SortedSet *s, double relative,
                               double absolute, int64_t *j1, double *d1, int64_t *j2,
                               double *d2) {
    double best, second;
    int64_t second_j;
    int64_t best_j = sorted_scan(v, s, -1, 1, relative, absolute, &best, &second, &second_j);
    *j1 = s->order[best_j];
    *d1 = sqrt(best);
    *j2 = s->order[second == INFINITY ? best_j : second_j];
    *d2 = sqrt(second);
}

/* What the run-aware remap caches per colour: the nearest entry in the low
 * byte, in the high byte the second nearest if it may stand in for it (no
 * farther than the slack beyond the nearest), else the nearest again. An
 * exact match (distance 0) has no stand-in. */
static inline uint16_t run_choices(const uint8_t *p, uint32_t a, int nch, int space,
                                   const double *lin, const SortedSet *s, double relative,
                                   double absolute) {
    double v[4], d1, d2;
    int64_t j1, j2;
    work_coords(p[0], p[1], p[2], a, space, nch, lin, v);
    nearest_two(v, s, relative, absolute, &j1, &d1, &j2, &d2);
    double slack = relative * d1 > absolute ? relative * d1 : absolute;
    if (!(d1 > EXACT_MATCH) || !(d2 - d1 <= slack)) j2 = j1;
    return (uint16_t)(j1 | (j2 << 8));
}

/* Left, then upper neighbour's entry if this colour allows it, else the nearest. */
static inline uint8_t run_pick(uint16_t choices, int left, int up) {
    int j1 = choices & 0xFF, j2 = choices >> 8;
    int left_ok = (left == j1) | (left == j2), up_ok = (up == j1) | (up == j2);
    return (uint8_t)(left_ok ? left : up_ok ? up : j1); /* selects, not branches */
}

/* The rows of remap_runs, for a constant channel count and cache kind (so
 * the compiler specializes each). */
static inline __attribute__((always_inline)) void runs_rows(
    const uint8_t *pix, int64_t first, int64_t rows, int64_t w, const int nch, const int direct,
    const SortedSet *s, int space, const double *lin, int64_t transparent_index,
    double relative, double absolute, int64_t band_rows, int cap_bits, uint16_t *vals,
    uint32_t *keys, uint8_t *filled, uint8_t *out) {
    uint64_t cap = (uint64_t)1 << cap_bits;
    int shift = 32 - cap_bits;
    uint64_t used = 0;
    const int k_full = s->k == 256; /* else entry 255 does not exist: 0xFFFF is empty */
    for (int64_t y = 0; y < rows; y++) {
        const uint8_t *row = pix + y * w * nch;
        uint8_t *o = out + y * w;
        const uint8_t *above = (first + y) % band_rows == 0 ? NULL : o - w;
        uint32_t prev_key = 0;
        int have_prev = 0;
        int left = -1; /* the entry just written, kept out of memory: each pick waits for it */
        for (int64_t x = 0; x < w; x++) {
            const uint8_t *p = row + x * nch;
            uint32_t a = nch == 4 ? p[3] : 255u;
            if (nch == 4 && a == 0 && transparent_index >= 0) {
                o[x] = (uint8_t)transparent_index;
                left = (int)transparent_index;
                have_prev = 0;
                continue;
            }
            uint32_t key = pack(p, nch);
            if (have_prev && key == prev_key) { /* the left pixel's entry suits its colour */
                o[x] = (uint8_t)left;
                continue;
            }
            uint16_t choices;
            if (direct) {
                /* 0xFFFF is an empty slot, or with 256 entries (entry 255, no
                 * stand-in) when the colour's bit in filled says so */
                uint32_t c = key >> 8;
                choices = vals[c];
                if (choices == 0xFFFF && !(k_full && (filled[c >> 3] & (1u << (c & 7))))) {
                    choices = run_choices(p, a, nch, space, lin, s, relative, absolute);
                    vals[c] = choices;
                    if (k_full && choices == 0xFFFF) filled[c >> 3] |= (uint8_t)(1u << (c & 7));
                }
            } else {
                uint64_t h;
                if (probe_slot(keys, filled, key, shift, cap, &h)) {
                    choices = vals[h];
                } else {
                    choices = run_choices(p, a, nch, space, lin, s, relative, absolute);
                    if (used * 2 < cap) {
                        keys[h] = key;
                        vals[h] = choices;
                        filled[h] = 1;
                        used++;
                    }
                }
            }
            if (__builtin_expect((choices & 0xFF) == (choices >> 8), 1))
                left = choices & 0xFF; /* no stand-in: a branch, not a wait for the left pick */
            else
                left = run_pick(choices, left, above ? above[x] : -1);
            o[x] = (uint8_t)left;
            prev_key = key;
            have_prev = 1;
        }
    }
}

/* The undithered remap that keeps runs: rows first..first+rows-1 of an image
 * of width w. Each pixel takes its left neighbour's entry, else its upper
 * neighbour's, when that entry is its nearest or its second nearest within
 * the slack (max(relative * nearest distance, absolute), working-space
 * units), else its nearest: fewer index changes, longer deflate matches. A
 * row whose number is a multiple of band_rows looks at no upper neighbour,
 * so pieces that start on such rows give the same result as one pass. The
 * choices are cached per colour: hashed (2**cap_bits slots, at most half
 * filled, beyond that colours are computed), or with direct set for opaque
 * RGB, in a direct 2**24 table (32 MB, and a 2 MB bitmap for one value). */
EXPORT int64_t remap_runs(const uint8_t *pix, int64_t first, int64_t rows, int64_t w, int nch,
                          const double *pal, int64_t k, int64_t d, const double *proj,
                          const double *axis, const int64_t *order, int space,
                          const double *lin, int64_t transparent_index, double relative,
                          double absolute, int64_t band_rows, int direct, int cap_bits,
                          uint8_t *out) {
    uint64_t cap = direct ? (uint64_t)1 << 24 : (uint64_t)1 << cap_bits;
    uint16_t *vals = malloc(sizeof(uint16_t) * cap);
    uint32_t *keys = direct ? NULL : malloc(sizeof(uint32_t) * cap);
    uint8_t *filled = calloc(direct ? cap / 8 : cap, 1);
    if (!vals || !filled || (!direct && !keys)) {
        free(vals);
        free(keys);
        free(filled);
        return OUT_OF_MEMORY;
    }
    if (direct) memset(vals, 0xFF, sizeof(uint16_t) * cap);
    SortedSet s = palette_set(pal, k, d, proj, axis, order);
    if (direct)
        runs_rows(pix, first, rows, w, 3, 1, &s, space, lin, transparent_index, relative,
                  absolute, band_rows, 24, vals, keys, filled, out);
    else if (nch == 3)
        runs_rows(pix, first, rows, w, 3, 0, &s, space, lin, transparent_index, relative,
                  absolute, band_rows, cap_bits, vals, keys, filled, out);
    else
        runs_rows(pix, first, rows, w, 4, 0, &s, space, lin, transparent_index, relative,
                  absolute, band_rows, cap_bits, vals, keys, filled, out);
    free(vals);
    free(keys);
    free(filled);
    return 0;
}

static inline double clamp255(double v) { return v < 0.0 ? 0.0 : (v > 255.0 ? 255.0 : v); }

/* Serpentine Floyd-Steinberg error diffusion at strength (0..1).
 * The error is diffused in straight sRGB; the nearest entry for each
 * error-adjusted colour (rounded to whole sRGB steps) is found in the working
 * space. For opaque images the choice is cached per 2x2x2 cell of sRGB (2**21
 * cells, 4 MB): the diffused error makes most adjusted colours new, and the
 * error carried forward absorbs the at most one-step approximation. */
EXPORT int64_t dither(const uint8_t *img, int64_t h, int64_t w, int nch,
                      const double *pal_rgb, const double *pal, int64_t k, int64_t d,
                      const double *proj, const double *axis, const int64_t *order, int space,
                      const double *lin, int64_t transparent_index, double strength,
                      uint8_t *out) {
    double *cur = calloc(3 * (w + 2), sizeof(double));
    double *nxt = calloc(3 * (w + 2), sizeof(double));
    uint16_t *table = nch == 3 ? malloc(sizeof(uint16_t) << 21) : NULL;
    if (!cur || !nxt || (nch == 3 && !table)) {
        free(cur);
        free(nxt);
        free(table);
        return OUT_OF_MEMORY;
    }
    if (table) memset(table, 0xFF, sizeof(uint16_t) << 21);
    SortedSet s = palette_set(pal, k, d, proj, axis, order);
    double v[4], col[3];
    for (int64_t y = 0; y < h; y++) {
        int forward = (y % 2) == 0;
        int64_t step = forward ? 1 : -1;
        for (int64_t xi = 0; xi < w; xi++) {
            int64_t x = forward ? xi : w - 1 - xi;
            const uint8_t *p = img + (y * w + x) * nch;
            double a = nch == 4 ? p[3] : 255.0;
            if (nch == 4 && p[3] == 0 && transparent_index >= 0) {
                out[y * w + x] = (uint8_t)transparent_index;
                continue;
            }
            for (int t = 0; t < 3; t++) col[t] = clamp255(p[t] + cur[3 * (x + 1) + t]);
            int64_t ri = (int64_t)(col[0] + 0.5);
            int64_t gi = (int64_t)(col[1] + 0.5);
            int64_t bi = (int64_t)(col[2] + 0.5);
            int64_t idx;
            if (nch == 3) {
                int64_t key = ((ri >> 1) << 14) | ((gi >> 1) << 7) | (bi >> 1);
                idx = table[key];
                if (idx == 0xFFFF) {
                    work_coords((double)(ri | 1) - 0.5, (double)(gi | 1) - 0.5,
                                (double)(bi | 1) - 0.5, a, space, nch, lin, v);
                    idx = nearest(v, &s);
                    table[key] = (uint16_t)idx;
                }
            } else {
                work_coords((double)ri, (double)gi, (double)bi, a, space, nch, lin, v);
                idx = nearest(v, &s);
            }
            out[y * w + x] = (uint8_t)idx;
            for (int t = 0; t < 3; t++) {
                double err = (col[t] - pal_rgb[idx * 3 + t]) * strength;
                cur[3 * (x + 1 + step) + t] += err * (7.0 / 16.0);
                nxt[3 * (x + 1 - step) + t] += err * (3.0 / 16.0);
                nxt[3 * (x + 1) + t] += err * (5.0 / 16.0);
                nxt[3 * (x + 1 + step) + t] += err * (1.0 / 16.0);
            }
        }
        double *swap = cur;
        cur = nxt;
        nxt = swap;
        memset(nxt, 0, sizeof(double) * 3 * (w + 2));
    }
    free(cur);
    free(nxt);
    free(table);
    return 0;
}

/* OKLab x100 of n sRGB pixels of nch bytes each (the first three; alpha is
 * not looked at), as the remap computes them: out[3 * i ..] for pixel i. */
EXPORT void oklab_pixels(const uint8_t *pix, int64_t n, int nch, const double *lin,
                         double *out) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = pix + i * nch;
        double l, m, s;
        oklab_lms(lin[p[0]], lin[p[1]], lin[p[2]], &l, &m, &s);
        oklab_from_lms_roots(cbrt_pos(l), cbrt_pos(m), cbrt_pos(s), out + 3 * i,
                             out + 3 * i + 1, out + 3 * i + 2);
    }
}

/* Sum over i of the distance from point i (3 coordinates) to table entry
 * idx[i]: the quality figure's total without an (n, 3) array of differences. */
EXPORT double distance_sum(const double *a, int64_t n, const uint8_t *idx,
                           const double *table) {
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double *p = a + 3 * i, *q = table + 3 * (int64_t)idx[i];
        double d0 = p[0] - q[0], d1 = p[1] - q[1], d2 = p[2] - q[2];
        total += sqrt(d0 * d0 + d1 * d1 + d2 * d2);
    }
    return total;
}

/* Adds the number of occurrences of each byte value to counts[256]
 * (np.bincount would first widen every byte to 8). */
EXPORT void count_bytes(const uint8_t *data, int64_t n, int64_t *counts) {
    int64_t local[4][256] = {{0}}; /* four tables break store-to-load chains */
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        local[0][data[i]]++;
        local[1][data[i + 1]]++;
        local[2][data[i + 2]]++;
        local[3][data[i + 3]]++;
    }
    for (; i < n; i++) local[0][data[i]]++;
    for (int v = 0; v < 256; v++) counts[v] += local[0][v] + local[1][v] + local[2][v] + local[3][v];
}

/* ------------------------------------------------------ weighted histogram */

/* Per-pixel weights summed into an existing histogram's groups: each pixel
 * (skipping fully transparent ones) finds its group by key & mask in an
 * open-addressing table of the groups' keys, then adds its weight to
 * totals[g] and weight * channel to sums[g * nch + t]. Adds to totals and
 * sums, so row ranges can be summed separately and merged. Returns 0, -1 if
 * a pixel's key is not among the groups, -2 if the table cannot be made, -3
 * if a weight is negative or not finite (checked here, in the one pass). */
EXPORT int64_t weighted_histogram(const uint8_t *pix, int64_t n, int nch, uint32_t mask,
                                  const uint32_t *keys, int64_t n_groups, const double *w,
                                  double *totals, double *sums) {
    int bits = 4;
    while (((int64_t)1 << bits) < 2 * n_groups) bits++;
    uint64_t cap = (uint64_t)1 << bits, cap_mask = cap - 1;
    int shift = 32 - bits;
    uint32_t *slot_key = malloc(cap * sizeof(uint32_t));
    int64_t *slot_group = malloc(cap * sizeof(int64_t));
    if (!slot_key || !slot_group) {
        free(slot_key);
        free(slot_group);
        return -2;
    }
    for (uint64_t h = 0; h < cap; h++) slot_group[h] = -1;
    for (int64_t g = 0; g < n_groups; g++) {
        uint64_t h = hash_key(keys[g], shift);
        while (slot_group[h] >= 0 && slot_key[h] != keys[g]) h = (h + 1) & cap_mask;
        slot_key[h] = keys[g];
        slot_group[h] = g;
    }
    int64_t status = 0;
    if (nch == 3 && mask == 0xFCFCFCFCu) {
        /* 6-bit RGB bins: a direct table of the 2**18 bins, no hashing */
        int64_t *bin_group = malloc(((size_t)1 << 18) * sizeof(int64_t));
        if (!bin_group) {
            status = -2;
        } else {
            for (int64_t b = 0; b < (1 << 18); b++) bin_group[b] = -1;
            for (int64_t g = 0; g < n_groups; g++) {
                uint32_t k = keys[g];
                bin_group[((k >> 26) << 12) | (((k >> 18) & 63) << 6) | ((k >> 10) & 63)] = g;
            }
            for (int64_t i = 0; i < n; i++) {
                const uint8_t *p = pix + 3 * i;
                int64_t g = bin_group[((int64_t)(p[0] >> 2) << 12) |
                                      ((int64_t)(p[1] >> 2) << 6) | (p[2] >> 2)];
                if (g < 0) {
                    status = -1;
                    break;
                }
                double wi = w[i];
                if (!(wi >= 0.0 && wi <= DBL_MAX)) {
                    status = -3;
                    break;
                }
                totals[g] += wi;
                double *s = sums + 3 * g;
                s[0] += wi * p[0];
                s[1] += wi * p[1];
                s[2] += wi * p[2];
            }
            free(bin_group);
        }
        free(slot_key);
        free(slot_group);
        return status;
    }
    uint32_t last_key = 0;
    int64_t last_group = -1;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = pix + i * nch;
        if (nch == 4 && p[3] == 0) continue;
        uint32_t key = pack(p, nch) & mask;
        int64_t g;
        if (key == last_key && last_group >= 0) {
            g = last_group; /* neighbouring pixels often share a colour */
        } else {
            uint64_t h = hash_key(key, shift);
            while (slot_group[h] >= 0 && slot_key[h] != key) h = (h + 1) & cap_mask;
            g = slot_group[h];
            if (g < 0) {
                status = -1;
                break;
            }
            last_key = key;
            last_group = g;
        }
        double wi = w[i];
        if (!(wi >= 0.0 && wi <= DBL_MAX)) {
            status = -3;
            break;
        }
        totals[g] += wi;
        double *s = sums + g * nch;
        for (int t = 0; t < nch; t++) s[t] += wi * p[t];
    }
    free(slot_key);
    free(slot_group);
    return status;
}
