/* health.h — is a project's backup up to date?  The judgement behind
 * `ckptfs status`, kept apart from the catalog and the terminal so it can
 * be tested with a fixed clock.
 *
 * A project is
 *   missing  when its root folder is gone (never stale nor failing: it
 *            cannot be snapshotted; `snap --all` skips it);
 *   failing  when its newest snapshot is partial or damaged, or the last
 *            `snap --all` failed for it after that snapshot was taken;
 *   stale    when its newest snapshot is older than stale_after (or it
 *            has none);
 *   ok       otherwise.
 * Failing wins over stale in the one-word state; both are reported.
 */
#ifndef CKPTFS_SRC_HEALTH_H
#define CKPTFS_SRC_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "store/catalog.h"

/* Without a schedule and without --stale-after: a week. */
#define HEALTH_DEFAULT_STALE_S (7 * 86400LL)

enum health_state { HEALTH_OK, HEALTH_STALE, HEALTH_FAILING, HEALTH_MISSING };

struct health_in {
	bool root_exists;
	const struct snapshot *newest; /* NULL: no snapshot yet */
	/* The project's entry of the last snap --all, if any. */
	const char *run_result; /* "complete", "partial", "failed", "missing" or NULL */
	const char *run_reason;
	int64_t run_time_ns;
	int64_t now_ns;
	int64_t stale_after_s;
};

struct health {
	enum health_state state;
	bool stale, failing;
	char *problem; /* one line, malloc'd, or NULL (health_clear) */
};

/* Judge; 0 or -ENOMEM. */
int health_judge(const struct health_in *in, struct health *ret);

void health_clear(struct health *h);

/* "ok", "stale", "failing", "missing". */
const char *health_name(enum health_state s);

/* The stale threshold: stale_after_s if > 0, else twice an enabled
 * schedule's interval (every_s > 0), else HEALTH_DEFAULT_STALE_S. */
int64_t health_stale_after(int64_t stale_after_s, int64_t every_s);

#endif
