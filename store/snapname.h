/* snapname.h — the display names of snapshots ("2026-02-14T10:30"). */
#ifndef CKPTFS_STORE_SNAPNAME_H
#define CKPTFS_STORE_SNAPNAME_H

#include <stdint.h>

/* Snapshot names: local time "YYYY-MM-DDTHH:MM"; if taken, "…:SS"; if that
 * is taken too, "…:SS.2", ".3", …  taken(ctx, name) says whether a name is
 * in use in the project (1 yes, 0 no, or a negative errno, which is
 * returned).  out must hold SNAPNAME_MAX_LEN+1 bytes.  Honours TZ. */
#define SNAPNAME_MAX_LEN 40
int snapname_make(int64_t time_ns, int (*taken)(void *ctx, const char *name), void *ctx,
		  char out[SNAPNAME_MAX_LEN + 1]);

#endif
