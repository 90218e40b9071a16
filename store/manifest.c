/* manifest.c — a remote's pack list (format in manifest.h). */
#include "store/manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "store/err.h"

#define MAGIC "ckptfs-manifest "

static bool is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool manifest_is_pack_name(const char *s, size_t len)
{
	return len == PACK_NAME_LEN && is_hex(s, len);
}

void manifest_clear(struct manifest *m)
{
	if (!m)
		return;
	free(m->packs);
	memset(m, 0, sizeof *m);
}

int manifest_add(struct manifest *m, const struct manifest_pack *p)
{
	if (m->n == m->cap) {
		size_t ncap = m->cap ? 2 * m->cap : 64;
		struct manifest_pack *np = realloc(m->packs, ncap * sizeof *np);
		if (!np)
			return store_fail(-ENOMEM, "manifest: out of memory");
		m->packs = np;
		m->cap = ncap;
	}
	m->packs[m->n++] = *p;
	return 0;
}

static int cmp_pack(const void *a, const void *b)
{
	return strcmp(((const struct manifest_pack *)a)->name,
		      ((const struct manifest_pack *)b)->name);
}

void manifest_sort(struct manifest *m)
{
	if (m->n)
		qsort(m->packs, m->n, sizeof *m->packs, cmp_pack);
}

const struct manifest_pack *manifest_find(const struct manifest *m, const char *name)
{
	struct manifest_pack key;
	if (!m->n || strlen(name) != PACK_NAME_LEN)
		return NULL;
	memcpy(key.name, name, PACK_NAME_LEN + 1);
	return bsearch(&key, m->packs, m->n, sizeof *m->packs, cmp_pack);
}

int manifest_encode(const struct manifest *m, char **ret_buf, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return store_fail(-ENOMEM, "manifest: out of memory");
	fprintf(f, MAGIC "%d\nrepo %s\ntime %" PRId64 "\nremote %s\n", MANIFEST_VERSION,
		m->repo_id, m->time_ns, m->remote);
	for (size_t i = 0; i < m->n; i++)
		fprintf(f, "pack %s %" PRIu64 " %s %" PRId64 "\n", m->packs[i].name,
			m->packs[i].size, m->packs[i].sum, m->packs[i].gone_ns);
	if (fflush(f) != 0) {
		fclose(f);
		free(buf);
		return store_fail(-ENOMEM, "manifest: out of memory");
	}
	fprintf(f, "sum %016" PRIx64 "\n", (uint64_t)XXH3_64bits(buf, len));
	if (fclose(f) != 0) {
		free(buf);
		return store_fail(-ENOMEM, "manifest: out of memory");
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* A decimal without sign, leading zeros or overflow. */
static bool parse_u64(const char *s, size_t len, uint64_t *ret)
{
	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

/* Split line (no newline) into at most max fields at single spaces. */
static size_t split(const char *line, size_t len, const char **f, size_t *flen, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (n == max)
			return max + 1;
		f[n] = line + start;
		flen[n++] = i - start;
		start = i + 1;
	}
	return n;
}

static bool field_is(const char *f, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(f, word, len) == 0;
}

static int bad(const char *what, unsigned line, const char *why)
{
	return store_fail(-STORE_ECORRUPT, "%s: line %u: %s", what, line, why);
}

int manifest_decode(const char *what, const char *buf, size_t len, struct manifest *ret)
{
	struct manifest m = {0};
	const char *f[6];
	size_t fl[6];
	unsigned line = 0;
	size_t pos = 0;
	bool have_repo = false, have_time = false, have_remote = false, have_sum = false;
	int r = 0;
	if (len > MANIFEST_MAX_BYTES)
		return store_fail(-STORE_ECORRUPT, "%s: larger than %u MiB", what,
				  MANIFEST_MAX_BYTES >> 20);
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl) {
			r = bad(what, line + 1, "truncated (no newline)");
			goto fail;
		}
		const char *s = buf + pos;
		size_t sl = (size_t)(nl - s);
		size_t lstart = pos;
		pos += sl + 1;
		line++;
		if (have_sum) {
			r = bad(what, line, "data after the sum");
			goto fail;
		}
		size_t n = split(s, sl, f, fl, 5);
		if (line == 1) {
			uint64_t v;
			if (sl < strlen(MAGIC) || memcmp(s, MAGIC, strlen(MAGIC)) != 0) {
				r = store_fail(-STORE_ECORRUPT, "%s: not a ckptfs manifest", what);
				goto fail;
			}
			if (n != 2 || !parse_u64(f[1], fl[1], &v)) {
				r = bad(what, line, "bad version");
				goto fail;
			}
			if (v > MANIFEST_VERSION) {
				r = store_fail(-STORE_ENEWER,
					       "%s: manifest version %" PRIu64 " is newer than this ckptfs",
					       what, v);
				goto fail;
			}
			if (v != MANIFEST_VERSION) {
				r = bad(what, line, "bad version");
				goto fail;
			}
		} else if (n == 2 && field_is(f[0], fl[0], "repo") && !have_repo && line == 2) {
			if (fl[1] != KEYS_REPO_ID_LEN || !is_hex(f[1], fl[1])) {
				r = bad(what, line, "bad repository id");
				goto fail;
			}
			memcpy(m.repo_id, f[1], KEYS_REPO_ID_LEN);
			m.repo_id[KEYS_REPO_ID_LEN] = '\0';
			have_repo = true;
		} else if (n == 2 && field_is(f[0], fl[0], "time") && !have_time && line == 3) {
			uint64_t v;
			if (!parse_u64(f[1], fl[1], &v) || v > INT64_MAX) {
				r = bad(what, line, "bad time");
				goto fail;
			}
			m.time_ns = (int64_t)v;
			have_time = true;
		} else if (n == 2 && field_is(f[0], fl[0], "remote") && line == 4) {
			bool ok = fl[1] >= 1 && fl[1] < sizeof m.remote;
			for (size_t i = 0; ok && i < fl[1]; i++) {
				char c = f[1][i];
				ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				     (c >= '0' && c <= '9') || c == '_' || c == '-';
			}
			if (!ok) {
				r = bad(what, line, "bad remote name");
				goto fail;
			}
			memcpy(m.remote, f[1], fl[1]);
			m.remote[fl[1]] = '\0';
			have_remote = true;
		} else if (n == 5 && field_is(f[0], fl[0], "pack") && have_remote) {
			struct manifest_pack p = {0};
			uint64_t gone;
			if (!manifest_is_pack_name(f[1], fl[1]) || !parse_u64(f[2], fl[2], &p.size) ||
			    fl[3] != MANIFEST_SUM_LEN || !is_hex(f[3], fl[3]) ||
			    !parse_u64(f[4], fl[4], &gone) || gone > INT64_MAX ||
			    p.size < PACK_HEADER_SIZE + PACK_FOOTER_SIZE) {
				r = bad(what, line, "bad pack entry");
				goto fail;
			}
			memcpy(p.name, f[1], PACK_NAME_LEN);
			memcpy(p.sum, f[3], MANIFEST_SUM_LEN);
			p.gone_ns = (int64_t)gone;
			if (m.n && strcmp(m.packs[m.n - 1].name, p.name) >= 0) {
				r = bad(what, line, "packs not sorted or listed twice");
				goto fail;
			}
			if ((r = manifest_add(&m, &p)) < 0)
				goto fail;
		} else if (n == 2 && field_is(f[0], fl[0], "sum") && have_remote) {
			uint64_t want = XXH3_64bits(buf, lstart), got = 0;
			if (fl[1] != 16 || !is_hex(f[1], 16) ||
			    sscanf(f[1], "%16" SCNx64, &got) != 1 || got != want) {
				r = store_fail(-STORE_ECORRUPT, "%s: checksum mismatch", what);
				goto fail;
			}
			have_sum = true;
		} else {
			r = bad(what, line, "unexpected line");
			goto fail;
		}
	}
	if (!have_sum) {
		r = store_fail(-STORE_ECORRUPT, "%s: truncated (no sum line)", what);
		goto fail;
	}
	*ret = m;
	return 0;
fail:
	manifest_clear(&m);
	return r;
}
