/* test_remote_formats.c — what push writes and reads back from a remote
 * or beside the catalog: the manifest (golden text, round trip, every
 * kind of damage refused), the remotes file, rclone's lsf listing, the
 * --bwlimit rate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/manifest.h"
#include "store/remote_conf.h"
#include "store/rio.h"
#include "store/rio_internal.h"

static const char golden[] =
	"ckptfs-manifest 1\n"
	"repo 0123456789abcdef0123456789abcdef\n"
	"time 1796302992624182478\n"
	"remote usb\n"
	"pack 17025a844cac233c61275d8d763efff2 33592036 facc6aec06dc08e1252d5e12be5360d9 0\n"
	"pack c81ebc8f26417964da036833643cd629 576 00000000000000000000000000000001 1796302992000000000\n";

static char *with_sum(const char *body)
{
	size_t n = strlen(body);
	char *buf = malloc(n + 64);
	memcpy(buf, body, n);
	unsigned long long h = (unsigned long long)XXH3_64bits(body, n);
	snprintf(buf + n, 64, "sum %016llx\n", h);
	return buf;
}

static void manifest_golden_round_trip(void **state)
{
	(void)state;
	char *text = with_sum(golden);
	struct manifest m;
	assert_int_equal(manifest_decode("t", text, strlen(text), &m), 0);
	assert_string_equal(m.repo_id, "0123456789abcdef0123456789abcdef");
	assert_string_equal(m.remote, "usb");
	assert_int_equal(m.n, 2);
	assert_int_equal(m.packs[0].size, 33592036);
	assert_int_equal(m.packs[1].gone_ns, 1796302992000000000LL);
	assert_non_null(manifest_find(&m, "c81ebc8f26417964da036833643cd629"));
	assert_null(manifest_find(&m, "c81ebc8f26417964da036833643cd628"));
	char *enc = NULL;
	size_t len = 0;
	assert_int_equal(manifest_encode(&m, &enc, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(enc, text, len);
	free(enc);
	manifest_clear(&m);
	free(text);
}

static void manifest_damage_refused(void **state)
{
	(void)state;
	char *text = with_sum(golden);
	size_t n = strlen(text);
	struct manifest m;
	/* Every truncation is refused (no sum line, or a cut line). */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(manifest_decode("t", text, cut, &m), -STORE_ECORRUPT);
	/* Every single flipped byte is refused. */
	for (size_t i = 0; i < n; i++) {
		char *c = strdup(text);
		c[i] ^= 0x01;
		assert_int_not_equal(manifest_decode("t", c, n, &m), 0);
		free(c);
	}
	/* A newer version says so. */
	char *newer = with_sum("ckptfs-manifest 2\nrepo 0123456789abcdef0123456789abcdef\n"
			       "time 1\nremote a\n");
	assert_int_equal(manifest_decode("t", newer, strlen(newer), &m), -STORE_ENEWER);
	free(newer);
	/* Unsorted or duplicate packs. */
	char *dup = with_sum("ckptfs-manifest 1\nrepo 0123456789abcdef0123456789abcdef\n"
			     "time 1\nremote a\n"
			     "pack c81ebc8f26417964da036833643cd629 576 facc6aec06dc08e1252d5e12be5360d9 0\n"
			     "pack c81ebc8f26417964da036833643cd629 576 facc6aec06dc08e1252d5e12be5360d9 0\n");
	assert_int_equal(manifest_decode("t", dup, strlen(dup), &m), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "not sorted or listed twice"));
	free(dup);
	free(text);
}

static void conf_round_trip_and_refusals(void **state)
{
	(void)state;
	static const char ok[] = "ckptfs-remotes 1\n"
				 "remote usb - /media/me/backup dir\n"
				 "remote cloud append-only rclone:b2:bucket/ckptfs\n";
	struct remote_list l;
	assert_int_equal(remote_conf_parse("t", ok, strlen(ok), &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.r[0].target, "/media/me/backup dir");
	assert_false(l.r[0].append_only);
	assert_true(l.r[1].append_only);
	assert_int_equal(remote_list_add(&l, "usb", "/x", false), -EEXIST);
	assert_int_equal(remote_list_add(&l, "bad/name", "/x", false), -EINVAL);
	assert_int_equal(remote_list_add(&l, "rel", "relative/dir", false), -EINVAL);
	assert_int_equal(remote_list_add(&l, "rc", "rclone:nocolon", false), -EINVAL);
	assert_int_equal(remote_list_add(&l, "rc", "rclone::x", false), -EINVAL);
	assert_int_equal(remote_list_remove(&l, "usb"), 0);
	assert_int_equal(remote_list_remove(&l, "usb"), -ENOENT);
	assert_int_equal(l.n, 1);
	remote_list_clear(&l);
	static const char *const bad[] = {
		"", "ckptfs-remotes 2\n", "ckptfs-remotes 1\nremote x\n",
		"ckptfs-remotes 1\nremote x weird /t\n", "ckptfs-remotes 1\nremote x - rel\n",
		"ckptfs-remotes 1\nremote x - /a\nremote x - /b\n", "ckptfs-remotes 1\njunk\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(remote_conf_parse("t", bad[i], strlen(bad[i]), &l),
				 -STORE_ECORRUPT);
}

static void lsf_listing(void **state)
{
	(void)state;
	static const char out[] = "576\tc8/c81ebc8f26417964da036833643cd629.pack\n"
				  "33592036\t17/17025a844cac233c61275d8d763efff2.pack.tmp\n";
	struct rio_entry *e = NULL;
	size_t n = 0;
	assert_int_equal(rio_parse_lsf("t", "packs", out, strlen(out), &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "packs/c8/c81ebc8f26417964da036833643cd629.pack");
	assert_int_equal(e[1].size, 33592036);
	rio_entries_free(e, n);
	static const char *const bad[] = {"x\tpath\n", "12 path\n", "\tpath\n", "12\t\n",
					  "123456789012345678901\tp\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(rio_parse_lsf("t", "", bad[i], strlen(bad[i]), &e, &n),
				 -STORE_ECORRUPT);
}

static void rates(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(rio_parse_rate("512K", &v), 0);
	assert_int_equal(v, 512 * 1024);
	assert_int_equal(rio_parse_rate("10M", &v), 0);
	assert_int_equal(v, 10u << 20);
	assert_int_equal(rio_parse_rate("1.5G", &v), 0);
	assert_int_equal(v, 3ull << 29);
	assert_int_equal(rio_parse_rate("100", &v), 0);
	assert_int_equal(v, 100 * 1024);
	assert_int_equal(rio_parse_rate("100B", &v), 0);
	assert_int_equal(v, 100);
	static const char *const bad[] = {"", "x", "-1M", "10Q", "0", "1MB", "nan"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(rio_parse_rate(bad[i], &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manifest_golden_round_trip),
		cmocka_unit_test(manifest_damage_refused),
		cmocka_unit_test(conf_round_trip_and_refusals),
		cmocka_unit_test(lsf_listing),
		cmocka_unit_test(rates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
