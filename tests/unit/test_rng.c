/* The per-run stream: Philox4x64-10 keyed by (seed, point, repeat, substream) as a gsl_rng. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <Random123/philox.h>

#include "tailsweep/cpu.h"
#include "tailsweep/rng.h"
#include "../../src/core/philox.h"
#include "check_main.h"

enum { STREAM_WORDS = 64 };

static void draw_words(gsl_rng *r, uint64_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w[i] = ts_rng_u64(r);
}

static int words_equal(const uint64_t *a, const uint64_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Fraction of positions where the two streams agree: independent 64-bit words agree with
 * probability 2^-64, so any agreement at all means the streams are related. */
static size_t count_equal_words(const uint64_t *a, const uint64_t *b, size_t n)
{
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += a[i] == b[i];
    return same;
}

static void stream_words(uint64_t seed, uint64_t point, uint64_t repeat, uint64_t substream,
                         uint64_t *w, size_t n)
{
    gsl_rng *r = ts_rng_alloc(0, 0, 0);
    ck_assert_ptr_nonnull(r);
    ts_rng_key(r, seed, point, repeat, substream);
    draw_words(r, w, n);
    gsl_rng_free(r);
}

START_TEST(same_key_gives_same_stream)
{
    uint64_t a[STREAM_WORDS], b[STREAM_WORDS];
    stream_words(2025, 17, 3, 1, a, STREAM_WORDS);
    stream_words(2025, 17, 3, 1, b, STREAM_WORDS);
    ck_assert(words_equal(a, b, STREAM_WORDS));
}
END_TEST

/* _i runs over which key component changes: seed, point, repeat, substream. */
START_TEST(changing_one_key_component_changes_stream)
{
    uint64_t base[4] = {2025, 17, 3, 1};
    uint64_t changed[4] = {2025, 17, 3, 1};
    changed[_i] += 1;
    uint64_t a[STREAM_WORDS], b[STREAM_WORDS];
    stream_words(base[0], base[1], base[2], base[3], a, STREAM_WORDS);
    stream_words(changed[0], changed[1], changed[2], changed[3], b, STREAM_WORDS);
    ck_assert_uint_eq(count_equal_words(a, b, STREAM_WORDS), 0);
}
END_TEST

/* Wiring check against Random123 called directly: block b of stream (seed, point, repeat,
 * substream) is philox4x64(ctr = {b, repeat, substream, 0}, key = {seed, point}). */
START_TEST(first_blocks_match_random123_philox4x64)
{
    const uint64_t seed = 0x0123456789abcdefULL, point = 99, repeat = 7, substream = 2;
    gsl_rng *r = ts_rng_alloc(seed, point, repeat);
    ck_assert_ptr_nonnull(r);
    ts_rng_key(r, seed, point, repeat, substream);
    philox4x64_key_t key = {{seed, point}};
    for (uint64_t block = 0; block < 3; block++) {
        philox4x64_ctr_t ctr = {{block, repeat, substream, 0}};
        philox4x64_ctr_t expect = philox4x64(ctr, key);
        for (int k = 0; k < 4; k++)
            ck_assert_uint_eq(ts_rng_u64(r), expect.v[k]);
    }
    gsl_rng_free(r);
}
END_TEST

START_TEST(get_and_get_double_use_one_word_each)
{
    const uint64_t seed = 11, point = 12, repeat = 13;
    gsl_rng *r = ts_rng_alloc(seed, point, repeat);
    ck_assert_ptr_nonnull(r);
    philox4x64_key_t key = {{seed, point}};
    philox4x64_ctr_t ctr = {{0, repeat, 0, 0}};
    philox4x64_ctr_t expect = philox4x64(ctr, key);
    ck_assert_uint_eq(gsl_rng_get(r), expect.v[0] >> 32);
    ck_assert(gsl_rng_uniform(r) == ldexp((double)(expect.v[1] >> 11), -53));
    ck_assert_uint_eq(gsl_rng_get(r), expect.v[2] >> 32);
    ck_assert_uint_eq(ts_rng_u64(r), expect.v[3]);
    gsl_rng_free(r);
}
END_TEST

START_TEST(gsl_rng_set_keys_seed_only)
{
    uint64_t a[STREAM_WORDS], b[STREAM_WORDS];
    gsl_rng *r = gsl_rng_alloc(ts_rng_philox);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(gsl_rng_name(r), "ts_philox");
    ck_assert_uint_eq(gsl_rng_max(r), 0xffffffffUL);
    ck_assert_uint_eq(gsl_rng_min(r), 0);
    gsl_rng_set(r, 4242);
    draw_words(r, a, STREAM_WORDS);
    gsl_rng_free(r);
    stream_words(4242, 0, 0, 0, b, STREAM_WORDS);
    ck_assert(words_equal(a, b, STREAM_WORDS));
}
END_TEST

START_TEST(rekeying_rewinds_to_stream_start)
{
    uint64_t a[STREAM_WORDS], b[STREAM_WORDS];
    gsl_rng *r = ts_rng_alloc(5, 6, 7);
    ck_assert_ptr_nonnull(r);
    draw_words(r, a, STREAM_WORDS);
    for (int i = 0; i < 1001; i++) /* leave the stream mid-block */
        (void)ts_rng_u64(r);
    ts_rng_key(r, 5, 6, 7, 0);
    draw_words(r, b, STREAM_WORDS);
    ck_assert(words_equal(a, b, STREAM_WORDS));
    gsl_rng_free(r);
}
END_TEST

/* A rank that runs point 5 after many other points must see the same draws as a rank that runs it
 * first: the stream is a function of its key alone. */
START_TEST(streams_do_not_depend_on_rank)
{
    uint64_t first[STREAM_WORDS], later[STREAM_WORDS];
    gsl_rng *r = ts_rng_alloc(77, 5, 0);
    ck_assert_ptr_nonnull(r);
    draw_words(r, first, STREAM_WORDS);
    gsl_rng_free(r);

    for (uint64_t point = 0; point < 10; point++) {
        gsl_rng *other = ts_rng_alloc(77, point, 1);
        ck_assert_ptr_nonnull(other);
        for (int i = 0; i < 1000 + (int)point; i++)
            (void)gsl_rng_uniform(other);
        (void)gsl_ran_gaussian(other, 1.0);
        gsl_rng_free(other);
    }
    r = ts_rng_alloc(77, 5, 0);
    ck_assert_ptr_nonnull(r);
    draw_words(r, later, STREAM_WORDS);
    gsl_rng_free(r);
    ck_assert(words_equal(first, later, STREAM_WORDS));
}
END_TEST

/* Uniform on [0,1): mean 1/2, variance 1/12. With n draws the sample mean has standard deviation
 * sqrt(1/(12 n)); the mean of (U - 1/2)^2 estimates 1/12 with standard deviation
 * sqrt(Var((U-1/2)^2) / n), Var((U-1/2)^2) = E(U-1/2)^4 - (1/12)^2 = 1/80 - 1/144 = 1/180.
 * Tolerance: 5 standard deviations (a false failure has probability < 6e-7 per check, and the
 * seed is fixed anyway). */
START_TEST(uniform_mean_and_variance_match)
{
    const size_t n = 1000000;
    gsl_rng *r = ts_rng_alloc(1, 2, 3);
    ck_assert_ptr_nonnull(r);
    double sum = 0, sum_sq = 0, lo = 1, hi = 0;
    for (size_t i = 0; i < n; i++) {
        double u = gsl_rng_uniform(r);
        sum += u;
        sum_sq += (u - 0.5) * (u - 0.5);
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    gsl_rng_free(r);
    double mean = sum / (double)n, var = sum_sq / (double)n;
    ck_assert(lo >= 0 && hi < 1);
    ck_assert_double_le(fabs(mean - 0.5), 5 * sqrt(1.0 / (12.0 * (double)n)));
    ck_assert_double_le(fabs(var - 1.0 / 12), 5 * sqrt(1.0 / (180.0 * (double)n)));
}
END_TEST

/* With 53 random bits, the bits of u below 2^-32 are all zero with probability 2^-21, so among
 * n = 10^5 draws about 0.05 are expected to be zero there; a 32-bit double has them all zero.
 * Threshold 0.999: for 53-bit doubles it fails only if >= 100 of 10^5 such events occur
 * (Poisson(0.05)), for 32-bit doubles the fraction is 0. */
START_TEST(doubles_carry_53_random_bits)
{
    const size_t n = 100000;
    gsl_rng *r = ts_rng_alloc(9, 9, 9);
    ck_assert_ptr_nonnull(r);
    size_t low_bits_set = 0;
    for (size_t i = 0; i < n; i++) {
        double scaled = ldexp(gsl_rng_uniform(r), 32);
        low_bits_set += scaled != floor(scaled);
    }
    gsl_rng_free(r);
    ck_assert_double_ge((double)low_bits_set / (double)n, 0.999);
}
END_TEST

/* The 32-bit integer interface must use its whole range: the top bit is set in half the draws.
 * Binomial(n, 1/2) with n = 10^5: standard deviation 158; tolerance 5 standard deviations. */
START_TEST(get_covers_32_bits)
{
    const size_t n = 100000;
    gsl_rng *r = ts_rng_alloc(3, 1, 4);
    ck_assert_ptr_nonnull(r);
    size_t top_set = 0;
    unsigned long max_seen = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long v = gsl_rng_get(r);
        top_set += (v >> 31) & 1;
        max_seen = v > max_seen ? v : max_seen;
    }
    gsl_rng_free(r);
    ck_assert_uint_le(max_seen, 0xffffffffUL);
    ck_assert_double_le(fabs((double)top_set - 0.5 * (double)n), 5 * sqrt(0.25 * (double)n));
}
END_TEST

/* The batched open-interval fill uses the same words in the same order as per-call draws, maps
 * each to the centre of its 2^-52 cell (the top 52 bits), and continues the stream from any
 * position. */
START_TEST(fill_uniform_pos_follows_the_stream_in_open_interval)
{
    enum { N = 103 };
    double u[N];
    gsl_rng *per_call = ts_rng_alloc(8, 8, 8), *batched = ts_rng_alloc(8, 8, 8);
    ck_assert_ptr_nonnull(per_call);
    ck_assert_ptr_nonnull(batched);
    (void)ts_rng_u64(per_call); /* start both mid-block */
    (void)ts_rng_u64(batched);
    ts_rng_fill_uniform_pos(batched, u, N);
    for (size_t i = 0; i < N; i++) {
        double expect = ldexp((double)(ts_rng_u64(per_call) >> 12) + 0.5, -52);
        ck_assert(u[i] == expect);
        ck_assert(u[i] > 0 && u[i] < 1);
    }
    ck_assert_uint_eq(ts_rng_u64(per_call), ts_rng_u64(batched));
    gsl_rng_free(per_call);
    gsl_rng_free(batched);
}
END_TEST

/* Any other GSL generator still works in the batched fill: it falls back to
 * gsl_rng_uniform_pos, value for value. */
START_TEST(fill_uniform_pos_accepts_other_gsl_generators)
{
    enum { N = 50 };
    double u[N];
    gsl_rng *a = gsl_rng_alloc(gsl_rng_mt19937), *b = gsl_rng_alloc(gsl_rng_mt19937);
    ck_assert(a != NULL && b != NULL);
    ts_rng_fill_uniform_pos(a, u, N);
    for (size_t i = 0; i < N; i++)
        ck_assert(u[i] == gsl_rng_uniform_pos(b));
    gsl_rng_free(a);
    gsl_rng_free(b);
}
END_TEST

/* GSL's samplers run on the stream: N(0,1) has mean 0 (sd 1/sqrt(n)) and variance 1
 * (the sample second moment has sd sqrt(2/n)); tolerance 5 standard deviations. */
START_TEST(gsl_ran_gaussian_draws_standard_normals)
{
    const size_t n = 200000;
    gsl_rng *r = ts_rng_alloc(21, 0, 0);
    ck_assert_ptr_nonnull(r);
    double sum = 0, sum_sq = 0;
    for (size_t i = 0; i < n; i++) {
        double g = gsl_ran_gaussian(r, 1.0);
        sum += g;
        sum_sq += g * g;
    }
    gsl_rng_free(r);
    ck_assert_double_le(fabs(sum / (double)n), 5 / sqrt((double)n));
    ck_assert_double_le(fabs(sum_sq / (double)n - 1), 5 * sqrt(2 / (double)n));
}
END_TEST

/* Every bulk path (one block at a time, AVX2, AVX-512: those this CPU has) gives Random123's
 * words, at every count around the vector widths (8 and 32 blocks per iteration), for keys and
 * counters with all bits in play and a block counter that wraps past 2^64. */
START_TEST(every_bulk_path_computes_random123s_blocks)
{
    static const size_t counts[] = {0, 1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1001};
    static const uint64_t keys[3][2] = {{0, 0}, {2031, 12345}, {UINT64_MAX, UINT64_MAX - 1}};
    static const uint64_t ctrs[3][4] = {
        {0, 0, 0, 0}, {77, 5, 3, 0}, {UINT64_MAX - 40, UINT64_MAX, 0x8000000000000000u, 1}};
    enum { MAX_BLOCKS = 1001 };
    static uint64_t expect[4 * MAX_BLOCKS], got[4 * MAX_BLOCKS + 1]; /* + a sentinel */
    int paths = 0;
    for (int level = TS_CPU_PORTABLE; level <= TS_CPU_AVX512; level++) {
        if (!ts_philox_blocks_at((ts_cpu_level)level, keys[0], ctrs[0], 0, got)) continue;
        paths++;
        for (int k = 0; k < 3; k++)
            for (int c = 0; c < 3; c++)
                for (size_t j = 0; j < sizeof counts / sizeof counts[0]; j++) {
                    size_t n = counts[j];
                    philox4x64_key_t key = {{keys[k][0], keys[k][1]}};
                    philox4x64_ctr_t ctr = {{ctrs[c][0], ctrs[c][1], ctrs[c][2], ctrs[c][3]}};
                    for (size_t b = 0; b < n; b++, ctr.v[0]++) {
                        philox4x64_ctr_t block = philox4x64(ctr, key);
                        for (int w = 0; w < 4; w++) expect[4 * b + w] = block.v[w];
                    }
                    got[4 * n] = 42; /* nothing written past the n blocks */
                    ck_assert(ts_philox_blocks_at((ts_cpu_level)level, keys[k], ctrs[c], n, got));
                    ck_assert_msg(words_equal(got, expect, 4 * n), "%s: key %d ctr %d n %zu",
                                  ts_cpu_level_name((ts_cpu_level)level), k, c, n);
                    ck_assert_uint_eq(got[4 * n], 42);
                }
    }
    /* The portable loop always; the CPU's own level too where the build dispatches. */
    ck_assert_int_ge(paths, 1);
    ck_assert(ts_philox_blocks_at(ts_cpu_level_get(), keys[0], ctrs[0], 0, got));
}
END_TEST

/* ts_rng_fill_u64 gives the words of ts_rng_u64 in order however the fills are split (sizes from
 * 1 to 300, starting anywhere inside a block), and the stream goes on where it stopped. */
START_TEST(fill_u64_follows_the_stream_however_split)
{
    enum { N = 20000 };
    static uint64_t per_call[N], filled[N];
    gsl_rng *a = ts_rng_alloc(5, 6, 7), *b = ts_rng_alloc(5, 6, 7);
    ck_assert(a != NULL && b != NULL);
    draw_words(a, per_call, N);
    uint64_t lcg = 12345;
    for (size_t done = 0; done < N;) {
        lcg = lcg * 6364136223846793005u + 1442695040888963407u;
        size_t m = 1 + (size_t)(lcg >> 33) % 300;
        if (m > N - done) m = N - done;
        ts_rng_fill_u64(b, filled + done, m);
        done += m;
    }
    ck_assert(words_equal(per_call, filled, N));
    ck_assert_uint_eq(ts_rng_u64(a), ts_rng_u64(b));
    gsl_rng_free(a);
    gsl_rng_free(b);
}
END_TEST

/* Streams of neighbouring keys (seed, point, repeat or substream + 1) are unrelated: with n words
 * each, the correlation of their uniforms at lags -1, 0, 1 is N(0, 1/n) for independent streams
 * (tolerance 5/sqrt(n)), and every bit of the XOR of paired words is set in n/2 +- 5 sqrt(n/4)
 * positions. */
START_TEST(neighbouring_keys_are_uncorrelated)
{
    enum { N = 1 << 18 };
    static uint64_t base[N], other[N];
    const uint64_t key[4] = {7, 1000, 3, 2};
    stream_words(key[0], key[1], key[2], key[3], base, N);
    for (int c = 0; c < 4; c++) {
        uint64_t k[4] = {key[0], key[1], key[2], key[3]};
        k[c]++;
        stream_words(k[0], k[1], k[2], k[3], other, N);
        for (int lag = -1; lag <= 1; lag++) {
            double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
            size_t m = 0;
            for (size_t i = 1; i + 1 < N; i++, m++) {
                double x = (double)(base[i] >> 11), y = (double)(other[i + lag] >> 11);
                sx += x, sy += y, sxy += x * y, sxx += x * x, syy += y * y;
            }
            double cov = sxy / m - (sx / m) * (sy / m);
            double rho = cov / sqrt((sxx / m - (sx / m) * (sx / m)) * (syy / m - (sy / m) * (sy / m)));
            ck_assert_msg(fabs(rho) <= 5 / sqrt((double)m), "component %d lag %d: rho %g", c, lag,
                          rho);
        }
        for (int bit = 0; bit < 64; bit++) {
            size_t set = 0;
            for (size_t i = 0; i < N; i++) set += ((base[i] ^ other[i]) >> bit) & 1;
            ck_assert_msg(fabs((double)set - N / 2.0) <= 5 * sqrt(N / 4.0), "component %d bit %d",
                          c, bit);
        }
    }
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("philox");
    tcase_add_test(tc, same_key_gives_same_stream);
    tcase_add_loop_test(tc, changing_one_key_component_changes_stream, 0, 4);
    tcase_add_test(tc, first_blocks_match_random123_philox4x64);
    tcase_add_test(tc, get_and_get_double_use_one_word_each);
    tcase_add_test(tc, gsl_rng_set_keys_seed_only);
    tcase_add_test(tc, rekeying_rewinds_to_stream_start);
    tcase_add_test(tc, streams_do_not_depend_on_rank);
    tcase_add_test(tc, uniform_mean_and_variance_match);
    tcase_add_test(tc, doubles_carry_53_random_bits);
    tcase_add_test(tc, get_covers_32_bits);
    tcase_add_test(tc, fill_uniform_pos_follows_the_stream_in_open_interval);
    tcase_add_test(tc, fill_uniform_pos_accepts_other_gsl_generators);
    tcase_add_test(tc, gsl_ran_gaussian_draws_standard_normals);
    tcase_add_test(tc, every_bulk_path_computes_random123s_blocks);
    tcase_add_test(tc, fill_u64_follows_the_stream_however_split);
    tcase_add_test(tc, neighbouring_keys_are_uncorrelated);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_test_run_suite(rng_suite());
}
