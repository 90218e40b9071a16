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
 *
 * State records.  Whether a snapshot is live, in the trash or emptied
 * from it lives in the catalog row, which a recover on another machine
 * does not have.  So forget, trash restore and trash empty first store,
 * durably, one more BLOB_SNAPSHOT blob per snapshot they change:
 *
 *   "CKPTSSTA" | u32 version (1)
 *   i64 time_ns | root tree id[32]     (the snapshot, as in its record)
 *   str name | u8 state (enum snaprec_state)
 *   i64 trashed_at_ns | i64 expires_at_ns   (both 0 unless trashed)
 *   i64 changed_ns                     (wall clock of the change)
 *
 * Repair and recover apply, per snapshot they re-create, the state record
 * with the largest changed_ns (on a tie the later state in the enum wins:
 * emptied over trashed over live); no state record means live.  The
 * records are sealed blobs like every other, so the trash travels to a
 * remote encrypted, never in its plaintext manifest.  They share the blob
 * type of snapshot records so gc treats both alike (gc_mark.c, through
 * snaprec_key): a record of either kind is live while a catalog row with
 * its time and root exists, so once a snapshot's row is gone (trash
 * emptied or expired) gc repacks its records away with it.
 */
#ifndef CKPTFS_STORE_SNAPREC_H
#define CKPTFS_STORE_SNAPREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/catalog.h"
#include "store/id.h"

struct repo;
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

/* ---- state records ---- */

enum snaprec_state {
	SNAPREC_LIVE = 0,    /* brought back from the trash */
	SNAPREC_TRASHED = 1, /* forget */
	SNAPREC_EMPTIED = 2, /* trash empty: never to be re-created */
};

struct snaprec_state_rec {
	int64_t time_ns;
	blob_id root;
	char *name; /* never NULL after decode */
	enum snaprec_state state;
	int64_t trashed_at_ns, expires_at_ns;
	int64_t changed_ns;
};

/* Serialize r.  *ret_buf malloc'd. */
int snaprec_state_encode(const struct snaprec_state_rec *r, uint8_t **ret_buf, size_t *ret_len);

/* Parse a state record (untrusted bytes: fuzzed).  STORE_ECORRUPT if
 * malformed, STORE_ENEWER for a later version.  *ret filled only on
 * success; snaprec_state_clear it. */
int snaprec_state_decode(const uint8_t *buf, size_t len, struct snaprec_state_rec *ret);

void snaprec_state_clear(struct snaprec_state_rec *r);

/* Whether b (newer) should replace a as a snapshot's state: larger
 * changed_ns, or equal and a later state. */
bool snaprec_state_newer(const struct snaprec_state_rec *b, const struct snaprec_state_rec *a);

/* Which kind of BLOB_SNAPSHOT blob buf holds, by its magic: 1 snapshot
 * record, 2 state record, 0 neither. */
int snaprec_kind(const uint8_t *buf, size_t len);

/* The snapshot a record of either kind is about: its time and root.
 * STORE_ECORRUPT (or the decoder's error) if it does not decode. */
int snaprec_key(const uint8_t *buf, size_t len, int64_t *ret_time_ns, blob_id *ret_root);

/* Store, durably (a pack of its own, fsynced and indexed), one state
 * record per snapshot row ids[0..n) (live or trashed): state, and for
 * SNAPREC_TRASHED the window [trashed_at_ns, expires_at_ns).  Called
 * before the catalog change it announces, so a remote never lacks the
 * state of a change the catalog made.  repo REPO_WRITE. */
int snaprec_state_put(struct repo *repo, const int64_t *ids, size_t n, enum snaprec_state state,
		      int64_t trashed_at_ns, int64_t expires_at_ns);

/* Store the record of the snapshot s (of project s->project_id) through w;
 * called by writer_commit() before it finishes the last pack. */
int snaprec_put(struct writer *w, const struct snapshot_new *s);

#endif
