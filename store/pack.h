/* pack.h — pack files: many sealed blobs in one immutable file.
 *
 *   header   "CKPTPACK" | u32 version (1) | u32 0            16 bytes
 *   blobs    stored blobs back to back
 *   index    one sealed blob (type BLOB_PACK_INDEX, id all zero) holding
 *            per blob: id[32] type[1] offset[u64] length[u32]
 *            raw_length[u32] xxh3[u64]   (little endian)
 *   footer   index offset[u64] index length[u32] count[u32]
 *            xxh3(index bytes)[u64] "CKPTPEND"                32 bytes
 *
 * The index makes a pack self-describing: the catalog's blob index can be
 * rebuilt from packs alone.  xxh3 of each stored blob lets a check find bit
 * rot without the key.  Packs live in packs/<first 2 hex>/<32 hex>.pack.
 */
#ifndef CKPTFS_STORE_PACK_H
#define CKPTFS_STORE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "store/blob.h"
#include "store/id.h"

#define PACK_NAME_LEN 32                 /* hex chars of a random 16-byte name */
#define PACK_TARGET_SIZE (32u << 20)     /* finish a pack once it passes this */
#define PACK_HEADER_SIZE 16
#define PACK_FOOTER_SIZE 32

struct pack_entry {
	blob_id id;
	uint8_t type;
	uint64_t offset;
	uint32_t length;     /* stored (sealed) length */
	uint32_t raw_length; /* plaintext length */
	uint64_t xxh;        /* XXH3-64 of the stored bytes */
};

struct pack_writer;

/* Start a pack under repo_dirfd's tmp/. */
int pack_writer_open(int repo_dirfd, struct blob_codec *codec, struct pack_writer **ret);

/* Append a sealed blob; returns its entry. */
int pack_writer_add(struct pack_writer *pw, const blob_id *id, uint8_t type,
		    const uint8_t *stored, size_t len, uint32_t raw_len, struct pack_entry *ret);

uint64_t pack_writer_size(const struct pack_writer *pw);
size_t pack_writer_count(const struct pack_writer *pw);

/* A finished pack's journal entry, tmp/<name>.pending: made durable before
 * the pack is renamed into packs/, removed (pack_journal_clear) once the
 * catalog indexes the pack.  A writer killed in between leaves it, and the
 * next repo_open(REPO_WRITE) indexes that pack (repo_index_pending_packs)
 * without scanning packs/. */
#define PACK_JOURNAL_SUFFIX ".pending"

/* Remove name's journal entry (no fsync: a stale entry only makes the next
 * writer re-add an indexed pack, which is a no-op).  Errors are ignored. */
void pack_journal_clear(int repo_dirfd, const char *name);

/* Write the index and footer, fsync, journal the name (above), rename into
 * packs/ and fsync the directories.  *ret_name gets the pack name; *ret_entries and *ret_n the
 * entries (owned by the writer until pack_writer_free). */
int pack_writer_finish(struct pack_writer *pw, char ret_name[PACK_NAME_LEN + 1],
		       const struct pack_entry **ret_entries, size_t *ret_n,
		       uint64_t *ret_size);

/* Free; removes the temp file if not finished.  NULL is a no-op. */
void pack_writer_free(struct pack_writer *pw);

/* Relative path of a pack: "packs/ab/ab….pack". out >= 48 bytes. */
void pack_path(const char *name, char *out, size_t outlen);

/* Read the stored bytes of one blob (pread; thread-safe). */
int pack_read_blob(int repo_dirfd, const char *name, uint64_t offset, uint32_t length,
		   uint8_t *buf);

/* The same from fd, the pack name already open (name is for messages). */
int pack_pread_blob(int fd, const char *name, uint64_t offset, uint32_t length, uint8_t *buf);

/* Read, authenticate and parse a pack's index (for check and repair).
 * *ret_entries malloc'd. */
int pack_read_index(int repo_dirfd, const char *name, struct blob_codec *codec,
		    struct pack_entry **ret_entries, size_t *ret_n, uint64_t *ret_size);

/* Parse footer + decrypted index bytes (fuzzable). */
int pack_parse_footer(const uint8_t footer[PACK_FOOTER_SIZE], uint64_t file_size,
		      uint64_t *ret_index_off, uint32_t *ret_index_len, uint32_t *ret_count,
		      uint64_t *ret_index_xxh);
int pack_parse_index(const uint8_t *plain, size_t len, uint32_t count, uint64_t index_off,
		     struct pack_entry **ret_entries, size_t *ret_n);

#endif
