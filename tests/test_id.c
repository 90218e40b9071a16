/* test_id.c — blob id hex round trips and the error message convention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "store/err.h"
#include "store/id.h"

static void hex_round_trip(void **state)
{
	(void)state;
	blob_id id, back;
	char hex[ID_HEX_LEN + 1];
	for (int i = 0; i < ID_BYTES; i++)
		id.b[i] = (uint8_t)(i * 37 + 5);
	id_to_hex(&id, hex);
	assert_int_equal(strlen(hex), ID_HEX_LEN);
	assert_memory_equal(hex, "052a4f7499bee3082d52779cc1e60b30557a9fc4e90e33587da2c7ec11365b80", 64);
	assert_int_equal(id_from_hex(hex, &back), 0);
	assert_true(id_equal(&id, &back));
}

static void hex_rejects_bad_input(void **state)
{
	(void)state;
	blob_id id;
	char hex[ID_HEX_LEN + 2];
	memset(hex, 'a', ID_HEX_LEN);
	hex[ID_HEX_LEN] = '\0';
	assert_int_equal(id_from_hex(hex, &id), 0);
	hex[5] = 'g';
	assert_int_equal(id_from_hex(hex, &id), -EINVAL);
	hex[5] = 'a';
	hex[ID_HEX_LEN - 1] = '\0';
	assert_int_equal(id_from_hex(hex, &id), -EINVAL);
	memset(hex, 'a', ID_HEX_LEN + 1);
	hex[ID_HEX_LEN + 1] = '\0';
	assert_int_equal(id_from_hex(hex, &id), -EINVAL);
}

static void error_messages(void **state)
{
	(void)state;
	store_error_clear();
	assert_null(store_error());
	assert_int_equal(store_failp(-ENOENT, "pack %s", "ab"), -ENOENT);
	assert_string_equal(store_error(), "pack ab: No such file or directory");
	assert_int_equal(store_fail(-EIO, "x: y"), -EIO);
	assert_string_equal(store_error(), "x: y");
	store_error_clear();
	assert_null(store_error());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(hex_rejects_bad_input),
		cmocka_unit_test(error_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
