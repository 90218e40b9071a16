/* ops_read.c — open, read, release and extended attributes of files
 * inside snapshots.
 *
 * Files are opened without a handle where the kernel allows it
 * (ckfs.open_free): a read then finds its node in the folder's cached
 * tree, a binary search.  Otherwise an open file keeps a private copy of
 * its node (the chunk list).  A read pins the chunks it covers in the shared LRU of
 * decoded chunks (binary search for the first) and replies straight from
 * them.  There is no read-ahead of our own: the kernel's (128 KiB, with a
 * second read in flight while the reader copies the first) keeps a worker
 * decoding beside the reader; see README, "Speed", for what was tried.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "fs/ops_internal.h"
#include "store/content.h"
#include "store/err.h"

int ops_node_of(struct ckfs *fs, struct inode *e, struct tcache_entry **ret_ref,
		const struct node **ret_node)
{
	bool version = e->kind == INODE_VLEAF;
	if ((!inode_kind_immutable(e->kind) && !version) || e->kind == INODE_SNAPSHOT ||
	    e->kind == INODE_SIDECAR || !e->parent)
		return -ENODATA;
	struct tcache_entry *ref;
	store_error_clear();
	/* A version sits in its own tree under the name of its path folder. */
	int r = tcache_get(fs->trees, version ? &e->tree : &e->parent->tree, &ref);
	if (r < 0)
		return ops_fail(fs, e->parent, NULL, "list", r);
	const struct node *n = tree_lookup(ref->tree, version ? e->parent->name : e->name);
	if (!n) {
		/* The tree is immutable: this cannot happen unless memory is bad. */
		tcache_release(fs->trees, ref);
		ckfs_log(fs, LOG_ERR, "%s: vanished from its folder's tree", e->name);
		return -EIO;
	}
	*ret_ref = ref;
	*ret_node = n;
	return 0;
}

/* A file recorded as metadata only: there is no content to give. */
static void not_captured(struct ckfs *fs, const struct inode *e, const char *what)
{
	char path[1024];
	ckfs_log(fs, LOG_NOTICE, "%s %s: not captured (unreadable when the snapshot was taken)", what,
		 inode_path(fs->inodes, e, path, sizeof(path)));
}

/* The kernel releases a file only once no read of it is in flight. */
static void file_free(struct ops_file *f)
{
	if (f) {
		node_clear(&f->node);
		free(f);
	}
}

/* ckfs_handle free: a file still open when the session ended. */
static void file_handle_free(struct ckfs *fs, struct ckfs_handle *h)
{
	file_free((struct ops_file *)h);
}

/* Hand the kernel f, the open file of e. */
static void open_reply(struct ckfs *fs, fuse_req_t req, struct fuse_file_info *fi,
		       struct inode *e, struct ops_file *f)
{
	f->inode = e;
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->keep_cache = 1; /* contents never change: keep the page cache */
	f->h.free = file_handle_free;
	ckfs_handle_add(fs, &f->h);
	if (fuse_reply_open(req, fi) != 0) {
		ckfs_handle_del(fs, &f->h);
		file_free(f);
	}
}

void ops_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ckfs *fs = ops_fs(req);
	struct inode *e = ops_inode(fs, ino);
	if (!e) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (fs->open_free) {
		/* Taken as success: no handle, and the kernel sends no more
		 * OPEN or RELEASE for files on this mount (ops_read finds the
		 * node itself). */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	bool leaf = e->kind == INODE_LEAF || e->kind == INODE_VLEAF || e->kind == INODE_SIDECAR;
	if (!leaf || !S_ISREG(e->st.st_mode)) {
		fuse_reply_err(req, leaf ? EINVAL : EISDIR);
		return;
	}
	struct ops_file *f = calloc(1, sizeof(*f));
	if (!f) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (e->kind == INODE_SIDECAR) {
		f->node.type = NODE_FILE; /* empty: no chunks, size 0 */
		open_reply(fs, req, fi, e, f);
		return;
	}
	struct tcache_entry *ref;
	const struct node *n;
	int r = ops_node_of(fs, e, &ref, &n);
	if (r < 0) {
		free(f);
		fuse_reply_err(req, -r);
		return;
	}
	if (n->flags & NODE_F_UNREADABLE) {
		not_captured(fs, e, "open");
		tcache_release(fs->trees, ref);
		free(f);
		fuse_reply_err(req, EIO);
		return;
	}
	r = node_copy(n, &f->node);
	tcache_release(fs->trees, ref);
	if (r < 0) {
		free(f);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	open_reply(fs, req, fi, e, f);
}


void ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ops_file *f = (struct ops_file *)(uintptr_t)fi->fh;
	if (f)
		ckfs_handle_del(ops_fs(req), &f->h);
	file_free(f);
	fuse_reply_err(req, 0);
}

bool ops_chunk_span(const struct node *n, uint64_t off, uint64_t len, size_t *first, size_t *last)
{
	if (len == 0 || off >= n->size || n->nchunks == 0)
		return false;
	uint64_t end = off + len < n->size ? off + len : n->size;
	*first = node_chunk_at(n, off);
	*last = node_chunk_at(n, end - 1);
	return *first < n->nchunks && *last < n->nchunks;
}

/* Reply with the bytes straight from the chunk cache (no copy here; the
 * kernel copies them into its page cache).  Up to this many pieces: a
 * 1 MiB read of 16 KiB chunks, plus the ends. */
#define READ_PIECES 72

/* Answer a read of [off, off + size): 0 once replied, or a negative
 * errno (not replied). */
static int read_reply(struct ckfs *fs, fuse_req_t req, const struct node *file, off_t off,
		      size_t size)
{
	struct content_piece pieces[READ_PIECES];
	size_t first, last;
	store_error_clear();
	if (!ops_chunk_span(file, (uint64_t)off, size, &first, &last) ||
	    last - first < READ_PIECES) {
		ssize_t np =
			content_pin(fs->repo, file, (uint64_t)off, size, pieces, READ_PIECES);
		if (np >= 0) {
			struct iovec iov[READ_PIECES];
			for (ssize_t i = 0; i < np; i++)
				iov[i] = (struct iovec){ .iov_base = (void *)pieces[i].data,
							 .iov_len = pieces[i].len };
			fuse_reply_iov(req, iov, (int)np);
			content_unpin(fs->repo, pieces, (size_t)np);
			return 0;
		}
		if (np != -E2BIG)
			return (int)np;
	}
	/* More pieces than that (a huge read of small chunks): copy. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	store_error_clear();
	ssize_t n = content_read(fs->repo, file, (uint64_t)off, buf, size);
	if (n >= 0)
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
	return n < 0 ? (int)n : 0;
}

/* An open without a handle (fs->open_free): the node of regular file e,
 * from its folder's cached tree (*ret_ref, released by the caller; NULL
 * for an empty sidecar).  0, or an errno to reply with (logged). */
static int handle_free_node(struct ckfs *fs, struct inode *e, struct tcache_entry **ret_ref,
			    const struct node **ret_node)
{
	static const struct node empty = { .type = NODE_FILE }; /* no chunks, size 0 */
	*ret_ref = NULL;
	bool leaf = e->kind == INODE_LEAF || e->kind == INODE_VLEAF || e->kind == INODE_SIDECAR;
	if (!leaf || !S_ISREG(e->st.st_mode))
		return leaf ? EINVAL : EISDIR;
	if (e->kind == INODE_SIDECAR) {
		*ret_node = &empty;
		return 0;
	}
	int r = ops_node_of(fs, e, ret_ref, ret_node);
	if (r < 0)
		return -r;
	if ((*ret_node)->flags & NODE_F_UNREADABLE) {
		not_captured(fs, e, "read");
		tcache_release(fs->trees, *ret_ref);
		*ret_ref = NULL;
		return EIO;
	}
	return 0;
}

/* The first read of a file inside a snapshot: a walk copying files is
 * in its folder, so read the folder's other small files ahead. */
static void read_started(struct ckfs *fs, const struct inode *e, off_t off)
{
	if (off == 0 && e->kind == INODE_LEAF && e->parent)
		prefetch_folder(fs->prefetch, &e->parent->tree, PREFETCH_FILES);
}

void ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct ckfs *fs = ops_fs(req);
	struct ops_file *f = (struct ops_file *)(uintptr_t)fi->fh;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (f) {
		read_started(fs, f->inode, off);
		int r = read_reply(fs, req, &f->node, off, size);
		if (r < 0)
			fuse_reply_err(req, -ops_fail(fs, f->inode, NULL, "read", r));
		return;
	}
	struct inode *e = fs->open_free ? ops_inode(fs, ino) : NULL;
	if (!e) {
		fuse_reply_err(req, fs->open_free ? ESTALE : EBADF);
		return;
	}
	struct tcache_entry *ref;
	const struct node *n;
	int err = handle_free_node(fs, e, &ref, &n);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	read_started(fs, e, off);
	/* The reply pins the chunks, not the tree: release it after. */
	int r = read_reply(fs, req, n, off, size);
	tcache_release(fs->trees, ref);
	if (r < 0)
		fuse_reply_err(req, -ops_fail(fs, e, NULL, "read", r));
}

/* Reply to an xattr request with len bytes of data: the size probe
 * (size 0), ERANGE if it does not fit, else the data. */
static void reply_xattr(fuse_req_t req, size_t size, const void *data, size_t len)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

/* Errno for an attribute a node does not have.  Snapshots record user.*
 * attributes only: security labels and POSIX ACLs are not supported here,
 * and saying so (EOPNOTSUPP, not ENODATA) lets ls, cp and file managers
 * stop asking for them on every file: `ls -la` of 10,000 entries would
 * otherwise cost 20,000 round trips to this process. */
static int absent_xattr(const char *name)
{
	if (strncmp(name, "security.", 9) == 0 || strncmp(name, "system.", 7) == 0)
		return EOPNOTSUPP;
	return ENODATA;
}

void ops_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct ckfs *fs = ops_fs(req);
	struct inode *e = ops_inode(fs, ino);
	if (!e) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	struct tcache_entry *ref;
	const struct node *n;
	int r = ops_node_of(fs, e, &ref, &n);
	if (r == -ENODATA) {
		fuse_reply_err(req, absent_xattr(name));
		return;
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	const struct node_xattr *x = NULL;
	for (size_t i = 0; i < n->nxattrs && !x; i++)
		if (strcmp(n->xattrs[i].name, name) == 0)
			x = &n->xattrs[i];
	if (x)
		reply_xattr(req, size, x->value, x->value_len);
	else
		fuse_reply_err(req, absent_xattr(name));
	tcache_release(fs->trees, ref);
}

void ops_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct ckfs *fs = ops_fs(req);
	struct inode *e = ops_inode(fs, ino);
	if (!e) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	struct tcache_entry *ref;
	const struct node *n;
	int r = ops_node_of(fs, e, &ref, &n);
	if (r == -ENODATA) {
		reply_xattr(req, size, "", 0);
		return;
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	size_t len = 0;
	for (size_t i = 0; i < n->nxattrs; i++)
		len += strlen(n->xattrs[i].name) + 1;
	char *buf = malloc(len ? len : 1);
	if (!buf) {
		tcache_release(fs->trees, ref);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t pos = 0;
	for (size_t i = 0; i < n->nxattrs; i++) {
		size_t l = strlen(n->xattrs[i].name) + 1;
		memcpy(buf + pos, n->xattrs[i].name, l);
		pos += l;
	}
	tcache_release(fs->trees, ref);
	reply_xattr(req, size, buf, len);
	free(buf);
}
