/* check.c — the order of a check (see check.h) and what its layers share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/check.h"
#include "store/check_internal.h"
#include "store/err.h"
#include "store/gc_lock.h"
#include "store/repo_internal.h"
#include "store/writer.h"

void check_say(struct check_ctx *c, enum check_level level, const char *fmt, ...)
{
	if (level == CHECK_DAMAGE)
		c->res->healthy = false;
	if (!c->opts->report)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->opts->report(c->opts->ctx, level, line);
}

struct check_blob *check_blob_find(struct check_ctx *c, const blob_id *id, uint8_t type)
{
	size_t lo = 0, hi = c->nblobs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = id_type_cmp(&c->blobs[mid].id, c->blobs[mid].type, id, type);
		if (d == 0)
			return &c->blobs[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Ids are keyed hashes: their first bytes are already uniform. */
static size_t slot_of(const struct check_idmap *m, const blob_id *id)
{
	uint64_t h;
	memcpy(&h, id->b, sizeof h);
	return (size_t)h & (m->cap - 1);
}

static int idmap_grow(struct check_idmap *m)
{
	size_t ncap = m->cap ? 2 * m->cap : 1024;
	struct check_idmap n = { calloc(ncap, sizeof *n.ids), calloc(ncap, sizeof *n.vals), ncap, 0 };
	if (!n.ids || !n.vals) {
		free(n.ids);
		free(n.vals);
		return store_fail(-ENOMEM, "check: out of memory");
	}
	for (size_t i = 0; i < m->cap; i++)
		if (!id_is_zero(&m->ids[i]))
			check_idmap_put(&n, &m->ids[i], m->vals[i]);
	check_idmap_free(m);
	*m = n;
	return 0;
}

int check_idmap_put(struct check_idmap *m, const blob_id *id, uint32_t val)
{
	if (id_is_zero(id))
		return 0; /* never a real id; would look like an empty slot */
	if ((m->n + 1) * 4 > m->cap * 3) {
		int r = idmap_grow(m);
		if (r < 0)
			return r;
	}
	for (size_t i = slot_of(m, id);; i = (i + 1) & (m->cap - 1)) {
		if (id_is_zero(&m->ids[i])) {
			m->ids[i] = *id;
			m->vals[i] = val;
			m->n++;
			return 0;
		}
		if (id_equal(&m->ids[i], id)) {
			m->vals[i] = val;
			return 0;
		}
	}
}

uint32_t check_idmap_get(const struct check_idmap *m, const blob_id *id)
{
	if (!m->cap)
		return 0;
	for (size_t i = slot_of(m, id);; i = (i + 1) & (m->cap - 1)) {
		if (id_is_zero(&m->ids[i]))
			return 0;
		if (id_equal(&m->ids[i], id))
			return m->vals[i];
	}
}

void check_idmap_free(struct check_idmap *m)
{
	free(m->ids);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

int check_run(struct repo *repo, const struct check_opts *opts, struct check_result *ret)
{
	struct check_result res = { .healthy = true };
	struct check_ctx c = { .repo = repo, .opts = opts, .res = &res };
	int r;

	if (opts->repair && repo->mode != REPO_WRITE)
		return store_fail(-EINVAL, "check: repair needs the repository open for writing");

	/* Without --repair (which holds the writer lock) a gc could move
	 * blobs and delete packs under the lists read below: wait for it. */
	int gcfd = -1;
	if (!opts->repair && (r = gc_lock_take(repo, false, &gcfd)) < 0)
		return r;

	if (opts->repair) {
		r = check_repair_tmp(&c);
		if (r < 0)
			goto out;
	}

	bool catalog_ok;
	r = check_catalog_quick(&c, &catalog_ok);
	if (r < 0)
		goto out;
	if (!catalog_ok) {
		res.catalog_damaged = true;
		if (!opts->repair) {
			check_say(&c, CHECK_INFO,
				  "the catalog can be rebuilt from the packs: ckptfs check --repair");
			goto done;
		}
		r = check_catalog_reset(&c);
		if (r < 0)
			goto out;
		res.healthy = true; /* judged again on the rebuilt catalog */
	}

	/* Invalid rows first: every list below leaves them out. */
	r = check_catalog_rows(&c);
	if (r < 0)
		goto out;

	/* Snapshots before blobs before packs: what a concurrent writer
	 * commits between these reads is only ever newer than what is read
	 * before it, so it never looks like a dangling reference. */
	r = check_catalog_snapshots(&c);
	if (r >= 0)
		r = check_catalog_blobs(&c);
	if (r >= 0)
		r = check_catalog_packs(&c);
	if (r < 0)
		goto out;

	r = check_packs(&c);
	if (r < 0)
		goto out;
	if (opts->read_data) {
		r = check_read_data(&c);
		if (r < 0)
			goto out;
	}
	if (opts->repair) {
		r = check_repair_recover(&c);
		if (r < 0)
			goto out;
	}
	r = check_snapshots(&c);
	if (r >= 0 && c.fatal)
		r = c.fatal;
	if (r < 0)
		goto out;
done:
	*ret = res;
	r = 0;
out:
	gc_lock_release(gcfd);
	writer_free(c.restore_writer);
	check_idmap_free(&c.restored);
	check_idmap_free(&c.trees);
	snapshots_free(c.snaps, c.nsnaps);
	free(c.blobs);
	free(c.packs);
	return r;
}
