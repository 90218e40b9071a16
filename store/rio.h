/* rio.h — remote I/O: the few operations push, recover and check need from
 * a remote target, over two backends.
 *
 *   /abs/dir             a directory (USB disk, NAS mount), native POSIX
 *   rclone:REMOTE:PATH   any rclone remote, driven through the rclone
 *                        command (never a reimplemented cloud protocol);
 *                        rclone's own config (and $RCLONE_CONFIG) holds
 *                        the credentials
 *
 * Names are paths relative to the target ("manifest", "packs/ab/ab….pack").
 * Every write is complete-or-absent: a temp name (NAME.tmp) written and
 * verified, then renamed; a directory backend also fsyncs the file and
 * the directory (packs: several in flight, the directories once per
 * batch, rio_batch.c).  Uploads verify what they wrote: a directory reads
 * the file back from the device and compares its XXH3-128 with the
 * source's; rclone checks size and
 * the backend's hash after each transfer itself (copy --checksum), and a
 * push to a directory compares every size in a listing before writing
 * the manifest.  rclone runs die with the process that started them
 * (PR_SET_PDEATHSIG): a killed push leaves no rclone writing behind it.
 *
 * Errors name the remote target and say why in one line ("rclone: not
 * installed", rclone's own last error line, "No space left on device").
 */
#ifndef CKPTFS_STORE_RIO_H
#define CKPTFS_STORE_RIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RIO_SUM_LEN 32 /* hex chars of an XXH3-128 */
#define RIO_TMP_SUFFIX ".tmp"

struct rio;

struct rio_opts {
	const char *bwlimit; /* rclone --bwlimit RATE as given, or NULL */
	uint64_t bw_bytes;   /* the same in bytes/s for a directory (0: none) */
};

struct rio_entry {
	char *name; /* relative to the target, malloc'd */
	uint64_t size;
};

/* Progress of one transfer: called with the bytes done so far. */
typedef void (*rio_progress_fn)(void *ctx, uint64_t done);

/* Open target (not touching it yet).  -EINVAL for a malformed target. */
int rio_open(const char *target, const struct rio_opts *opts, struct rio **ret);
void rio_free(struct rio *rio); /* NULL is a no-op */

bool rio_is_rclone(const struct rio *rio);

/* Create the target directory (and parents) if missing. */
int rio_prepare(struct rio *rio);

/* Every file under dir (recursively), sizes included.  A missing dir (or
 * target) is no files.  *ret malloc'd: rio_entries_free. */
int rio_list(struct rio *rio, const char *dir, struct rio_entry **ret, size_t *ret_n);
void rio_entries_free(struct rio_entry *e, size_t n);

/* A small file, whole (at most max bytes, else STORE_ECORRUPT).  -ENOENT
 * if it does not exist.  *ret malloc'd, NUL-terminated. */
int rio_read(struct rio *rio, const char *name, size_t max, char **ret, size_t *ret_len);

/* Replace name with buf atomically. */
int rio_write(struct rio *rio, const char *name, const void *buf, size_t len);

/* One file of a batch copy (rio_upload_batch, rio_download_batch). */
struct rio_item {
	const char *name; /* relative path, the same on both sides */
	uint64_t size;    /* upload: the size it must have */
	/* Filled in: */
	int r;            /* 0 copied; -ENOENT the source does not exist
			   * (nothing written); -ECANCELED not reached */
	uint64_t got;     /* bytes copied */
	char sum[RIO_SUM_LEN + 1]; /* XXH3-128 (hex) of what was read */
};

/* Directory targets only (rclone: -ENOTSUP): upload the n items from
 * local_root, several in flight (rio_batch.c): each written to NAME.tmp
 * (straight to the device where the file system allows O_DIRECT),
 * fdatasync'd, read back from the device and compared with what was read
 * from the source, renamed to NAME; when all are there, the directories
 * they went into are fsynced once each.  On success every item with
 * r == 0 is durable under its name; an item whose source is missing
 * (gc removed it) is skipped (r = -ENOENT).  A source that changes size
 * underneath: -ESTALE.  progress gets the bytes copied in the batch so
 * far (called from the workers, one at a time).  The bandwidth limit
 * holds for the batch as a whole. */
int rio_upload_batch(struct rio *rio, const char *local_root, struct rio_item *items, size_t n,
		     rio_progress_fn progress, void *ctx);

/* The same the other way (directory targets only): the n items from the
 * target into local_root, each fdatasync'd and renamed from NAME.tmp,
 * their directories fsynced at the end.  A missing remote file is
 * r = -ENOENT; what arrived (got, sum) is for the caller to judge. */
int rio_download_batch(struct rio *rio, const char *local_root, struct rio_item *items, size_t n,
		       rio_progress_fn progress, void *ctx);

/* Download name into outfd (from its current offset), hashing as it goes;
 * the XXH3-128 (hex) and length into ret_sum, *ret_size. */
int rio_download(struct rio *rio, const char *name, int outfd, char ret_sum[RIO_SUM_LEN + 1],
		 uint64_t *ret_size, rio_progress_fn progress, void *ctx);

/* XXH3-128 (hex) of the local file fd of size bytes (name for
 * messages); -ESTALE if its size differs. */
int rio_hash_file(int fd, uint64_t size, const char *name, char ret_sum[RIO_SUM_LEN + 1]);

/* rclone only: an upload of a push (rio_upload_many).  start: its pack
 * copy is started at once, before what it is to send is known: an rclone
 * run whose --files-from list comes on a pipe, and which until then has
 * read nothing of its config and touched nothing of the remote (rclone
 * reads the list first), so a push may start it before it looks at the
 * remote and drop it when the look refuses the remote.  Its start
 * (0.1-0.3 s) then overlaps the look.  Not start (a push that expects
 * to send no pack): rio_upload_many starts it if it has packs after
 * all.  Call it from the main thread: a started rclone dies with the
 * thread that started it.  *ret: rio_upload_free. */
struct rio_upload;
int rio_upload_begin(struct rio *rio, const char *local_root, bool start, struct rio_upload **ret);

/* Kill the held copy if rio_upload_many did not run (nothing was
 * written), free u.  NULL is a no-op. */
void rio_upload_free(struct rio_upload *u);

/* Upload the n files names (paths relative to local_root, kept as they
 * are under the target), then commit_local (relative to local_root) as
 * commit_name, in a few rclone runs whatever n is: u's `copy --checksum`
 * of the packs (names under packs/) straight to their names, each
 * checked by rclone (size, and the backend's hash; a file already there
 * with the right bytes is skipped), while the others and commit_local go
 * to temp names (NAME.tmp) in runs of their own beside it; when all of
 * that succeeded the others are moved into place, and last commit_local
 * to commit_name (the manifest: the commit point).  hold_commit (the
 * remote has no commit_name.tmp): that move's rclone is started beside
 * the copy, stopped before commit_name.tmp is written, and let go only
 * then (rio_rclone.c, struct held).  direct: the others too
 * go straight to their names, in the one copy (a remote with no manifest
 * yet, which nothing can read in between).  before_commit (if not NULL)
 * is called with ctx in a thread of its own while the packs travel,
 * before commit_local is read: it may write commit_local then (push
 * finishes the manifest's sums there); a failure of it fails the upload,
 * with its message, and nothing is committed.  Call it once per u, from
 * the thread that began u. */
int rio_upload_many(struct rio_upload *u, char *const *names, size_t n, bool direct,
		    const char *commit_local, const char *commit_name, bool hold_commit,
		    int (*before_commit)(void *ctx), void *ctx);

/* rclone: where the --files-from lists of the *_many calls are written:
 * one fixed path in a private directory (the repository's remote/ state,
 * under the remote's lock), truncated for each run and removed after it,
 * so a killed run's list is replaced by the next one and nothing is left
 * in $TMPDIR.  Not set: a temp file in $TMPDIR (removed after the run). */
int rio_set_list_path(struct rio *rio, const char *path);

/* rclone only: download the n files names from the target into local_root
 * (same relative paths) in one transfer.  rclone checks sizes but not
 * hashes (--ignore-checksum): the caller must compare each file with the
 * manifest's sum. */
int rio_download_many(struct rio *rio, const char *local_root, char *const *names, size_t n);

/* Remove name (a missing one is fine). */
int rio_remove(struct rio *rio, const char *name);

/* Remove the n files names (missing ones are fine): over rclone in one
 * run (`rclone delete --files-from`), whatever n is. */
int rio_remove_many(struct rio *rio, char *const *names, size_t n);

/* After removals: make them durable where the backend can (fsync of the
 * directories of a directory target). */
int rio_sync(struct rio *rio);

/* Parse an rclone-style RATE ("512K", "10M", "1.5G", a bare number is
 * KiB/s) into bytes/s.  -EINVAL for anything else. */
int rio_parse_rate(const char *s, uint64_t *ret);

#endif
