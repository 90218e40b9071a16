/* snapname.c — snapshot names from local time (see catalog.h).
 *
 * Names are for people: the minute is enough almost always, the second
 * disambiguates scripted runs, and a ".N" counter makes any burst unique.
 * A name is given once and never recomputed, so a later change of time
 * zone never renames anything.
 */
#include "store/catalog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/err.h"
#include "store/snapname.h"

/* More same-second snapshots than this in one project is a runaway loop. */
#define SNAPNAME_MAX_SEQ 100000

int snapname_make(int64_t time_ns, int (*taken)(void *ctx, const char *name), void *ctx,
		  char out[SNAPNAME_MAX_LEN + 1])
{
	/* Floor division: times before 1970 still name the second they lie in. */
	int64_t sec = time_ns / 1000000000;
	if (time_ns % 1000000000 < 0)
		sec--;
	time_t t = (time_t)sec;
	struct tm tm;
	/* localtime_r need not consult TZ; tzset makes it honour the current one. */
	tzset();
	if (!localtime_r(&t, &tm))
		return store_fail(-EOVERFLOW, "snapshot time %lld s: not representable as a local time",
				  (long long)sec);
	long long year = (long long)tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		return store_fail(-EOVERFLOW, "snapshot time %lld s: year %lld out of range",
				  (long long)sec, year);

	char name[SNAPNAME_MAX_LEN + 1];
	for (int step = 0; step <= SNAPNAME_MAX_SEQ; step++) {
		if (step == 0)
			snprintf(name, sizeof name, "%04lld-%02d-%02dT%02d:%02d", year, tm.tm_mon + 1,
				 tm.tm_mday, tm.tm_hour, tm.tm_min);
		else if (step == 1)
			snprintf(name, sizeof name, "%04lld-%02d-%02dT%02d:%02d:%02d", year,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		else
			snprintf(name, sizeof name, "%04lld-%02d-%02dT%02d:%02d:%02d.%d", year,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, step);
		int r = taken(ctx, name);
		if (r < 0)
			return r;
		if (r == 0) {
			memcpy(out, name, sizeof name);
			return 0;
		}
	}
	return store_fail(-EEXIST, "snapshot name %s: more than %d snapshots in one second", name,
			  SNAPNAME_MAX_SEQ);
}
