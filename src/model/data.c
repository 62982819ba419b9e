/* Data sets (data.h). */
#include "tailsweep/data.h"

#include <stdlib.h>
#include <string.h>

int ts_dataset_init(ts_dataset *s, size_t n, size_t d, ts_error *err)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->d = d;
    /* at least one element each: calloc(0) may return NULL, which would read as no memory */
    size_t values = n * d;
    s->x = malloc((values ? values : 1) * sizeof *s->x);
    s->y = calloc(n ? n : 1, sizeof *s->y);
    s->res = malloc((n ? n : 1) * sizeof *s->res);
    if (s->x && s->y && s->res) return TS_OK;
    ts_dataset_free(s);
    return ts_error_set(err, TS_ERUNTIME, "out of memory for %zu samples of dimension %zu", n, d);
}

void ts_dataset_free(ts_dataset *s)
{
    free(s->x);
    free(s->y);
    free(s->res);
    s->x = s->y = s->res = NULL;
}

size_t ts_dataset_bytes(size_t n, size_t d)
{
    return sizeof(double) * n * (d + 2);
}
