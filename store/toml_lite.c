/* toml_lite.c — the TOML subset of toml_lite.h, one line at a time. */
#include "store/toml_lite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"

struct parser {
	const char *file;
	int line;
	toml_fn fn;
	toml_table_fn table_fn; /* NULL: headers are not reported */
	void *ctx;
	char *table;
};

static int bad(struct parser *p, const char *why)
{
	return store_fail(-EINVAL, "%s:%d: %s", p->file, p->line, why);
}

static bool is_bare(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A string starting at *s (at its quote) into a malloc'd *ret; *s moves
 * past the closing quote.  -EINVAL (recorded) or -ENOMEM. */
static int parse_string(struct parser *p, const char **s, char **ret)
{
	char q = **s;
	const char *c = *s + 1;
	char *out = malloc(strlen(c) + 1), *o = out;
	if (!out)
		return store_fail(-ENOMEM, "%s: out of memory", p->file);
	for (; *c && *c != q; c++) {
		if (q == '"' && *c == '\\') {
			c++;
			switch (*c) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case 'n': *o++ = '\n'; break;
			case 't': *o++ = '\t'; break;
			default: free(out); return bad(p, "unknown escape in a string");
			}
		} else if ((unsigned char)*c < 0x20 && *c != '\t') {
			free(out);
			return bad(p, "control character in a string");
		} else {
			*o++ = *c;
		}
	}
	if (*c != q) {
		free(out);
		return bad(p, "string not closed on its line");
	}
	*o = '\0';
	*s = c + 1;
	*ret = out;
	return 0;
}

/* Nothing but blanks and a comment may follow. */
static int line_end(struct parser *p, const char *s)
{
	s = skip_blank(s);
	return *s == '\0' || *s == '#' ? 0 : bad(p, "unexpected text after the value");
}

static int header(struct parser *p, const char *s)
{
	size_t cap = strlen(s) + 1, n = 0;
	char *t = malloc(cap);
	if (!t)
		return store_fail(-ENOMEM, "%s: out of memory", p->file);
	s = skip_blank(s + 1);
	for (;;) {
		if (*s == '"') {
			char *part;
			int r = parse_string(p, &s, &part);
			if (r < 0) {
				free(t);
				return r;
			}
			size_t l = strlen(part);
			memcpy(t + n, part, l); /* a quoted part is never longer than its text */
			n += l;
			free(part);
		} else if (is_bare(*s)) {
			while (is_bare(*s))
				t[n++] = *s++;
		} else {
			free(t);
			return bad(p, "bad table name");
		}
		s = skip_blank(s);
		if (*s == '.') {
			t[n++] = '.';
			s = skip_blank(s + 1);
			continue;
		}
		break;
	}
	t[n] = '\0';
	if (*s != ']') {
		free(t);
		return bad(p, "table header not closed with ]");
	}
	int r = line_end(p, s + 1);
	if (r < 0) {
		free(t);
		return r;
	}
	free(p->table);
	p->table = t;
	return p->table_fn ? p->table_fn(p->ctx, t, p->line) : 0;
}

static int scalar(struct parser *p, const char *key, const char **s, bool in_array)
{
	struct toml_value v = {.in_array = in_array};
	char *str = NULL;
	int r;
	if (**s == '"' || **s == '\'') {
		if ((r = parse_string(p, s, &str)) < 0)
			return r;
		v.type = TOML_STRING;
		v.s = str;
	} else if (in_array) {
		return bad(p, "an array may hold strings only");
	} else if (!strncmp(*s, "true", 4) && !is_bare((*s)[4])) {
		v.type = TOML_BOOL;
		v.b = true;
		*s += 4;
	} else if (!strncmp(*s, "false", 5) && !is_bare((*s)[5])) {
		v.type = TOML_BOOL;
		*s += 5;
	} else if ((**s >= '0' && **s <= '9') || **s == '-' || **s == '+') {
		char *end;
		errno = 0;
		long long n = strtoll(*s, &end, 10);
		if (end == *s || errno || is_bare(*end))
			return bad(p, "bad integer");
		v.type = TOML_INT;
		v.i = n;
		*s = end;
	} else {
		return bad(p, "bad value (a string, integer, true/false or array of strings)");
	}
	r = p->fn(p->ctx, p->table ? p->table : "", key, &v, p->line);
	free(str);
	return r;
}

static int pair(struct parser *p, const char *s)
{
	const char *k = s;
	while (is_bare(*s))
		s++;
	if (s == k)
		return bad(p, "expected key = value or [table]");
	size_t kl = (size_t)(s - k);
	char key[128];
	if (kl >= sizeof key)
		return bad(p, "key too long");
	memcpy(key, k, kl);
	key[kl] = '\0';
	s = skip_blank(s);
	if (*s != '=')
		return bad(p, "expected = after the key");
	s = skip_blank(s + 1);
	int r;
	if (*s != '[') {
		if ((r = scalar(p, key, &s, false)) < 0)
			return r;
		return line_end(p, s);
	}
	s = skip_blank(s + 1);
	while (*s != ']') {
		if ((r = scalar(p, key, &s, true)) < 0)
			return r;
		s = skip_blank(s);
		if (*s == ',')
			s = skip_blank(s + 1);
		else if (*s != ']')
			return bad(p, "expected , or ] in the array");
	}
	return line_end(p, s + 1);
}

int toml_parse(const char *text, size_t len, const char *file, toml_fn fn, void *ctx)
{
	return toml_parse_tables(text, len, file, fn, NULL, ctx);
}

int toml_parse_tables(const char *text, size_t len, const char *file, toml_fn fn,
		      toml_table_fn table_fn, void *ctx)
{
	struct parser p = {.file = file, .fn = fn, .table_fn = table_fn, .ctx = ctx};
	if (memchr(text, '\0', len))
		return store_fail(-EINVAL, "%s: a NUL byte: not a text file", file);
	int r = 0;
	for (size_t at = 0; at < len && r == 0;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - (text + at)) : len - at;
		char *line = malloc(ll + 1);
		if (!line)
			return store_fail(-ENOMEM, "%s: out of memory", file);
		memcpy(line, text + at, ll);
		line[ll] = '\0';
		if (ll && line[ll - 1] == '\r')
			line[ll - 1] = '\0';
		p.line++;
		const char *s = skip_blank(line);
		if (*s == '[')
			r = header(&p, s);
		else if (*s && *s != '#')
			r = pair(&p, s);
		free(line);
		at += ll + 1;
	}
	free(p.table);
	return r;
}
