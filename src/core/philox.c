/* Philox4x64-10 blocks in bulk (philox.h). Every path computes Random123's function exactly
 * (integer arithmetic only), so the path never changes a stream's words. Measured on this
 * project's 2-core Zen 5 (bench/variates): about 3.3 ns a word one block at a time, 2.0 with
 * AVX2, 1.1 with AVX-512. */
#include "philox.h"

#include <string.h>

#include <Random123/philox.h>

#if TS_CPU_DISPATCH
#include <immintrin.h>

/* ---------------------------------------------------------------- AVX-512F: 4 x 8 blocks */
#define V __m512i
#define LANES 8
#define GROUPS 4
#define ISA avx512
#define TARGET TS_TARGET_AVX512
#define SET1(x) _mm512_set1_epi64((long long)(x))
#define ADD _mm512_add_epi64
#define AND _mm512_and_si512
#define SRLI _mm512_srli_epi64
#define SLLI _mm512_slli_epi64
#define MUL32 _mm512_mul_epu32
#define XOR3(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0x96)
#define LOW_HALF_UNDER(high, low, mask) _mm512_ternarylogic_epi64(high, low, mask, 0xF8)
#define LANE_INDEX _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0)
#define STORE4 store4_avx512

/* Lane j of x0..x3 is block j: interleave to blocks 0..7, four words each. */
TS_TARGET_AVX512 static inline void store4_avx512(uint64_t *o, __m512i x0, __m512i x1, __m512i x2,
                                                  __m512i x3)
{
    __m512i even01 = _mm512_unpacklo_epi64(x0, x1); /* words 0,1 of blocks 0, 2, 4, 6 */
    __m512i odd01 = _mm512_unpackhi_epi64(x0, x1);  /* words 0,1 of blocks 1, 3, 5, 7 */
    __m512i even23 = _mm512_unpacklo_epi64(x2, x3);
    __m512i odd23 = _mm512_unpackhi_epi64(x2, x3);
    const __m512i low4 = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    const __m512i high4 = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    __m512i b02 = _mm512_permutex2var_epi64(even01, low4, even23); /* blocks 0, 2 whole */
    __m512i b46 = _mm512_permutex2var_epi64(even01, high4, even23);
    __m512i b13 = _mm512_permutex2var_epi64(odd01, low4, odd23);
    __m512i b57 = _mm512_permutex2var_epi64(odd01, high4, odd23);
    _mm512_storeu_si512(o + 0, _mm512_shuffle_i64x2(b02, b13, 0x44));
    _mm512_storeu_si512(o + 8, _mm512_shuffle_i64x2(b02, b13, 0xEE));
    _mm512_storeu_si512(o + 16, _mm512_shuffle_i64x2(b46, b57, 0x44));
    _mm512_storeu_si512(o + 24, _mm512_shuffle_i64x2(b46, b57, 0xEE));
}

#include "philox_kernel.h" /* which undefines the macros above */

/* ---------------------------------------------------------------- AVX2: 4 x 4 blocks */
#define V __m256i
#define LANES 4
#define GROUPS 4
#define ISA avx2
#define TARGET TS_TARGET_AVX2
#define SET1(x) _mm256_set1_epi64x((long long)(x))
#define ADD _mm256_add_epi64
#define AND _mm256_and_si256
#define SRLI _mm256_srli_epi64
#define SLLI _mm256_slli_epi64
#define MUL32 _mm256_mul_epu32
#define XOR3(a, b, c) _mm256_xor_si256(_mm256_xor_si256(a, b), c)
#define LOW_HALF_UNDER(high, low, mask) _mm256_blend_epi32(low, high, 0xAA)
#define LANE_INDEX _mm256_set_epi64x(3, 2, 1, 0)
#define STORE4 store4_avx2

TS_TARGET_AVX2 static inline void store4_avx2(uint64_t *o, __m256i x0, __m256i x1, __m256i x2,
                                              __m256i x3)
{
    __m256i even01 = _mm256_unpacklo_epi64(x0, x1); /* words 0,1 of blocks 0, 2 */
    __m256i odd01 = _mm256_unpackhi_epi64(x0, x1);  /* words 0,1 of blocks 1, 3 */
    __m256i even23 = _mm256_unpacklo_epi64(x2, x3);
    __m256i odd23 = _mm256_unpackhi_epi64(x2, x3);
    _mm256_storeu_si256((__m256i *)(o + 0), _mm256_permute2x128_si256(even01, even23, 0x20));
    _mm256_storeu_si256((__m256i *)(o + 4), _mm256_permute2x128_si256(odd01, odd23, 0x20));
    _mm256_storeu_si256((__m256i *)(o + 8), _mm256_permute2x128_si256(even01, even23, 0x31));
    _mm256_storeu_si256((__m256i *)(o + 12), _mm256_permute2x128_si256(odd01, odd23, 0x31));
}

#include "philox_kernel.h" /* which undefines the macros above */
#endif /* TS_CPU_DISPATCH */

/* ---------------------------------------------------------------- one block at a time */

static void blocks_one_by_one(const uint64_t key[2], const uint64_t ctr[4], size_t n,
                              uint64_t *out)
{
    philox4x64_key_t k = {{key[0], key[1]}};
    philox4x64_ctr_t c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
    for (size_t i = 0; i < n; i++) {
        philox4x64_ctr_t block = philox4x64(c, k);
        memcpy(out + 4 * i, block.v, sizeof block.v);
        c.v[0]++;
    }
}

/* The whole iterations through `iters` (of `per_iter` <= MAX_PER_ITER blocks); a rest of at
 * least a quarter iteration through one more iteration into scratch (one vector iteration costs
 * about a third of per_iter blocks one by one), a shorter one one block at a time. */
typedef void iters_fn(const uint64_t key[2], const uint64_t ctr[4], size_t iters, uint64_t *out);
#define MAX_PER_ITER 32
#if TS_CPU_DISPATCH
_Static_assert(BLOCKS_PER_ITER_avx512 <= MAX_PER_ITER && BLOCKS_PER_ITER_avx2 <= MAX_PER_ITER,
               "the scratch of blocks_vector holds one iteration");
#endif

static void blocks_vector(iters_fn *iters, size_t per_iter, const uint64_t key[2],
                          const uint64_t ctr[4], size_t n, uint64_t *out)
{
    size_t whole = n / per_iter;
    if (whole) iters(key, ctr, whole, out);
    size_t done = whole * per_iter;
    if (done == n) return;
    const uint64_t rest[4] = {ctr[0] + (uint64_t)done, ctr[1], ctr[2], ctr[3]};
    if (4 * (n - done) >= per_iter) {
        uint64_t scratch[4 * MAX_PER_ITER];
        iters(key, rest, 1, scratch);
        memcpy(out + 4 * done, scratch, 4 * (n - done) * sizeof *scratch);
    } else {
        blocks_one_by_one(key, rest, n - done, out + 4 * done);
    }
}

int ts_philox_blocks_at(ts_cpu_level level, const uint64_t key[2], const uint64_t ctr[4], size_t n,
                        uint64_t *out)
{
    if (level > ts_cpu_level_get()) return 0;
#if TS_CPU_DISPATCH
    if (level == TS_CPU_AVX512) {
        blocks_vector(philox_iters_avx512, BLOCKS_PER_ITER_avx512, key, ctr, n, out);
        return 1;
    }
    if (level == TS_CPU_AVX2) {
        blocks_vector(philox_iters_avx2, BLOCKS_PER_ITER_avx2, key, ctr, n, out);
        return 1;
    }
#endif
    blocks_one_by_one(key, ctr, n, out);
    return 1;
}

void ts_philox_blocks(const uint64_t key[2], const uint64_t ctr[4], size_t n, uint64_t *out)
{
    ts_philox_blocks_at(ts_cpu_level_get(), key, ctr, n, out);
}
