/* walk.c — walk_run: set up a walk of a project root and run it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "store/err.h"
#include "store/repo.h"
#include "store/writer.h"
#include "store/writer_internal.h"
#include "store/walk_internal.h"
#include "store/ignore.h"

#define FUSE_SUPER_MAGIC 0x65735546

void walk_warn(struct walk_ctx *c, int err, const char *what)
{
	c->res.warnings++;
	if (c->hooks->warn)
		c->hooks->warn(c->hooks->ctx, c->path.s ? c->path.s : "", err, what);
}

int walk_empty_tree(struct walk_ctx *c, blob_id *ret_id)
{
	if (!c->have_empty_tree) {
		struct tree empty = {0};
		int r = writer_put_tree(c->w, &empty, &c->empty_tree);
		if (r < 0)
			return r;
		c->have_empty_tree = true;
	}
	*ret_id = c->empty_tree;
	return 0;
}

/* Which rwx bits of the root's mode the folders above it let through
 * (struct tree_self.reach): other users need search permission on each
 * of them, so a folder without o+x takes the other bits away, and one
 * passable neither by others nor by the root's group (g+x and the same
 * group) the group bits too.  The owner's bits stay: the owner reaching
 * their own project is the normal case, and the mount's owner-only answer
 * would be no safer.  ACLs are not read.  An ancestor that cannot be
 * examined counts as closed. */
static uint32_t root_reach(const char *root, const struct stat *rst)
{
	uint32_t reach = 0777;
	char path[PATH_MAX];
	size_t len = strlen(root);
	if (len >= sizeof path)
		return 0700;
	memcpy(path, root, len + 1);
	for (;;) {
		char *slash = strrchr(path, '/');
		if (!slash)
			break;
		if (slash == path)
			slash[1] = '\0'; /* "/" itself, last */
		else
			*slash = '\0';
		struct stat st;
		if (stat(path, &st) < 0)
			return 0700;
		bool others = st.st_mode & S_IXOTH;
		bool group = others || ((st.st_mode & S_IXGRP) && st.st_gid == rst->st_gid);
		if (!others)
			reach &= ~0007u;
		if (!group)
			reach &= ~0070u;
		if (slash == path)
			break;
	}
	return reach;
}

void walk_scout_begin(struct walk_ctx *c)
{
	if (c->scout_tried)
		return;
	c->scout_tried = true;
	if (walk_scout_start(&c->scout_opts, &c->scout) < 0) {
		c->scout = NULL; /* only a hint */
		store_error_clear();
	}
}

static long thread_inblock(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_inblock : 0;
}

void walk_scout_if_cold(struct walk_ctx *c)
{
	if (c->scout_tried || ++c->cold_skip < WALK_COLD_EVERY)
		return;
	c->cold_skip = 0;
	if (thread_inblock() - c->inblock0 >= WALK_COLD_BLOCKS)
		walk_scout_begin(c);
}

int walk_run(struct writer *w, const struct walk_opts *opts, struct walk_result *ret)
{
	static const struct walk_hooks no_hooks;
	struct walk_ctx c = {
		.w = w,
		.repo = w->repo,
		.opts = opts,
		.hooks = opts->hooks ? opts->hooks : &no_hooks,
	};
	struct tree *prev = NULL;
	int r;
	if (!opts->root || opts->root[0] != '/')
		return store_fail(-EINVAL, "walk: the project root must be an absolute path");
	for (size_t i = 0; i < opts->nextra; i++) {
		const char *name = opts->extra_root[i].name;
		if (!name || !name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
			return store_fail(-EINVAL, "walk: invalid extra root entry name");
	}

	int fd = open(opts->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(opts->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "%s", opts->root);
	struct stat st;
	struct statfs sfs;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0) {
		r = store_failp(-errno, "%s", opts->root);
		close(fd);
		return r;
	}
	/* A project on FUSE could be a ckptfs mount (snapshots of snapshots)
	 * or a network filesystem that would make the walk crawl: refused. */
	if (sfs.f_type == FUSE_SUPER_MAGIC) {
		close(fd);
		return store_fail(-EXDEV, "%s: is on a FUSE filesystem (a ckptfs mount?); not walking it",
				  opts->root);
	}
	c.root_dev = st.st_dev;
	struct stat rst;
	if (c.repo && stat(repo_path(c.repo), &rst) == 0) {
		c.have_repo_id = true;
		c.repo_dev = rst.st_dev;
		c.repo_ino = rst.st_ino;
	}
	if ((r = ignore_open(opts->root, opts->excludes, opts->nexcludes, &c.ig)) < 0) {
		close(fd);
		return r;
	}
	if (opts->parent_root && c.repo) {
		r = tree_load(c.repo, opts->parent_root, &prev);
		if (r == -ENOMEM) {
			close(fd);
			goto out;
		}
		/* Without the parent's tree everything is read: slower, same result. */
		if (r < 0) {
			prev = NULL;
			store_error_clear();
		}
	}
	if (relpath_init(&c.path) < 0 || !(c.dents = malloc(WALK_DENTS_BUF))) {
		close(fd);
		r = store_fail(-ENOMEM, "walk: out of memory");
		goto out;
	}
	/* The scout reads big files ahead of the walk: every one in a first
	 * snapshot (since 0), started at once; in a re-snapshot those changed
	 * since the parent began, started only when the walk meets the first
	 * changed file (walk_file), or once the walk finds the cache cold
	 * (walk_scout_if_cold): on a warm unchanged tree its second stat walk
	 * would only cost CPU (0.46-0.52 -> 0.70-0.77 s on a 75,843-entry
	 * tree), with nothing to read ahead; on a cold one it reads inodes
	 * beside the walk. */
	c.scout_opts = (struct walk_scout_opts){
		.root = opts->root, .root_dev = c.root_dev, .have_repo = c.have_repo_id,
		.repo_dev = c.repo_dev, .repo_ino = c.repo_ino, .excludes = opts->excludes,
		.nexcludes = opts->nexcludes,
		.since_ns = opts->parent_root ? opts->parent_time_ns : 0,
	};
	if (!opts->parent_root)
		walk_scout_begin(&c);
	c.inblock0 = thread_inblock();
	/* The root's own mode and owner, and what the folders above it let
	 * through: the mount serves them for the snapshot folder (only its
	 * attributes not in any node).  Not its times: a file made and deleted between two snapshots would give an
	 * unchanged project a new root tree. */
	struct tree_self self = {
		.mode = (uint32_t)(st.st_mode & 07777),
		.uid = (uint32_t)st.st_uid,
		.gid = (uint32_t)st.st_gid,
		.reach = root_reach(opts->root, &st),
	};
	r = walk_dir(&c, fd, prev, prev ? opts->parent_root : NULL, opts->extra_root, opts->nextra,
		     &self, &c.res.root);
out:;
	struct walk_scout_stats ss = {0};
	c.res.read_ahead = c.scout != NULL;
	walk_scout_free(c.scout, false, &ss);
	c.res.read_ahead_files = ss.files;
	if (r >= 0)
		*ret = c.res;
	tree_free(prev);
	relpath_free(&c.path);
	free(c.dents);
	ignore_free(c.ig);
	return r;
}
