/* pack_format.h — constants and the entry codec of the pack format shared
 * by pack_write.c and pack_read.c (the layout is described in pack.h).
 * Store-internal. */
#ifndef CKPTFS_STORE_PACK_FORMAT_H
#define CKPTFS_STORE_PACK_FORMAT_H

#include <stdint.h>
#include <string.h>

#include "store/le.h"
#include "store/pack.h"

#define PACK_VERSION 1
#define PACK_MAGIC "CKPTPACK"        /* first 8 bytes of the header */
#define PACK_FOOTER_MAGIC "CKPTPEND" /* last 8 bytes of the footer */
#define PACK_MAGIC_LEN 8

/* One index entry: id 32, type 1, offset u64, length u32, raw_length u32,
 * xxh3 u64, little endian. */
#define PACK_ENTRY_SIZE 57

static inline void pack_header_encode(uint8_t h[PACK_HEADER_SIZE])
{
	memcpy(h, PACK_MAGIC, PACK_MAGIC_LEN);
	le_put32(h + 8, PACK_VERSION);
	le_put32(h + 12, 0);
}

static inline void pack_entry_encode(const struct pack_entry *e, uint8_t p[PACK_ENTRY_SIZE])
{
	memcpy(p, e->id.b, ID_BYTES);
	p[32] = e->type;
	le_put64(p + 33, e->offset);
	le_put32(p + 41, e->length);
	le_put32(p + 45, e->raw_length);
	le_put64(p + 49, e->xxh);
}

/* Fields only: pack_parse_index judges them. */
static inline void pack_entry_decode(const uint8_t p[PACK_ENTRY_SIZE], struct pack_entry *e)
{
	memcpy(e->id.b, p, ID_BYTES);
	e->type = p[32];
	e->offset = le_get64(p + 33);
	e->length = le_get32(p + 41);
	e->raw_length = le_get32(p + 45);
	e->xxh = le_get64(p + 49);
}

#endif
