/* Errors travel up as a status plus a ts_error; only the CLI prints them and picks exit codes. */
#ifndef TAILSWEEP_ERROR_H
#define TAILSWEEP_ERROR_H

#include <stddef.h>

/* Error classes, which the CLI maps to exit statuses (docs/architecture.md section 7). */
enum {
    TS_OK = 0,
    TS_ERUNTIME = 1, /* I/O, MPI, HDF5, memory: exit 1 */
    TS_EUSAGE = 2    /* a wrong spec or command line, found before any work: exit 2 */
};

typedef struct ts_error {
    int code;            /* TS_OK when nothing went wrong */
    char file[256];      /* empty when the error has no location */
    int line, column;    /* 1-based; 0 when unknown */
    char msg[1024];
} ts_error;

void ts_error_clear(ts_error *err);

/* Fill err (if not NULL) and return code, so that `return ts_error_set(...)` reads naturally. */
int ts_error_set(ts_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ts_error_at(ts_error *err, int code, const char *file, int line, int column,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* "file:line:column: message", "file:line: message" (column 0), or just the message, into buf;
 * returns buf. */
const char *ts_error_format(const ts_error *err, char *buf, size_t cap);

#endif
