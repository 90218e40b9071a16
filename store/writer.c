/* writer.c — deduplicating blobs and committing a snapshot (see writer.h;
 * the sealing workers are in writer_pack.c).
 *
 * Dedup asks two places: the set of ids this writer queued since the last
 * drain (they reach the catalog only once their pack is durable) and the
 * catalog's blob index.  The thread that opens the writer looks the index
 * up on its own connection, many lookups to a read transaction
 * (catalog_reader.c): a snapshot looks up every chunk it cuts, and every
 * tree of the parent snapshot the walk loads.
 */
#include "store/writer.h"

#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/catalog_internal.h"
#include "store/catalog_reader.h"
#include "store/err.h"
#include "store/repo_internal.h"
#include "store/snaprec.h"
#include "store/writer_internal.h"

/* ---- the pending id set --------------------------------------------------- */

static uint64_t id_key(const blob_id *id, uint8_t type)
{
	uint64_t k;
	memcpy(&k, id->b, sizeof k);
	return k ^ type;
}

static bool slot_is(const struct typed_id *t, const blob_id *id, uint8_t type)
{
	return t->type == type && id_equal(&t->id, id);
}

static size_t idset_slot(const struct idset *s, const blob_id *id, uint8_t type)
{
	size_t mask = s->cap - 1;
	size_t i = (size_t)id_key(id, type) & mask;
	while (s->slots[i].type && !slot_is(&s->slots[i], id, type))
		i = (i + 1) & mask;
	return i;
}

static bool idset_has(const struct idset *s, const blob_id *id, uint8_t type)
{
	return s->n && s->slots[idset_slot(s, id, type)].type;
}

static int idset_add(struct idset *s, const blob_id *id, uint8_t type)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct typed_id *old = s->slots;
		size_t oldcap = s->cap;
		s->slots = calloc(cap, sizeof *s->slots);
		if (!s->slots) {
			s->slots = old;
			return store_fail(-ENOMEM, "writer: out of memory");
		}
		s->cap = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].type)
				s->slots[idset_slot(s, &old[i].id, old[i].type)] = old[i];
		free(old);
	}
	size_t i = idset_slot(s, id, type);
	if (!s->slots[i].type) {
		s->slots[i] = (struct typed_id){ .id = *id, .type = type };
		s->n++;
	}
	return 0;
}

static void idset_clear(struct idset *s)
{
	if (s->n)
		memset(s->slots, 0, s->cap * sizeof *s->slots);
	s->n = 0;
}

/* Past this many pending ids, drain and start the set afresh (bounds its
 * memory at a few MiB: everything drained is in the catalog). */
#define PENDING_MAX (1u << 17)

static int refuse(const struct writer *w)
{
	return store_fail(w->failed, "writer: unusable after an earlier error");
}

/* Make everything queued durable and indexed. */
static int drain(struct writer *w)
{
	int r = writer_drain(w);
	if (r < 0)
		return w->failed = r;
	idset_clear(&w->pending);
	return 0;
}

int writer_flush(struct writer *w)
{
	if (w->failed)
		return refuse(w);
	return drain(w);
}

int writer_put_blob(struct writer *w, uint8_t type, const void *data, size_t len,
		    blob_id *ret_id)
{
	return writer_put_blob_level(w, type, 0, data, len, ret_id);
}

int writer_put_blob_level(struct writer *w, uint8_t type, int level, const void *data,
			  size_t len, blob_id *ret_id)
{
	blob_id id;
	if (w->failed)
		return refuse(w);
	repo_blob_id(w->repo, data, len, &id);
	if (ret_id)
		*ret_id = id;
	return writer_put_blob_id(w, type, level, data, len, &id);
}

int writer_put_blob_id(struct writer *w, uint8_t type, int level, const void *data, size_t len,
		       const blob_id *idp)
{
	struct blob_loc loc;
	blob_id id = *idp;
	int r;

	if (w->failed)
		return refuse(w);
	if (idset_has(&w->pending, &id, type))
		return 0;
	if (idset_has(&w->known, &id, type))
		return 0;
	r = catalog_blob_lookup(w->repo, &id, type, &loc);
	if (r == 0) {
		/* Bounded like the pending set; forgetting only costs a seek. */
		if (w->known.n >= PENDING_MAX)
			idset_clear(&w->known);
		return idset_add(&w->known, &id, type);
	}
	if (r != -ENOENT)
		return r;
	if (len > BLOB_MAX_RAW)
		return store_fail(-EFBIG, "writer: blob of %zu bytes is larger than %u", len,
				  BLOB_MAX_RAW);
	if (w->pending.n >= PENDING_MAX && (r = drain(w)) < 0)
		return r;
	r = writer_enqueue(w, &id, type, level, data, len);
	if (r < 0)
		return w->failed = r;
	r = idset_add(&w->pending, &id, type);
	if (r < 0)
		return r;
	w->new_blobs++;
	return 0;
}

/* ---- life cycle ------------------------------------------------------------ */

int writer_open(struct repo *repo, struct writer **ret_writer)
{
	struct writer *w;
	int r;

	if (repo->mode != REPO_WRITE)
		return store_fail(-EBADF, "repository %s: opened read-only, cannot write",
				  repo->path);
	w = calloc(1, sizeof *w);
	if (!w)
		return store_fail(-ENOMEM, "writer: out of memory");
	w->repo = repo;
	atomic_init(&w->new_bytes, 0);
	r = blob_codec_new(&repo->keys, BLOB_ZSTD_LEVEL, &w->codec);
	if (r < 0)
		goto fail;
	r = writer_worker_start(w);
	if (r < 0)
		goto fail;
	w->lookup_thread = pthread_self();
	cat_reader_hold(repo);
	*ret_writer = w;
	return 0;
fail:
	blob_codec_free(w->codec);
	free(w);
	return r;
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	writer_worker_stop(w); /* drops the queue and the unfinished temp pack */
	writer_hasher_free(w);
	/* Held on the thread that opened it (a connection is per thread). */
	if (pthread_equal(w->lookup_thread, pthread_self()))
		cat_reader_unhold(w->repo);
	blob_codec_free(w->codec);
	free(w->pending.slots);
	free(w->known.slots);
	for (size_t i = 0; i < 2; i++) {
		free(w->batch[i].buf);
		free(w->batch[i].spans);
		free(w->batch[i].ids);
	}
	free(w);
}

bool writer_has(struct writer *w, const blob_id *id, uint8_t type)
{
	struct blob_loc loc;
	if (idset_has(&w->pending, id, type) || idset_has(&w->known, id, type))
		return true;
	store_error_clear();
	return catalog_blob_lookup(w->repo, id, type, &loc) == 0;
}

/* The gate that keeps a snapshot from ever referencing a blob the
 * repository does not hold as the type the reference needs: a tree is
 * stored only after everything it names is (queued or indexed) as a data
 * chunk or a tree.  Fresh chunks and subtrees are in the pending set (no
 * catalog read); what a tree reuses from its parent snapshot costs one
 * index seek each, and only in trees that changed. */
static int check_refs(struct writer *w, const struct tree *t)
{
	char hex[ID_HEX_LEN + 1];
	for (size_t i = 0; i < t->n; i++) {
		const struct node *n = &t->nodes[i];
		if (n->type == NODE_DIR && !writer_has(w, &n->subtree, BLOB_TREE)) {
			id_to_hex(&n->subtree, hex);
			return store_fail(-STORE_ECORRUPT,
					  "writer: %s: tree %.16s is not in the repository as a tree",
					  n->name, hex);
		}
		if (n->type != NODE_FILE)
			continue;
		for (size_t k = 0; k < n->nchunks; k++)
			if (!writer_has(w, &n->chunks[k].id, BLOB_DATA)) {
				id_to_hex(&n->chunks[k].id, hex);
				return store_fail(-STORE_ECORRUPT,
						  "writer: %s: chunk %.16s is not in the repository as a data chunk",
						  n->name, hex);
			}
	}
	return 0;
}

int writer_put_tree(struct writer *w, const struct tree *t, blob_id *ret_id)
{
	uint8_t *buf;
	size_t len;
	blob_id id;
	if (w->failed)
		return refuse(w);
	int r = check_refs(w, t);
	if (r < 0)
		return r;
	r = tree_encode(t, &buf, &len);
	if (r < 0)
		return r;
	r = writer_put_blob(w, BLOB_TREE, buf, len, &id);
	free(buf);
	if (r < 0)
		return r;
	*ret_id = id;
	return 0;
}

void writer_stats(const struct writer *w, uint64_t *ret_new_blobs, uint64_t *ret_new_bytes)
{
	if (ret_new_blobs)
		*ret_new_blobs = w->new_blobs;
	if (ret_new_bytes)
		*ret_new_bytes = atomic_load(&w->new_bytes);
}

int writer_commit(struct writer *w, const struct snapshot_new *s, struct snapshot *ret)
{
	struct snapshot_new sn = *s;
	int r;

	if (w->failed)
		return refuse(w);
	if (!writer_has(w, &s->root, BLOB_TREE)) {
		char hex[ID_HEX_LEN + 1];
		id_to_hex(&s->root, hex);
		return store_fail(-STORE_ECORRUPT,
				  "writer: root tree %.16s is not in the repository as a tree", hex);
	}
	/* The snapshot's record goes into its last pack, made durable with
	 * it, so check --repair can re-create the snapshot from packs alone. */
	sn.stats.new_blobs = w->new_blobs;
	sn.stats.new_bytes = atomic_load(&w->new_bytes);
	r = snaprec_put(w, &sn);
	if (r < 0)
		return r;
	r = drain(w);
	if (r < 0)
		return r;
	sn.stats.new_blobs = w->new_blobs;
	sn.stats.new_bytes = atomic_load(&w->new_bytes);
	r = catalog_snapshot_insert(w->repo, &sn, ret);
	if (r < 0)
		return r;
	w->new_blobs = 0;
	atomic_store(&w->new_bytes, 0);
	return 0;
}
