/* migration.c — the migration tools' tables, and reading them (migration.h). */
#include "dumpers/migration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define VERSION_MAX 200

static const struct dumper_migration_probe probes[] = {
	{"alembic", "alembic_version", "version_num", NULL,
	 "SELECT version_num FROM alembic_version ORDER BY version_num"},
	{"rails", "schema_migrations", "version", "dirty",
	 "SELECT version FROM schema_migrations ORDER BY length(version) DESC, version DESC LIMIT 1"},
	{"django", "django_migrations", "app", NULL,
	 "SELECT app, MAX(name) FROM django_migrations GROUP BY app ORDER BY app"},
	{"prisma", "_prisma_migrations", "migration_name", NULL,
	 "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND "
	 "rolled_back_at IS NULL ORDER BY migration_name DESC LIMIT 1"},
	{"knex", "knex_migrations", "name", NULL,
	 "SELECT name FROM knex_migrations ORDER BY id DESC LIMIT 1"},
	{"flyway", "flyway_schema_history", "installed_rank", NULL,
	 "SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL "
	 "ORDER BY installed_rank DESC LIMIT 1"},
	{"goose", "goose_db_version", "version_id", NULL,
	 /* goose's rule: a version whose latest row is a rollback is not applied */
	 "SELECT g.version_id FROM goose_db_version g WHERE g.is_applied AND g.id = "
	 "(SELECT MAX(h.id) FROM goose_db_version h WHERE h.version_id = g.version_id) "
	 "ORDER BY g.id DESC LIMIT 1"},
	{"laravel", "migrations", "batch", NULL,
	 "SELECT migration FROM migrations ORDER BY id DESC LIMIT 1"},
};

#define NPROBES (sizeof probes / sizeof *probes)

const struct dumper_migration_probe *dumper_migration_probes(size_t *ret_n)
{
	*ret_n = NPROBES;
	return probes;
}

const char *dumper_migration_tables_sql(void)
{
	return "'alembic_version', 'schema_migrations', 'django_migrations', '_prisma_migrations', "
	       "'knex_migrations', 'flyway_schema_history', 'goose_db_version', 'migrations'";
}

/* Is "table\tcolumn" a line of columns? */
static bool has_column(const char *columns, const char *table, const char *column)
{
	size_t tl = strlen(table), cl = column ? strlen(column) : 0;
	for (const char *p = columns ? columns : ""; *p;) {
		size_t n = strcspn(p, "\r\n");
		if (n > tl && !memcmp(p, table, tl) && p[tl] == '\t' &&
		    (!column || (n == tl + 1 + cl && !memcmp(p + tl + 1, column, cl))))
			return true;
		p += n;
		p += strspn(p, "\r\n");
	}
	return false;
}

int dumper_migration_pick(const char *columns)
{
	for (size_t i = 0; i < NPROBES; i++) {
		const struct dumper_migration_probe *p = &probes[i];
		if (has_column(columns, p->table, p->need) &&
		    (!p->avoid || !has_column(columns, p->table, p->avoid)))
			return (int)i;
	}
	return -1;
}

int dumper_migration_format(const char *rows, char **ret)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return -ENOMEM;
	int k = 0;
	for (const char *p = rows ? rows : ""; *p;) {
		size_t n = strcspn(p, "\r\n");
		if (n) {
			fputs(k++ ? ", " : "", f);
			for (size_t i = 0; i < n; i++)
				fputc(p[i] == '\t' ? ' ' : (unsigned char)p[i] < 0x20 ? '?' : p[i], f);
		}
		p += n;
		p += strspn(p, "\r\n");
	}
	if (fclose(f) != 0) {
		free(out);
		return -ENOMEM;
	}
	if (!len) {
		free(out);
		*ret = NULL;
		return 0;
	}
	if (len > VERSION_MAX) {
		/* Cut on a character boundary, then mark it. */
		size_t cut = VERSION_MAX;
		while (cut && ((unsigned char)out[cut] & 0xc0) == 0x80)
			cut--;
		char *o = realloc(out, cut + sizeof "…");
		if (!o) {
			free(out);
			return -ENOMEM;
		}
		out = o;
		memcpy(out + cut, "…", sizeof "…");
	}
	*ret = out;
	return 0;
}

int dumper_schema_text(const struct dumper_schema *s, char **ret)
{
	*ret = NULL;
	if (!s->tool)
		return 0;
	if (asprintf(ret, "%s %s", s->tool, s->version ? s->version : "(no migration run yet)") < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

void dumper_schema_clear(struct dumper_schema *s)
{
	free(s->tool);
	free(s->version);
	s->tool = s->version = NULL;
}

/* Run sql on db; its rows as text lines, fields split by tabs. */
static int sqlite_rows(sqlite3 *db, const char *sql, char **ret)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EINVAL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *v = sqlite3_column_text(st, i);
			fprintf(f, "%s%s", i ? "\t" : "", v ? (const char *)v : "");
		}
		fputc('\n', f);
	}
	sqlite3_finalize(st);
	if (fclose(f) != 0) {
		free(out);
		return -ENOMEM;
	}
	if (rc != SQLITE_DONE) {
		free(out);
		return -EINVAL;
	}
	*ret = out;
	return 0;
}

int dumper_sqlite_schema(void *handle, struct dumper_schema *ret)
{
	sqlite3 *db = handle;
	char *sql = NULL, *cols = NULL, *rows = NULL;
	struct dumper_schema s = {0};
	int r = -ENOMEM;
	if (asprintf(&sql, "SELECT m.name || char(9) || p.name FROM sqlite_schema m, "
			   "pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name IN (%s)",
		     dumper_migration_tables_sql()) < 0) {
		sql = NULL;
		goto out;
	}
	r = sqlite_rows(db, sql, &cols);
	if (r < 0)
		goto none;
	int i = dumper_migration_pick(cols);
	if (i < 0)
		goto none;
	if (!(s.tool = strdup(probes[i].tool))) {
		r = -ENOMEM;
		goto out;
	}
	/* A table of the tool's name whose query fails is not the tool's. */
	if ((r = sqlite_rows(db, probes[i].query, &rows)) < 0) {
		dumper_schema_clear(&s);
		goto none;
	}
	if ((r = dumper_migration_format(rows, &s.version)) < 0)
		goto out;
none:
	r = r == -ENOMEM ? r : 0;
	if (r == 0)
		*ret = s;
out:
	if (r < 0)
		dumper_schema_clear(&s);
	free(sql);
	free(cols);
	free(rows);
	return r;
}
