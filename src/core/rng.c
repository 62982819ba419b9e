/* Per-run random streams: Random123's Philox4x64-10 behind GSL's gsl_rng_type interface.
 *
 * Why not Random123's own gsl_cbrng.h: it keys one word only and builds doubles from 32 bits
 * (docs/architecture.md section 4). Here the key is {seed, point} and the counter is
 * {block, repeat, substream, 0}, so every (seed, point, repeat, substream) names a stream of 2^64
 * blocks of 4 x 64 bits, computed from the key alone: no stream depends on the rank that made it
 * or on the draws of any other stream. */
#include "tailsweep/rng.h"

#include "tailsweep/params.h"

#include <string.h>

#include <Random123/philox.h>

#include "philox.h"

typedef struct {
    philox4x64_key_t key;
    philox4x64_ctr_t ctr; /* v[0] = block, v[1] = repeat, v[2] = substream, v[3] = 0 */
    philox4x64_ctr_t out; /* the current block's 4 words */
    unsigned used;        /* words of `out` already handed out; 4 means "compute next block" */
} philox_state;

/* 2^-53: one unit in the last place of a 53-bit mantissa in [0, 1). */
static const double two_pow_minus_53 = 1.0 / 9007199254740992.0;

static void philox_rewind(philox_state *s)
{
    s->ctr.v[0] = 0;
    s->used = 4;
}

static void philox_set_key(philox_state *s, uint64_t seed, uint64_t point, uint64_t repeat,
                           uint64_t substream)
{
    memset(s, 0, sizeof *s);
    s->key.v[0] = seed;
    s->key.v[1] = point;
    s->ctr.v[1] = repeat;
    s->ctr.v[2] = substream;
    s->ctr.v[3] = 0;
    philox_rewind(s);
}

/* Block b of the stream is philox(key, {b, repeat, substream, 0}); the block counter advances
 * after each evaluation so that block 0 is the first one handed out. */
static inline uint64_t philox_next_word(philox_state *s)
{
    if (s->used == 4) {
        s->out = philox4x64(s->ctr, s->key);
        s->ctr.v[0]++;
        s->used = 0;
    }
    return s->out.v[s->used++];
}

static void philox_gsl_set(void *state, unsigned long int seed)
{
    philox_set_key(state, (uint64_t)seed, 0, 0, 0);
}

/* GSL's integer interface is 32 bits wide here (max 0xffffffff) so that gsl_rng_uniform_int and
 * friends see a full, unbiased range on every platform; the high half of a Philox word is as good
 * as the low half, and taking one word per call keeps the stream position easy to reason about. */
static unsigned long int philox_gsl_get(void *state)
{
    return (unsigned long int)(philox_next_word(state) >> 32);
}

/* 53 random bits, the whole mantissa: 32-bit doubles misweight rare events (measured: an alias
 * table at d = 10^6 fed 32-bit uniforms misweights the rarest tokens by ~0.3%). */
static double philox_gsl_get_double(void *state)
{
    return (double)(philox_next_word(state) >> 11) * two_pow_minus_53;
}

static const gsl_rng_type philox_type = {
    .name = "ts_philox",
    .max = 0xffffffffUL,
    .min = 0,
    .size = sizeof(philox_state),
    .set = philox_gsl_set,
    .get = philox_gsl_get,
    .get_double = philox_gsl_get_double,
};

const gsl_rng_type *ts_rng_philox = &philox_type;

gsl_rng *ts_rng_alloc(uint64_t seed, uint64_t point, uint64_t repeat)
{
    /* gsl_rng_alloc reports failure through GSL's error handler (off in our programs) and
     * returns NULL, which we pass on. */
    gsl_rng *r = gsl_rng_alloc(ts_rng_philox);
    if (r != NULL)
        ts_rng_key(r, seed, point, repeat, 0);
    return r;
}

void ts_rng_key(gsl_rng *r, uint64_t seed, uint64_t point, uint64_t repeat, uint64_t substream)
{
    philox_set_key(r->state, seed, point, repeat, substream);
}

gsl_rng *ts_rng_alloc_for(const ts_point *p, uint64_t substream)
{
    gsl_rng *r = ts_rng_alloc(p->seed, p->stream, p->repeat);
    if (r && substream) ts_rng_key(r, p->seed, p->stream, p->repeat, substream);
    return r;
}

void ts_rng_key_for(gsl_rng *r, const ts_point *p, uint64_t substream)
{
    ts_rng_key(r, p->seed, p->stream, p->repeat, substream);
}

uint64_t ts_rng_u64(gsl_rng *r)
{
    return philox_next_word(r->state);
}

/* Centre of cell k of 2^52 equal cells, (k + 1/2) 2^-52, strictly inside (0, 1) with no
 * rejection loop (unlike gsl_rng_uniform_pos), which keeps the batched samplers branch-free. With
 * 53 bits, (k + 1/2) 2^-53 would need 54 significant bits and round to exactly 1 for the largest
 * k. Computed as (1 + k 2^-52) - (1 - 2^-53): the first term is k under the exponent of 1 (exact),
 * the difference (2k + 1) 2^-53 has 53 significant bits, so the subtraction is exact and the
 * value is the same as ((double)k + 0.5) 2^-52, in a form that vectorises on every x86-64
 * (no 64-bit integer to double conversion before AVX-512DQ). */
static inline double open_uniform_from_word(uint64_t x)
{
    uint64_t bits = (x >> 12) | UINT64_C(0x3ff0000000000000);
    double one_plus;
    memcpy(&one_plus, &bits, sizeof one_plus);
    return one_plus - (1 - two_pow_minus_53);
}

/* n words of the stream into w: the current block's rest, whole blocks in bulk (philox.h), the
 * start of one more block; the same words in the same order as n calls to ts_rng_u64. */
static void stream_words(philox_state *s, uint64_t *w, size_t n)
{
    size_t i = 0;
    while (i < n && s->used < 4)
        w[i++] = philox_next_word(s);
    size_t blocks = (n - i) / 4;
    ts_philox_blocks(s->key.v, s->ctr.v, blocks, w + i);
    s->ctr.v[0] += blocks;
    i += 4 * blocks;
    while (i < n)
        w[i++] = philox_next_word(s);
}

void ts_rng_fill_u64(gsl_rng *r, uint64_t *out, size_t n)
{
    if (r->type == ts_rng_philox) {
        stream_words(r->state, out, n);
        return;
    }
    /* Any other GSL generator: 32 bits from each of two uniforms (gsl_rng_get's range differs
     * between generators; a double from gsl_rng_uniform carries at least 32 bits for most). */
    for (size_t i = 0; i < n; i++) {
        uint64_t high = (uint64_t)(gsl_rng_uniform(r) * 4294967296.0);
        uint64_t low = (uint64_t)(gsl_rng_uniform(r) * 4294967296.0);
        out[i] = high << 32 | low;
    }
}

/* Words per conversion pass: 2 KiB, in L1 with the output. */
enum { WORDS_PER_PASS = 256 };

void ts_rng_fill_uniform_pos(gsl_rng *r, double *u, size_t n)
{
    if (r->type != ts_rng_philox) { /* any other GSL generator still works, per call */
        for (size_t i = 0; i < n; i++)
            u[i] = gsl_rng_uniform_pos(r);
        return;
    }
    philox_state *s = r->state;
    size_t done = 0;
    while (done < n && s->used < 4) /* the current block's rest: later passes start aligned */
        u[done++] = open_uniform_from_word(philox_next_word(s));
    uint64_t w[WORDS_PER_PASS];
    while (done < n) {
        size_t m = n - done < WORDS_PER_PASS ? n - done : WORDS_PER_PASS;
        stream_words(s, w, m);
        for (size_t k = 0; k < m; k++)
            u[done + k] = open_uniform_from_word(w[k]);
        done += m;
    }
}
