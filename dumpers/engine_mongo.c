/* engine_mongo.c — MongoDB: mongodump --archive, checked by the archive's
 * magic and terminator; the password in a 0600 config file (engine.h).
 * No SQL: no migration version, drill or table restore. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/cmdbuild.h"
#include "dumpers/engine.h"

static void mongo_compose_login(dumper_env_get_fn get, void *ctx, struct dumper_compose_login *ret)
{
	ret->user = get(ctx, "MONGO_INITDB_ROOT_USERNAME");
	ret->password = get(ctx, "MONGO_INITDB_ROOT_PASSWORD");
	ret->dbname = get(ctx, "MONGO_INITDB_DATABASE");
}

static int mongo_tool(const struct dumper_target *t, const char *tmpdir, const char *into,
		      bool restore, struct cmdb *b)
{
	b->c.tool = restore ? "mongorestore" : "mongodump";
	if (t->password) {
		char *pw = cmdb_dquote(t->password), *text = NULL;
		if (!pw || asprintf(&text, "password: %s\n", pw) < 0) {
			free(pw);
			return -ENOMEM;
		}
		int r = cmdb_secret(b, tmpdir, text);
		memset(text, 0, strlen(text));
		memset(pw, 0, strlen(pw));
		free(text);
		free(pw);
		if (r < 0)
			return r;
	}
	cmdb_arg(b, b->c.tool);
	cmdb_arg(b, "--archive");
	if (restore)
		cmdb_arg(b, "--drop");
	if (t->uri)
		cmdb_argf(b, "--uri=%s", t->uri);
	if (b->c.secret_file)
		cmdb_argf(b, "--config=%s", b->c.secret_file);
	if (restore && into && t->dbname) {
		cmdb_argf(b, "--nsFrom=%s.*", t->dbname);
		cmdb_argf(b, "--nsTo=%s.*", into);
	}
	cmdb_env_with(b, NULL, NULL);
	return 0;
}

static int mongo_dump(const struct dumper_target *t, const char *tmpdir, const char *db,
		      struct cmdb *b)
{
	(void)db;
	return mongo_tool(t, tmpdir, NULL, false, b);
}

static int mongo_restore(const struct dumper_target *t, const char *tmpdir, const char *db,
			 const char *into, struct cmdb *b)
{
	(void)db;
	return mongo_tool(t, tmpdir, into, true, b);
}

/* In a container: the root user of the official image, its password in
 * a private file inside the container. */
#define MONGO_DOCKER_LOGIN                                                                         \
	"umask 077; f=$(mktemp); printf 'password: \"%s\"\\n' \"${MONGO_INITDB_ROOT_PASSWORD:-}\" "  \
	">\"$f\"; if [ -n \"${MONGO_INITDB_ROOT_USERNAME:-}\" ]; then set -- --config \"$f\" "       \
	"--username \"$MONGO_INITDB_ROOT_USERNAME\" --authenticationDatabase admin; else set --; fi; "

static int mongo_docker_dump(const struct dumper_target *t, const char *tmpdir, const char *db,
			     struct cmdb *b)
{
	(void)tmpdir, (void)db;
	b->c.tool = "mongodump";
	cmdb_env_with(b, NULL, NULL);
	cmdb_docker_sh(b, t, false);
	cmdb_arg(b, MONGO_DOCKER_LOGIN "mongodump --archive \"$@\"; rc=$?; rm -f \"$f\"; exit $rc");
	return 0;
}

static int mongo_docker_restore(const struct dumper_target *t, const char *tmpdir, const char *db,
				const char *into, struct cmdb *b)
{
	(void)tmpdir, (void)db, (void)into;
	b->c.tool = "mongorestore";
	cmdb_env_with(b, NULL, NULL);
	cmdb_docker_sh(b, t, true);
	cmdb_arg(b, MONGO_DOCKER_LOGIN "mongorestore --archive --drop \"$@\"; rc=$?; rm -f \"$f\"; "
				       "exit $rc");
	return 0;
}

static bool mongo_judge(const struct dumper_dump_seen *d, int64_t *ret_entries, char **ret_why)
{
	(void)ret_entries;
	static const unsigned char magic[4] = {0x6d, 0xe2, 0x99, 0x81};
	static const unsigned char term[4] = {0xff, 0xff, 0xff, 0xff};
	if (d->bytes >= 8 && d->head_len >= 4 && !memcmp(d->head, magic, 4) && d->tail_len >= 4 &&
	    !memcmp(d->tail + d->tail_len - 4, term, 4))
		return true;
	*ret_why = strdup("mongodump: archive is incomplete (bad magic or no terminator)");
	return false;
}

static char *mongo_hint(const struct dumper_target *t, const char *pre, const char *file)
{
	bool ctn = t->container || t->service;
	char *s;
	if (asprintf(&s, "%smongorestore --archive --drop%s%s < %s", pre, t->uri && !ctn ? " --uri=" : "",
		     t->uri && !ctn ? t->uri : "", file) < 0)
		return NULL;
	return s;
}

const struct dumper_engine dumper_engine_mongo = {
	.kind = DUMPER_MONGO,
	.name = "mongo",
	.aliases = (const char *const[]){"mongo", "mongodb", "mongodb+srv", NULL},
	.ext = ".archive",
	.default_port = 27017,
	.images = (const char *const[]){"mongo", NULL},
	.how = "mongodump --archive",
	.whole_uri = true,
	.compose_login = mongo_compose_login,
	.server = {.dump = mongo_dump, .restore = mongo_restore},
	.docker = {.dump = mongo_docker_dump, .restore = mongo_docker_restore},
	.verify = {.name = "archive trailer", .judge = mongo_judge},
	.hint = mongo_hint,
	.no_sql = "MongoDB has no SQL client here (no migration version, drill or table restore)",
	.no_drill = "MongoDB dumps are not drilled yet",
	.no_tables = "tables (collections) of a MongoDB dump cannot be restored alone",
	/* .create NULL: MongoDB makes a database on its first write. */
};
