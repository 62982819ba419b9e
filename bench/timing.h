/* The clock and the median the benchmark programs share. */
#ifndef TS_BENCH_TIMING_H
#define TS_BENCH_TIMING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Monotonic wall-clock seconds. */
static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int bench_compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of x[0 .. n-1] (sorts x): it resists the noise of a shared machine. */
static inline double bench_median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, bench_compare);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* The programs' arguments, "[repeats [filter]]": repeats (default 5) must be a positive count;
 * anything else (e.g. --help) prints the usage and exits 2 rather than timing nothing. */
static inline int bench_args(int argc, char **argv, const char **filter)
{
    int repeats = 5;
    if (argc > 1) {
        char *end;
        long r = strtol(argv[1], &end, 10);
        if (*end || r < 1 || r > 1000 || argc > 3) {
            int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
            fprintf(help ? stdout : stderr,
                    "usage: %s [repeats [filter]]\n"
                    "  repeats: runs per case, the median is printed (default 5)\n"
                    "  filter: only the cases whose name contains it\n",
                    argv[0]);
            exit(help ? 0 : 2);
        }
        repeats = (int)r;
    }
    *filter = argc > 2 ? argv[2] : NULL;
    return repeats;
}

#endif
