/* A column of numbers from a text file, as other programs write them: one value per line, or a
 * CSV whose last column holds them, with an optional header line; '#' starts a comment; blank
 * lines are skipped. `tailsweep schedule` reads gradient norms and step sizes this way (a
 * PyTorch run's logged norms, a schedule printed by `tailsweep schedule`). */
#ifndef TAILSWEEP_NUMFILE_H
#define TAILSWEEP_NUMFILE_H

#include <stddef.h>
#include <stdio.h>

#include "tailsweep/error.h"

typedef struct ts_numbers {
    double *values;
    size_t *lines; /* the 1-based line of each value, for messages */
    size_t n;
} ts_numbers;

/* Reads f (named `name` in messages: "norms.txt:12: expected a number, found \"abc\""). The first
 * line with content may be a header (its last field not a number); every later one must end in
 * a finite number. At most max_bytes are read (a larger input is an error, not a hang).
 * TS_EUSAGE with file:line for a malformed line, an empty input or one too large; TS_ERUNTIME
 * for a read error or no memory. */
int ts_numbers_read(FILE *f, const char *name, size_t max_bytes, ts_numbers *out,
                    ts_error *err);
/* The same from a file path ("-" for standard input). */
int ts_numbers_load(const char *path, size_t max_bytes, ts_numbers *out, ts_error *err);
void ts_numbers_free(ts_numbers *nums);

#endif
