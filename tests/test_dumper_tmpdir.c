/* test_dumper_tmpdir.c — the database temp dirs (dumpers/tmpdir.h): made
 * 0700 with the pid in the name and a held lock; removed by
 * dumper_tmp_remove and by SIGTERM (the process then dies of it); a signal
 * that was ignored stays ignored; the sweep removes only the dirs of dead
 * processes that are ours and named as ours, and counts their bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dumpers/tmpdir.h"
#include "tests/tmpdir.h"

static char base[] = "/tmp/ckptfs-test-tmpdir.XXXXXX";

static int setup(void **state)
{
	(void)state;
	strcpy(base, "/tmp/ckptfs-test-tmpdir.XXXXXX");
	if (!mkdtemp(base))
		return -1;
	return setenv("TMPDIR", base, 1);
}

static int teardown(void **state)
{
	(void)state;
	tmpdir_remove(base);
	return 0;
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

/* A dir as a snap of pid would leave it, with a 4 KiB file; its path in out. */
static void plant(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", base, name);
	assert_int_equal(mkdir(out, 0700), 0);
	char f[600];
	snprintf(f, sizeof f, "%s/lock", out);
	int fd = open(f, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(f, sizeof f, "%s/copy-1.db", out);
	fd = open(f, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	char buf[4096];
	memset(buf, 'x', sizeof buf);
	assert_int_equal(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
	close(fd);
}

/* A pid that runs no process. */
static long dead_pid(void)
{
	long pid = 4000000;
	while (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		pid--;
	return pid;
}

static void make_and_remove(void **state)
{
	(void)state;
	char *d = NULL;
	assert_int_equal(dumper_tmp_make(&d), 0);
	char want[64];
	snprintf(want, sizeof want, "/ckptfs-db-%ld-", (long)getpid());
	assert_non_null(strstr(d, want));
	assert_int_equal(strncmp(d, base, strlen(base)), 0);
	struct stat st;
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* The lock is held: another open file cannot take it. */
	char lock[600];
	snprintf(lock, sizeof lock, "%s/lock", d);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	int fd = open(lock, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	close(fd);
	/* Our own dir survives a sweep. */
	struct dumper_tmp_swept sw = {0};
	assert_int_equal(dumper_tmp_sweep(&sw), 0);
	assert_int_equal(sw.dirs, 0);
	assert_int_equal(sw.kept, 0);
	assert_true(exists(d));
	dumper_tmp_remove(d);
	assert_false(exists(d));
	free(d);
}

static void sigterm_removes(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *d;
		if (dumper_tmp_make(&d) < 0)
			_exit(2);
		/* A file in it, as a capture would have. */
		char f[600];
		snprintf(f, sizeof f, "%s/copy-1.db", d);
		int fd = open(f, O_WRONLY | O_CREAT, 0600);
		close(fd);
		if (write(p[1], d, strlen(d) + 1) < 0)
			_exit(3);
		pause();
		_exit(4);
	}
	close(p[1]);
	char d[600] = "";
	assert_true(read(p[0], d, sizeof d) > 0);
	close(p[0]);
	assert_true(exists(d));
	kill(pid, SIGTERM);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	assert_false(exists(d));
}

static void ignored_signal_stays_ignored(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGHUP, SIG_IGN);
		char *d;
		if (dumper_tmp_make(&d) < 0)
			_exit(2);
		raise(SIGHUP);
		/* Still here: the dir is left, as after a kill -9. */
		if (write(p[1], d, strlen(d) + 1) < 0)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	char d[600] = "";
	assert_true(read(p[0], d, sizeof d) > 0);
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(exists(d));
	/* The process is gone and the kernel dropped its lock: swept. */
	struct dumper_tmp_swept sw = {0};
	assert_int_equal(dumper_tmp_sweep(&sw), 0);
	assert_int_equal(sw.dirs, 1);
	assert_false(exists(d));
}

static void sweep_only_dead_and_ours(void **state)
{
	(void)state;
	long dead = dead_pid();
	char name[128], gone[600], running[600], held[600], p[700];
	snprintf(name, sizeof name, "ckptfs-db-%ld-Abc123", dead);
	plant(name, gone, sizeof gone);
	snprintf(name, sizeof name, "ckptfs-db-%ld-Abc123", (long)getppid());
	plant(name, running, sizeof running);
	snprintf(name, sizeof name, "ckptfs-db-%ld-Zzz999", dead);
	plant(name, held, sizeof held);
	snprintf(p, sizeof p, "%s/lock", held);
	int lfd = open(p, O_RDONLY);
	assert_true(lfd >= 0);
	assert_int_equal(flock(lfd, LOCK_EX), 0);
	/* Not our pattern: an old-style name, a zero pid, a short suffix, a
	 * symlink and a file named like ours. */
	static const char *const others[] = {"ckptfs-db-Abc123", "ckptfs-db-0-Abc123",
					      "ckptfs-db-12x-Abc123", NULL};
	char other[3][600];
	for (size_t i = 0; others[i]; i++)
		plant(others[i], other[i], sizeof other[i]);
	char dn[128];
	snprintf(dn, sizeof dn, "ckptfs-db-%ld-Abc12", dead);
	char shortsfx[600];
	plant(dn, shortsfx, sizeof shortsfx);
	snprintf(p, sizeof p, "%s/ckptfs-db-%ld-Lnk123", base, dead);
	assert_int_equal(symlink(gone, p), 0);
	char file[600];
	snprintf(file, sizeof file, "%s/ckptfs-db-%ld-Fil123", base, dead);
	int fd = open(file, O_WRONLY | O_CREAT, 0600);
	close(fd);

	struct dumper_tmp_swept sw = {0};
	assert_int_equal(dumper_tmp_sweep(&sw), 0);
	assert_int_equal(sw.dirs, 1);
	assert_true(sw.bytes >= 4096);
	assert_int_equal(sw.kept, 2);
	assert_false(exists(gone));
	assert_true(exists(running));
	assert_true(exists(held));
	for (size_t i = 0; others[i]; i++)
		assert_true(exists(other[i]));
	assert_true(exists(shortsfx));
	assert_true(exists(p));
	assert_true(exists(file));
	/* The lock released (as by the death of a process in another pid
	 * namespace): the next sweep removes it. */
	close(lfd);
	memset(&sw, 0, sizeof sw);
	assert_int_equal(dumper_tmp_sweep(&sw), 0);
	assert_int_equal(sw.dirs, 1);
	assert_false(exists(held));
	assert_true(exists(running));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(make_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(sigterm_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(ignored_signal_stays_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(sweep_only_dead_and_ours, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
