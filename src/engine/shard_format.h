/* The on-disk format of the journal's shards and the helpers checkpoint.c (the parts directory),
 * shard.c (the writer) and shard_scan.c (the reader) share. Private to the engine.
 *
 * Shard file layout. Every integer and double is little-endian, encoded byte by byte below so a
 * shard written on one machine reads the same on any other (doubles as their IEEE-754 bits):
 *
 *   file header  "TSSHARD1" (8 bytes) | version u32 (= 1) | spec sha256, 64 hex characters
 *   record       magic u32 ("TSR1") | body length u32 | body | crc32 of the body u32 (zlib)
 *   body         item u64 | status i32 | rank i32 | wall_seconds f64 | host (64 bytes, NUL padded)
 *                | message length u32 | message bytes (no NUL) | nvalues u64 | values f64[nvalues]
 *
 * A record goes to the file in one write(2) at the end of the file, so a kill -9 leaves either
 * whole records or whole records plus one torn tail; the checksum catches a tail that has its
 * full length but not its content (a crash of the node before the page cache reached the disk).
 * Every invocation of a rank starts a new shard, so nothing is ever appended after a torn tail. */
#ifndef TAILSWEEP_SHARD_FORMAT_H
#define TAILSWEEP_SHARD_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

#include "tailsweep/checkpoint.h"
#include "tailsweep/error.h"

_Static_assert(sizeof(double) == 8, "shards store doubles as 8-byte IEEE-754 values");

#define SHARD_PREFIX "shard-"
#define SHARD_SUFFIX ".tsj"

#define SHARD_MAGIC "TSSHARD1"
#define SHARD_MAGIC_LEN 8
#define SHARD_VERSION 1u
#define SHA_HEX_LEN 64
#define FILE_HEADER_LEN (SHARD_MAGIC_LEN + 4 + SHA_HEX_LEN)

#define RECORD_MAGIC 0x31525354u /* the bytes "TSR1" read as a little-endian u32 */
#define RECORD_FRAME 8           /* magic + body length */
#define RECORD_TRAILER 4         /* crc32 */

/* Offsets inside a body; the message, nvalues and the values follow at variable offsets. */
#define BODY_ITEM 0
#define BODY_STATUS 8
#define BODY_RANK 12
#define BODY_WALL 16
#define BODY_HOST 24
#define BODY_MSGLEN (BODY_HOST + TS_HOST_MAX)
#define BODY_MSG (BODY_MSGLEN + 4)
#define BODY_FIXED (BODY_MSG + 8) /* a body without message and values */
#define MESSAGE_LEN_MAX (TS_MESSAGE_MAX - 1)
/* Everything of a body before its values, at most. */
#define BODY_PREFIX_MAX (BODY_MSG + MESSAGE_LEN_MAX + 8)

/* ------------------------------------------------------------------ little-endian encoding */

static inline void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void put_f64(unsigned char *p, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    put_u64(p, bits);
}

static inline uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static inline uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline double get_f64(const unsigned char *p)
{
    uint64_t bits = get_u64(p);
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static inline int32_t get_i32(const unsigned char *p)
{
    uint32_t u = get_u32(p);
    int32_t v;
    memcpy(&v, &u, sizeof v); /* two's complement, without implementation-defined conversion */
    return v;
}

static inline void put_i32(unsigned char *p, int32_t v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    put_u32(p, u);
}

static inline uint32_t crc_of(uint32_t crc, const unsigned char *p, size_t n)
{
    /* zlib's crc32 takes a uInt length; a body never exceeds UINT32_MAX bytes, but feed it in
     * pieces anyway so no narrowing can ever drop bytes. */
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
}

static inline int valid_status(int64_t s)
{
    return s == TS_DONE || s == TS_DIVERGED || s == TS_FAILED;
}

/* ------------------------------------------------------------------ shared helpers */

/* Paths of every shard in dir, sorted by file name so that scans are deterministic (shard_scan.c;
 * free them with ts_fs_free_names). */
int ts_ckpt_list_shards(const char *dir, char ***paths, size_t *count, ts_error *err);

/* What a scan accepts: sha NULL takes shards of any sweep, check_nvalues 0 any value count. */
typedef struct scan_rules {
    const char *sha;
    uint64_t nitems;
    int check_nvalues;
    size_t nvalues;
} scan_rules;

/* Indexes the shards in dir that the rules accept (shard_scan.c). */
int ts_ckpt_scan(const char *dir, const scan_rules *rules, ts_parts_index *idx, ts_error *err);

#endif
