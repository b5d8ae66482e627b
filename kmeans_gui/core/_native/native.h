/* Shared by the C kernels: exported-symbol marker and fixed-width types. */
#ifndef KMEANS_NATIVE_H
#define KMEANS_NATIVE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

/* OKLab (Bjorn Ottosson's matrices): linear sRGB to the LMS cone responses,
 * and their cube roots to L, a, b times 100 (the working units). One copy for
 * every kernel, so the remap and the dithering cannot disagree. */
static inline void oklab_lms(double lr, double lg, double lb, double *l, double *m,
                             double *s) {
    *l = 0.4122214708 * lr + 0.5363325363 * lg + 0.0514459929 * lb;
    *m = 0.2119034982 * lr + 0.6806995451 * lg + 0.1073969566 * lb;
    *s = 0.0883024619 * lr + 0.2817188376 * lg + 0.6299787005 * lb;
}

/* Cube root of x >= 0 (the LMS values of sRGB colours): a bit-level first
 * guess refined by two Halley steps, to about 1e-13 relative, several times
 * faster than libm's cbrt (which took about half of an OKLab remap's time
 * per colour). Deterministic: plain IEEE arithmetic. */
static inline double cbrt_pos(double x) {
    if (!(x > 0.0)) return 0.0;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits = bits / 3 + 0x2A9F7893782DA1CEull;
    double y;
    memcpy(&y, &bits, sizeof y);
    double y3 = y * y * y;
    y = y * (y3 + 2.0 * x) / (2.0 * y3 + x);
    y3 = y * y * y;
    y = y * (y3 + 2.0 * x) / (2.0 * y3 + x);
    return y;
}

/* The working space's root: OKLab's cube root, taken of each LMS value plus a
 * small offset (JPEG XL's XYB adds the same one), less the offset's own root so
 * black stays 0. OKLab's plain cube root rises so steeply near black that
 * shades a screen barely shows lie farther apart than clearly visible steps in
 * the mid-tones, and K-Means spent palette entries on them; the offset levels
 * the dark end off, and above it the slope is OKLab's. WORK_ROOT_OFFSET_ROOT is
 * cbrt_pos(WORK_ROOT_OFFSET), so black maps to exactly 0. The quality figure
 * (mean OKLab Delta E) keeps plain OKLab; colorspace.py mirrors this. */
#define WORK_ROOT_OFFSET 0.0037930732552754493
#define WORK_ROOT_OFFSET_ROOT 0.1559542005492488

static inline double work_root(double x) {
    return cbrt_pos((x > 0.0 ? x : 0.0) + WORK_ROOT_OFFSET) - WORK_ROOT_OFFSET_ROOT;
}

static inline void oklab_from_lms_roots(double l_, double m_, double s_, double *x0,
                                        double *x1, double *x2) {
    *x0 = 100.0 * (0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_);
    *x1 = 100.0 * (1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_);
    *x2 = 100.0 * (0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_);
}

/* Working coordinates as every kernel stores them: with four channels the
 * colour premultiplied by alpha (0..1), and alpha itself at ``ascale``, the
 * scale of the colour axes (255 for sRGB, 100 for OKLab x100). */
static inline void store_coords(double x0, double x1, double x2, double a, double ascale,
                                int nch, double *out) {
    if (nch == 4) {
        double alpha = a / 255.0;
        out[0] = x0 * alpha;
        out[1] = x1 * alpha;
        out[2] = x2 * alpha;
        out[3] = alpha * ascale;
    } else {
        out[0] = x0;
        out[1] = x1;
        out[2] = x2;
    }
}

#endif
