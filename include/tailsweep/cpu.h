/* The CPU's vector level, probed once for every vectorised loop of the library (the Levy and
 * Gaussian fills, the optimizers, bigram's kernels), so that every copy of a loop is chosen by
 * the same rule and provenance can name the path that ran. Two copies of a loop that call
 * glibc's vector math (libmvec) may differ in the last bits, so a sweep that must be
 * bit-identical runs on nodes whose level agrees (README, "The archive").
 *
 * The dispatch needs GCC's target attributes and __builtin_cpu_supports on x86-64; elsewhere
 * every loop has one portable copy and the level is TS_CPU_PORTABLE. */
#ifndef TAILSWEEP_CPU_H
#define TAILSWEEP_CPU_H

#include <limits.h> /* glibc's features.h, for __GLIBC__ */

typedef enum ts_cpu_level {
    TS_CPU_PORTABLE = 0, /* no run-time dispatch (another compiler or architecture) */
    TS_CPU_SSE2 = 1,     /* the x86-64 baseline: two double lanes */
    TS_CPU_AVX2 = 2,     /* AVX2 with FMA: four lanes */
    TS_CPU_AVX512 = 3    /* AVX-512F as well: eight lanes where a loop has that copy */
} ts_cpu_level;

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TS_CPU_DISPATCH 1
#define TS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TS_TARGET_AVX512 __attribute__((target("avx512f")))
#else
#define TS_CPU_DISPATCH 0
#define TS_TARGET_AVX2
#define TS_TARGET_AVX512
#endif

/* glibc's libmvec (SIMD exp, log, sin, cos) is what the vectorised transcendental loops call:
 * with dispatch on glibc only. */
#if TS_CPU_DISPATCH && defined(__GLIBC__)
#define TS_CPU_LIBMVEC 1
#else
#define TS_CPU_LIBMVEC 0
#endif

/* The level of this CPU (the first call probes; later calls are a load). */
ts_cpu_level ts_cpu_level_get(void);

static inline int ts_cpu_has_avx2(void) { return ts_cpu_level_get() >= TS_CPU_AVX2; }
static inline int ts_cpu_has_avx512(void) { return ts_cpu_level_get() >= TS_CPU_AVX512; }

/* "portable", "sse2", "avx2" or "avx512". */
const char *ts_cpu_level_name(ts_cpu_level level);

/* The vector path of the transcendental loops as provenance names it: the level's name where
 * libmvec is used, "scalar" where the loops call plain libm. */
const char *ts_cpu_vector_path(void);

#endif
