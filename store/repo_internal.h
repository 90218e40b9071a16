/* repo_internal.h — what store modules share about an open repository.
 * Not for fs/, dumpers/ or src/: they use repo.h. */
#ifndef CKPTFS_STORE_REPO_INTERNAL_H
#define CKPTFS_STORE_REPO_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>

#include "store/blob.h"
#include "store/cache.h"
#include "store/keys.h"
#include "store/pack.h"
#include "store/repo.h"

#define REPO_FORMAT_VERSION 1

struct repo {
	char *path;          /* absolute */
	int dirfd;           /* O_DIRECTORY of path */
	int lockfd;          /* -1 unless REPO_WRITE */
	enum repo_mode mode;
	struct keys keys;
	sqlite3 *db;              /* catalog.db */
	pthread_mutex_t db_lock;  /* serializes use of db and its statements */
	struct catalog_stmts *stmts; /* prepared statements, private to catalog*.c */
	struct chunk_cache *cache;
	pthread_key_t codec_key;  /* per-thread struct blob_codec for reads */
	pthread_key_t pack_key;   /* per-thread pack kept open (repo_read.c) */
	pthread_key_t reader_key; /* per-thread catalog connection (catalog_reader.c) */
	bool readers;             /* REPO_READ: blob lookups use reader_key's */
	bool catalog_fresh;  /* REPO_REPAIR made a new, empty catalog.db */
	/* Snapshots with a smaller id were written by schema 1, whose blob
	 * index was keyed by id alone (catalog_schema.c): 0 = none. */
	int64_t legacy_below;
	int schema_version; /* of catalog.db (catalog_schema.c), under db_lock */
	uint64_t rows_skipped; /* invalid catalog rows reads left out (under db_lock) */
};

/* This thread's read codec (created on first use). NULL on ENOMEM.  It is
 * freed when the thread exits, or by repo_close for the closing thread;
 * so close the repo only after its other threads have ended (the FUSE
 * loop joins its workers before returning). */
struct blob_codec *repo_codec(struct repo *repo);

/* REPO_WRITE (not REPO_REPAIR), at open: index every pack named by a journal entry in tmp/
 * (pack.h: a writer was killed between renaming it into packs/ and the
 * catalog's commit), then remove the entries.  Costs one readdir of tmp/
 * when nothing was interrupted.  A journalled pack that is gone or
 * unreadable is left to check (a notice or damage there). */
int repo_index_pending_packs(struct repo *repo);

/* Destructor of pack_key's values (closes the pack). */
void repo_pack_release(void *p);

/* repo_load_blob with BLOB_OPEN_* flags for blob_open_flags.  Content
 * reads (content.c: mount and restore) pass BLOB_OPEN_NO_REHASH: the
 * chunk is authenticated under its id but not re-hashed (why this is
 * enough is in blob.h); check --read-data and everything else keep the
 * full check of repo_load_blob. */
int repo_load_blob_flags(struct repo *repo, const blob_id *id, uint8_t type, unsigned flags,
			 uint8_t **ret_data, size_t *ret_len);

#endif
