/* writer_stream.c — chunking a byte stream into stored chunks.
 *
 * The stream is read into one buffer of STREAM_BUF bytes; chunks are cut
 * and stored straight out of it (no copy), and only the tail shorter than
 * CHUNKER_MAX is moved to the front before the next refill.  chunker_cut
 * needs CHUNKER_MAX bytes or the end of the stream, which the loop
 * guarantees.  A stream that starts as a SQLite database is cut on page
 * boundaries instead (chunker_sqlite_unit): STREAM_BUF and CHUNKER_MAX are
 * multiples of every page size, so pos stays page-aligned.
 *
 * There are two buffers: while a helper thread hashes one's chunks
 * (writer_hash.c), the caller reads and cuts the next into the other, then
 * looks up and queues the hashed one's chunks in stream order.
 */
#include "store/writer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/chunker.h"
#include "store/err.h"
#include "store/writer_internal.h"

#define STREAM_BUF ((size_t)WRITER_STREAM_BUF) /* 4 MiB */
_Static_assert(WRITER_STREAM_BUF == 16 * CHUNKER_MAX, "writer_internal.h's buffer size");
_Static_assert(WRITER_STREAM_BUF / CHUNKER_SQLITE_MIN + 1 <= WRITER_STREAM_SPANS,
	       "a span per chunk of at least CHUNKER_SQLITE_MIN bytes");

/* Past its first BULK_FROM bytes a stream is sealed at zstd level 1
 * (BLOB_ZSTD_LEVEL_BULK) instead of 3.  Big files are where a first
 * snapshot spends its compression time, and on 64 KiB chunks level 1 costs
 * little ratio there: per chunk, on 300 MB of a generated web log level 1
 * stored 4.62x at 1.25 s of CPU against level 3's 4.44x at 1.62 s; on
 * 300 MB of concatenated source files 3.86x at 1.12 s against 4.07x at
 * 1.35 s; random data is passed over equally fast by both.  Small files
 * (source trees), whose whole size is below BULK_FROM, keep level 3's
 * ratio.  The level changes only the stored bytes, never the chunk ids,
 * so dedup is the same. */
#define BULK_FROM (4u << 20)

struct chunk_list {
	struct node_chunk *v;
	size_t n, cap;
	uint64_t size;
};

static int list_add(struct chunk_list *l, const blob_id *id, size_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct node_chunk *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return store_fail(-ENOMEM, "writer: out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].id = *id;
	l->v[l->n].off = l->size;
	l->v[l->n].len = (uint32_t)len;
	l->n++;
	l->size += len;
	return 0;
}

/* Fill buf[*fill..cap) unless the stream ends first. */
static int refill(writer_read_fn read, void *ctx, uint8_t *buf, size_t cap, size_t *fill,
		  bool *eof)
{
	while (*fill < cap) {
		size_t n = 0;
		int r = read(ctx, buf + *fill, cap - *fill, &n);
		if (r < 0)
			return r;
		if (n == 0) {
			*eof = true;
			break;
		}
		if (n > cap - *fill)
			return store_fail(-EINVAL, "writer: reader returned more than asked");
		*fill += n;
	}
	return 0;
}

static int batches_make(struct writer *w)
{
	for (size_t i = 0; i < 2; i++) {
		struct writer_batch *b = &w->batch[i];
		if (b->buf)
			continue;
		b->buf = malloc(STREAM_BUF);
		b->spans = malloc(WRITER_STREAM_SPANS * sizeof *b->spans);
		b->ids = malloc(WRITER_STREAM_SPANS * sizeof *b->ids);
		if (!b->buf || !b->spans || !b->ids) {
			free(b->buf);
			free(b->spans);
			free(b->ids);
			*b = (struct writer_batch){0};
			return store_fail(-ENOMEM, "writer: out of memory");
		}
	}
	return 0;
}

/* Look up and queue b's chunks (hashed), in order, onto l. */
static int store_batch(struct writer *w, const struct writer_batch *b, struct chunk_list *l)
{
	for (size_t i = 0; i < b->n; i++) {
		int level = l->size >= BULK_FROM ? BLOB_ZSTD_LEVEL_BULK : 0;
		int r = writer_put_blob_id(w, BLOB_DATA, level, b->buf + b->spans[i].off,
					   b->spans[i].len, &b->ids[i]);
		if (r < 0)
			return r;
		if ((r = list_add(l, &b->ids[i], b->spans[i].len)) < 0)
			return r;
	}
	return 0;
}

int writer_put_stream(struct writer *w, writer_read_fn read, void *ctx, struct node *file)
{
	struct chunk_list l = { 0 };
	size_t fill = 0;
	bool eof = false;
	int r;

	if ((r = batches_make(w)) < 0)
		return r;
	/* cur is being filled and cut; prev (if not NULL) was submitted for
	 * hashing and its chunks are not stored yet; hashing (if not NULL) is
	 * the batch submitted and not yet finished.  They alternate. */
	struct writer_batch *cur = &w->batch[0], *prev = NULL, *hashing = NULL;
	size_t unit = 0; /* page-aligned chunks of this size (SQLite), or 0 */
	bool first = true;
	for (;;) {
		r = refill(read, ctx, cur->buf, STREAM_BUF, &fill, &eof);
		if (r < 0)
			goto fail;
		if (first)
			unit = chunker_sqlite_unit(cur->buf, fill);
		size_t pos = 0;
		cur->n = 0;
		while (fill - pos >= CHUNKER_MAX || (eof && pos < fill)) {
			size_t left = fill - pos;
			size_t c = unit ? (left < unit ? left : unit) : chunker_cut(cur->buf + pos, left);
			cur->spans[cur->n++] = (struct writer_span){.off = pos, .len = c};
			pos += c;
		}
		if (prev) {
			writer_hash_finish(w, prev);
			hashing = NULL;
		}
		if (first && eof) {
			/* A stream that fits one buffer (most files) is hashed
			 * here: a handoff per small file would cost more than it
			 * could overlap. */
			writer_hash_here(w->repo, cur);
		} else {
			writer_hash_submit(w, cur);
			hashing = cur;
		}
		first = false;
		if (prev && (r = store_batch(w, prev, &l)) < 0)
			goto fail;
		if (eof) {
			if (hashing) {
				writer_hash_finish(w, cur);
				hashing = NULL;
			}
			if ((r = store_batch(w, cur, &l)) < 0)
				goto fail;
			break;
		}
		/* The tail after cur's last chunk starts the other buffer (cur
		 * is only read meanwhile: it is being hashed). */
		struct writer_batch *next = cur == &w->batch[0] ? &w->batch[1] : &w->batch[0];
		memcpy(next->buf, cur->buf + pos, fill - pos);
		fill -= pos;
		prev = cur;
		cur = next;
	}
	free(file->chunks);
	file->chunks = l.v;
	file->nchunks = l.n;
	file->size = l.size;
	return 0;
fail:
	/* The helper must be done with the buffers before they are reused. */
	if (hashing)
		writer_hash_finish(w, hashing);
	free(l.v);
	return r;
}

static int read_fd(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	int fd = *(int *)ctx;
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n >= 0) {
			*ret_n = (size_t)n;
			return 0;
		}
		if (errno != EINTR)
			return store_failp(-errno, "reading file");
	}
}

int writer_put_fd(struct writer *w, int fd, struct node *file)
{
	return writer_put_stream(w, read_fd, &fd, file);
}
