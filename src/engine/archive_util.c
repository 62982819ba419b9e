/* The archive's shared utilities (archive_internal.h): HDF5 errors as messages, and agreeing on
 * a status across ranks. A leaf of the archive's files: archive.c, archive_layout.c and
 * archive_data.c call it, it calls none of them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "archive_internal.h"

typedef struct h5_trace {
    int depth;
    char outer[256], inner[256], minor[128];
} h5_trace;

static herr_t trace_entry(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_trace *t = data;
    (void)n;
    const char *desc = e->desc ? e->desc : "";
    if (t->depth++ == 0) snprintf(t->outer, sizeof t->outer, "%s", desc);
    snprintf(t->inner, sizeof t->inner, "%s", desc);
    if (H5Eget_msg(e->min_num, NULL, t->minor, sizeof t->minor) < 0) t->minor[0] = '\0';
    return 0;
}

/* An HDF5 failure as "what: HDF5: outermost: innermost (minor)"; the innermost entry says why
 * (errno text, a name), the outermost what was attempted. Call it right after the failing call:
 * every HDF5 API call, even a successful close, clears the error stack. */
int ts_arch_h5_fail(ts_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    h5_trace t = {0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, trace_entry, &t);
    H5Eclear2(H5E_DEFAULT);
    if (t.depth == 0) return ts_error_set(err, TS_ERUNTIME, "%s: HDF5 call failed", what);
    if (t.depth == 1 || strcmp(t.outer, t.inner) == 0)
        return ts_error_set(err, TS_ERUNTIME, "%s: HDF5: %s (%s)", what, t.inner, t.minor);
    return ts_error_set(err, TS_ERUNTIME, "%s: HDF5: %s: %s (%s)", what, t.outer, t.inner,
                        t.minor);
}

/* Every rank leaves a collective phase with the same status and message: the lowest failing
 * rank's, so the caller's exit status does not depend on which rank saw the problem. */
int ts_arch_agree(const archive *a, int rc, ts_error *err)
{
    int mine = rc ? a->rank : a->nranks, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, a->comm);
    if (first == a->nranks) return TS_OK;
    struct {
        int code;
        char msg[sizeof err->msg];
    } m = {0};
    if (a->rank == first) {
        m.code = err->code ? err->code : TS_ERUNTIME;
        memcpy(m.msg, err->msg, sizeof m.msg);
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, a->comm);
    if (a->rank != first) ts_error_set(err, m.code, "%s", m.msg);
    return m.code;
}
