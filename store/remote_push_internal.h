/* remote_push_internal.h — what the two ways of pushing share
 * (remote_push.c: the common part and a directory; remote_push_rclone.c:
 * an rclone remote in a few rclone runs).  Store-internal. */
#ifndef CKPTFS_STORE_REMOTE_PUSH_INTERNAL_H
#define CKPTFS_STORE_REMOTE_PUSH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/catalog_internal.h"
#include "store/keywrap.h"
#include "store/manifest.h"
#include "store/remote.h"
#include "store/remote_internal.h"

struct push_ctx {
	struct repo *repo;
	const struct remote *rem;
	const struct push_opts *o;
	struct rio *rio;
	struct manifest prev, next;
	struct remote_rpack *rp;
	size_t nrp;
	struct catalog_pack *lp;
	size_t nlp;
	struct remote_progress prog;
	uint64_t base_done;
	struct push_result res;
};

/* The wrapped key and the format file, as they are to go out. */
struct push_meta {
	uint8_t key[KEYWRAP_BYTES];
	char fmt[256];
	size_t flen;
};

/* remote/NAME.<suffix> under the repository (the remote's local state). */
void remote_state_name(const char *name, const char *suffix, char *out, size_t len);

/* The pack name of a remote file "packs/ab/<name>.pack", or NULL. */
const char *remote_pack_of(const char *file, char out[PACK_NAME_LEN + 1]);

/* Read the wrapped key (refused, with what to do, if there is none) and
 * the format file. */
int remote_push_read_meta(struct push_ctx *c, struct push_meta *m);

/* Judge r, the result of reading the remote's manifest into c->prev:
 * none yet is 0; unreadable, newer or of another repository is refused
 * with one line. */
int remote_push_check_prev(struct push_ctx *c, int r);

/* c->prog's totals: what still has to travel. */
void remote_push_totals(struct push_ctx *c);

/* Packs on the remote (c->rp) the catalog no longer lists: kept in
 * c->next with the time they were first seen gone, or (past the grace
 * period, deletion allowed) left out and collected in *dead. */
int remote_push_gone(struct push_ctx *c, struct remote_rpack **dead, size_t *ndead);

/* An rclone remote (remote_push_rclone.c): everything up to and including
 * the manifest's commit; *buf gets the manifest written. */
int remote_push_rclone(struct push_ctx *c, struct remote_rpack **dead, size_t *ndead, char **buf,
		       size_t *len);

#endif
