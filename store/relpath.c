/* relpath.c — see relpath.h. */
#include "store/relpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct relpath *p, size_t need)
{
	if (need <= p->cap)
		return 0;
	size_t cap = p->cap ? 2 * p->cap : 256;
	while (cap < need)
		cap *= 2;
	char *s = realloc(p->s, cap);
	if (!s)
		return -ENOMEM;
	p->s = s;
	p->cap = cap;
	return 0;
}

int relpath_init(struct relpath *p)
{
	*p = (struct relpath){0};
	if (reserve(p, 1) < 0)
		return -ENOMEM;
	p->s[0] = '\0';
	return 0;
}

int relpath_push(struct relpath *p, const char *name, size_t *ret_old)
{
	size_t l = strlen(name);
	if (reserve(p, p->len + 1 + l + 1) < 0)
		return -ENOMEM;
	if (ret_old)
		*ret_old = p->len;
	if (p->len)
		p->s[p->len++] = '/';
	memcpy(p->s + p->len, name, l + 1);
	p->len += l;
	return 0;
}

void relpath_pop(struct relpath *p, size_t len)
{
	p->len = len;
	p->s[len] = '\0';
}

void relpath_free(struct relpath *p)
{
	free(p->s);
	*p = (struct relpath){0};
}
