/* The one CPU-feature probe (cpu.h). */
#include "tailsweep/cpu.h"

#include <stdatomic.h>

static ts_cpu_level probe(void)
{
#if TS_CPU_DISPATCH
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return TS_CPU_SSE2;
    return __builtin_cpu_supports("avx512f") ? TS_CPU_AVX512 : TS_CPU_AVX2;
#else
    return TS_CPU_PORTABLE;
#endif
}

/* Probing twice from two threads gives the same answer, so a relaxed cache suffices: the worst
 * case is a second probe. -1 marks "not yet". */
static atomic_int cached = -1;

ts_cpu_level ts_cpu_level_get(void)
{
    int level = atomic_load_explicit(&cached, memory_order_relaxed);
    if (level < 0) {
        level = (int)probe();
        atomic_store_explicit(&cached, level, memory_order_relaxed);
    }
    return (ts_cpu_level)level;
}

const char *ts_cpu_level_name(ts_cpu_level level)
{
    switch (level) {
    case TS_CPU_SSE2: return "sse2";
    case TS_CPU_AVX2: return "avx2";
    case TS_CPU_AVX512: return "avx512";
    case TS_CPU_PORTABLE: break;
    }
    return "portable";
}

const char *ts_cpu_vector_path(void)
{
    return TS_CPU_LIBMVEC ? ts_cpu_level_name(ts_cpu_level_get()) : "scalar";
}
