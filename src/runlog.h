/* runlog.h — what the last `ckptfs snap --all` did, for `ckptfs status`.
 *
 * snap --all (the scheduled run) writes one JSON object to
 * <repository>/state/last-run.json, atomically (fio_write_atomic), after
 * it has been through every project:
 *
 *   {"time": "<UTC ISO>", "time_ns": N, "exit": S,
 *    "projects": [{"project": NAME, "root": PATH,
 *                  "result": "complete"|"partial"|"failed"|"missing",
 *                  "reason": TEXT|null, "snapshot": {...}|null}, ...]}
 *
 * The same object is what `snap --all --json` prints.  The file is a
 * convenience beside the catalog: losing it loses only "last result".
 */
#ifndef CKPTFS_SRC_RUNLOG_H
#define CKPTFS_SRC_RUNLOG_H

#include <stddef.h>
#include <stdint.h>

#include "store/json_lite.h"

/* Write text (len bytes) as the repository's last-run record.  0 or a
 * negative errno with a message naming the file. */
int runlog_write(const char *text, size_t len);

/* Read the last-run record into *ret (jv_clear it).  -ENOENT (no
 * message) when there is none; -EINVAL with a message when it is not
 * JSON. */
int runlog_read(struct jv *ret);

/* The same for any small JSON file NAME in <repository>/state (the
 * notification record, notify.h). */
int runlog_state_write(const char *name, const char *text, size_t len);
int runlog_state_read(const char *name, struct jv *ret);

/* The project's entry in a record read by runlog_read, or NULL. */
const struct jv *runlog_project(const struct jv *log, const char *name);

/* The first thing a snapshot's notes say it lacks, as one line:
 * "database NAME: RESULT" for a database not captured or failing its
 * check, else "PATH: WHAT[: ERROR]" for a path not stored as it is.
 * malloc'd; NULL when the notes record no problem (or on ENOMEM). */
char *runlog_first_problem(const char *notes);

#endif
