/* repo_read.c — reading blobs back: index lookup, pack read, open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_internal.h"
#include "store/catalog_reader.h"
#include "store/err.h"
#include "store/repo_internal.h"
#include <unistd.h>

/* The pack a thread read its last blob from, kept open: a file's chunks
 * mostly sit together in one 32 MiB pack, and opening it per blob cost
 * three system calls per chunk.  Packs are never changed once written, so
 * an open descriptor stays valid (even if the pack is removed). */
struct open_pack {
	char name[PACK_NAME_LEN + 1];
	int fd;
};

void repo_pack_release(void *p)
{
	struct open_pack *op = p;
	if (op && op->fd >= 0)
		close(op->fd);
	free(op);
}

/* This thread's descriptor of pack name: 0 and *ret_fd, or a negative
 * errno (recorded). */
static int pack_fd(struct repo *repo, const char *name, int *ret_fd)
{
	struct open_pack *op = pthread_getspecific(repo->pack_key);
	if (op && op->fd >= 0 && strcmp(op->name, name) == 0) {
		*ret_fd = op->fd;
		return 0;
	}
	if (!op) {
		op = calloc(1, sizeof(*op));
		if (!op)
			return store_fail(-ENOMEM, "repository %s: out of memory", repo->path);
		op->fd = -1;
		if (pthread_setspecific(repo->pack_key, op) != 0) {
			free(op);
			return store_fail(-ENOMEM, "repository %s: out of memory", repo->path);
		}
	}
	if (op->fd >= 0)
		close(op->fd);
	op->fd = -1;
	char path[64];
	pack_path(name, path, sizeof path);
	int fd = openat(repo->dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "pack %s", name);
	op->fd = fd;
	snprintf(op->name, sizeof op->name, "%s", name);
	*ret_fd = fd;
	return 0;
}

void repo_blob_id(const struct repo *repo, const void *data, size_t len, blob_id *ret_id)
{
	keys_blob_id(&repo->keys, data, len, ret_id);
}

struct blob_codec *repo_codec(struct repo *repo)
{
	struct blob_codec *c = pthread_getspecific(repo->codec_key);
	if (c)
		return c;
	if (blob_codec_new(&repo->keys, BLOB_ZSTD_LEVEL, &c) < 0)
		return NULL;
	if (pthread_setspecific(repo->codec_key, c) != 0) {
		blob_codec_free(c);
		store_fail(-ENOMEM, "repository %s: out of memory", repo->path);
		return NULL;
	}
	return c;
}

void repo_set_cache_bytes(struct repo *repo, size_t bytes)
{
	chunk_cache_set_limit(repo->cache, bytes);
}

/* Re-record the message of a failed read so that it names where the blob
 * lives: "blob <id> in pack <name> at <offset>: <why>".  The inner
 * message's own "blob <id>: " / "pack <name>: " prefix is dropped. */
static int blob_fail(int r, const blob_id *id, const struct blob_loc *loc)
{
	char hex[ID_HEX_LEN + 1], why[512], prefix[ID_HEX_LEN + 16];
	id_to_hex(id, hex);
	const char *e = store_error();
	snprintf(why, sizeof why, "%s", e ? e : strerror(-r));
	const char *w = why;
	snprintf(prefix, sizeof prefix, "blob %s: ", hex);
	if (strncmp(w, prefix, strlen(prefix)) == 0)
		w += strlen(prefix);
	snprintf(prefix, sizeof prefix, "pack %s: ", loc->pack);
	if (strncmp(w, prefix, strlen(prefix)) == 0)
		w += strlen(prefix);
	return store_fail(r, "blob %.16s in pack %s at %llu: %s", hex, loc->pack,
			  (unsigned long long)loc->offset, w);
}

bool repo_has_blob(struct repo *repo, const blob_id *id, uint8_t type)
{
	struct blob_loc loc;
	bool has = catalog_blob_lookup(repo, id, type, &loc) == 0;
	store_error_clear();
	return has;
}

bool repo_snapshot_is_legacy(const struct repo *repo, int64_t snapshot_id)
{
	return snapshot_id < repo->legacy_below;
}

int repo_load_blob(struct repo *repo, const blob_id *id, uint8_t type, uint8_t **ret_data,
		   size_t *ret_len)
{
	return repo_load_blob_flags(repo, id, type, 0, ret_data, ret_len);
}

/* Where a blob referenced as type is.  In a catalog that holds version-1
 * snapshots (catalog_schema.c), a data chunk or tree may be stored only
 * under the other of the two types, the same bytes: then that blob is
 * read instead, and always re-hashed, so only bytes that hash to the id
 * come back.  *flags loses BLOB_OPEN_NO_REHASH in that case. */
static int locate(struct repo *repo, const blob_id *id, uint8_t type, unsigned *flags,
		  struct blob_loc *ret)
{
	int r = catalog_blob_lookup(repo, id, type, ret);
	if (r != -ENOENT || !repo->legacy_below || (type != BLOB_DATA && type != BLOB_TREE))
		return r;
	struct blob_loc other;
	if (catalog_blob_lookup_any(repo, id, &other) < 0 ||
	    (other.type != BLOB_DATA && other.type != BLOB_TREE)) {
		char hex[ID_HEX_LEN + 1];
		id_to_hex(id, hex);
		return store_fail(-ENOENT, "blob %.16s: not in the index", hex);
	}
	*flags &= ~BLOB_OPEN_NO_REHASH;
	*ret = other;
	return 0;
}

int repo_load_blob_flags(struct repo *repo, const blob_id *id, uint8_t type, unsigned flags,
			 uint8_t **ret_data, size_t *ret_len)
{
	struct blob_loc loc;
	int r = locate(repo, id, type, &flags, &loc);
	if (r < 0)
		return r;
	struct blob_codec *c = repo_codec(repo);
	if (!c)
		return -ENOMEM;
	int fd = -1;
	r = pack_fd(repo, loc.pack, &fd);
	if (r == -ENOENT) {
		/* gc (gc.h) may have moved the blob into a new pack and removed
		 * this one between the lookup and the open: the catalog already
		 * names the new place, so look once more, in a new read
		 * transaction if this thread holds one (repo_lookups_begin): the
		 * held one may have begun before gc committed the move. */
		cat_reader_renew(repo);
		struct blob_loc again;
		unsigned again_flags = flags;
		if (locate(repo, id, type, &again_flags, &again) == 0 &&
		    strcmp(again.pack, loc.pack) != 0) {
			loc = again;
			flags = again_flags;
			r = pack_fd(repo, loc.pack, &fd);
		}
	}
	if (r < 0)
		return blob_fail(r, id, &loc);
	uint8_t *stored = malloc(loc.length);
	if (!stored)
		return store_fail(-ENOMEM, "repository %s: out of memory", repo->path);
	r = pack_pread_blob(fd, loc.pack, loc.offset, loc.length, stored);
	if (r < 0) {
		free(stored);
		return blob_fail(r, id, &loc);
	}
	/* Decrypted in place: the buffer read becomes the plaintext. */
	uint8_t *plain;
	size_t len;
	r = blob_open_take(c, id, loc.type, stored, loc.length, loc.raw_length, flags, &plain, &len);
	if (r < 0)
		return blob_fail(r, id, &loc);
	*ret_data = plain;
	*ret_len = len;
	return 0;
}

uint64_t repo_hint_blob(struct repo *repo, const blob_id *id, uint8_t type)
{
	struct blob_loc loc;
	unsigned flags = 0;
	int fd;
	uint64_t len = 0;
	if (locate(repo, id, type, &flags, &loc) == 0 && pack_fd(repo, loc.pack, &fd) == 0 &&
	    posix_fadvise(fd, (off_t)loc.offset, (off_t)loc.length, POSIX_FADV_WILLNEED) == 0)
		len = loc.length;
	store_error_clear();
	return len;
}

void repo_lookups_begin(struct repo *repo)
{
	cat_reader_hold(repo);
}

void repo_lookups_end(struct repo *repo)
{
	cat_reader_unhold(repo);
}

void repo_lookups_renew(struct repo *repo)
{
	cat_reader_renew(repo);
}

void repo_hint_catalog(struct repo *repo, uint64_t max_bytes)
{
	/* Through SQLite, never by opening catalog.db here: closing any
	 * descriptor of the file would drop the process's POSIX locks on it,
	 * which SQLite's readers rely on while another process (gc)
	 * checkpoints the WAL.  Summing a column the index lacks reads every
	 * page of the blob table, in the order of its B-tree. */
	struct cat_reader *rd = cat_reader_get(repo);
	if (!rd)
		return;
	sqlite3 *db = cat_reader_db(rd);
	sqlite3_stmt *st;
	int64_t bytes = -1;
	if (sqlite3_prepare_v2(db, "SELECT page_count * page_size FROM pragma_page_count(), "
				   "pragma_page_size()", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			bytes = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (bytes >= 0 && (uint64_t)bytes <= max_bytes)
		(void)sqlite3_exec(db, "SELECT sum(length) FROM blobs", NULL, NULL, NULL);
	store_error_clear();
}
