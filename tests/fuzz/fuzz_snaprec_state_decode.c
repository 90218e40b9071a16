/* fuzz_snaprec_state_decode.c — state records (the trash) are read from
 * packs by repair and recover, and by gc through snaprec_key.  A record
 * that decodes must encode back to the very same bytes, and its key must
 * be the one snaprec_key reads. */
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/snaprec.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snaprec_state_rec r;
	int64_t t;
	blob_id root;
	int kr = snaprec_key(data, size, &t, &root);
	if (snaprec_state_decode(data, size, &r) == 0) {
		uint8_t *enc = NULL;
		size_t len = 0;
		if (snaprec_state_encode(&r, &enc, &len) < 0 || len != size || memcmp(enc, data, size))
			abort();
		if (kr < 0 || t != r.time_ns || !id_equal(&root, &r.root))
			abort();
		free(enc);
		snaprec_state_clear(&r);
	}
	store_error_clear();
	return 0;
}
