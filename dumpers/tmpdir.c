/* tmpdir.c — private temp dirs of database work, removed on exit, on
 * signals and, for those of dead processes, by the next sweep (see
 * tmpdir.h). */
#include "dumpers/tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store/err.h"

#define TMP_PREFIX "ckptfs-db-"
#define TMP_LOCK "lock"
#define TMP_SLOTS 8 /* dirs alive at once in one process (one per session) */

/* The dirs the signal handler removes.  Process-wide by nature: a signal
 * is delivered to the process.  A slot is filled before it is marked used
 * and marked unused before it is emptied, so the handler sees whole ones. */
static struct {
	volatile sig_atomic_t used;
	int fd;     /* the dir, O_RDONLY */
	int lockfd; /* its "lock", flocked */
	char path[PATH_MAX];
} slots[TMP_SLOTS];

/* Children to stop from the handler (private drill servers, privsrv.h):
 * a pid is set after its signal, and cleared first. */
#define TMP_CHILDREN 4
static volatile sig_atomic_t child_pid[TMP_CHILDREN], child_sig[TMP_CHILDREN];

static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
static bool installed[sizeof sigs / sizeof *sigs];
static bool handlers_set;

const char *dumper_tmp_base(void)
{
	const char *tmp = getenv("TMPDIR");
	return tmp && tmp[0] == '/' ? tmp : "/tmp";
}

/* The entries of getdents64, which (unlike readdir) is async-signal-safe. */
struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Remove the entries of the flat directory fd (files only, as these dirs
 * hold), adding their sizes to *bytes if not NULL.  Async-signal-safe. */
static void wipe(int fd, uint64_t *bytes)
{
	_Alignas(8) char buf[4096];
	for (int pass = 0; pass < 8; pass++) {
		bool removed = false;
		if (lseek(fd, 0, SEEK_SET) < 0)
			return;
		long n;
		while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
			for (long off = 0; off < n;) {
				struct dent64 *d = (struct dent64 *)(buf + off);
				off += d->reclen;
				if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
					continue;
				struct stat st;
				if (bytes && fstatat(fd, d->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
					*bytes += (uint64_t)st.st_blocks * 512;
				if (unlinkat(fd, d->name, 0) == 0)
					removed = true;
			}
		}
		if (!removed)
			return;
	}
}

static void on_signal(int sig)
{
	int saved = errno;
	for (size_t i = 0; i < TMP_CHILDREN; i++)
		if (child_pid[i] > 0)
			kill((pid_t)child_pid[i], child_sig[i]);
	for (size_t i = 0; i < TMP_SLOTS; i++) {
		if (!slots[i].used)
			continue;
		wipe(slots[i].fd, NULL);
		rmdir(slots[i].path);
	}
	errno = saved;
	/* SA_RESETHAND made the action the default again; the signal is
	 * blocked in here and ends the process once this returns. */
	raise(sig);
}

/* Install the handler for each signal whose action is still the default. */
static void set_handlers(void)
{
	if (handlers_set)
		return;
	handlers_set = true;
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) < 0 || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			continue;
		struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
		sigemptyset(&sa.sa_mask);
		for (size_t k = 0; k < sizeof sigs / sizeof *sigs; k++)
			sigaddset(&sa.sa_mask, sigs[k]);
		installed[i] = sigaction(sigs[i], &sa, NULL) == 0;
	}
}

/* Back to the default action once no dir is left. */
static void unset_handlers(void)
{
	for (size_t i = 0; i < TMP_SLOTS; i++)
		if (slots[i].used)
			return;
	for (size_t i = 0; i < TMP_CHILDREN; i++)
		if (child_pid[i] > 0)
			return;
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction cur;
		if (installed[i] && sigaction(sigs[i], NULL, &cur) == 0 && cur.sa_handler == on_signal)
			signal(sigs[i], SIG_DFL);
		installed[i] = false;
	}
	handlers_set = false;
}

int dumper_tmp_make(char **ret_path)
{
	size_t slot = 0;
	while (slot < TMP_SLOTS && slots[slot].used)
		slot++;
	if (slot == TMP_SLOTS)
		return store_fail(-EMFILE, "database temp dirs: too many at once");
	char *d;
	if (asprintf(&d, "%s/" TMP_PREFIX "%ld-XXXXXX", dumper_tmp_base(), (long)getpid()) < 0)
		return -ENOMEM;
	if (!mkdtemp(d)) { /* 0700 */
		int r = store_failp(-errno, "%s", d);
		free(d);
		return r;
	}
	errno = 0;
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int lfd = fd < 0 ? -1 : openat(fd, TMP_LOCK, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0 ||
	    snprintf(slots[slot].path, PATH_MAX, "%s", d) >= PATH_MAX) {
		int r = store_failp(errno ? -errno : -ENAMETOOLONG, "%s", d);
		if (lfd >= 0)
			close(lfd);
		if (fd >= 0) {
			wipe(fd, NULL);
			close(fd);
		}
		rmdir(d);
		free(d);
		return r;
	}
	slots[slot].fd = fd;
	slots[slot].lockfd = lfd;
	slots[slot].used = 1;
	set_handlers();
	*ret_path = d;
	return 0;
}

void dumper_tmp_remove(const char *path)
{
	for (size_t i = 0; i < TMP_SLOTS; i++) {
		if (!slots[i].used || strcmp(slots[i].path, path) != 0)
			continue;
		slots[i].used = 0;
		wipe(slots[i].fd, NULL);
		rmdir(path);
		close(slots[i].fd);
		close(slots[i].lockfd); /* after the rmdir: a sweep sees it held */
		slots[i].path[0] = '\0';
		unset_handlers();
		return;
	}
}

/* The pid in "ckptfs-db-<pid>-XXXXXX", or 0 if name is not one. */
static long name_pid(const char *name)
{
	if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
		return 0;
	const char *p = name + strlen(TMP_PREFIX);
	char *end;
	errno = 0;
	long pid = strtol(p, &end, 10);
	if (errno || end == p || *p < '1' || *p > '9' || pid <= 0 || *end != '-' || strlen(end + 1) != 6)
		return 0;
	for (const char *q = end + 1; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
			return 0;
	return pid;
}

/* Whether the leftover dir fd (of pid) may go: its process is gone. */
static bool owner_dead(int fd, long pid)
{
	if (pid == (long)getpid())
		return false;
	if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return false; /* running (or not ours to signal: someone runs as that pid) */
	int lfd = openat(fd, TMP_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (lfd < 0)
		return errno == ENOENT; /* killed between mkdtemp and taking the lock */
	bool free_lock = flock(lfd, LOCK_EX | LOCK_NB) == 0;
	close(lfd);
	return free_lock;
}

int dumper_tmp_sweep(struct dumper_tmp_swept *ret)
{
	const char *base = dumper_tmp_base();
	DIR *dir = opendir(base);
	if (!dir)
		return store_failp(-errno, "%s", base);
	uid_t me = geteuid();
	struct dirent *e;
	while ((e = readdir(dir))) {
		long pid = name_pid(e->d_name);
		if (!pid)
			continue;
		int fd = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) < 0 || st.st_uid != me) {
			close(fd);
			continue;
		}
		if (!owner_dead(fd, pid)) {
			if (pid != (long)getpid())
				ret->kept++;
			close(fd);
			continue;
		}
		wipe(fd, &ret->bytes);
		close(fd);
		if (unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR) == 0)
			ret->dirs++;
	}
	closedir(dir);
	return 0;
}

int dumper_tmp_watch_child(pid_t pid, int sig)
{
	for (size_t i = 0; i < TMP_CHILDREN; i++)
		if (child_pid[i] <= 0) {
			child_sig[i] = sig;
			child_pid[i] = pid;
			set_handlers();
			return 0;
		}
	return -EMFILE;
}

void dumper_tmp_unwatch_child(pid_t pid)
{
	for (size_t i = 0; i < TMP_CHILDREN; i++)
		if (child_pid[i] == pid)
			child_pid[i] = 0;
	unset_handlers();
}
