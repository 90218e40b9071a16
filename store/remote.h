/* remote.h — offsite copies: push a repository to a remote, check one,
 * recover a repository from one.
 *
 * A remote target (rio.h) holds:
 *
 *   format        the repository's format file, as it is
 *   key.wrapped   the master key sealed under the passphrase (never the
 *                 plain key)
 *   packs/ab/ab….pack   the packs, byte for byte (already sealed: a
 *                 remote sees only pack names and sizes)
 *   manifest      the packs it holds, written last (manifest.h)
 *
 * Push order keeps the remote valid at every instant: format and key,
 * then each missing pack (temp name, verified, renamed), then the manifest
 * that names them; only after it, packs past their grace period are
 * deleted.  A killed push leaves temp files (removed by the next one) and
 * complete packs the manifest does not name yet (kept: the next push
 * finds them by name and size and sends nothing again).
 *
 * Local state of a remote lives in the repository's remote/ directory:
 * NAME.lock (flock: one push or check of a remote at a time) and
 * NAME.manifest, a copy of the last manifest pushed (remote list shows it;
 * it is never trusted over the remote's own).
 */
#ifndef CKPTFS_STORE_REMOTE_H
#define CKPTFS_STORE_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/check.h"
#include "store/manifest.h"
#include "store/remote_conf.h"
#include "store/rio.h"

struct repo;

#define REMOTE_GRACE_NS (14LL * 24 * 3600 * 1000000000LL)
#define REMOTE_MANIFEST "manifest"
#define REMOTE_KEY "key.wrapped"
#define REMOTE_FORMAT "format"

struct remote_progress {
	uint64_t packs_done, packs_total, bytes_done, bytes_total;
};

struct push_opts {
	int64_t now_ns;   /* the clock (injectable for tests) */
	int64_t grace_ns; /* REMOTE_GRACE_NS */
	bool no_delete;   /* --no-delete (append-only remotes never delete) */
	struct rio_opts rio;
	void (*progress)(void *ctx, const struct remote_progress *p);
	void *ctx;
};

struct push_result {
	uint64_t new_packs, new_bytes;  /* sent by this push */
	uint64_t packs, bytes;          /* the manifest now */
	uint64_t deleted, deleted_bytes;
	uint64_t kept_gone;             /* gone locally, kept for the grace period */
	int64_t next_delete_ns;         /* earliest time one of them may go (0: none) */
};

/* Push repo (open REPO_READ or REPO_WRITE) to rem. */
int remote_push(struct repo *repo, const struct remote *rem, const struct push_opts *o,
		struct push_result *ret);

/* The last manifest pushed to the remote name, from remote/NAME.manifest.
 * -ENOENT if never pushed. */
int remote_last_manifest(struct repo *repo, const char *name, struct manifest *ret);

/* Forget the local state of remote name (remote remove). */
void remote_forget_state(struct repo *repo, const char *name);

/* What remote list shows of a remote, from local state only (no
 * network): the last push and what the catalog holds that it did not
 * send. */
struct remote_status {
	bool pushed;
	int64_t last_ns;
	uint64_t packs, bytes, gone_packs;
	uint64_t pending_packs, pending_bytes;
};
int remote_status(struct repo *repo, const char *name, struct remote_status *ret);

struct recover_opts {
	const char *target;    /* as for remote add */
	const char *repo_path; /* where the repository goes: absent or an empty directory */
	/* The wrapped key to use instead of the remote's (--key), or NULL. */
	const uint8_t *wrapped;
	/* Asked once, after the remote's manifest and key were read and
	 * before anything is written locally: fill *ret_pass (malloc'd). */
	int (*passphrase)(void *ctx, char **ret_pass, size_t *ret_len);
	void (*progress)(void *ctx, const struct remote_progress *p);
	void *ctx;
};

struct recover_result {
	char remote[REMOTE_NAME_MAX + 1]; /* the name it is added under */
	uint64_t packs, bytes, snapshots, projects;
};

/* Rebuild a repository at o->repo_path from the remote: manifest and
 * wrapped key, the passphrase, every pack (verified against the
 * manifest), the catalog rebuilt from the packs (check --repair's
 * rebuild: projects, snapshots with their names, tags, messages), the
 * remote added under the name it had.  Everything is built in a sibling
 * temp directory and renamed into place at the end: a wrong passphrase
 * (-EACCES), a damaged remote (STORE_ECORRUPT) or any failure leave
 * nothing at repo_path. */
int remote_recover(const struct recover_opts *o, struct recover_result *ret);

struct remote_check_opts {
	bool read_data;
	unsigned read_percent; /* 1..100 of the packs with read_data; 0 = 100 */
	uint64_t seed;         /* for the random subset; 0: from the clock */
	void *ctx;
	void (*report)(void *ctx, enum check_level level, const char *line);
};

struct remote_check_result {
	uint64_t packs, packs_read, bytes_read, blobs_read;
	uint64_t damaged_packs;
	char **damaged; /* names of the damaged packs (malloc'd each and the array) */
	bool healthy;
};

/* Check the remote rem of repo: its manifest (intact, of this
 * repository), format and wrapped key, every pack the manifest lists
 * present with its size; with read_data each (or read_percent of them)
 * downloaded, its XXH3-128 compared with the manifest's and every blob in
 * it authenticated, decompressed and id-checked with the repository's
 * key.  Each finding is one line to report.  Returns 0 when the check ran
 * (see ret->healthy); free ret with remote_check_clear. */
int remote_check(struct repo *repo, const struct remote *rem, const struct remote_check_opts *o,
		 struct remote_check_result *ret);
void remote_check_clear(struct remote_check_result *r);

/* Read and check a remote's manifest ("missing" is -ENOENT with a message). */
int remote_read_manifest(struct rio *rio, struct manifest *ret);

#endif
