/* test_cli_resolve.c — WHEN against a real repository (names, tags and
 * times, in that order), finding the project of a directory, and the JSON
 * and git labels of a snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/cli.h"
#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/writer.h"
#include "tests/tmpdir.h"

#define NS 1000000000LL

struct fixture {
	char dir[64];
	char path[128];
	struct repo *repo;
	struct project p;
};

/* "YYYY-MM-DDTHH:MM:SS" UTC -> ns. */
static int64_t utc(const char *s)
{
	struct tm tm = {0};
	char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	assert_non_null(end);
	return (int64_t)timegm(&tm) * NS;
}

static void commit(struct fixture *f, const char *when, const char *tag, const char *want_name)
{
	struct writer *w = NULL;
	struct tree empty = {0};
	blob_id root;
	struct snapshot s = {0};
	assert_int_equal(writer_open(f->repo, &w), 0);
	assert_int_equal(writer_put_tree(w, &empty, &root), 0);
	struct snapshot_new sn = {.project_id = f->p.id, .time_ns = utc(when), .tag = tag, .root = root};
	assert_int_equal(writer_commit(w, &sn, &s), 0);
	assert_string_equal(s.name, want_name);
	snapshot_clear(&s);
	writer_free(w);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	*state = f;
	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(f->dir, sizeof f->dir, "/tmp/test_cli_resolve.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/repo", f->dir);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &f->repo), 0);
	char root[128];
	snprintf(root, sizeof root, "%s/myapp", f->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	char *real = realpath(root, NULL);
	assert_non_null(real);
	assert_int_equal(catalog_project_register(f->repo, "myapp", real, &f->p), 0);
	free(real);
	commit(f, "2026-02-14T10:30:05", "yesterday", "2026-02-14T10:30");
	commit(f, "2026-02-14T10:30:42", "v1", "2026-02-14T10:30:42");
	commit(f, "2026-02-15T09:00:00", NULL, "2026-02-15T09:00");
	commit(f, "2026-02-16T12:00:00", "v1", "2026-02-16T12:00");
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	project_clear(&f->p);
	repo_close(f->repo);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void resolves(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *when, *want;
	} c[] = {
		{NULL, "2026-02-16T12:00"},
		{"latest", "2026-02-16T12:00"},
		/* An exact name wins over the time it also is (as a time it would
		 * mean the end of that minute: 10:30:42). */
		{"2026-02-14T10:30", "2026-02-14T10:30"},
		{"2026-02-14T10:30:42", "2026-02-14T10:30:42"},
		/* A tag: the newest snapshot carrying it; a tag wins over a time. */
		{"v1", "2026-02-16T12:00"},
		{"yesterday", "2026-02-14T10:30"},
		/* Times: the newest at or before. */
		{"2026-02-14", "2026-02-14T10:30:42"},
		{"2026-02-14T10:31", "2026-02-14T10:30:42"},
		{"2026-02-15 08:59", "2026-02-14T10:30:42"},
		{"2026-02-15T09:00", "2026-02-15T09:00"},
		{"2h ago", "2026-02-15T09:00"},
		{"30 min ago", "2026-02-16T12:00"},
		{"1 day ago", "2026-02-15T09:00"},
		{"today 11:00", "2026-02-15T09:00"},
		{"now", "2026-02-16T12:00"},
	};
	int64_t now = utc("2026-02-16T13:00:00");
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct snapshot s = {0};
		int r = cli_resolve_when(f->repo, &f->p, c[i].when, now, &s);
		if (r != 0)
			fail_msg("'%s': %d %s", c[i].when ? c[i].when : "(null)", r, store_error());
		if (strcmp(s.name, c[i].want) != 0)
			fail_msg("'%s': got %s, want %s", c[i].when ? c[i].when : "(null)", s.name, c[i].want);
		snapshot_clear(&s);
	}
}

static void resolve_errors(void **state)
{
	struct fixture *f = *state;
	struct snapshot s = {0};
	int64_t now = utc("2026-02-16T13:00:00");
	assert_int_equal(cli_resolve_when(f->repo, &f->p, "2026-02-13", now, &s), -ENOENT);
	assert_string_equal(store_error(),
			    "myapp: no snapshot at or before 2026-02-13 23:59:59 ('2026-02-13')");
	assert_int_equal(cli_resolve_when(f->repo, &f->p, "nosuch", now, &s), -EINVAL);
	assert_non_null(strstr(store_error(), "myapp: 'nosuch' is not a snapshot name, tag or time"));
	assert_int_equal(cli_resolve_when(f->repo, &f->p, "2026-02-14T10:30:42.2", now, &s), -ENOENT);
	assert_string_equal(store_error(), "myapp: no snapshot named 2026-02-14T10:30:42.2 (see ckptfs log)");
	assert_int_equal(cli_resolve_when(f->repo, &f->p, "3 weeks ago", now, &s), -ENOENT);
	assert_null(s.name);

	/* A project with no snapshots. */
	struct project empty = {0};
	assert_int_equal(catalog_project_register(f->repo, "empty", "/nonexistent/empty", &empty), 0);
	assert_int_equal(cli_resolve_when(f->repo, &empty, NULL, now, &s), -ENOENT);
	assert_string_equal(store_error(), "empty: no snapshots yet");
	project_clear(&empty);
}

static void finds_projects(void **state)
{
	struct fixture *f = *state;
	struct project p = {0};
	char sub[192];
	snprintf(sub, sizeof sub, "%s/myapp/src/deep", f->dir);
	char *slash = strrchr(sub, '/');
	*slash = '\0';
	assert_int_equal(mkdir(sub, 0755), 0);
	*slash = '/';
	assert_int_equal(mkdir(sub, 0755), 0);
	/* Not a git tree: the root of src/deep is src/deep itself, and the
	 * registered project above it is found. */
	assert_int_equal(cli_find_project(f->repo, sub, NULL, &p), 0);
	assert_string_equal(p.name, "myapp");
	project_clear(&p);
	assert_int_equal(cli_find_project(f->repo, NULL, "myapp", &p), 0);
	assert_int_equal(p.id, f->p.id);
	project_clear(&p);
	assert_int_equal(cli_find_project(f->repo, NULL, "other", &p), -ENOENT);
	assert_string_equal(store_error(), "other: no such project (see ckptfs projects)");
	assert_int_equal(cli_find_project(f->repo, f->dir, NULL, &p), -ENOENT);
	assert_non_null(strstr(store_error(), ": not in a registered project"));
	/* A sibling whose name starts like the project is not inside it. */
	char sibling[192];
	snprintf(sibling, sizeof sibling, "%s/myapp2", f->dir);
	assert_int_equal(mkdir(sibling, 0755), 0);
	assert_int_equal(cli_find_project(f->repo, sibling, NULL, &p), -ENOENT);
}

static void labels_and_json(void **state)
{
	(void)state;
	char git[128];
	struct snapshot s = {
		.project = (char *)"my\"app",
		.name = (char *)"2026-02-14T10:30",
		.time_ns = utc("2026-02-14T10:30:05") + 7,
		.message = (char *)"line\none",
		.git_commit = (char *)"0123456789abcdef0123456789abcdef01234567",
		.git_branch = (char *)"main",
		.status = SNAP_PARTIAL,
		.stats = {.files = 3, .dirs = 2, .bytes = 100, .new_blobs = 4, .new_bytes = 50,
			  .read_bytes = 10, .duration_ns = 1234},
		.notes = (char *)"{\"warnings\": 1}",
	};
	assert_string_equal(cli_git_label(&s, git), "main@0123456");
	s.git_branch = NULL;
	assert_string_equal(cli_git_label(&s, git), "0123456");
	s.git_branch = (char *)"topic";
	s.git_commit = NULL;
	assert_string_equal(cli_git_label(&s, git), "topic");
	s.git_branch = NULL;
	assert_string_equal(cli_git_label(&s, git), "");
	s.git_branch = (char *)"main";
	s.git_commit = (char *)"0123456789abcdef0123456789abcdef01234567";

	char *buf = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&buf, &len);
	cli_json_snapshot(mf, &s);
	fclose(mf);
	assert_string_equal(
		buf,
		"{\"project\": \"my\\\"app\", \"name\": \"2026-02-14T10:30\", "
		"\"time\": \"2026-02-14T10:30:05.000000007Z\", \"time_ns\": 1771065005000000007, "
		"\"status\": \"partial\", \"message\": \"line\\none\", \"tag\": null, "
		"\"git_commit\": \"0123456789abcdef0123456789abcdef01234567\", \"git_branch\": \"main\", "
		"\"files\": 3, \"dirs\": 2, \"bytes\": 100, \"new_blobs\": 4, \"new_bytes\": 50, "
		"\"read_bytes\": 10, \"duration_ns\": 1234, "
		"\"root\": \"0000000000000000000000000000000000000000000000000000000000000000\", "
		"\"notes\": {\"warnings\": 1}}");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(resolves, setup, teardown),
		cmocka_unit_test_setup_teardown(resolve_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(finds_projects, setup, teardown),
		cmocka_unit_test(labels_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
