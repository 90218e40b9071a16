/* tmpdir.h — the private temp dirs of database work: consistent SQLite
 * copies and 0600 option files with passwords, plaintext outside the
 * encrypted repository (issue 8).
 *
 * A dir is "ckptfs-db-<pid>-XXXXXX" under $TMPDIR (if absolute) or /tmp,
 * mode 0700 (files in it 0600), and holds a file "lock" on which its
 * process keeps an flock for as long as the dir lives.  It goes away:
 *   - when its session ends (dumper_tmp_remove);
 *   - on SIGINT, SIGTERM or SIGHUP: while any dir exists a handler removes
 *     every one (async-signal-safe: unlinkat of its entries, rmdir), then
 *     the signal ends the process as it would have.  A signal that was
 *     ignored or had a handler of its own when the first dir was made is
 *     left alone;
 *   - after SIGKILL or a crash, by dumper_tmp_sweep (the next snap, and
 *     check --repair): a dir is removed only if it is ours (owner, a real
 *     directory, the name's pattern), the pid in its name is not a running
 *     process and its lock is free.  The kernel drops the lock however the
 *     process ended, and a lock that is held (a live process, perhaps in
 *     another pid namespace) or a pid that runs (perhaps reused: then the
 *     dir waits for a later sweep) keeps the dir.
 */
#ifndef CKPTFS_DUMPERS_TMPDIR_H
#define CKPTFS_DUMPERS_TMPDIR_H

#include <stdint.h>
#include <sys/types.h>

/* Make a new dir (see above), take its lock and register it with the
 * signal handler.  *ret_path is malloc'd (the caller frees it after
 * dumper_tmp_remove).  0 or a negative errno (message with the path). */
int dumper_tmp_make(char **ret_path);

/* Unregister path (as dumper_tmp_make returned it), remove the files in
 * it and the dir, release its lock.  Best effort. */
void dumper_tmp_remove(const char *path);

/* Have the handler above also send sig to pid (a private drill server,
 * privsrv.h, that would outlive us: a daemon no parent-death signal
 * reaches), until dumper_tmp_unwatch_child.  0, or -EMFILE when too many
 * are watched (then only the reaper stops it). */
int dumper_tmp_watch_child(pid_t pid, int sig);
void dumper_tmp_unwatch_child(pid_t pid);

/* Where the dirs are made: $TMPDIR if absolute, else "/tmp". */
const char *dumper_tmp_base(void);

struct dumper_tmp_swept {
	uint64_t dirs;  /* leftover dirs removed */
	uint64_t bytes; /* the space their files took */
	uint64_t kept;  /* leftovers of processes still running (kept) */
};

/* Remove the leftover dirs of dead processes in the temp dir (see above),
 * counting into *ret.  0, or a negative errno if the temp dir itself
 * cannot be read. */
int dumper_tmp_sweep(struct dumper_tmp_swept *ret);

#endif
