/* fuzz_snaprec_decode.c — snapshot records are read from packs by repair.
 * A record that decodes must encode back to the very same bytes. */
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/snaprec.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snaprec r;
	if (snaprec_decode(data, size, &r) == 0) {
		uint8_t *enc = NULL;
		size_t len = 0;
		if (snaprec_encode(&r, &enc, &len) < 0 || len != size || memcmp(enc, data, size))
			abort();
		free(enc);
		snaprec_clear(&r);
	}
	store_error_clear();
	return 0;
}
