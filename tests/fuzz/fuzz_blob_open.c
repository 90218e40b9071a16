/* fuzz_blob_open.c — opening a stored blob with a fixed key.
 *
 * Input: id[32] | type[1] | expect_raw[u32 le] | stored bytes.  Without the
 * key a fuzzer cannot forge a valid seal, so this mostly proves that every
 * malformed blob is refused without touching memory it should not; the seed
 * corpus holds valid blobs (made by mkseeds) so the accepting path runs too,
 * and an accepted blob must hash to its id. */
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/err.h"
#include "store/keys.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzzkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct blob_codec *codec;
	static struct keys k;
	if (!codec) {
		fuzz_keys(&k);
		if (blob_codec_new(&k, BLOB_ZSTD_LEVEL, &codec) < 0)
			abort();
	}
	if (size < ID_BYTES + 1 + 4)
		return 0;
	blob_id id;
	memcpy(id.b, data, ID_BYTES);
	uint8_t type = data[ID_BYTES];
	uint32_t expect = (uint32_t)data[ID_BYTES + 1] | (uint32_t)data[ID_BYTES + 2] << 8 |
			  (uint32_t)data[ID_BYTES + 3] << 16 | (uint32_t)data[ID_BYTES + 4] << 24;
	const uint8_t *stored = data + ID_BYTES + 5;
	size_t slen = size - ID_BYTES - 5;
	uint8_t *plain = NULL;
	size_t plen = 0;
	if (blob_open(codec, &id, type, stored, slen, expect, &plain, &plen) == 0) {
		if (expect && plen != expect)
			abort();
		if (type != BLOB_PACK_INDEX) {
			blob_id again;
			keys_blob_id(&k, plain, plen, &again);
			if (!id_equal(&again, &id))
				abort();
		}
		free(plain);
	}
	store_error_clear();
	return 0;
}
