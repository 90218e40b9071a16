/* pack_write.c — writing pack files (format in pack.h).
 *
 * A pack is written under tmp/ with a random name through a 1 MiB
 * userspace buffer (one write per MiB, not per blob), then the sealed
 * index and the footer are appended, the file is fsynced and renamed to
 * packs/<2 hex>/<name>.pack, and the directories are fsynced.  Only then
 * may the catalog refer to it.  A crash at any point leaves either a
 * complete pack or a stray file in tmp/ that the next writer removes; a
 * crash between the rename and the catalog's commit leaves the pack's
 * journal entry (tmp/<name>.pending, written before the rename), by which
 * the next writer indexes the pack.
 */
#include "store/pack.h"
#include "store/pack_format.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/le.h"

#define BUF_SIZE (1u << 20)
/* Written bytes are handed to the kernel's writeback (sync_file_range,
 * no wait) every WRITEBACK_STEP, so the disk writes while the pack fills
 * and the fsync at its end waits for the last few MiB, not for all 32
 * (nothing would start earlier: the dirty limits are gigabytes). */
#define WRITEBACK_STEP (4u << 20)
#define MAX_ENTRIES (BLOB_MAX_RAW / PACK_ENTRY_SIZE) /* the index is one blob */

struct pack_writer {
	int dirfd; /* the repository's; not owned */
	int fd;
	struct blob_codec *codec;
	char name[PACK_NAME_LEN + 1];
	char tmp_path[64];
	uint8_t *buf;
	size_t buf_used;
	uint64_t size; /* bytes appended so far, buffered or not */
	uint64_t written, handed; /* bytes in the file; of them, handed to writeback */
	struct pack_entry *entries;
	size_t n, cap;
	int err; /* sticky: after a failed write the file is unusable */
	bool created;  /* tmp_path exists and is ours */
	bool finished; /* renamed into packs/ */
};

static int write_full(struct pack_writer *pw, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(pw->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pw->err = n < 0 ? -errno : -EIO;
			return store_failp(pw->err, "pack %s: write", pw->tmp_path);
		}
		p += n;
		len -= (size_t)n;
		pw->written += (uint64_t)n;
	}
	if (pw->written - pw->handed >= WRITEBACK_STEP) {
		/* Advisory: a failure shows at the fsync. */
		(void)sync_file_range(pw->fd, (off_t)pw->handed, (off_t)(pw->written - pw->handed),
				      SYNC_FILE_RANGE_WRITE);
		pw->handed = pw->written;
	}
	return 0;
}

static int flush(struct pack_writer *pw)
{
	int r = write_full(pw, pw->buf, pw->buf_used);
	pw->buf_used = 0;
	return r;
}

static int append(struct pack_writer *pw, const uint8_t *p, size_t len)
{
	int r;
	if (pw->buf_used + len > BUF_SIZE) {
		r = flush(pw);
		if (r < 0)
			return r;
	}
	if (len >= BUF_SIZE) {
		r = write_full(pw, p, len);
		if (r < 0)
			return r;
	} else {
		memcpy(pw->buf + pw->buf_used, p, len);
		pw->buf_used += len;
	}
	pw->size += len;
	return 0;
}

static int sticky_error(const struct pack_writer *pw)
{
	return store_fail(pw->err, "pack %s: unusable after an earlier error", pw->tmp_path);
}

/* mkdir that tolerates an existing directory. */
static int make_dir(int dirfd, const char *path)
{
	if (mkdirat(dirfd, path, 0700) < 0 && errno != EEXIST)
		return store_failp(-errno, "pack directory %s: mkdir", path);
	return 0;
}

static int fsync_dir(int dirfd, const char *path)
{
	int r = fio_fsync_dir(dirfd, path);
	return r < 0 ? store_failp(r, "pack directory %s: fsync", path) : 0;
}

int pack_writer_open(int repo_dirfd, struct blob_codec *codec, struct pack_writer **ret)
{
	uint8_t header[PACK_HEADER_SIZE];
	pack_header_encode(header);
	uint8_t rnd[PACK_NAME_LEN / 2];
	int r;
	if (sodium_init() < 0)
		return store_fail(-ENOSYS, "libsodium: initialisation failed");
	struct pack_writer *pw = calloc(1, sizeof *pw);
	if (!pw)
		return store_fail(-ENOMEM, "pack writer: out of memory");
	pw->dirfd = repo_dirfd;
	pw->codec = codec;
	pw->fd = -1;
	randombytes_buf(rnd, sizeof rnd);
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(pw->name + 2 * i, 3, "%02x", rnd[i]);
	snprintf(pw->tmp_path, sizeof pw->tmp_path, "tmp/%s.pack", pw->name);

	pw->buf = malloc(BUF_SIZE);
	if (!pw->buf) {
		r = store_fail(-ENOMEM, "pack %s: out of memory", pw->tmp_path);
		goto fail;
	}
	r = make_dir(repo_dirfd, "tmp");
	if (r < 0)
		goto fail;
	pw->fd = openat(repo_dirfd, pw->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (pw->fd < 0) {
		r = store_failp(-errno, "pack %s: create", pw->tmp_path);
		goto fail;
	}
	pw->created = true;
	r = append(pw, header, sizeof header);
	if (r < 0)
		goto fail;
	*ret = pw;
	return 0;

fail:
	pack_writer_free(pw);
	return r;
}

int pack_writer_add(struct pack_writer *pw, const blob_id *id, uint8_t type,
		    const uint8_t *stored, size_t len, uint32_t raw_len, struct pack_entry *ret)
{
	if (pw->err)
		return sticky_error(pw);
	if (pw->finished)
		return store_fail(-EINVAL, "pack %s: add after finish", pw->name);
	if (type != BLOB_DATA && type != BLOB_TREE && type != BLOB_SNAPSHOT)
		return store_fail(-EINVAL, "pack %s: cannot hold a blob of type %u", pw->tmp_path,
				  type);
	if (len < BLOB_OVERHEAD || len > BLOB_MAX_RAW + BLOB_OVERHEAD || raw_len > BLOB_MAX_RAW)
		return store_fail(-EINVAL, "pack %s: impossible blob size %zu (raw %u)",
				  pw->tmp_path, len, raw_len);
	if (pw->n >= MAX_ENTRIES)
		return store_fail(-EFBIG, "pack %s: too many blobs", pw->tmp_path);
	if (pw->n == pw->cap) {
		size_t cap = pw->cap ? 2 * pw->cap : 256;
		struct pack_entry *e = realloc(pw->entries, cap * sizeof *e);
		if (!e)
			return store_fail(-ENOMEM, "pack %s: out of memory", pw->tmp_path);
		pw->entries = e;
		pw->cap = cap;
	}
	struct pack_entry e = {
		.id = *id,
		.type = type,
		.offset = pw->size,
		.length = (uint32_t)len,
		.raw_length = raw_len,
		.xxh = XXH3_64bits(stored, len),
	};
	int r = append(pw, stored, len);
	if (r < 0)
		return r;
	pw->entries[pw->n++] = e;
	if (ret)
		*ret = e;
	return 0;
}

uint64_t pack_writer_size(const struct pack_writer *pw)
{
	return pw->size;
}

size_t pack_writer_count(const struct pack_writer *pw)
{
	return pw->n;
}

/* Seal the index and append it and the footer. */
static int write_trailer(struct pack_writer *pw)
{
	static const blob_id zero;
	size_t raw_len = pw->n * PACK_ENTRY_SIZE;
	uint8_t *raw = malloc(raw_len ? raw_len : 1);
	uint8_t *sealed = malloc(blob_sealed_bound(raw_len));
	uint8_t footer[PACK_FOOTER_SIZE];
	size_t sealed_len;
	int r;
	if (!raw || !sealed) {
		r = store_fail(-ENOMEM, "pack %s: out of memory", pw->tmp_path);
		goto out;
	}
	for (size_t i = 0; i < pw->n; i++) {
		pack_entry_encode(&pw->entries[i], raw + i * PACK_ENTRY_SIZE);
	}
	r = blob_seal(pw->codec, &zero, BLOB_PACK_INDEX, raw, raw_len, sealed, &sealed_len);
	if (r < 0)
		goto out;
	le_put64(footer, pw->size);
	le_put32(footer + 8, (uint32_t)sealed_len);
	le_put32(footer + 12, (uint32_t)pw->n);
	le_put64(footer + 16, XXH3_64bits(sealed, sealed_len));
	memcpy(footer + 24, PACK_FOOTER_MAGIC, PACK_MAGIC_LEN);
	r = append(pw, sealed, sealed_len);
	if (r >= 0)
		r = append(pw, footer, sizeof footer);
	if (r >= 0)
		r = flush(pw);
out:
	free(raw);
	free(sealed);
	return r;
}

/* Create tmp/<name>.pending and make it durable (fsync of tmp/), so it
 * exists whenever the rename below may have happened. */
static int journal_pack(struct pack_writer *pw)
{
	char jpath[64];
	snprintf(jpath, sizeof jpath, "tmp/%s" PACK_JOURNAL_SUFFIX, pw->name);
	int fd = openat(pw->dirfd, jpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (fd < 0)
		return store_failp(-errno, "pack %s: journal", pw->name);
	close(fd);
	int r = fsync_dir(pw->dirfd, "tmp");
	if (r < 0)
		unlinkat(pw->dirfd, jpath, 0);
	return r;
}

void pack_journal_clear(int repo_dirfd, const char *name)
{
	char jpath[64];
	snprintf(jpath, sizeof jpath, "tmp/%s" PACK_JOURNAL_SUFFIX, name);
	unlinkat(repo_dirfd, jpath, 0);
}

int pack_writer_finish(struct pack_writer *pw, char ret_name[PACK_NAME_LEN + 1],
		       const struct pack_entry **ret_entries, size_t *ret_n,
		       uint64_t *ret_size)
{
	char fan[16], final[64];
	int r;
	if (pw->err)
		return sticky_error(pw);
	if (pw->finished)
		return store_fail(-EINVAL, "pack %s: finished twice", pw->name);
	r = write_trailer(pw);
	if (r < 0)
		return r;
	if (fsync(pw->fd) < 0) {
		pw->err = -errno;
		return store_failp(pw->err, "pack %s: fsync", pw->tmp_path);
	}
	if (close(pw->fd) < 0) {
		pw->fd = -1;
		pw->err = -errno;
		return store_failp(pw->err, "pack %s: close", pw->tmp_path);
	}
	pw->fd = -1;

	snprintf(fan, sizeof fan, "packs/%.2s", pw->name);
	pack_path(pw->name, final, sizeof final);
	r = make_dir(pw->dirfd, "packs");
	if (r >= 0)
		r = make_dir(pw->dirfd, fan);
	if (r < 0) {
		pw->err = r;
		return r;
	}
	r = journal_pack(pw);
	if (r < 0) {
		pw->err = r;
		return r;
	}
	if (renameat(pw->dirfd, pw->tmp_path, pw->dirfd, final) < 0) {
		pw->err = -errno;
		r = store_failp(pw->err, "pack %s: rename to %s", pw->tmp_path, final);
		pack_journal_clear(pw->dirfd, pw->name);
		return r;
	}
	/* From here the pack exists under its final name: free must not
	 * look for the temp file any more. */
	pw->finished = true;
	r = fsync_dir(pw->dirfd, fan);
	if (r >= 0)
		r = fsync_dir(pw->dirfd, "packs");
	if (r >= 0)
		r = fsync_dir(pw->dirfd, "tmp");
	if (r < 0)
		return r;
	memcpy(ret_name, pw->name, PACK_NAME_LEN + 1);
	*ret_entries = pw->entries;
	*ret_n = pw->n;
	*ret_size = pw->size;
	return 0;
}

void pack_writer_free(struct pack_writer *pw)
{
	if (!pw)
		return;
	if (pw->fd >= 0)
		close(pw->fd);
	if (pw->created && !pw->finished)
		unlinkat(pw->dirfd, pw->tmp_path, 0);
	free(pw->buf);
	free(pw->entries);
	free(pw);
}
