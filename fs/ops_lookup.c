/* ops_lookup.c — names to inodes, attributes, symlinks, forget. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "fs/attr.h"
#include "fs/ops_internal.h"
#include "fs/probe.h"
#include "store/err.h"

struct inode *ops_inode(struct ckfs *fs, fuse_ino_t ino)
{
	return inode_find(fs->inodes, ino);
}

int ops_fail(struct ckfs *fs, const struct inode *e, const char *child, const char *what, int err)
{
	char path[1024];
	inode_path(fs->inodes, e, path, sizeof(path));
	const char *msg = store_error();
	ckfs_log(fs, LOG_ERR, "%s %s%s%s: %s", what, path, child && path[0] ? "/" : "",
		 child ? child : "", msg ? msg : strerror(-err));
	return err == -ENOMEM ? -ENOMEM : -EIO;
}

double ops_entry_timeout(const struct inode *parent)
{
	return inode_kind_immutable(parent->kind) ? CKFS_IMMUTABLE_TIMEOUT : CKFS_DYNAMIC_TIMEOUT;
}

/* The project list, the index of project_id in it and its snapshot list,
 * all referenced.  -ENOENT if the project is gone. */
int ops_project_snaps(struct ckfs *fs, int64_t project_id, struct view_projects **ret_p,
			 size_t *ret_i, struct view_snaps **ret_s)
{
	struct view_projects *p;
	int r = view_projects(fs->view, &p);
	if (r < 0)
		return r;
	long i = view_project_index_by_id(p, project_id);
	if (i < 0) {
		view_projects_release(fs->view, p);
		return -ENOENT;
	}
	if (ret_s) {
		r = view_snaps(fs->view, p, (size_t)i, ret_s);
		if (r < 0) {
			view_projects_release(fs->view, p);
			return r;
		}
	}
	*ret_p = p;
	*ret_i = (size_t)i;
	return 0;
}

int ops_snaps_for(struct ckfs *fs, struct inode *e, const char *child, const char *what,
		  struct view_projects **ret_p, struct view_snaps **ret_s)
{
	size_t pi;
	int r = ops_project_snaps(fs, e->project_id, ret_p, &pi, ret_s);
	if (r < 0 && r != -ENOENT)
		r = ops_fail(fs, e, child, what, r);
	return r;
}

void ops_snaps_release(struct ckfs *fs, struct view_projects *p, struct view_snaps *s)
{
	view_snaps_release(fs->view, s);
	view_projects_release(fs->view, p);
}

static void synthetic_dir(struct ckfs *fs, struct stat *st, int64_t mtime_ns, nlink_t nlink)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = nlink;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = 4096;
	st->st_blocks = 8;
	st->st_blksize = 4096;
	attr_set_times(st, mtime_ns, mtime_ns);
}

static void synthetic_link(struct ckfs *fs, struct stat *st, int64_t mtime_ns, size_t len)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFLNK | 0777;
	st->st_nlink = 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)len;
	st->st_blksize = 4096;
	attr_set_times(st, mtime_ns, mtime_ns);
}

/* Link count of a folder whose tree is id: 2 + its subfolders. */
static int dir_nlink(struct ckfs *fs, const struct inode *parent, const char *name,
		     const blob_id *id, nlink_t *ret)
{
	struct tcache_entry *ref;
	int r = tcache_get(fs->trees, id, &ref);
	if (r < 0)
		return ops_fail(fs, parent, name, "list", r);
	*ret = (nlink_t)(2 + attr_subdirs(ref->tree));
	tcache_release(fs->trees, ref);
	return 0;
}

/* A snapshot's folder: dated by the snapshot, with the project root's
 * recorded mode and owner, so that under `mount -o allow_other` the
 * kernel's default_permissions check keeps a private project private. */
static int snapshot_dir(struct ckfs *fs, const struct inode *parent, const char *name,
			const struct snapshot *snap, struct stat *st)
{
	struct tcache_entry *ref;
	int r = tcache_get(fs->trees, &snap->root, &ref);
	if (r < 0)
		return ops_fail(fs, parent, name, "list", r);
	synthetic_dir(fs, st, snap->time_ns, (nlink_t)(2 + attr_subdirs(ref->tree)));
	attr_snapshot_root(ref->tree, fs->uid, fs->gid, st);
	tcache_release(fs->trees, ref);
	return 0;
}

static int resolve_root(struct ckfs *fs, const char *name, struct inode *tmpl, double *neg)
{
	if (probe_is_junk(name)) {
		*neg = CKFS_IMMUTABLE_TIMEOUT;
		return -ENOENT;
	}
	struct view_projects *p;
	int r = view_projects(fs->view, &p);
	if (r < 0)
		return ops_fail(fs, inode_root(fs->inodes), name, "list projects for", r);
	long i = view_project_index(p, name);
	if (i >= 0) {
		tmpl->kind = INODE_PROJECT;
		tmpl->project_id = p->p[i].id;
	}
	view_projects_release(fs->view, p);
	return i >= 0 ? 0 : -ENOENT;
}

/* latest and @tags/<tag> are symlinks to one snapshot each: when the
 * target moves, the name resolves to a new inode (its identity includes the
 * snapshot id), so the kernel may cache each one's target for good. */
static void fixed_link(struct ckfs *fs, struct inode *tmpl, struct ops_hold *hold,
		       const struct snapshot *snap, const char *prefix)
{
	snprintf(hold->target, sizeof(hold->target), "%s%s", prefix, snap->name);
	tmpl->target = hold->target;
	tmpl->snap_id = snap->id;
	synthetic_link(fs, &tmpl->st, snap->time_ns, strlen(hold->target));
}

static int resolve_project(struct ckfs *fs, struct inode *parent, const char *name,
			   struct inode *tmpl, double *neg, struct ops_hold *hold)
{
	tmpl->project_id = parent->project_id;
	if (strcmp(name, OPS_TAGDIR) == 0) {
		tmpl->kind = INODE_TAGDIR;
		return 0;
	}
	if (strcmp(name, OPS_VERSIONS) == 0) {
		ops_hist_tmpl(fs, parent, tmpl);
		return 0;
	}
	bool latest = strcmp(name, OPS_LATEST) == 0;
	if (!latest && !probe_is_snapshot_name(name)) {
		*neg = CKFS_IMMUTABLE_TIMEOUT; /* can never exist */
		return -ENOENT;
	}
	struct view_projects *p;
	struct view_snaps *s;
	int r = ops_snaps_for(fs, parent, name, "list snapshots for", &p, &s);
	if (r < 0)
		return r;
	const struct snapshot *snap = latest ? (s->n ? &s->s[0] : NULL) : view_snap_by_name(s, name);
	if (!snap) {
		r = -ENOENT;
	} else if (latest) {
		tmpl->kind = INODE_LATEST;
		fixed_link(fs, tmpl, hold, snap, "");
	} else {
		tmpl->kind = INODE_SNAPSHOT;
		tmpl->snap_id = snap->id;
		tmpl->tree = snap->root;
		r = snapshot_dir(fs, parent, name, snap, &tmpl->st);
	}
	ops_snaps_release(fs, p, s);
	return r;
}

static int resolve_tag(struct ckfs *fs, struct inode *parent, const char *name,
		       struct inode *tmpl, struct ops_hold *hold)
{
	struct view_projects *p;
	struct view_snaps *s;
	int r = ops_snaps_for(fs, parent, name, "list tags for", &p, &s);
	if (r < 0)
		return r;
	long t = view_tag_index(s, name);
	if (t >= 0) {
		tmpl->kind = INODE_TAG;
		tmpl->project_id = parent->project_id;
		fixed_link(fs, tmpl, hold, &s->s[s->tag_snap[t]], "../");
	} else {
		r = -ENOENT;
	}
	ops_snaps_release(fs, p, s);
	return r;
}

int ops_tmpl_from_node(struct ckfs *fs, struct inode *parent, const struct node *n,
		       struct inode *tmpl)
{
	memset(tmpl, 0, sizeof(*tmpl));
	tmpl->project_id = parent->project_id;
	tmpl->snap_id = parent->snap_id;
	attr_from_node(n, &tmpl->st);
	if (n->type == NODE_DIR) {
		tmpl->kind = INODE_DIR;
		tmpl->tree = n->subtree;
		return dir_nlink(fs, parent, n->name, &n->subtree, &tmpl->st.st_nlink);
	}
	tmpl->kind = INODE_LEAF;
	if (n->type == NODE_SYMLINK)
		tmpl->target = n->target;
	return 0;
}

static int resolve_in_tree(struct ckfs *fs, struct inode *parent, const char *name,
			   struct inode *tmpl, double *neg, struct ops_hold *hold)
{
	struct tcache_entry *ref;
	int r = tcache_get(fs->trees, &parent->tree, &ref);
	if (r < 0)
		return ops_fail(fs, parent, NULL, "list", r);
	const struct node *n = tree_lookup(ref->tree, name);
	if (!n) {
		r = ops_sidecar_resolve(fs, parent, ref->tree, name, tmpl);
		tcache_release(fs->trees, ref);
		if (r == -ENOENT)
			*neg = CKFS_IMMUTABLE_TIMEOUT;
		return r;
	}
	r = ops_tmpl_from_node(fs, parent, n, tmpl);
	if (r < 0) {
		tcache_release(fs->trees, ref);
		return r;
	}
	hold->tree = ref;
	return 0;
}

void ops_hold_release(struct ckfs *fs, struct ops_hold *hold)
{
	tcache_release(fs->trees, hold->tree);
	hold->tree = NULL;
	free(hold->vtarget);
	hold->vtarget = NULL;
}

int ops_resolve(struct ckfs *fs, struct inode *parent, const char *name, struct inode *tmpl,
		double *neg_timeout, struct ops_hold *hold)
{
	memset(tmpl, 0, sizeof(*tmpl));
	*neg_timeout = 0;
	hold->tree = NULL;
	hold->vtarget = NULL;
	store_error_clear();
	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	switch (parent->kind) {
	case INODE_ROOT: return resolve_root(fs, name, tmpl, neg_timeout);
	case INODE_PROJECT: return resolve_project(fs, parent, name, tmpl, neg_timeout, hold);
	case INODE_TAGDIR: return resolve_tag(fs, parent, name, tmpl, hold);
	case INODE_SNAPSHOT:
	case INODE_DIR: return resolve_in_tree(fs, parent, name, tmpl, neg_timeout, hold);
	case INODE_HIST: return ops_hist_resolve(fs, parent, name, tmpl, hold);
	default: return -ENOTDIR;
	}
}

int ops_getattr_of(struct ckfs *fs, struct inode *e, struct stat *st, double *timeout)
{
	*timeout = CKFS_DYNAMIC_TIMEOUT;
	if (inode_kind_immutable(e->kind) || e->kind == INODE_LATEST || e->kind == INODE_TAG ||
	    e->kind == INODE_VLEAF) {
		*st = e->st;
		*timeout = CKFS_IMMUTABLE_TIMEOUT;
		return 0;
	}
	struct view_projects *p = NULL;
	size_t pi;
	int r;
	store_error_clear();
	if (e->kind == INODE_ROOT) {
		r = view_projects(fs->view, &p);
		if (r < 0)
			return ops_fail(fs, e, NULL, "list projects for", r);
		int64_t newest = 0;
		for (size_t i = 0; i < p->n; i++)
			if (p->p[i].last_time_ns > newest)
				newest = p->p[i].last_time_ns;
		synthetic_dir(fs, st, newest, (nlink_t)(2 + p->n));
		view_projects_release(fs->view, p);
		st->st_ino = 1;
		return 0;
	}
	r = ops_project_snaps(fs, e->project_id, &p, &pi, NULL);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return ops_fail(fs, e, NULL, "list snapshots for", r);
	const struct project *proj = &p->p[pi];
	int64_t mtime = proj->last_time_ns ? proj->last_time_ns : proj->created_ns;
	switch (e->kind) {
	case INODE_PROJECT:
		/* Its snapshots and @tags. */
		synthetic_dir(fs, st, mtime, (nlink_t)(4 + proj->nsnapshots));
		break;
	case INODE_HIST:
		/* Its listing changes as snapshots land: short timeout.  Link
		 * count 1: not counted (see ops_versions.c). */
		synthetic_dir(fs, st, mtime, 1);
		st->st_mode = S_IFDIR | OPS_HIST_MODE;
		break;
	case INODE_TAGDIR:
		synthetic_dir(fs, st, mtime, 2);
		break;
	default:
		r = -EIO;
	}
	view_projects_release(fs->view, p);
	st->st_ino = e->ino;
	return r;
}

int ops_entry_param(struct ckfs *fs, struct inode *parent, struct inode *child,
		    struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	int r = ops_getattr_of(fs, child, &e->attr, &e->attr_timeout);
	if (r < 0)
		return r;
	e->ino = child->nodeid;
	e->generation = 0;
	e->entry_timeout = ops_entry_timeout(parent);
	return 0;
}

void ops_lookup(fuse_req_t req, fuse_ino_t parent_ino, const char *name)
{
	struct ckfs *fs = ops_fs(req);
	struct inode *parent = ops_inode(fs, parent_ino);
	if (!parent) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	struct inode tmpl;
	struct ops_hold hold;
	double neg;
	int r = ops_resolve(fs, parent, name, &tmpl, &neg, &hold);
	if (r == -ENOENT && neg > 0) {
		/* A cached negative entry: ino 0 with a timeout. */
		struct fuse_entry_param e = { .ino = 0, .entry_timeout = neg };
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	struct inode *child = inode_get(fs->inodes, parent, name, &tmpl);
	ops_hold_release(fs, &hold);
	if (!child) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	struct fuse_entry_param e;
	r = ops_entry_param(fs, parent, child, &e);
	if (r < 0) {
		inode_forget(fs->inodes, child->nodeid, 1);
		fuse_reply_err(req, -r);
		return;
	}
	if (fuse_reply_entry(req, &e) != 0)
		inode_forget(fs->inodes, e.ino, 1); /* the kernel never got it */
}

void ops_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_forget(ops_fs(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

void ops_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct ckfs *fs = ops_fs(req);
	for (size_t i = 0; i < count; i++)
		inode_forget(fs->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

void ops_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ckfs *fs = ops_fs(req);
	struct inode *e = ops_inode(fs, ino);
	if (!e) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	struct stat st;
	double timeout;
	int r = ops_getattr_of(fs, e, &st, &timeout);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, timeout);
}

void ops_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct ckfs *fs = ops_fs(req);
	struct inode *e = ops_inode(fs, ino);
	if (!e) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if (e->target)
		fuse_reply_readlink(req, e->target);
	else
		fuse_reply_err(req, EINVAL);
}
