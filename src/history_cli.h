/* history_cli.h — what versions, search and diff share: a project's
 * snapshots oldest first with their roots, PATH as a path in the project,
 * and names of node types.
 */
#ifndef CKPTFS_SRC_HISTORY_CLI_H
#define CKPTFS_SRC_HISTORY_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/catalog.h"
#include "store/id.h"

struct repo;

/* A project's history, oldest first. */
struct hcli_history {
	struct snapshot *s; /* oldest first */
	blob_id *roots;     /* s[i].root */
	size_t n;
};

/* Every snapshot of p, oldest first, those taken before since_ns (0: no
 * bound) or after until_ns (0: no bound) left out.  0 or a negative errno
 * (recorded). */
int hcli_history_load(struct repo *repo, const struct project *p, int64_t since_ns,
		      int64_t until_ns, struct hcli_history *ret);
void hcli_history_clear(struct hcli_history *h);

/* PATH as paths in project p: rel relative to the current directory when
 * that is inside the project (else to the root), rel_root relative to the
 * root (equal to rel when they cannot differ).  Both PATH_MAX bytes.
 * 0, or a negative errno with a message for "cmd: PATH: ...". */
int hcli_path(const char *cmd, const struct project *p, const char *path, char *rel,
	      char *rel_root);

/* "file", "dir", "symlink", "fifo", "chardev", "blockdev", "socket". */
const char *hcli_type_name(uint8_t type);

/* A mode as "0644". buf: 8 bytes. */
const char *hcli_mode(uint32_t mode, char buf[8]);

#endif
