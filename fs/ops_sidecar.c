/* ops_sidecar.c — the empty -wal and -shm of a WAL-mode SQLite database
 * inside a snapshot (why: fs/sidecar.h). */
#include <errno.h>
#include <string.h>

#include "fs/attr.h"
#include "fs/ops_internal.h"
#include "fs/sidecar.h"
#include "store/content.h"

int ops_sidecar_of(struct ckfs *fs, struct inode *parent, const struct node *db,
		   struct inode *tmpl)
{
	if (db->type != NODE_FILE || (db->flags & NODE_F_UNREADABLE) ||
	    db->size < SIDECAR_HEADER_BYTES)
		return -ENOENT;
	uint8_t hdr[SIDECAR_HEADER_BYTES];
	ssize_t n = content_read(fs->repo, db, 0, hdr, sizeof hdr);
	if (n < 0)
		return ops_fail(fs, parent, db->name, "read", (int)n);
	if (!sidecar_wal_header(hdr, (size_t)n))
		return -ENOENT;
	memset(tmpl, 0, sizeof *tmpl);
	tmpl->kind = INODE_SIDECAR;
	tmpl->project_id = parent->project_id;
	tmpl->snap_id = parent->snap_id;
	/* The database's owner, mode and times: whoever may read the
	 * database may open it, and nobody else. */
	attr_from_node(db, &tmpl->st);
	tmpl->st.st_size = 0;
	tmpl->st.st_blocks = 0;
	return 0;
}

int ops_sidecar_resolve(struct ckfs *fs, struct inode *parent, const struct tree *t,
			const char *name, struct inode *tmpl)
{
	size_t blen = sidecar_base_len(name);
	char base[256];
	if (blen == 0 || blen >= sizeof base)
		return -ENOENT;
	memcpy(base, name, blen);
	base[blen] = '\0';
	const struct node *db = tree_lookup(t, base);
	return db ? ops_sidecar_of(fs, parent, db, tmpl) : -ENOENT;
}
