/* diff_show.h — how `ckptfs diff` shows one changed path: git's patch
 * conventions for text (through diff(1) -u), one line for binary files,
 * a per-table summary for SQLite databases, targets for symlinks, mode
 * lines; and the counts --stat and --json print.
 */
#ifndef CKPTFS_SRC_DIFF_SHOW_H
#define CKPTFS_SRC_DIFF_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store/diff.h"

struct repo;

/* One side of a change: a snapshot entry, or a working file (path set). */
struct dside {
	const struct node *n; /* NULL: the side does not exist */
	const char *file;     /* absolute path of the working file, or NULL (snapshot) */
};

enum dshow_kind { DSHOW_NONE, DSHOW_TEXT, DSHOW_BINARY, DSHOW_SQLITE, DSHOW_OTHER };

struct dshow_stat {
	enum dshow_kind kind;
	uint64_t added, deleted; /* lines, for text */
	bool content_same;       /* both files hold the same bytes */
};

/* Print the patch of path (a, b the two sides) to f, colour if colour;
 * fill *st (may be NULL).  With f NULL only *st is computed.  0 or a
 * negative errno (recorded). */
int dshow_patch(FILE *f, struct repo *repo, const char *path, const struct dside *a,
		const struct dside *b, bool colour, struct dshow_stat *st);

#endif
