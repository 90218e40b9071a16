/* duration.h — lengths of time as users write them: `--every 1h`,
 * `--stale-after 2d`, `--quiet 10`.
 *
 * Accepted: one or more NUMBER UNIT parts with optional blanks between
 * ("1h", "90 min", "1h30m", "2 days"), or a bare number of seconds.
 * Units (case-insensitive, plurals allowed): s sec second, m min minute,
 * h hr hour, d day, w wk week.  A day is 86,400 s (an interval, not a
 * calendar day).
 */
#ifndef CKPTFS_SRC_DURATION_H
#define CKPTFS_SRC_DURATION_H

#include <stdint.h>

/* Longest duration accepted: 100 years in seconds. */
#define DUR_MAX_S (100LL * 365 * 86400)

/* s as seconds into *ret_s: 0, or -EINVAL when s is not a duration, is
 * zero, or exceeds DUR_MAX_S (nothing printed: the caller names it). */
int dur_parse(const char *s, int64_t *ret_s);

/* The shortest exact form of secs: "45s", "15min", "1h", "1h30min",
 * "2d", "1w" — into buf of at least 32 bytes. */
const char *dur_format(int64_t secs, char buf[32]);

#endif
