/* fuzz_pack_parse.c — a pack's footer and (decrypted) index.
 *
 * Input: footer[32] | file_size[u64 le] | index plaintext.  Every entry the
 * parser accepts must lie inside the pack's blob area (between the header
 * and the index), which is what makes catalog rows rebuilt from it safe. */
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/pack.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < PACK_FOOTER_SIZE + 8)
		return 0;
	uint64_t file_size = 0;
	for (int i = 7; i >= 0; i--)
		file_size = file_size << 8 | data[PACK_FOOTER_SIZE + i];
	uint64_t ioff = 0, ixxh = 0;
	uint32_t ilen = 0, count = 0;
	int r = pack_parse_footer(data, file_size, &ioff, &ilen, &count, &ixxh);
	if (r == 0 && ((uint64_t)ioff + ilen + PACK_FOOTER_SIZE > file_size || ioff < PACK_HEADER_SIZE))
		abort();
	if (r < 0) {
		/* Still exercise the index parser with a plausible layout. */
		ioff = file_size > PACK_FOOTER_SIZE ? file_size - PACK_FOOTER_SIZE : 0;
		count = (uint32_t)((size - PACK_FOOTER_SIZE - 8) / 64);
	}
	const uint8_t *plain = data + PACK_FOOTER_SIZE + 8;
	size_t plen = size - PACK_FOOTER_SIZE - 8;
	struct pack_entry *e = NULL;
	size_t n = 0;
	if (pack_parse_index(plain, plen, count, ioff, &e, &n) == 0) {
		if (n != count)
			abort();
		for (size_t i = 0; i < n; i++)
			if (e[i].offset < PACK_HEADER_SIZE || e[i].offset + e[i].length > ioff)
				abort();
		free(e);
	}
	store_error_clear();
	return 0;
}
