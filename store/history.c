/* history.c — versions of one path and the names a folder ever held (see
 * history.h), with the memo both use.
 *
 * A path resolves in a snapshot by descending from the root one component
 * per level.  The result below a tree depends only on the tree's id and
 * the level it sits at (the path is fixed for one question), so the memo
 * maps (tree id, level) to what was found: each distinct tree on the way
 * is decoded once whatever the number of snapshots sharing it.
 */
#include "store/history_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/err.h"
#include "store/repo_internal.h"
#include "store/tree_internal.h"

#define SLOT_EMPTY (SIZE_MAX - 1)

static uint64_t slot_hash(const blob_id *id, uint64_t extra)
{
	uint64_t h;
	memcpy(&h, id->b, sizeof h); /* ids are uniformly random */
	return h ^ (extra * 0x9e3779b97f4a7c15ull);
}

int hmemo_get(const struct hmemo *m, const blob_id *id, uint64_t extra, size_t *ret_val)
{
	if (!m->cap)
		return 0;
	for (size_t i = slot_hash(id, extra) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct hmemo_slot *s = &m->s[i];
		if (s->val == SLOT_EMPTY)
			return 0;
		if (s->extra == extra && id_equal(&s->id, id)) {
			*ret_val = s->val;
			return 1;
		}
	}
}

static void slot_set(struct hmemo_slot *tab, size_t cap, const blob_id *id, uint64_t extra,
		     size_t val, size_t *n)
{
	for (size_t i = slot_hash(id, extra) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		struct hmemo_slot *s = &tab[i];
		if (s->val == SLOT_EMPTY) {
			s->id = *id;
			s->extra = extra;
			s->val = val;
			(*n)++;
			return;
		}
		if (s->extra == extra && id_equal(&s->id, id)) {
			s->val = val;
			return;
		}
	}
}

int hmemo_put(struct hmemo *m, const blob_id *id, uint64_t extra, size_t val)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64, n = 0;
		struct hmemo_slot *s = malloc(cap * sizeof *s);
		if (!s)
			return store_fail(-ENOMEM, "history: out of memory");
		for (size_t i = 0; i < cap; i++)
			s[i].val = SLOT_EMPTY;
		for (size_t i = 0; i < m->cap; i++)
			if (m->s[i].val != SLOT_EMPTY)
				slot_set(s, cap, &m->s[i].id, m->s[i].extra, m->s[i].val, &n);
		free(m->s);
		m->s = s;
		m->cap = cap;
		m->n = n;
	}
	slot_set(m->s, m->cap, id, extra, val, &m->n);
	return 0;
}

void hmemo_free(struct hmemo *m)
{
	free(m->s);
	*m = (struct hmemo){0};
}

int hist_open(struct repo *repo, struct hist **ret)
{
	struct hist *h = calloc(1, sizeof *h);
	if (!h)
		return store_fail(-ENOMEM, "history: out of memory");
	h->repo = repo;
	*ret = h;
	return 0;
}

void hist_free(struct hist *h)
{
	free(h);
}

uint64_t hist_trees_loaded(const struct hist *h)
{
	return h->loaded;
}

/* tree_load without re-hashing the plaintext: like the mount's reads,
 * a history walk relies on the AEAD (sealed under the id) and leaves the
 * end-to-end re-hash to check --read-data (blob.h says why that is
 * safe); it is a third of the CPU of a tree load. */
static int hist_load(struct hist *h, const blob_id *id, struct tree **ret)
{
	char what[8 + ID_HEX_LEN];
	uint8_t *data;
	size_t len;
	memcpy(what, "tree ", 5);
	id_to_hex(id, what + 5);
	int r = repo_load_blob_flags(h->repo, id, BLOB_TREE, BLOB_OPEN_NO_REHASH, &data, &len);
	if (r == -ENOENT)
		return store_fail(-STORE_ECORRUPT, "%s: missing from the repository", what);
	if (r < 0)
		return r;
	r = tree_decode_named(data, len, what, ret);
	free(data);
	return r;
}

int hist_get(struct hist *h, const blob_id *id, const struct tree **ret, void **ret_ref)
{
	h->loaded++;
	if (h->get)
		return h->get(h->src, id, ret, ret_ref);
	struct tree *t;
	int r = hist_load(h, id, &t);
	if (r == 0) {
		*ret = t;
		*ret_ref = t;
	}
	return r;
}

void hist_put(struct hist *h, void *ref)
{
	if (h->get)
		h->put(h->src, ref);
	else
		tree_free(ref);
}

void hist_set_source(struct hist *h, hist_get_fn get, hist_put_fn put, void *ctx)
{
	h->get = get;
	h->put = put;
	h->src = ctx;
}

/* ---- resolving one path in many snapshots ---------------------------- */

struct resolver {
	struct hist *h;
	char **comp; /* the path's components */
	size_t ncomp;
	struct hmemo memo;  /* (tree id, level) -> index into found, or HIST_ABSENT */
	struct node *found; /* distinct entries found (deep copies) */
	blob_id *found_in;  /* the tree each was found in */
	size_t nfound, afound;
};

static void resolver_free(struct resolver *rs)
{
	for (size_t i = 0; i < rs->ncomp; i++)
		free(rs->comp[i]);
	free(rs->comp);
	for (size_t i = 0; i < rs->nfound; i++)
		node_clear(&rs->found[i]);
	free(rs->found);
	free(rs->found_in);
	hmemo_free(&rs->memo);
}

static int resolver_init(struct resolver *rs, struct hist *h, const char *path)
{
	*rs = (struct resolver){.h = h};
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		const char *next = *end ? end + 1 : end;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			resolver_free(rs);
			return store_fail(-EINVAL, "%s: \"..\" is not allowed in a snapshot path",
					  path);
		}
		if (len && !(len == 1 && p[0] == '.')) {
			char **c = realloc(rs->comp, (rs->ncomp + 1) * sizeof *c);
			if (c)
				rs->comp = c;
			if (!c || !(rs->comp[rs->ncomp] = strndup(p, len))) {
				resolver_free(rs);
				return store_fail(-ENOMEM, "history: out of memory");
			}
			rs->ncomp++;
		}
		p = next;
	}
	return 0;
}

static int found_add(struct resolver *rs, const struct node *n, const blob_id *in, size_t *ret_idx)
{
	if (rs->nfound == rs->afound) {
		size_t na = rs->afound ? rs->afound * 2 : 16;
		struct node *f = realloc(rs->found, na * sizeof *f);
		if (f)
			rs->found = f;
		blob_id *fi = f ? realloc(rs->found_in, na * sizeof *fi) : NULL;
		if (!fi)
			return store_fail(-ENOMEM, "history: out of memory");
		rs->found_in = fi;
		rs->afound = na;
	}
	static const blob_id zero;
	rs->found_in[rs->nfound] = in ? *in : zero;
	int r = node_copy(n, &rs->found[rs->nfound]);
	if (r < 0)
		return store_fail(r, "history: out of memory");
	*ret_idx = rs->nfound++;
	return 0;
}

/* What the components from level on resolve to below tree id. */
static int resolve_at(struct resolver *rs, const blob_id *id, size_t level, size_t *ret)
{
	size_t got;
	if (hmemo_get(&rs->memo, id, level, &got)) {
		*ret = got;
		return 0;
	}
	const struct tree *t;
	void *ref;
	int r = hist_get(rs->h, id, &t, &ref);
	if (r < 0)
		return r;
	const struct node *n = tree_lookup(t, rs->comp[level]);
	got = HIST_ABSENT;
	if (n && level + 1 == rs->ncomp)
		r = found_add(rs, n, id, &got);
	else if (n && n->type == NODE_DIR)
		r = resolve_at(rs, &n->subtree, level + 1, &got);
	hist_put(rs->h, ref);
	if (r == 0)
		r = hmemo_put(&rs->memo, id, level, got);
	if (r == 0)
		*ret = got;
	return r;
}

/* The entry path names in snapshot root: an index into found or HIST_ABSENT. */
static int resolve_root(struct resolver *rs, const blob_id *root, size_t *ret)
{
	if (rs->ncomp > 0)
		return resolve_at(rs, root, 0, ret);
	/* The root itself: a directory named "" per distinct root tree. */
	size_t got;
	if (hmemo_get(&rs->memo, root, 0, &got)) {
		*ret = got;
		return 0;
	}
	struct node n = {.name = (char *)"", .type = NODE_DIR, .mode = 0755, .subtree = *root};
	int r = found_add(rs, &n, NULL, &got);
	if (r == 0)
		r = hmemo_put(&rs->memo, root, 0, got);
	if (r == 0)
		*ret = got;
	return r;
}

static int resolve_all(struct resolver *rs, const blob_id *roots, size_t n, size_t *at)
{
	for (size_t i = 0; i < n; i++) {
		int r = resolve_root(rs, &roots[i], &at[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- versions --------------------------------------------------------- */

bool hist_same_version(const struct node *a, const struct node *b)
{
	if (a->type != b->type || a->mode != b->mode)
		return false;
	switch (a->type) {
	case NODE_FILE:
		if (a->size != b->size || a->nchunks != b->nchunks ||
		    (a->flags & NODE_F_UNREADABLE) != (b->flags & NODE_F_UNREADABLE))
			return false;
		for (size_t i = 0; i < a->nchunks; i++)
			if (!id_equal(&a->chunks[i].id, &b->chunks[i].id))
				return false;
		return true;
	case NODE_SYMLINK:
		return strcmp(a->target ? a->target : "", b->target ? b->target : "") == 0;
	case NODE_DIR:
		return id_equal(&a->subtree, &b->subtree);
	case NODE_CHR:
	case NODE_BLK:
		return a->rdev == b->rdev;
	default:
		return true;
	}
}

void hist_versions_clear(struct hist_versions *v)
{
	for (size_t i = 0; i < v->nv; i++)
		node_clear(&v->v[i].node);
	free(v->v);
	free(v->runs);
	*v = (struct hist_versions){0};
}

/* Map each distinct found entry to its version (appending new ones). */
static int group_versions(struct resolver *rs, size_t *vof, struct hist_versions *out)
{
	out->v = calloc(rs->nfound ? rs->nfound : 1, sizeof *out->v);
	if (!out->v)
		return store_fail(-ENOMEM, "history: out of memory");
	for (size_t i = 0; i < rs->nfound; i++)
		vof[i] = HIST_ABSENT;
	return 0;
}

static int version_of(struct resolver *rs, size_t f, size_t *vof, struct hist_versions *out,
		      size_t snap)
{
	if (vof[f] == HIST_ABSENT) {
		size_t v = 0;
		while (v < out->nv && !hist_same_version(&out->v[v].node, &rs->found[f]))
			v++;
		if (v == out->nv) {
			int r = node_copy(&rs->found[f], &out->v[v].node);
			if (r < 0)
				return store_fail(r, "history: out of memory");
			out->v[v].first = snap;
			out->v[v].parent_tree = rs->found_in[f];
			out->nv++;
		}
		vof[f] = v;
	}
	return 0;
}

static int runs_push(struct hist_versions *out, size_t *alloc, size_t version, size_t snap)
{
	if (out->nruns && out->runs[out->nruns - 1].version == version) {
		out->runs[out->nruns - 1].last = snap;
		return 0;
	}
	if (out->nruns == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 8;
		struct hist_run *r = realloc(out->runs, na * sizeof *r);
		if (!r)
			return store_fail(-ENOMEM, "history: out of memory");
		out->runs = r;
		*alloc = na;
	}
	out->runs[out->nruns++] = (struct hist_run){version, snap, snap};
	return 0;
}

int hist_versions(struct hist *h, const blob_id *roots, size_t n, const char *path,
		  struct hist_versions *ret)
{
	struct resolver rs;
	struct hist_versions out = {0};
	size_t *at = NULL, *vof = NULL, ralloc = 0;
	int r = resolver_init(&rs, h, path);
	if (r < 0)
		return r;
	at = calloc(n ? n : 1, sizeof *at);
	if (!at) {
		r = store_fail(-ENOMEM, "history: out of memory");
		goto out;
	}
	if ((r = resolve_all(&rs, roots, n, at)) < 0)
		goto out;
	if (rs.nfound == 0) {
		r = store_fail(-ENOENT, "%s: in no snapshot", path);
		goto out;
	}
	vof = malloc(rs.nfound * sizeof *vof);
	if (!vof) {
		r = store_fail(-ENOMEM, "history: out of memory");
		goto out;
	}
	if ((r = group_versions(&rs, vof, &out)) < 0)
		goto out;
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t v = HIST_ABSENT;
		if (at[i] != HIST_ABSENT) {
			if ((r = version_of(&rs, at[i], vof, &out, i)) < 0)
				break;
			v = vof[at[i]];
			out.v[v].last = i;
			out.v[v].count++;
		}
		if (v != HIST_ABSENT || out.nruns)
			r = runs_push(&out, &ralloc, v, i);
	}
out:
	if (r == 0)
		*ret = out;
	else
		hist_versions_clear(&out);
	free(vof);
	free(at);
	resolver_free(&rs);
	return r;
}

/* ---- the names a directory ever held ---------------------------------- */

void hist_names_free(struct hist_name *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i].name);
	free(names);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hist_name *)a)->name, ((const struct hist_name *)b)->name);
}

static int names_add_tree(struct hist *h, const blob_id *id, struct hist_name **names, size_t *n,
			  size_t *alloc)
{
	const struct tree *t;
	void *ref;
	int r = hist_get(h, id, &t, &ref);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n && r == 0; i++) {
		if (*n == *alloc) {
			size_t na = *alloc ? *alloc * 2 : 64;
			struct hist_name *p = realloc(*names, na * sizeof *p);
			if (!p) {
				r = store_fail(-ENOMEM, "history: out of memory");
				break;
			}
			*names = p;
			*alloc = na;
		}
		struct hist_name *e = &(*names)[*n];
		bool dir = t->nodes[i].type == NODE_DIR;
		*e = (struct hist_name){strdup(t->nodes[i].name), dir, !dir};
		if (!e->name)
			r = store_fail(-ENOMEM, "history: out of memory");
		else
			(*n)++;
	}
	hist_put(h, ref);
	return r;
}

/* Sort and fold equal names into one entry. */
static void names_fold(struct hist_name *names, size_t *n)
{
	if (*n == 0)
		return;
	qsort(names, *n, sizeof *names, name_cmp);
	size_t k = 0;
	for (size_t i = 1; i < *n; i++) {
		if (strcmp(names[i].name, names[k].name) == 0) {
			names[k].ever_dir |= names[i].ever_dir;
			names[k].ever_other |= names[i].ever_other;
			free(names[i].name);
		} else {
			names[++k] = names[i];
		}
	}
	*n = k + 1;
}

int hist_version_names(struct hist *h, const struct hist_versions *v, struct hist_name **ret,
		       size_t *ret_n)
{
	struct hist_name *names = NULL;
	size_t nn = 0, alloc = 0;
	bool any_dir = false;
	int r = 0;
	/* Versions of a directory are distinct tree ids: each read once. */
	for (size_t i = 0; i < v->nv && r == 0; i++) {
		if (v->v[i].node.type != NODE_DIR)
			continue;
		any_dir = true;
		r = names_add_tree(h, &v->v[i].node.subtree, &names, &nn, &alloc);
		if (r == 0 && nn > 1 && alloc > 4096 && nn * 2 > alloc)
			names_fold(names, &nn); /* keep a long history's list small */
	}
	if (r == 0 && !any_dir)
		r = store_fail(-ENOENT, "a directory in no snapshot");
	if (r < 0) {
		hist_names_free(names, nn);
		return r;
	}
	names_fold(names, &nn);
	*ret = names;
	*ret_n = nn;
	return 0;
}

int hist_dir_names(struct hist *h, const blob_id *roots, size_t n, const char *path,
		   struct hist_name **ret, size_t *ret_n)
{
	struct hist_versions v;
	int r = hist_versions(h, roots, n, path, &v);
	if (r == 0) {
		r = hist_version_names(h, &v, ret, ret_n);
		hist_versions_clear(&v);
	}
	if (r == -ENOENT)
		r = store_fail(-ENOENT, "%s: a directory in no snapshot", *path ? path : ".");
	return r;
}
