/* duration.c — lengths of time as users write them (see duration.h). */
#include "src/duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct unit {
	const char *name;
	int64_t secs;
} units[] = {
	{"s", 1},         {"sec", 1},        {"secs", 1},     {"second", 1},
	{"seconds", 1},   {"m", 60},         {"min", 60},     {"mins", 60},
	{"minute", 60},   {"minutes", 60},   {"h", 3600},     {"hr", 3600},
	{"hrs", 3600},    {"hour", 3600},    {"hours", 3600}, {"d", 86400},
	{"day", 86400},   {"days", 86400},   {"w", 604800},   {"wk", 604800},
	{"wks", 604800},  {"week", 604800},  {"weeks", 604800},
};

static int64_t unit_secs(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == n && !strncasecmp(units[i].name, s, n))
			return units[i].secs;
	return 0;
}

int dur_parse(const char *s, int64_t *ret_s)
{
	int64_t total = 0;
	int parts = 0;
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		int64_t n = 0;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p++ - '0');
			if (n > DUR_MAX_S)
				return -EINVAL;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		const char *u = p;
		while (isalpha((unsigned char)*p))
			p++;
		int64_t mult = 1;
		if (p > u && !(mult = unit_secs(u, (size_t)(p - u))))
			return -EINVAL;
		if (p == u && (parts > 0 || *p)) /* a bare number only on its own */
			return -EINVAL;
		if (n > DUR_MAX_S / mult || (total += n * mult) > DUR_MAX_S)
			return -EINVAL;
		parts++;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (parts == 0 || total == 0)
		return -EINVAL;
	*ret_s = total;
	return 0;
}

const char *dur_format(int64_t secs, char buf[32])
{
	static const struct {
		const char *name;
		int64_t secs;
	} parts[] = {{"w", 604800}, {"d", 86400}, {"h", 3600}, {"min", 60}, {"s", 1}};
	size_t len = 0;
	buf[0] = '\0';
	if (secs <= 0) {
		snprintf(buf, 32, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof parts / sizeof parts[0] && len < 31; i++) {
		if (secs < parts[i].secs)
			continue;
		int n = snprintf(buf + len, 32 - len, "%lld%s", (long long)(secs / parts[i].secs),
				 parts[i].name);
		if (n < 0)
			break;
		len += (size_t)n;
		secs %= parts[i].secs;
	}
	return buf;
}
