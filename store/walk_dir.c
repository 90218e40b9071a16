/* walk_dir.c — one directory of the walk: list, sort, decide each entry,
 * recurse into subdirectories (post-order) and store the directory's tree.
 *
 * Memory is proportional to the depth times the width of a directory: a
 * directory's tree is stored and freed as soon as its last entry is done,
 * and the parent snapshot's tree of the same directory is loaded when the
 * walk enters it and freed when it leaves.  One fd (the directory's) is open per
 * level; a tree nested deeper than the fd limit gets EMFILE, which is
 * reported as an unreadable directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/restore.h"
#include "store/writer.h"
#include "store/walk_internal.h"

/* The names of one directory, sorted (strcmp is memcmp order on bytes).
 * Each name is preceded in buf by its d_type byte (names_type). */
struct names {
	char *buf;
	size_t len, cap;
	size_t *off;
	size_t n, capn;
};

static int names_add(struct names *ns, const char *name, unsigned char type)
{
	size_t l = strlen(name) + 2;
	if (ns->len + l > ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 4096;
		while (cap < ns->len + l)
			cap *= 2;
		char *b = realloc(ns->buf, cap);
		if (!b)
			return -ENOMEM;
		ns->buf = b;
		ns->cap = cap;
	}
	if (ns->n == ns->capn) {
		size_t capn = ns->capn ? 2 * ns->capn : 64;
		size_t *o = realloc(ns->off, capn * sizeof(*o));
		if (!o)
			return -ENOMEM;
		ns->off = o;
		ns->capn = capn;
	}
	ns->buf[ns->len] = (char)type;
	memcpy(ns->buf + ns->len + 1, name, l - 1);
	ns->off[ns->n++] = ns->len + 1;
	ns->len += l;
	return 0;
}

static unsigned char names_type(const struct names *ns, size_t i)
{
	return (unsigned char)ns->buf[ns->off[i] - 1];
}

/* Read-ahead of the files the walk is about to read.  The walk reads one
 * file at a time, so on a cold cache a tree of small files waits for one
 * disk read per file, the disk idle in between.  A window of files ahead
 * of the walk is opened and asked for its first bytes
 * (POSIX_FADV_WILLNEED starts the reads without waiting), so the disk
 * serves up to PREFETCH_AHEAD files at once while the walk hashes and
 * seals.  Only files the parent snapshot does not list are asked for: a
 * file it lists is usually unchanged (the files cache reuses it unread),
 * and a re-snapshot must not read what it does not need. */
#define PREFETCH_AHEAD 32
#define PREFETCH_BYTES (1 << 20) /* per file; sequential read-ahead does the rest */

static void prefetch_one(int dirfd, const struct names *ns, size_t i, const struct tree *prev)
{
	const char *name = ns->buf + ns->off[i];
	if (names_type(ns, i) != DT_REG || restore_is_temp_name(name))
		return;
	if (prev && tree_lookup(prev, name))
		return;
	/* The flags of walk_file's open: O_NONBLOCK and O_NOCTTY in case
	 * the name was swapped for a FIFO or a device since readdir. */
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	int fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	if (fd < 0)
		return; /* only a hint: the walk reports what it cannot open */
	(void)posix_fadvise(fd, 0, PREFETCH_BYTES, POSIX_FADV_WILLNEED);
	close(fd);
}

static int off_cmp(const void *a, const void *b, void *base)
{
	return strcmp((const char *)base + *(const size_t *)a, (const char *)base + *(const size_t *)b);
}

static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether two nodes encode to the same bytes (every stored field). */
static bool node_equal(const struct node *a, const struct node *b)
{
	if (!str_equal(a->name, b->name) || a->type != b->type || a->flags != b->flags ||
	    a->mode != b->mode || a->uid != b->uid || a->gid != b->gid || a->size != b->size ||
	    a->mtime_ns != b->mtime_ns || a->ctime_ns != b->ctime_ns || a->dev != b->dev ||
	    a->ino != b->ino || a->rdev != b->rdev || !str_equal(a->target, b->target) ||
	    !id_equal(&a->subtree, &b->subtree) || a->nchunks != b->nchunks ||
	    a->nxattrs != b->nxattrs)
		return false;
	for (size_t i = 0; i < a->nchunks; i++)
		if (!id_equal(&a->chunks[i].id, &b->chunks[i].id) || a->chunks[i].len != b->chunks[i].len)
			return false;
	for (size_t i = 0; i < a->nxattrs; i++) {
		const struct node_xattr *x = &a->xattrs[i], *y = &b->xattrs[i];
		if (!str_equal(x->name, y->name) || x->value_len != y->value_len ||
		    (x->value_len && memcmp(x->value, y->value, x->value_len) != 0))
			return false;
	}
	return true;
}

static bool tree_equal(const struct tree *a, const struct tree *b)
{
	if (a->n != b->n || a->has_self != b->has_self)
		return false;
	if (a->has_self && (a->self.mode != b->self.mode || a->self.uid != b->self.uid ||
			    a->self.gid != b->self.gid || a->self.reach != b->self.reach))
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!node_equal(&a->nodes[i], &b->nodes[i]))
			return false;
	return true;
}

static int open_dir_noatime(int dirfd, const char *name)
{
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

static int unreadable_dir(struct walk_ctx *c, struct node *n, int err)
{
	walk_warn(c, err, "cannot read directory");
	c->res.partial = true;
	n->flags |= NODE_F_UNREADABLE;
	return walk_empty_tree(c, &n->subtree);
}

/* Copy prev's xattrs into n. */
static int copy_xattrs(const struct node *prev, struct node *n)
{
	struct node tmp;
	int r = node_copy(prev, &tmp);
	if (r < 0)
		return r;
	n->xattrs = tmp.xattrs;
	n->nxattrs = tmp.nxattrs;
	tmp.xattrs = NULL;
	tmp.nxattrs = 0;
	node_clear(&tmp);
	return 0;
}

static int enter_dir(struct walk_ctx *c, int dirfd, const struct stat *st0,
		     const struct node *prev, struct node *n)
{
	n->type = NODE_DIR;
	walk_fill_meta(n, st0);
	int fd = open_dir_noatime(dirfd, n->name);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return 1; /* gone or replaced since fstatat */
		return unreadable_dir(c, n, -errno);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return unreadable_dir(c, n, err);
	}
	if (st.st_dev != c->root_dev) {
		close(fd); /* became a mount point meanwhile */
		return 1;
	}
	walk_fill_meta(n, &st);
	if (prev && prev->type != NODE_DIR)
		prev = NULL;

	/* A changed xattr moves ctime, so an unchanged, non-racy ctime lets
	 * the parent snapshot's xattrs stand without asking. */
	int r;
	if (prev && prev->dev == n->dev && prev->ino == n->ino && prev->ctime_ns == n->ctime_ns &&
	    !walk_racy(c, prev->mtime_ns, prev->ctime_ns)) {
		r = copy_xattrs(prev, n);
	} else {
		r = walk_read_xattrs(fd, n);
		if (r < 0 && r != -ENOMEM) {
			walk_warn(c, r, "cannot read xattrs");
			c->res.partial = true;
			r = 0;
		}
	}
	if (r < 0) {
		close(fd);
		return r;
	}

	struct tree *pt = NULL;
	if (prev && c->repo) {
		r = tree_load(c->repo, &prev->subtree, &pt);
		if (r == -ENOMEM) {
			close(fd);
			return r;
		}
		/* A parent tree that cannot be loaded only costs the cache. */
		if (r < 0)
			pt = NULL;
	}
	r = walk_dir(c, fd, pt, pt ? &prev->subtree : NULL, NULL, 0, NULL, &n->subtree);
	tree_free(pt);
	return r;
}

static void progress(struct walk_ctx *c)
{
	if (!c->hooks->progress)
		return;
	c->prog.files = c->res.files;
	c->prog.dirs = c->res.dirs;
	c->prog.bytes = c->res.bytes;
	c->prog.read_bytes = c->res.read_bytes;
	c->prog.read_ahead_files = walk_scout_asked(c->scout);
	c->prog.current = c->path.s;
	c->hooks->progress(c->hooks->ctx, &c->prog);
}

/* Decide and build the entry name of the directory dirfd; c->path.s is its
 * relative path, dirlen the length of the parent part.  0 = n filled,
 * 1 = left out, negative = fail. */
static int walk_entry(struct walk_ctx *c, int dirfd, const char *name, size_t dirlen,
		      const struct tree *prev, const struct node *extras, size_t nextras,
		      struct node *n)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0) {
		if (errno == ENOENT)
			return 1; /* vanished since readdir */
		walk_warn(c, -errno, "cannot stat");
		c->res.partial = true;
		return 1;
	}
	walk_scout_if_cold(c);
	for (size_t i = 0; i < nextras; i++) {
		if (strcmp(extras[i].name, name) == 0) {
			walk_warn(c, -EEXIST, "left out: the name is reserved for ckptfs");
			return 1;
		}
	}
	bool is_dir = S_ISDIR(st.st_mode);
	/* Built-in exclude: a temp file of a killed restore (restore.h). */
	if (!is_dir && restore_is_temp_name(name))
		return 1;
	if (is_dir) {
		/* One filesystem: a mount point below the root is left out
		 * entirely, not recorded as an empty directory — a restore
		 * must not create a directory that was never the project's.
		 * This also skips every FUSE mount (a ckptfs mount included). */
		if (st.st_dev != c->root_dev)
			return 1;
		/* Never the repository itself (when it lives in the project). */
		if (c->have_repo_id && st.st_dev == c->repo_dev && st.st_ino == c->repo_ino)
			return 1;
	}
	int r = ignore_entry(c->ig, dirfd, c->path.s, dirlen, is_dir);
	if (r != 0)
		return r;
	if (c->hooks->skip && c->hooks->skip(c->hooks->ctx, c->path.s, &st))
		return 1;

	*n = (struct node){0};
	n->name = strdup(name);
	if (!n->name)
		return -ENOMEM;
	const struct node *p = prev ? tree_lookup(prev, name) : NULL;
	if (S_ISREG(st.st_mode))
		r = walk_file(c, dirfd, &st, p, n);
	else if (is_dir)
		r = enter_dir(c, dirfd, &st, p, n);
	else
		r = walk_special(c, dirfd, &st, n);
	if (r != 0) {
		node_clear(n);
		return r;
	}
	if (n->type == NODE_FILE) {
		c->res.files++;
		c->res.bytes += n->size;
		progress(c);
	} else if (n->type == NODE_DIR) {
		c->res.dirs++;
	}
	return 0;
}

int walk_dir(struct walk_ctx *c, int fd, const struct tree *prev, const blob_id *prev_id,
	     const struct node *extras, size_t nextras, const struct tree_self *self,
	     blob_id *ret_id)
{
	struct names ns = {0};
	struct tree t = {0};
	if (self) {
		t.has_self = true;
		t.self = *self;
	}
	size_t base = c->path.len;
	int r = 0;
	/* getdents64 straight into the names, not fdopendir/readdir: the fd
	 * is a directory already (opened O_DIRECTORY), and fdopendir's fstat
	 * and two fcntl calls were 3 of the 8 system calls per directory of
	 * an unchanged re-snapshot. */
	int lerr = 0;
	for (;;) {
		ssize_t got = getdents64(fd, c->dents, WALK_DENTS_BUF);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			lerr = -errno;
		if (got <= 0)
			break;
		for (size_t off = 0; off < (size_t)got;) {
			const struct dirent64 *de = (const struct dirent64 *)(c->dents + off);
			off += de->d_reclen;
			if (de->d_name[0] == '.' &&
			    (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
				continue;
			if ((r = names_add(&ns, de->d_name, de->d_type)) < 0)
				goto out;
		}
	}
	if (lerr) {
		/* Keep what could be listed; the snapshot says it is partial. */
		walk_warn(c, lerr, "cannot list directory");
		c->res.partial = true;
	}
	if (ns.n > 1)
		qsort_r(ns.off, ns.n, sizeof(*ns.off), off_cmp, ns.buf);
	bool has_ignore_file = false;
	for (size_t i = 0; i < ns.n && !has_ignore_file; i++)
		has_ignore_file = strcmp(ns.buf + ns.off[i], ".ckptignore") == 0;
	if ((r = ignore_enter(c->ig, fd, c->path.s, c->path.len, has_ignore_file)) < 0)
		goto out;

	t.nodes = calloc(ns.n + nextras + 1, sizeof(*t.nodes));
	if (!t.nodes) {
		r = -ENOMEM;
		goto out;
	}
	size_t ahead = 0; /* entries [0, ahead) were offered to prefetch_one */
	for (size_t i = 0; i < ns.n; i++) {
		const char *name = ns.buf + ns.off[i];
		for (; ahead < ns.n && ahead <= i + PREFETCH_AHEAD; ahead++)
			prefetch_one(fd, &ns, ahead, prev);
		if ((r = relpath_push(&c->path, name, NULL)) < 0)
			goto out;
		r = walk_entry(c, fd, name, base, prev, extras, nextras, &t.nodes[t.n]);
		relpath_pop(&c->path, base);
		if (r < 0)
			goto out;
		if (r == 0)
			t.n++;
	}
	for (size_t i = 0; i < nextras; i++) {
		if ((r = node_copy(&extras[i], &t.nodes[t.n])) < 0)
			goto out;
		t.n++;
	}
	if (nextras)
		tree_sort(&t);
	/* Unchanged since the parent snapshot (the common case): equal trees
	 * encode to equal bytes, so the id is the one just loaded — no need to
	 * encode, hash and look it up again. */
	if (prev && prev_id && !c->opts->verify_reused && tree_equal(&t, prev))
		*ret_id = *prev_id;
	else
		r = writer_put_tree(c->w, &t, ret_id);
out:
	if (r == -ENOMEM)
		store_fail(r, "walking %s: out of memory", c->path.len ? c->path.s : c->opts->root);
	for (size_t i = 0; i < t.n; i++)
		node_clear(&t.nodes[i]);
	free(t.nodes);
	free(ns.buf);
	free(ns.off);
	close(fd);
	return r < 0 ? r : 0;
}
