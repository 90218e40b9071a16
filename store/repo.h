/* repo.h — opening a repository and reading blobs from it.
 *
 * A repository is a directory (mode 0700) holding:
 *   format      "ckptfs repository" + format number; newer => STORE_ENEWER
 *   key         the random master key (0600; checked at open)
 *   catalog.db  SQLite (WAL): projects, snapshots, blob index, packs
 *   packs/      immutable pack files of sealed blobs, each self-describing
 *   tmp/        packs being written; leftovers are removed by the next writer
 *   lock        flock()ed by the one writer
 *
 * Every file in it is created 0600 and every directory 0700, whatever the
 * umask (catalog.db, whose -wal and -shm SQLite creates with its mode,
 * included).  A repository whose directory, packs/ or tmp/ group or others
 * can write to is refused at open (-EPERM, "… fix it with: chmod go-w DIR").
 *
 * A struct repo opened with REPO_READ may be used from many threads at once
 * (the FUSE loop does); one opened with REPO_WRITE belongs to one thread.
 */
#ifndef CKPTFS_STORE_REPO_H
#define CKPTFS_STORE_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "store/id.h"

struct repo;

enum repo_mode {
	REPO_READ,  /* must exist; no lock; sees commits of writers as they land */
	REPO_WRITE, /* created (0700) if missing; takes the writer lock */
	/* For check --repair only: like REPO_WRITE on an existing repository,
	 * but a missing catalog.db is created empty and a damaged one (not
	 * readable as a catalog) is moved aside to catalog.db.damaged and
	 * replaced by an empty one, for the caller to rebuild from packs/.
	 * The opened repo's mode is REPO_WRITE. */
	REPO_REPAIR,
};

/* The default repository path: $CKPTFS_REPO, else $XDG_DATA_HOME/ckptfs,
 * else $HOME/.local/share/ckptfs.  *ret_path is malloc'd, caller frees. */
int repo_default_path(char **ret_path);

/* Open the repository at path.  REPO_WRITE waits up to lock_wait_ms for the
 * writer lock, then fails with -EWOULDBLOCK ("repository PATH: locked by
 * another ckptfs (pid N)"); it also removes leftovers of interrupted
 * writers (tmp/).  REPO_READ fails with -ENOENT if there is no repository.
 * A format newer than this build understands gives STORE_ENEWER.  A key file
 * readable by group or others is refused with -EPERM naming the file. */
int repo_open(const char *path, enum repo_mode mode, int lock_wait_ms, struct repo **ret_repo);

/* Close; releases the lock.  repo_close(NULL) is a no-op. */
void repo_close(struct repo *repo);

/* The repository's directory (absolute), owned by repo. */
const char *repo_path(const struct repo *repo);

/* Keyed BLAKE2b-256 id of data (the id a blob with this plaintext has). */
void repo_blob_id(const struct repo *repo, const void *data, size_t len, blob_id *ret_id);

/* Whether the blob index holds id as type (enum blob_type).  An index
 * error counts as no (callers then store or read the data again). */
bool repo_has_blob(struct repo *repo, const blob_id *id, uint8_t type);

/* Whether snapshot_id was written under catalog schema 1, whose blob
 * index was keyed by id alone: what it references may be stored only
 * under another type (catalog_schema.c), so a snapshot built on it
 * re-verifies what it reuses (walk_opts.verify_reused). */
bool repo_snapshot_is_legacy(const struct repo *repo, int64_t snapshot_id);

/* Read, authenticate, decompress and id-check the blob id of type (enum
 * blob_type).  On success *ret_data (malloc'd, caller frees) holds
 * *ret_len plaintext bytes.  -ENOENT if the id is not indexed as that
 * type; STORE_ECORRUPT if anything about the stored bytes is wrong
 * (message names the pack and offset); -EIO etc. for read errors. */
int repo_load_blob(struct repo *repo, const blob_id *id, uint8_t type, uint8_t **ret_data,
		   size_t *ret_len);

/* Ask the kernel to start reading blob id of type from its pack
 * (POSIX_FADV_WILLNEED), for a read soon to come that does its own lookup
 * and every check.  The stored length, or 0 if the blob could not be
 * located or its pack opened (a hint: nothing is recorded). */
uint64_t repo_hint_blob(struct repo *repo, const blob_id *id, uint8_t type);

/* Read the catalog's blob index once through, if the catalog is at most
 * max_bytes, on this thread's read connection (a REPO_READ repository;
 * else nothing): blob lookups all over its B-tree then find their pages
 * in memory. */
void repo_hint_catalog(struct repo *repo, uint64_t max_bytes);

/* Between these two, the calling thread's blob lookups share read
 * transactions (catalog_reader.h) instead of each being its own autocommit
 * read, which costs an fstat, two fcntl locks and a look at the WAL index:
 * for a run of many lookups that may see the catalog as it was when the
 * run began.  That is safe for blobs committed before the run (every blob
 * of a snapshot being read): the older view still holds each of them, at
 * its old place if gc moved it since, and a read that then finds the old
 * pack gone looks again in a new transaction (repo_load_blob).  Used by the
 * mount's read-ahead and restore's writers.  A transaction lasts at most a
 * few thousand lookups, and ends with the run (or repo_lookups_renew), so
 * a checkpoint is never held back for long.  Calls nest; end each begin. */
void repo_lookups_begin(struct repo *repo);
void repo_lookups_end(struct repo *repo);

/* Within a begin/end: end the transaction now, keeping the connection (the
 * next lookup begins a new one).  For a thread about to wait for work, so
 * no transaction is held while it idles.  (A read whose pack gc removed
 * does this itself before it looks the blob up again.) */
void repo_lookups_renew(struct repo *repo);

/* Bound the decoded-chunk cache used by content_read() (default 64 MiB). */
void repo_set_cache_bytes(struct repo *repo, size_t bytes);

#endif
