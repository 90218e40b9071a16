/* test_retcfg.c — the TOML subset (store/toml_lite.c) and the retention
 * settings read through it (src/retcfg.c): which table wins, what is
 * refused, with file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/forget.h"
#include "src/retcfg.h"
#include "store/err.h"
#include "store/toml_lite.h"
#include "tests/tmpdir.h"

#define NS 1000000000LL

struct seen {
	char buf[2048];
};

static int record(void *ctx, const char *table, const char *key, const struct toml_value *v,
		  int line)
{
	struct seen *s = ctx;
	char one[256];
	switch (v->type) {
	case TOML_STRING: snprintf(one, sizeof one, "%d %s.%s=s:%s%s;", line, table, key, v->s, v->in_array ? "[]" : ""); break;
	case TOML_INT: snprintf(one, sizeof one, "%d %s.%s=i:%lld;", line, table, key, (long long)v->i); break;
	case TOML_BOOL: snprintf(one, sizeof one, "%d %s.%s=b:%d;", line, table, key, v->b); break;
	}
	strncat(s->buf, one, sizeof s->buf - strlen(s->buf) - 1);
	return 0;
}

static void toml_accepted(void **state)
{
	(void)state;
	static const char text[] = "top = 1 # comment\n"
				   "\n"
				   "[retention]\r\n"
				   "keep_daily = 14\n"
				   "keep_tag = [\"a\", 'b\\n']\n"
				   "[ retention . \"my app\" ]\n"
				   "s = \"q\\\"\\\\\\t\"\n"
				   "auto = false\n";
	struct seen s = {0};
	assert_int_equal(toml_parse(text, sizeof text - 1, "f", record, &s), 0);
	assert_string_equal(s.buf, "1 .top=i:1;4 retention.keep_daily=i:14;5 retention.keep_tag=s:a[];"
				   "5 retention.keep_tag=s:b\\n[];7 retention.my app.s=s:q\"\\\t;"
				   "8 retention.my app.auto=b:0;");
}

static void toml_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *line;
	} bad[] = {
		{"[retention\n", "f:1: "},          {"a = 1\nb = 1 2\n", "f:2: "},
		{"k = \"open\n", "f:1: "},          {"= 3\n", "f:1: "},
		{"[[a]]\n", "f:1: "},               {"x = [1, 2]\n", "f:1: "},
		{"y = \"\\q\"\n", "f:1: "},         {"z = yes\n", "f:1: "},
		{"n = 99999999999999999999\n", "f:1: "}, {"t = truex\n", "f:1: "},
		{"a = [\"x\" \"y\"]\n", "f:1: "},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct seen s = {0};
		store_error_clear();
		if (toml_parse(bad[i].text, strlen(bad[i].text), "f", record, &s) != -EINVAL)
			fail_msg("accepted: %s", bad[i].text);
		assert_non_null(store_error());
		if (strncmp(store_error(), bad[i].line, strlen(bad[i].line)) != 0)
			fail_msg("%s: message %s", bad[i].text, store_error());
	}
	/* A NUL byte: not text. */
	assert_int_equal(toml_parse("a = 1\0", 6, "f", record, &(struct seen){0}), -EINVAL);
}

struct fixture {
	char dir[64];
	char cfg[128];
	char root[128];
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	*state = f;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_retcfg.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char d[160];
	snprintf(d, sizeof d, "%s/ckptfs", f->dir);
	mkdir(d, 0700);
	snprintf(f->cfg, sizeof f->cfg, "%s/ckptfs/config.toml", f->dir);
	snprintf(f->root, sizeof f->root, "%s/proj", f->dir);
	mkdir(f->root, 0700);
	setenv("XDG_CONFIG_HOME", f->dir, 1);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void policy_of(struct fixture *f, const char *name, struct retcfg_policy *ret)
{
	struct retcfg c;
	assert_int_equal(retcfg_load(&c), 0);
	struct project p = {.name = (char *)name, .root = f->root};
	assert_int_equal(retcfg_policy(&c, &p, ret), 0);
	retcfg_clear(&c);
}

/* Most specific first: [retention.NAME], .ckptfs.toml, [retention],
 * built in. */
static void which_table_wins(void **state)
{
	struct fixture *f = *state;
	struct retcfg_policy pol;
	policy_of(f, "proj", &pol);
	struct retention_policy def;
	retention_policy_default(&def);
	assert_memory_equal(&pol.policy, &def, sizeof def);
	assert_string_equal(pol.source, "built-in default");
	retcfg_policy_clear(&pol);

	write_file(f->cfg, "[retention]\nkeep_daily = 3\n[trash]\ndays = 2\n"
			   "[retention.other]\nkeep_last = 9\n");
	struct retcfg c;
	assert_int_equal(retcfg_load(&c), 0);
	assert_int_equal(c.days, 2);
	assert_true(c.has_retention && c.auto_forget);
	retcfg_clear(&c);
	policy_of(f, "proj", &pol);
	assert_int_equal(pol.policy.keep[RETENTION_DAILY], 3);
	assert_int_equal(pol.policy.keep[RETENTION_LAST], 0);
	retcfg_policy_clear(&pol);

	char pf[200];
	snprintf(pf, sizeof pf, "%s/.ckptfs.toml", f->root);
	write_file(pf, "[databases]\nauto = false\n[retention]\nkeep_within = \"2d\"\n"
		       "keep_tag = 'release'\n");
	policy_of(f, "proj", &pol);
	assert_int_equal(pol.policy.within_ns, 2 * 86400 * NS);
	assert_int_equal(pol.policy.keep[RETENTION_DAILY], 0); /* not merged */
	assert_int_equal(pol.policy.ntags, 1);
	assert_string_equal(pol.policy.tags[0], "release");
	assert_non_null(strstr(pol.source, ".ckptfs.toml"));
	retcfg_policy_clear(&pol);

	write_file(f->cfg, "[retention]\nkeep_daily = 3\nauto = false\n"
			   "[retention.\"proj\"]\nkeep_monthly = \"unlimited\"\n"
			   "keep_within_weekly = \"26w\"\n");
	assert_int_equal(retcfg_load(&c), 0);
	assert_false(c.auto_forget);
	retcfg_clear(&c);
	policy_of(f, "proj", &pol);
	assert_int_equal(pol.policy.keep[RETENTION_MONTHLY], RETENTION_UNLIMITED);
	assert_int_equal(pol.policy.within_unit_ns[RETENTION_WEEKLY], 26 * 7 * 86400 * NS);
	assert_int_equal(pol.policy.within_ns, 0);
	retcfg_policy_clear(&pol);
}

static void refused_with_line(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"[retention]\nkeep_lats = 1\n", "config.toml:2: [retention] has no key keep_lats"},
		{"[retention]\nkeep_daily = -1\n", "config.toml:2: keep_daily"},
		{"[retention]\nkeep_within = 5\n", "config.toml:2: keep_within"},
		{"[retention]\nkeep_within = \"5 parsecs\"\n", "config.toml:2: keep_within"},
		{"[trash]\ndays = 0\n", "config.toml:2: [trash] takes days"},
		{"[retention]\nkeep_last = 0\n", "[retention] keeps nothing"},
		{"[retention]\nauto = 1\n", "config.toml:2: auto"},
		{"[retention.x]\nkeep_hourly = \"lots\"\n", "config.toml:2: keep_hourly"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(f->cfg, bad[i].text);
		struct retcfg c;
		store_error_clear();
		assert_int_equal(retcfg_load(&c), -EINVAL);
		if (!strstr(store_error(), bad[i].want))
			fail_msg("%s: got \"%s\"", bad[i].text, store_error());
	}
	/* A project's file has [retention] only. */
	write_file(f->cfg, "");
	char pf[200];
	snprintf(pf, sizeof pf, "%s/.ckptfs.toml", f->root);
	write_file(pf, "[retention.proj]\nkeep_last = 1\n");
	struct retcfg c;
	assert_int_equal(retcfg_load(&c), 0);
	struct project p = {.name = "proj", .root = f->root};
	struct retcfg_policy pol;
	assert_int_equal(retcfg_policy(&c, &p, &pol), -EINVAL);
	retcfg_policy_clear(&pol);
	retcfg_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(toml_accepted),
		cmocka_unit_test(toml_refused),
		cmocka_unit_test_setup_teardown(which_table_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_with_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
