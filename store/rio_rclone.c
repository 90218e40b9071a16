/* rio_rclone.c — the rclone backend of rio.h: every operation one run of
 * the rclone command (copy, copyto, moveto, cat, rcat, lsf, delete,
 * deletefile).
 *
 * A push's copy and its manifest's move are started ahead and held on a
 * stdin list (struct held below), so that their start overlaps what
 * comes before them (the look, the copy).
 *
 * Retries are kept low (--retries 1, --low-level-retries 2) and the
 * connection timeout short: a push is resumable, so failing fast with
 * rclone's own error line beats a long hang on an unreachable server.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/rio_internal.h"

extern char **environ;

#define ERR_KEEP 2048
#define MAX_ARGS 24

struct run {
	int in_fd;            /* stdin: -1 for /dev/null */
	const void *in_buf;   /* or this buffer written to a pipe */
	size_t in_len;
	int out_fd;           /* stdout: -1 to capture into out */
	char *out;            /* captured stdout (malloc'd) */
	size_t out_len, out_max;
	XXH3_state_t *hash;   /* hash stdout as it passes to out_fd */
	rio_progress_fn progress;
	void *ctx;
	char err[ERR_KEEP];   /* the end of stderr */
	size_t err_len;
	int status;           /* rclone's exit status */
	uint64_t hash_bytes;  /* bytes passed to out_fd */
};

static void keep_err(struct run *ru, const char *b, size_t n)
{
	if (n >= ERR_KEEP) {
		b += n - (ERR_KEEP - 1);
		n = ERR_KEEP - 1;
	}
	if (ru->err_len + n >= ERR_KEEP) {
		size_t drop = ru->err_len + n - (ERR_KEEP - 1);
		memmove(ru->err, ru->err + drop, ru->err_len - drop);
		ru->err_len -= drop;
	}
	memcpy(ru->err + ru->err_len, b, n);
	ru->err_len += n;
	ru->err[ru->err_len] = '\0';
}

/* The last non-empty line of rclone's stderr, without its log prefix. */
static const char *last_line(struct run *ru)
{
	char *e = ru->err;
	size_t n = ru->err_len;
	while (n && (e[n - 1] == '\n' || e[n - 1] == '\r'))
		e[--n] = '\0';
	char *nl = strrchr(e, '\n');
	char *line = nl ? nl + 1 : e;
	char *tag = strstr(line, "ERROR : ");
	if (tag)
		line = tag + 8;
	else if ((tag = strstr(line, "Failed to ")))
		line = tag;
	return *line ? line : "failed";
}

static int pump(struct run *ru, int out, int err, int in)
{
	char buf[65536];
	size_t in_done = 0;
	uint64_t out_done = 0;
	int r = 0;
	while (out >= 0 || err >= 0) {
		struct pollfd p[3];
		int np = 0, io = -1, ie = -1, ii = -1;
		if (out >= 0)
			io = np, p[np++] = (struct pollfd){out, POLLIN, 0};
		if (err >= 0)
			ie = np, p[np++] = (struct pollfd){err, POLLIN, 0};
		if (in >= 0)
			ii = np, p[np++] = (struct pollfd){in, POLLOUT, 0};
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			return store_failp(-errno, "rclone: poll");
		}
		if (ii >= 0 && p[ii].revents) {
			ssize_t n = write(in, (const char *)ru->in_buf + in_done, ru->in_len - in_done);
			if (n > 0)
				in_done += (size_t)n;
			if (n < 0 || in_done == ru->in_len) {
				close(in);
				in = -1;
			}
		}
		if (io >= 0 && p[io].revents) {
			ssize_t n = read(out, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(out);
				out = -1;
			} else if (ru->out_fd >= 0) {
				if (ru->hash)
					XXH3_128bits_update(ru->hash, buf, (size_t)n);
				if (r == 0 && (r = fio_write_all(ru->out_fd, buf, (size_t)n)) < 0)
					store_failp(r, "writing what rclone sent");
				out_done += (uint64_t)n;
				if (ru->progress)
					ru->progress(ru->ctx, out_done);
			} else if (ru->out_len + (size_t)n > ru->out_max) {
				if (r == 0)
					r = store_fail(-STORE_ECORRUPT, "rclone: output larger than %zu bytes",
						       ru->out_max);
			} else {
				char *no = realloc(ru->out, ru->out_len + (size_t)n + 1);
				if (!no) {
					r = store_fail(-ENOMEM, "rclone: out of memory");
				} else {
					ru->out = no;
					memcpy(no + ru->out_len, buf, (size_t)n);
					ru->out_len += (size_t)n;
					no[ru->out_len] = '\0';
				}
			}
		}
		if (ie >= 0 && p[ie].revents) {
			ssize_t n = read(err, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(err);
				err = -1;
			} else {
				keep_err(ru, buf, (size_t)n);
			}
		}
	}
	if (in >= 0)
		close(in);
	ru->hash_bytes = out_done;
	return r;
}

/* The rclone program on $PATH (malloc'd), or NULL.  Found before the
 * fork, so the child only calls what is safe between fork and exec. */
static char *find_rclone(void)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		char *exe = NULL;
		if (asprintf(&exe, "%.*s%srclone", (int)n, path, n ? "/" : "./") >= 0) {
			if (access(exe, X_OK) == 0)
				return exe;
			free(exe);
		}
		path += n + (colon ? 1 : 0);
		if (!colon)
			break;
	}
	return NULL;
}

/* rclone with the common options and args (NULL-terminated) started,
 * in0 its stdin; *ret_out and *ret_err our ends of its stdout and stderr.
 * Call it from a thread that outlives the run: PR_SET_PDEATHSIG fires
 * when the thread that forked ends, not the process. */
static int start_rclone(struct rio *rio, const char *const *args, int in0, bool own_group,
			pid_t *ret_pid, int *ret_out, int *ret_err)
{
	const char *argv[MAX_ARGS + 12];
	size_t n = 0;
	argv[n++] = "rclone";
	argv[n++] = "--retries";
	argv[n++] = "1";
	argv[n++] = "--low-level-retries";
	argv[n++] = "2";
	argv[n++] = "--contimeout";
	argv[n++] = "15s";
	argv[n++] = "--stats";
	argv[n++] = "0";
	if (rio->opts.bwlimit) {
		argv[n++] = "--bwlimit";
		argv[n++] = rio->opts.bwlimit;
	}
	for (size_t i = 0; args[i] && i < MAX_ARGS; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	int po[2] = {-1, -1}, pe[2] = {-1, -1}, r = 0;
	char *exe = find_rclone();
	if (!exe) {
		r = store_fail(-ENOENT, "remote %s: rclone is not installed (apt install rclone)",
			       rio->target);
		goto out;
	}
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		r = store_failp(-errno, "rclone: pipe");
		goto out;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		r = store_failp(-errno, "remote %s: running rclone", rio->target);
		goto out;
	}
	if (pid == 0) {
		/* rclone dies with us: a push killed with -9 must not leave an
		 * rclone writing into incoming/ while the next push does. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		/* Out of the terminal's job control (see hold_pause). */
		if (own_group && setpgid(0, 0) < 0)
			_exit(127);
		if (dup2(in0, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(127);
		execve(exe, (char *const *)argv, environ);
		_exit(127);
	}
	/* Both sides, as shells do: whichever runs first, the group exists
	 * before we signal it (EACCES once it has exec'd: already done). */
	if (own_group)
		setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	*ret_pid = pid;
	*ret_out = po[0];
	*ret_err = pe[0];
	po[0] = po[1] = pe[0] = pe[1] = -1;
out:
	free(exe);
	int fds[] = {po[0], po[1], pe[0], pe[1]};
	for (size_t i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

/* The rest of a run: ru->in_buf written to in (if in >= 0), its output
 * taken, its exit status into ru->status.  Closes out, err and in. */
static int end_rclone(struct run *ru, pid_t pid, int out, int err, int in)
{
	/* A closed stdin pipe must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	int r = pump(ru, out, err, in);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return store_failp(-errno, "rclone: wait");
	ru->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r;
}

/* Run rclone with the common options and args (NULL-terminated). */
static int run_rclone(struct rio *rio, struct run *ru, const char *const *args)
{
	int pi[2] = {-1, -1}, devnull = -1, out, err, r;
	pid_t pid;
	if ((ru->in_buf && pipe2(pi, O_CLOEXEC) < 0) ||
	    (!ru->in_buf && ru->in_fd < 0 &&
	     (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0))
		return store_failp(-errno, "rclone: pipe");
	int in0 = ru->in_buf ? pi[0] : ru->in_fd >= 0 ? ru->in_fd : devnull;
	r = start_rclone(rio, args, in0, false, &pid, &out, &err);
	if (devnull >= 0)
		close(devnull);
	if (pi[0] >= 0)
		close(pi[0]);
	if (r < 0) {
		if (pi[1] >= 0)
			close(pi[1]);
		return r;
	}
	return end_rclone(ru, pid, out, err, pi[1]);
}

/* An rclone run started before what it is to do is decided: its stdin a
 * pipe held here, from which it reads its list (--files-from -) as it
 * starts.  rclone 1.60 reads that list before it even loads its config,
 * let alone opens the remote (seen with strace: the read of fd 0 comes
 * before the config file's open, and an sftp remote's connect after the
 * list's end), so a held run has done nothing to the remote, and costs
 * nothing but its start, until it is released (hold_release) or killed
 * (hold_drop).  Its start (Go's runtime and rclone's init: 0.1-0.3 s
 * here) then overlaps whatever the caller does meanwhile; the remote's
 * own connection (sftp's SSH login) is still made after the release.
 *
 * If we die, our end of the pipe closes, and that end of file can reach a
 * held run before its PDEATHSIG does (the files are closed first when a
 * process exits; seen: 3 kills in 12 mid-copy let a held `moveto
 * --exclude-from -` of the manifest go).  A run that may do what a list
 * cut short says at any time (the pack copy: packs no manifest names)
 * can just be held; one that must not go on its own (the manifest's
 * move) is paused as well, stopped with SIGSTOP, before the moment from
 * which going would do harm (hold_pause): a stopped process runs nothing
 * on that end of file, and the PDEATHSIG (SIGKILL) ends it stopped. */
struct held {
	pid_t pid; /* 0: none */
	int in, out, err;
	bool paused; /* SIGSTOPped by hold_pause */
};

#define HELD_NONE ((struct held){0, -1, -1, -1, false})

/* A line --exclude-from skips (a comment): written to a paused run's
 * list at its start; once rclone has read it, it has started and waits
 * for the rest. */
#define HOLD_PROBE "#\n"

/* Start h (from the main thread: see start_rclone).  probe: HOLD_PROBE
 * first on its list, and rclone in a process group of its own, for
 * hold_pause. */
static int hold_start(struct rio *rio, const char *const *args, bool probe, struct held *h)
{
	int pi[2];
	*h = HELD_NONE;
	if (pipe2(pi, O_CLOEXEC) < 0)
		return store_failp(-errno, "rclone: pipe");
	int r = start_rclone(rio, args, pi[0], probe, &h->pid, &h->out, &h->err);
	close(pi[0]);
	if (r == 0 && probe && write(pi[1], HOLD_PROBE, strlen(HOLD_PROBE)) != (ssize_t)strlen(HOLD_PROBE))
		r = store_failp(-errno, "rclone: pipe");
	if (r < 0) {
		close(pi[1]);
		if (h->pid > 0) {
			kill(h->pid, SIGKILL);
			close(h->out);
			close(h->err);
			while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		*h = HELD_NONE;
		return r;
	}
	h->in = pi[1];
	return 0;
}

/* Stop h's rclone (SIGSTOP) once it has read the probe, i.e. started
 * and now waiting for the rest of its list (or after 5 s: it then starts
 * on its release).  From the return on it runs nothing, whatever its
 * stdin does, until hold_release: a queued SIGSTOP is taken before the
 * process runs user code again, and SIGKILL still ends it.  Its own
 * process group keeps a terminal's SIGCONT (fg after ^Z) from waking
 * it. */
static void hold_pause(struct held *h)
{
	for (int i = 0; i < 2500; i++) {
		int left = 0;
		if (ioctl(h->in, FIONREAD, &left) < 0 || left == 0)
			break;
		nanosleep(&(struct timespec){0, 2000000}, NULL);
	}
	kill(-h->pid, SIGSTOP); /* its group: a wrapper script's rclone too */
	h->paused = true;
}

/* Whether h's rclone is still waiting (not exited): what a release
 * relies on.  A held run that ended before its release did not wait
 * for its list. */
static bool hold_waiting(const struct held *h)
{
	siginfo_t si = {0};
	return h->pid > 0 && waitid(P_PID, (id_t)h->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == 0;
}

/* Release h: list (len bytes, may be 0) is its stdin, then EOF; the run
 * then goes on as any other, into ru. */
static int hold_release(struct held *h, struct run *ru, const char *list, size_t len)
{
	ru->in_buf = list;
	ru->in_len = len;
	int in = h->in;
	if (!len) {
		close(in);
		in = -1;
	}
	/* The end of its list first, then it runs (paused: we may die in
	 * between, and it dies stopped). */
	if (h->paused)
		kill(-h->pid, SIGCONT);
	pid_t pid = h->pid;
	int out = h->out, err = h->err;
	*h = HELD_NONE;
	return end_rclone(ru, pid, out, err, in);
}

/* Kill h's rclone (not released: it has touched nothing) and reap it.
 * A no-op for none. */
static void hold_drop(struct held *h)
{
	if (h->pid <= 0)
		return;
	kill(h->paused ? -h->pid : h->pid, SIGKILL);
	close(h->in);
	close(h->out);
	close(h->err);
	while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
		;
	*h = HELD_NONE;
}

/* rclone's documented exit statuses: 3 directory not found, 4 file not
 * found.  Anything else but 0 is its last error line. */
static int check_status(struct rio *rio, struct run *ru, const char *doing, bool missing_ok)
{
	if (ru->status == 0)
		return 0;
	if ((ru->status == 3 || ru->status == 4) && missing_ok)
		return -ENOENT;
	return store_fail(ru->status == 3 || ru->status == 4 ? -ENOENT : -EIO,
			  "remote %s: %s: %s", rio->target, doing, last_line(ru));
}

static char *rpath(struct rio *rio, const char *name)
{
	char *p = NULL;
	size_t bl = strlen(rio->base);
	bool sep = bl && rio->base[bl - 1] != ':' && rio->base[bl - 1] != '/';
	if (asprintf(&p, "%s%s%s", rio->base, sep && *name ? "/" : "", name) < 0)
		return NULL;
	return p;
}

int rio_rclone_prepare(struct rio *rio)
{
	/* rclone makes folders as it writes into them (and object stores
	 * have none): one process less per push. */
	return 0;
}


int rio_rclone_list(struct rio *rio, const char *dir, struct rio_entry **ret, size_t *ret_n)
{
	char *p = rpath(rio, dir);
	if (!p)
		return store_fail(-ENOMEM, "remote: out of memory");
	struct run ru = {.in_fd = -1, .out_fd = -1, .out_max = 256u << 20};
	const char *args[] = {"lsf", "-R", "--files-only", "--format", "sp", "--separator", "\t",
			      p, NULL};
	int r = run_rclone(rio, &ru, args);
	if (r == 0)
		r = check_status(rio, &ru, "listing", true);
	if (r == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		r = 0;
	} else if (r == 0) {
		char what[4200];
		snprintf(what, sizeof what, "remote %s: listing of %s", rio->target, dir);
		r = rio_parse_lsf(what, dir, ru.out ? ru.out : "", ru.out_len, ret, ret_n);
	}
	free(ru.out);
	free(p);
	return r;
}

int rio_rclone_read(struct rio *rio, const char *name, size_t max, char **ret, size_t *ret_len)
{
	char *p = rpath(rio, name);
	if (!p)
		return store_fail(-ENOMEM, "remote: out of memory");
	struct run ru = {.in_fd = -1, .out_fd = -1, .out_max = max};
	const char *args[] = {"cat", p, NULL};
	int r = run_rclone(rio, &ru, args);
	if (r == 0)
		r = check_status(rio, &ru, name, true);
	/* rclone cat of a missing file in an existing directory exits 0 with
	 * nothing on some backends: ask for its size to tell "empty" from
	 * "missing". */
	if (r == 0 && ru.out_len == 0) {
		struct rio_entry *e = NULL;
		size_t n = 0;
		const char *slash = strrchr(name, '/');
		char dir[4096] = "";
		if (slash)
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - name), name);
		r = rio_rclone_list(rio, dir, &e, &n);
		bool found = false;
		for (size_t i = 0; r == 0 && i < n; i++)
			found |= !strcmp(e[i].name, name);
		rio_entries_free(e, n);
		if (r == 0 && !found)
			r = -ENOENT;
	}
	free(p);
	if (r < 0) {
		free(ru.out);
		return r;
	}
	if (!ru.out && !(ru.out = calloc(1, 1))) {
		return store_fail(-ENOMEM, "remote: out of memory");
	}
	*ret = ru.out;
	*ret_len = ru.out_len;
	return 0;
}

/* rclone moveto tmp name (a rename where the backend has one). */
static int move_into_place(struct rio *rio, const char *tmp, const char *name)
{
	char *a = rpath(rio, tmp), *b = rpath(rio, name);
	int r = 0;
	if (!a || !b) {
		r = store_fail(-ENOMEM, "remote: out of memory");
	} else {
		struct run ru = {.in_fd = -1, .out_fd = -1, .out_max = 1 << 16};
		const char *args[] = {"moveto", a, b, NULL};
		r = run_rclone(rio, &ru, args);
		if (r == 0)
			r = check_status(rio, &ru, name, false);
		free(ru.out);
	}
	free(a);
	free(b);
	return r;
}

int rio_rclone_write(struct rio *rio, const char *name, const void *buf, size_t len)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s" RIO_TMP_SUFFIX, name);
	char *p = rpath(rio, tmp);
	if (!p)
		return store_fail(-ENOMEM, "remote: out of memory");
	struct run ru = {.in_fd = -1, .in_buf = buf, .in_len = len, .out_fd = -1,
			 .out_max = 1 << 16};
	char size[32];
	snprintf(size, sizeof size, "%zu", len);
	const char *args[] = {"rcat", "--size", size, p, NULL};
	int r = run_rclone(rio, &ru, args);
	if (r == 0)
		r = check_status(rio, &ru, name, false);
	free(ru.out);
	free(p);
	return r < 0 ? r : move_into_place(rio, tmp, name);
}

int rio_hash_file(int fd, uint64_t size, const char *name, char sum[RIO_SUM_LEN + 1])
{
	uint8_t *buf = malloc(RIO_BUF);
	XXH3_state_t *st = XXH3_createState();
	int r = 0;
	uint64_t done = 0;
	if (!buf || !st) {
		r = store_fail(-ENOMEM, "remote: out of memory");
		goto out;
	}
	XXH3_128bits_reset(st);
	for (;;) {
		ssize_t n = pread(fd, buf, RIO_BUF, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = store_failp(-errno, "reading the local pack for %s", name);
			goto out;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(st, buf, (size_t)n);
		done += (uint64_t)n;
	}
	if (done != size)
		r = store_fail(-ESTALE, "local pack of %s changed size while it was sent", name);
	rio_sum_hex(st, sum);
out:
	XXH3_freeState(st);
	free(buf);
	return r;
}

int rio_rclone_download(struct rio *rio, const char *name, int outfd,
			char ret_sum[RIO_SUM_LEN + 1], uint64_t *ret_size,
			rio_progress_fn progress, void *ctx)
{
	char *p = rpath(rio, name);
	XXH3_state_t *st = XXH3_createState();
	if (!p || !st) {
		free(p);
		XXH3_freeState(st);
		return store_fail(-ENOMEM, "remote: out of memory");
	}
	XXH3_128bits_reset(st);
	struct run ru = {.in_fd = -1, .out_fd = outfd, .hash = st, .progress = progress,
			 .ctx = ctx};
	const char *args[] = {"cat", p, NULL};
	int r = run_rclone(rio, &ru, args);
	if (r == 0)
		r = check_status(rio, &ru, name, false);
	if (r == 0) {
		rio_sum_hex(st, ret_sum);
		*ret_size = ru.hash_bytes;
	}
	XXH3_freeState(st);
	free(p);
	return r;
}

int rio_rclone_remove(struct rio *rio, const char *name)
{
	char *p = rpath(rio, name);
	if (!p)
		return store_fail(-ENOMEM, "remote: out of memory");
	struct run ru = {.in_fd = -1, .out_fd = -1, .out_max = 1 << 16};
	const char *args[] = {"deletefile", p, NULL};
	int r = run_rclone(rio, &ru, args);
	if (r == 0)
		r = check_status(rio, &ru, name, true);
	free(ru.out);
	free(p);
	return r == -ENOENT ? 0 : r;
}

int rio_parse_lsf(const char *what, const char *prefix, const char *out, size_t len,
		  struct rio_entry **ret, size_t *ret_n)
{
	struct rio_entry *e = NULL;
	size_t n = 0, cap = 0, pos = 0;
	unsigned line = 0;
	int r = 0;
	while (pos < len) {
		const char *nl = memchr(out + pos, '\n', len - pos);
		size_t sl = nl ? (size_t)(nl - (out + pos)) : len - pos;
		const char *s = out + pos;
		pos += sl + (nl ? 1 : 0);
		line++;
		if (sl == 0)
			continue;
		const char *tab = memchr(s, '\t', sl);
		uint64_t size = 0;
		bool ok = tab && tab > s && tab - s <= 20 && (size_t)(tab - s) + 1 < sl &&
			  !memchr(s, '\0', sl);
		for (const char *c = s; ok && c < tab; c++) {
			if (*c < '0' || *c > '9' || size > (UINT64_MAX - 9) / 10)
				ok = false;
			else
				size = size * 10 + (uint64_t)(*c - '0');
		}
		if (!ok) {
			r = store_fail(-STORE_ECORRUPT, "%s: line %u: not SIZE<TAB>PATH", what, line);
			goto fail;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			struct rio_entry *ne = realloc(e, cap * sizeof *ne);
			if (!ne) {
				r = store_fail(-ENOMEM, "remote: out of memory");
				goto fail;
			}
			e = ne;
		}
		const char *path = tab + 1;
		int plen = (int)(sl - (size_t)(path - s));
		if (asprintf(&e[n].name, "%s%s%.*s", prefix, *prefix ? "/" : "", plen, path) < 0) {
			r = store_fail(-ENOMEM, "remote: out of memory");
			goto fail;
		}
		e[n++].size = size;
	}
	*ret = e;
	*ret_n = n;
	return 0;
fail:
	rio_entries_free(e, n);
	return r;
}

/* The names (and extra, when not NULL), one a line, for rclone
 * --files-from: at rio->list_path (rio_set_list_path) or in a temp file
 * of $TMPDIR.  path gets its name; unlink it after the run. */
static int files_list(struct rio *rio, char *const *names, size_t n, const char *extra,
		      char path[4096])
{
	int fd;
	if (rio->list_path) {
		snprintf(path, 4096, "%s", rio->list_path);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	} else {
		const char *dir = getenv("TMPDIR");
		snprintf(path, 4096, "%s/ckptfs-files.XXXXXX", dir && *dir ? dir : "/tmp");
		fd = mkstemp(path);
	}
	if (fd < 0)
		return store_failp(-errno, "%s", path);
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return store_failp(-errno, "%s", path);
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", names[i]);
	if (extra)
		fprintf(f, "%s\n", extra);
	if (fclose(f) != 0) {
		unlink(path);
		return store_failp(-EIO, "%s", path);
	}
	return 0;
}

static int run_simple(struct rio *rio, const char *doing, const char *const *args, bool missing_ok)
{
	struct run ru = {.in_fd = -1, .out_fd = -1, .out_max = 1 << 16};
	int r = run_rclone(rio, &ru, args);
	if (r == 0)
		r = check_status(rio, &ru, doing, missing_ok);
	free(ru.out);
	return r;
}

/* One file copied to NAME.tmp, in a thread of its own (each rclone start
 * costs a fraction of a second: the small files travel beside the packs).
 * The message of a failure is per thread (err.h): kept to be told again. */
struct bg_copy {
	struct rio *rio;
	const char *local, *name; /* local path; NAME on the remote */
	bool move;                /* move NAME.tmp to NAME rather than copy */
	int (*before)(void *ctx); /* called first, in this thread (the commit file) */
	void *before_ctx;
	struct held *pause;       /* paused before the copy (the commit's move) */
	pthread_t th;
	bool threaded;
	int r;
	char why[1024];
};

static void *bg_copy_run(void *p)
{
	struct bg_copy *b = p;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s" RIO_TMP_SUFFIX, b->name);
	if (b->move) { /* the second half: NAME.tmp into place */
		b->r = move_into_place(b->rio, tmp, b->name);
		if (b->r < 0)
			snprintf(b->why, sizeof b->why, "%s", store_error() ? store_error() : "failed");
		return NULL;
	}
	if (b->before && (b->r = b->before(b->before_ctx)) < 0) {
		snprintf(b->why, sizeof b->why, "%s", store_error() ? store_error() : "failed");
		return NULL;
	}
	/* From here NAME.tmp may exist: the held move of it must not go. */
	if (b->pause && b->pause->pid)
		hold_pause(b->pause);
	char *dst = rpath(b->rio, tmp);
	if (!dst) {
		b->r = -ENOMEM;
		snprintf(b->why, sizeof b->why, "out of memory");
		return NULL;
	}
	const char *args[] = {"copyto", "--checksum", b->local, dst, NULL};
	b->r = run_simple(b->rio, b->name, args, false);
	if (b->r < 0)
		snprintf(b->why, sizeof b->why, "%s", store_error() ? store_error() : "failed");
	free(dst);
	return NULL;
}

static void bg_start(struct bg_copy *b)
{
	b->threaded = pthread_create(&b->th, NULL, bg_copy_run, b) == 0;
	if (!b->threaded)
		bg_copy_run(b);
}

/* Wait for b; its failure told again (if r is still 0). */
static int bg_wait(struct bg_copy *b, int r)
{
	if (b->threaded)
		pthread_join(b->th, NULL);
	b->threaded = false;
	if (b->r < 0 && r == 0)
		return store_fail(b->r, "%s", b->why);
	return r;
}

/* The pack copy of a push, started ahead (see struct held). */
struct rio_upload {
	struct rio *rio;
	char *local_root, *base;
	struct held copy;
};

/* Start u's copy of the packs, held until rio_upload_many gives it its
 * list.  Straight to their names: only a manifest makes a pack part of
 * the remote, and it names one only once rclone copied and checked it.
 * What a killed run leaves half written has the wrong size, or a wrong
 * hash that --checksum finds: the next run sends it again. */
static int upload_hold(struct rio_upload *u)
{
	const char *copy[] = {"copy", "--checksum", "--files-from", "-", "--no-traverse",
			      u->local_root, u->base, NULL};
	return hold_start(u->rio, copy, false, &u->copy);
}

int rio_upload_begin(struct rio *rio, const char *local_root, bool start, struct rio_upload **ret)
{
	if (!rio->rclone)
		return store_fail(-ENOTSUP, "remote %s: not an rclone remote", rio->target);
	struct rio_upload *u = calloc(1, sizeof *u);
	int r = 0;
	if (!u || !(u->base = rpath(rio, "")) || !(u->local_root = strdup(local_root))) {
		r = store_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	u->rio = rio;
	u->copy = HELD_NONE;
	if (start && (r = upload_hold(u)) < 0)
		goto fail;
	*ret = u;
	return 0;
fail:
	if (u) {
		free(u->local_root);
		free(u->base);
	}
	free(u);
	return r;
}

void rio_upload_free(struct rio_upload *u)
{
	if (!u)
		return;
	hold_drop(&u->copy);
	free(u->local_root);
	free(u->base);
	free(u);
}

/* names, one a line: an rclone --files-from list (malloc'd, *ret_len). */
static char *join_lines(char *const *names, size_t n, size_t *ret_len)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	char *s = malloc(len + 1), *p = s;
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s\n", names[i]);
	*ret_len = len;
	return s;
}

int rio_upload_many(struct rio_upload *u, char *const *names, size_t n, bool direct,
		    const char *commit_local, const char *commit_name, bool hold_commit,
		    int (*before_commit)(void *ctx), void *ctx)
{
	struct rio *rio = u->rio;
	const char *local_root = u->local_root;
	/* The small files (the key and format when they changed, the new
	 * manifest) go to temp names beside the one transfer of the packs. */
	struct bg_copy *bg = calloc(n + 1, sizeof *bg);
	char **packs = calloc(n ? n : 1, sizeof *packs), **locals = calloc(n + 1, sizeof *locals);
	char *list = NULL, *mtmp = NULL, *mdst = NULL;
	char tmp[4200];
	size_t np = 0, nbg = 0, list_len = 0;
	struct held move = HELD_NONE;
	snprintf(tmp, sizeof tmp, "%s" RIO_TMP_SUFFIX, commit_name);
	int r = !bg || !packs || !locals || !(mtmp = rpath(rio, tmp)) ||
			!(mdst = rpath(rio, commit_name))
		    ? store_fail(-ENOMEM, "out of memory")
		    : 0;
	/* The commit's move, started now so that its start overlaps the
	 * copy: `moveto --exclude-from -` reads its list before anything
	 * (an empty one is no rule: moveto refuses rules), and gets its end
	 * only when the packs are in.  Paused (hold_pause) before NAME.tmp
	 * is written: our death closes its stdin, and a running one would
	 * then move the manifest of packs still travelling.  Not when the
	 * remote has a NAME.tmp already (a killed push's): the move could go
	 * on our death before it is paused. */
	const char *mv[] = {"moveto", "--exclude-from", "-", mtmp, mdst, NULL};
	if (r == 0 && hold_commit)
		r = hold_start(rio, mv, true, &move);
	for (size_t i = 0; r == 0 && i <= n; i++) {
		const char *name = i < n ? names[i] : commit_local;
		if (i < n && (direct || !strncmp(name, "packs/", 6))) {
			packs[np++] = names[i];
			continue;
		}
		if (asprintf(&locals[nbg], "%s/%s", local_root, name) < 0) {
			locals[nbg] = NULL;
			r = store_fail(-ENOMEM, "out of memory");
			break;
		}
		bg[nbg] = (struct bg_copy){.rio = rio, .local = locals[nbg],
					   .name = i < n ? name : commit_name,
					   .before = i < n ? NULL : before_commit,
					   .before_ctx = ctx, .pause = i < n ? NULL : &move};
		bg_start(&bg[nbg++]);
	}
	if (r == 0 && np && !(list = join_lines(packs, np, &list_len)))
		r = store_fail(-ENOMEM, "out of memory");
	if (r == 0 && np && !u->copy.pid) /* not started ahead: now */
		r = upload_hold(u);
	if (r == 0 && np) {
		struct run ru = {.in_fd = -1, .out_fd = -1, .out_max = 1 << 16};
		r = hold_release(&u->copy, &ru, list, list_len);
		if (r == 0)
			r = check_status(rio, &ru, "uploading packs", false);
		free(ru.out);
	}
	hold_drop(&u->copy); /* nothing to copy (or a failure before it) */
	for (size_t i = 0; i < nbg; i++)
		r = bg_wait(&bg[i], r);
	/* The key and format into place (side by side), then the manifest:
	 * the commit. */
	for (size_t i = 0; r == 0 && i + 1 < nbg; i++) {
		bg[i].move = true;
		bg_start(&bg[i]);
	}
	for (size_t i = 0; i + 1 < nbg && bg[i].move; i++)
		r = bg_wait(&bg[i], r);
	if (r == 0 && move.pid && !hold_waiting(&move))
		r = store_fail(-EIO, "remote %s: rclone moveto ended before it was let go (it did "
				     "not wait for its --exclude-from list)",
			       rio->target);
	if (r == 0 && move.pid) {
		struct run ru = {.in_fd = -1, .out_fd = -1, .out_max = 1 << 16};
		r = hold_release(&move, &ru, NULL, 0);
		if (r == 0)
			r = check_status(rio, &ru, commit_name, false);
		free(ru.out);
	} else if (r == 0 && nbg) {
		r = move_into_place(rio, tmp, commit_name);
	}
	hold_drop(&move);
	for (size_t i = 0; locals && i < nbg; i++)
		free(locals[i]);
	free(locals);
	free(bg);
	free(packs);
	free(list);
	free(mtmp);
	free(mdst);
	return r;
}

int rio_rclone_remove_many(struct rio *rio, char *const *names, size_t n)
{
	char list[4096];
	char *base = rpath(rio, "");
	int r = base ? files_list(rio, names, n, NULL, list) : store_fail(-ENOMEM, "out of memory");
	if (r == 0) {
		/* delete with --files-from removes just the files listed; one
		 * that is already gone is no error (a removal a killed push
		 * made), and no folder at all is rclone's "directory not
		 * found" (nothing to remove). */
		const char *del[] = {"delete", "--files-from", list, "--no-traverse", base, NULL};
		r = run_simple(rio, "deleting packs", del, true);
		if (r == -ENOENT)
			r = 0;
		unlink(list);
	}
	free(base);
	return r;
}

int rio_download_many(struct rio *rio, const char *local_root, char *const *names, size_t n)
{
	char list[4096];
	char *base = rpath(rio, "");
	int r = base ? files_list(rio, names, n, NULL, list) : store_fail(-ENOMEM, "out of memory");
	if (r == 0) {
		/* --ignore-checksum: rclone's own hash of what arrived (MD5 on
		 * most backends: 3.8 s of CPU per GiB here, half of the copy's)
		 * is left out, because every caller compares each file with the
		 * manifest's XXH3-128 right after, end to end.  Sizes are still
		 * checked by rclone. */
		const char *copy[] = {"copy", "--ignore-checksum", "--files-from", list,
				      "--no-traverse", base, local_root, NULL};
		r = run_simple(rio, "downloading packs", copy, false);
		unlink(list);
	}
	free(base);
	return r;
}
