#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tailsweep/error.h"

void ts_error_clear(ts_error *err)
{
    if (err) memset(err, 0, sizeof *err);
}

static void set_message(ts_error *err, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int ts_error_set(ts_error *err, int code, const char *fmt, ...)
{
    if (!err) return code;
    ts_error_clear(err);
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    set_message(err, fmt, ap);
    va_end(ap);
    return code;
}

int ts_error_at(ts_error *err, int code, const char *file, int line, int column,
                const char *fmt, ...)
{
    if (!err) return code;
    ts_error_clear(err);
    err->code = code;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->column = column;
    va_list ap;
    va_start(ap, fmt);
    set_message(err, fmt, ap);
    va_end(ap);
    return code;
}

const char *ts_error_format(const ts_error *err, char *buf, size_t cap)
{
    if (err->file[0] && err->line > 0 && err->column > 0)
        snprintf(buf, cap, "%s:%d:%d: %s", err->file, err->line, err->column, err->msg);
    else if (err->file[0] && err->line > 0) /* a line-oriented file: no column */
        snprintf(buf, cap, "%s:%d: %s", err->file, err->line, err->msg);
    else if (err->file[0])
        snprintf(buf, cap, "%s: %s", err->file, err->msg);
    else
        snprintf(buf, cap, "%s", err->msg);
    return buf;
}
