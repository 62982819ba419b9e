/* Crash-safe live state of a sweep: OUT.h5.parts/ holds spec.canonical (what the sweep is) and
 * one append-only journal ("shard") per rank and run. Each finished run is one checksummed
 * record, written with write(2) as soon as it finishes (so a kill -9 of the process loses
 * nothing finished) and fsync'd at least every few seconds and at the end (so a node crash loses
 * at most those seconds). A torn or corrupt record is skipped on reading and its run recomputed;
 * deterministic streams make the recomputed values identical. docs/architecture.md section 5. */
#ifndef TAILSWEEP_CHECKPOINT_H
#define TAILSWEEP_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "tailsweep/error.h"
#include "tailsweep/experiment.h"

#define TS_HOST_MAX 64
#define TS_MESSAGE_MAX 512

/* One finished run, as journalled. */
typedef struct ts_run_record {
    uint64_t item;        /* point * repeats + repeat */
    ts_status status;     /* TS_DONE, TS_DIVERGED or TS_FAILED */
    int32_t rank;
    double wall_seconds;
    char host[TS_HOST_MAX];
    char message[TS_MESSAGE_MAX]; /* the error of a failed run; "" otherwise */
    const double *values; /* ts_layout.total values (written even for failed runs: NaN) */
    size_t nvalues;
} ts_run_record;

/* "<output>.parts"; caller frees. */
char *ts_parts_dir(const char *output);

/* Make dir ready for a run of the sweep whose canonical text is `canonical` (mkdir -p; write
 * spec.canonical atomically). A dir holding another sweep's spec.canonical is refused with
 * TS_EUSAGE and a message naming the first difference (`"seed: 1" is now "seed: 2"`) unless
 * fresh; fresh always deletes the old shards, whatever the spec. *resumed is set to 1 when dir
 * already held this same sweep. */
int ts_parts_prepare(const char *dir, const char *canonical, int fresh, int *resumed,
                     ts_error *err);
/* Like prepare, but only compares (for status and collect): TS_EUSAGE on a different sweep,
 * TS_ERUNTIME when there is no such dir. */
int ts_parts_check(const char *dir, const char *canonical, ts_error *err);

/* An invocation that stopped on a signal notes it in dir (file "stopped": the time), so that
 * `tailsweep status` can say "stopped" at once instead of inferring it from the journal's age;
 * ts_parts_prepare removes the note when the next invocation starts. A crash leaves no note. */
int ts_parts_note_stop(const char *dir, ts_error *err);
/* 1 and *when (unix seconds) when dir holds such a note, else 0. */
int ts_parts_stopped(const char *dir, long *when);

typedef struct ts_shard_writer ts_shard_writer;

/* A new journal file in dir for this rank (its name is unique: rank, time, pid). spec_sha256 is
 * written into its header, and records of shards with another hash are ignored on reading.
 * sync_seconds bounds how long a record may wait for fsync (0: fsync every record). */
ts_shard_writer *ts_shard_create(const char *dir, int rank, const char *spec_sha256,
                                 double sync_seconds, ts_error *err);
int ts_shard_append(ts_shard_writer *w, const ts_run_record *rec, ts_error *err);
int ts_shard_sync(ts_shard_writer *w, ts_error *err);
/* Syncs, closes and frees (also on error). */
int ts_shard_close(ts_shard_writer *w, ts_error *err);

typedef struct ts_parts_entry {
    uint64_t item;
    uint32_t file;   /* index into ts_parts_index.files */
    uint64_t offset; /* of the record in that file */
    uint32_t length; /* of the whole record */
    int8_t status;
} ts_parts_entry;

typedef struct ts_parts_index {
    char *dir;
    size_t nfiles;
    char **files;             /* shard paths */
    ts_parts_entry *entries;  /* sorted by item, one per item (the first valid record wins) */
    size_t nentries;
    size_t torn;              /* records skipped: torn tail, bad checksum, wrong size */
    int *fds;                 /* [nfiles], opened lazily by ts_parts_read; -1 when closed */
    /* ts_parts_read's read-ahead, one window per file (allocated on first use): records read in
     * file order cost one read call per window instead of four per record. */
    unsigned char **window;   /* [nfiles] */
    uint64_t *window_at;      /* [nfiles] file offset of window[i][0] */
    size_t *window_len;       /* [nfiles] bytes valid in window[i] */
    size_t window_size;
} ts_parts_index;

/* Read every shard in dir. Records whose value count is not nvalues, or whose item is not below
 * nitems, are counted as torn. A dir without shards gives an empty index. */
int ts_parts_scan(const char *dir, const char *spec_sha256, uint64_t nitems, size_t nvalues,
                  ts_parts_index *idx, ts_error *err);
void ts_parts_index_free(ts_parts_index *idx);
/* Entry for item, or NULL. */
const ts_parts_entry *ts_parts_find(const ts_parts_index *idx, uint64_t item);
/* Read the record behind e (checksum verified again): fills rec (rec->values = values, which must
 * hold nvalues doubles). */
int ts_parts_read(ts_parts_index *idx, const ts_parts_entry *e, ts_run_record *rec,
                  double *values, size_t nvalues, ts_error *err);

#endif
