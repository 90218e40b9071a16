/* ops_internal.h — what the ops_*.c files share.  Internal to fs/. */
#ifndef CKPTFS_FS_OPS_INTERNAL_H
#define CKPTFS_FS_OPS_INTERNAL_H

#include <fuse_lowlevel.h>
#include <stdatomic.h>

#include "fs/ckfs.h"
#include "fs/inode.h"
#include "store/snapname.h"
#include "store/tree.h"

/* Names of the fixed entries of a project folder. */
#define OPS_LATEST "latest"
#define OPS_TAGDIR "@tags"
#define OPS_VERSIONS "@versions"

/* @versions and its path folders: the mounting user's only.  A path
 * folder merges that path from every snapshot, each reached in its own
 * snapshot through folders whose modes differ (a 0700 project root, a
 * private subfolder), so no one mode would give other users exactly what
 * the snapshot folders give them; under `mount -o allow_other` they read
 * the snapshot folders, where every recorded mode applies. */
#define OPS_HIST_MODE 0500

static inline struct ckfs *ops_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The entry for ino, or NULL (the caller replies ESTALE). */
struct inode *ops_inode(struct ckfs *fs, fuse_ino_t ino);

/* What a resolved template may point into, kept until inode_get copied
 * it: a cached tree, or the text of a symlink target. */
struct ops_hold {
	struct tcache_entry *tree;
	char target[SNAPNAME_MAX_LEN + 8];
	char *vtarget; /* a version's symlink target (owned) */
};

/* Resolve name in parent into *tmpl (zeroed first).  0, -ENOENT (with
 * *neg_timeout how long the kernel may cache the absence, 0 for not at
 * all), or another negative errno after logging it.  tmpl may point into
 * *hold: release it with ops_hold_release after inode_get. */
int ops_resolve(struct ckfs *fs, struct inode *parent, const char *name, struct inode *tmpl,
		double *neg_timeout, struct ops_hold *hold);
void ops_hold_release(struct ckfs *fs, struct ops_hold *hold);

/* *tmpl for node n of parent's tree (a folder's link count needs its own
 * tree).  tmpl->target points into n. */
int ops_tmpl_from_node(struct ckfs *fs, struct inode *parent, const struct node *n,
		       struct inode *tmpl);

/* *tmpl for name in parent (a snapshot folder or a folder in one, whose
 * tree t holds no such entry) if it names the -wal or -shm of a WAL-mode
 * SQLite database in t: an empty INODE_SIDECAR (fs/sidecar.h).  0,
 * -ENOENT, or another negative errno (logged: the database's header could
 * not be read). */
int ops_sidecar_resolve(struct ckfs *fs, struct inode *parent, const struct tree *t,
			const char *name, struct inode *tmpl);

/* The same for the recorded file db, whose -wal or -shm is asked for in
 * parent (also a path folder of @versions, for a version). */
int ops_sidecar_of(struct ckfs *fs, struct inode *parent, const struct node *db,
		   struct inode *tmpl);

/* Current attributes of e and how long they may be cached.  0, -ENOENT
 * (a project or snapshot that went away), or another negative errno. */
int ops_getattr_of(struct ckfs *fs, struct inode *e, struct stat *st, double *timeout);

/* How long the kernel may cache a name in parent. */
double ops_entry_timeout(const struct inode *parent);

/* Fill e for a counted entry (inode_get) and its attributes. */
int ops_entry_param(struct ckfs *fs, struct inode *parent, struct inode *child,
		    struct fuse_entry_param *e);

/* The recorded node of an entry inside a snapshot (DIR or LEAF), from its
 * parent's tree: *ret_ref must be released with tcache_release.  0 or a
 * negative errno (logged). */
int ops_node_of(struct ckfs *fs, struct inode *e, struct tcache_entry **ret_ref,
		const struct node **ret_node);

/* Turn a store error about entry e (or its child named child, if not NULL)
 * into what the kernel gets: log it with the path and the store message;
 * ENOMEM stays, everything else (corruption, a missing blob, I/O) becomes
 * EIO — never ENOENT.  what says what was being done ("read", "list"). */
int ops_fail(struct ckfs *fs, const struct inode *e, const char *child, const char *what, int err);

/* The open file: a private copy of its node (with the chunk list). */
struct ops_file {
	struct ckfs_handle h; /* linked while open */
	struct node node;
	struct inode *inode; /* held by the kernel while open */
};

/* The chunks holding bytes [off, off + len) of file n, clipped to its
 * size (node_chunk_at at both ends): false if the range holds no byte of
 * content. */
bool ops_chunk_span(const struct node *n, uint64_t off, uint64_t len, size_t *first, size_t *last);

/* The project list, the index of project_id in it and (if ret_s) its
 * snapshot list, all referenced.  -ENOENT if the project is gone. */
int ops_project_snaps(struct ckfs *fs, int64_t project_id, struct view_projects **ret_p,
		      size_t *ret_i, struct view_snaps **ret_s);

/* The snapshot list of e's project, for a request on e (or on its entry
 * child, if not NULL): -ENOENT if the project is gone, another failure
 * logged by ops_fail as "<what> <path>: why".  Release both with
 * ops_snaps_release. */
int ops_snaps_for(struct ckfs *fs, struct inode *e, const char *child, const char *what,
		  struct view_projects **ret_p, struct view_snaps **ret_s);
void ops_snaps_release(struct ckfs *fs, struct view_projects *p, struct view_snaps *s);

/* @versions (ops_versions.c).  A listing: each name with the template
 * of its inode (a path folder, INODE_HIST, or a version, INODE_VLEAF);
 * folders first, sorted, then versions oldest first. */
struct ops_vent {
	char *name;
	struct inode tmpl; /* tmpl.target owned */
};
struct ops_vlist {
	struct ops_vent *e;
	size_t n;
};

/* The listing of INODE_HIST dir.  0 or a negative errno (logged). */
int ops_vlist(struct ckfs *fs, struct inode *dir, struct ops_vlist *ret);
void ops_vlist_clear(struct ops_vlist *l);

/* The template of <project>/@versions itself. */
void ops_hist_tmpl(struct ckfs *fs, const struct inode *project, struct inode *tmpl);

/* Resolve name in INODE_HIST parent (ops_resolve's contract). */
int ops_hist_resolve(struct ckfs *fs, struct inode *parent, const char *name, struct inode *tmpl,
		     struct ops_hold *hold);

/* Ops by family. */
void ops_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void ops_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void ops_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void ops_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_readlink(fuse_req_t req, fuse_ino_t ino);
void ops_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi);
void ops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi);
void ops_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ops_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void ops_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void ops_statfs(fuse_req_t req, fuse_ino_t ino);

#endif
