/* restore.c — restore_node: walking a snapshot's node and its subtree into a
 * destination directory.
 *
 * Safety rules (issue 5: a restore must not be turned against the user):
 * every destination component is opened relative to its parent fd with
 * O_NOFOLLOW, so neither a symlink in the snapshot nor one planted in the
 * destination is ever followed; names from the snapshot are re-checked to
 * be single components; an existing entry of another kind where a file or
 * a directory must go (a directory where a file goes, a file or symlink
 * where a directory goes) is left alone and reported, never deleted — the
 * user's data wins over the snapshot's; a directory's mode and mtime are
 * set after its contents.  setuid/setgid bits (also on directories) and
 * device nodes are restored only with allow_special.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/repo.h"
#include "store/restore_internal.h"

void rs_fail(struct rs_ctx *c, int err, const char *what)
{
	c->stats.errors++;
	if (c->opts->warn)
		c->opts->warn(c->opts->ctx, c->path.s, err, what);
	if (!c->first_err) {
		c->first_err = err;
		if (asprintf(&c->first_msg, "%s: %s", c->path.s, what) < 0)
			c->first_msg = NULL;
	}
}

void rs_report(struct rs_ctx *c, const struct node *n)
{
	if (c->opts->report)
		c->opts->report(c->opts->ctx, c->path.s, n);
}

bool rs_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > 255 || strchr(name, '/'))
		return false;
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

uint32_t rs_mode(const struct rs_ctx *c, const struct node *n)
{
	uint32_t mode = n->mode & 07777;
	if (!c->opts->allow_special)
		mode &= ~(uint32_t)(S_ISUID | S_ISGID);
	return mode;
}

/* "a character device"... for the file type of m. */
static const char *kind_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFLNK: return "a symlink";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	default: return "a file of unknown type";
	}
}

const char *rs_describe(int dirfd, const char *name, const struct stat *lst, char *out, size_t cap)
{
	struct stat to;
	if (!S_ISLNK(lst->st_mode))
		snprintf(out, cap, "%s", kind_of(lst->st_mode));
	else if (fstatat(dirfd, name, &to, 0) == 0)
		snprintf(out, cap, "a symlink to %s", kind_of(to.st_mode));
	else
		snprintf(out, cap, "%s symlink", errno == ENOENT || errno == ENOTDIR || errno == ELOOP
							 ? "a dangling" : "an unresolvable");
	return out;
}

/* Fail the path: name in dirfd, lst its lstat, is not a directory. */
static void not_a_dir(struct rs_ctx *c, int dirfd, const char *name, const struct stat *lst)
{
	char kind[64], what[128];
	snprintf(what, sizeof(what), "exists and is %s, not a directory: left alone",
		 rs_describe(dirfd, name, lst, kind, sizeof(kind)));
	rs_fail(c, -EEXIST, what);
}

static int rs_node(struct rs_ctx *c, const struct node *n, int dirfd, const char *name);

/* Restore the entries of directory node n into fd (-1 in a dry run). */
static int rs_children(struct rs_ctx *c, const struct node *n, int fd)
{
	struct tree *t;
	int r = tree_load(c->repo, &n->subtree, &t);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char what[512];
		snprintf(what, sizeof(what), "cannot load its directory: %s",
			 store_error() ? store_error() : strerror(-r));
		rs_fail(c, r, what);
		return 0;
	}
	size_t base = c->path.len;
	for (size_t i = 0; i < t->n; i++) {
		const struct node *child = &t->nodes[i];
		if (n == c->top && c->opts->skip_top && c->opts->skip_top(c->opts->ctx, child))
			continue;
		if ((r = relpath_push(&c->path, child->name ? child->name : "?", NULL)) < 0)
			break;
		if (!rs_name_ok(child->name))
			rs_fail(c, -EINVAL, "invalid name in the snapshot: not restored");
		else
			r = rs_node(c, child, fd, child->name);
		relpath_pop(&c->path, base);
		if (r < 0)
			break;
	}
	tree_free(t);
	return r;
}

static int rs_dir(struct rs_ctx *c, const struct node *n, int dirfd, const char *name)
{
	struct stat st;
	if (c->opts->dry_run) {
		/* What is there is checked as a real restore would (dirfd is
		 * -1 below a directory that does not exist yet). */
		int fd = -1;
		if (dirfd >= 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				not_a_dir(c, dirfd, name, &st);
				return 0;
			}
			fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		rs_report(c, n);
		c->stats.dirs++;
		int r = rs_children(c, n, fd);
		if (fd >= 0)
			close(fd);
		return r;
	}
	bool fresh = false;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			not_a_dir(c, dirfd, name, &st);
			return 0;
		}
	} else if (errno != ENOENT) {
		rs_fail(c, -errno, "cannot stat");
		return 0;
	} else if (mkdirat(dirfd, name, 0700) == 0) {
		fresh = true;
	} else if (errno != EEXIST) {
		rs_fail(c, -errno, "cannot create directory");
		return 0;
	}
	/* O_NOFOLLOW: if name was swapped for a symlink since, this fails. */
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		if ((e == -ELOOP || e == -ENOTDIR) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			not_a_dir(c, dirfd, name, &st);
		else
			rs_fail(c, e, "cannot open directory");
		return 0;
	}
	rs_report(c, n);
	/* A directory made just now holds no temps of a killed restore, and
	 * no entry can be in the way of one (only we can write into it:
	 * a rename still refuses to replace what appeared, restore_batch.c). */
	if (!fresh)
		rs_clean_temps(c, fd, NULL);
	struct rs_here parent = c->here;
	c->here = (struct rs_here){ .fresh = fresh, .batch_dir = -1 };
	/* A file created here gets the directory's group if it is setgid
	 * (or the file system mounted grpid), else ours: known when both
	 * agree or the directory is setgid. */
	if (fstat(fd, &st) == 0 && ((st.st_mode & S_ISGID) || st.st_gid == c->gid)) {
		c->here.gid_known = true;
		c->here.file_gid = st.st_gid;
	}
	int r = rs_children(c, n, fd);
	c->here = parent;
	c->here.batch_dir = -1; /* the batch may have been flushed meanwhile */
	if (r < 0)
		goto out;
	if (n->flags & NODE_F_UNREADABLE)
		rs_fail(c, -ENODATA, "could not be read when the snapshot was taken: contents not restored");
	/* The snapshot root (tree_resolve's node named "") carries no
	 * metadata of its own: the destination keeps its own. */
	if (!n->name || !n->name[0]) {
		c->stats.dirs++;
		goto out;
	}
	/* Metadata last, after every rename into the directory (those wait
	 * in the batch: restore_batch.c): a read-only mode must not stop the
	 * contents, and writing the contents would move the mtime. */
	r = rs_dirmeta_add(c, n);
	c->stats.dirs++;
out:
	close(fd);
	return r;
}

void rs_set_dir_meta(struct rs_ctx *c, int fd, const struct node *n)
{
	if (c->as_root && fchown(fd, n->uid, n->gid) < 0)
		rs_fail(c, -errno, "cannot set owner");
	if (fchmod(fd, rs_mode(c, n)) < 0)
		rs_fail(c, -errno, "cannot set mode");
	int xr = rs_set_xattrs(fd, n);
	if (xr < 0)
		rs_fail(c, xr, "cannot set xattrs");
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
				 {.tv_sec = n->mtime_ns / 1000000000LL,
				  .tv_nsec = n->mtime_ns % 1000000000LL}};
	if (ts[1].tv_nsec < 0) {
		ts[1].tv_nsec += 1000000000LL;
		ts[1].tv_sec--;
	}
	if (futimens(fd, ts) < 0)
		rs_fail(c, -errno, "cannot set mtime");
}

static int rs_node(struct rs_ctx *c, const struct node *n, int dirfd, const char *name)
{
	switch (n->type) {
	case NODE_DIR:
		return rs_dir(c, n, dirfd, name);
	case NODE_FILE:
		return rs_file(c, n, dirfd, name);
	case NODE_SYMLINK:
		return rs_symlink(c, n, dirfd, name);
	case NODE_FIFO:
	case NODE_CHR:
	case NODE_BLK:
	case NODE_SOCK:
		return rs_special(c, n, dirfd, name);
	default:
		rs_fail(c, -EINVAL, "unknown entry type in the snapshot: not restored");
		return 0;
	}
}

int restore_node(struct repo *repo, const struct node *n, int dest_dirfd, const char *dest_name,
		 const struct restore_opts *opts, struct restore_stats *ret_stats)
{
	static const struct restore_opts no_opts;
	struct rs_ctx c = {
		.repo = repo,
		.opts = opts ? opts : &no_opts,
		.as_root = geteuid() == 0,
		.uid = geteuid(),
		.gid = getegid(),
		.top = n,
		.here = { .batch_dir = -1 },
	};
	if (!rs_name_ok(dest_name))
		return store_fail(-EINVAL, "restore: invalid destination name \"%s\"",
				  dest_name ? dest_name : "");
	int r = relpath_push(&c.path, dest_name, NULL);
	if (r < 0)
		goto out;
	clock_gettime(CLOCK_REALTIME, &c.start);
	/* A single entry: the temps of that name only (a directory cleans
	 * its own, in rs_dir). */
	if (n->type != NODE_DIR && !c.opts->dry_run)
		rs_clean_temps(&c, dest_dirfd, dest_name);
	if (n->type == NODE_DIR && !c.opts->dry_run) {
		/* Two writers per CPU: a writer often waits (a pack read from
		 * disk, the journal), and on a busy machine each one is a
		 * share of the CPU. */
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		unsigned threads = c.opts->threads ? c.opts->threads : cpus > 0 ? 2 * (unsigned)cpus : 2;
		if ((r = rs_pool_start(&c, threads)) < 0)
			goto out;
	}
	r = rs_node(&c, n, dest_dirfd, dest_name);
	if (r >= 0 && !c.opts->dry_run) {
		rs_batch_finish(&c);
		rs_dirmeta_apply(&c, dest_dirfd);
		rs_sync_all(&c, dest_dirfd);
	}
out:
	rs_pool_free(&c);
	rs_batch_free(&c);
	if (r == -ENOMEM)
		store_fail(r, "restore %s: out of memory", dest_name);
	else if (r == 0 && c.first_err)
		r = store_fail(c.first_err, "%s", c.first_msg ? c.first_msg : "restore failed");
	if (r >= 0 || c.first_err) {
		if (ret_stats)
			*ret_stats = c.stats;
	}
	free(c.first_msg);
	relpath_free(&c.path);
	return r;
}
