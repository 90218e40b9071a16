/* test_repo.c — creating and opening repositories: layout, permissions,
 * format versions, crash-safe creation, the writer lock, tmp/ clean-up,
 * the default path, and reading blobs back from packs. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/repo_internal.h"
#include "tests/tmpdir.h"

struct fixture {
	char dir[64];
	char path[128]; /* <dir>/a/b/repo: parents do not exist yet */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	*state = f;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_repo.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/a/b/repo", f->dir);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static char *in_repo(struct fixture *f, const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "%s/%s", f->path, name);
	return buf;
}

static mode_t mode_of(const char *p)
{
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode;
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static void write_file(const char *p, const char *text)
{
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void create_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	/* Even a permissive umask gives an owner-only repository. */
	mode_t old = umask(0);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	umask(old);
	assert_string_equal(repo_path(r), f->path);
	repo_close(r);

	assert_int_equal(mode_of(f->path) & 07777, 0700);
	assert_int_equal(mode_of(in_repo(f, "key")) & 07777, 0600);
	assert_int_equal(mode_of(in_repo(f, "packs")) & 07777, 0700);
	assert_int_equal(mode_of(in_repo(f, "tmp")) & 07777, 0700);
	assert_true(S_ISREG(mode_of(in_repo(f, "catalog.db"))));
	assert_false(exists(in_repo(f, "format.tmp")));
	char buf[64] = "";
	FILE *fp = fopen(in_repo(f, "format"), "r");
	assert_non_null(fp);
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_string_equal(buf, "ckptfs repository\nformat 1\n");

	/* Read (no writer has the catalog open: no -wal/-shm), then write. */
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), 0);
	struct project p;
	assert_int_equal(catalog_project_by_name(r, "x", &p), -ENOENT);
	repo_close(r);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	assert_int_equal(catalog_project_register(r, "x", "/x", &p), 0);
	project_clear(&p);
	repo_close(r);
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), 0);
	assert_int_equal(catalog_project_by_name(r, "x", &p), 0);
	project_clear(&p);
	repo_close(r);
}

static void relative_path_becomes_absolute(void **state)
{
	struct fixture *f = *state;
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(f->dir), 0);
	struct repo *r;
	int rc = repo_open("rel/repo/", REPO_WRITE, 0, &r);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rc, 0);
	char want[256];
	snprintf(want, sizeof want, "%s/rel/repo", f->dir);
	assert_string_equal(repo_path(r), want);
	repo_close(r);
}

static void read_of_missing_repository(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	store_error_clear();
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), -ENOENT);
	assert_non_null(strstr(store_error(), f->path));
	assert_false(exists(f->path)); /* a reader creates nothing */
}

static void key_permissions_checked(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);
	assert_int_equal(chmod(in_repo(f, "key"), 0644), 0);
	store_error_clear();
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), -EPERM);
	assert_non_null(strstr(store_error(), "key"));
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), -EPERM);
	assert_int_equal(chmod(in_repo(f, "key"), 0600), 0);
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), 0);
	repo_close(r);
}

static void format_versions(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);
	write_file(in_repo(f, "format"), "ckptfs repository\nformat 2\n");
	char want[256];
	snprintf(want, sizeof want,
		 "repository %s: format 2 is newer than this ckptfs understands (1)", f->path);
	for (int m = 0; m < 2; m++) {
		store_error_clear();
		assert_int_equal(repo_open(f->path, m ? REPO_WRITE : REPO_READ, 0, &r),
				 -STORE_ENEWER);
		assert_string_equal(store_error(), want);
	}
	const char *garbage[] = {"", "hello\n", "ckptfs repository\nformat x\n",
				 "ckptfs repository\nformat 0\n", "ckptfs repository\nformat 1",
				 "ckptfs repository\nformat 1\nmore\n"};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		write_file(in_repo(f, "format"), garbage[i]);
		assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), -STORE_ECORRUPT);
		assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), -STORE_ECORRUPT);
	}
	write_file(in_repo(f, "format"), "ckptfs repository\nformat 1\n");
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);
}

static void half_created_is_completed(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	/* What a creator killed before writing the format file leaves. */
	char parent[160];
	snprintf(parent, sizeof parent, "%s/a", f->dir);
	assert_int_equal(mkdir(parent, 0700), 0);
	snprintf(parent, sizeof parent, "%s/a/b", f->dir);
	assert_int_equal(mkdir(parent, 0700), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	int dfd = open(f->path, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	struct keys k;
	assert_int_equal(keyfile_create(dfd, "key", &k), 0);
	close(dfd);
	write_file(in_repo(f, "format.tmp"), "ckptfs rep");
	write_file(in_repo(f, "catalog.db"), "half a database");

	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), -ENOENT);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	struct project p;
	assert_int_equal(catalog_project_register(r, "x", "/x", &p), 0);
	project_clear(&p);
	repo_close(r);
	assert_true(exists(in_repo(f, "format")));
	assert_false(exists(in_repo(f, "format.tmp")));
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), 0);
	assert_int_equal(catalog_project_by_name(r, "x", &p), 0);
	project_clear(&p);
	repo_close(r);
}

static void foreign_directory_is_not_touched(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	char p[160];
	snprintf(p, sizeof p, "%s/home", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/home/notes.txt", f->dir);
	write_file(p, "mine");
	snprintf(p, sizeof p, "%s/home", f->dir);
	store_error_clear();
	assert_int_equal(repo_open(p, REPO_WRITE, 0, &r), -ENOTEMPTY);
	assert_non_null(strstr(store_error(), "notes.txt"));
	snprintf(p, sizeof p, "%s/home/lock", f->dir);
	assert_false(exists(p));
	snprintf(p, sizeof p, "%s/home/key", f->dir);
	assert_false(exists(p));
}

static void lost_format_with_packs_is_refused(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);
	assert_int_equal(mkdir(in_repo(f, "packs/ab"), 0700), 0);
	assert_int_equal(unlink(in_repo(f, "format")), 0);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), -STORE_ECORRUPT);
	assert_true(exists(in_repo(f, "key"))); /* nothing was thrown away */
	assert_true(exists(in_repo(f, "catalog.db")));
}

static void missing_catalog_is_refused(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);
	assert_int_equal(unlink(in_repo(f, "catalog.db")), 0);
	store_error_clear();
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "repair"));
	assert_false(exists(in_repo(f, "catalog.db")));
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), -STORE_ECORRUPT);
}

static void repair_mode(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	struct project p;
	/* Only for existing repositories. */
	assert_int_equal(repo_open(f->path, REPO_REPAIR, 0, &r), -ENOENT);
	assert_false(exists(f->path));

	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	assert_int_equal(catalog_project_register(r, "x", "/x", &p), 0);
	project_clear(&p);
	repo_close(r);
	/* A healthy repository is opened as it is. */
	assert_int_equal(repo_open(f->path, REPO_REPAIR, 0, &r), 0);
	assert_int_equal(r->mode, REPO_WRITE);
	assert_false(r->catalog_fresh);
	assert_int_equal(catalog_project_by_name(r, "x", &p), 0);
	project_clear(&p);
	repo_close(r);

	/* Deleted catalog (with a stale WAL beside it): a fresh one. */
	assert_int_equal(unlink(in_repo(f, "catalog.db")), 0);
	write_file(in_repo(f, "catalog.db-wal"), "stale wal");
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), -STORE_ECORRUPT);
	assert_int_equal(repo_open(f->path, REPO_REPAIR, 0, &r), 0);
	assert_true(r->catalog_fresh);
	assert_int_equal(catalog_project_by_name(r, "x", &p), -ENOENT);
	assert_int_equal(catalog_project_register(r, "y", "/y", &p), 0);
	project_clear(&p);
	repo_close(r);
	assert_true(exists(in_repo(f, "catalog.db.damaged-wal")));
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	assert_int_equal(catalog_project_by_name(r, "y", &p), 0);
	project_clear(&p);
	repo_close(r);

	/* A catalog that is not a database is moved aside, not overwritten. */
	write_file(in_repo(f, "catalog.db"), "this is not an SQLite database, just junk text......"
					     "................................................");
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), -STORE_ECORRUPT);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), -STORE_ECORRUPT);
	assert_int_equal(repo_open(f->path, REPO_REPAIR, 0, &r), 0);
	assert_true(r->catalog_fresh);
	repo_close(r);
	assert_true(exists(in_repo(f, "catalog.db.damaged.2"))); /* .damaged-wal is taken */
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), 0);
	repo_close(r);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void writer_lock(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);

	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct repo *cr;
		char c = repo_open(f->path, REPO_WRITE, 0, &cr) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		repo_close(cr);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');

	int64_t t0 = now_ms();
	store_error_clear();
	int rc = repo_open(f->path, REPO_WRITE, 200, &r);
	int64_t waited = now_ms() - t0;
	char want[64];
	snprintf(want, sizeof want, "locked by another ckptfs (pid %ld)", (long)child);
	bool named = store_error() && strstr(store_error(), want);
	/* Readers are not blocked by the writer. */
	struct repo *rd = NULL;
	int rrc = repo_open(f->path, REPO_READ, 0, &rd);
	repo_close(rd);

	assert_int_equal(write(go[1], "x", 1), 1);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	close(ready[0]);
	close(go[1]);
	assert_int_equal(rc, -EWOULDBLOCK);
	assert_true(named);
	/* It waited its 200 ms, and then gave up (the upper bound is loose:
	 * a loaded machine is slow, but a wait that never ends is a bug). */
	assert_true(waited >= 190 && waited < 20000);
	assert_int_equal(rrc, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_int_equal(repo_open(f->path, REPO_WRITE, 200, &r), 0);
	/* And a second writer in this process is refused too (flock is per
	 * open file description). */
	struct repo *r2;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r2), -EWOULDBLOCK);
	repo_close(r);
}

static void tmp_leftovers_removed_by_writer(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);
	write_file(in_repo(f, "tmp/3fa2.pack.tmp"), "half a pack");
	write_file(in_repo(f, "tmp/other"), "x");
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), 0);
	repo_close(r);
	assert_true(exists(in_repo(f, "tmp/3fa2.pack.tmp"))); /* readers never clean */
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);
	assert_false(exists(in_repo(f, "tmp/3fa2.pack.tmp")));
	assert_false(exists(in_repo(f, "tmp/other")));
	assert_true(exists(in_repo(f, "tmp")));
}

static void restore_env(const char *name, char *saved)
{
	if (saved) {
		setenv(name, saved, 1);
		free(saved);
	} else {
		unsetenv(name);
	}
}

static char *save_env(const char *name)
{
	const char *v = getenv(name);
	return v ? strdup(v) : NULL;
}

static void default_path(void **state)
{
	(void)state;
	char *s_repo = save_env("CKPTFS_REPO"), *s_xdg = save_env("XDG_DATA_HOME"),
	     *s_home = save_env("HOME");
	char *p = NULL;
	int r1, r2, r3, r4, r5;
	char got[4][128] = {""};

	setenv("CKPTFS_REPO", "/r/repo", 1);
	setenv("XDG_DATA_HOME", "/x", 1);
	setenv("HOME", "/h", 1);
	if ((r1 = repo_default_path(&p)) == 0)
		snprintf(got[0], sizeof got[0], "%s", p), free(p);
	unsetenv("CKPTFS_REPO");
	if ((r2 = repo_default_path(&p)) == 0)
		snprintf(got[1], sizeof got[1], "%s", p), free(p);
	setenv("XDG_DATA_HOME", "relative", 1); /* invalid per XDG: ignored */
	if ((r3 = repo_default_path(&p)) == 0)
		snprintf(got[2], sizeof got[2], "%s", p), free(p);
	unsetenv("XDG_DATA_HOME");
	if ((r4 = repo_default_path(&p)) == 0)
		snprintf(got[3], sizeof got[3], "%s", p), free(p);
	unsetenv("HOME");
	store_error_clear();
	r5 = repo_default_path(&p);
	bool msg = store_error() != NULL;

	restore_env("CKPTFS_REPO", s_repo);
	restore_env("XDG_DATA_HOME", s_xdg);
	restore_env("HOME", s_home);
	assert_int_equal(r1, 0);
	assert_string_equal(got[0], "/r/repo");
	assert_int_equal(r2, 0);
	assert_string_equal(got[1], "/x/ckptfs");
	assert_int_equal(r3, 0);
	assert_string_equal(got[2], "/h/.local/share/ckptfs");
	assert_int_equal(r4, 0);
	assert_string_equal(got[3], "/h/.local/share/ckptfs");
	assert_int_equal(r5, -ENOENT);
	assert_true(msg);
}

/* Seal plain into a new pack by hand and index it; returns the entry. */
static void store_in_pack(struct repo *r, const void *plain, size_t len, blob_id *ret_id,
			  char pack[PACK_NAME_LEN + 1], struct pack_entry *ret_e)
{
	struct blob_codec *c = repo_codec(r);
	assert_non_null(c);
	repo_blob_id(r, plain, len, ret_id);
	uint8_t *sealed = malloc(blob_sealed_bound(len));
	size_t slen;
	assert_int_equal(blob_seal(c, ret_id, BLOB_DATA, plain, len, sealed, &slen), 0);
	struct pack_writer *pw;
	assert_int_equal(pack_writer_open(r->dirfd, c, &pw), 0);
	assert_int_equal(pack_writer_add(pw, ret_id, BLOB_DATA, sealed, slen, (uint32_t)len, ret_e),
			 0);
	free(sealed);
	const struct pack_entry *entries;
	size_t n;
	uint64_t size;
	assert_int_equal(pack_writer_finish(pw, pack, &entries, &n, &size), 0);
	assert_int_equal(n, 1);
	assert_int_equal(catalog_pack_add(r, pack, size, entries, n), 0);
	pack_writer_free(pw);
}

static void load_blob_and_detect_corruption(void **state)
{
	struct fixture *f = *state;
	struct repo *w, *rd;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &w), 0);
	size_t len = 100000;
	uint8_t *plain = malloc(len);
	for (size_t i = 0; i < len; i++)
		plain[i] = (uint8_t)(i * 7 / 13);
	blob_id id;
	char pack[PACK_NAME_LEN + 1];
	struct pack_entry e;
	store_in_pack(w, plain, len, &id, pack, &e);

	uint8_t *got;
	size_t got_len;
	assert_int_equal(repo_load_blob(w, &id, BLOB_DATA, &got, &got_len), 0);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, plain, len);
	free(got);

	/* A reader (another connection, the mount's view) reads it too. */
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &rd), 0);
	assert_int_equal(repo_load_blob(rd, &id, BLOB_DATA, &got, &got_len), 0);
	assert_memory_equal(got, plain, len);
	free(got);

	blob_id unknown = id;
	unknown.b[0] ^= 1;
	assert_int_equal(repo_load_blob(rd, &unknown, BLOB_DATA, &got, &got_len), -ENOENT);

	/* Flip one stored byte in the middle of the blob. */
	char rel[64], abs[256];
	pack_path(pack, rel, sizeof rel);
	snprintf(abs, sizeof abs, "%s/%s", f->path, rel);
	int fd = open(abs, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	off_t at = (off_t)(e.offset + e.length / 2);
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x20;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);

	char hex[ID_HEX_LEN + 1], want[128];
	id_to_hex(&id, hex);
	snprintf(want, sizeof want, "blob %.16s in pack %s at %llu: ", hex, pack,
		 (unsigned long long)e.offset);
	store_error_clear();
	got = NULL;
	assert_int_equal(repo_load_blob(rd, &id, BLOB_DATA, &got, &got_len), -STORE_ECORRUPT);
	assert_null(got);
	assert_non_null(store_error());
	assert_memory_equal(store_error(), want, strlen(want));

	/* A raw length in the index that disagrees is corruption too. */
	b ^= 0x20;
	fd = open(abs, O_RDWR);
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
	assert_int_equal(repo_load_blob(rd, &id, BLOB_DATA, &got, &got_len), 0);
	free(got);
	assert_int_equal(sqlite3_exec(w->db, "UPDATE blobs SET raw_length = raw_length + 1", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(repo_load_blob(rd, &id, BLOB_DATA, &got, &got_len), -STORE_ECORRUPT);

	repo_set_cache_bytes(rd, 1 << 20);
	repo_close(rd);
	repo_close(w);
	free(plain);
}

#define NTHREADS 4
#define NBLOBS 3

struct reader_arg {
	struct repo *repo;
	blob_id ids[NBLOBS];
	uint8_t *plain[NBLOBS];
	size_t len[NBLOBS];
	int errors;
};

static void *reader_thread(void *p)
{
	struct reader_arg *a = p;
	for (int round = 0; round < 40; round++)
		for (int i = 0; i < NBLOBS; i++) {
			uint8_t *got;
			size_t len;
			uint64_t gen;
			if (repo_load_blob(a->repo, &a->ids[i], BLOB_DATA, &got, &len) < 0) {
				__atomic_add_fetch(&a->errors, 1, __ATOMIC_RELAXED);
				continue;
			}
			if (len != a->len[i] || memcmp(got, a->plain[i], len) != 0)
				__atomic_add_fetch(&a->errors, 1, __ATOMIC_RELAXED);
			free(got);
			if (catalog_generation(a->repo, &gen) < 0)
				__atomic_add_fetch(&a->errors, 1, __ATOMIC_RELAXED);
		}
	return NULL;
}

/* A REPO_READ repo is used by many threads at once (the mount does):
 * each gets its own codec (freed at thread exit), the catalog is shared. */
static void concurrent_readers(void **state)
{
	struct fixture *f = *state;
	struct repo *w, *rd;
	struct reader_arg a = {0};
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &w), 0);
	for (int i = 0; i < NBLOBS; i++) {
		a.len[i] = 5000 + (size_t)i * 30000;
		a.plain[i] = malloc(a.len[i]);
		for (size_t j = 0; j < a.len[i]; j++)
			a.plain[i][j] = (uint8_t)(j * (size_t)(i + 3) >> 4);
		char pack[PACK_NAME_LEN + 1];
		struct pack_entry e;
		store_in_pack(w, a.plain[i], a.len[i], &a.ids[i], pack, &e);
	}
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &rd), 0);
	a.repo = rd;
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader_thread, &a), 0);
	/* The writer keeps committing meanwhile. */
	for (int i = 0; i < 10; i++) {
		struct project p;
		char name[16], root[20];
		snprintf(name, sizeof name, "p%d", i);
		snprintf(root, sizeof root, "/%s", name);
		assert_int_equal(catalog_project_register(w, name, root, &p), 0);
		project_clear(&p);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(a.errors, 0);
	repo_close(rd);
	repo_close(w);
	for (int i = 0; i < NBLOBS; i++)
		free(a.plain[i]);
}

/* nftw callback: every file 0600, every directory 0700. */
static int loose_count;
static int owner_only_cb(const char *p, const struct stat *st, int flag, struct FTW *fw)
{
	(void)fw;
	mode_t want = flag == FTW_D ? 0700 : 0600;
	if ((st->st_mode & 07777) != want) {
		print_error("%s: mode %04o, want %04o\n", p, (unsigned)(st->st_mode & 07777),
			    (unsigned)want);
		loose_count++;
	}
	return 0;
}

static int count_loose(const char *root)
{
	loose_count = 0;
	assert_int_equal(nftw(root, owner_only_cb, 16, FTW_PHYS), 0);
	return loose_count;
}

/* Under umask 0, with the writer still open (so catalog.db-wal and -shm
 * exist) and a pack written: nothing in the repository is readable by
 * anyone but the owner.  A catalog left 0644 by an older ckptfs (with its
 * -wal) is tightened by the next writer. */
static void every_file_owner_only(void **state)
{
	struct fixture *f = *state;
	struct repo *w, *rd;
	mode_t old = umask(0);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &w), 0);
	struct project p;
	assert_int_equal(catalog_project_register(w, "x", "/x", &p), 0);
	project_clear(&p);
	blob_id id;
	char pack[PACK_NAME_LEN + 1];
	struct pack_entry e;
	store_in_pack(w, "some bytes", 10, &id, pack, &e);
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &rd), 0);
	assert_int_equal(catalog_project_by_name(rd, "x", &p), 0);
	project_clear(&p);
	assert_true(exists(in_repo(f, "catalog.db-wal")));
	assert_true(exists(in_repo(f, "catalog.db-shm")));
	assert_true(exists(in_repo(f, "lock")));
	assert_int_equal(count_loose(f->path), 0);
	repo_close(rd);
	repo_close(w);
	umask(old);
	assert_int_equal(count_loose(f->path), 0);

	/* An older ckptfs's 0644 catalog: tightened by the next writer. */
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &w), 0);
	assert_int_equal(chmod(in_repo(f, "catalog.db"), 0644), 0);
	assert_int_equal(chmod(in_repo(f, "catalog.db-wal"), 0644), 0);
	repo_close(w);
	if (exists(in_repo(f, "catalog.db-wal")))
		assert_int_equal(chmod(in_repo(f, "catalog.db-wal"), 0644), 0);
	assert_int_equal(chmod(in_repo(f, "catalog.db"), 0644), 0);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &w), 0);
	assert_int_equal(mode_of(in_repo(f, "catalog.db")) & 07777, 0600);
	assert_int_equal(count_loose(f->path), 0);
	repo_close(w);
}

/* A repository directory (or its packs/ or tmp/) that group or others can
 * write to is refused by readers and writers alike, with one line naming
 * the directory and the chmod that fixes it, and nothing is written. */
static void writable_directory_refused(void **state)
{
	struct fixture *f = *state;
	struct repo *r;
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);
	static const char *const dirs[] = {"", "packs", "tmp"};
	static const mode_t modes[] = {0720, 0702, 0777, 01777, 0770, 0722};
	for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++)
		for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
			char dir[256], fix[300];
			snprintf(dir, sizeof dir, "%s%s%s", f->path, *dirs[d] ? "/" : "", dirs[d]);
			snprintf(fix, sizeof fix, "fix it with: chmod go-w %s", dir);
			assert_int_equal(chmod(dir, modes[m]), 0);
			for (int mode = REPO_READ; mode <= REPO_REPAIR; mode++) {
				store_error_clear();
				assert_int_equal(repo_open(f->path, (enum repo_mode)mode, 0, &r), -EPERM);
				const char *msg = store_error();
				assert_non_null(strstr(msg, "group or others can write to it"));
				assert_non_null(strstr(msg, fix));
				assert_null(strchr(msg, '\n'));
			}
			assert_int_equal(chmod(dir, 0700), 0);
		}
	/* Read-only for others is fine (the files in it are 0600 anyway). */
	assert_int_equal(chmod(f->path, 0755), 0);
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), 0);
	repo_close(r);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), 0);
	repo_close(r);

	/* An empty world-writable directory is not made into a repository:
	 * not even the lock file is written into it. */
	char fresh[160];
	snprintf(fresh, sizeof fresh, "%s/fresh", f->dir);
	assert_int_equal(mkdir(fresh, 0700), 0);
	assert_int_equal(chmod(fresh, 0777), 0);
	assert_int_equal(repo_open(fresh, REPO_WRITE, 0, &r), -EPERM);
	assert_int_equal(rmdir(fresh), 0); /* still empty */
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(create_and_reopen),
		T(relative_path_becomes_absolute),
		T(read_of_missing_repository),
		T(key_permissions_checked),
		T(format_versions),
		T(half_created_is_completed),
		T(foreign_directory_is_not_touched),
		T(lost_format_with_packs_is_refused),
		T(missing_catalog_is_refused),
		T(repair_mode),
		T(writer_lock),
		T(tmp_leftovers_removed_by_writer),
		T(default_path),
		T(load_blob_and_detect_corruption),
		T(concurrent_readers),
		T(every_file_owner_only),
		T(writable_directory_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
