/* yaml_lite.c — the block-style YAML subset of database.yml and compose
 * files: "key: value" and "- item" lines nested by indentation, # comments,
 * quoted scalars, &anchors on mapping keys.  Flow collections ({…}, […]),
 * multi-line scalars and tags are not understood: such values are kept as
 * their raw text and simply do not match anything we look for.
 */
#include "dumpers/yaml_lite.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void yl_free(struct yl_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		yl_free(n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->value);
	free(n->anchor);
	free(n);
}

static struct yl_node *add_kid(struct yl_node *p)
{
	struct yl_node **k = realloc(p->kids, (p->n + 1) * sizeof *k);
	if (!k)
		return NULL;
	p->kids = k;
	return k[p->n++] = calloc(1, sizeof **k);
}

/* Unquote a scalar [s, s+n) and drop a trailing comment. */
static char *scalar(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	if (n && (*s == '"' || *s == '\'')) {
		const char *e = memchr(s + 1, *s, n - 1);
		if (e)
			return strndup(s + 1, (size_t)(e - s - 1));
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] == '#' && (i == 0 || isspace((unsigned char)s[i - 1]))) {
			n = i;
			break;
		}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

/* Split "key: value" (key may be quoted); false if no ": " separator. */
static bool split_key(const char *s, size_t n, size_t *ret_klen, const char **ret_v)
{
	for (size_t i = 0; i < n; i++) {
		if ((s[i] == '"' || s[i] == '\'') && i == 0) {
			const char *e = memchr(s + 1, s[0], n - 1);
			if (!e)
				return false;
			i = (size_t)(e - s);
			continue;
		}
		if (s[i] == ':' && (i + 1 == n || s[i + 1] == ' ' || s[i + 1] == '\t')) {
			*ret_klen = i;
			*ret_v = s + i + 1;
			return true;
		}
		if (s[i] == '#' && i && isspace((unsigned char)s[i - 1]))
			return false;
	}
	return false;
}

/* Fill node from "key: value" or a bare scalar. */
static int fill(struct yl_node *node, const char *s, size_t n)
{
	size_t kl;
	const char *v;
	if (split_key(s, n, &kl, &v)) {
		node->key = scalar(s, kl);
		size_t vl = n - (size_t)(v - s);
		while (vl && isspace((unsigned char)*v))
			v++, vl--;
		if (vl && *v == '&') {
			size_t al = strcspn(v + 1, " \t");
			if (al > vl - 1)
				al = vl - 1;
			node->anchor = strndup(v + 1, al);
			v += 1 + al;
			vl -= 1 + al;
			if (!node->anchor)
				return -ENOMEM;
		}
		node->value = scalar(v, vl);
		return node->key && node->value ? 0 : -ENOMEM;
	}
	node->value = scalar(s, n);
	return node->value ? 0 : -ENOMEM;
}

int yl_parse(const char *text, struct yl_node **ret)
{
	struct yl_node *root = calloc(1, sizeof *root);
	if (!root)
		return -ENOMEM;
	root->indent = -1;
	struct yl_node *stack[64] = {root};
	size_t depth = 1;
	int r = 0;
	for (const char *line = text; line && *line && !r;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *s = line;
		line = end ? end + 1 : NULL;
		int indent = 0;
		while ((size_t)indent < len && s[indent] == ' ')
			indent++;
		const char *c = s + indent;
		size_t n = len - (size_t)indent;
		while (n && (c[n - 1] == '\r' || c[n - 1] == ' '))
			n--;
		if (!n || *c == '#' || (n >= 3 && !strncmp(c, "---", 3)))
			continue;
		bool item = *c == '-' && (n == 1 || c[1] == ' ');
		/* The parent is the nearest line indented less; a list may also
		 * sit at its key's own indent ("env:\n- A=1"). */
		while (depth > 1) {
			const struct yl_node *top = stack[depth - 1];
			bool list_of_top = item && !top->item && top->indent == indent && top->key &&
					   !*top->value;
			if (top->indent < indent || list_of_top)
				break;
			depth--;
		}
		struct yl_node *parent = stack[depth - 1];
		struct yl_node *node = add_kid(parent);
		if (!node) {
			r = -ENOMEM;
			break;
		}
		node->indent = indent;
		node->item = item;
		if (item) {
			c += 1;
			n -= 1;
			while (n && *c == ' ')
				c++, n--;
		}
		r = fill(node, c, n);
		if (!r && depth < sizeof stack / sizeof *stack)
			stack[depth++] = node;
	}
	if (r) {
		yl_free(root);
		return r;
	}
	*ret = root;
	return 0;
}

const struct yl_node *yl_get(const struct yl_node *n, const char *key)
{
	for (size_t i = 0; n && i < n->n; i++)
		if (n->kids[i]->key && !strcmp(n->kids[i]->key, key))
			return n->kids[i];
	return NULL;
}

const char *yl_str(const struct yl_node *n, const char *key)
{
	const struct yl_node *k = yl_get(n, key);
	return k && k->value && *k->value ? k->value : NULL;
}
