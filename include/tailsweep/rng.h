/* Per-run random streams: Random123's Philox4x64-10 as a gsl_rng_type, keyed by the whole
 * (master seed, point index, repeat) so that streams never collide and never depend on which rank
 * ran a point. get_double returns 53-bit doubles. docs/architecture.md section 4. */
#ifndef TAILSWEEP_RNG_H
#define TAILSWEEP_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <gsl/gsl_rng.h>

/* The generation of tailsweep's random numbers: bumped by any release that changes a draw (a
 * stream's words or a fill's values from them), so that archives say which numbers they hold
 * (root attribute `numbers`) and a sweep begun by one generation is never resumed by another
 * (it is part of the canonical spec, grid.h). 1: tailsweep 0.1. 2: tailsweep 0.2, the same
 * stream words (computed several blocks at a time), the Gaussian fill's radius by sqrt instead
 * of exp(log(.)/2) (every Gaussian differs in the last bits), and AVX-512 copies of the vector
 * loops (which differ from the AVX2 ones in the last bits, as those from SSE2: cpu.h). */
#define TS_NUMBERS_VERSION 2

/* The generator type. gsl_rng_set(r, s) keys it as (s, 0, 0, 0); use ts_rng_key for the full key. */
extern const gsl_rng_type *ts_rng_philox;

/* A stream at its start for (seed, point, repeat), substream 0. NULL when out of memory. */
gsl_rng *ts_rng_alloc(uint64_t seed, uint64_t point, uint64_t repeat);

/* Re-key r (which must be of type ts_rng_philox) and rewind it to the start of the stream.
 * Substreams separate independent uses inside one run (data, noise, test set), so that changing
 * how many draws one use makes never shifts another's. */
void ts_rng_key(gsl_rng *r, uint64_t seed, uint64_t point, uint64_t repeat, uint64_t substream);

struct ts_point;
/* The run's stream for substream s of point p: (seed, p->stream, p->repeat, s). Every use of
 * randomness in a run keys through these two, so that shared_streams (grid.h) reaches it. */
gsl_rng *ts_rng_alloc_for(const struct ts_point *p, uint64_t substream);
void ts_rng_key_for(gsl_rng *r, const struct ts_point *p, uint64_t substream);

/* Next 64 random bits of r. */
uint64_t ts_rng_u64(gsl_rng *r);

/* The next n words of r, as n calls to ts_rng_u64 would give them, computed several blocks at a
 * time (AVX-512 or AVX2 where the CPU has it; the words are the same on every path). Another GSL
 * generator gives words of 32 bits from each of two gsl_rng_uniform draws. */
void ts_rng_fill_u64(gsl_rng *r, uint64_t *out, size_t n);

/* n uniforms in the open interval (0, 1), one stream word each, at the centres of 2^52 equal cells
 * (52 bits: with 53 the largest word would round to exactly 1): the batched path, on the words
 * of ts_rng_fill_u64. */
void ts_rng_fill_uniform_pos(gsl_rng *r, double *u, size_t n);

#endif
