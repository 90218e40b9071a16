/* check_trees.c — every snapshot's trees load, every chunk is indexed in a
 * sound pack with the length its file says.
 *
 * Trees are content-addressed, so a subtree unchanged across snapshots has
 * one id: each is verified once (ctx->trees remembers the verdict) and a
 * sound subtree met again is skipped.  A damaged one is walked again for
 * each snapshot that holds it, so every damaged snapshot names its files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/check_internal.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/repo_internal.h"
#include "store/tree.h"

enum { TREE_UNSEEN = 0, TREE_VISITING = 1, TREE_OK = 2, TREE_DAMAGED = 3 };

#define MAX_DEPTH 1024       /* deeper than any real project; bounds the stack */
#define MAX_PATHS_SHOWN 20   /* per snapshot */

struct walk {
	struct check_ctx *c;
	const struct snapshot *s;
	enum check_level level; /* of its damage: a notice once its trash window ended */
	const char *where;      /* "", " (in the trash)", " (in the trash, expired)" */
	uint64_t damaged_paths;
	char path[8192];
};

static void damage(struct walk *w, size_t plen, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void damage(struct walk *w, size_t plen, const char *name, const char *fmt, ...)
{
	if (w->damaged_paths++ >= MAX_PATHS_SHOWN)
		return;
	char why[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	check_say(w->c, w->level, "snapshot %s/%s%s: %.*s%s%s: %s", w->s->project, w->s->name,
		  w->where, (int)plen, w->path, plen && name[0] ? "/" : "", name[0] ? name : (plen ? "" : "/"),
		  why);
}

static const char *type_word(uint8_t type)
{
	return type == BLOB_TREE ? "tree" : type == BLOB_DATA ? "data chunk" : "snapshot record";
}

/* A blob referenced as type that the index holds only under the other of
 * data/tree — the same bytes, deduplicated across types by a schema-1
 * writer (catalog_schema.c).  Repair stores it under the type it lacks;
 * *ret_b is that other row either way (its length is the blob's). */
static const char *shadowed(struct check_ctx *c, const blob_id *id, uint8_t type,
			    const struct check_blob **ret_b)
{
	static char why[96];
	uint8_t other_type = type == BLOB_DATA ? BLOB_TREE : BLOB_DATA;
	const struct check_blob *o = check_blob_find(c, id, other_type);
	*ret_b = o;
	if (!o)
		return "not in the blob index";
	if (o->bad || o->pack == UINT32_MAX || c->packs[o->pack].state != PACK_OK)
		return "not in the blob index (a blob of another type with its id is damaged)";
	/* Only a schema-1 writer could leave this; elsewhere it is a tree made
	 * to point at a blob of the wrong kind. */
	if (!c->repo->legacy_below) {
		snprintf(why, sizeof why, "not in the blob index as a %s (only as a %s)",
			 type_word(type), type_word(other_type));
		return why;
	}
	if (check_idmap_get(&c->restored, id) & (1u << type))
		return NULL;
	if (c->opts->repair) {
		int r = check_repair_restore(c, o, type);
		if (r == -ENOMEM)
			c->fatal = r;
		if (r >= 0)
			return NULL;
	}
	snprintf(why, sizeof why, "stored only as a %s with the same bytes", type_word(other_type));
	return why;
}

/* Why a chunk (or tree) blob cannot be read, or NULL if it looks sound. */
static const char *blob_problem(struct check_ctx *c, const blob_id *id, uint8_t type,
				const struct check_blob **ret_b)
{
	const struct check_blob *b = check_blob_find(c, id, type);
	*ret_b = b;
	if (!b)
		return shadowed(c, id, type, ret_b);
	if (b->pack == UINT32_MAX)
		return "indexed in an unknown pack";
	if (c->packs[b->pack].state == PACK_MISSING)
		return "its pack is missing";
	if (c->packs[b->pack].state == PACK_BAD)
		return "its pack is damaged";
	if (b->bad)
		return "corrupt";
	return NULL;
}

static bool check_file(struct walk *w, size_t plen, const struct node *n)
{
	bool ok = true;
	for (size_t i = 0; i < n->nchunks; i++) {
		const struct node_chunk *ch = &n->chunks[i];
		const struct check_blob *b;
		const char *why = blob_problem(w->c, &ch->id, BLOB_DATA, &b);
		if (!why && b->raw_length != ch->len)
			why = "its length disagrees with the blob index";
		w->c->res->chunks++;
		if (why) {
			char hex[ID_HEX_LEN + 1];
			id_to_hex(&ch->id, hex);
			const char *pack = b && b->pack != UINT32_MAX ? w->c->packs[b->pack].name : "";
			damage(w, plen, n->name, "chunk %s (file offset %llu)%s%s: %s", hex,
			       (unsigned long long)ch->off, pack[0] ? " in pack " : "", pack, why);
			w->c->res->damaged_files += ok;
			ok = false;
		}
	}
	return ok;
}

/* Verify the tree id found at path[0..plen); returns true if sound. */
static bool check_tree(struct walk *w, const blob_id *id, size_t plen, int depth)
{
	struct check_ctx *c = w->c;
	uint32_t seen = check_idmap_get(&c->trees, id);
	if (seen == TREE_OK)
		return true;
	if (seen == TREE_VISITING) {
		damage(w, plen, "", "directory contains itself");
		return false;
	}
	if (depth > MAX_DEPTH) {
		damage(w, plen, "", "directories nested deeper than %d", MAX_DEPTH);
		return false;
	}
	char hex[ID_HEX_LEN + 1];
	id_to_hex(id, hex);
	const struct check_blob *b;
	const char *why = blob_problem(c, id, BLOB_TREE, &b);
	if (why) {
		damage(w, plen, "", "tree %s: %s", hex, why);
		check_idmap_put(&c->trees, id, TREE_DAMAGED);
		return false;
	}
	struct tree *t = NULL;
	store_error_clear();
	int r = tree_load(c->repo, id, &t);
	if (r < 0) {
		if (store_error())
			damage(w, plen, "", "%s", store_error());
		else
			damage(w, plen, "", "tree %s: %s", hex, strerror(-r));
		check_idmap_put(&c->trees, id, TREE_DAMAGED);
		return false;
	}
	if (seen == TREE_UNSEEN)
		c->res->trees++;
	if (check_idmap_put(&c->trees, id, TREE_VISITING) < 0) {
		tree_free(t);
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < t->n; i++) {
		const struct node *n = &t->nodes[i];
		if (n->type == NODE_FILE) {
			ok &= check_file(w, plen, n);
		} else if (n->type == NODE_DIR) {
			size_t nl = strlen(n->name);
			if (plen + 1 + nl >= sizeof w->path) {
				damage(w, plen, n->name, "path too long to check");
				ok = false;
				continue;
			}
			size_t np = plen;
			if (plen)
				w->path[np++] = '/';
			memcpy(w->path + np, n->name, nl);
			np += nl;
			ok &= check_tree(w, &n->subtree, np, depth + 1);
		}
	}
	tree_free(t);
	check_idmap_put(&c->trees, id, ok ? TREE_OK : TREE_DAMAGED);
	return ok;
}

/* A snapshot in the trash is checked like a live one until its window
 * ends: `trash restore` may bring it back, so its missing data is damage.
 * After the window gc may collect its data at any time, so what is missing
 * then is only a notice. */
int check_snapshots(struct check_ctx *c)
{
	int64_t now = fio_now_ns();
	for (size_t i = 0; i < c->nsnaps; i++) {
		const struct snapshot *s = &c->snaps[i];
		bool expired = s->trashed_at_ns && s->expires_at_ns <= now;
		struct walk w = {
			.c = c,
			.s = s,
			.level = expired ? CHECK_NOTICE : CHECK_DAMAGE,
			.where = !s->trashed_at_ns ? ""
				 : expired	   ? " (in the trash, expired)"
						   : " (in the trash)",
		};
		c->res->snapshots++;
		if (check_tree(&w, &s->root, 0, 0))
			continue;
		if (w.damaged_paths > MAX_PATHS_SHOWN)
			check_say(c, w.level, "snapshot %s/%s%s: %llu more damaged paths", s->project,
				  s->name, w.where,
				  (unsigned long long)(w.damaged_paths - MAX_PATHS_SHOWN));
		if (expired)
			continue;
		c->res->damaged_snapshots++;
		if (c->opts->repair && s->status != SNAP_DAMAGED) {
			int r = check_catalog_mark_damaged(c, s->id);
			if (r < 0)
				return r;
			c->res->snapshots_marked++;
			check_say(c, CHECK_INFO, "repair: snapshot %s/%s: marked damaged", s->project,
				  s->name);
		}
	}
	return 0;
}
