/* bench/rng_stream: raw words of tailsweep's streams on stdout, for statistical batteries
 * (bench/dieharder.sh feeds dieharder's raw stdin generator, -g 200) and for anyone who wants to
 * run TestU01 or PractRand on them.
 *
 * usage: bench/rng_stream [-n WORDS] SEED POINT REPEAT [SUBSTREAM]
 *        bench/rng_stream [-n WORDS] --neighbours SEED POINT REPEAT
 * The first form writes the stream of one key; the second interleaves, word by word, the
 * streams of the key and of its neighbours (point + 1, repeat + 1, substream + 1, seed + 1), so
 * that a battery sees any correlation between neighbouring keys as a defect of one sequence.
 * Words are 64-bit little-endian as the stream makes them (ts_rng_fill_u64); -n stops after
 * WORDS words (default: until stdout closes). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "tailsweep/rng.h"

enum { KEYS = 5, BATCH = 4096 };

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return 0;
    *v = x;
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench/rng_stream [-n WORDS] SEED POINT REPEAT [SUBSTREAM]\n"
                    "       bench/rng_stream [-n WORDS] --neighbours SEED POINT REPEAT\n");
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t limit = UINT64_MAX, key[4] = {0, 0, 0, 0};
    int neighbours = 0, arg = 1;
    if (arg + 1 < argc && strcmp(argv[arg], "-n") == 0) {
        if (!parse_u64(argv[arg + 1], &limit)) return usage();
        arg += 2;
    }
    if (arg < argc && strcmp(argv[arg], "--neighbours") == 0) neighbours = 1, arg++;
    int nkey = argc - arg;
    if (nkey < 3 || nkey > (neighbours ? 3 : 4)) return usage();
    for (int k = 0; k < nkey; k++)
        if (!parse_u64(argv[arg + k], &key[k])) return usage();

    /* The neighbours differ from the key in one component each. */
    static const int bump[KEYS] = {-1, 1, 2, 3, 0};
    int nstreams = neighbours ? KEYS : 1;
    gsl_rng *r[KEYS];
    for (int s = 0; s < nstreams; s++) {
        uint64_t k[4] = {key[0], key[1], key[2], key[3]};
        if (bump[s] >= 0) k[bump[s]]++;
        r[s] = ts_rng_alloc(k[0], k[1], k[2]);
        if (r[s] == NULL) return 1;
        ts_rng_key(r[s], k[0], k[1], k[2], k[3]);
    }
    static uint64_t words[KEYS][BATCH], out[KEYS * BATCH];
    for (uint64_t written = 0; written < limit;) {
        for (int s = 0; s < nstreams; s++) ts_rng_fill_u64(r[s], words[s], BATCH);
        size_t n = 0;
        for (size_t i = 0; i < BATCH; i++)
            for (int s = 0; s < nstreams; s++) out[n++] = words[s][i];
        if (limit - written < n) n = (size_t)(limit - written);
        if (fwrite(out, sizeof *out, n, stdout) != n) break; /* the reader closed the pipe */
        written += n;
    }
    for (int s = 0; s < nstreams; s++) gsl_rng_free(r[s]);
    return 0;
}
