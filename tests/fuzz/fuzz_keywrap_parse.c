/* fuzz_keywrap_parse.c — a wrapped key comes from a remote or a recovery
 * sheet: its structure checks must hold for any bytes.  The open (Argon2id)
 * runs only at the minimum cost, so a crafted cost cannot stall the run. */
#include <sodium.h>

#include "store/err.h"
#include "store/keywrap.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keywrap_params p;
	uint8_t master[KEY_BYTES];
	if (keywrap_parse("fuzz", data, size, &p) == 0 &&
	    p.opslimit == crypto_pwhash_OPSLIMIT_MIN && p.memlimit_kib <= 64 &&
	    keywrap_open("fuzz", data, size, "pass", 4, master) == 0)
		sodium_memzero(master, sizeof master);
	store_error_clear();
	return 0;
}
