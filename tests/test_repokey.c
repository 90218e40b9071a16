/* test_repokey.c — the wrapped key file beside the plain one: set, change,
 * --require (plain key removed only after the wrapped one), opening with a
 * passphrase source, wrong passphrase, the repository id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/keys.h"
#include "store/keywrap.h"
#include "store/repo.h"
#include "store/repokey.h"
#include "tests/tmpdir.h"

struct fixture {
	char dir[64], repo[96];
};

static const char *answer; /* what the passphrase source answers */
static int asked;

static int source(const char *what, char **ret, size_t *ret_len)
{
	asked++;
	if (!answer)
		return store_fail(-ENOTTY, "%s: no terminal", what);
	*ret = strdup(answer);
	*ret_len = strlen(answer);
	return 0;
}

static const struct keywrap_params cheap = {2, 8 * 1024};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_repokey.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->repo, sizeof f->repo, "%s/repo", f->dir);
	struct repo *r = NULL;
	if (repo_open(f->repo, REPO_WRITE, 0, &r) < 0)
		return -1;
	repo_close(r);
	repokey_set_pass_source(source);
	answer = NULL;
	asked = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static bool exists(const struct fixture *f, const char *name)
{
	char p[160];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", f->repo, name);
	return stat(p, &st) == 0;
}

static void id_of(const struct fixture *f, char id[KEYS_REPO_ID_LEN + 1])
{
	struct repo *r = NULL;
	assert_int_equal(repo_open(f->repo, REPO_READ, 0, &r), 0);
	repokey_repo_id(r, id);
	repo_close(r);
}

static void set_pass(const struct fixture *f, const char *pass, bool require)
{
	struct repo *r = NULL;
	assert_int_equal(repo_open(f->repo, REPO_WRITE, 0, &r), 0);
	assert_int_equal(repokey_set_passphrase(r, pass, strlen(pass), &cheap, require), 0);
	repo_close(r);
}

static void wrapped_opens_to_same_key(void **state)
{
	struct fixture *f = *state;
	char before[KEYS_REPO_ID_LEN + 1], after[KEYS_REPO_ID_LEN + 1];
	id_of(f, before);
	assert_int_equal(strlen(before), KEYS_REPO_ID_LEN);
	struct repo *r = NULL;
	assert_int_equal(repo_open(f->repo, REPO_READ, 0, &r), 0);
	uint8_t buf[KEYWRAP_BYTES];
	assert_int_equal(repokey_read_wrapped(r, buf), -ENOENT);
	repo_close(r);

	set_pass(f, "correct horse", false);
	assert_true(exists(f, "key"));
	assert_true(exists(f, "key.wrapped"));
	assert_false(exists(f, "key.wrapped.tmp"));
	assert_int_equal(repo_open(f->repo, REPO_READ, 0, &r), 0);
	assert_int_equal(repokey_read_wrapped(r, buf), 0);
	assert_false(repokey_required(r));
	repo_close(r);
	uint8_t master[KEY_BYTES];
	struct keys k;
	assert_int_equal(keywrap_open("t", buf, sizeof buf, "correct horse", 13, master), 0);
	keys_derive(master, &k);
	keys_repo_id(&k, after);
	assert_string_equal(before, after);
	assert_int_equal(keywrap_open("t", buf, sizeof buf, "wrong", 5, master), -EACCES);
	assert_int_equal(asked, 0); /* the plain key needs no passphrase */
}

static void require_asks_and_refuses_wrong(void **state)
{
	struct fixture *f = *state;
	char id[KEYS_REPO_ID_LEN + 1], id2[KEYS_REPO_ID_LEN + 1];
	id_of(f, id);
	set_pass(f, "s3cret", true);
	assert_false(exists(f, "key"));
	assert_true(exists(f, "key.wrapped"));

	struct repo *r = NULL;
	answer = NULL;
	assert_int_equal(repo_open(f->repo, REPO_READ, 0, &r), -ENOTTY);
	answer = "nope";
	assert_int_equal(repo_open(f->repo, REPO_READ, 0, &r), -EACCES);
	assert_non_null(strstr(store_error(), "wrong passphrase"));
	answer = "s3cret";
	id_of(f, id2);
	assert_string_equal(id, id2);
	assert_int_equal(asked, 3);

	/* Without --require the plain key comes back; a change keeps the id. */
	set_pass(f, "other", false);
	assert_true(exists(f, "key"));
	asked = 0;
	answer = NULL;
	id_of(f, id2);
	assert_string_equal(id, id2);
	assert_int_equal(asked, 0);
}

static void repo_id_differs_between_repos(void **state)
{
	struct fixture *f = *state;
	char a[KEYS_REPO_ID_LEN + 1], b[KEYS_REPO_ID_LEN + 1], other[128];
	id_of(f, a);
	snprintf(other, sizeof other, "%s/repo2", f->dir);
	struct repo *r = NULL;
	assert_int_equal(repo_open(other, REPO_WRITE, 0, &r), 0);
	repokey_repo_id(r, b);
	repo_close(r);
	assert_string_not_equal(a, b);
}

static void keyfile_write_round_trip(void **state)
{
	struct fixture *f = *state;
	int dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	struct keys k, back;
	uint8_t m[KEY_BYTES];
	for (int i = 0; i < KEY_BYTES; i++)
		m[i] = (uint8_t)(7 * i);
	keys_derive(m, &k);
	assert_int_equal(keyfile_write(dfd, "k2", &k), 0);
	struct stat st;
	assert_int_equal(fstatat(dfd, "k2", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keyfile_load(dfd, "k2", &back), 0);
	assert_memory_equal(&k, &back, sizeof k);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(wrapped_opens_to_same_key, setup, teardown),
		cmocka_unit_test_setup_teardown(require_asks_and_refuses_wrong, setup, teardown),
		cmocka_unit_test_setup_teardown(repo_id_differs_between_repos, setup, teardown),
		cmocka_unit_test_setup_teardown(keyfile_write_round_trip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
