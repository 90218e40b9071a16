/* gc_load.c — reading many blobs in the order they lie on disk, for the
 * mark (gc_internal.h).
 *
 * The mark reads every tree of every kept snapshot and every snapshot
 * record.  One at a time, in the order the walk meets them, each was a
 * catalog lookup in its own read transaction, a pack opened (the thread's
 * one cached descriptor rarely matched) and a pread somewhere in it.
 * Here a batch is looked up first (inside the mark's one read
 * transaction), sorted by pack and offset, and read through a few cached
 * descriptors, so each pack is opened about once per batch and read
 * front to back.
 *
 * Anything unusual — a blob not indexed under its type (a version-1
 * catalog), a pack that cannot be opened, a read or an open that fails —
 * goes through repo_load_blob instead, which has the fallbacks and the
 * messages the rest of ckptfs gives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/gc_internal.h"
#include "store/repo_internal.h"

void gc_fds_init(struct gc_fds *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < GC_FDS; i++)
		c->s[i].fd = -1;
}

void gc_fds_close(struct gc_fds *c)
{
	for (size_t i = 0; i < GC_FDS; i++)
		if (c->s[i].fd >= 0)
			close(c->s[i].fd);
	gc_fds_init(c);
}

/* The descriptor of pack name, opened on a miss in place of the least
 * recently used one.  0, or a negative errno (not recorded). */
static int fds_get(struct repo *repo, struct gc_fds *c, const char *name, int *ret_fd)
{
	size_t lru = 0;
	for (size_t i = 0; i < GC_FDS; i++) {
		if (c->s[i].fd >= 0 && strcmp(c->s[i].name, name) == 0) {
			c->s[i].used = ++c->clock;
			*ret_fd = c->s[i].fd;
			return 0;
		}
		if (c->s[i].used < c->s[lru].used)
			lru = i;
	}
	char path[64];
	pack_path(name, path, sizeof path);
	int fd = openat(repo->dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (c->s[lru].fd >= 0)
		close(c->s[lru].fd);
	c->s[lru].fd = fd;
	c->s[lru].used = ++c->clock;
	memcpy(c->s[lru].name, name, sizeof c->s[lru].name);
	*ret_fd = fd;
	return 0;
}

struct located {
	blob_id id;
	struct blob_loc loc;
	bool slow; /* read through repo_load_blob */
};

static int cmp_located(const void *a, const void *b)
{
	const struct located *x = a, *y = b;
	if (x->slow != y->slow)
		return x->slow ? 1 : -1;
	int c = strcmp(x->loc.pack, y->loc.pack);
	if (c)
		return c;
	return x->loc.offset < y->loc.offset ? -1 : x->loc.offset > y->loc.offset;
}

/* The fast read of l: its pack's cached descriptor, one pread, opened in
 * place.  The AEAD authenticates the id and type (its associated data),
 * so the plaintext is not hashed again: as for every other read of a
 * blob by its index row (restore, the mount).  0 or a negative errno. */
static int load_fast(struct repo *repo, struct gc_fds *fds, struct blob_codec *codec,
		     const struct located *l, uint8_t **ret, size_t *ret_len)
{
	int fd = -1;
	int r = fds_get(repo, fds, l->loc.pack, &fd);
	if (r < 0)
		return r;
	uint8_t *stored = malloc(l->loc.length ? l->loc.length : 1);
	if (!stored)
		return -ENOMEM;
	r = pack_pread_blob(fd, l->loc.pack, l->loc.offset, l->loc.length, stored);
	if (r < 0) {
		free(stored);
		return r;
	}
	return blob_open_take(codec, &l->id, l->loc.type, stored, l->loc.length,
			      l->loc.raw_length, BLOB_OPEN_NO_REHASH, ret, ret_len);
}

int gc_load_batch(struct repo *repo, struct gc_fds *fds, const blob_id *ids, size_t n,
		  uint8_t type, gc_load_fn fn, void *ctx)
{
	if (!n)
		return 0;
	struct blob_codec *codec = repo_codec(repo);
	if (!codec)
		return store_fail(-ENOMEM, "gc: out of memory");
	struct located *v = malloc(n * sizeof *v);
	if (!v)
		return store_fail(-ENOMEM, "gc: out of memory");
	int r = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		v[i].id = ids[i];
		int lr = catalog_blob_lookup(repo, &ids[i], type, &v[i].loc);
		v[i].slow = lr < 0;
		if (lr == -ENOMEM)
			r = lr;
		store_error_clear();
	}
	if (r >= 0)
		qsort(v, n, sizeof *v, cmp_located);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		int lr = v[i].slow ? -EAGAIN : load_fast(repo, fds, codec, &v[i], &data, &len);
		if (lr == -ENOMEM) {
			r = store_fail(lr, "gc: out of memory");
			break;
		}
		if (lr < 0) {
			store_error_clear();
			lr = repo_load_blob(repo, &v[i].id, type, &data, &len);
		}
		r = fn(ctx, &v[i].id, lr < 0 ? lr : 0, data, len);
		free(data);
	}
	free(v);
	return r;
}
