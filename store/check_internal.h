/* check_internal.h — what the files of the check module share.
 *
 * check.c       orchestration, reporting, the id map
 * check_catalog.c  the SQL check needs (its own statements, under db_lock)
 * check_rows.c     invalid project and snapshot rows
 * check_packs.c    packs: presence, index, rows, reading every blob
 * check_trees.c    snapshots: trees reachable, chunks indexed and sound
 * check_repair.c   indexing packs, recovering snapshot records
 */
#ifndef CKPTFS_STORE_CHECK_INTERNAL_H
#define CKPTFS_STORE_CHECK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/catalog.h"
#include "store/check.h"
#include "store/id.h"
#include "store/pack.h"

struct repo;

enum { PACK_OK = 0, PACK_MISSING = 1, PACK_BAD = 2 };

struct check_pack {
	char name[PACK_NAME_LEN + 1];
	int64_t dbid;  /* packs.id */
	uint64_t size; /* recorded */
	uint64_t count;
	uint8_t state; /* PACK_* */
};

/* One row of the catalog's blob index. */
struct check_blob {
	blob_id id;
	int64_t pack_dbid;
	uint32_t pack; /* index into ctx->packs, UINT32_MAX if unknown */
	uint64_t offset, xxh;
	uint32_t length, raw_length;
	uint8_t type;
	bool bad; /* read_data found its bytes corrupt */
};

/* An open-addressing map from ids to a small value. */
struct check_idmap {
	blob_id *ids; /* all-zero = empty slot */
	uint32_t *vals;
	size_t cap, n;
};

struct check_ctx {
	struct repo *repo;
	const struct check_opts *opts;
	struct check_result *res;
	struct snapshot *snaps; /* every snapshot of every project */
	size_t nsnaps;
	struct check_blob *blobs; /* sorted by (id, type): id_type_cmp */
	size_t nblobs;
	struct check_pack *packs; /* sorted by dbid */
	size_t npacks;
	struct check_idmap trees; /* tree id -> TREE_* state */
	/* repair: ids re-stored under a type they lacked -> 1 << type, and
	 * the writer that stores them (opened on first use) */
	struct check_idmap restored;
	struct writer *restore_writer;
	int fatal; /* an error (ENOMEM) met where a finding was expected */
};

/* Report a finding (printf-style). */
void check_say(struct check_ctx *c, enum check_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The catalog's row for (id, type), or NULL. */
struct check_blob *check_blob_find(struct check_ctx *c, const blob_id *id, uint8_t type);

int check_idmap_put(struct check_idmap *m, const blob_id *id, uint32_t val);
/* Value for id, or 0 when absent. */
uint32_t check_idmap_get(const struct check_idmap *m, const blob_id *id);
void check_idmap_free(struct check_idmap *m);

/* check_catalog.c */
int check_catalog_quick(struct check_ctx *c, bool *ret_ok);
int check_catalog_snapshots(struct check_ctx *c);
int check_catalog_blobs(struct check_ctx *c);
int check_catalog_packs(struct check_ctx *c);
int check_catalog_mark_damaged(struct check_ctx *c, int64_t snapshot_id);
/* Replace the row of (e->id, e->type) with the entry e of the pack with dbid. */
int check_catalog_fix_row(struct check_ctx *c, int64_t pack_dbid, const struct pack_entry *e);
/* Replace a damaged catalog.db by an empty one (the old one is renamed
 * catalog.db.damaged-<time>). */
int check_catalog_reset(struct check_ctx *c);

/* check_rows.c: report (and with repair quarantine or fix) every invalid
 * project and snapshot row. */
int check_catalog_rows(struct check_ctx *c);

/* check_packs.c */
int check_packs(struct check_ctx *c);
int check_read_data(struct check_ctx *c);

/* check_trees.c */
int check_snapshots(struct check_ctx *c);

/* check_repair.c */
int check_repair_tmp(struct check_ctx *c);
int check_repair_recover(struct check_ctx *c);
/* Store the blob of row other (its bytes re-read and re-hashed) again as
 * type, durably, and remember it in ctx->restored. */
int check_repair_restore(struct check_ctx *c, const struct check_blob *other, uint8_t type);

#endif
