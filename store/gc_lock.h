/* gc_lock.h — keeping gc and a plain `check` apart.
 *
 * check (without --repair: that one takes the writer lock) reads the
 * catalog's blob and pack lists once and then checks every pack against
 * them; gc moving blobs and deleting packs meanwhile would look like
 * damage.  So gc holds gc.lock (in the repository, 0600) exclusively for
 * its run and check holds it shared: each waits for the other.  Mounts
 * and restores need no lock: they look every blob up as they read it
 * (repo_read.c).
 */
#ifndef CKPTFS_STORE_GC_LOCK_H
#define CKPTFS_STORE_GC_LOCK_H

#include <stdbool.h>

struct repo;

/* Take gc.lock, exclusive (created if missing: needs a writer's repo) or
 * shared (a missing gc.lock means no gc ever ran: *ret_fd = -1), waiting
 * as long as it takes.  0 or a negative errno (recorded). */
int gc_lock_take(struct repo *repo, bool exclusive, int *ret_fd);

/* Release (close) what gc_lock_take gave; -1 is a no-op. */
void gc_lock_release(int fd);

#endif
