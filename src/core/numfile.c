/* A column of numbers from a text file (numfile.h). */
#include "tailsweep/numfile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The last field of a line: after its last comma, or its last run of non-blanks; trimmed. */
static char *last_field(char *line)
{
    char *comment = strchr(line, '#');
    if (comment) *comment = '\0';
    char *end = line + strlen(line);
    while (end > line && isspace((unsigned char)end[-1])) *--end = '\0';
    char *comma = strrchr(line, ',');
    char *start = comma ? comma + 1 : line;
    if (!comma) {
        char *p = end;
        while (p > line && !isspace((unsigned char)p[-1])) p--;
        start = p;
    }
    while (isspace((unsigned char)*start)) start++;
    return start;
}

/* A finite double that is the whole field. */
static int parse_number(const char *field, double *x)
{
    if (!*field) return 0;
    char *end;
    errno = 0;
    *x = strtod(field, &end);
    return *end == '\0' && end != field && isfinite(*x) && errno != ERANGE;
}

static int append(ts_numbers *out, size_t *cap, double x, size_t line)
{
    if (out->n == *cap) {
        size_t bigger = *cap ? 2 * *cap : 256;
        double *v = realloc(out->values, bigger * sizeof *v);
        if (!v) return -1;
        out->values = v;
        size_t *l = realloc(out->lines, bigger * sizeof *l);
        if (!l) return -1;
        out->lines = l;
        *cap = bigger;
    }
    out->values[out->n] = x;
    out->lines[out->n++] = line;
    return 0;
}

int ts_numbers_read(FILE *f, const char *name, size_t max_bytes, ts_numbers *out,
                    ts_error *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0, line_no = 0, bytes = 0, buf_cap = 256;
    char *line = malloc(buf_cap);
    int rc = line ? TS_OK : ts_error_set(err, TS_ERUNTIME, "out of memory");
    int seen_content = 0;
    while (rc == TS_OK) {
        size_t len = 0;
        int c = EOF;
        while ((c = fgetc(f)) != EOF && c != '\n') {
            if (++bytes > max_bytes) break;
            if (len + 1 >= buf_cap) {
                char *bigger = realloc(line, buf_cap *= 2);
                if (!bigger) {
                    rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
                    break;
                }
                line = bigger;
            }
            if (c == '\0') c = ' '; /* a NUL byte is not text: it fails the number below */
            line[len++] = (char)c;
        }
        if (rc) break;
        if (bytes > max_bytes) {
            rc = ts_error_set(err, TS_EUSAGE, "%s: larger than %zu bytes", name, max_bytes);
            break;
        }
        if (c == EOF && len == 0) break;
        line[len] = '\0';
        line_no++;
        char *field = last_field(line);
        if (!*field) continue;
        double x;
        if (!parse_number(field, &x)) {
            if (!seen_content) { /* a header */
                seen_content = 1;
                continue;
            }
            rc = ts_error_at(err, TS_EUSAGE, name, (int)line_no, 0,
                             "expected a finite number%s, found \"%.60s\"",
                             strchr(line, ',') ? " in the last column" : "", field);
            break;
        }
        seen_content = 1;
        if (append(out, &cap, x, line_no)) rc = ts_error_set(err, TS_ERUNTIME, "out of memory");
        if (c == EOF) break;
    }
    if (rc == TS_OK && ferror(f))
        rc = ts_error_set(err, TS_ERUNTIME, "%s: read error: %s", name, strerror(errno));
    if (rc == TS_OK && out->n == 0)
        rc = ts_error_set(err, TS_EUSAGE, "%s: no numbers (expected one per line, or a CSV whose "
                          "last column holds them)", name);
    free(line);
    if (rc) ts_numbers_free(out);
    return rc;
}

int ts_numbers_load(const char *path, size_t max_bytes, ts_numbers *out, ts_error *err)
{
    if (strcmp(path, "-") == 0) return ts_numbers_read(stdin, "<stdin>", max_bytes, out, err);
    FILE *f = fopen(path, "r");
    if (!f) return ts_error_set(err, TS_EUSAGE, "cannot read %s: %s", path, strerror(errno));
    int rc = ts_numbers_read(f, path, max_bytes, out, err);
    fclose(f);
    return rc;
}

void ts_numbers_free(ts_numbers *nums)
{
    free(nums->values);
    free(nums->lines);
    memset(nums, 0, sizeof *nums);
}
