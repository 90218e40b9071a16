/* tree_internal.h — tree functions shared inside the store. */
#ifndef CKPTFS_STORE_TREE_INTERNAL_H
#define CKPTFS_STORE_TREE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/tree.h"

/* tree_decode, with what ("tree 3fa2…") starting every error message. */
int tree_decode_named(const uint8_t *buf, size_t len, const char *what, struct tree **ret_tree);

#endif
