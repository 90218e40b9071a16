/* test_dumper_engine.c — the table of engines (dumpers/engine.h): every
 * kind has a row, every row its required operations, and every word and
 * image that names a row finds that row and no other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dumpers/engine.h"
#include "dumpers/privsrv.h"
#include "dumpers/server.h"

static void every_kind_has_one_row(void **state)
{
	(void)state;
	size_t n;
	const struct dumper_engine *const *v = dumper_engines(&n);
	assert_int_equal(n, DUMPER_NKINDS - 1);
	assert_null(dumper_engine_of(DUMPER_NONE));
	for (int k = DUMPER_NONE + 1; k < DUMPER_NKINDS; k++) {
		const struct dumper_engine *e = dumper_engine_of((enum dumper_kind)k);
		assert_non_null(e);
		assert_int_equal(e->kind, k);
		size_t rows = 0;
		for (size_t i = 0; i < n; i++)
			rows += v[i]->kind == (enum dumper_kind)k;
		assert_int_equal(rows, 1);
	}
}

static void every_row_is_complete(void **state)
{
	(void)state;
	size_t n;
	const struct dumper_engine *const *v = dumper_engines(&n);
	for (size_t i = 0; i < n; i++) {
		const struct dumper_engine *e = v[i];
		print_message("engine %s\n", e->name ? e->name : "(no name)");
		assert_non_null(e->name);
		assert_non_null(e->aliases);
		assert_non_null(e->aliases[0]);
		assert_string_equal(e->aliases[0], e->name);
		assert_non_null(e->ext);
		assert_true(e->ext[0] == '.' && e->ext[1]);
		assert_true(e->default_port > 0 && e->default_port <= 65535);
		assert_non_null(e->images);
		assert_non_null(e->images[0]);
		assert_non_null(e->how);
		assert_non_null(e->compose_login);
		assert_non_null(e->server.dump);
		assert_non_null(e->server.restore);
		assert_non_null(e->docker.dump);
		assert_non_null(e->docker.restore);
		assert_non_null(e->verify.name);
		assert_non_null(e->verify.judge);
		if (e->verify.tee_argv) {
			assert_non_null(e->verify.tee_argv[0]);
			assert_non_null(e->verify.tee_missing);
		}
		assert_non_null(e->hint);
		/* SQL: the client, or the reason there is none — never a
		 * silent gap. */
		if (e->no_sql) {
			assert_null(e->query);
			assert_null(e->drop);
			assert_null(e->counts);
			assert_null(e->schema_sql);
			/* Without SQL there is nothing to drill or restore
			 * alone with: said, not skipped. */
			assert_non_null(e->no_drill);
			assert_non_null(e->no_tables);
		} else {
			assert_non_null(e->query);
			assert_non_null(e->create);
			assert_non_null(e->drop);
			assert_non_null(e->counts);
			assert_non_null(e->schema_sql);
		}
		/* The drill: all it needs, or why not. */
		if (!e->no_drill) {
			assert_non_null(e->create);
			assert_non_null(e->drop);
			assert_non_null(e->counts);
			/* Without rights to create a database: a private
			 * server, whole, or why none. */
			assert_true(!e->private_server != !e->no_private);
			const struct dumper_privsrv_kind *k = e->private_server;
			if (k) {
				assert_non_null(k->find);
				assert_non_null(k->init);
				assert_non_null(k->serve);
				assert_non_null(k->ready);
				assert_non_null(k->socket);
				assert_true(k->stop_signal > 0);
			}
		}
		/* A table restore, or why not: exactly one. */
		assert_true(!e->restore_tables != !e->no_tables);
		/* A counter at dump time is whole: begin, end and abort. */
		if (e->counter.begin) {
			assert_non_null(e->counter.end);
			assert_non_null(e->counter.abort);
		} else {
			assert_null(e->counter.bytes);
			assert_null(e->counter.end);
		}
		assert_string_equal(dumper_kind_name(e->kind), e->name);
		assert_string_equal(dumper_kind_ext(e->kind), e->ext);
	}
}

static void words_are_unique_and_resolve(void **state)
{
	(void)state;
	size_t n;
	const struct dumper_engine *const *v = dumper_engines(&n);
	for (size_t i = 0; i < n; i++) {
		for (const char *const *a = v[i]->aliases; *a; a++) {
			/* Lowercase, as the header says; found in any case. */
			for (const char *c = *a; *c; c++)
				assert_false(*c >= 'A' && *c <= 'Z');
			assert_ptr_equal(dumper_engine_by_alias(*a), v[i]);
			assert_int_equal(dumper_kind_parse(*a), v[i]->kind);
			char up[64];
			snprintf(up, sizeof up, "%s", *a);
			for (char *c = up; *c; c++)
				*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
			assert_ptr_equal(dumper_engine_by_alias(up), v[i]);
			/* No other row claims the word (by_alias would hide it). */
			for (size_t k = 0; k < n; k++)
				for (const char *const *b = v[k]->aliases; k != i && *b; b++)
					assert_true(strcasecmp(*a, *b) != 0);
		}
		for (const char *const *im = v[i]->images; *im; im++) {
			char tagged[128];
			snprintf(tagged, sizeof tagged, "docker.io/library/%s:1-alpine", *im);
			assert_ptr_equal(dumper_engine_by_image(*im), v[i]);
			assert_ptr_equal(dumper_engine_by_image(tagged), v[i]);
		}
		for (size_t k = i + 1; k < n; k++) {
			assert_true(strcmp(v[i]->name, v[k]->name) != 0);
			assert_true(strcmp(v[i]->ext, v[k]->ext) != 0);
		}
	}
	assert_null(dumper_engine_by_alias("sqlite"));
	assert_null(dumper_engine_by_alias(NULL));
	assert_null(dumper_engine_by_image("redis:7"));
	assert_null(dumper_engine_by_image(NULL));
	assert_int_equal(dumper_kind_parse("oracle"), DUMPER_NONE);
}

/* A dump that is only its first bytes is never whole, whatever the engine. */
static void judges_refuse_a_cut_dump(void **state)
{
	(void)state;
	size_t n;
	const struct dumper_engine *const *v = dumper_engines(&n);
	static const unsigned char junk[] = "not a dump";
	for (size_t i = 0; i < n; i++) {
		struct dumper_dump_seen d = {.tool = "tool", .head = junk, .head_len = 8, .tail = junk,
					     .tail_len = sizeof junk - 1, .bytes = sizeof junk - 1,
					     .tee_ran = v[i]->verify.tee_argv != NULL,
					     .tee_status = 1 << 8 /* exited 1 */, .tee_out = -1};
		int64_t entries = -1;
		char *why = NULL;
		assert_false(v[i]->verify.judge(&d, &entries, &why));
		assert_non_null(why);
		free(why);
	}
}

/* Every row's commands build, against the server and in docker, and
 * name their tool; its RESTORE.txt line names the file. */
static void every_row_builds_its_commands(void **state)
{
	(void)state;
	char tmpl[4096];
	const char *base = getenv("TMPDIR");
	snprintf(tmpl, sizeof tmpl, "%s/test_dumper_engine.XXXXXX", base && *base ? base : "/tmp");
	char *tmpdir = mkdtemp(tmpl);
	assert_non_null(tmpdir);
	size_t n;
	const struct dumper_engine *const *v = dumper_engines(&n);
	for (size_t i = 0; i < n; i++) {
		for (int docker = 0; docker < 2; docker++) {
			struct dumper_target t = {.name = "x", .kind = v[i]->kind, .user = "u",
						  .password = "p", .dbname = "d",
						  .container = docker ? "c1" : NULL};
			struct dumper_cmd c = {0};
			print_message("engine %s%s\n", v[i]->name, docker ? " in docker" : "");
			assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), 0);
			assert_non_null(c.argv);
			assert_non_null(c.argv[0]);
			assert_non_null(c.tool);
			dumper_cmd_clear(&c);
			assert_int_equal(dumper_restore_cmd(&t, tmpdir, "other", &c), 0);
			assert_non_null(c.argv);
			assert_non_null(c.tool);
			dumper_cmd_clear(&c);
			if (v[i]->query) {
				assert_int_equal(dumper_query_cmd(&t, tmpdir, "SELECT 1", &c), 0);
				assert_non_null(c.argv);
				dumper_cmd_clear(&c);
			}
			char *h = dumper_restore_hint(&t, "x.dump");
			assert_non_null(h);
			assert_non_null(strstr(h, "x.dump"));
			free(h);
		}
	}
	assert_int_equal(rmdir(tmpdir), 0); /* every secret file was removed */
}

static const char *no_env(void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return NULL;
}

static const char *one_env(void *ctx, const char *key)
{
	return !strcmp(key, ctx) ? "v" : NULL;
}

static void compose_logins(void **state)
{
	(void)state;
	struct dumper_compose_login l = {0};
	dumper_engine_postgres.compose_login(no_env, NULL, &l);
	assert_string_equal(l.user, "postgres");
	assert_string_equal(l.dbname, "postgres");
	assert_null(l.password);
	dumper_engine_mysql.compose_login(no_env, NULL, &l);
	assert_string_equal(l.user, "root");
	assert_null(l.dbname);
	dumper_engine_mysql.compose_login(one_env, "MARIADB_ROOT_PASSWORD", &l);
	assert_string_equal(l.password, "v");
	dumper_engine_mongo.compose_login(one_env, "MONGO_INITDB_DATABASE", &l);
	assert_string_equal(l.dbname, "v");
	assert_null(l.user);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_has_one_row),
		cmocka_unit_test(every_row_is_complete),
		cmocka_unit_test(words_are_unique_and_resolve),
		cmocka_unit_test(compose_logins),
		cmocka_unit_test(judges_refuse_a_cut_dump),
		cmocka_unit_test(every_row_builds_its_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
