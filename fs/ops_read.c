/* ops_read.c — open, read, release and extended attributes of files
 * inside snapshots.
 *
 * An open file keeps a private copy of its node (the chunk list), so reads
 * need no tree.  Reads go through content_read (binary search for the
 * chunk, shared LRU of decoded chunks).  Sequential readers get the
 * following pages pushed into the kernel's cache (see push_ahead).
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
	if (!inode_kind_immutable(e->kind) || e->kind == INODE_SNAPSHOT || !e->parent)
		return -ENODATA;
	struct tcache_entry *ref;
	store_error_clear();
	int r = tcache_get(fs->trees, &e->parent->tree, &ref);
	if (r < 0)
		return ops_fail(fs, e->parent, NULL, "list", r);
	const struct node *n = tree_lookup(ref->tree, e->name);
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

static void file_put(struct ops_file *f)
{
	if (f && atomic_fetch_sub(&f->refs, 1) == 1) {
		node_clear(&f->node);
		free(f);
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
	if (e->kind != INODE_LEAF || !S_ISREG(e->st.st_mode)) {
		fuse_reply_err(req, e->kind == INODE_LEAF ? EINVAL : EISDIR);
		return;
	}
	struct ops_file *f = calloc(1, sizeof(*f));
	if (!f) {
		fuse_reply_err(req, ENOMEM);
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
		/* Recorded as metadata only: there is no content to give. */
		char path[1024];
		ckfs_log(fs, LOG_NOTICE, "open %s: not captured (unreadable when the snapshot was taken)",
			 inode_path(fs->inodes, e, path, sizeof(path)));
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
	f->inode = e;
	atomic_init(&f->refs, 1);
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->keep_cache = 1; /* contents never change: keep the page cache */
	if (fuse_reply_open(req, fi) != 0)
		file_put(f);
}


void ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	file_put((struct ops_file *)(uintptr_t)fi->fh);
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

/* Read-ahead by pushing pages into the kernel's cache.
 *
 * The kernel reads ahead at most 128 KiB at a time from a FUSE file (the
 * bdi's read_ahead_kb, which only root may raise), so a reader waits for
 * a round trip to this process every 128 KiB and the decode of a chunk
 * never overlaps the reader's own work.  Once a file is read
 * sequentially, the thread that answered the read goes on decoding the
 * next few MiB and stores them into the kernel's page cache
 * (fuse_lowlevel_notify_store): the reader then finds them there without
 * asking, and decoding runs on one core while the reader copies on the
 * other.  One thread per open file pushes at a time; the others only move
 * its target.  If the reader overtakes the pusher, its reads are answered
 * as usual and the pusher skips to after them.
 */
#define PUSH_MIN_RUN ((uint64_t)256 << 10) /* sequential bytes before pushing */
#define PUSH_WINDOW ((uint64_t)8 << 20)   /* at most this far ahead of a read */
#define PUSH_PIECE ((size_t)1 << 20)       /* bytes per store */
#define PUSH_SLACK ((uint64_t)1 << 20)     /* reads this far ahead still count as sequential */
#define PAGE_MASK_4K ((uint64_t)4095)

/* This thread's PUSH_PIECE buffer, kept while it lives (a fresh MiB per
 * push costs page faults; one per worker bounds the memory), or NULL. */
static char *push_buffer(struct ckfs *fs)
{
	char *buf = pthread_getspecific(fs->push_key);
	if (buf)
		return buf;
	buf = malloc(PUSH_PIECE);
	if (buf && pthread_setspecific(fs->push_key, buf) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void push_ahead(struct ckfs *fs, fuse_ino_t ino, struct ops_file *f)
{
	uint64_t size = f->node.size;
	while (!atomic_exchange(&f->pushing, true)) {
		char *buf = push_buffer(fs);
		if (!buf)
			goto stop;
		for (;;) {
			uint64_t to = atomic_load(&f->push_to);
			uint64_t pos = atomic_load(&f->pushed);
			uint64_t next = atomic_load(&f->next_off);
			if (pos < next) /* the reader is ahead: don't push behind it */
				pos = next;
			if (pos >= to)
				break;
			size_t len = to - pos < PUSH_PIECE ? (size_t)(to - pos) : PUSH_PIECE;
			store_error_clear();
			ssize_t n = content_read(fs->repo, &f->node, pos, buf, len);
			if (n <= 0)
				goto stop; /* the read that needs it will report the error */
			/* Whole pages only (or up to the end of the file): the
			 * kernel keeps a partly stored page not up to date. */
			uint64_t end = pos + (uint64_t)n;
			if (end < size)
				end &= ~PAGE_MASK_4K;
			if (end <= pos)
				goto stop;
			struct fuse_bufvec bv = FUSE_BUFVEC_INIT((size_t)(end - pos));
			bv.buf[0].mem = buf;
			if (fuse_lowlevel_notify_store(fs->se, ino, (off_t)pos, &bv, 0) != 0)
				goto stop; /* inode forgotten, or unmounting */
			atomic_store(&f->pushed, end);
		}
		atomic_store(&f->pushing, false);
		/* A target moved after the last check is this thread's job. */
		uint64_t pos = atomic_load(&f->pushed), next = atomic_load(&f->next_off);
		if ((pos > next ? pos : next) >= atomic_load(&f->push_to))
			break;
	}
	return;
stop:
	/* Give up for this file: reads still work, one round trip each. */
	atomic_store(&f->push_failed, true);
	atomic_store(&f->pushing, false);
}

/* After a read of [off, end): follow the sequential run and, once it is
 * long enough, move the push target to a window ahead of end that grows
 * with the run.  The kernel's reads of one file arrive on several threads
 * and may be answered out of order, so a read counts as sequential when
 * it starts anywhere from the run's start to a little past where reading
 * (or pushing) got to.  True if there is pushing to do. */
static bool push_plan(struct ops_file *f, uint64_t off, uint64_t end)
{
	uint64_t prev = atomic_load(&f->next_off);
	while (prev < end && !atomic_compare_exchange_weak(&f->next_off, &prev, end))
		;
	uint64_t pushed = atomic_load(&f->pushed);
	uint64_t reach = (pushed > prev ? pushed : prev) + PUSH_SLACK;
	uint64_t start = atomic_load(&f->run_start);
	if (off < start || off > reach) {
		/* A jump: a new run starts here (and stops a pusher). */
		atomic_store(&f->run_start, off);
		atomic_store(&f->next_off, end);
		atomic_store(&f->push_to, end);
		atomic_store(&f->pushed, end);
		return false;
	}
	uint64_t run = end - start;
	if (run < PUSH_MIN_RUN || atomic_load(&f->push_failed))
		return false;
	uint64_t window = 2 * run < PUSH_WINDOW ? 2 * run : PUSH_WINDOW;
	uint64_t to = end + window < f->node.size ? end + window : f->node.size;
	uint64_t cur = atomic_load(&f->push_to);
	while (cur < to && !atomic_compare_exchange_weak(&f->push_to, &cur, to))
		;
	return to > end;
}

/* Reply with the bytes straight from the chunk cache (no copy here; the
 * kernel copies them into its page cache).  Up to this many pieces: a
 * 1 MiB read of 16 KiB chunks, plus the ends. */
#define READ_PIECES 72

/* Answer a read of [off, off + size): 0 or a negative errno; *ret_n is
 * the number of bytes given. */
static int read_reply(struct ckfs *fs, fuse_req_t req, struct ops_file *f, off_t off, size_t size,
		      size_t *ret_n)
{
	struct content_piece pieces[READ_PIECES];
	store_error_clear();
	ssize_t np = content_pin(fs->repo, &f->node, (uint64_t)off, size, pieces, READ_PIECES);
	if (np >= 0) {
		struct iovec iov[READ_PIECES];
		size_t n = 0;
		for (ssize_t i = 0; i < np; i++) {
			iov[i] = (struct iovec){ .iov_base = (void *)pieces[i].data,
						 .iov_len = pieces[i].len };
			n += pieces[i].len;
		}
		fuse_reply_iov(req, iov, (int)np);
		content_unpin(fs->repo, pieces, (size_t)np);
		*ret_n = n;
		return 0;
	}
	if (np != -E2BIG)
		return (int)np;
	/* More pieces than that (a huge read of small chunks): copy. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	store_error_clear();
	ssize_t n = content_read(fs->repo, &f->node, (uint64_t)off, buf, size);
	if (n >= 0)
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
	if (n < 0)
		return (int)n;
	*ret_n = (size_t)n;
	return 0;
}

void ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct ckfs *fs = ops_fs(req);
	struct ops_file *f = (struct ops_file *)(uintptr_t)fi->fh;
	if (!f || off < 0) {
		fuse_reply_err(req, f ? EINVAL : EBADF);
		return;
	}
	/* Keep f alive past the reply: the kernel may release it at once. */
	atomic_fetch_add(&f->refs, 1);
	size_t n = 0;
	int r = read_reply(fs, req, f, off, size, &n);
	if (r < 0) {
		fuse_reply_err(req, -ops_fail(fs, f->inode, NULL, "read", r));
		file_put(f);
		return;
	}
	if (fs->prefetch && n > 0 && push_plan(f, (uint64_t)off, (uint64_t)off + n))
		push_ahead(fs, ino, f);
	file_put(f);
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
