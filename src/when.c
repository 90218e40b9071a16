/* when.c — parsing time phrases (see when.h). */
#include "src/when.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS 1000000000LL
#define PHRASE_MAX 64
#define AGO_MAX 1000000 /* larger counts are typos, not history */

/* Lower-cased copy of s with blanks trimmed and runs of blanks squeezed. */
static int normalize(const char *s, char out[PHRASE_MAX])
{
	size_t n = 0;
	bool blank = false;
	while (isspace((unsigned char)*s))
		s++;
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			blank = true;
			continue;
		}
		if (blank && n > 0) {
			if (n + 1 >= PHRASE_MAX)
				return -EINVAL;
			out[n++] = ' ';
		}
		blank = false;
		if (n + 1 >= PHRASE_MAX)
			return -EINVAL;
		out[n++] = (char)tolower((unsigned char)*s);
	}
	out[n] = '\0';
	return n ? 0 : -EINVAL;
}

/* Exactly ndigits digits at *p into *ret; advances *p. */
static bool digits(const char **p, int ndigits, int *ret)
{
	int v = 0;
	for (int i = 0; i < ndigits; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += ndigits;
	*ret = v;
	return true;
}

/* "H:MM" or "HH:MM", optionally ":SS", and nothing after.  *ret_has_sec
 * says whether seconds were given. */
static bool parse_clock(const char *p, int *h, int *m, int *sec, bool *ret_has_sec)
{
	if (!isdigit((unsigned char)p[0]))
		return false;
	if (isdigit((unsigned char)p[1])) {
		if (!digits(&p, 2, h))
			return false;
	} else {
		*h = p[0] - '0';
		p++;
	}
	if (*p++ != ':' || !digits(&p, 2, m))
		return false;
	*sec = 0;
	*ret_has_sec = false;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, sec))
			return false;
		*ret_has_sec = true;
	}
	return *p == '\0' && *h <= 23 && *m <= 59 && *sec <= 59;
}

/* Every time a phrase names must fit the int64 nanoseconds the catalog
 * keeps: from the epoch to 2262-04-11T23:47:16Z.  Later dates ("9999-12-31")
 * and larger offsets ("99999999999d ago") are -ERANGE, never a wrapped
 * value that would select some other snapshot. */
#define SEC_MAX (INT64_MAX / NS)

/* sec + add_ns seconds/ns as ns, or -ERANGE outside [0, INT64_MAX]. */
static int to_ns(int64_t sec, int64_t add_ns, int64_t *ret_ns)
{
	int64_t v;
	if (sec < 0 || sec > SEC_MAX || __builtin_mul_overflow(sec, NS, &v) ||
	    __builtin_add_overflow(v, add_ns, &v) || v < 0)
		return -ERANGE;
	*ret_ns = v;
	return 0;
}

/* Local wall-clock time -> UTC seconds: -EINVAL if it does not exist as
 * written (Feb 30, month 13), -ERANGE if it exists but lies outside the
 * range above.  A time skipped by a DST change is moved forward by mktime,
 * which is what a user means. */
static int local_to_utc(int y, int mon, int d, int h, int m, int s, time_t *ret)
{
	if (mon < 1 || mon > 12 || d < 1 || d > 31)
		return -EINVAL;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
			.tm_hour = h, .tm_min = m, .tm_sec = s, .tm_isdst = -1};
	errno = 0;
	time_t t = mktime(&tm);
	if (t == (time_t)-1 && errno == EOVERFLOW)
		return -ERANGE;
	if (tm.tm_mday != d || tm.tm_mon != mon - 1)
		return -EINVAL;
	if (t < 0 || (int64_t)t > SEC_MAX)
		return -ERANGE;
	*ret = t;
	return 0;
}

/* The last nanosecond of the local day y-mon-d. */
static int end_of_day(int y, int mon, int d, int64_t *ret_ns)
{
	time_t start;
	int r = local_to_utc(y, mon, d, 0, 0, 0, &start);
	if (r < 0)
		return r;
	/* Midnight of the next day, through mktime so 23- and 25-hour days
	 * come out right. */
	struct tm tm;
	localtime_r(&start, &tm);
	tm.tm_mday += 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	time_t next = mktime(&tm);
	if (next == (time_t)-1)
		return -ERANGE;
	return to_ns((int64_t)next, -1, ret_ns);
}

/* A clock time on a given local day; the phrase names a whole minute (or
 * second), so it stands for the last instant of it. */
static int day_at(int y, int mon, int d, const char *clock, int64_t *ret_ns)
{
	int h, m, s;
	bool has_sec;
	time_t t;
	if (!parse_clock(clock, &h, &m, &s, &has_sec))
		return -EINVAL;
	int r = local_to_utc(y, mon, d, h, m, s, &t);
	if (r < 0)
		return r;
	return to_ns((int64_t)t + (has_sec ? 1 : 60), -1, ret_ns);
}

/* "YYYY-MM-DD" then "", "T<clock>" or " <clock>". */
static int parse_date(const char *p, int64_t *ret_ns)
{
	int y, mon, d;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mon) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return -EINVAL;
	if (*p == '\0')
		return end_of_day(y, mon, d, ret_ns);
	if (*p != 't' && *p != ' ')
		return -EINVAL;
	return day_at(y, mon, d, p + 1, ret_ns);
}

struct unit {
	const char *names[4];
	int64_t seconds; /* fixed length, or 0 for calendar units */
	int days, months;
};

static const struct unit units[] = {
	{{"s", "sec", "second"}, 1, 0, 0},
	{{"m", "min", "minute"}, 60, 0, 0},
	{{"h", "hr", "hour"}, 3600, 0, 0},
	{{"d", "day"}, 0, 1, 0},
	{{"w", "wk", "week"}, 0, 7, 0},
	{{"mo", "month"}, 0, 0, 1},
	{{"y", "yr", "year"}, 0, 0, 12},
};

static const struct unit *find_unit(const char *name, size_t len)
{
	/* Accept a plural "s" on names longer than one letter ("mins", "days"). */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		for (const char *const *n = units[i].names; n < units[i].names + 4 && *n; n++) {
			size_t nl = strlen(*n);
			if ((len == nl || (len == nl + 1 && nl > 1 && name[nl] == 's')) &&
			    !strncmp(name, *n, nl))
				return &units[i];
		}
	return NULL;
}

/* "N UNIT ago", "NUNIT ago", "a/an UNIT ago".  A count too large to be
 * history ("99999999999d ago", or one past what strtol holds) is -ERANGE,
 * and so is any result before the epoch. */
static int parse_ago(const char *p, int64_t now_ns, int64_t *ret_ns)
{
	size_t len = strlen(p);
	if (len < 5 || strcmp(p + len - 4, " ago") != 0)
		return -EINVAL;
	len -= 4;
	long n;
	const char *u;
	bool huge = false;
	if (!strncmp(p, "a ", 2) || !strncmp(p, "an ", 3)) {
		n = 1;
		u = p + (p[1] == ' ' ? 2 : 3);
	} else {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		char *end;
		errno = 0;
		n = strtol(p, &end, 10);
		huge = errno == ERANGE || n > AGO_MAX;
		u = end;
		if (*u == ' ')
			u++;
	}
	const struct unit *unit = find_unit(u, (size_t)(p + len - u));
	if (!unit)
		return -EINVAL;
	if (huge)
		return -ERANGE; /* a phrase, but not a time ckptfs can hold */
	if (now_ns < 0)
		return -ERANGE;
	if (unit->seconds) {
		/* n <= AGO_MAX and seconds <= 3600: the product fits easily. */
		int64_t back = (int64_t)n * unit->seconds * NS;
		if (back > now_ns)
			return -ERANGE;
		*ret_ns = now_ns - back;
		return 0;
	}
	time_t now = (time_t)(now_ns / NS);
	struct tm tm;
	localtime_r(&now, &tm);
	/* AGO_MAX * 12 and AGO_MAX * 7 fit an int. */
	tm.tm_mday -= (int)n * unit->days;
	tm.tm_mon -= (int)n * unit->months;
	tm.tm_isdst = -1;
	errno = 0;
	time_t t = mktime(&tm);
	if (t == (time_t)-1 && errno == EOVERFLOW)
		return -ERANGE;
	return to_ns((int64_t)t, now_ns % NS, ret_ns);
}

/* Local date of now_ns shifted by back days. */
static void local_day(int64_t now_ns, int back, int *y, int *mon, int *d)
{
	time_t now = (time_t)(now_ns / NS);
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_mday -= back;
	tm.tm_hour = 12; /* noon: safe from DST edges while normalizing */
	tm.tm_isdst = -1;
	mktime(&tm);
	*y = tm.tm_year + 1900;
	*mon = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

int when_parse_time(const char *s, int64_t now_ns, int64_t *ret_ns)
{
	char p[PHRASE_MAX] = {0}; /* zeroed: the prefix tests below peek a few bytes ahead */
	int64_t t;
	int y, mon, d;
	int r;

	if (!s || normalize(s, p) < 0)
		return -EINVAL;
	if (!strcmp(p, "now") || !strcmp(p, "today")) {
		t = now_ns;
		r = 0;
	} else if (!strcmp(p, "yesterday")) {
		local_day(now_ns, 1, &y, &mon, &d);
		r = end_of_day(y, mon, d, &t);
	} else if (!strncmp(p, "today ", 6)) {
		local_day(now_ns, 0, &y, &mon, &d);
		r = day_at(y, mon, d, p + 6, &t);
	} else if (!strncmp(p, "yesterday ", 10)) {
		local_day(now_ns, 1, &y, &mon, &d);
		r = day_at(y, mon, d, p + 10, &t);
	} else if (isdigit((unsigned char)p[0]) && (p[1] == ':' || p[2] == ':')) {
		local_day(now_ns, 0, &y, &mon, &d);
		r = day_at(y, mon, d, p, &t);
	} else if (isdigit((unsigned char)p[0]) && p[4] == '-') {
		r = parse_date(p, &t);
	} else {
		r = parse_ago(p, now_ns, &t);
	}
	if (r < 0)
		return r;
	*ret_ns = t;
	return 0;
}
