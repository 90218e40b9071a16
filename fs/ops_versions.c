/* ops_versions.c — the @versions folder of a project.
 *
 * <project>/@versions/<path>/ is a folder for every path that ever
 * existed in the project's history: it lists the names the folder <path>
 * ever held (each such a folder again) and, when <path> was ever
 * something other than a folder, its distinct versions (store/history.h),
 * each named by the first snapshot holding it and reading exactly like
 * the file in that snapshot.  Nothing is kept between requests but the
 * inodes the kernel holds: a listing is built when asked, from the
 * project's snapshot list, with the history memo (one decode per distinct
 * tree on the way), and dropped after.  A version inode keeps the id of
 * the tree holding it, so opening it needs only that tree (tcache).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/attr.h"
#include "fs/ops_internal.h"
#include "fs/sidecar.h"
#include "store/err.h"
#include "store/history.h"

void ops_vlist_clear(struct ops_vlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].name);
		free(l->e[i].tmpl.target);
	}
	free(l->e);
	*l = (struct ops_vlist){0};
}

/* The path below @versions that e stands for ("" for @versions itself). */
static int hist_path(const struct inode *e, char *buf, size_t cap)
{
	const struct inode *chain[512];
	size_t n = 0, len = 0;
	for (const struct inode *p = e;
	     p && p->kind == INODE_HIST && p->parent && p->parent->kind == INODE_HIST;
	     p = p->parent) {
		if (n == sizeof chain / sizeof chain[0])
			return -ENAMETOOLONG;
		chain[n++] = p;
	}
	buf[0] = '\0';
	while (n-- > 0) {
		size_t l = strlen(chain[n]->name);
		if (len + l + 2 > cap)
			return -ENAMETOOLONG;
		if (len)
			buf[len++] = '/';
		memcpy(buf + len, chain[n]->name, l + 1);
		len += l;
	}
	return 0;
}

static int vlist_add(struct ops_vlist *l, size_t *alloc, const char *name, const struct inode *tmpl)
{
	if (l->n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 16;
		struct ops_vent *p = realloc(l->e, na * sizeof *p);
		if (!p)
			return -ENOMEM;
		l->e = p;
		*alloc = na;
	}
	struct ops_vent *v = &l->e[l->n];
	v->name = strdup(name);
	v->tmpl = *tmpl;
	v->tmpl.target = tmpl->target ? strdup(tmpl->target) : NULL;
	if (!v->name || (tmpl->target && !v->tmpl.target)) {
		free(v->name);
		free(v->tmpl.target);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static void hist_dir_tmpl(struct ckfs *fs, const struct inode *dir, int64_t mtime_ns,
			  struct inode *t)
{
	memset(t, 0, sizeof *t);
	t->kind = INODE_HIST;
	t->project_id = dir->project_id;
	t->st.st_mode = S_IFDIR | OPS_HIST_MODE;
	/* 1: "not counted" (find and fts then look inside each entry); the
	 * real count would need the listing of every path folder. */
	t->st.st_nlink = 1;
	t->st.st_uid = fs->uid;
	t->st.st_gid = fs->gid;
	t->st.st_size = 4096;
	t->st.st_blksize = 4096;
	attr_set_times(&t->st, mtime_ns, mtime_ns);
}

/* The versions of path that are not folders, as entries named by their
 * first snapshot (roots are oldest first, s->s newest first). */
static int add_versions(const struct view_snaps *s, const struct hist_versions *v,
			const struct inode *dir, struct ops_vlist *l, size_t *alloc)
{
	int r = 0;
	for (size_t i = 0; i < v->nv && r == 0; i++) {
		const struct hist_version *ver = &v->v[i];
		if (ver->node.type == NODE_DIR)
			continue;
		const struct snapshot *snap = &s->s[s->n - 1 - ver->first];
		struct inode t = {0};
		t.kind = INODE_VLEAF;
		t.project_id = dir->project_id;
		t.snap_id = snap->id;
		t.tree = ver->parent_tree;
		attr_from_node(&ver->node, &t.st);
		t.target = ver->node.type == NODE_SYMLINK ? ver->node.target : NULL;
		r = vlist_add(l, alloc, snap->name, &t);
	}
	return r == -ENOMEM ? store_fail(r, "@versions: out of memory") : r;
}

/* The history walk reads trees through the mount's tree cache: the root
 * trees of every snapshot, met by every lookup in @versions, are decoded
 * once while they stay in it. */
static int cache_get(void *ctx, const blob_id *id, const struct tree **ret_tree, void **ret_ref)
{
	struct tcache_entry *e;
	int r = tcache_get(ctx, id, &e);
	if (r == 0) {
		*ret_tree = e->tree;
		*ret_ref = e;
	}
	return r;
}

static void cache_put(void *ctx, void *ref)
{
	tcache_release(ctx, ref);
}

int ops_vlist(struct ckfs *fs, struct inode *dir, struct ops_vlist *ret)
{
	char path[4096];
	struct view_projects *p;
	struct view_snaps *s;
	struct hist *h = NULL;
	struct hist_name *names = NULL;
	struct hist_versions v = {0};
	size_t nn = 0, alloc = 0;
	blob_id *roots = NULL;
	struct ops_vlist l = {0};
	int r = hist_path(dir, path, sizeof path);
	if (r < 0)
		return r;
	if ((r = ops_snaps_for(fs, dir, NULL, "list versions in", &p, &s)) < 0)
		return r;
	int64_t mtime = s->n ? s->s[0].time_ns : 0;
	if (!(roots = malloc((s->n ? s->n : 1) * sizeof *roots))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->n; i++)
		roots[i] = s->s[s->n - 1 - i].root;
	if ((r = hist_open(fs->repo, &h)) < 0)
		goto out;
	hist_set_source(h, cache_get, cache_put, fs->trees);
	/* One resolve of path for both halves of the listing. */
	r = s->n ? hist_versions(h, roots, s->n, path, &v) : -ENOENT;
	if (r == 0)
		r = hist_version_names(h, &v, &names, &nn);
	if (r == -ENOENT) {
		store_error_clear();
		r = 0;
	}
	for (size_t i = 0; r == 0 && i < nn; i++) {
		struct inode t;
		hist_dir_tmpl(fs, dir, mtime, &t);
		r = vlist_add(&l, &alloc, names[i].name, &t);
	}
	if (r == 0)
		r = add_versions(s, &v, dir, &l, &alloc);
out:
	hist_versions_clear(&v);
	hist_names_free(names, nn);
	hist_free(h);
	free(roots);
	ops_snaps_release(fs, p, s);
	if (r < 0) {
		ops_vlist_clear(&l);
		return r == -ENOMEM ? r : ops_fail(fs, dir, NULL, "list versions in", r);
	}
	*ret = l;
	return 0;
}

void ops_hist_tmpl(struct ckfs *fs, const struct inode *project, struct inode *tmpl)
{
	hist_dir_tmpl(fs, project, 0, tmpl);
}

/* <version>-wal or -shm of a version that is a WAL-mode SQLite database:
 * SQLite opens @versions/<db>/<snapshot> as it opens the snapshot's file. */
static int hist_sidecar(struct ckfs *fs, struct inode *parent, const struct ops_vlist *l,
			const char *name, struct inode *tmpl)
{
	size_t blen = sidecar_base_len(name);
	const struct ops_vent *v = NULL;
	for (size_t i = 0; blen && i < l->n && !v; i++)
		if (l->e[i].tmpl.kind == INODE_VLEAF && S_ISREG(l->e[i].tmpl.st.st_mode) &&
		    strlen(l->e[i].name) == blen && memcmp(l->e[i].name, name, blen) == 0)
			v = &l->e[i];
	if (!v)
		return -ENOENT;
	struct tcache_entry *ref;
	int r = tcache_get(fs->trees, &v->tmpl.tree, &ref);
	if (r < 0)
		return ops_fail(fs, parent, v->name, "list", r);
	const struct node *db = tree_lookup(ref->tree, parent->name);
	r = db ? ops_sidecar_of(fs, parent, db, tmpl) : -ENOENT;
	if (r == 0)
		tmpl->snap_id = v->tmpl.snap_id;
	tcache_release(fs->trees, ref);
	return r;
}

int ops_hist_resolve(struct ckfs *fs, struct inode *parent, const char *name, struct inode *tmpl,
		     struct ops_hold *hold)
{
	struct ops_vlist l;
	int r = ops_vlist(fs, parent, &l);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.e[i].name, name) != 0)
			continue;
		*tmpl = l.e[i].tmpl;
		/* The target outlives the listing in hold (inode_get copies it). */
		hold->vtarget = l.e[i].tmpl.target;
		l.e[i].tmpl.target = NULL;
		r = 0;
		/* A version of a file and a folder entry may share a name only
		 * if a folder held an entry named like a snapshot: the folder
		 * (listed first) wins. */
		break;
	}
	if (r == -ENOENT)
		r = hist_sidecar(fs, parent, &l, name, tmpl);
	ops_vlist_clear(&l);
	return r;
}
