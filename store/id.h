/* id.h — content ids of blobs (chunks and trees).
 *
 * An id is keyed BLAKE2b-256 of the blob's plaintext, keyed with a
 * subkey of the repository's master key, so ids reveal nothing about
 * content to someone without the key.  Computing ids needs the repository
 * (see repo_blob_id() in repo.h); this header only holds the value type.
 */
#ifndef CKPTFS_STORE_ID_H
#define CKPTFS_STORE_ID_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ID_BYTES 32
#define ID_HEX_LEN (2 * ID_BYTES)

typedef struct blob_id {
	uint8_t b[ID_BYTES];
} blob_id;

/* Lower-case hex of id into out (NUL-terminated). */
void id_to_hex(const blob_id *id, char out[ID_HEX_LEN + 1]);

/* Parse exactly ID_HEX_LEN hex digits; 0 or -EINVAL. */
int id_from_hex(const char *hex, blob_id *ret_id);

static inline bool id_equal(const blob_id *a, const blob_id *b)
{
	return memcmp(a->b, b->b, ID_BYTES) == 0;
}

/* Order of blobs as the index keys them: by id, then by type. */
static inline int id_type_cmp(const blob_id *a, uint8_t atype, const blob_id *b, uint8_t btype)
{
	int d = memcmp(a->b, b->b, ID_BYTES);
	return d ? d : (atype > btype) - (atype < btype);
}

static inline bool id_is_zero(const blob_id *a)
{
	static const blob_id zero;
	return id_equal(a, &zero);
}

#endif
