/* server_dump.c — running a dump tool and streaming its output (server.h).
 *
 * The verification of a Postgres dump reads the very bytes being stored:
 * they are teed into `pg_restore --list` running alongside, so nothing is
 * kept on disk and nothing has to be read back from the store (whose new
 * packs are not readable before commit).  pg_restore reads the header and
 * table of contents and exits; the rest of the tee is dropped (EPIPE).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dumpers/engine.h"
#include "dumpers/server.h"
#include "store/err.h"

#define ERR_KEEP 4096
#define TAIL_KEEP 64

struct stream {
	int out, err, tee;
	char errbuf[ERR_KEEP + 1];
	size_t errlen;
	unsigned char head[8], tail[TAIL_KEEP];
	size_t tail_len;
	uint64_t bytes;
};

void dumper_dump_result_clear(struct dumper_dump_result *r)
{
	free(r->error);
	memset(r, 0, sizeof *r);
}

/* Spawn argv with the given fds as its stdin/stdout/stderr (-1: /dev/null). */
static int spawn(char *const argv[], char *const envp[], int in, int out, int err, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	int fds[3] = {in, out, err};
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		else
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
	}
	int rc = posix_spawnp(ret_pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

static void keep_err(struct stream *s, const char *buf, size_t n)
{
	/* Keep the last ERR_KEEP bytes: the reason is usually at the end. */
	if (n >= ERR_KEEP) {
		memcpy(s->errbuf, buf + n - ERR_KEEP, ERR_KEEP);
		s->errlen = ERR_KEEP;
	} else {
		if (s->errlen + n > ERR_KEEP) {
			size_t drop = s->errlen + n - ERR_KEEP;
			memmove(s->errbuf, s->errbuf + drop, s->errlen - drop);
			s->errlen -= drop;
		}
		memcpy(s->errbuf + s->errlen, buf, n);
		s->errlen += n;
	}
	s->errbuf[s->errlen] = '\0';
}

static void drain_err(struct stream *s, bool block)
{
	char buf[4096];
	while (s->err >= 0) {
		if (!block) {
			struct pollfd p = {.fd = s->err, .events = POLLIN};
			if (poll(&p, 1, 0) <= 0)
				return;
		}
		ssize_t n = read(s->err, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(s->err);
			s->err = -1;
			return;
		}
		keep_err(s, buf, (size_t)n);
		if (!block)
			return;
	}
}

static void tee_out(struct stream *s, const void *buf, size_t n)
{
	const char *p = buf;
	while (s->tee >= 0 && n) {
		ssize_t k = write(s->tee, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) { /* the verifier has read what it needs */
			close(s->tee);
			s->tee = -1;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

static void track(struct stream *s, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n && s->bytes + i < sizeof s->head; i++)
		s->head[s->bytes + i] = b[i];
	s->bytes += n;
	if (n >= TAIL_KEEP) {
		memcpy(s->tail, b + n - TAIL_KEEP, TAIL_KEEP);
		s->tail_len = TAIL_KEEP;
		return;
	}
	if (s->tail_len + n > TAIL_KEEP) {
		size_t drop = s->tail_len + n - TAIL_KEEP;
		memmove(s->tail, s->tail + drop, s->tail_len - drop);
		s->tail_len -= drop;
	}
	memcpy(s->tail + s->tail_len, b, n);
	s->tail_len += n;
}

static int stream_read(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	struct stream *s = ctx;
	for (;;) {
		struct pollfd p[2] = {{.fd = s->out, .events = POLLIN}, {.fd = s->err, .events = POLLIN}};
		if (poll(p, s->err >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return store_failp(-errno, "poll");
		}
		if (s->err >= 0 && p[1].revents)
			drain_err(s, false);
		if (!p[0].revents)
			continue;
		ssize_t n = read(s->out, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return store_failp(-errno, "reading the dump");
		track(s, buf, (size_t)n);
		tee_out(s, buf, (size_t)n);
		*ret_n = (size_t)n;
		return 0;
	}
}

/* "pg_dump: error: connection …" → one line, trimmed. */
static char *tool_message(const char *tool, const char *err, int status)
{
	const char *e = err;
	while (*e == '\n' || *e == ' ')
		e++;
	size_t n = strlen(e);
	while (n && (e[n - 1] == '\n' || e[n - 1] == ' '))
		n--;
	char *m = NULL;
	int r;
	if (n)
		r = asprintf(&m, "%.*s", (int)n, e);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		r = asprintf(&m, "%s: not found (install it or disable the database in .ckptfs.toml)", tool);
	else if (WIFSIGNALED(status))
		r = asprintf(&m, "%s: killed by signal %d", tool, WTERMSIG(status));
	else
		r = asprintf(&m, "%s: exited with status %d", tool, WEXITSTATUS(status));
	if (r < 0)
		return NULL;
	/* One line: every run of white space (the tools indent with tabs)
	 * becomes one space. */
	char *o = m;
	for (const char *c = m; *c; c++) {
		bool space = *c == '\n' || *c == '\t' || *c == '\r' || *c == ' ';
		if (!space)
			*o++ = *c;
		else if (o > m && o[-1] != ' ')
			*o++ = ' ';
	}
	*o = '\0';
	return m;
}

static int wait_child(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Start the engine's checker of the stream, if it has one: fed a copy of
 * the stream (s->tee), writing to a memfd (*listfd, *vpid).  Returns the
 * check's name for the notes. */
static const char *start_check(const struct dumper_engine *e, const struct dumper_cmd *cmd,
			       struct stream *s, int pv[2], int *listfd, pid_t *vpid)
{
	*vpid = -1;
	if (!e->verify.tee_argv)
		return e->verify.name;
	*listfd = memfd_create("dump-check", MFD_CLOEXEC);
	if (*listfd >= 0 && pipe2(pv, O_CLOEXEC) == 0 &&
	    spawn((char *const *)e->verify.tee_argv, cmd->envp, pv[0], *listfd, -1, vpid) == 0) {
		/* Only the checker may hold the read end: once it has read
		 * what it needs and exits, the tee must get EPIPE, not fill
		 * the pipe and block the dump (a dump past 64 KiB hung). */
		close(pv[0]);
		pv[0] = -1;
		s->tee = pv[1];
		pv[1] = -1;
		return e->verify.name;
	}
	*vpid = -1;
	return e->verify.tee_missing;
}

/* After a dump whose tool exited 0: is it whole?  NULL when it is (with
 * *entries, for an engine that counts them), else the reason, malloc'd
 * (NULL also on ENOMEM: the caller then says "dump failed"). */
static char *check_dump(const struct dumper_engine *e, const struct dumper_cmd *cmd,
			const struct stream *s, pid_t vpid, int vst, int listfd, int64_t *entries,
			bool *ret_whole)
{
	struct dumper_dump_seen d = {
		.tool = cmd->tool,
		.head = s->head,
		.head_len = s->bytes < sizeof s->head ? (size_t)s->bytes : sizeof s->head,
		.tail = s->tail,
		.tail_len = s->tail_len,
		.bytes = s->bytes,
		.tee_ran = vpid > 0,
		.tee_status = vst,
		.tee_out = listfd,
	};
	char *why = NULL;
	*ret_whole = e->verify.judge(&d, entries, &why);
	return why;
}

int dumper_dump_run(const struct dumper_target *t, const struct dumper_cmd *cmd,
		    dumper_consume_fn consume, void *cctx, struct dumper_dump_result *ret)
{
	struct dumper_dump_result res = {.entries = -1};
	const struct dumper_engine *eng = dumper_engine_of(t->kind);
	struct stream s = {.out = -1, .err = -1, .tee = -1};
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, pv[2] = {-1, -1}, listfd = -1;
	pid_t pid = -1, vpid = -1;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	int r = 0;

	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		r = store_failp(-errno, "pipe");
		goto out;
	}
	int sr = spawn(cmd->argv, cmd->envp, -1, po[1], pe[1], &pid);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	s.out = po[0];
	s.err = pe[0];
	po[0] = pe[0] = -1;
	if (sr < 0) {
		pid = -1;
		if (asprintf(&res.error, "%s: %s", cmd->tool, sr == -ENOENT ? "not found (install it or disable "
						"the database in .ckptfs.toml)" : strerror(-sr)) < 0)
			res.error = NULL;
		goto done;
	}
	if (!eng) {
		/* A kind without a row must not pass as verified. */
		if (asprintf(&res.error, "%s: no check for this kind of dump", cmd->tool) < 0)
			res.error = NULL;
		kill(pid, SIGTERM);
		goto done;
	}
	res.check = start_check(eng, cmd, &s, pv, &listfd, &vpid);

	r = consume(cctx, stream_read, &s);
	if (r < 0) {
		kill(pid, SIGTERM);
		goto done;
	}
done:
	if (s.out >= 0)
		close(s.out);
	s.out = -1;
	drain_err(&s, true);
	int st = pid > 0 ? wait_child(pid) : 0;
	if (s.tee >= 0)
		close(s.tee);
	s.tee = -1;
	int vst = vpid > 0 ? wait_child(vpid) : 0;
	res.bytes = s.bytes;
	if (r < 0 || res.error)
		goto out;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		res.error = tool_message(cmd->tool, s.errbuf, st);
		goto out;
	}
	bool whole = false;
	if (eng)
		res.error = check_dump(eng, cmd, &s, vpid, vst, listfd, &res.entries,
			       &whole);
	res.ok = whole;
out:
	sigaction(SIGPIPE, &old, NULL);
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
		if (pv[i] >= 0)
			close(pv[i]);
	}
	if (s.out >= 0)
		close(s.out);
	if (s.err >= 0)
		close(s.err);
	if (listfd >= 0)
		close(listfd);
	if (r < 0) {
		dumper_dump_result_clear(&res);
		return r;
	}
	if (!res.ok && !res.error && !(res.error = strdup("dump failed")))
		return -ENOMEM;
	*ret = res;
	return 0;
}

int dumper_run_pipe(const struct dumper_cmd *a, const struct dumper_cmd *b, int fd)
{
	int pp[2] = {-1, -1}, ea[2] = {-1, -1}, eb[2] = {-1, -1};
	pid_t pa = -1, pb = -1;
	int r = 0;
	if (pipe2(pp, O_CLOEXEC) < 0 || pipe2(ea, O_CLOEXEC) < 0 || pipe2(eb, O_CLOEXEC) < 0) {
		r = store_failp(-errno, "pipe");
		goto out;
	}
	if ((r = spawn(a->argv, a->envp, fd, pp[1], ea[1], &pa)) < 0) {
		pa = -1;
		r = store_fail(r, "%s: %s", a->tool, strerror(-r));
		goto out;
	}
	if ((r = spawn(b->argv, b->envp, pp[0], -1, eb[1], &pb)) < 0) {
		pb = -1;
		r = store_fail(r, "%s: %s", b->tool, strerror(-r));
		goto out;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (pp[i] >= 0)
			close(pp[i]);
		pp[i] = -1;
	}
	if (ea[1] >= 0)
		close(ea[1]);
	if (eb[1] >= 0)
		close(eb[1]);
	struct stream sa = {.out = -1, .err = ea[0], .tee = -1}, sb = {.out = -1, .err = eb[0], .tee = -1};
	/* Both stderrs to their ends (small), then both statuses. */
	drain_err(&sa, true);
	drain_err(&sb, true);
	int sta = pa > 0 ? wait_child(pa) : 0, stb = pb > 0 ? wait_child(pb) : 0;
	if (r < 0)
		return r;
	/* The loader's words first: it is the one that refuses (a foreign
	 * key, a column that is not there); the extractor's if only it failed. */
	if (!WIFEXITED(stb) || WEXITSTATUS(stb) != 0) {
		char *m = tool_message(b->tool, sb.errbuf, stb);
		r = store_fail(-EIO, "%s", m ? m : b->tool);
		free(m);
	} else if (!WIFEXITED(sta) || WEXITSTATUS(sta) != 0) {
		char *m = tool_message(a->tool, sa.errbuf, sta);
		r = store_fail(-EIO, "%s", m ? m : a->tool);
		free(m);
	}
	return r;
}

int dumper_run_with_input(const struct dumper_cmd *cmd, int fd)
{
	int pe[2];
	if (pipe2(pe, O_CLOEXEC) < 0)
		return store_failp(-errno, "pipe");
	pid_t pid;
	int r = spawn(cmd->argv, cmd->envp, fd, -1, pe[1], &pid);
	close(pe[1]);
	if (r < 0) {
		close(pe[0]);
		return store_fail(r, "%s: %s", cmd->tool, strerror(-r));
	}
	struct stream s = {.out = -1, .err = pe[0], .tee = -1};
	drain_err(&s, true);
	int st = wait_child(pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char *m = tool_message(cmd->tool, s.errbuf, st);
	r = store_fail(-EIO, "%s", m ? m : cmd->tool);
	free(m);
	return r;
}
