/* history_cli.c — shared parts of versions, search and diff (see history_cli.h). */
#include "src/history_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/dest.h"
#include "store/err.h"
#include "store/tree.h"

void hcli_history_clear(struct hcli_history *h)
{
	snapshots_free(h->s, h->n);
	free(h->roots);
	*h = (struct hcli_history){0};
}

int hcli_history_load(struct repo *repo, const struct project *p, int64_t since_ns,
		      int64_t until_ns, struct hcli_history *ret)
{
	struct snapshot *s;
	size_t n, k = 0;
	int r = catalog_snapshots(repo, p->id, &s, &n);
	if (r < 0)
		return r;
	/* Newest first from the catalog: reverse, keeping the window. */
	struct snapshot *o = malloc((n ? n : 1) * sizeof *o);
	blob_id *roots = malloc((n ? n : 1) * sizeof *roots);
	if (!o || !roots) {
		free(o);
		free(roots);
		snapshots_free(s, n);
		return store_fail(-ENOMEM, "history: out of memory");
	}
	for (size_t i = n; i-- > 0;) {
		if ((since_ns && s[i].time_ns < since_ns) ||
		    (until_ns && s[i].time_ns > until_ns)) {
			snapshot_clear(&s[i]);
			continue;
		}
		o[k] = s[i];
		roots[k++] = s[i].root;
	}
	free(s);
	*ret = (struct hcli_history){o, roots, k};
	return 0;
}

int hcli_path(const char *cmd, const struct project *p, const char *path, char *rel, char *rel_root)
{
	const char *base = "";
	char *cwd = realpath(".", NULL);
	size_t rootlen = strlen(p->root);
	if (cwd && !strncmp(cwd, p->root, rootlen) && (cwd[rootlen] == '/' || !cwd[rootlen]))
		base = cwd + rootlen;
	while (*base == '/')
		base++;
	int r = dest_relpath(p->root, base, path, rel, PATH_MAX);
	/* The root-relative reading is only a fallback: where it climbs out
	 * of the project, it is the same as rel. */
	if (r == 0 && dest_relpath(p->root, "", path, rel_root, PATH_MAX) < 0)
		strcpy(rel_root, rel);
	free(cwd);
	if (r < 0)
		return store_fail(r, "%s: %s: %s", cmd, path,
				  r == -EXDEV            ? "not inside the project"
					  : r == -EINVAL ? "leads outside the project"
							 : strerror(-r));
	return 0;
}

const char *hcli_type_name(uint8_t type)
{
	switch (type) {
	case NODE_FILE:
		return "file";
	case NODE_DIR:
		return "dir";
	case NODE_SYMLINK:
		return "symlink";
	case NODE_FIFO:
		return "fifo";
	case NODE_CHR:
		return "chardev";
	case NODE_BLK:
		return "blockdev";
	case NODE_SOCK:
		return "socket";
	default:
		return "unknown";
	}
}

const char *hcli_mode(uint32_t mode, char buf[8])
{
	snprintf(buf, 8, "%04o", (unsigned)(mode & 07777));
	return buf;
}
