/* The vector Philox4x64-10 kernel, included once per instruction set by philox.c with these
 * macros defined: V (the vector type), LANES (64-bit lanes in V), ISA (a name suffix), TARGET
 * (the function attribute), SET1, ADD, AND, SRLI, SLLI, MUL32 (the low 32 bits of every lane
 * multiplied to 64, vpmuludq), XOR3(a, b, c), LOW_HALF_UNDER(high, low, mask) ((high with its
 * low 32 bits clear) | (low & mask)), LANE_INDEX (0, 1, ..., LANES - 1) and STORE4 (lane-major
 * words to block-major memory); it undefines them at its end.
 *
 * Why by hand: no vector instruction gives the high half of a 64 x 64-bit product, and gcc does
 * not find the four-products form by itself (measured: its AVX2 code runs slower than scalar).
 * Each lane holds one counter block; GROUPS vectors of blocks are in flight so that the products'
 * latency overlaps. No file but philox.c includes this one. */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define NAMED(name) CAT(name, ISA)

enum { NAMED(BLOCKS_PER_ITER_) = GROUPS * LANES };

/* (hi, lo) = a * m for a constant m given as its halves (ml, mh), from four 32 x 32 products:
 * a m = (ah mh) 2^64 + (ah ml + al mh) 2^32 + al ml, with the middle terms' carries gathered in
 * `mid` (at most 3 (2^32 - 1), so nothing overflows). */
TARGET static inline __attribute__((always_inline)) void NAMED(mulhilo_)(V a, V ml, V mh, V *hi,
                                                                        V *lo)
{
    const V mask = SET1(0xffffffffULL);
    V ah = SRLI(a, 32);
    V ll = MUL32(a, ml), lh = MUL32(a, mh), hl = MUL32(ah, ml), hh = MUL32(ah, mh);
    V mid = ADD(ADD(SRLI(ll, 32), AND(lh, mask)), AND(hl, mask));
    *hi = ADD(ADD(hh, SRLI(lh, 32)), ADD(SRLI(hl, 32), SRLI(mid, 32)));
    *lo = LOW_HALF_UNDER(SLLI(mid, 32), ll, mask);
}

/* iters x BLOCKS_PER_ITER blocks from counter ctr[0] on, Random123's rounds and key schedule
 * (philox.h: round with the key, then bump it, ten rounds). */
TARGET static void NAMED(philox_iters_)(const uint64_t key[2], const uint64_t ctr[4], size_t iters,
                                        uint64_t *out)
{
    const V m0l = SET1(PHILOX_M4x64_0 & 0xffffffffULL), m0h = SET1(PHILOX_M4x64_0 >> 32);
    const V m1l = SET1(PHILOX_M4x64_1 & 0xffffffffULL), m1h = SET1(PHILOX_M4x64_1 >> 32);
    for (size_t it = 0; it < iters; it++) {
        V x0[GROUPS], x1[GROUPS], x2[GROUPS], x3[GROUPS];
        uint64_t first = ctr[0] + (uint64_t)it * NAMED(BLOCKS_PER_ITER_);
        for (int g = 0; g < GROUPS; g++) {
            x0[g] = ADD(SET1(first + (uint64_t)g * LANES), LANE_INDEX);
            x1[g] = SET1(ctr[1]);
            x2[g] = SET1(ctr[2]);
            x3[g] = SET1(ctr[3]);
        }
        uint64_t k0 = key[0], k1 = key[1];
        for (int round = 0; round < 10; round++) {
            const V key0 = SET1(k0), key1 = SET1(k1);
            for (int g = 0; g < GROUPS; g++) {
                V hi0, lo0, hi1, lo1;
                NAMED(mulhilo_)(x0[g], m0l, m0h, &hi0, &lo0);
                NAMED(mulhilo_)(x2[g], m1l, m1h, &hi1, &lo1);
                x0[g] = XOR3(hi1, x1[g], key0);
                x1[g] = lo1;
                x2[g] = XOR3(hi0, x3[g], key1);
                x3[g] = lo0;
            }
            k0 += PHILOX_W64_0;
            k1 += PHILOX_W64_1;
        }
        uint64_t *o = out + 4 * ((size_t)it * NAMED(BLOCKS_PER_ITER_));
        for (int g = 0; g < GROUPS; g++)
            STORE4(o + 4 * LANES * g, x0[g], x1[g], x2[g], x3[g]);
    }
}

#undef NAMED
#undef CAT
#undef CAT_
/* The includer's parameters, so that the next instruction set defines its own. */
#undef V
#undef LANES
#undef GROUPS
#undef ISA
#undef TARGET
#undef SET1
#undef ADD
#undef AND
#undef SRLI
#undef SLLI
#undef MUL32
#undef XOR3
#undef LOW_HALF_UNDER
#undef LANE_INDEX
#undef STORE4
