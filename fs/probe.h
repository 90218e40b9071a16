/* probe.h — names file managers and desktop shells look up on every
 * volume (.hidden, .DS_Store, .Trash-1000, desktop.ini, thumbnail folders,
 * ...).  At the mount's root and in project folders they never exist, so
 * the mount answers them with a cached ENOENT without reading the catalog.
 * Inside a snapshot they are ordinary names: the tree answers.
 */
#ifndef CKPTFS_FS_PROBE_H
#define CKPTFS_FS_PROBE_H

#include <stdbool.h>

/* Whether name is one of those probes (exact, case as the tools use it). */
bool probe_is_junk(const char *name);

/* Whether name can be a snapshot name: they all start with a digit (a
 * date).  In a project folder anything else except "latest" and "@tags"
 * is absent for good. */
bool probe_is_snapshot_name(const char *name);

#endif
