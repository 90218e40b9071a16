/* attr.c — recorded metadata as struct stat. */
#include "fs/attr.h"

#include <string.h>

mode_t attr_type_bits(uint8_t type)
{
	switch (type) {
	case NODE_DIR: return S_IFDIR;
	case NODE_SYMLINK: return S_IFLNK;
	case NODE_FIFO: return S_IFIFO;
	case NODE_CHR: return S_IFCHR;
	case NODE_BLK: return S_IFBLK;
	case NODE_SOCK: return S_IFSOCK;
	default: return S_IFREG;
	}
}

static struct timespec ts_of(int64_t ns)
{
	/* Floor division: times before 1970 have a negative second part. */
	int64_t sec = ns / 1000000000LL, rem = ns % 1000000000LL;
	if (rem < 0) {
		rem += 1000000000LL;
		sec--;
	}
	return (struct timespec){ .tv_sec = (time_t)sec, .tv_nsec = (long)rem };
}

void attr_set_times(struct stat *st, int64_t mtime_ns, int64_t ctime_ns)
{
	st->st_mtim = ts_of(mtime_ns);
	st->st_atim = st->st_mtim;
	st->st_ctim = ts_of(ctime_ns);
}

void attr_from_node(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = attr_type_bits(n->type) | (n->mode & 07777);
	st->st_nlink = 1;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = (off_t)n->size;
	if (n->type == NODE_CHR || n->type == NODE_BLK)
		st->st_rdev = (dev_t)n->rdev;
	st->st_blksize = 4096;
	/* Whole 512-byte blocks of the content (holes are not recorded). */
	if (n->type == NODE_FILE)
		st->st_blocks = (blkcnt_t)((n->size + 4095) / 4096 * 8);
	if (n->type == NODE_DIR) {
		/* What a folder's size is is up to the filesystem; this is ext4's. */
		st->st_size = 4096;
		st->st_blocks = 8;
	}
	attr_set_times(st, n->mtime_ns, n->ctime_ns);
}

size_t attr_subdirs(const struct tree *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->nodes[i].type == NODE_DIR)
			n++;
	return n;
}

void attr_snapshot_root(const struct tree *root, uid_t owner, gid_t group, struct stat *st)
{
	if (root->has_self) {
		/* The rwx bits the path to the root let other users use; setuid,
		 * setgid and sticky as they were. */
		uint32_t keep = 07000u | (root->self.reach & 0777u);
		st->st_mode = S_IFDIR | (root->self.mode & keep);
		st->st_uid = root->self.uid;
		st->st_gid = root->self.gid;
	} else {
		st->st_mode = S_IFDIR | 0700;
		st->st_uid = owner;
		st->st_gid = group;
	}
}
