/* fuzz_manifest_decode.c — a manifest is read from a remote (push,
 * recover, check --remote): any bytes must be refused cleanly, and one
 * that decodes must encode back to the very same bytes. */
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/manifest.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	if (manifest_decode("fuzz", (const char *)data, size, &m) == 0) {
		char *enc = NULL;
		size_t len = 0;
		if (manifest_encode(&m, &enc, &len) < 0 || len != size || memcmp(enc, data, size))
			abort();
		for (size_t i = 0; i < m.n; i++)
			if (manifest_find(&m, m.packs[i].name) != &m.packs[i])
				abort();
		free(enc);
		manifest_clear(&m);
	}
	store_error_clear();
	return 0;
}
