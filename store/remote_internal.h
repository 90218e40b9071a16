/* remote_internal.h — what remote_push.c, remote_check.c and
 * remote_recover.c share. */
#ifndef CKPTFS_STORE_REMOTE_INTERNAL_H
#define CKPTFS_STORE_REMOTE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "store/pack.h"
#include "store/rio.h"

struct repo;

/* A pack file on a remote: packs/ab/<name>.pack of size bytes. */
struct remote_rpack {
	char name[PACK_NAME_LEN + 1];
	uint64_t size;
};

/* flock the repository's remote/NAME.lock (one push or check of a remote
 * at a time): the fd into *ret_fd, or -EWOULDBLOCK with a message. */
int remote_lock(struct repo *repo, const char *name, int *ret_fd);

/* The remote's packs, sorted by name; with remove_tmp the temp files of
 * interrupted transfers are removed on the way.  *ret malloc'd. */
int remote_list_packs(struct rio *rio, bool remove_tmp, struct remote_rpack **ret, size_t *ret_n);

/* The pack named name in a sorted list, or NULL. */
const struct remote_rpack *remote_find_rpack(const struct remote_rpack *v, size_t n,
					     const char *name);

#endif
