/* Philox4x64-10 blocks in bulk: the words of Random123's philox4x64, several counter blocks at a
 * time (AVX-512 or AVX2 where the CPU has it, one block at a time otherwise). Internal to the
 * library: rng.c builds every stream on it; tests/unit/test_rng.c checks that every path gives
 * Random123's words. */
#ifndef TAILSWEEP_PHILOX_H
#define TAILSWEEP_PHILOX_H

#include <stddef.h>
#include <stdint.h>

#include "tailsweep/cpu.h"

/* Block i < n is philox4x64({ctr[0] + i, ctr[1], ctr[2], ctr[3]}, key) (the first word wraps
 * modulo 2^64 as Random123's counter does); its word k goes to out[4 i + k]. */
void ts_philox_blocks(const uint64_t key[2], const uint64_t ctr[4], size_t n, uint64_t *out);

/* The same through the path of one CPU level (TS_CPU_PORTABLE and TS_CPU_SSE2 are the
 * one-block loop), for the tests that compare paths. Returns 0 and writes nothing when this CPU
 * or build lacks that level. */
int ts_philox_blocks_at(ts_cpu_level level, const uint64_t key[2], const uint64_t ctr[4], size_t n,
                        uint64_t *out);

#endif
