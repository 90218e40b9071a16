/* when.h — time phrases: what `--from WHEN` and `show WHEN` mean as a time.
 *
 * Only the time part lives here; src/select.c first tries WHEN as `latest`,
 * a snapshot name and a tag, and falls back to when_parse_time(), taking
 * the newest snapshot at or before the time it gives.
 *
 * Accepted (case-insensitive, surrounding blanks ignored):
 *   now | today                   now
 *   2026-02-14                    the end of that day (its last instant)
 *   yesterday                     the end of yesterday
 *   2026-02-14T10:30[:SS]         that minute (or second), local time;
 *   2026-02-14 10:30[:SS]           a minute means its last instant, so a
 *                                   snapshot named 10:30:42 counts as 10:30
 *   10:30[:SS]                    that time today
 *   today 9:00 | yesterday 14:00  that time on that day
 *   N UNIT ago | NUNIT ago        N seconds/minutes/hours before now, or
 *                                   N calendar days/weeks/months/years
 *                                   before now (wall clock kept across DST);
 *                                   "a"/"an" for 1.  Units: s sec second,
 *                                   m min minute, h hr hour, d day, w wk week,
 *                                   mo month, y yr year (and plurals).
 * Local time is the process's time zone (TZ), so tests pin it with setenv.
 *
 * A time must fit the catalog's int64 nanoseconds since the epoch: from
 * 1970-01-01T00:00:00Z to 2262-04-11T23:47:16Z.  A phrase of the right
 * shape whose time falls outside ("9999-12-31", "5000-01-01",
 * "99999999999d ago", "60 years ago" said in 2026) is refused as out of
 * range; it never wraps into a time inside it.
 */
#ifndef CKPTFS_SRC_WHEN_H
#define CKPTFS_SRC_WHEN_H

#include <stdint.h>

/* Turn the phrase s into UTC ns since the epoch, reading relative phrases
 * against now_ns.  0; -EINVAL if s is not a time phrase (or names a day or
 * clock time that does not exist: 2026-02-30, 24:00); -ERANGE if it is one
 * but its time lies outside the range above.  Nothing is printed: the
 * caller names the phrase in its message.  *ret_ns is written only on 0. */
int when_parse_time(const char *s, int64_t now_ns, int64_t *ret_ns);

#endif
