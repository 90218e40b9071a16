/* catalog_packlist.c — the names and sizes of every pack the catalog
 * lists: what push sends, and the only thing its grace deletion asks of
 * the local repository ("which packs does the catalog list now"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/err.h"

int catalog_pack_list(struct repo *repo, struct catalog_pack **ret, size_t *ret_n)
{
	struct catalog_pack *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int r = 0;
	cat_lock(repo);
	int rc = sqlite3_prepare_v2(repo->db, "SELECT name, size FROM packs ORDER BY name", -1, &st,
				    NULL);
	if (rc != SQLITE_OK) {
		r = cat_fail(repo, rc, "reading the pack list");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 0);
		sqlite3_int64 size = sqlite3_column_int64(st, 1);
		/* A row that is not a pack name is check's business, not ours. */
		if (!name || strlen((const char *)name) != PACK_NAME_LEN || size < 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			struct catalog_pack *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				r = store_fail(-ENOMEM, "pack list: out of memory");
				goto out;
			}
			v = nv;
		}
		memcpy(v[n].name, name, PACK_NAME_LEN + 1);
		v[n++].size = (uint64_t)size;
	}
	if (rc != SQLITE_DONE)
		r = cat_fail(repo, rc, "reading the pack list");
out:
	sqlite3_finalize(st);
	cat_unlock(repo);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
