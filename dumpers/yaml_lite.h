/* yaml_lite.h — just enough YAML for database.yml and compose files
 * (dumpers-internal).  See yaml_lite.c for the subset. */
#ifndef CKPTFS_DUMPERS_YAML_LITE_H
#define CKPTFS_DUMPERS_YAML_LITE_H

#include <stdbool.h>
#include <stddef.h>

struct yl_node {
	char *key;    /* NULL for a list item without "key:" */
	char *value;  /* scalar text, "" when the node has children */
	char *anchor; /* "&name" on the key's line, or NULL */
	bool item;    /* a "- " list item */
	int indent;
	struct yl_node **kids;
	size_t n;
};

/* Parse text into a tree whose root has the top-level lines as kids.
 * 0 or -ENOMEM; *ret freed with yl_free. */
int yl_parse(const char *text, struct yl_node **ret);
void yl_free(struct yl_node *n);

/* The child of n with this key, or NULL. */
const struct yl_node *yl_get(const struct yl_node *n, const char *key);

/* Its value if non-empty, else NULL. */
const char *yl_str(const struct yl_node *n, const char *key);

#endif
