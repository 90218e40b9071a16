/* fuzzkey.h — the fixed key of the fuzz targets and their seeds. */
#ifndef CKPTFS_TESTS_FUZZKEY_H
#define CKPTFS_TESTS_FUZZKEY_H

#include <string.h>

#include "store/keys.h"

static inline void fuzz_keys(struct keys *k)
{
	for (int i = 0; i < KEY_BYTES; i++) {
		k->id_key[i] = (uint8_t)(0x11 * i + 1);
		k->seal_key[i] = (uint8_t)(0x5a ^ (7 * i));
	}
}

#endif
