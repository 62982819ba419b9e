/* Private to the spec parser (spec.c: the document; spec_values.c: YAML nodes to typed values).
 * Nothing here is part of the library's contract: the functions carry the spec_ prefix so that
 * they cannot clash with other modules, and hidden visibility keeps them out of the exported
 * symbols should the library ever be built shared. */
#ifndef TAILSWEEP_SPEC_INTERNAL_H
#define TAILSWEEP_SPEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "tailsweep/experiment.h"
#include "tailsweep/spec.h"

#pragma GCC visibility push(hidden)

/* Where a parameter was set, so that a second occurrence can name the first. */
typedef struct spec_site {
    const char *section; /* "params", "sweep", "zip[0]", ...; NULL when not set */
    char section_buf[32];
    int line, column;
} spec_site;

/* One parse: the document, where errors go, and what is built so far. */
typedef struct spec_parser {
    yaml_document_t *doc;
    const char *name;
    const char *text;
    size_t len;
    ts_error *err;
    ts_spec *spec;
    const ts_experiment *const *experiments; /* the registry it resolves names in */
    const ts_experiment *x;
    ts_grid *grid;
    spec_site *sites; /* [grid->nparams] */
} spec_parser;

/* ------------------------------------------------------------------ nodes */

/* Node accessors of libyaml's document API: static inline, as each is a line or two and a
 * private copy per file needs no exported name. */
static inline yaml_node_t *node(spec_parser *sp, int index)
{
    return yaml_document_get_node(sp->doc, index);
}

static inline const char *text_of(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static inline int is_scalar(const yaml_node_t *n) { return n->type == YAML_SCALAR_NODE; }
static inline int is_mapping(const yaml_node_t *n) { return n->type == YAML_MAPPING_NODE; }
static inline int is_sequence(const yaml_node_t *n) { return n->type == YAML_SEQUENCE_NODE; }

static inline size_t sequence_length(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static inline yaml_node_t *sequence_item(spec_parser *sp, const yaml_node_t *n, size_t k)
{
    return node(sp, n->data.sequence.items.start[k]);
}

static inline size_t mapping_length(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static inline yaml_node_t *mapping_key(spec_parser *sp, const yaml_node_t *n, size_t k)
{
    return node(sp, n->data.mapping.pairs.start[k].key);
}

static inline yaml_node_t *mapping_value(spec_parser *sp, const yaml_node_t *n, size_t k)
{
    return node(sp, n->data.mapping.pairs.start[k].value);
}

/* A YAML null (`key:` with nothing, `~`, `null`) only where a section may be empty. */
static inline int is_null(const yaml_node_t *n)
{
    if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = text_of(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

/* ------------------------------------------------------------------ spec.c */

/* Usage errors at a node (or at line:column), with the spec's name; always return TS_EUSAGE. */
int spec_fail_at(spec_parser *sp, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int spec_fail(spec_parser *sp, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int spec_out_of_memory(spec_parser *sp);
/* What a node is, for "found ..." in messages (buf holds a scalar's quoted text). */
const char *spec_describe(const yaml_node_t *n, char *buf, size_t cap);
/* "; did you mean "x"?" or "; expected one of a, b, c", written to buf. */
const char *spec_suggestion(const char *word, const char *const *candidates, char *buf,
                            size_t cap);
/* Every key of a mapping a scalar, no key twice. */
int spec_check_keys(spec_parser *sp, const yaml_node_t *map, const char *path);

/* ------------------------------------------------------------------ spec_values.c */

/* A plain scalar as a number: 0, or -1 when it is not one; *is_int when *i holds it exactly. */
int spec_parse_number(const yaml_node_t *n, double *x, int64_t *i, int *is_int);
/* x as an int64 if it is integral (within a few ulps) and representable. */
int spec_integral_value(double x, int64_t *out);
/* A parameter's value under params:, of any type (lists are owned by sp->grid). */
int spec_parse_fixed_value(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                           const char *path, ts_value *v);
/* An axis's values (a YAML sequence or a generator mapping), distinct; caller frees *out. */
int spec_parse_axis_values(spec_parser *sp, const ts_param_def *def, const yaml_node_t *n,
                           const char *path, ts_value **out, size_t *count);

#pragma GCC visibility pop

#endif
