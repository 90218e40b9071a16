/* manifest.h — the list of packs a remote holds, written last by push.
 *
 * A remote (remote_push.h) is valid at every instant because the manifest
 * names only packs that are complete and verified there, and it is
 * replaced atomically (temp name, rename).  It is text, so a person can
 * read what a remote holds; nothing in it is secret (pack names are
 * random, sizes are the packs' own):
 *
 *   ckptfs-manifest 1
 *   repo <repository id, 32 hex>
 *   time <UTC ns of the push>
 *   remote <the remote's name in the pushing repository>
 *   pack <name, 32 hex> <size> <XXH3-128 of the file, 32 hex> <gone ns>
 *   ...                       (sorted by name, no duplicates)
 *   sum <XXH3-64 of every byte before this line, 16 hex>
 *
 * "gone ns" is 0 for a pack the local catalog lists, else when a push
 * first saw it missing locally (gc deleted it): it is deleted on the
 * remote only a grace period after that.  The manifest comes from a remote,
 * so manifest_decode trusts nothing (fuzzed).
 */
#ifndef CKPTFS_STORE_MANIFEST_H
#define CKPTFS_STORE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/keys.h"
#include "store/pack.h"

#define MANIFEST_VERSION 1
#define MANIFEST_SUM_LEN 32 /* hex chars of an XXH3-128 */
#define MANIFEST_MAX_BYTES (64u << 20)

struct manifest_pack {
	char name[PACK_NAME_LEN + 1];
	uint64_t size;
	char sum[MANIFEST_SUM_LEN + 1];
	int64_t gone_ns;
};

struct manifest {
	char repo_id[KEYS_REPO_ID_LEN + 1];
	int64_t time_ns;
	char remote[33];              /* REMOTE_NAME_MAX + 1 */
	struct manifest_pack *packs; /* malloc'd, sorted by name */
	size_t n, cap;
};

/* Parse untrusted bytes.  STORE_ECORRUPT (message: what, and the line)
 * for anything malformed, STORE_ENEWER for a newer version.  *ret filled
 * only on success; manifest_clear it. */
int manifest_decode(const char *what, const char *buf, size_t len, struct manifest *ret);

/* Serialize m (its packs must be sorted: manifest_sort).  *ret_buf
 * malloc'd. */
int manifest_encode(const struct manifest *m, char **ret_buf, size_t *ret_len);

/* Append a pack (copied).  -ENOMEM. */
int manifest_add(struct manifest *m, const struct manifest_pack *p);

/* Sort by name. */
void manifest_sort(struct manifest *m);

/* The entry named name in a sorted manifest, or NULL. */
const struct manifest_pack *manifest_find(const struct manifest *m, const char *name);

/* Whether s is a pack name (PACK_NAME_LEN lowercase hex). */
bool manifest_is_pack_name(const char *s, size_t len);

void manifest_clear(struct manifest *m);

#endif
