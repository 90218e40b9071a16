/* proc.h — running a short helper command and keeping what it says
 * (dumpers-internal).
 *
 * For the small questions asked of other tools around a dump: is the
 * Docker daemon there, is a compose service running, which migration is
 * the database at, how many rows has each table.  Their output is small
 * (capped); a tool that does not answer within the timeout is killed, so
 * an unreachable daemon or server never hangs a snapshot.
 */
#ifndef CKPTFS_DUMPERS_PROC_H
#define CKPTFS_DUMPERS_PROC_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of stdout kept; the rest is read and dropped (out_cut set). */
#define DUMPER_PROC_OUT_MAX (1u << 20)

struct dumper_proc_out {
	char *out;      /* stdout, NUL-terminated (malloc'd) */
	size_t out_len;
	bool out_cut;   /* more than DUMPER_PROC_OUT_MAX was written */
	char *err;      /* the last 4 KiB of stderr, NUL-terminated (malloc'd) */
	int status;     /* waitpid status; meaningful when ran */
	bool ran;       /* the program was started */
	bool timed_out; /* killed after timeout_ms */
};

/* Run argv (argv[0] looked up in PATH) with environment envp (NULL: ours),
 * stdin from /dev/null, in directory cwd (NULL: ours), for at most
 * timeout_ms.  A program that cannot be started is not an error: ran is
 * false and err says why ("not found").  Returns 0, or a negative errno
 * when a pipe or memory fails (message recorded). */
int dumper_proc_run(char *const argv[], char *const envp[], const char *cwd, int timeout_ms,
		    struct dumper_proc_out *ret);

/* true if the run exited with status 0. */
bool dumper_proc_ok(const struct dumper_proc_out *o);

/* The first non-empty line of text (its leading white space skipped), at
 * most max bytes, into buf: a tool's reason without its usage text. */
const char *dumper_first_line(const char *text, char *buf, size_t max);

void dumper_proc_out_clear(struct dumper_proc_out *o);

#endif
