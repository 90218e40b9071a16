/* drill_pg.c — the psql session that holds a dump's snapshot, so the
 * counts a full drill compares with are those of the dump itself (drill.h).
 *
 * psql reads statements from a pipe: BEGIN a REPEATABLE READ READ ONLY
 * transaction and export its snapshot; pg_dump --snapshot=ID then dumps
 * exactly what this transaction sees; after the dump the same transaction
 * counts every table, and ends.  psql flushes each result as it prints it,
 * so the snapshot id can be read before the dump starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dumpers/drill.h"
#include "store/err.h"

#define HOLD_TIMEOUT_MS 30000

static int write_all(int fd, const char *s)
{
	for (size_t n = strlen(s); n;) {
		ssize_t k = write(fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EPIPE;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

void dumper_pg_hold_release(struct dumper_pg_hold *h)
{
	if (h->in >= 0)
		close(h->in);
	if (h->out >= 0)
		close(h->out);
	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	dumper_cmd_clear(&h->cmd);
	memset(h, 0, sizeof *h);
	h->in = h->out = -1;
}

/* Read psql's stdout until a newline (or EOF) within the timeout. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, HOLD_TIMEOUT_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -ETIMEDOUT;
		ssize_t k = read(fd, buf + n, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n ? 0 : -EIO;
}

int dumper_pg_hold_start(const struct dumper_target *t, const char *tmpdir,
			 struct dumper_pg_hold *h)
{
	memset(h, 0, sizeof *h);
	h->in = h->out = -1;
	int pi[2] = {-1, -1}, po[2] = {-1, -1};
	int r = dumper_query_cmd(t, tmpdir, NULL, &h->cmd);
	if (r < 0)
		return r;
	if (pipe2(pi, O_CLOEXEC) < 0 || pipe2(po, O_CLOEXEC) < 0) {
		r = store_failp(-errno, "pipe");
		goto fail;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pi[0], 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&h->pid, h->cmd.argv[0], &fa, NULL, h->cmd.argv, h->cmd.envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pi[0]);
	close(po[1]);
	h->in = pi[1];
	h->out = po[0];
	if (rc) {
		h->pid = 0;
		r = store_fail(-rc, "psql: %s", rc == ENOENT ? "not found" : strerror(rc));
		goto fail;
	}
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	r = write_all(h->in, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"
			     "SELECT pg_export_snapshot();\n");
	sigaction(SIGPIPE, &old, NULL);
	if (r == 0)
		r = read_line(h->out, h->snapshot, sizeof h->snapshot);
	if (r < 0) {
		r = store_fail(-EIO, "psql: could not export a snapshot for the drill's counts%s",
			       r == -ETIMEDOUT ? " (no answer in 30 s)" : "");
		goto fail;
	}
	for (const char *c = h->snapshot; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'F') || *c == '-')) {
			r = store_fail(-EIO, "psql: unexpected snapshot id");
			goto fail;
		}
	return 0;
fail:
	dumper_pg_hold_release(h);
	return r;
}

/* Grow *buf to hold len + want + 1 bytes. */
static int grow(char **buf, size_t *cap, size_t len, size_t want)
{
	if (len + want + 1 <= *cap)
		return 0;
	size_t nc = (len + want + 1) * 2;
	char *o = realloc(*buf, nc);
	if (!o)
		return -ENOMEM;
	*buf = o;
	*cap = nc;
	return 0;
}

int dumper_pg_hold_query(struct dumper_pg_hold *h, const char *sql, char **ret_rows)
{
	/* The statement, then a marker row: psql prints each result as it
	 * ends, so the marker says where this answer stops. */
	char marker[96], *text = NULL, *out = NULL;
	size_t len = 0, cap = 0, ml;
	snprintf(marker, sizeof marker, "ckptfs-end-%s", h->snapshot);
	ml = strlen(marker);
	int r = -ENOMEM;
	if (h->in < 0 || h->out < 0)
		return store_fail(-EIO, "psql: the session holding the dump's snapshot ended");
	if (asprintf(&text, "%s;\nSELECT '%s';\n", sql, marker) < 0) {
		text = NULL;
		goto out;
	}
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	r = write_all(h->in, text);
	sigaction(SIGPIPE, &old, NULL);
	if (r < 0)
		goto ended;
	for (;;) {
		if ((r = grow(&out, &cap, len, 4096)) < 0)
			goto out;
		out[len] = '\0';
		/* Done when the last line is the marker. */
		if (len > ml && out[len - 1] == '\n' && (len == ml + 1 || out[len - ml - 2] == '\n') &&
		    !memcmp(out + len - ml - 1, marker, ml)) {
			out[len - ml - 1] = '\0';
			*ret_rows = out;
			out = NULL;
			r = 0;
			goto out;
		}
		struct pollfd p = {.fd = h->out, .events = POLLIN};
		int pr = poll(&p, 1, HOLD_TIMEOUT_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			r = store_fail(-EIO, "psql: no answer in 30 s in the dump's snapshot");
			goto out;
		}
		ssize_t k = read(h->out, out + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto ended;
		len += (size_t)k;
	}
ended:
	r = store_fail(-EIO, "psql: the session holding the dump's snapshot ended (a statement failed)");
out:
	free(text);
	free(out);
	return r;
}

int dumper_pg_hold_counts(struct dumper_pg_hold *h, struct dumper_table_count **ret,
			  size_t *ret_n)
{
	char *sql = NULL, *out = NULL;
	size_t len = 0, cap = 0;
	int r = -ENOMEM;
	if (asprintf(&sql, "%s;\nCOMMIT;\n\\q\n", dumper_pg_counts_sql) < 0) {
		sql = NULL;
		goto out;
	}
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	r = write_all(h->in, sql);
	sigaction(SIGPIPE, &old, NULL);
	close(h->in);
	h->in = -1;
	if (r < 0) {
		r = store_fail(-EIO, "psql: the session holding the dump's snapshot ended");
		goto out;
	}
	for (;;) {
		if ((r = grow(&out, &cap, len, 4096)) < 0)
			goto out;
		ssize_t k = read(h->out, out + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	out[len] = '\0';
	int st = 0;
	while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
		;
	h->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		r = store_fail(-EIO, "psql: counting the tables in the dump's snapshot failed");
		goto out;
	}
	r = dumper_counts_parse(out, ret, ret_n);
out:
	free(sql);
	free(out);
	dumper_pg_hold_release(h);
	return r;
}
