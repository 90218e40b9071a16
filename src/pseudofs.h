/* pseudofs.h — kernel pseudo file systems, which are never project roots.
 *
 * proc, sysfs, devtmpfs, cgroup, debugfs and the like hold kernel state
 * presented as files: a walk of /proc never ends (and /proc/kcore is the
 * size of the address space), /sys and /dev hold nothing to restore.  They
 * are told by statfs's f_type; devtmpfs reports tmpfs's magic, so a tmpfs
 * is looked up in /proc/self/mountinfo (by st_dev) to tell the two apart.
 * A plain tmpfs (or ramfs) is real storage and is accepted.
 */
#ifndef CKPTFS_SRC_PSEUDOFS_H
#define CKPTFS_SRC_PSEUDOFS_H

#include <stdbool.h>
#include <sys/types.h>

/* The name of the pseudo file system of f_type (statfs) holding a
 * directory on device dev, or NULL when it is a file system of real files
 * (unknown types included).  The name is static. */
const char *pseudofs_name(long f_type, dev_t dev);

/* Refuse path as a project root when it lies on a pseudo file system:
 * -EXDEV with "<path>: is on a <name> file system (kernel state, not
 * files); not a project root" recorded.  0 otherwise; a statfs error is
 * returned as -errno with "<path>: <strerror>". */
int pseudofs_refuse(const char *path);

#endif
