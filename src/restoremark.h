/* restoremark.h — "ckptfs restore is writing into this project", so that
 * `ckptfs watch` does not take the restore's own writes for changes (the
 * restore's safety snapshot already holds what was there before, and the
 * restored state is a snapshot already).
 *
 * restore writes <repository>/state/restore-<hash of root> ("PID START END",
 * wall-clock ns; END 0 while running) before it writes into the project
 * and sets END when done.  A watch ignores the changes it reads while a
 * restore runs and up to RESTOREMARK_GRACE_NS after it ended (inotify
 * events are read within milliseconds of the write).
 */
#ifndef CKPTFS_SRC_RESTOREMARK_H
#define CKPTFS_SRC_RESTOREMARK_H

#include <stdbool.h>
#include <stdint.h>

#define RESTOREMARK_GRACE_NS 1000000000LL

/* Mark the start / end of a restore into root.  Best effort: a mark that
 * cannot be written only costs a redundant watch snapshot (nothing is
 * printed). */
void restoremark_begin(const char *root);
void restoremark_end(const char *root);

/* Was a restore writing into root at wall-clock time now_ns (or ended
 * less than RESTOREMARK_GRACE_NS before)?  A mark whose restore died
 * without ending counts only while that pid lives. */
bool restoremark_active(const char *root, int64_t now_ns);

#endif
