/* The spec parser's diagnostics (spec_internal.h): errors at a node with the spec's name, line
 * and column, descriptions of what was found, "did you mean" suggestions, and the checks every
 * mapping gets. A leaf of the parser: spec.c and spec_values.c call it, it calls neither. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailsweep/spec.h"

#include "spec_internal.h"

int spec_fail_at(spec_parser *sp, int line, int column, const char *fmt, ...)
{
    char msg[sizeof sp->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ts_error_at(sp->err, TS_EUSAGE, sp->name, line, column, "%s", msg);
}

int spec_fail(spec_parser *sp, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[sizeof sp->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = n ? (int)n->start_mark.line + 1 : 1;
    int column = n ? (int)n->start_mark.column + 1 : 1;
    return ts_error_at(sp->err, TS_EUSAGE, sp->name, line, column, "%s", msg);
}

int spec_out_of_memory(spec_parser *sp)
{
    return ts_error_set(sp->err, TS_ERUNTIME, "%s: out of memory", sp->name);
}

/* What a node is, for "found ..." in messages. */
const char *spec_describe(const yaml_node_t *n, char *buf, size_t cap)
{
    switch (n->type) {
    case YAML_SEQUENCE_NODE:
        return sequence_length(n) ? "a list" : "an empty list []";
    case YAML_MAPPING_NODE:
        return mapping_length(n) ? "a mapping" : "an empty mapping {}";
    case YAML_SCALAR_NODE:
        if (is_null(n))
            return "nothing";
        if (strlen(text_of(n)) > 60)
            snprintf(buf, cap, "\"%.57s...\"", text_of(n));
        else
            snprintf(buf, cap, "\"%s\"", text_of(n));
        return buf;
    default:
        return "nothing";
    }
}

/* ------------------------------------------------------------------ "did you mean" */

/* Case-insensitive Levenshtein distance with two rows. Hand-written: neither libyaml, GSL nor
 * the C library has one, and the words are short. Words longer than the buffer count as far. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { CAP = 128 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= CAP || lb >= CAP)
        return SIZE_MAX;
    size_t prev[CAP], cur[CAP];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + (same ? 0 : 1);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

const char *ts_spec_nearest(const char *word, const char *const *candidates)
{
    if (!word || !candidates)
        return NULL;
    size_t len = strlen(word);
    /* A typo is at most two edits, or a third of the word for long names; a suggestion that
     * shares no letter position with the word (distance >= both lengths) helps nobody. */
    size_t allowed = len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (const char *const *c = candidates; *c; c++) {
        size_t d = edit_distance(word, *c);
        size_t longer = strlen(*c) > len ? strlen(*c) : len;
        if (d <= allowed && d < longer && d < best_d) {
            best = *c;
            best_d = d;
        }
    }
    return best;
}

/* "; did you mean "x"?" when a candidate is close, else "; expected one of a, b, c". */
const char *spec_suggestion(const char *word, const char *const *candidates, char *buf,
                            size_t cap)
{
    const char *near = ts_spec_nearest(word, candidates);
    if (near) {
        snprintf(buf, cap, "; did you mean \"%s\"?", near);
        return buf;
    }
    size_t used = (size_t)snprintf(buf, cap, "; expected one of ");
    for (const char *const *c = candidates; *c && used < cap; c++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", c == candidates ? "" : ", ", *c);
    return buf;
}

/* A NULL-terminated array of the experiment's parameter names (caller frees the array). */
/* Every key a scalar, no key twice; an error at the second occurrence. */
int spec_check_keys(spec_parser *sp, const yaml_node_t *map, const char *path)
{
    char buf[96];
    size_t n = mapping_length(map);
    for (size_t k = 0; k < n; k++) {
        const yaml_node_t *key = mapping_key(sp, map, k);
        if (!is_scalar(key))
            return spec_fail(sp, key, "%s%sexpected a name as key, found %s", path,
                             *path ? ": " : "", spec_describe(key, buf, sizeof buf));
        for (size_t j = 0; j < k; j++) {
            const yaml_node_t *first = mapping_key(sp, map, j);
            if (!strcmp(text_of(first), text_of(key)))
                return spec_fail(sp, key, "%s%sduplicate key \"%s\" (first at line %d)", path,
                                 *path ? ": " : "", text_of(key), (int)first->start_mark.line + 1);
        }
    }
    return TS_OK;
}
