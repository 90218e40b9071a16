/* glob.c — checking and matching search globs (see glob.h). */
#include "store/glob.h"

#include <errno.h>
#include <string.h>

#include "store/err.h"
#include "store/walk_internal.h"

int glob_check(const char *pattern)
{
	if (!*pattern)
		return store_fail(-EINVAL, "empty pattern");
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return store_fail(-EINVAL, "pattern '%s': ends in a lone '\\'",
						  pattern);
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;
			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++; /* a leading ']' is a member */
			for (; *q && *q != ']'; q++) {
				if (*q == '\\' && q[1])
					q++;
				else if (*q == '[' && q[1] == ':') {
					const char *e = strstr(q + 2, ":]");
					if (e)
						q = e + 1;
				}
			}
			if (!*q)
				return store_fail(-EINVAL, "pattern '%s': '[' without its ']'",
						  pattern);
			p = q;
		}
	}
	return 0;
}

bool glob_match(const char *pattern, const char *text)
{
	return ignore_glob(pattern, text);
}
