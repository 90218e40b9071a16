/* tree_format.h — constants and limits of the encoded tree format shared by
 * tree_encode.c and tree_decode.c (the format itself is described at the
 * top of tree_encode.c).  Store-internal. */
#ifndef CKPTFS_STORE_TREE_FORMAT_H
#define CKPTFS_STORE_TREE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* 1: the entries.  2: the same preceded by the folder's own mode, uid and
 * gid (struct tree_self; snapshot roots).  3: self with its reach too.
 * All are read; 1 and 3 are written (2 was, for a day). */
#define TREE_FORMAT_VERSION 3
#define TREE_FORMAT_SELF_NO_REACH 2
#define TREE_FORMAT_NO_SELF 1
/* The reach a format-2 root gets: its owner only. */
#define TREE_REACH_UNKNOWN 0700u

#define TREE_NAME_MAX 255        /* NAME_MAX */
#define TREE_TARGET_MAX 4095     /* PATH_MAX - 1: longest symlink target */
#define TREE_XATTR_NAME_MAX 255  /* XATTR_NAME_MAX */
#define TREE_XATTR_VALUE_MAX 65536 /* XATTR_SIZE_MAX */
#define TREE_MODE_MASK 07777u
#define TREE_KNOWN_FLAGS 0xfu    /* NODE_F_* defined in tree.h */

/* Smallest possible encodings, used to cap counts read from the input
 * against the bytes left before anything is allocated. */
#define TREE_MIN_NODE 12   /* name len, 1-byte name, type, 8 one-byte fields, nxattrs */
#define TREE_MIN_CHUNK 33  /* id + 1-byte length */
#define TREE_MIN_XATTR 3   /* name len + 1-byte name + value len */

/* A valid entry name: 1..255 bytes, not "." or "..", no '/' or NUL. */
static inline bool tree_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > TREE_NAME_MAX)
		return false;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return false;
	return memchr(name, '/', len) == NULL && memchr(name, '\0', len) == NULL;
}

#endif
