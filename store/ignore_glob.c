/* ignore_glob.c — the gitignore glob matcher.
 *
 * Semantics follow gitignore(5) with pathname matching: '*' matches any run
 * of bytes but '/', '?' one byte but '/', "[...]" a byte class ('!' or '^'
 * negates, ranges, "[:alpha:]"-style classes, never '/'), '\' escapes the
 * next byte, and "**" delimited by slashes (or the ends of the pattern)
 * matches across directories: "**" + "/x" any depth, "a/" + "**" everything
 * inside a, "a/" + "**" + "/b" zero or more directories between.  Other
 * "**" act like '*'.  Bytes are compared as bytes: names need not be UTF-8.
 *
 * The recursion returns, besides match/no-match, two "give up" results
 * (the technique of rsync's and git's wildmatch): once the text is
 * exhausted no later start position can match (ABORT_ALL), and a single
 * '*' cannot get past a '/' (ABORT_TO_STARSTAR), so the search only
 * backtracks to an enclosing "**".  That keeps pathological patterns like
 * "*a*a*a*a*b" from taking exponential time.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "store/walk_internal.h"

enum { G_MATCH, G_NOMATCH, G_ABORT_ALL, G_ABORT_TO_STARSTAR };

/* One "[:name:]" class at p (just past "[:"); sets *ret_len to the bytes
 * consumed including ":]" and returns whether c is in it; -1 if p does not
 * hold a known class. */
static int posix_class(const unsigned char *p, unsigned char c, size_t *ret_len)
{
	static const struct {
		const char *name;
		int (*fn)(int);
	} classes[] = {
		{"alnum", isalnum}, {"alpha", isalpha}, {"blank", isblank}, {"cntrl", iscntrl},
		{"digit", isdigit}, {"graph", isgraph}, {"lower", islower}, {"print", isprint},
		{"punct", ispunct}, {"space", isspace}, {"upper", isupper}, {"xdigit", isxdigit},
	};
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		size_t n = strlen(classes[i].name);
		if (memcmp(p, classes[i].name, n) == 0 && p[n] == ':' && p[n + 1] == ']') {
			*ret_len = n + 2;
			/* C locale semantics: only ASCII bytes belong to a class. */
			return c < 0x80 && classes[i].fn(c) ? 1 : 0;
		}
	}
	return -1;
}

/* Match c against the class starting just after '['; *pp is advanced past
 * the closing ']'.  Returns 1 match, 0 no match, -1 malformed (no ']'). */
static int match_class(const unsigned char **pp, unsigned char c)
{
	const unsigned char *p = *pp;
	bool negated = false, matched = false;
	if (*p == '!' || *p == '^') {
		negated = true;
		p++;
	}
	unsigned char prev = 0;
	bool have_prev = false;
	for (bool first = true; first || *p != ']'; first = false) {
		if (*p == '\0')
			return -1;
		unsigned char lo = *p;
		if (lo == '\\') {
			p++;
			if (*p == '\0')
				return -1;
			lo = *p;
		} else if (lo == '[' && p[1] == ':') {
			size_t len;
			int r = posix_class(p + 2, c, &len);
			if (r >= 0) {
				matched |= r == 1;
				p += 2 + len;
				have_prev = false;
				continue;
			}
		} else if (lo == '-' && have_prev && p[1] != ']' && p[1] != '\0') {
			p++;
			unsigned char hi = *p;
			if (hi == '\\') {
				p++;
				if (*p == '\0')
					return -1;
				hi = *p;
			}
			if (c >= prev && c <= hi)
				matched = true;
			p++;
			have_prev = false;
			continue;
		}
		if (c == lo)
			matched = true;
		prev = lo;
		have_prev = true;
		p++;
	}
	*pp = p + 1;
	return matched != negated;
}

static int dowild(const unsigned char *start, const unsigned char *p, const unsigned char *t)
{
	for (; *p; p++, t++) {
		unsigned char pc = *p;
		if (*t == '\0' && pc != '*')
			return G_ABORT_ALL;
		switch (pc) {
		case '\\':
			p++;
			/* A trailing backslash is an invalid pattern: it matches nothing. */
			if (*p == '\0')
				return G_ABORT_ALL;
			if (*t != *p)
				return G_NOMATCH;
			break;
		case '?':
			if (*t == '/')
				return G_NOMATCH;
			break;
		case '[': {
			if (*t == '/')
				return G_NOMATCH;
			const unsigned char *q = p + 1;
			int r = match_class(&q, *t);
			if (r < 0)
				return G_ABORT_ALL;
			if (r == 0)
				return G_NOMATCH;
			p = q - 1;
			break;
		}
		case '*': {
			bool match_slash = false;
			const unsigned char *first = p;
			if (p[1] == '*') {
				while (p[1] == '*')
					p++;
				if ((first == start || first[-1] == '/') && (p[1] == '\0' || p[1] == '/')) {
					/* "**" then "/" may also match zero directories. */
					if (p[1] == '/' && dowild(start, p + 2, t) == G_MATCH)
						return G_MATCH;
					match_slash = true;
				}
			}
			if (p[1] == '\0') {
				if (!match_slash && strchr((const char *)t, '/'))
					return G_ABORT_TO_STARSTAR;
				return G_MATCH;
			}
			for (; *t; t++) {
				int r = dowild(start, p + 1, t);
				if (r != G_NOMATCH) {
					if (!match_slash || r != G_ABORT_TO_STARSTAR)
						return r;
				} else if (!match_slash && *t == '/') {
					return G_ABORT_TO_STARSTAR;
				}
			}
			return G_ABORT_ALL;
		}
		default:
			if (*t != pc)
				return G_NOMATCH;
			break;
		}
	}
	return *t == '\0' ? G_MATCH : G_NOMATCH;
}

bool ignore_glob(const char *pattern, const char *text)
{
	const unsigned char *p = (const unsigned char *)pattern;
	return dowild(p, p, (const unsigned char *)text) == G_MATCH;
}
