/* check_packs.c — packs: present, sized, self-consistent, and their blobs
 * sound (with read_data); repair indexes the packs the catalog lacks and
 * re-points rows at the pack that really holds the blob. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/blob.h"
#include "store/catalog_internal.h"
#include "store/check_internal.h"
#include "store/err.h"
#include "store/repo_internal.h"

static const char *type_name(uint8_t t)
{
	switch (t) {
	case BLOB_DATA:
		return "chunk";
	case BLOB_TREE:
		return "tree";
	default:
		return "blob";
	}
}

/* Catalog rows ordered by (pack, offset): each pack's rows are a run. */
static int cmp_row(const void *a, const void *b, void *ctx)
{
	const struct check_ctx *c = ctx;
	const struct check_blob *x = &c->blobs[*(const size_t *)a];
	const struct check_blob *y = &c->blobs[*(const size_t *)b];
	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int rows_by_pack(struct check_ctx *c, size_t **ret)
{
	size_t *order = malloc((c->nblobs ? c->nblobs : 1) * sizeof *order);
	if (!order)
		return store_fail(-ENOMEM, "check: out of memory");
	for (size_t i = 0; i < c->nblobs; i++)
		order[i] = i;
	if (c->nblobs)
		qsort_r(order, c->nblobs, sizeof *order, cmp_row, c);
	*ret = order;
	return 0;
}

static int cmp_entry_id(const void *a, const void *b)
{
	const struct pack_entry *x = a, *y = b;
	return id_type_cmp(&x->id, x->type, &y->id, y->type);
}

static const struct pack_entry *entry_find(const struct pack_entry *e, size_t n, const blob_id *id,
					   uint8_t type)
{
	if (!n)
		return NULL;
	struct pack_entry key;
	key.id = *id;
	key.type = type;
	return bsearch(&key, e, n, sizeof *e, cmp_entry_id);
}

static bool entry_matches(const struct check_blob *b, const struct pack_entry *e)
{
	return b->offset == e->offset && b->length == e->length && b->raw_length == e->raw_length &&
	       b->type == e->type && b->xxh == e->xxh;
}

/* Every pack's index, kept for repair: a row whose pack is lost may be
 * re-pointed at another pack holding the same blob. */
struct pack_index {
	struct pack_entry *e; /* sorted by (id, type) */
	size_t n;
};

static int check_one_pack(struct check_ctx *c, size_t pi, const size_t *order, size_t from,
			  size_t to, struct pack_index *ret_index)
{
	struct check_pack *p = &c->packs[pi];
	struct repo *repo = c->repo;
	char path[64];
	struct stat st;
	pack_path(p->name, path, sizeof path);
	c->res->packs++;
	for (size_t i = 0; i < c->opts->nassume_bad; i++)
		if (!strcmp(c->opts->assume_bad[i], p->name)) {
			p->state = PACK_BAD;
			c->res->damaged_packs++;
			check_say(c, CHECK_DAMAGE, "pack %s: %s", p->name,
				  c->opts->assume_bad_why ? c->opts->assume_bad_why : "damaged");
			return 0;
		}
	if (fstatat(repo->dirfd, path, &st, 0) < 0) {
		if (errno != ENOENT)
			return store_failp(-errno, "%s/%s", repo->path, path);
		p->state = PACK_MISSING;
		c->res->damaged_packs++;
		check_say(c, CHECK_DAMAGE, "pack %s: missing (%zu blobs indexed in it)", p->name,
			  to - from);
		return 0;
	}
	if ((uint64_t)st.st_size != p->size) {
		p->state = PACK_BAD;
		c->res->damaged_packs++;
		check_say(c, CHECK_DAMAGE, "pack %s: %llu bytes, the catalog recorded %llu", p->name,
			  (unsigned long long)st.st_size, (unsigned long long)p->size);
		return 0;
	}
	struct pack_entry *e = NULL;
	size_t n = 0;
	uint64_t size;
	struct blob_codec *codec = repo_codec(repo);
	if (!codec)
		return store_fail(-ENOMEM, "check: out of memory");
	int r = pack_read_index(repo->dirfd, p->name, codec, &e, &n, &size);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		p->state = PACK_BAD;
		c->res->damaged_packs++;
		check_say(c, CHECK_DAMAGE, "pack %s: %s", p->name,
			  store_error() ? store_error() : strerror(-r));
		return 0;
	}
	if (n)
		qsort(e, n, sizeof *e, cmp_entry_id);
	uint64_t mismatches = 0;
	for (size_t k = from; k < to; k++) {
		struct check_blob *b = &c->blobs[order[k]];
		const struct pack_entry *pe = entry_find(e, n, &b->id, b->type);
		if (pe && entry_matches(b, pe))
			continue;
		char hex[ID_HEX_LEN + 1];
		id_to_hex(&b->id, hex);
		if (pe && c->opts->repair) {
			r = check_catalog_fix_row(c, p->dbid, pe);
			if (r < 0)
				goto out;
			c->res->rows_fixed++;
			check_say(c, CHECK_INFO, "repair: pack %s: %s %s: catalog row corrected",
				  p->name, type_name(pe->type), hex);
			b->offset = pe->offset;
			b->length = pe->length;
			b->raw_length = pe->raw_length;
			b->type = pe->type;
			b->xxh = pe->xxh;
			continue;
		}
		if (!pe) {
			/* Left for repair to re-point; until then the blob is
			 * as good as missing. */
			b->bad = true;
			c->res->damaged_blobs++;
		}
		if (mismatches++ < 20)
			check_say(c, CHECK_DAMAGE, "pack %s: %s %s: %s", p->name, type_name(b->type),
				  hex,
				  pe ? "the catalog's row disagrees with the pack's index"
				     : "indexed in this pack by the catalog, but not in it");
	}
	if (mismatches > 20)
		check_say(c, CHECK_DAMAGE, "pack %s: %llu more disagreeing rows", p->name,
			  (unsigned long long)(mismatches - 20));
	if (mismatches && !c->opts->repair) {
		p->state = PACK_BAD;
		c->res->damaged_packs++;
	}
	r = 0;
out:
	if (r >= 0 && ret_index) {
		ret_index->e = e;
		ret_index->n = n;
	} else {
		free(e);
	}
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_pack_name(const char *s)
{
	if (strlen(s) != PACK_NAME_LEN + 5 || strcmp(s + PACK_NAME_LEN, ".pack") != 0)
		return false;
	for (size_t i = 0; i < PACK_NAME_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Packs in packs/ the catalog does not list: an interrupted writer leaves
 * them (renamed, not yet indexed).  Repair indexes them. */
static int find_unindexed(struct check_ctx *c, bool *ret_added)
{
	struct repo *repo = c->repo;
	char **known = malloc((c->npacks ? c->npacks : 1) * sizeof *known);
	if (!known)
		return store_fail(-ENOMEM, "check: out of memory");
	for (size_t i = 0; i < c->npacks; i++)
		known[i] = c->packs[i].name;
	if (c->npacks)
		qsort(known, c->npacks, sizeof *known, cmp_name);
	int r = 0;
	int pfd = openat(repo->dirfd, "packs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		if (errno != ENOENT)
			r = store_failp(-errno, "%s/packs", repo->path);
		goto out_known;
	}
	DIR *top = fdopendir(pfd);
	if (!top) {
		close(pfd);
		r = store_failp(-errno, "%s/packs", repo->path);
		goto out_known;
	}
	struct dirent *de;
	while (r >= 0 && (de = readdir(top))) {
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		int sfd = openat(pfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sfd < 0)
			continue;
		DIR *sub = fdopendir(sfd);
		if (!sub) {
			close(sfd);
			continue;
		}
		struct dirent *fe;
		while (r >= 0 && (fe = readdir(sub))) {
			if (!is_pack_name(fe->d_name) || strncmp(fe->d_name, de->d_name, 2) != 0)
				continue;
			char name[PACK_NAME_LEN + 1];
			memcpy(name, fe->d_name, PACK_NAME_LEN);
			name[PACK_NAME_LEN] = 0;
			char *key = name;
			if (c->npacks && bsearch(&key, known, c->npacks, sizeof *known, cmp_name))
				continue;
			c->res->unindexed_packs++;
			if (!c->opts->repair) {
				check_say(c, CHECK_NOTICE,
					  "pack %s: not in the catalog (left by an interrupted run; "
					  "check --repair indexes it)",
					  name);
				continue;
			}
			struct pack_entry *e = NULL;
			size_t n = 0;
			uint64_t size;
			struct blob_codec *codec = repo_codec(repo);
			if (!codec) {
				r = store_fail(-ENOMEM, "check: out of memory");
				break;
			}
			int rr = pack_read_index(repo->dirfd, name, codec, &e, &n, &size);
			if (rr == -ENOMEM) {
				r = rr;
				break;
			}
			if (rr < 0) {
				c->res->damaged_packs++;
				check_say(c, CHECK_DAMAGE, "pack %s: not in the catalog, and %s; left in place",
					  name, store_error() ? store_error() : strerror(-rr));
				continue;
			}
			rr = catalog_pack_add(repo, name, size, e, n);
			free(e);
			if (rr < 0) {
				r = rr;
				break;
			}
			c->res->packs_indexed++;
			*ret_added = true;
			check_say(c, CHECK_INFO, "repair: pack %s: indexed (%zu blobs)", name, n);
		}
		closedir(sub);
	}
	closedir(top);
out_known:
	free(known);
	return r;
}

static int repoint_rows(struct check_ctx *c, const size_t *order, struct pack_index *idx)
{
	for (size_t k = 0; k < c->nblobs; k++) {
		struct check_blob *b = &c->blobs[order[k]];
		bool lost = b->bad || b->pack == UINT32_MAX || c->packs[b->pack].state != PACK_OK;
		if (!lost)
			continue;
		for (size_t pi = 0; pi < c->npacks; pi++) {
			if (c->packs[pi].state != PACK_OK || !idx[pi].e)
				continue;
			const struct pack_entry *pe = entry_find(idx[pi].e, idx[pi].n, &b->id, b->type);
			if (!pe)
				continue;
			int r = check_catalog_fix_row(c, c->packs[pi].dbid, pe);
			if (r < 0)
				return r;
			char hex[ID_HEX_LEN + 1];
			id_to_hex(&b->id, hex);
			check_say(c, CHECK_INFO, "repair: %s %s: now read from pack %s",
				  type_name(pe->type), hex, c->packs[pi].name);
			c->res->rows_fixed++;
			b->pack = (uint32_t)pi;
			b->pack_dbid = c->packs[pi].dbid;
			b->offset = pe->offset;
			b->length = pe->length;
			b->raw_length = pe->raw_length;
			b->type = pe->type;
			b->xxh = pe->xxh;
			b->bad = false;
			break;
		}
	}
	return 0;
}

int check_packs(struct check_ctx *c)
{
	bool added = false;
	int r = find_unindexed(c, &added);
	if (r < 0)
		return r;
	if (added) {
		r = check_catalog_blobs(c);
		if (r >= 0)
			r = check_catalog_packs(c);
		if (r < 0)
			return r;
	}
	size_t *order;
	r = rows_by_pack(c, &order);
	if (r < 0)
		return r;
	struct pack_index *idx = NULL;
	if (c->opts->repair) {
		idx = calloc(c->npacks ? c->npacks : 1, sizeof *idx);
		if (!idx) {
			free(order);
			return store_fail(-ENOMEM, "check: out of memory");
		}
	}
	size_t k = 0;
	/* Rows of unknown packs sort last (pack == UINT32_MAX). */
	for (size_t pi = 0; pi < c->npacks && r >= 0; pi++) {
		size_t from = k;
		while (k < c->nblobs && c->blobs[order[k]].pack == pi)
			k++;
		r = check_one_pack(c, pi, order, from, k, idx ? &idx[pi] : NULL);
	}
	for (; r >= 0 && k < c->nblobs; k++) {
		struct check_blob *b = &c->blobs[order[k]];
		char hex[ID_HEX_LEN + 1];
		id_to_hex(&b->id, hex);
		c->res->damaged_blobs++;
		check_say(c, CHECK_DAMAGE, "%s %s: indexed in pack #%lld, which the catalog lacks",
			  type_name(b->type), hex, (long long)b->pack_dbid);
	}
	if (r >= 0 && idx)
		r = repoint_rows(c, order, idx);
	if (idx)
		for (size_t pi = 0; pi < c->npacks; pi++)
			free(idx[pi].e);
	free(idx);
	free(order);
	c->res->blobs = c->nblobs;
	return r;
}

/* A small PRNG for choosing the packs of --read-data=PERCENT. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int read_pack_blobs(struct check_ctx *c, struct check_pack *p, const size_t *order,
			   size_t from, size_t to)
{
	struct repo *repo = c->repo;
	struct blob_codec *codec = repo_codec(repo);
	if (!codec)
		return store_fail(-ENOMEM, "check: out of memory");
	uint8_t *buf = NULL;
	size_t cap = 0;
	int r = 0;
	c->res->packs_read++;
	for (size_t k = from; k < to; k++) {
		struct check_blob *b = &c->blobs[order[k]];
		if (b->bad)
			continue;
		if (b->length > cap) {
			uint8_t *nb = realloc(buf, b->length);
			if (!nb) {
				r = store_fail(-ENOMEM, "check: out of memory");
				break;
			}
			buf = nb;
			cap = b->length;
		}
		char hex[ID_HEX_LEN + 1];
		id_to_hex(&b->id, hex);
		const char *why = NULL;
		char msg[600];
		store_error_clear();
		int rr = pack_read_blob(repo->dirfd, p->name, b->offset, b->length, buf);
		if (rr == -ENOMEM) {
			r = rr;
			break;
		}
		if (rr < 0) {
			snprintf(msg, sizeof msg, "%s", store_error() ? store_error() : strerror(-rr));
			why = msg;
		} else if (XXH3_64bits(buf, b->length) != b->xxh) {
			why = "stored bytes do not match their checksum";
		} else {
			uint8_t *plain = NULL;
			size_t plen = 0;
			rr = blob_open(codec, &b->id, b->type, buf, b->length, b->raw_length, &plain,
				       &plen);
			free(plain);
			if (rr == -ENOMEM) {
				r = rr;
				break;
			}
			if (rr < 0) {
				snprintf(msg, sizeof msg, "%s",
					 store_error() ? store_error() : strerror(-rr));
				why = msg;
			}
		}
		c->res->blobs_read++;
		c->res->bytes_read += b->length;
		if (why) {
			b->bad = true;
			c->res->damaged_blobs++;
			check_say(c, CHECK_DAMAGE, "pack %s: %s %s at pack offset %llu: %s", p->name,
				  type_name(b->type), hex, (unsigned long long)b->offset, why);
		}
	}
	free(buf);
	return r;
}

int check_read_data(struct check_ctx *c)
{
	unsigned pct = c->opts->read_percent ? c->opts->read_percent : 100;
	if (pct > 100)
		pct = 100;
	uint8_t *chosen = calloc(c->npacks ? c->npacks : 1, 1);
	if (!chosen)
		return store_fail(-ENOMEM, "check: out of memory");
	size_t want = (c->npacks * pct + 99) / 100;
	if (pct == 100) {
		memset(chosen, 1, c->npacks);
	} else {
		/* A random subset of exactly want packs (partial Fisher-Yates
		 * over indices), so repeated runs cover the whole repository. */
		uint64_t s = c->opts->seed ? c->opts->seed : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
		if (!s)
			s = 1;
		size_t *perm = malloc((c->npacks ? c->npacks : 1) * sizeof *perm);
		if (!perm) {
			free(chosen);
			return store_fail(-ENOMEM, "check: out of memory");
		}
		for (size_t i = 0; i < c->npacks; i++)
			perm[i] = i;
		for (size_t i = 0; i < want; i++) {
			size_t j = i + (size_t)(next_rand(&s) % (c->npacks - i));
			size_t t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
			chosen[perm[i]] = 1;
		}
		free(perm);
	}
	size_t *order;
	int r = rows_by_pack(c, &order);
	if (r < 0) {
		free(chosen);
		return r;
	}
	size_t k = 0;
	for (size_t pi = 0; pi < c->npacks && r >= 0; pi++) {
		size_t from = k;
		while (k < c->nblobs && c->blobs[order[k]].pack == pi)
			k++;
		if (chosen[pi] && c->packs[pi].state == PACK_OK)
			r = read_pack_blobs(c, &c->packs[pi], order, from, k);
	}
	free(order);
	free(chosen);
	return r;
}
