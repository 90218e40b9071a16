/* ops.h — the FUSE low-level operations of the read-only view.  The
 * session's userdata must be a struct ckfs (fs/ckfs.h). */
#ifndef CKPTFS_FS_OPS_H
#define CKPTFS_FS_OPS_H

#include <fuse_lowlevel.h>

/* The operation table (static storage). */
const struct fuse_lowlevel_ops *ops_table(void);

#endif
