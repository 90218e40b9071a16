/* watch.h — `ckptfs watch`: a snapshot of a project within seconds of its
 * files going quiet.
 *
 * One inotify instance watches every included directory of each project
 * (the walk's rules: default excludes, .ckptignore, --exclude; never the
 * repository, never another filesystem), adding directories as they
 * appear.  A change marks the project dirty; it is snapshotted once no
 * change has come for `quiet` seconds, or `max_wait` seconds after the
 * first change while changes keep coming.  Between changes the process
 * sleeps in poll(2) with no timeout: no CPU while idle.
 *
 * When inotify watches run out (fs.inotify.max_user_watches) it says so
 * once, with the sysctl that raises the limit, and that project falls back
 * to a periodic scan (stat of every included entry, compared by a hash)
 * every quiet/2 seconds (1 to 30).
 *
 * --all also looks for newly registered projects every minute.
 *
 * One watch per project: a lock file <repository>/state/watch-<hash of
 * root>.lock (flock, with the holder's pid) makes a second one refuse.
 */
#ifndef CKPTFS_SRC_WATCH_H
#define CKPTFS_SRC_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct watch_req {
	const char *const *roots; /* canonical project roots */
	size_t nroots;
	double quiet_s, max_wait_s;
	const char *const *excludes; /* --exclude patterns */
	size_t nexcludes;
	bool quiet_output; /* -q: no line per snapshot */
	/* --all: a project another watch holds is left to it (one line)
	 * instead of stopping everything. */
	bool skip_locked;
	/* For tests: add at most this many inotify watches (0: no limit),
	 * as if fs.inotify.max_user_watches were reached. */
	size_t max_watches;
	/* With skip_locked (--all): seconds between looks for newly
	 * registered projects (0: 60). */
	double refresh_s;
};

/* Run until SIGINT/SIGTERM (a snapshot in flight is finished first) or
 * until a watched root disappears.  Returns the exit status: EXIT_OK when
 * stopped by a signal, EXIT_LOCKED when another watch holds a project
 * (with skip_locked: every project; nothing watched), EXIT_ERROR on an error or a root gone (printed). */
int watch_run(const struct watch_req *req);

#endif
