/* The sweep spec: YAML (libyaml) to a validated ts_grid. Every error carries file:line:column,
 * the key, what was expected and what was found, with a "did you mean" for unknown names, and
 * the code TS_EUSAGE. The format is README's "The sweep spec". */
#ifndef TAILSWEEP_SPEC_H
#define TAILSWEEP_SPEC_H

#include <stddef.h>
#include "tailsweep/error.h"
#include "tailsweep/grid.h"

typedef struct ts_spec {
    char *path;       /* as given */
    char *text;       /* the YAML text, stored in the archive */
    size_t text_len;
    ts_grid *grid;    /* experiment, seed, repeats, parameters, axes */
    char *output;     /* the `output:` key, or "<spec file name without .yaml/.yml>.h5" */
    int output_line, output_column; /* where `output:` stands (0 when defaulted) */
    /* `archive:`: 1..9 shuffle + deflate at that level, TS_SPEC_NO_COMPRESSION chunks as they
     * are, 0 (a spec built by hand) TS_SPEC_DEFLATE_DEFAULT. */
    int deflate_level;
} ts_spec;

/* The archive's compression when the spec does not say: shuffle + deflate at this level, which
 * stock h5py, netCDF and xarray read without plugins. */
#define TS_SPEC_DEFLATE_DEFAULT 4
#define TS_SPEC_NO_COMPRESSION (-1)

/* experiments: the NULL-terminated registry whose names the spec may use
 * (ts_experiment_list() in the binary); the parser looks nothing up elsewhere. */
ts_spec *ts_spec_load(const char *path, const ts_experiment *const *experiments, ts_error *err);
/* name is used in error locations. */
ts_spec *ts_spec_parse(const char *text, size_t len, const char *name,
                       const ts_experiment *const *experiments, ts_error *err);
void ts_spec_free(ts_spec *s);

/* Levenshtein-nearest of candidates (NULL-terminated) to word, or NULL when none is close. */
const char *ts_spec_nearest(const char *word, const char *const *candidates);

#endif
