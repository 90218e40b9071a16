/* pack_read.c — reading pack files (format in pack.h).
 *
 * Blob reads open the pack and pread: no file position is shared, so any
 * number of threads can read at once.  Footer and index parsing trust
 * nothing: every offset and length is checked against the file before it
 * is used, since these bytes come from disk (and are fuzzed).
 */
#include "store/pack.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/err.h"
#include "store/le.h"
#include "store/pack_format.h"


void pack_path(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "packs/%.2s/%s.pack", name, name);
}

/* Read exactly len bytes at off; a short read means the pack is shorter
 * than its index or the catalog says: corruption. */
static int pread_full(int fd, const char *name, uint8_t *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return store_failp(-errno, "pack %s: read at offset %llu", name,
					   (unsigned long long)off);
		if (n == 0)
			return store_fail(-STORE_ECORRUPT, "pack %s: truncated at offset %llu", name,
					  (unsigned long long)off);
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int open_pack(int repo_dirfd, const char *name)
{
	char path[64];
	pack_path(name, path, sizeof path);
	int fd = openat(repo_dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "pack %s", name);
	return fd;
}

int pack_pread_blob(int fd, const char *name, uint64_t offset, uint32_t length, uint8_t *buf)
{
	return pread_full(fd, name, buf, length, offset);
}

int pack_read_blob(int repo_dirfd, const char *name, uint64_t offset, uint32_t length,
		   uint8_t *buf)
{
	int fd = open_pack(repo_dirfd, name);
	if (fd < 0)
		return fd;
	int r = pread_full(fd, name, buf, length, offset);
	close(fd);
	return r;
}

static int parse_footer_named(const char *name, const uint8_t footer[PACK_FOOTER_SIZE],
			      uint64_t file_size, uint64_t *ret_index_off,
			      uint32_t *ret_index_len, uint32_t *ret_count,
			      uint64_t *ret_index_xxh)
{
	if (memcmp(footer + 24, PACK_FOOTER_MAGIC, PACK_MAGIC_LEN) != 0)
		return store_fail(-STORE_ECORRUPT, "pack %s: bad footer magic", name);
	if (file_size < PACK_HEADER_SIZE + BLOB_OVERHEAD + PACK_FOOTER_SIZE)
		return store_fail(-STORE_ECORRUPT, "pack %s: too small (%llu bytes)", name,
				  (unsigned long long)file_size);
	uint64_t off = le_get64(footer);
	uint32_t len = le_get32(footer + 8), count = le_get32(footer + 12);
	/* The index lies right before the footer, after the header. */
	if (off < PACK_HEADER_SIZE || len < BLOB_OVERHEAD ||
	    off > file_size - PACK_FOOTER_SIZE || len != file_size - PACK_FOOTER_SIZE - off)
		return store_fail(-STORE_ECORRUPT,
				  "pack %s: index at %llu+%u does not fit a %llu byte file", name,
				  (unsigned long long)off, len, (unsigned long long)file_size);
	if ((uint64_t)count * PACK_ENTRY_SIZE > BLOB_MAX_RAW ||
	    (uint64_t)count * PACK_ENTRY_SIZE + BLOB_OVERHEAD < len)
		return store_fail(-STORE_ECORRUPT, "pack %s: index of %u bytes cannot hold %u blobs",
				  name, len, count);
	*ret_index_off = off;
	*ret_index_len = len;
	*ret_count = count;
	*ret_index_xxh = le_get64(footer + 16);
	return 0;
}

int pack_parse_footer(const uint8_t footer[PACK_FOOTER_SIZE], uint64_t file_size,
		      uint64_t *ret_index_off, uint32_t *ret_index_len, uint32_t *ret_count,
		      uint64_t *ret_index_xxh)
{
	return parse_footer_named("(footer)", footer, file_size, ret_index_off, ret_index_len,
				  ret_count, ret_index_xxh);
}

static int parse_index_named(const char *name, const uint8_t *plain, size_t len,
			     uint32_t count, uint64_t index_off, struct pack_entry **ret_entries,
			     size_t *ret_n)
{
	if (len != (size_t)count * PACK_ENTRY_SIZE)
		return store_fail(-STORE_ECORRUPT, "pack %s: index is %zu bytes, %u entries need %zu",
				  name, len, count, (size_t)count * PACK_ENTRY_SIZE);
	struct pack_entry *entries = malloc(count ? count * sizeof *entries : 1);
	if (!entries)
		return store_fail(-ENOMEM, "pack %s: out of memory", name);
	uint64_t prev_end = PACK_HEADER_SIZE;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *p = plain + (size_t)i * PACK_ENTRY_SIZE;
		struct pack_entry *e = &entries[i];
		pack_entry_decode(p, e);
		const char *why = NULL;
		if (e->type != BLOB_DATA && e->type != BLOB_TREE && e->type != BLOB_SNAPSHOT)
			why = "unknown blob type";
		else if (e->length < BLOB_OVERHEAD || e->raw_length > BLOB_MAX_RAW ||
			 e->length > (uint64_t)e->raw_length + BLOB_OVERHEAD)
			why = "impossible length";
		/* Blobs are in file order, between the header and the index,
		 * and never overlap. */
		else if (e->offset < prev_end || e->offset > index_off ||
			 e->length > index_off - e->offset)
			why = "offset out of place";
		if (why) {
			store_fail(-STORE_ECORRUPT,
				   "pack %s: index entry %u: %s (type %u, %llu+%u, raw %u)", name, i,
				   why, e->type, (unsigned long long)e->offset, e->length,
				   e->raw_length);
			free(entries);
			return -STORE_ECORRUPT;
		}
		prev_end = e->offset + e->length;
	}
	*ret_entries = entries;
	*ret_n = count;
	return 0;
}

int pack_parse_index(const uint8_t *plain, size_t len, uint32_t count, uint64_t index_off,
		     struct pack_entry **ret_entries, size_t *ret_n)
{
	return parse_index_named("(index)", plain, len, count, index_off, ret_entries, ret_n);
}

static int check_header(int fd, const char *name)
{
	uint8_t h[PACK_HEADER_SIZE];
	int r = pread_full(fd, name, h, sizeof h, 0);
	if (r < 0)
		return r;
	if (memcmp(h, PACK_MAGIC, PACK_MAGIC_LEN) != 0)
		return store_fail(-STORE_ECORRUPT, "pack %s: bad header magic", name);
	uint32_t version = le_get32(h + 8);
	if (version > PACK_VERSION)
		return store_fail(-STORE_ENEWER, "pack %s: format version %u is newer than this ckptfs",
				  name, version);
	if (version != PACK_VERSION || le_get32(h + 12) != 0)
		return store_fail(-STORE_ECORRUPT, "pack %s: bad header", name);
	return 0;
}

int pack_read_index(int repo_dirfd, const char *name, struct blob_codec *codec,
		    struct pack_entry **ret_entries, size_t *ret_n, uint64_t *ret_size)
{
	static const blob_id zero;
	uint8_t footer[PACK_FOOTER_SIZE];
	uint8_t *sealed = NULL, *plain = NULL;
	uint64_t index_off, index_xxh;
	uint32_t index_len, count;
	size_t plain_len;
	struct stat st;
	int r;

	int fd = open_pack(repo_dirfd, name);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = store_failp(-errno, "pack %s: stat", name);
		goto out;
	}
	if ((uint64_t)st.st_size < PACK_HEADER_SIZE + PACK_FOOTER_SIZE) {
		r = store_fail(-STORE_ECORRUPT, "pack %s: truncated (%llu bytes)", name,
			       (unsigned long long)st.st_size);
		goto out;
	}
	r = check_header(fd, name);
	if (r < 0)
		goto out;
	r = pread_full(fd, name, footer, sizeof footer, (uint64_t)st.st_size - PACK_FOOTER_SIZE);
	if (r < 0)
		goto out;
	r = parse_footer_named(name, footer, (uint64_t)st.st_size, &index_off, &index_len, &count,
			       &index_xxh);
	if (r < 0)
		goto out;
	sealed = malloc(index_len);
	if (!sealed) {
		r = store_fail(-ENOMEM, "pack %s: out of memory", name);
		goto out;
	}
	r = pread_full(fd, name, sealed, index_len, index_off);
	if (r < 0)
		goto out;
	if (XXH3_64bits(sealed, index_len) != index_xxh) {
		r = store_fail(-STORE_ECORRUPT, "pack %s: index checksum mismatch", name);
		goto out;
	}
	r = blob_open(codec, &zero, BLOB_PACK_INDEX, sealed, index_len,
		      (size_t)count * PACK_ENTRY_SIZE, &plain, &plain_len);
	if (r < 0) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", store_error() ? store_error() : "cannot open");
		store_fail(r, "pack %s: index: %s", name, msg);
		goto out;
	}
	r = parse_index_named(name, plain, plain_len, count, index_off, ret_entries, ret_n);
	if (r >= 0)
		*ret_size = (uint64_t)st.st_size;
out:
	free(plain);
	free(sealed);
	close(fd);
	return r;
}
