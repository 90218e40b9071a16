/* forget.h — what `ckptfs forget` decides before it moves anything: the
 * policy's verdict on each snapshot of a project (store/retention.h does
 * the deciding), which snapshots a policy must never forget, and the
 * policy as the command line gives it.
 */
#ifndef CKPTFS_SRC_FORGET_H
#define CKPTFS_SRC_FORGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/catalog.h"
#include "store/retention.h"

struct repo;

/* Default trash window, days ([trash] days in config.toml changes it). */
#define FORGET_TRASH_DAYS 7

/* One project's snapshots and the verdict on each. */
struct forget_plan {
	struct project project;
	struct snapshot *snaps; /* live, newest first */
	size_t n;
	uint32_t *kept; /* RETENTION_BY_* bits per snapshot; 0 = it goes */
	size_t ngo;     /* how many go */
};

/* The RETENTION_ROW_* protections of a snapshot: a tag the user gave
 * (the tags ckptfs sets itself — watch, run, run-after — protect
 * nothing, or automatic snapshots would never thin out), and the safety
 * snapshots restore takes (their message starts "before restore"). */
unsigned forget_row_flags(const struct snapshot *s);

/* Read project p's live snapshots and apply policy.  *ret is filled
 * (forget_plan_clear it); p is copied. */
int forget_plan_make(struct repo *repo, const struct project *p,
		     const struct retention_policy *policy, struct forget_plan *ret);
void forget_plan_clear(struct forget_plan *plan);

/* A --keep-<unit> value: a count (0 and up) or "unlimited".  0 or
 * -EINVAL. */
int forget_parse_count(const char *s, int64_t *ret);

/* A --keep-within[-<unit>] value: a duration (src/duration.h) into ns.
 * 0 or -EINVAL. */
int forget_parse_within(const char *s, int64_t *ret_ns);

#endif
