/* retention.h — the keep policy of `ckptfs forget`: which snapshots of one
 * project a policy keeps.
 *
 * Semantics are restic's (restic forget --keep-*):
 *   - keep-last N keeps the N newest snapshots;
 *   - keep-hourly/-daily/-weekly/-monthly/-yearly N walk the snapshots
 *     newest first and keep the newest snapshot of each of the N most
 *     recent periods (local hour, day, ISO week, month, year) that have a
 *     snapshot; N may be RETENTION_UNLIMITED (every period);
 *   - keep-within D keeps every snapshot at most D older than the newest
 *     snapshot, and keep-within-hourly/-daily/... D keep the newest of
 *     each period among those.  The newest snapshot, not the clock, is the
 *     reference: a machine that stopped taking snapshots for a month does
 *     not lose its history to the next forget;
 *   - keep-tag T keeps every snapshot carrying tag T;
 *   - a period rule that runs out of snapshots before its N periods (or
 *     whose window reaches past the oldest snapshot) keeps the oldest
 *     snapshot as well, so the history reaches as far back as asked
 *     (restic >= 0.15 does the same);
 *   - a snapshot kept by any rule is kept.
 * On top of the policy some snapshots are never forgotten by it, only by
 * name: the newest snapshot of the project, and rows the caller marks
 * RETENTION_ROW_TAGGED (a user's tag) or RETENTION_ROW_SAFETY (restore's
 * safety snapshot).
 *
 * Periods are local time, from localtime_r: the process's TZ is the time
 * zone (tests pin it with setenv("TZ")), and the rows' times are the only
 * clock, so retention_apply is a pure function of its arguments.  An hour
 * that a DST change repeats is one period; an hour it skips is none.
 */
#ifndef CKPTFS_STORE_RETENTION_H
#define CKPTFS_STORE_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum retention_unit {
	RETENTION_LAST,
	RETENTION_HOURLY,
	RETENTION_DAILY,
	RETENTION_WEEKLY,
	RETENTION_MONTHLY,
	RETENTION_YEARLY,
	RETENTION_UNITS
};

/* keep[] value for "every period". */
#define RETENTION_UNLIMITED INT64_MAX

struct retention_policy {
	int64_t keep[RETENTION_UNITS]; /* N per unit; 0 = rule off */
	int64_t within_ns;             /* keep-within; 0 = off */
	/* keep-within-<unit> (RETENTION_LAST's slot is unused); 0 = off */
	int64_t within_unit_ns[RETENTION_UNITS];
	const char *const *tags; /* keep-tag, not owned */
	size_t ntags;
};

/* Why a snapshot is kept (bits of retention_apply's result; 0 = forget).
 * RETENTION_BY_UNIT(u) for keep[u], RETENTION_BY_WITHIN_UNIT(u) for
 * within_unit_ns[u]. */
#define RETENTION_BY_UNIT(u) (1u << (u))
#define RETENTION_BY_WITHIN_UNIT(u) (1u << (8 + (u)))
#define RETENTION_BY_WITHIN (1u << 16)
#define RETENTION_BY_TAG (1u << 17)
#define RETENTION_BY_OLDEST (1u << 18)
#define RETENTION_BY_LATEST (1u << 19) /* protected: the project's newest */
#define RETENTION_BY_TAGGED (1u << 20) /* protected: RETENTION_ROW_TAGGED */
#define RETENTION_BY_SAFETY (1u << 21) /* protected: RETENTION_ROW_SAFETY */
#define RETENTION_PROTECTED (RETENTION_BY_LATEST | RETENTION_BY_TAGGED | RETENTION_BY_SAFETY)

/* What the caller knows of a row (bits of retention_row.flags). */
#define RETENTION_ROW_TAGGED 1u /* carries a tag the user gave */
#define RETENTION_ROW_SAFETY 2u /* a safety snapshot taken by restore */

struct retention_row {
	int64_t time_ns; /* UTC ns */
	const char *tag; /* or NULL */
	unsigned flags;  /* RETENTION_ROW_* */
};

/* True when the policy has no rule at all (it would keep only the
 * protected snapshots): forget refuses it without --force. */
bool retention_policy_empty(const struct retention_policy *p);

/* The built-in default, Time-Machine-like: every hour of the newest 24 h,
 * every day of the newest 30 days, every week of the newest 26 weeks,
 * every month before that (keep-within-hourly 24h, keep-within-daily 30d,
 * keep-within-weekly 26w, keep-monthly unlimited). */
void retention_policy_default(struct retention_policy *ret);

/* Decide for rows[0..n) — one project's snapshots, newest first (time_ns
 * not increasing) — which the policy keeps: ret_kept[i] gets the
 * RETENTION_BY_* bits of row i, 0 when it is to be forgotten.  Allocates
 * nothing.  0, or -EINVAL when the rows are not newest first or a policy
 * value is negative (ret_kept then undefined). */
int retention_apply(const struct retention_policy *p, const struct retention_row *rows, size_t n,
		    uint32_t *ret_kept);

/* The reasons in bits as words ("last, hourly, within-daily, latest"),
 * into buf (len bytes, truncated); returns buf. */
const char *retention_reasons_text(uint32_t bits, char *buf, size_t len);

#endif
