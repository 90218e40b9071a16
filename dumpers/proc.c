/* proc.c — running a short helper command (see proc.h). */
#include "dumpers/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/err.h"

extern char **environ;

#define ERR_MAX 4096

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sink {
	char *buf;
	size_t len, cap, max;
	bool cut, keep_tail;
};

static int sink_add(struct sink *s, const char *p, size_t n)
{
	if (s->keep_tail) {
		/* stderr: the reason is usually at the end */
		if (n >= s->max) {
			memcpy(s->buf, p + n - s->max, s->max);
			s->len = s->max;
		} else {
			if (s->len + n > s->max) {
				size_t drop = s->len + n - s->max;
				memmove(s->buf, s->buf + drop, s->len - drop);
				s->len -= drop;
			}
			memcpy(s->buf + s->len, p, n);
			s->len += n;
		}
		s->buf[s->len] = '\0';
		return 0;
	}
	if (s->len + n > s->max) {
		s->cut = true;
		n = s->max - s->len;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = (s->len + n + 1) * 2;
		cap = cap > s->max + 1 ? s->max + 1 : cap;
		char *b = realloc(s->buf, cap);
		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

bool dumper_proc_ok(const struct dumper_proc_out *o)
{
	return o->ran && !o->timed_out && WIFEXITED(o->status) && WEXITSTATUS(o->status) == 0;
}

void dumper_proc_out_clear(struct dumper_proc_out *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof *o);
}

const char *dumper_first_line(const char *text, char *buf, size_t max)
{
	buf[0] = '\0';
	for (const char *p = text ? text : ""; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		size_t n = strcspn(p, "\r\n");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			if (n >= max)
				n = max - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return buf;
		}
		p += strcspn(p, "\r\n");
		if (*p)
			p++;
	}
	return buf;
}

int dumper_proc_run(char *const argv[], char *const envp[], const char *cwd, int timeout_ms,
		    struct dumper_proc_out *ret)
{
	struct dumper_proc_out o = {0};
	struct sink so = {.max = DUMPER_PROC_OUT_MAX}, se = {.max = ERR_MAX, .keep_tail = true};
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	int r = -ENOMEM;
	pid_t pid = -1;
	if (!(se.buf = malloc(ERR_MAX + 1)) || !(so.buf = malloc(1)))
		goto out;
	se.buf[0] = so.buf[0] = '\0';
	so.cap = 1;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		r = store_failp(-errno, "pipe");
		goto out;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (rc) {
		pid = -1;
		snprintf(se.buf, ERR_MAX + 1, "%s: %s", argv[0],
			 rc == ENOENT ? "not found" : strerror(rc));
		r = 0;
		goto out;
	}
	o.ran = true;
	int64_t deadline = mono_ms() + timeout_ms;
	struct pollfd p[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
	char buf[8192];
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			o.timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		int n = poll(p, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = store_failp(-errno, "poll");
			kill(pid, SIGKILL);
			goto out;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t k = read(p[i].fd, buf, sizeof buf);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				if (i == 0)
					po[0] = -1;
				else
					pe[0] = -1;
				continue;
			}
			if (sink_add(i ? &se : &so, buf, (size_t)k) < 0) {
				kill(pid, SIGKILL);
				goto out; /* r is -ENOMEM */
			}
		}
	}
	r = 0;
out:
	if (pid > 0)
		while (waitpid(pid, &o.status, 0) < 0 && errno == EINTR)
			;
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (r < 0) {
		free(so.buf);
		free(se.buf);
		return r;
	}
	o.out = so.buf;
	o.out_len = so.len;
	o.out_cut = so.cut;
	o.err = se.buf;
	*ret = o;
	return 0;
}
