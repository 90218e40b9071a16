/* fuzz_keyfile_parse.c — the key file is read from the repository. */
#include "store/err.h"
#include "store/keys.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keys k;
	if (keyfile_parse(data, size, &k) == 0)
		keys_wipe(&k);
	store_error_clear();
	return 0;
}
