/* retention.c — the keep policy (retention.h): period buckets in local
 * time, walked newest first. */
#include "store/retention.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS 1000000000LL

static const char *const unit_names[RETENTION_UNITS] = {"last",   "hourly",  "daily",
							"weekly", "monthly", "yearly"};

bool retention_policy_empty(const struct retention_policy *p)
{
	if (p->within_ns || p->ntags)
		return false;
	for (int u = 0; u < RETENTION_UNITS; u++)
		if (p->keep[u] || p->within_unit_ns[u])
			return false;
	return true;
}

void retention_policy_default(struct retention_policy *ret)
{
	memset(ret, 0, sizeof *ret);
	ret->within_unit_ns[RETENTION_HOURLY] = 24 * 3600 * NS;
	ret->within_unit_ns[RETENTION_DAILY] = 30 * 86400 * NS;
	ret->within_unit_ns[RETENTION_WEEKLY] = 26 * 7 * 86400 * NS;
	ret->keep[RETENTION_MONTHLY] = RETENTION_UNLIMITED;
}

static bool is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* ISO 8601 week as year * 100 + week: the week (Monday first) belongs to
 * the year its Thursday is in, so 2026-12-31 and 2027-01-01 share 2026-W53. */
static int64_t iso_week(const struct tm *tm)
{
	int year = tm->tm_year + 1900;
	int monday_based = (tm->tm_wday + 6) % 7;
	int thursday = tm->tm_yday - monday_based + 3; /* day of the year of this week's Thursday */
	if (thursday < 0) {
		year--;
		thursday += is_leap(year) ? 366 : 365;
	} else if (thursday >= (is_leap(year) ? 366 : 365)) {
		thursday -= is_leap(year) ? 366 : 365;
		year++;
	}
	return (int64_t)year * 100 + thursday / 7 + 1;
}

/* The period of unit u that local time tm falls in, as a number that
 * differs between periods.  RETENTION_LAST uses the row index instead. */
static int64_t period(enum retention_unit u, const struct tm *tm)
{
	int64_t y = tm->tm_year + 1900, day = (y * 100 + tm->tm_mon + 1) * 100 + tm->tm_mday;
	switch (u) {
	case RETENTION_HOURLY:
		return day * 100 + tm->tm_hour;
	case RETENTION_DAILY:
		return day;
	case RETENTION_WEEKLY:
		return iso_week(tm);
	case RETENTION_MONTHLY:
		return y * 100 + tm->tm_mon + 1;
	case RETENTION_YEARLY:
		return y;
	default:
		return 0;
	}
}

/* The local time of row i (cached in the caller's tm). */
static void local(int64_t time_ns, struct tm *ret)
{
	time_t t = (time_t)(time_ns / NS);
	if (!localtime_r(&t, ret))
		memset(ret, 0, sizeof *ret);
}

static bool policy_valid(const struct retention_policy *p)
{
	if (p->within_ns < 0 || (p->ntags && !p->tags))
		return false;
	for (int u = 0; u < RETENTION_UNITS; u++)
		if (p->keep[u] < 0 || p->within_unit_ns[u] < 0)
			return false;
	return true;
}

/* newest - d, saturating (d may be as large as an int64 allows). */
static int64_t window_start(int64_t newest, int64_t d)
{
	return d > newest ? INT64_MIN : newest - d;
}

static void keep_by_tag(const struct retention_policy *p, const struct retention_row *rows,
			size_t n, uint32_t *kept)
{
	for (size_t i = 0; i < n; i++) {
		if (rows[i].tag)
			for (size_t t = 0; t < p->ntags; t++)
				if (p->tags[t] && strcmp(rows[i].tag, p->tags[t]) == 0)
					kept[i] |= RETENTION_BY_TAG;
		if (rows[i].flags & RETENTION_ROW_TAGGED)
			kept[i] |= RETENTION_BY_TAGGED;
		if (rows[i].flags & RETENTION_ROW_SAFETY)
			kept[i] |= RETENTION_BY_SAFETY;
	}
}

int retention_apply(const struct retention_policy *p, const struct retention_row *rows, size_t n,
		    uint32_t *ret_kept)
{
	if (!policy_valid(p))
		return -EINVAL;
	for (size_t i = 1; i < n; i++)
		if (rows[i].time_ns > rows[i - 1].time_ns)
			return -EINVAL;
	memset(ret_kept, 0, n * sizeof *ret_kept);
	if (n == 0)
		return 0;

	/* Each rule walks the rows newest first, converting their times to
	 * local time in blocks on the stack (nothing is allocated). */
	enum { BLOCK = 256 };
	int64_t newest = rows[0].time_ns;
	bool oldest = false;
	for (int u = 0; u < RETENTION_UNITS; u++) {
		struct {
			int64_t count, from;
			uint32_t bit;
		} rules[2] = {
			{p->keep[u], INT64_MIN, RETENTION_BY_UNIT(u)},
			{u == RETENTION_LAST || !p->within_unit_ns[u] ? 0 : RETENTION_UNLIMITED,
			 window_start(newest, p->within_unit_ns[u]), RETENTION_BY_WITHIN_UNIT(u)},
		};
		for (int k = 0; k < 2; k++) {
			if (!rules[k].count)
				continue;
			/* Walk in blocks; the rule's state carries across them. */
			int64_t count = rules[k].count, last = 0;
			bool have_last = false, ended = false;
			struct tm tms[BLOCK];
			for (size_t base = 0; base < n && count > 0 && !ended; base += BLOCK) {
				size_t m = n - base < BLOCK ? n - base : BLOCK;
				for (size_t j = 0; j < m; j++) {
					if (u != RETENTION_LAST)
						local(rows[base + j].time_ns, &tms[j]);
				}
				for (size_t j = 0; j < m && count > 0; j++) {
					size_t i = base + j;
					if (rows[i].time_ns < rules[k].from) {
						ended = true;
						break;
					}
					int64_t v = u == RETENTION_LAST ? (int64_t)i : period(u, &tms[j]);
					if (have_last && v == last)
						continue;
					ret_kept[i] |= rules[k].bit;
					last = v;
					have_last = true;
					if (count != RETENTION_UNLIMITED)
						count--;
				}
			}
			/* Out of rows with periods still to fill (a count rule), or
			 * a window that reaches past the oldest row. */
			if (u != RETENTION_LAST && !ended &&
			    ((count > 0 && count != RETENTION_UNLIMITED) || k == 1))
				oldest = true;
		}
	}
	if (oldest)
		ret_kept[n - 1] |= RETENTION_BY_OLDEST;
	if (p->within_ns) {
		int64_t from = window_start(newest, p->within_ns);
		for (size_t i = 0; i < n && rows[i].time_ns >= from; i++)
			ret_kept[i] |= RETENTION_BY_WITHIN;
	}
	keep_by_tag(p, rows, n, ret_kept);
	ret_kept[0] |= RETENTION_BY_LATEST;
	return 0;
}

/* Append ", " (unless first), prefix and word to buf, truncating. */
static void add_word(char *buf, size_t len, size_t *at, const char *prefix, const char *word)
{
	if (*at + 1 >= len)
		return;
	int k = snprintf(buf + *at, len - *at, "%s%s%s", *at ? ", " : "", prefix, word);
	if (k > 0)
		*at = *at + (size_t)k < len ? *at + (size_t)k : len - 1;
}

const char *retention_reasons_text(uint32_t bits, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *word;
	} others[] = {
		{RETENTION_BY_WITHIN, "within"},   {RETENTION_BY_TAG, "keep-tag"},
		{RETENTION_BY_OLDEST, "oldest"},   {RETENTION_BY_LATEST, "latest"},
		{RETENTION_BY_TAGGED, "tagged"},   {RETENTION_BY_SAFETY, "safety"},
	};
	size_t at = 0;
	if (len)
		buf[0] = '\0';
	for (int u = 0; u < RETENTION_UNITS; u++) {
		if (bits & RETENTION_BY_UNIT(u))
			add_word(buf, len, &at, "", unit_names[u]);
		if (bits & RETENTION_BY_WITHIN_UNIT(u))
			add_word(buf, len, &at, "within-", unit_names[u]);
	}
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		if (bits & others[i].bit)
			add_word(buf, len, &at, "", others[i].word);
	return buf;
}
