/* Selective, error-bounded error diffusion ("auto") and ordered dithering.
 *
 * Both work in the remap's working space (sRGB 0..255, or OKLab x100;
 * premultiplied by alpha with a fourth coordinate when the image has alpha),
 * find the exact nearest entry of every pixel as they go (nearest_from: kept
 * with the pixel's coordinates in the colour cache, so a colour seen before
 * costs nothing) and only ever replace it by an entry that is not much farther
 * from the pixel's own colour. Arrays are C-contiguous and checked by the
 * wrappers in dithering.py beside this file. A failed allocation returns -2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"

#define SPACE_RGB 0
#define SPACE_OKLAB 1
#define OUT_OF_MEMORY (-2)
#define MAXD 4
/* Pixels ahead of the coordinate cache lookup whose slot is fetched. */
#define PREFETCH_AHEAD 8
/* Bodies specialised for 3 and 4 coordinates: the compiler unrolls them. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Tuning values, passed from Python in this order (see dithering.py). */
enum {
    P_CLOSE,     /* nearest entry this close: keep it, carry no error */
    P_BOUND,     /* chosen entry at most this much farther than the nearest... */
    P_BOUND_REL, /* ...or this multiple of the nearest entry's spacing, if larger */
    P_CLAMP,     /* longest error vector carried to the neighbours */
    P_ACTIVITY,  /* local second difference (squared) at which the weight halves */
    P_CACHE,     /* nonzero: cache pixel coordinates by colour (0 only for tests) */
    P_ACT_SPACING, /* nonzero: P_ACTIVITY grows with the square of the nearest entry's
                    * spacing beyond this (a coarse palette hides more texture) */
    P_COUNT
};

/* ------------------------------------------------------------ colour math */

static inline double srgb_lin(const double *lin, int v) { return lin[v]; }

/* One sRGB(A) byte pixel to working coordinates (as the remap computes them). */
ALWAYS_INLINE void pixel_coords(const uint8_t *p, int nch, int space, const double *lin,
                                double *out) {
    double x0, x1, x2, ascale;
    if (space == SPACE_RGB) {
        x0 = p[0];
        x1 = p[1];
        x2 = p[2];
        ascale = 255.0;
    } else {
        double lr = srgb_lin(lin, p[0]), lg = srgb_lin(lin, p[1]), lb = srgb_lin(lin, p[2]);
        double l, m, s;
        oklab_lms(lr, lg, lb, &l, &m, &s);
        oklab_from_lms_roots(work_root(l), work_root(m), work_root(s), &x0, &x1, &x2);
        ascale = 100.0;
    }
    store_coords(x0, x1, x2, nch == 4 ? p[3] : 255, ascale, nch, out);
}

/* A direct-mapped cache of pixel_coords and the nearest entry by colour:
 * photos repeat few distinct colours over many pixels, and a hit gives the
 * very same doubles and entry, so the result does not depend on what the
 * cache holds. A slot is a tag word (the packed colour + 1, 0: empty, in the
 * low TAG_BITS; the nearest entry above them) followed by its d coordinates,
 * so a lookup touches one place in memory. */
typedef struct {
    uint64_t *slots; /* (slots, 1 + d): tag and entry, then the coordinates' bits */
    int shift;
} CoordCache;

#define TAG_BITS 40
#define TAG_MASK ((((uint64_t)1) << TAG_BITS) - 1)

static int cache_init(CoordCache *c, int64_t pixels, int d) {
    c->slots = NULL;
    c->shift = 0;
    if (pixels <= 0) return 1; /* no cache */
    int bits = 10;
    while (bits < 18 && ((int64_t)1 << (bits + 3)) < pixels) bits++;
    c->shift = 32 - bits;
    c->slots = calloc((size_t)(1 + d) << bits, sizeof(uint64_t));
    return c->slots != NULL;
}

static void cache_free(CoordCache *c) { free(c->slots); }

ALWAYS_INLINE uint32_t cache_key(const uint8_t *p, int nch) {
    uint32_t key = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    if (nch == 4) key |= (uint32_t)p[3] << 24;
    return key;
}

ALWAYS_INLINE uint64_t *cache_slot(const CoordCache *c, uint32_t key, int nch) {
    uint32_t slot = (uint32_t)(key * 2654435761u) >> c->shift;
    return c->slots + (size_t)slot * (1 + nch);
}

/* Asks for the slot of pixel p ahead of its lookup (the lookups of a row are
 * independent, the slots scattered). */
ALWAYS_INLINE void cache_prefetch(const CoordCache *c, const uint8_t *p, int nch) {
    if (c->slots) __builtin_prefetch(cache_slot(c, cache_key(p, nch), nch));
}

ALWAYS_INLINE double sq_dist(const double *a, const double *b, int d) {
    double s = 0.0;
    for (int t = 0; t < d; t++) {
        double diff = a[t] - b[t];
        s += diff * diff;
    }
    return s;
}

/* ---------------------------------------------------------------- palette */

/* Four floats operated on together (GCC/Clang vector extension; plain SSE
 * on x86-64), for a quick first look at four candidates at once. */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
/* Bit l set where lane l of m is set. */
static inline int lane_mask(v4i m) {
#if defined(__SSE__)
    return __builtin_ia32_movmskps((v4f)m);
#else
    return (m[0] & 1) | (m[1] & 2) | (m[2] & 4) | (m[3] & 8);
#endif
}
/* Lanes of a group past the end of a row: never near anything. */
#define FAR_AWAY 1e30f

/* The palette in working coordinates with, for every entry, all entries
 * sorted by their distance from it (itself first). */
typedef struct {
    int64_t k;
    int d;
    const double *coords;   /* (k, d) */
    const uint8_t *near;    /* (k, k): near[g*k + i] is g's i-th nearest entry */
    const double *near_d;   /* (k, k): its distance from g */
    const double *near_c;   /* (k, k, d) or NULL: those entries' coordinates, in that order */
    const v4f *near_f;      /* NULL, or the same as floats in groups of four (see group_rows) */
} Palette;

/* The entry nearest to q among those allowed for the pixel p: within
 * sqrt(dn2) + allowance of p, where n (always allowed) is p's nearest entry at
 * squared distance dn2. The answer c is no farther from q than n is, and is
 * allowed, so |n - c| <= |n - q| + |q - c| and |n - c| <= |n - p| + |p - c|:
 * scanning n's neighbours in order of distance can stop at the smaller of the
 * two. Ties keep the entry met first. */
ALWAYS_INLINE int64_t nearest_allowed(const Palette *P, int64_t n, const double *p,
                                      double dn2, double allowance, const double *q) {
    const int d = P->d;
    const int64_t k = P->k;
    const double *row_d = P->near_d + n * k;
    const uint8_t *row = P->near + n * k;
    double best = sq_dist(q, P->coords + n * d, d);
    if (k < 2 || 4.0 * best <= row_d[1] * row_d[1]) return n; /* nearer n than any other */
    double rn = sqrt(best), rbest = rn;
    double reach = 2.0 * sqrt(dn2) + allowance;
    double lim = sqrt(dn2) + allowance;
    lim *= lim;
    int64_t best_i = 0;
    /* stop: the smaller of the two limits (one comparison a candidate) */
    double stop = rn + rbest < reach ? rn + rbest : reach;
    if (P->near_f) {
        /* Four candidates at a time in floats, then the few that may beat
         * the best so far in doubles, in row order: a candidate the floats
         * rule out is no nearer q than the best (margin: their rounding), so
         * the scan takes the same steps on what it computes exactly. */
        const double *row_c = P->near_c + n * k * d;
        const v4f *group = P->near_f + n * ((k + 2) / 4) * d;
        v4f qf[MAXD];
        for (int t = 0; t < d; t++) qf[t] = (v4f){(float)q[t], (float)q[t], (float)q[t], (float)q[t]};
        float thr = (float)(best + 1e-3 * (rbest + 1.0) + 1e-5 * best);
        for (int64_t i0 = 1; i0 < k; i0 += 4, group += d) {
            if (row_d[i0] > stop) break;
            v4f diff = qf[0] - group[0];
            v4f s = diff * diff;
            for (int t = 1; t < d; t++) {
                diff = qf[t] - group[t];
                s += diff * diff;
            }
            int maybe = lane_mask(s < (v4f){thr, thr, thr, thr});
            for (; maybe; maybe &= maybe - 1) {
                int64_t i = i0 + __builtin_ctz(maybe);
                if (i >= k || row_d[i] > stop) return row[best_i];
                const double *cj = row_c + i * d;
                double dd = sq_dist(q, cj, d);
                if (dd < best && sq_dist(p, cj, d) <= lim) {
                    best = dd;
                    best_i = i;
                    rbest = sqrt(dd);
                    stop = rn + rbest < reach ? rn + rbest : reach;
                    thr = (float)(best + 1e-3 * (rbest + 1.0) + 1e-5 * best);
                }
            }
        }
        return row[best_i];
    }
    const double *row_c = P->near_c ? P->near_c + n * k * d : NULL;
    for (int64_t i = 1; i < k; i++) {
        if (row_d[i] > stop) break;
        const double *cj = row_c ? row_c + i * d : P->coords + row[i] * d;
        double dd = sq_dist(q, cj, d);
        if (dd < best && sq_dist(p, cj, d) <= lim) {
            best = dd;
            best_i = i;
            rbest = sqrt(dd);
            stop = rn + rbest < reach ? rn + rbest : reach;
        }
    }
    return row[best_i];
}

/* Slack on the stopping distance of nearest_from: the triangle inequality
 * holds for the computed distances only up to their rounding, and an entry
 * exactly as near as the best must still be seen (ties go to the lowest index). */
#define TIE_SLACK 1e-7

/* The exact nearest entry of p, searched from any entry g (a hint: the
 * nearest of a neighbouring pixel, so usually the answer or next to it), and
 * its squared distance in *dn2. An entry c nearer p than g satisfies
 * |g - c| <= |g - p| + |p - c|, so scanning g's neighbours in order of
 * distance can stop once that exceeds |g - p| plus the best distance so far.
 * Among entries at the same (computed) distance the lowest index wins, so the
 * answer does not depend on the hint. */
ALWAYS_INLINE int64_t nearest_from(const Palette *P, int64_t g, const double *p, double *dn2) {
    const int d = P->d;
    const int64_t k = P->k;
    const double *row_d = P->near_d + g * k;
    const uint8_t *row = P->near + g * k;
    double best = sq_dist(p, P->coords + g * d, d);
    double rg = sqrt(best);
    *dn2 = best;
    if (k < 2 || 2.0 * rg + TIE_SLACK < row_d[1]) return g; /* nearer g than any other */
    int64_t best_c = g;
    double rbest = rg;
    double stop = rg + rbest + TIE_SLACK;
    const double *row_c = P->near_c + g * k * d;
    const v4f *group = P->near_f + g * ((k + 2) / 4) * d;
    v4f pf[MAXD];
    for (int t = 0; t < d; t++) pf[t] = (v4f){(float)p[t], (float)p[t], (float)p[t], (float)p[t]};
    /* floats rule a candidate out only when it is surely farther than the best */
    float thr = (float)(best + 1e-3 * (rbest + 1.0) + 1e-5 * best);
    for (int64_t i0 = 1; i0 < k; i0 += 4, group += d) {
        if (row_d[i0] > stop) break;
        v4f diff = pf[0] - group[0];
        v4f s = diff * diff;
        for (int t = 1; t < d; t++) {
            diff = pf[t] - group[t];
            s += diff * diff;
        }
        int maybe = lane_mask(s < (v4f){thr, thr, thr, thr});
        for (; maybe; maybe &= maybe - 1) {
            int64_t i = i0 + __builtin_ctz(maybe);
            if (i >= k || row_d[i] > stop) break;
            double dd = sq_dist(p, row_c + i * d, d);
            int64_t c = row[i];
            if (dd < best || (dd == best && c < best_c)) {
                best = dd;
                best_c = c;
                rbest = sqrt(dd);
                stop = rg + rbest + TIE_SLACK;
                thr = (float)(best + 1e-3 * (rbest + 1.0) + 1e-5 * best);
            }
        }
    }
    *dn2 = best;
    return best_c;
}

/* For each row g of near (k entries, g itself first): the coordinates of
 * the entries at positions 1 + 4j .. 4 + 4j as d groups of four floats,
 * j < (k + 2) / 4, lanes past the row's end FAR_AWAY. */
static void group_rows(const double *pal, const uint8_t *near, int64_t k, int d, v4f *out) {
    int64_t groups = (k + 2) / 4;
    for (int64_t g = 0; g < k; g++) {
        const uint8_t *row = near + g * k;
        v4f *o = out + g * groups * d;
        for (int64_t j = 0; j < groups; j++)
            for (int t = 0; t < d; t++)
                for (int l = 0; l < 4; l++) {
                    int64_t i = 1 + 4 * j + l;
                    o[j * d + t][l] = i < k ? (float)pal[row[i] * d + t] : FAR_AWAY;
                }
    }
}

/* The search tables of a palette (coordinates pal (k, d), neighbour order
 * near): near_c and near_f as the Palette struct holds them. Returns 0 (and
 * frees what it took) when memory runs out; the caller frees both. */
static int search_tables(const double *pal, const uint8_t *near, int64_t k, int d,
                         double **near_c, v4f **near_f) {
    *near_c = malloc(sizeof(double) * k * k * d);
    *near_f = malloc(sizeof(v4f) * (k * ((k + 2) / 4) * d + 1));
    if (!*near_c || !*near_f) {
        free(*near_c);
        free(*near_f);
        return 0;
    }
    for (int64_t g = 0; g < k * k; g++)
        for (int t = 0; t < d; t++) (*near_c)[g * d + t] = pal[near[g] * d + t];
    group_rows(pal, near, k, d, *near_f);
    return 1;
}

/* A pixel's working coordinates (into out) and its nearest entry (returned,
 * its squared distance in *dn2), from the cache when the colour is there.
 * A fully transparent pixel's entry is the palette's transparent one if it
 * has one (as the plain remap does). *hint: the last pixel's nearest entry,
 * where a search starts. */
ALWAYS_INLINE int64_t pixel_nearest(CoordCache *c, const Palette *P, const uint8_t *p,
                                    int nch, int space, const double *lin,
                                    int64_t transparent, int64_t *hint, double *out) {
    uint64_t *slot = NULL;
    uint32_t key = 0;
    if (c->slots) {
        key = cache_key(p, nch);
        slot = cache_slot(c, key, nch);
        if ((slot[0] & TAG_MASK) == (uint64_t)key + 1) {
            memcpy(out, slot + 1, sizeof(double) * nch);
            *hint = (int64_t)(slot[0] >> TAG_BITS);
            return *hint;
        }
    }
    pixel_coords(p, nch, space, lin, out);
    int64_t n;
    if (nch == 4 && p[3] == 0 && transparent >= 0) {
        n = transparent;
    } else {
        double dn2;
        n = nearest_from(P, *hint, out, &dn2);
        *hint = n;
    }
    if (slot) {
        memcpy(slot + 1, out, sizeof(double) * nch);
        slot[0] = ((uint64_t)key + 1) | ((uint64_t)n << TAG_BITS);
    }
    return n;
}

/* For each entry g: the entries sorted by distance from g (stable, so g comes
 * first among equals... g is at distance 0 and put first explicitly), and the
 * distances. Insertion sort: k is at most 256. */
EXPORT int64_t dither_neighbours(const double *coords, int64_t k, int64_t d, uint8_t *near,
                                 double *near_d) {
    for (int64_t g = 0; g < k; g++) {
        uint8_t *row = near + g * k;
        double *rd = near_d + g * k;
        row[0] = (uint8_t)g;
        rd[0] = 0.0;
        int64_t n = 1;
        for (int64_t j = 0; j < k; j++) {
            if (j == g) continue;
            double v = sqrt(sq_dist(coords + g * d, coords + j * d, (int)d));
            int64_t pos = n;
            while (pos > 1 && rd[pos - 1] > v) {
                rd[pos] = rd[pos - 1];
                row[pos] = row[pos - 1];
                pos--;
            }
            rd[pos] = v;
            row[pos] = (uint8_t)j;
            n++;
        }
    }
    return 0;
}

/* ----------------------------------------------------- error diffusion */

/* Weight of the diffused error at a pixel, from the squared second
 * differences of its colour along the row and the column: 1 in flat areas and
 * smooth gradients, falling towards 0 at edges and in texture or noise. */
ALWAYS_INLINE double activity_weight(const double *up, const double *mid, const double *down,
                                     int64_t x, int64_t w, int d, double half) {
    int64_t xl = x > 0 ? x - 1 : x, xr = x < w - 1 ? x + 1 : x;
    const double *c = mid + x * d;
    double h = 0.0, v = 0.0;
    for (int t = 0; t < d; t++) {
        double a = mid[xl * d + t] + mid[xr * d + t] - 2.0 * c[t];
        double b = up[x * d + t] + down[x * d + t] - 2.0 * c[t];
        h += a * a;
        v += b * b;
    }
    double act = h > v ? h : v;
    return half / (half + act);
}

/* Serpentine error diffusion over the rows [y0, y1) of an image, in bands of
 * band_rows rows. Every band starts warmup rows above its first row with no
 * error and discards what it decides there, so the result depends only on
 * band_rows and warmup, never on how bands are split over threads; the rows
 * before the band let the error pattern settle, so bands show no seams.
 *
 * Each pixel's exact nearest entry n (pixel_nearest) is found as its row's
 * coordinates are. The pixel keeps n (and the error it received is dropped)
 * when n is within P_CLOSE of the pixel; a transparent pixel (which takes
 * the palette's transparent entry, if any, as n) neither takes nor spreads
 * error. Otherwise the pixel's
 * colour plus its weighted share of the error it received picks the nearest
 * entry among those within the bound of the pixel's own colour; the share
 * is the activity weight with P_ACTIVITY scaled by (spacing of n /
 * P_ACT_SPACING) squared where that exceeds 1. The error
 * left (clamped to P_CLAMP) goes to the neighbours in Floyd-Steinberg's
 * 7/3/5/1. */
ALWAYS_INLINE int64_t auto_body(const uint8_t *img, int64_t h, int64_t w, int nch,
                                int64_t band_first, int64_t band_stop, int64_t band_rows,
                                int64_t warmup, const double *pal, int64_t k, const int d,
                                const uint8_t *near, const double *near_d, int space,
                                const double *lin, int64_t transparent, double strength,
                                const double *params, uint8_t *out) {
    const int dd = d;
    double *rows = malloc(sizeof(double) * 3 * w * d);
    uint8_t *nears = malloc(3 * (size_t)(w > 0 ? w : 1));
    double *cur = calloc((w + 2) * d, sizeof(double));
    double *nxt = calloc((w + 2) * d, sizeof(double));
    double *allow = malloc(sizeof(double) * 2 * k);
    CoordCache cache;
    int cache_ok = cache_init(&cache, params[P_CACHE] != 0.0 ? (band_stop - band_first) * (band_rows + warmup) * w : 0, d);
    if (!rows || !nears || !cur || !nxt || !allow || !cache_ok) {
        cache_free(&cache);
        free(rows);
        free(nears);
        free(cur);
        free(nxt);
        free(allow);
        return OUT_OF_MEMORY;
    }
    /* the neighbours' coordinates in scanning order: no gather in the search */
    double *near_c;
    v4f *near_f;
    if (!search_tables(pal, near, k, dd, &near_c, &near_f)) {
        cache_free(&cache);
        free(rows);
        free(nears);
        free(cur);
        free(nxt);
        free(allow);
        return OUT_OF_MEMORY;
    }
    Palette P = {k, dd, pal, near, near_d, near_c, near_f};
    double close2 = params[P_CLOSE] * params[P_CLOSE];
    double *half_of = allow + k;
    for (int64_t j = 0; j < k; j++) {
        double spacing = k > 1 ? near_d[j * k + 1] : 0.0;
        double rel = params[P_BOUND_REL] * spacing;
        allow[j] = rel > params[P_BOUND] ? rel : params[P_BOUND];
        double grow = params[P_ACT_SPACING] > 0.0 ? spacing / params[P_ACT_SPACING] : 0.0;
        half_of[j] = params[P_ACTIVITY] * (grow > 1.0 ? grow * grow : 1.0);
    }
    double clamp = params[P_CLAMP];
    double q[MAXD], e[MAXD];
    for (int64_t band = band_first; band < band_stop; band++) {
        int64_t first = band * band_rows;
        int64_t last = first + band_rows < h ? first + band_rows : h;
        int64_t start = first - warmup > 0 ? first - warmup : 0;
        memset(cur, 0, sizeof(double) * (w + 2) * d);
        memset(nxt, 0, sizeof(double) * (w + 2) * d);
        /* rows ring: slot y % 3 holds row y's coordinates and nearest entries */
        int64_t have_hi = start > 0 ? start - 1 : 0;
        int64_t hint = 0;
        for (int64_t y = start; y < last; y++) {
            int64_t need_hi = y + 1 < h ? y + 1 : y;
            while (have_hi <= need_hi) {
                double *slot = rows + (have_hi % 3) * w * d;
                uint8_t *nslot = nears + (have_hi % 3) * w;
                const uint8_t *src = img + have_hi * w * nch;
                for (int64_t x = 0; x < w; x++) {
                    if (x + PREFETCH_AHEAD < w)
                        cache_prefetch(&cache, src + (x + PREFETCH_AHEAD) * nch, nch);
                    nslot[x] = (uint8_t)pixel_nearest(&cache, &P, src + x * nch, nch, space,
                                                      lin, transparent, &hint, slot + x * d);
                }
                have_hi++;
            }
            const uint8_t *nrow = nears + (y % 3) * w;
            const double *mid = rows + (y % 3) * w * d;
            const double *up = y > 0 ? rows + ((y - 1) % 3) * w * d : mid;
            const double *down = y + 1 < h ? rows + ((y + 1) % 3) * w * d : mid;
            int keep = y >= first;
            int forward = (y % 2) == 0;
            int64_t step = forward ? 1 : -1;
            for (int64_t xi = 0; xi < w; xi++) {
                int64_t x = forward ? xi : w - 1 - xi;
                int64_t i = y * w + x;
                int64_t n = nrow[x];
                const double *p = mid + x * d;
                double *in = cur + (x + 1) * d;
                if (nch == 4 && img[i * 4 + 3] == 0) {
                    if (keep) out[i] = (uint8_t)n;
                    continue;
                }
                double dn2 = sq_dist(p, pal + n * d, dd);
                if (dn2 <= close2) {
                    if (keep) out[i] = (uint8_t)n;
                    continue;
                }
                double wgt = strength * activity_weight(up, mid, down, x, w, dd, half_of[n]);
                for (int t = 0; t < dd; t++) q[t] = p[t] + wgt * in[t];
                int64_t c = nearest_allowed(&P, n, p, dn2, allow[n], q);
                if (keep) out[i] = (uint8_t)c;
                double len2 = 0.0;
                for (int t = 0; t < dd; t++) {
                    e[t] = q[t] - pal[c * d + t];
                    len2 += e[t] * e[t];
                }
                if (len2 > clamp * clamp) {
                    double s = clamp / sqrt(len2);
                    for (int t = 0; t < dd; t++) e[t] *= s;
                }
                double *ahead = cur + (x + 1 + step) * d;
                double *below_back = nxt + (x + 1 - step) * d;
                double *below = nxt + (x + 1) * d;
                double *below_ahead = nxt + (x + 1 + step) * d;
                for (int t = 0; t < dd; t++) {
                    ahead[t] += e[t] * (7.0 / 16.0);
                    below_back[t] += e[t] * (3.0 / 16.0);
                    below[t] += e[t] * (5.0 / 16.0);
                    below_ahead[t] += e[t] * (1.0 / 16.0);
                }
            }
            double *swap = cur;
            cur = nxt;
            nxt = swap;
            memset(nxt, 0, sizeof(double) * (w + 2) * d);
        }
    }
    cache_free(&cache);
    free(near_c);
    free(near_f);
    free(rows);
    free(nears);
    free(cur);
    free(nxt);
    free(allow);
    return 0;
}

EXPORT int64_t dither_auto(const uint8_t *img, int64_t h, int64_t w, int nch,
                           int64_t band_first, int64_t band_stop, int64_t band_rows,
                           int64_t warmup, const double *pal, int64_t k, int64_t d,
                           const uint8_t *near, const double *near_d, int space,
                           const double *lin, int64_t transparent, double strength,
                           const double *params, uint8_t *out) {
    if (d == 4)
        return auto_body(img, h, w, 4, band_first, band_stop, band_rows, warmup, pal, k, 4,
                         near, near_d, space, lin, transparent, strength, params, out);
    return auto_body(img, h, w, 3, band_first, band_stop, band_rows, warmup, pal, k, 3, near,
                     near_d, space, lin, transparent, strength, params, out);
}

/* ------------------------------------------------------- ordered dither */

/* 8x8 Bayer threshold map, values 0..63. */
static const uint8_t BAYER8[64] = {
    0,  32, 8,  40, 2,  34, 10, 42, 48, 16, 56, 24, 50, 18, 58, 26,
    12, 44, 4,  36, 14, 46, 6,  38, 60, 28, 52, 20, 62, 30, 54, 22,
    3,  35, 11, 43, 1,  33, 9,  41, 51, 19, 59, 27, 49, 17, 57, 25,
    15, 47, 7,  39, 13, 45, 5,  37, 63, 31, 55, 23, 61, 29, 53, 21,
};

/* Ordered dithering of rows [y0, y1): each pixel's colour is moved along the
 * line from its nearest entry n through the pixel by the threshold map's
 * offset (-1/2..1/2, times strength) times the spacing of n (the distance to
 * its nearest other entry), so a pixel a fraction t of the way to the next
 * entry takes that entry at about a fraction t of the map's positions.
 * It takes the entry nearest the moved colour among those within the bound
 * (as in dither_auto). Pixels within P_CLOSE of their nearest entry and
 * transparent ones keep it (n as in dither_auto). */
ALWAYS_INLINE int64_t ordered_body(const uint8_t *img, int64_t w, int nch, int64_t y0,
                                   int64_t y1, const double *pal, int64_t k, const int d,
                                   const uint8_t *near, const double *near_d, int space,
                                   const double *lin, int64_t transparent, double strength,
                                   const double *params, uint8_t *out) {
    const int dd = d;
    double *near_c;
    v4f *near_f;
    CoordCache cache;
    if (!cache_init(&cache, params[P_CACHE] != 0.0 ? (y1 - y0) * w : 0, d))
        return OUT_OF_MEMORY;
    if (!search_tables(pal, near, k, dd, &near_c, &near_f)) {
        cache_free(&cache);
        return OUT_OF_MEMORY;
    }
    Palette P = {k, dd, pal, near, near_d, near_c, near_f};
    double close2 = params[P_CLOSE] * params[P_CLOSE];
    double p[MAXD], q[MAXD];
    int64_t hint = 0;
    for (int64_t y = y0; y < y1; y++) {
        const uint8_t *src = img + y * w * nch;
        for (int64_t x = 0; x < w; x++) {
            int64_t i = y * w + x;
            if (x + PREFETCH_AHEAD < w)
                cache_prefetch(&cache, src + (x + PREFETCH_AHEAD) * nch, nch);
            int64_t n = pixel_nearest(&cache, &P, src + x * nch, nch, space, lin, transparent,
                                      &hint, p);
            out[i] = (uint8_t)n;
            if (k < 2 || (nch == 4 && img[i * 4 + 3] == 0)) continue;
            const double *pn = pal + n * d;
            double dn2 = sq_dist(p, pn, dd);
            if (dn2 <= close2) continue;
            double spacing = near_d[n * k + 1];
            double off = strength * ((BAYER8[(y & 7) * 8 + (x & 7)] + 0.5) / 64.0 - 0.5);
            /* move along (p - n), normalised, by off * spacing */
            double len = sqrt(dn2);
            for (int t = 0; t < dd; t++) q[t] = p[t] + off * spacing * (p[t] - pn[t]) / len;
            double bound = params[P_BOUND_REL] * spacing;
            if (bound < params[P_BOUND]) bound = params[P_BOUND];
            int64_t c = nearest_allowed(&P, n, p, dn2, bound, q);
            out[i] = (uint8_t)c;
        }
    }
    cache_free(&cache);
    free(near_c);
    free(near_f);
    return 0;
}

EXPORT int64_t dither_ordered(const uint8_t *img, int64_t h, int64_t w, int nch, int64_t y0,
                              int64_t y1, const double *pal, int64_t k, int64_t d,
                              const uint8_t *near, const double *near_d, int space,
                              const double *lin, int64_t transparent, double strength,
                              const double *params, uint8_t *out) {
    (void)h;
    if (d == 4)
        return ordered_body(img, w, 4, y0, y1, pal, k, 4, near, near_d, space, lin,
                            transparent, strength, params, out);
    return ordered_body(img, w, 3, y0, y1, pal, k, 3, near, near_d, space, lin, transparent,
                        strength, params, out);
}
