/* fuzz_toml_parse.c — config.toml and .ckptfs.toml are text anyone may
 * have written (a cloned project brings its .ckptfs.toml): toml_lite reads
 * them into a retention policy.
 *
 * Invariants: no crash, leak or read past the input; every value handed
 * to the callback is well formed — a table name and key that are
 * NUL-terminated, a key made of bare characters only, a string present
 * (and NUL-terminated), array elements strings only; an error always
 * leaves a message. */
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/toml_lite.h"
#include "tests/fuzz/fuzz.h"

static int on_key(void *ctx, const char *table, const char *key, const struct toml_value *v,
		  int line)
{
	(void)ctx;
	if (!table || !key || !*key || line < 1)
		abort();
	for (const char *k = key; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
			abort();
	if (v->type == TOML_STRING && (!v->s || strlen(v->s) > 1u << 20))
		abort();
	if (v->type == TOML_BOOL && v->b != 0 && v->b != 1)
		abort();
	if (v->in_array && v->type != TOML_STRING)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	store_error_clear();
	int r = toml_parse((const char *)data, size, "fuzz.toml", on_key, NULL);
	if (r < 0 && !store_error())
		abort();
	store_error_clear();
	return 0;
}
