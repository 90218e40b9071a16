/* ops.c — the operation table: what the kernel may ask, and EROFS for
 * every call that would change something. */
#include "fs/ops.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "fs/ops_internal.h"

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Nanosecond timestamps, as recorded. */
	conn->time_gran = 1;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* Every symlink inode keeps its target for life (`latest` moving is a
	 * new inode), so the kernel may cache targets: path walks through
	 * `latest` then cost no round trip. */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* Files need no open handle: a read finds the node from the inode
	 * (ops_read.c), so `cp -a` of small files costs one round trip per
	 * file less (OPEN), and one asynchronous RELEASE less. */
	struct ckfs *fs = userdata;
	fs->open_free = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
	/* Nothing is writable: no need for the kernel to ask about locks. */
	conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct ckfs *fs = ops_fs(req);
	uint64_t bytes = 0, files = 0;
	ckfs_usage(fs, &bytes, &files);
	struct statvfs sv;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_blocks = (fsblkcnt_t)((bytes + 4095) / 4096);
	sv.f_bfree = 0;
	sv.f_bavail = 0;
	sv.f_files = (fsfilcnt_t)files;
	sv.f_ffree = 0;
	sv.f_favail = 0;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

/* ---- everything that would write ---------------------------------- */

static void rofs(fuse_req_t req)
{
	fuse_reply_err(req, EROFS);
}

static void op_mknod(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t r)
{
	rofs(req);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m)
{
	rofs(req);
}

static void op_unlink(fuse_req_t req, fuse_ino_t p, const char *n)
{
	rofs(req);
}

static void op_symlink(fuse_req_t req, const char *l, fuse_ino_t p, const char *n)
{
	rofs(req);
}

static void op_rename(fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
		      const char *nn, unsigned int flags)
{
	rofs(req);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t np, const char *nn)
{
	rofs(req);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	rofs(req);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	rofs(req);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	rofs(req);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	rofs(req);
}

static void op_create(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m,
		      struct fuse_file_info *fi)
{
	rofs(req);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	rofs(req);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	rofs(req);
}

static const struct fuse_lowlevel_ops table = {
	.init = op_init,
	.lookup = ops_lookup,
	.forget = ops_forget,
	.forget_multi = ops_forget_multi,
	.getattr = ops_getattr,
	.readlink = ops_readlink,
	.opendir = ops_opendir,
	.readdir = ops_readdir,
	.readdirplus = ops_readdirplus,
	.releasedir = ops_releasedir,
	.open = ops_open,
	.read = ops_read,
	.release = ops_release,
	.getxattr = ops_getxattr,
	.listxattr = ops_listxattr,
	.statfs = op_statfs,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.setattr = op_setattr,
	.write = op_write,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
	.create = op_create,
	.fallocate = op_fallocate,
	.copy_file_range = op_copy_file_range,
};

const struct fuse_lowlevel_ops *ops_table(void)
{
	return &table;
}
