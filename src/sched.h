/* sched.h — the systemd user units behind `ckptfs schedule`, and the
 * child processes (systemctl, crontab) that install them.
 *
 * Two units in $XDG_CONFIG_HOME/systemd/user (else ~/.config/...):
 *   ckptfs.service  oneshot: `ckptfs snap --all`, then the steps of
 *                   sched_after_snap (`forget --all --policy
 *                   --if-configured`), at Nice=10 and IOSchedulingClass=idle;
 *   ckptfs.timer    OnCalendar= for the interval, Persistent=true (a run
 *                   missed while the machine slept happens on wake);
 *   ckptfs-watch.service  with --watch: `ckptfs watch --all`, restarted on
 *                   failure.
 * The interval is kept in the timer as a comment, "# ckptfs-every: N"
 * (seconds), for `schedule status` and `status` to read back.
 */
#ifndef CKPTFS_SRC_SCHED_H
#define CKPTFS_SRC_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_SERVICE "ckptfs.service"
#define SCHED_TIMER "ckptfs.timer"
#define SCHED_WATCH "ckptfs-watch.service"
/* The end of the crontab line `schedule enable --cron` installs. */
#define SCHED_CRON_MARK "# ckptfs schedule"

/* The systemd OnCalendar= expression that fires every every_s seconds,
 * evenly through the hour or day: whole minutes dividing an hour, whole
 * hours dividing a day, one day or one week.  Into buf (at least 48
 * bytes); 0, or -EINVAL (nothing recorded) for any other interval. */
int sched_calendar(int64_t every_s, char buf[48]);

/* The crontab line for the same interval, running the service's steps
 * joined by && ("0 * * * * EXE snap --all -q && EXE forget ... # ckptfs
 * schedule"), malloc'd; -EINVAL as above, -ENOMEM. */
int sched_cron_line(int64_t every_s, const char *exe, const char *repo, char **ret);

/* The unit files' text, malloc'd.  exe: absolute path of this ckptfs;
 * repo: the $CKPTFS_REPO to pin, or NULL.  -EINVAL with a message when
 * a path cannot be written in a unit file (a control character). */
int sched_service_text(const char *exe, const char *repo, char **ret);
int sched_timer_text(int64_t every_s, char **ret);
/* `schedule enable --watch`: ckptfs-watch.service, a long-running
 * `ckptfs watch --all` (Restart=on-failure, WantedBy=default.target). */
int sched_watch_text(const char *exe, const char *repo, char **ret);

/* $XDG_CONFIG_HOME/systemd/user, else $HOME/.config/systemd/user
 * (malloc'd); -ENOENT with a message when neither is set. */
int sched_unit_dir(char **ret);

/* The interval of the installed timer: 0 and *ret_every_s, -ENOENT when
 * no ckptfs.timer is installed (no message), -EINVAL when it was not
 * written by ckptfs. */
int sched_installed(int64_t *ret_every_s);

/* Run argv (argv[0] looked up in PATH) with stdin from /dev/null; its
 * stdout and stderr together into *ret_out (malloc'd, NUL-terminated,
 * trailing newline removed; may be NULL).  Returns the exit status
 * (128+N for a signal), or a negative errno with a message when it could
 * not be run (127: not found).  The child gets TZ=UTC and LC_ALL=C. */
int sched_exec(char *const argv[], const char *input, char **ret_out);

/* Is a systemd user manager reachable (`systemctl --user show-environment`
 * succeeds)?  *ret_why, if not NULL, gets its error line (malloc'd). */
bool sched_have_manager(char **ret_why);

/* `systemctl --user show UNIT -p PROP` value ("" if unset), malloc'd,
 * timestamps turned into "@<unix seconds>"; NULL if it cannot be asked.
 * (systemctl runs with TZ=UTC and LC_ALL=C, so its text can be parsed.) */
char *sched_unit_prop(const char *unit, const char *prop);

/* What is installed and running. */
struct sched_state {
	bool enabled, cron, active;
	bool watch, watch_active; /* ckptfs-watch.service installed, running */
	int64_t every_s;
	int64_t next_s, last_s; /* unix seconds, 0 unknown */
	char *state;            /* the timer's ActiveState, or NULL */
};

/* Fill *s: the installed timer (and, with a user manager, its state, next
 * and last trigger) or else our crontab line.  Never fails: what cannot
 * be asked stays unknown.  sched_state_clear it. */
void sched_probe(struct sched_state *s);
void sched_state_clear(struct sched_state *s);

#endif
