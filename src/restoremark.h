/* restoremark.h — "ckptfs restore is writing into this project", so that
 * `ckptfs watch` does not take the restore's own writes for changes (the
 * restore's safety snapshot already holds what was there before, and the
 * restored state is a snapshot already).
 *
 * Two files in <repository>/state, each written by rename (temp + rename):
 *   restore-<hash of root>      "PID START" before the restore writes;
 *   restore-<hash of root>.end  "PID START END" after its last write.
 * A watch with inotify watches the state folder in the same inotify queue
 * as the project: the queue keeps the order of the writes, so every project
 * event between the mark's rename and the .end rename is the restore's, and
 * every one after the .end rename is not — however late the watch reads
 * them.  The periodic-scan fallback, which has no queue, asks
 * restoremark_active with a grace of RESTOREMARK_GRACE_NS instead.
 */
#ifndef CKPTFS_SRC_RESTOREMARK_H
#define CKPTFS_SRC_RESTOREMARK_H

#include <stdbool.h>
#include <stdint.h>

#define RESTOREMARK_GRACE_NS 1000000000LL
#define RESTOREMARK_NAME_MAX 64

/* Mark the start / end of a restore into root.  Best effort: a mark that
 * cannot be written only costs a redundant watch snapshot (nothing is
 * printed); an end that cannot be written counts as ended once the
 * restoring process is gone. */
void restoremark_begin(const char *root);
void restoremark_end(const char *root);

/* The names of root's two files in the state folder. */
void restoremark_names(const char *root, char mark[RESTOREMARK_NAME_MAX],
		       char end[RESTOREMARK_NAME_MAX]);

/* Has a restore into root begun and not ended, with its process alive?
 * (A restore that died, or whose end could not be written, is not.) */
bool restoremark_running(const char *root);

/* Did root's latest restore die without its end (or is there no mark)?
 * Then no .end will come. */
bool restoremark_died(const char *root);

/* Was a restore writing into root at wall-clock time now_ns (or ended
 * less than RESTOREMARK_GRACE_NS before)? */
bool restoremark_active(const char *root, int64_t now_ns);

#endif
