/* test_fs_sidecar.c — which names are a database's -wal/-shm, and which
 * headers are SQLite in WAL mode (fs/sidecar.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "fs/sidecar.h"

static void base_names(void **state)
{
	(void)state;
	assert_int_equal(sidecar_base_len("app.db-wal"), 6);
	assert_int_equal(sidecar_base_len("app.db-shm"), 6);
	assert_int_equal(sidecar_base_len("x-wal"), 1);
	assert_int_equal(sidecar_base_len("-wal"), 0);  /* no base */
	assert_int_equal(sidecar_base_len("wal"), 0);
	assert_int_equal(sidecar_base_len("app.db-journal"), 0); /* rollback mode needs none */
	assert_int_equal(sidecar_base_len("app.db-WAL"), 0);
	assert_int_equal(sidecar_base_len("app.db-wal2"), 0);
	assert_int_equal(sidecar_base_len("app.db.wal"), 0);
	assert_int_equal(sidecar_base_len(""), 0);
}

static void wal_headers(void **state)
{
	(void)state;
	uint8_t h[100] = "SQLite format 3";
	h[16] = 0x10; /* page size 4096 */
	h[18] = 2;
	h[19] = 2;
	assert_true(sidecar_wal_header(h, sizeof h));
	assert_true(sidecar_wal_header(h, SIDECAR_HEADER_BYTES));
	assert_false(sidecar_wal_header(h, SIDECAR_HEADER_BYTES - 1)); /* too short */
	h[18] = h[19] = 1; /* rollback journal */
	assert_false(sidecar_wal_header(h, sizeof h));
	h[18] = 1;
	h[19] = 2; /* SQLite opens it in WAL mode: the read version decides */
	assert_true(sidecar_wal_header(h, sizeof h));
	h[15] = 'x'; /* the NUL of the magic */
	assert_false(sidecar_wal_header(h, sizeof h));
	memcpy(h, "SQLite format 2", 16);
	assert_false(sidecar_wal_header(h, sizeof h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base_names),
		cmocka_unit_test(wal_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
