/* snaprec.h — snapshot records: each snapshot written into its own packs.
 *
 * The catalog holds projects and snapshots only in SQLite.  So that a lost
 * or corrupt catalog.db can be rebuilt from packs/ alone (check --repair),
 * writer_commit() also stores, before the snapshot's last pack is made
 * durable, one small blob of type BLOB_SNAPSHOT describing the snapshot:
 *
 *   "CKPTSREC" | u32 version (1)
 *   str project name | str project root | i64 time_ns
 *   str message | str tag | str git commit | str git branch
 *   root tree id[32] | u8 status
 *   u64 files, dirs, bytes, new_blobs, new_bytes, read_bytes | i64 duration_ns
 *   str notes
 *   str name                                   (version 2 on)
 *
 * little endian; str = u32 length (0xffffffff for none) then the bytes,
 * without NUL.  The record is sealed like every blob, so it is authentic.
 * Version 2 adds the snapshot's name (as the writer's catalog insert
 * gives it), so a repair or a recover on another machine, in another
 * time zone, keeps the names the user saw.  A version 1 record (no name)
 * still decodes; its snapshot gets a name made from time_ns in the time
 * zone of the repair.  A record is encoded in the version it has
 * (0: the current one), so decode + encode gives back the same bytes.
 */
#ifndef CKPTFS_STORE_SNAPREC_H
#define CKPTFS_STORE_SNAPREC_H

#include <stddef.h>
#include <stdint.h>

#include "store/catalog.h"
#include "store/id.h"

struct writer;
struct snapshot_new;

struct snaprec {
	char *project, *project_root; /* never NULL after decode */
	int64_t time_ns;
	char *message, *tag, *git_commit, *git_branch; /* NULL when absent */
	blob_id root;
	enum snap_status status;
	struct snap_stats stats;
	char *notes;
	char *name;       /* NULL in a version 1 record */
	uint32_t version; /* as decoded; 0 encodes the current version */
};

/* Serialize r.  *ret_buf malloc'd. */
int snaprec_encode(const struct snaprec *r, uint8_t **ret_buf, size_t *ret_len);

/* Parse a record (untrusted bytes: fuzzed).  STORE_ECORRUPT if malformed.
 * *ret is filled only on success; snaprec_clear it. */
int snaprec_decode(const uint8_t *buf, size_t len, struct snaprec *ret);

/* Free the strings of r. */
void snaprec_clear(struct snaprec *r);

/* Store the record of the snapshot s (of project s->project_id) through w;
 * called by writer_commit() before it finishes the last pack. */
int snaprec_put(struct writer *w, const struct snapshot_new *s);

#endif
