/* Uniform doubles from a PCG64 generator (O'Neill's PCG, 128-bit state,
 * XSL-RR output), the generator numpy's default_rng uses, so a seeded run
 * draws the same numbers without importing numpy.random.
 *
 * The 128-bit arithmetic is done on 64-bit halves, so any C11 compiler
 * builds it (no __int128). */

#include "native.h"

/* The PCG 128-bit LCG multiplier. */
#define MULT_HI 2549297995355413924ULL
#define MULT_LO 4865540595714422341ULL

/* The low 128 bits of (ahi:alo) * (bhi:blo). */
static void mul128(uint64_t ahi, uint64_t alo, uint64_t bhi, uint64_t blo, uint64_t *hi,
                   uint64_t *lo) {
    uint64_t a0 = alo & 0xFFFFFFFFULL, a1 = alo >> 32;
    uint64_t b0 = blo & 0xFFFFFFFFULL, b1 = blo >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t middle = (p00 >> 32) + (p01 & 0xFFFFFFFFULL) + (p10 & 0xFFFFFFFFULL);
    *lo = (middle << 32) | (p00 & 0xFFFFFFFFULL);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32) + ahi * blo + alo * bhi;
}

/* state = state * MULT + inc, modulo 2**128. */
static void step(uint64_t *state) {
    uint64_t hi, lo;
    mul128(state[0], state[1], MULT_HI, MULT_LO, &hi, &lo);
    uint64_t sum = lo + state[3];
    state[0] = hi + state[2] + (sum < lo);
    state[1] = sum;
}

static uint64_t output(const uint64_t *state) {
    uint64_t x = state[0] ^ state[1];
    unsigned rot = (unsigned)(state[0] >> 58);
    return (x >> rot) | (x << ((64 - rot) & 63));
}

/* ``state`` is (state high, state low, increment high, increment low).
 * Seeding as pcg64_set_seed: the increment is (seq << 1) | 1, then
 * state = 0, step, state += initstate, step. */
EXPORT void pcg64_seed(uint64_t *state, uint64_t init_hi, uint64_t init_lo, uint64_t seq_hi,
                       uint64_t seq_lo) {
    state[0] = 0;
    state[1] = 0;
    state[2] = (seq_hi << 1) | (seq_lo >> 63);
    state[3] = (seq_lo << 1) | 1;
    step(state);
    uint64_t lo = state[1] + init_lo;
    state[0] += init_hi + (lo < init_lo);
    state[1] = lo;
    step(state);
}

/* ``n`` doubles in [0, 1), as Generator.random: 53 high bits of each draw. */
EXPORT void pcg64_uniforms(uint64_t *state, double *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        step(state);
        out[i] = (double)(output(state) >> 11) * (1.0 / 9007199254740992.0);
    }
}
