/* ops_dir.c — opendir, readdir, readdirplus, releasedir.
 *
 * A folder inside a snapshot reads straight from its cached tree, pinned
 * while the folder is open, and lets the kernel cache the listing.  The
 * root, project and @tags folders copy their listing at opendir, so a
 * snapshot landing mid-listing cannot shift offsets.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/attr.h"
#include "fs/ops_internal.h"
#include "store/err.h"

struct dent {
	char *name;
	uint64_t ino;
	mode_t type; /* S_IF* */
};

struct ops_dir {
	struct ckfs_handle h;      /* linked while open */
	struct tcache_entry *tree; /* SNAPSHOT and DIR */
	struct dent *ents;         /* the others */
	size_t n;
	struct ops_vlist vl; /* HIST: the listing, with each entry's template */
};

static void dir_free(struct ops_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	ops_vlist_clear(&d->vl);
	free(d);
}

/* Free an open directory (and unpin its tree); also the ckfs_handle free
 * for a directory still open when the session ended. */
static void dir_handle_free(struct ckfs *fs, struct ckfs_handle *h)
{
	struct ops_dir *d = (struct ops_dir *)h;
	tcache_release(fs->trees, d->tree);
	dir_free(d);
}

static int add(struct ops_dir *d, size_t cap, const char *name, uint64_t ino, mode_t type)
{
	if (d->n >= cap)
		return -ENOMEM;
	char *nm = strdup(name);
	if (!nm)
		return -ENOMEM;
	d->ents[d->n++] = (struct dent){ nm, ino, type };
	return 0;
}

static int list_root(struct ckfs *fs, struct inode *e, struct ops_dir *d)
{
	struct view_projects *p;
	int r = view_projects(fs->view, &p);
	if (r < 0)
		return ops_fail(fs, e, NULL, "list projects in", r);
	d->ents = calloc(p->n + 1, sizeof(*d->ents));
	if (!d->ents)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < p->n; i++)
		r = add(d, p->n, p->p[i].name, inode_number(e->ino, p->p[i].name, 0), S_IFDIR);
	view_projects_release(fs->view, p);
	return r;
}

static int list_project(struct ckfs *fs, struct inode *e, struct ops_dir *d)
{
	struct view_projects *p;
	struct view_snaps *s;
	int r = ops_snaps_for(fs, e, NULL, "list snapshots in", &p, &s);
	if (r < 0)
		return r;
	size_t cap = s->n + 3;
	d->ents = calloc(cap, sizeof(*d->ents));
	if (!d->ents)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < s->n; i++) {
		const struct snapshot *snap = &s->s[s->by_name[i]];
		r = add(d, cap, snap->name, inode_number(e->ino, snap->name, snap->id), S_IFDIR);
	}
	if (r == 0 && s->n)
		r = add(d, cap, OPS_LATEST, inode_number(e->ino, OPS_LATEST, 0), S_IFLNK);
	if (r == 0)
		r = add(d, cap, OPS_TAGDIR, inode_number(e->ino, OPS_TAGDIR, 0), S_IFDIR);
	if (r == 0)
		r = add(d, cap, OPS_VERSIONS, inode_number(e->ino, OPS_VERSIONS, 0), S_IFDIR);
	ops_snaps_release(fs, p, s);
	return r;
}

static int list_tags(struct ckfs *fs, struct inode *e, struct ops_dir *d)
{
	struct view_projects *p;
	struct view_snaps *s;
	int r = ops_snaps_for(fs, e, NULL, "list tags in", &p, &s);
	if (r < 0)
		return r;
	d->ents = calloc(s->ntags + 1, sizeof(*d->ents));
	if (!d->ents)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < s->ntags; i++)
		r = add(d, s->ntags, s->tags[i], inode_number(e->ino, s->tags[i], 0), S_IFLNK);
	ops_snaps_release(fs, p, s);
	return r;
}

/* A path folder of @versions: the listing, templates kept for readdirplus. */
static int list_hist(struct ckfs *fs, struct inode *e, struct ops_dir *d)
{
	int r = ops_vlist(fs, e, &d->vl);
	if (r < 0)
		return r;
	d->ents = calloc(d->vl.n + 1, sizeof(*d->ents));
	if (!d->ents)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < d->vl.n; i++)
		r = add(d, d->vl.n, d->vl.e[i].name, inode_number(e->ino, d->vl.e[i].name, 0),
			d->vl.e[i].tmpl.st.st_mode & S_IFMT);
	return r;
}

void ops_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ckfs *fs = ops_fs(req);
	struct inode *e = ops_inode(fs, ino);
	if (!e) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	struct ops_dir *d = calloc(1, sizeof(*d));
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	int r;
	store_error_clear();
	switch (e->kind) {
	case INODE_ROOT: r = list_root(fs, e, d); break;
	case INODE_PROJECT: r = list_project(fs, e, d); break;
	case INODE_TAGDIR: r = list_tags(fs, e, d); break;
	case INODE_HIST: r = list_hist(fs, e, d); break;
	case INODE_SNAPSHOT:
	case INODE_DIR:
		r = tcache_get(fs->trees, &e->tree, &d->tree);
		if (r < 0)
			r = ops_fail(fs, e, NULL, "list", r);
		else
			prefetch_folder(fs->prefetch, &e->tree, PREFETCH_TREES);
		/* Immutable: the kernel may keep the listing. */
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
		break;
	default: r = -ENOTDIR;
	}
	if (r < 0) {
		dir_free(d);
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	d->h.free = dir_handle_free;
	ckfs_handle_add(fs, &d->h);
	if (fuse_reply_open(req, fi) != 0) {
		ckfs_handle_del(fs, &d->h);
		dir_handle_free(fs, &d->h);
	}
}

void ops_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ckfs *fs = ops_fs(req);
	struct ops_dir *d = (struct ops_dir *)(uintptr_t)fi->fh;
	if (d) {
		ckfs_handle_del(fs, &d->h);
		dir_handle_free(fs, &d->h);
	}
	fuse_reply_err(req, 0);
}

static size_t dir_len(const struct ops_dir *d)
{
	return d->tree ? d->tree->tree->n : d->n;
}

/* Entry i (after "." and ".."): name, d_ino and type bits. */
static void dir_entry(const struct ops_dir *d, struct inode *e, size_t i, const char **name,
		      uint64_t *ino, mode_t *type)
{
	if (d->tree) {
		const struct node *n = &d->tree->tree->nodes[i];
		*name = n->name;
		*ino = inode_number(e->ino, n->name, 0);
		*type = attr_type_bits(n->type);
	} else {
		*name = d->ents[i].name;
		*ino = d->ents[i].ino;
		*type = d->ents[i].type;
	}
}

/* One readdirplus entry: a counted inode and its attributes. */
static int plus_entry(struct ckfs *fs, struct inode *e, const struct ops_dir *d, size_t i,
		      const char *name, struct fuse_entry_param *ep, struct inode **ret_child)
{
	struct inode tmpl;
	struct ops_hold hold = { 0 };
	int r;
	if (d->tree) {
		store_error_clear();
		r = ops_tmpl_from_node(fs, e, &d->tree->tree->nodes[i], &tmpl);
	} else if (e->kind == INODE_HIST && i < d->vl.n) {
		tmpl = d->vl.e[i].tmpl;
		r = 0;
	} else {
		double neg;
		r = ops_resolve(fs, e, name, &tmpl, &neg, &hold);
	}
	if (r < 0)
		return r;
	struct inode *child = inode_get(fs->inodes, e, name, &tmpl);
	ops_hold_release(fs, &hold);
	if (!child)
		return -ENOMEM;
	r = ops_entry_param(fs, e, child, ep);
	if (r < 0) {
		inode_forget(fs->inodes, child->nodeid, 1);
		return r;
	}
	*ret_child = child;
	return 0;
}

static void fill(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi, bool plus)
{
	struct ckfs *fs = ops_fs(req);
	struct inode *e = ops_inode(fs, ino);
	struct ops_dir *d = (struct ops_dir *)(uintptr_t)fi->fh;
	if (!e || !d) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0, n = dir_len(d);
	int err = 0;
	/* Offsets: 1 after ".", 2 after "..", i + 3 after entry i. */
	for (size_t k = off < 0 ? 0 : (size_t)off; k < n + 2; k++) {
		const char *name;
		struct stat st = { 0 };
		if (k < 2) {
			name = k == 0 ? "." : "..";
			st.st_ino = k == 0 || !e->parent ? e->ino : e->parent->ino;
			st.st_mode = S_IFDIR;
		} else {
			uint64_t dino;
			mode_t type;
			dir_entry(d, e, k - 2, &name, &dino, &type);
			st.st_ino = dino;
			st.st_mode = type;
		}
		size_t need;
		if (!plus) {
			need = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)k + 1);
			if (need > size - used)
				break;
			used += need;
			continue;
		}
		struct fuse_entry_param ep = { .attr = st };
		struct inode *child = NULL;
		if (k >= 2) {
			int r = plus_entry(fs, e, d, k - 2, name, &ep, &child);
			if (r == -ENOENT)
				continue; /* went away since opendir */
			if (r < 0) {
				/* Hand out what we have; the next call reports it. */
				if (used == 0)
					err = -r;
				break;
			}
		}
		need = fuse_add_direntry_plus(req, buf + used, size - used, name, &ep, (off_t)k + 1);
		if (need > size - used) {
			if (child)
				inode_forget(fs->inodes, child->nodeid, 1);
			break;
		}
		used += need;
	}
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

void ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	fill(req, ino, size, off, fi, false);
}

void ops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	fill(req, ino, size, off, fi, true);
}
