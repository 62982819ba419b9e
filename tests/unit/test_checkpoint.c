/* The shard journal under OUT.h5.parts/: round trips, first-valid-wins, torn tails and corrupt
 * records at every byte, foreign shards, spec.canonical and its refusal messages, and a writer
 * killed for real with SIGKILL. Every test works in its own mkdtemp directory under /tmp. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <gsl/gsl_rng.h>

#include "tailsweep/checkpoint.h"
#include "check_main.h"

/* Two spec hashes: 64 hex digits each. */
static const char SHA_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char SHA_B[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* The layout src/engine/shard_format.h documents (docs/architecture.md section 5.5), restated here
 * so that the tests check the format itself rather than echo the implementation's constants. */
#define FILE_HEADER 76 /* "TSSHARD1", u32 version, 64 hex digits */
#define BODY_FIXED 100 /* u64 item, i32 status, i32 rank, f64 wall, 64 host, u32 msglen, u64 nv */
static size_t record_size(size_t msglen, size_t nvalues)
{
    return 8 + BODY_FIXED + msglen + 8 * nvalues + 4;
}

/* ------------------------------------------------------------------ helpers */

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/ts-checkpoint-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    char *d = strdup(tmpl);
    ck_assert_ptr_nonnull(d);
    return d;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        ck_assert_ptr_nonnull(d);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *child = join(path, de->d_name);
            remove_tree(child);
            free(child);
        }
        closedir(d);
        ck_assert_int_eq(rmdir(path), 0);
    } else
        ck_assert_int_eq(unlink(path), 0);
}

/* Names of the shard files in dir, sorted; returns the count. */
static size_t list_shards(const char *dir, char names[][256], size_t cap)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "shard-", 6) == 0 && n < cap)
            snprintf(names[n++], 256, "%s", de->d_name);
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[256];
            memcpy(t, names[j], 256);
            memcpy(names[j], names[j - 1], 256);
            memcpy(names[j - 1], t, 256);
        }
    return n;
}

static char *only_shard(const char *dir)
{
    char names[4][256];
    ck_assert_uint_eq(list_shards(dir, names, 4), 1);
    return join(dir, names[0]);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *buf, size_t len, const char *mode)
{
    FILE *f = fopen(path, mode);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static char *slurp_text(const char *path)
{
    size_t len;
    char *t = (char *)slurp(path, &len);
    t[len] = '\0';
    return t;
}

/* A value that differs with item and position, with exact binary fractions and the special
 * values a run can produce, so that any mix-up or lossy encoding shows. */
static double value_of(uint64_t item, size_t j)
{
    switch ((item + j) % 7) {
    case 0: return NAN;
    case 1: return -0.0;
    case 2: return INFINITY;
    case 3: return 0.1 * (double)item - (double)j; /* not a binary fraction: every bit counts */
    default: return (double)item * 1024.0 + (double)j + 0.125;
    }
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static ts_status status_of(uint64_t item)
{
    static const ts_status s[] = {TS_DONE, TS_DIVERGED, TS_FAILED};
    return s[item % 3];
}

/* A record for item whose every field derives from item (and a marker for telling writers of the
 * same item apart); values must hold nvalues doubles. */
static void fill_record(ts_run_record *rec, uint64_t item, int marker, double *values,
                        size_t nvalues)
{
    memset(rec, 0, sizeof *rec);
    rec->item = item;
    rec->status = status_of(item);
    rec->rank = (int32_t)(item % 5) - 2; /* negative ranks too: the i32 must round-trip */
    rec->wall_seconds = 0.1 * (double)item + marker; /* every bit of a double counts */
    snprintf(rec->host, sizeof rec->host, "node%03d-m%d", (int)(item % 997), marker);
    if (rec->status == TS_FAILED)
        snprintf(rec->message, sizeof rec->message, "run %llu failed: step %d",
                 (unsigned long long)item, (int)(item * 7));
    for (size_t j = 0; j < nvalues; j++)
        values[j] = value_of(item, j) + (j == 1 ? marker : 0);
    rec->values = values;
    rec->nvalues = nvalues;
}

static void write_shard(const char *dir, int rank, const char *sha, const uint64_t *items,
                        size_t n, int marker, size_t nvalues)
{
    ts_error err;
    ts_error_clear(&err);
    ts_shard_writer *w = ts_shard_create(dir, rank, sha, 0.0, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    double *values = malloc((nvalues ? nvalues : 1) * sizeof *values);
    ck_assert_ptr_nonnull(values);
    for (size_t i = 0; i < n; i++) {
        ts_run_record rec;
        fill_record(&rec, items[i], marker, values, nvalues);
        ck_assert_msg(ts_shard_append(w, &rec, &err) == TS_OK, "%s", err.msg);
    }
    free(values);
    ck_assert_msg(ts_shard_close(w, &err) == TS_OK, "%s", err.msg);
}

static void write_items(const char *dir, int rank, const char *sha, uint64_t first,
                        uint64_t count, int marker, size_t nvalues)
{
    uint64_t *items = malloc((count ? count : 1) * sizeof *items);
    ck_assert_ptr_nonnull(items);
    for (uint64_t i = 0; i < count; i++)
        items[i] = first + i;
    write_shard(dir, rank, sha, items, count, marker, nvalues);
    free(items);
}

/* Reads item back and checks it against fill_record(item, marker). */
static void check_item(ts_parts_index *idx, uint64_t item, int marker, size_t nvalues)
{
    ts_error err;
    ts_error_clear(&err);
    const ts_parts_entry *e = ts_parts_find(idx, item);
    ck_assert_msg(e != NULL, "item %llu missing", (unsigned long long)item);
    ck_assert_uint_eq(e->item, item);
    ck_assert_int_eq(e->status, status_of(item));
    double *got = malloc((nvalues ? nvalues : 1) * sizeof *got);
    double *want = malloc((nvalues ? nvalues : 1) * sizeof *want);
    ck_assert(got && want);
    ts_run_record rec, expect;
    ck_assert_msg(ts_parts_read(idx, e, &rec, got, nvalues, &err) == TS_OK, "%s", err.msg);
    fill_record(&expect, item, marker, want, nvalues);
    ck_assert_uint_eq(rec.item, expect.item);
    ck_assert_int_eq(rec.status, expect.status);
    ck_assert_int_eq(rec.rank, expect.rank);
    ck_assert(same_bits(rec.wall_seconds, expect.wall_seconds));
    ck_assert_str_eq(rec.host, expect.host);
    ck_assert_str_eq(rec.message, expect.message);
    ck_assert_ptr_eq(rec.values, got);
    ck_assert_uint_eq(rec.nvalues, nvalues);
    for (size_t j = 0; j < nvalues; j++)
        ck_assert_msg(same_bits(got[j], want[j]), "item %llu value %zu: %g, not %g",
                      (unsigned long long)item, j, got[j], want[j]);
    free(got);
    free(want);
}

static void scan_ok(const char *dir, const char *sha, uint64_t nitems, size_t nvalues,
                    ts_parts_index *idx)
{
    ts_error err;
    ts_error_clear(&err);
    ck_assert_msg(ts_parts_scan(dir, sha, nitems, nvalues, idx, &err) == TS_OK, "%s", err.msg);
}

/* ------------------------------------------------------------------ round trips */

START_TEST(parts_dir_appends_parts_to_the_output_name)
{
    char *d = ts_parts_dir("results/q.h5");
    ck_assert_str_eq(d, "results/q.h5.parts");
    free(d);
}
END_TEST

START_TEST(appended_records_scan_back_with_every_field_intact)
{
    char *dir = make_tmpdir();
    const uint64_t n = 60;
    const size_t nv = 9;
    write_items(dir, 3, SHA_A, 0, n, 0, nv);
    ts_parts_index idx;
    scan_ok(dir, SHA_A, n, nv, &idx);
    ck_assert_uint_eq(idx.nfiles, 1);
    ck_assert_uint_eq(idx.nentries, n);
    ck_assert_uint_eq(idx.torn, 0);
    for (size_t i = 0; i < idx.nentries; i++)
        ck_assert_uint_eq(idx.entries[i].item, i); /* sorted, one per item */
    /* Read in an order unlike the file's, so reads cannot lean on a sequential position. */
    for (uint64_t k = 0; k < n; k++)
        check_item(&idx, (k * 37) % n, 0, nv);
    ck_assert_ptr_null(ts_parts_find(&idx, n));
    ts_parts_index_free(&idx);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(entries_follow_the_documented_layout)
{
    /* Offsets and lengths computed from the format description, not from the code. */
    char *dir = make_tmpdir();
    const size_t nv = 4;
    write_items(dir, 0, SHA_A, 0, 6, 0, nv);
    ts_parts_index idx;
    scan_ok(dir, SHA_A, 6, nv, &idx);
    uint64_t offset = FILE_HEADER;
    for (uint64_t item = 0; item < 6; item++) {
        ts_run_record rec;
        double v[4];
        fill_record(&rec, item, 0, v, nv);
        size_t len = record_size(strlen(rec.message), nv);
        const ts_parts_entry *e = ts_parts_find(&idx, item);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->offset, offset);
        ck_assert_uint_eq(e->length, len);
        offset += len;
    }
    char *path = only_shard(dir);
    size_t size;
    unsigned char *bytes = slurp(path, &size);
    ck_assert_uint_eq(size, offset);
    ck_assert_int_eq(memcmp(bytes, "TSSHARD1", 8), 0);
    ck_assert(bytes[8] == 1 && bytes[9] == 0 && bytes[10] == 0 && bytes[11] == 0); /* version */
    ck_assert_int_eq(memcmp(bytes + 12, SHA_A, 64), 0);
    free(bytes);
    free(path);
    ts_parts_index_free(&idx);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(long_host_and_message_are_cut_to_their_buffers)
{
    char *dir = make_tmpdir();
    ts_error err;
    ts_error_clear(&err);
    /* An hour between fsyncs: the explicit sync and the close do it. */
    ts_shard_writer *w = ts_shard_create(dir, 0, SHA_A, 3600.0, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    ts_run_record rec;
    double v[2];
    fill_record(&rec, 2, 0, v, 2);
    v[0] = 1.5;
    v[1] = -2.5;
    memset(rec.host, 'h', sizeof rec.host);       /* no NUL at all */
    memset(rec.message, 'm', sizeof rec.message); /* no NUL at all */
    ck_assert_msg(ts_shard_append(w, &rec, &err) == TS_OK, "%s", err.msg);
    ck_assert_int_eq(ts_shard_sync(w, &err), TS_OK);
    ck_assert_int_eq(ts_shard_close(w, &err), TS_OK);

    ts_parts_index idx;
    scan_ok(dir, SHA_A, 3, 2, &idx);
    ck_assert_uint_eq(idx.nentries, 1);
    ts_run_record back;
    double got[2];
    ck_assert_int_eq(ts_parts_read(&idx, &idx.entries[0], &back, got, 2, &err), TS_OK);
    ck_assert_uint_eq(strlen(back.host), TS_HOST_MAX - 1);
    ck_assert_uint_eq(strlen(back.message), TS_MESSAGE_MAX - 1);
    ck_assert_uint_eq(strspn(back.message, "m"), TS_MESSAGE_MAX - 1);
    ck_assert(got[0] == 1.5 && got[1] == -2.5);
    ts_parts_index_free(&idx);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(append_refuses_a_status_that_is_not_a_finished_run)
{
    char *dir = make_tmpdir();
    ts_error err;
    ts_error_clear(&err);
    ts_shard_writer *w = ts_shard_create(dir, 0, SHA_A, 0.0, &err);
    ck_assert_ptr_nonnull(w);
    ts_run_record rec;
    double v[1];
    fill_record(&rec, 0, 0, v, 1);
    rec.status = TS_MISSING;
    ck_assert_int_eq(ts_shard_append(w, &rec, &err), TS_ERUNTIME);
    ck_assert_int_eq(ts_shard_close(w, &err), TS_OK);
    ts_parts_index idx;
    scan_ok(dir, SHA_A, 1, 1, &idx);
    ck_assert_uint_eq(idx.nentries, 0);
    ck_assert_uint_eq(idx.torn, 0);
    ts_parts_index_free(&idx);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(scan_of_an_empty_dir_is_empty_and_of_a_missing_dir_an_error)
{
    char *dir = make_tmpdir();
    ts_parts_index idx;
    scan_ok(dir, SHA_A, 10, 1, &idx);
    ck_assert_uint_eq(idx.nentries, 0);
    ck_assert_uint_eq(idx.nfiles, 0);
    ck_assert_ptr_null(ts_parts_find(&idx, 0));
    ts_parts_index_free(&idx);
    char *missing = join(dir, "nothing-here");
    ts_error err;
    ts_error_clear(&err);
    ck_assert_int_eq(ts_parts_scan(missing, SHA_A, 10, 1, &idx, &err), TS_ERUNTIME);
    ck_assert_ptr_nonnull(strstr(err.msg, missing));
    ck_assert_ptr_nonnull(strstr(err.msg, strerror(ENOENT)));
    ts_parts_index_free(&idx);
    free(missing);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------ which record counts */

START_TEST(first_valid_record_wins_for_duplicate_items)
{
    char *dir = make_tmpdir();
    const size_t nv = 3;
    /* r0 sorts before r1 whatever the time stamps: its items 3..4 win over r1's. Within r0 the
     * earlier record of item 2 wins over its repeat at the end of the same file. */
    uint64_t r0[] = {0, 1, 2, 3, 4, 2};
    write_shard(dir, 0, SHA_A, r0, 6, 10, nv);
    write_items(dir, 1, SHA_A, 3, 5, 20, nv); /* items 3..7 */
    /* A second writer of rank 0 in the same second must get a file of its own. */
    uint64_t again[] = {5};
    write_shard(dir, 0, SHA_A, again, 1, 30, nv);
    char names[4][256];
    ck_assert_uint_eq(list_shards(dir, names, 4), 3);

    ts_parts_index idx;
    scan_ok(dir, SHA_A, 8, nv, &idx);
    ck_assert_uint_eq(idx.nentries, 8);
    ck_assert_uint_eq(idx.torn, 0);
    for (uint64_t item = 0; item <= 4; item++)
        check_item(&idx, item, 10, nv);
    check_item(&idx, 5, 30, nv); /* every r0 file sorts before r1's */
    for (uint64_t item = 6; item <= 7; item++)
        check_item(&idx, item, 20, nv);
    const ts_parts_entry *e = ts_parts_find(&idx, 2);
    ts_run_record rec;
    double v[3];
    fill_record(&rec, 0, 10, v, nv);
    ck_assert_uint_eq(e->offset, FILE_HEADER + 2 * record_size(strlen(rec.message), nv));
    ts_parts_index_free(&idx);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(duplicates_resolve_in_file_name_order_not_rank_order)
{
    /* Rank r journals items 0..r, so item k has writers k..11; the winner is the writer whose
     * file name sorts first ("shard-r10-" before "shard-r2-"), whatever order readdir gives. */
    enum { RANKS = 12 };
    char *dir = make_tmpdir();
    const size_t nv = 2;
    for (int r = 0; r < RANKS; r++)
        write_items(dir, r, SHA_A, 0, (uint64_t)r + 1, 100 + r, nv);
    char names[RANKS][256];
    ck_assert_uint_eq(list_shards(dir, names, RANKS), RANKS);
    ts_parts_index idx;
    scan_ok(dir, SHA_A, RANKS, nv, &idx);
    ck_assert_uint_eq(idx.nentries, RANKS);
    for (uint64_t item = 0; item < RANKS; item++) {
        int winner = -1;
        for (int i = 0; i < RANKS && winner < 0; i++) {
            int rank;
            ck_assert_int_eq(sscanf(names[i], "shard-r%d-", &rank), 1);
            if ((uint64_t)rank >= item)
                winner = rank;
        }
        check_item(&idx, item, 100 + winner, nv);
    }
    ts_parts_index_free(&idx);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(a_corrupt_record_is_skipped_for_a_valid_one_in_a_later_shard)
{
    char *dir = make_tmpdir();
    const size_t nv = 3;
    write_items(dir, 0, SHA_A, 0, 4, 10, nv);
    write_items(dir, 1, SHA_A, 0, 4, 20, nv);
    char names[4][256];
    ck_assert_uint_eq(list_shards(dir, names, 4), 2);
    char *first = join(dir, names[0]);
    size_t size;
    unsigned char *bytes = slurp(first, &size);
    ts_run_record rec;
    double v[3];
    fill_record(&rec, 0, 10, v, nv);
    size_t item2 = FILE_HEADER + 2 * record_size(strlen(rec.message), nv);
    bytes[item2 + 40] ^= 0x10; /* inside item 2's body: r0 keeps items 0 and 1 only */
    spit(first, bytes, size, "wb");
    ts_parts_index idx;
    scan_ok(dir, SHA_A, 4, nv, &idx);
    ck_assert_uint_eq(idx.nentries, 4);
    ck_assert_uint_eq(idx.torn, 1);
    check_item(&idx, 0, 10, nv);
    check_item(&idx, 1, 10, nv);
    check_item(&idx, 2, 20, nv);
    check_item(&idx, 3, 20, nv);
    ts_parts_index_free(&idx);
    free(bytes);
    free(first);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* Shard bytes for records 0..k-1 (as write_items with marker 0 lays them out): where each record
 * starts. */
static void record_offsets(size_t k, size_t nv, size_t *offsets)
{
    size_t at = FILE_HEADER;
    for (size_t i = 0; i <= k; i++) {
        offsets[i] = at;
        ts_run_record rec;
        double v[16];
        fill_record(&rec, i, 0, v, nv);
        at += record_size(strlen(rec.message), nv);
    }
}

START_TEST(a_torn_tail_at_any_byte_is_counted_and_earlier_records_kept)
{
    char *dir = make_tmpdir();
    const size_t nv = 3, k = 6;
    write_items(dir, 0, SHA_A, 0, k, 0, nv);
    char *path = only_shard(dir);
    size_t size;
    unsigned char *bytes = slurp(path, &size);
    size_t off[7];
    record_offsets(k, nv, off);
    ck_assert_uint_eq(off[k], size);
    /* Every cut inside the file header, and every cut inside the last record (from its magic
     * through its crc). */
    for (size_t cut = 0; cut < size; cut++) {
        if (cut >= FILE_HEADER && cut < off[k - 1])
            continue;
        spit(path, bytes, cut, "wb");
        ts_parts_index idx;
        scan_ok(dir, SHA_A, k, nv, &idx);
        if (cut < FILE_HEADER) {
            /* No whole header: not a shard of this sweep yet, and nothing to count. */
            ck_assert_uint_eq(idx.nfiles, 0);
            ck_assert_uint_eq(idx.nentries, 0);
            ck_assert_uint_eq(idx.torn, 0);
        } else {
            ck_assert_msg(idx.nentries == k - 1, "cut at %zu kept %zu", cut, idx.nentries);
            ck_assert_uint_eq(idx.torn, cut > off[k - 1] ? 1 : 0);
            ck_assert_uint_eq(idx.entries[k - 2].item, k - 2);
            if (cut == off[k - 1] + 1 || cut == size - 1)
                for (uint64_t item = 0; item < k - 1; item++)
                    check_item(&idx, item, 0, nv);
        }
        ts_parts_index_free(&idx);
    }
    free(bytes);
    free(path);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(a_flipped_byte_anywhere_in_a_record_stops_its_file_there)
{
    char *dir = make_tmpdir();
    const size_t nv = 3, k = 6, bad = 2;
    write_items(dir, 0, SHA_A, 0, k, 0, nv);
    char *path = only_shard(dir);
    size_t size;
    unsigned char *bytes = slurp(path, &size);
    size_t off[7];
    record_offsets(k, nv, off);
    for (size_t at = off[bad]; at < off[bad + 1]; at++) {
        bytes[at] ^= 0xA5;
        spit(path, bytes, size, "wb");
        bytes[at] ^= 0xA5;
        ts_parts_index idx;
        scan_ok(dir, SHA_A, k, nv, &idx);
        /* Records after the corrupt one are whole, but nothing after a broken frame is
         * trusted. */
        ck_assert_msg(idx.nentries == bad, "flip at %zu kept %zu", at, idx.nentries);
        ck_assert_uint_eq(idx.torn, 1);
        ts_parts_index_free(&idx);
    }
    free(bytes);
    free(path);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(read_detects_a_record_changed_after_the_scan)
{
    char *dir = make_tmpdir();
    const size_t nv = 3;
    write_items(dir, 0, SHA_A, 0, 3, 0, nv);
    ts_parts_index idx;
    scan_ok(dir, SHA_A, 3, nv, &idx);
    ck_assert_uint_eq(idx.nentries, 3);
    const ts_parts_entry *e = ts_parts_find(&idx, 1);
    char *path = only_shard(dir);
    size_t size;
    unsigned char *bytes = slurp(path, &size);
    bytes[e->offset + e->length - 12] ^= 0x01; /* a value byte */
    spit(path, bytes, size, "wb");
    ts_error err;
    ts_error_clear(&err);
    ts_run_record rec;
    double v[3];
    ck_assert_int_eq(ts_parts_read(&idx, e, &rec, v, nv, &err), TS_ERUNTIME);
    ck_assert_ptr_nonnull(strstr(err.msg, "checksum"));
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    /* A value count other than the record's is refused, not overrun. */
    ts_error_clear(&err);
    double big[4];
    ck_assert_int_eq(ts_parts_read(&idx, ts_parts_find(&idx, 0), &rec, big, 4, &err),
                     TS_ERUNTIME);
    check_item(&idx, 2, 0, nv);
    ts_parts_index_free(&idx);
    free(bytes);
    free(path);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(shards_of_another_sweep_or_with_a_bad_header_are_ignored)
{
    char *dir = make_tmpdir();
    const size_t nv = 2;
    write_items(dir, 0, SHA_B, 0, 10, 0, nv);
    write_items(dir, 1, SHA_A, 0, 3, 0, nv);
    char *junk = join(dir, "shard-r9-0-0.tsj");
    char garbage[FILE_HEADER + 40];
    memset(garbage, '.', sizeof garbage);
    memcpy(garbage, "TSSHARD9", 8); /* long enough for a header, but not one */
    spit(junk, garbage, sizeof garbage, "wb");
    ts_parts_index idx;
    scan_ok(dir, SHA_A, 10, nv, &idx);
    ck_assert_uint_eq(idx.nfiles, 1);
    ck_assert_uint_eq(idx.nentries, 3);
    ck_assert_uint_eq(idx.torn, 0);
    ts_parts_index_free(&idx);
    scan_ok(dir, SHA_B, 10, nv, &idx);
    ck_assert_uint_eq(idx.nentries, 10);
    ts_parts_index_free(&idx);
    free(junk);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* A record laid out by hand from the documented format (little-endian, zlib crc32 of the body),
 * so the reader is checked against the format and not only against its own writer. */
static size_t craft_record(unsigned char *out, uint64_t item, int32_t status, uint64_t nv,
                           const double *values)
{
    unsigned char *body = out + 8;
    size_t len = BODY_FIXED + 8 * nv;
    uint64_t fields[2] = {item, 0};
    memset(out, 0, 8 + len + 4);
    memcpy(out, "TSR1", 4);
    for (int i = 0; i < 4; i++)
        out[4 + i] = (unsigned char)(len >> (8 * i));
    for (int i = 0; i < 8; i++)
        body[i] = (unsigned char)(fields[0] >> (8 * i));
    for (int i = 0; i < 4; i++)
        body[8 + i] = (unsigned char)((uint32_t)status >> (8 * i));
    memset(body + 24, 'c', 64); /* a host filling all 64 bytes, no NUL */
    /* rank, wall and message length stay 0 */
    for (int i = 0; i < 8; i++)
        body[92 + i] = (unsigned char)(nv >> (8 * i));
    for (uint64_t j = 0; j < nv; j++) {
        uint64_t bits;
        memcpy(&bits, &values[j], 8);
        for (int i = 0; i < 8; i++)
            body[100 + 8 * j + (uint64_t)i] = (unsigned char)(bits >> (8 * i));
    }
    uint32_t crc = (uint32_t)crc32(0L, body, (uInt)len);
    for (int i = 0; i < 4; i++)
        body[len + (size_t)i] = (unsigned char)(crc >> (8 * i));
    return 8 + len + 4;
}

START_TEST(records_of_the_wrong_shape_count_as_torn_and_reading_goes_on)
{
    char *dir = make_tmpdir();
    const size_t nv = 3;
    ts_error err;
    ts_error_clear(&err);
    ts_shard_writer *w = ts_shard_create(dir, 0, SHA_A, 0.0, &err);
    ck_assert_ptr_nonnull(w);
    double v[4];
    ts_run_record rec;
    fill_record(&rec, 0, 0, v, nv);
    ck_assert_int_eq(ts_shard_append(w, &rec, &err), TS_OK);
    fill_record(&rec, 1, 0, v, nv + 1); /* wrong value count */
    ck_assert_int_eq(ts_shard_append(w, &rec, &err), TS_OK);
    fill_record(&rec, 2, 0, v, nv);
    ck_assert_int_eq(ts_shard_append(w, &rec, &err), TS_OK);
    fill_record(&rec, 4, 0, v, nv); /* item not below nitems = 4 */
    ck_assert_int_eq(ts_shard_append(w, &rec, &err), TS_OK);
    ck_assert_int_eq(ts_shard_close(w, &err), TS_OK);
    char *path = only_shard(dir);
    unsigned char buf[256];
    double cv[3] = {0.25, -1.0, 1e300};
    size_t n = craft_record(buf, 1, 0, nv, cv); /* status 0: not a finished run */
    spit(path, buf, n, "ab");
    n = craft_record(buf, 3, TS_DIVERGED, nv, cv); /* a good one after the bad ones */
    spit(path, buf, n, "ab");

    ts_parts_index idx;
    scan_ok(dir, SHA_A, 4, nv, &idx);
    ck_assert_uint_eq(idx.torn, 3);
    ck_assert_uint_eq(idx.nentries, 3);
    check_item(&idx, 0, 0, nv);
    check_item(&idx, 2, 0, nv);
    ck_assert_ptr_null(ts_parts_find(&idx, 1));
    const ts_parts_entry *e = ts_parts_find(&idx, 3);
    ck_assert_ptr_nonnull(e);
    double got[3];
    ck_assert_int_eq(ts_parts_read(&idx, e, &rec, got, nv, &err), TS_OK);
    ck_assert_int_eq(rec.status, TS_DIVERGED);
    ck_assert_uint_eq(strlen(rec.host), TS_HOST_MAX - 1); /* cut, never unterminated */
    ck_assert_uint_eq(strspn(rec.host, "c"), TS_HOST_MAX - 1);
    ck_assert_str_eq(rec.message, "");
    for (size_t j = 0; j < nv; j++)
        ck_assert(same_bits(got[j], cv[j]));
    ts_parts_index_free(&idx);
    free(path);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------ spec.canonical */

static const char CANON_1[] = "experiment: quadratic\nseed: 1\nrepeats: 2\nparam step_size: 0.1\n";
static const char CANON_2[] = "experiment: quadratic\nseed: 2\nrepeats: 2\nparam step_size: 0.1\n";

static size_t count_shards(const char *dir)
{
    char names[16][256];
    return list_shards(dir, names, 16);
}

START_TEST(prepare_creates_the_dir_with_parents_and_the_canonical_text)
{
    char *tmp = make_tmpdir();
    char *dir = join(tmp, "a/b/q.h5.parts");
    ts_error err;
    ts_error_clear(&err);
    int resumed = -1;
    ck_assert_msg(ts_parts_prepare(dir, CANON_1, 0, &resumed, &err) == TS_OK, "%s", err.msg);
    ck_assert_int_eq(resumed, 0);
    char *spec = join(dir, "spec.canonical");
    char *text = slurp_text(spec);
    ck_assert_str_eq(text, CANON_1);
    free(text);
    /* Only spec.canonical: the temporary it was written to is gone. */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    int entries = 0;
    while ((de = readdir(d)) != NULL)
        entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    ck_assert_int_eq(entries, 1);
    ck_assert_int_eq(ts_parts_check(dir, CANON_1, &err), TS_OK);
    free(spec);
    free(dir);
    remove_tree(tmp);
    free(tmp);
}
END_TEST

START_TEST(prepare_with_the_same_spec_resumes_and_keeps_the_shards)
{
    char *dir = make_tmpdir();
    ts_error err;
    ts_error_clear(&err);
    int resumed = -1;
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_1, 0, &resumed, &err), TS_OK);
    ck_assert_int_eq(resumed, 0);
    write_items(dir, 0, SHA_A, 0, 4, 0, 1);
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_1, 0, &resumed, &err), TS_OK);
    ck_assert_int_eq(resumed, 1);
    ck_assert_uint_eq(count_shards(dir), 1);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(a_stop_note_lasts_until_the_next_invocation_runs)
{
    char *dir = make_tmpdir();
    ts_error err;
    ts_error_clear(&err);
    int resumed;
    long when = -1;
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_1, 0, &resumed, &err), TS_OK);
    ck_assert_int_eq(ts_parts_stopped(dir, &when), 0);
    long before = (long)time(NULL);
    ck_assert_int_eq(ts_parts_note_stop(dir, &err), TS_OK);
    ck_assert_int_eq(ts_parts_stopped(dir, &when), 1);
    ck_assert(when >= before && when <= (long)time(NULL));
    /* a refused invocation (another spec) does not run: the note stays */
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_2, 0, &resumed, &err), TS_EUSAGE);
    ck_assert_int_eq(ts_parts_stopped(dir, &when), 1);
    /* an invocation that runs (resume, or --fresh) removes it */
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_1, 0, &resumed, &err), TS_OK);
    ck_assert_int_eq(ts_parts_stopped(dir, &when), 0);
    ck_assert_int_eq(ts_parts_note_stop(dir, &err), TS_OK);
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_2, 1, &resumed, &err), TS_OK);
    ck_assert_int_eq(ts_parts_stopped(dir, &when), 0);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* Prepares dir for `before`, journals `runs` distinct runs (one twice), then asks for `after`. */
static void refusal(const char *before, const char *after, size_t runs, ts_error *err)
{
    char *dir = make_tmpdir();
    int resumed;
    ck_assert_int_eq(ts_parts_prepare(dir, before, 0, &resumed, err), TS_OK);
    write_items(dir, 0, SHA_A, 0, runs, 0, 1);
    write_items(dir, 1, SHA_A, 0, runs ? 1 : 0, 0, 1); /* may be an empty shard */
    ts_error_clear(err);
    ck_assert_int_eq(ts_parts_prepare(dir, after, 0, &resumed, err), TS_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err->msg, dir));
    /* Nothing was discarded and the old spec stays. */
    ck_assert_uint_eq(count_shards(dir), 2);
    char *spec = join(dir, "spec.canonical");
    char *text = slurp_text(spec);
    ck_assert_str_eq(text, before);
    free(text);
    free(spec);
    remove_tree(dir);
    free(dir);
}

START_TEST(prepare_refuses_another_spec_naming_the_changed_line)
{
    ts_error err;
    refusal(CANON_1, CANON_2, 3, &err);
    ck_assert_msg(strstr(err.msg, "\"seed: 1\" is now \"seed: 2\"") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "--fresh") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, " 3 finished runs") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(prepare_refuses_another_spec_naming_an_added_or_removed_line)
{
    ts_error err;
    /* A line inserted in the middle: named as added, not as a change of the line it displaced. */
    refusal("a: 1\nc: 3\n", "a: 1\nb: 2\nc: 3\n", 1, &err);
    ck_assert_msg(strstr(err.msg, "\"b: 2\" was added") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, " 1 finished run)") != NULL, "%s", err.msg);
    refusal("a: 1\nb: 2\nc: 3\n", "a: 1\nc: 3\n", 0, &err);
    ck_assert_msg(strstr(err.msg, "\"b: 2\" was removed") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, " 0 finished runs") != NULL, "%s", err.msg);
    refusal("a: 1\nb: 2\n", "a: 1\nb: 2\nc: 3\n", 2, &err);
    ck_assert_msg(strstr(err.msg, "\"c: 3\" was added") != NULL, "%s", err.msg);
    refusal("a: 1\nb: 2\nc: 3\n", "a: 1\nb: 2\n", 2, &err);
    ck_assert_msg(strstr(err.msg, "\"c: 3\" was removed") != NULL, "%s", err.msg);
    refusal("a: 1\nb: 2\n", "a: 1\nb: 2", 2, &err); /* one byte short: still refused */
}
END_TEST

START_TEST(prepare_fresh_discards_the_shards_and_replaces_the_spec)
{
    char *dir = make_tmpdir();
    ts_error err;
    ts_error_clear(&err);
    int resumed;
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_1, 0, &resumed, &err), TS_OK);
    write_items(dir, 0, SHA_A, 0, 5, 0, 1);
    write_items(dir, 1, SHA_A, 5, 5, 0, 1);
    char *other = join(dir, "notes.txt"); /* not a shard: left alone */
    spit(other, "x", 1, "wb");
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_2, 1, &resumed, &err), TS_OK);
    ck_assert_int_eq(resumed, 0);
    ck_assert_uint_eq(count_shards(dir), 0);
    struct stat st;
    ck_assert_int_eq(stat(other, &st), 0);
    char *spec = join(dir, "spec.canonical");
    char *text = slurp_text(spec);
    ck_assert_str_eq(text, CANON_2);
    free(text);
    ts_parts_index idx;
    scan_ok(dir, SHA_A, 10, 1, &idx);
    ck_assert_uint_eq(idx.nentries, 0);
    ts_parts_index_free(&idx);
    /* --fresh on the same spec restarts it too. */
    write_items(dir, 0, SHA_A, 0, 2, 0, 1);
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_2, 1, &resumed, &err), TS_OK);
    ck_assert_int_eq(resumed, 0);
    ck_assert_uint_eq(count_shards(dir), 0);
    free(spec);
    free(other);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(check_compares_without_changing_anything)
{
    char *tmp = make_tmpdir();
    char *dir = join(tmp, "q.h5.parts");
    ts_error err;
    ts_error_clear(&err);
    ck_assert_int_eq(ts_parts_check(dir, CANON_1, &err), TS_ERUNTIME);
    ck_assert_msg(strstr(err.msg, "no sweep state at") && strstr(err.msg, dir), "%s", err.msg);
    struct stat st;
    ck_assert_int_ne(stat(dir, &st), 0); /* check creates nothing */
    int resumed;
    ck_assert_int_eq(ts_parts_prepare(dir, CANON_1, 0, &resumed, &err), TS_OK);
    write_items(dir, 0, SHA_A, 0, 2, 0, 1);
    ck_assert_int_eq(ts_parts_check(dir, CANON_1, &err), TS_OK);
    ts_error_clear(&err);
    ck_assert_int_eq(ts_parts_check(dir, CANON_2, &err), TS_EUSAGE);
    ck_assert_msg(strstr(err.msg, "\"seed: 1\" is now \"seed: 2\""), "%s", err.msg);
    ck_assert_msg(strstr(err.msg, " 2 finished runs"), "%s", err.msg);
    char *spec = join(dir, "spec.canonical");
    char *text = slurp_text(spec);
    ck_assert_str_eq(text, CANON_1);
    ck_assert_uint_eq(count_shards(dir), 1);
    free(text);
    free(spec);
    free(dir);
    remove_tree(tmp);
    free(tmp);
}
END_TEST

/* ------------------------------------------------------------------ a writer killed for real */

#define KILL_NV 8192 /* 64 KiB records: a kill sometimes lands inside a write */
#define KILL_MAX_RECORDS 1000 /* bounds the disk a child that outlives a failed test can fill */

static void child_writes_until_killed(const char *dir, int ready_fd)
{
    ts_error err;
    ts_shard_writer *w = ts_shard_create(dir, 0, SHA_A, 0.002, &err);
    if (!w)
        _exit(2);
    double *values = malloc(KILL_NV * sizeof *values);
    if (!values)
        _exit(2);
    for (uint64_t item = 0; item < KILL_MAX_RECORDS; item++) {
        ts_run_record rec;
        fill_record(&rec, item, 0, values, KILL_NV);
        if (ts_shard_append(w, &rec, &err) != TS_OK)
            _exit(3);
        if (item == 0 && write(ready_fd, "r", 1) != 1)
            _exit(4);
    }
    _exit(5); /* never reached in time: the parent kills it first */
}

START_TEST(a_killed_writer_leaves_whole_records_and_at_most_a_torn_tail)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    ck_assert_ptr_nonnull(rng);
    gsl_rng_set(rng, 20250611);
    size_t torn_rounds = 0;
    for (int round = 0; round < 8; round++) {
        char *dir = make_tmpdir();
        int ready[2];
        ck_assert_int_eq(pipe(ready), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(ready[0]);
            child_writes_until_killed(dir, ready[1]);
        }
        close(ready[1]);
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        close(ready[0]);
        /* A fixed-seed moment within the next 25 ms: the child is then mid-record, between
         * records or inside an fsync. */
        long ns = (long)(gsl_rng_uniform(rng) * 25e6);
        struct timespec pause = {0, ns};
        while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
            ;
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "the writer ended on its own (status %d)", status);

        ts_parts_index idx;
        scan_ok(dir, SHA_A, KILL_MAX_RECORDS, KILL_NV, &idx);
        ck_assert_uint_ge(idx.nentries, 1);
        ck_assert_uint_le(idx.torn, 1);
        for (size_t i = 0; i < idx.nentries; i++)
            ck_assert_uint_eq(idx.entries[i].item, i); /* none lost before the tail */
        check_item(&idx, 0, 0, KILL_NV);
        check_item(&idx, idx.nentries - 1, 0, KILL_NV);
        /* Every byte is accounted for: header, whole records, then less than one record. */
        char *path = only_shard(dir);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        size_t whole = FILE_HEADER;
        for (size_t i = 0; i < idx.nentries; i++)
            whole += idx.entries[i].length;
        ck_assert_uint_ge((size_t)st.st_size, whole);
        size_t tail = (size_t)st.st_size - whole;
        ts_run_record next;
        double *scratch = malloc(KILL_NV * sizeof *scratch);
        ck_assert_ptr_nonnull(scratch);
        fill_record(&next, idx.nentries, 0, scratch, KILL_NV);
        ck_assert_uint_lt(tail, record_size(strlen(next.message), KILL_NV));
        free(scratch);
        ck_assert_uint_eq(idx.torn, tail > 0 ? 1 : 0);
        torn_rounds += idx.torn;
        free(path);
        ts_parts_index_free(&idx);
        remove_tree(dir);
        free(dir);
    }
    (void)torn_rounds; /* how many kills tore a record depends on the machine's timing */
    gsl_rng_free(rng);
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *format = tcase_create("format");
    tcase_add_test(format, parts_dir_appends_parts_to_the_output_name);
    tcase_add_test(format, appended_records_scan_back_with_every_field_intact);
    tcase_add_test(format, entries_follow_the_documented_layout);
    tcase_add_test(format, long_host_and_message_are_cut_to_their_buffers);
    tcase_add_test(format, append_refuses_a_status_that_is_not_a_finished_run);
    tcase_add_test(format, scan_of_an_empty_dir_is_empty_and_of_a_missing_dir_an_error);
    suite_add_tcase(s, format);

    TCase *damage = tcase_create("damage");
    tcase_set_timeout(damage, 20);
    tcase_add_test(damage, first_valid_record_wins_for_duplicate_items);
    tcase_add_test(damage, duplicates_resolve_in_file_name_order_not_rank_order);
    tcase_add_test(damage, a_corrupt_record_is_skipped_for_a_valid_one_in_a_later_shard);
    tcase_add_test(damage, a_torn_tail_at_any_byte_is_counted_and_earlier_records_kept);
    tcase_add_test(damage, a_flipped_byte_anywhere_in_a_record_stops_its_file_there);
    tcase_add_test(damage, read_detects_a_record_changed_after_the_scan);
    tcase_add_test(damage, shards_of_another_sweep_or_with_a_bad_header_are_ignored);
    tcase_add_test(damage, records_of_the_wrong_shape_count_as_torn_and_reading_goes_on);
    suite_add_tcase(s, damage);

    TCase *spec = tcase_create("spec");
    tcase_add_test(spec, prepare_creates_the_dir_with_parents_and_the_canonical_text);
    tcase_add_test(spec, prepare_with_the_same_spec_resumes_and_keeps_the_shards);
    tcase_add_test(spec, prepare_refuses_another_spec_naming_the_changed_line);
    tcase_add_test(spec, prepare_refuses_another_spec_naming_an_added_or_removed_line);
    tcase_add_test(spec, prepare_fresh_discards_the_shards_and_replaces_the_spec);
    tcase_add_test(spec, check_compares_without_changing_anything);
    tcase_add_test(spec, a_stop_note_lasts_until_the_next_invocation_runs);
    suite_add_tcase(s, spec);

    TCase *kill9 = tcase_create("kill");
    tcase_set_timeout(kill9, 30);
    tcase_add_test(kill9, a_killed_writer_leaves_whole_records_and_at_most_a_torn_tail);
    suite_add_tcase(s, kill9);
    return s;
}

int main(void)
{
    return ts_test_run_suite(checkpoint_suite());
}
