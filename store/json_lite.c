/* json_lite.c — see json_lite.h. */
#include "store/json_lite.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JV_DEPTH 32

struct pstate {
	const char *p;
	int depth;
};

static void ws(struct pstate *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static int hex4(const char *p, unsigned *ret)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

static size_t utf8(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int parse_string(struct pstate *ps, char **ret)
{
	const char *p = ps->p + 1; /* past the quote */
	/* Escapes never expand (\uXXXX, 6 bytes, gives at most 3; a pair,
	 * 12, at most 4), so the rest of the text bounds the string. */
	size_t cap = strlen(p);
	char *o = malloc(cap + 1), *w = o;
	if (!o)
		return -ENOMEM;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c == '\0' || c < 0x20)
			goto bad;
		if (c != '\\') {
			*w++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '/': *w++ = '/'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (hex4(p + 1, &cp) < 0)
				goto bad;
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (p[1] != '\\' || p[2] != 'u' || hex4(p + 3, &lo) < 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xdc80 && cp <= 0xdcff) {
				/* A byte that is not UTF-8, as jv_write_str writes
				 * it (Python's surrogateescape): the byte again. */
				*w++ = (char)(cp - 0xdc00);
				break;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				goto bad;
			}
			w += utf8(cp, w);
			break;
		}
		default:
			goto bad;
		}
		p++;
	}
	*w = '\0';
	ps->p = p + 1;
	*ret = o;
	return 0;
bad:
	free(o);
	return -EINVAL;
}

static int parse_value(struct pstate *ps, struct jv *v);

static int push(struct jv *v, char *key, struct jv *item)
{
	struct jv *it = realloc(v->items, (v->n + 1) * sizeof *it);
	if (!it)
		return -ENOMEM;
	v->items = it;
	if (v->t == J_OBJ) {
		char **k = realloc(v->keys, (v->n + 1) * sizeof *k);
		if (!k)
			return -ENOMEM;
		v->keys = k;
		k[v->n] = key;
	}
	it[v->n++] = *item;
	return 0;
}

static int parse_container(struct pstate *ps, struct jv *v, char close)
{
	if (++ps->depth > JV_DEPTH)
		return -EINVAL;
	ps->p++;
	ws(ps);
	if (*ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		struct jv item = {0};
		int r;
		ws(ps);
		if (close == '}') {
			if (*ps->p != '"')
				return -EINVAL;
			if ((r = parse_string(ps, &key)) < 0)
				return r;
			ws(ps);
			if (*ps->p != ':') {
				free(key);
				return -EINVAL;
			}
			ps->p++;
		}
		if ((r = parse_value(ps, &item)) < 0 || (r = push(v, key, &item)) < 0) {
			free(key);
			jv_clear(&item);
			return r;
		}
		ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p != close)
			return -EINVAL;
		ps->p++;
		ps->depth--;
		return 0;
	}
}

static int parse_value(struct pstate *ps, struct jv *v)
{
	ws(ps);
	*v = (struct jv){0};
	const char *p = ps->p;
	switch (*p) {
	case '{': v->t = J_OBJ; return parse_container(ps, v, '}');
	case '[': v->t = J_ARR; return parse_container(ps, v, ']');
	case '"': v->t = J_STR; return parse_string(ps, &v->s);
	case 't':
		if (strncmp(p, "true", 4))
			return -EINVAL;
		v->t = J_BOOL;
		v->b = true;
		ps->p += 4;
		return 0;
	case 'f':
		if (strncmp(p, "false", 5))
			return -EINVAL;
		v->t = J_BOOL;
		ps->p += 5;
		return 0;
	case 'n':
		if (strncmp(p, "null", 4))
			return -EINVAL;
		ps->p += 4;
		return 0;
	default: {
		if (*p != '-' && (*p < '0' || *p > '9'))
			return -EINVAL;
		char *end;
		v->t = J_NUM;
		v->num = strtod(p, &end);
		if (end == p)
			return -EINVAL;
		ps->p = end;
		return 0;
	}
	}
}

int jv_parse(const char *text, struct jv *ret)
{
	struct pstate ps = {.p = text};
	struct jv v;
	int r = parse_value(&ps, &v);
	if (r == 0) {
		ws(&ps);
		if (*ps.p)
			r = -EINVAL;
	}
	if (r < 0) {
		jv_clear(&v);
		return r;
	}
	*ret = v;
	return 0;
}

void jv_clear(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jv_clear(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
	*v = (struct jv){0};
}

const struct jv *jv_get(const struct jv *o, const char *key)
{
	if (!o || o->t != J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (o->keys[i] && !strcmp(o->keys[i], key))
			return &o->items[i];
	return NULL;
}

const char *jv_str(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);
	return v && v->t == J_STR ? v->s : NULL;
}

double jv_num(const struct jv *o, const char *key, double dflt)
{
	const struct jv *v = jv_get(o, key);
	return v && v->t == J_NUM ? v->num : dflt;
}

bool jv_bool(const struct jv *o, const char *key)
{
	const struct jv *v = jv_get(o, key);
	return v && v->t == J_BOOL && v->b;
}

size_t jv_utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void jv_write_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	while (*p) {
		size_t n = jv_utf8_len(p);
		if (n == 0) {
			fprintf(f, "\\udc%02x", *p++);
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		unsigned c = *p++;
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc((int)c, f);
		}
	}
	fputc('"', f);
}

char *jv_printable(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len * 4 + 1); /* worst case: every byte as \xNN */
	if (!out)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	char *o = out;
	while (*p) {
		size_t n = jv_utf8_len(p);
		if (n > 1) {
			memcpy(o, p, n);
			o += n;
			p += n;
			continue;
		}
		unsigned c = *p++;
		if (n == 0 || c < 0x20 || c == 0x7f) {
			if (c == '\n')
				o += sprintf(o, "\\n");
			else if (c == '\t')
				o += sprintf(o, "\\t");
			else
				o += sprintf(o, "\\x%02x", c);
		} else if (c == '\\') {
			o += sprintf(o, "\\\\");
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}
