/* rio_internal.h — what the two rio backends share (rio.c: directory,
 * rio_rclone.c: the rclone command). */
#ifndef CKPTFS_STORE_RIO_INTERNAL_H
#define CKPTFS_STORE_RIO_INTERNAL_H

#include <xxhash.h>

#include "store/rio.h"

struct rio {
	char *target; /* as given, for messages */
	bool rclone;
	char *base;   /* directory path, or "REMOTE:PATH" for rclone */
	struct rio_opts opts;
	int64_t bw_start_ns; /* directory bandwidth limit: start of the transfer */
	char *list_path;     /* rio_set_list_path, or NULL */
};

#define RIO_BUF (4u << 20)

void rio_sum_hex(XXH3_state_t *st, char out[RIO_SUM_LEN + 1]);

/* Sleep so that done bytes since rio->bw_start_ns stay under the limit. */
void rio_throttle(struct rio *rio, uint64_t done);

int rio_rclone_prepare(struct rio *rio);
int rio_rclone_list(struct rio *rio, const char *dir, struct rio_entry **ret, size_t *ret_n);
int rio_rclone_read(struct rio *rio, const char *name, size_t max, char **ret, size_t *ret_len);
int rio_rclone_write(struct rio *rio, const char *name, const void *buf, size_t len);
int rio_rclone_download(struct rio *rio, const char *name, int outfd,
			char ret_sum[RIO_SUM_LEN + 1], uint64_t *ret_size,
			rio_progress_fn progress, void *ctx);
int rio_rclone_remove(struct rio *rio, const char *name);
int rio_rclone_remove_many(struct rio *rio, char *const *names, size_t n);

/* Parse `rclone lsf --format sp --separator '\t'` output (size, tab,
 * path per line; fuzzed with the manifest): entries prefixed with
 * prefix/.  Lines that are not "digits TAB path" are refused. */
int rio_parse_lsf(const char *what, const char *prefix, const char *out, size_t len,
		  struct rio_entry **ret, size_t *ret_n);

#endif
