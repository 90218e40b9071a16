/* engine_mongo.c — MongoDB: mongodump --archive, checked by the archive's
 * magic and terminator (engine.h). */
#include "dumpers/engine.h"

static void mongo_compose_login(dumper_env_get_fn get, void *ctx, struct dumper_compose_login *ret)
{
	ret->user = get(ctx, "MONGO_INITDB_ROOT_USERNAME");
	ret->password = get(ctx, "MONGO_INITDB_ROOT_PASSWORD");
	ret->dbname = get(ctx, "MONGO_INITDB_DATABASE");
}

const struct dumper_engine dumper_engine_mongo = {
	.kind = DUMPER_MONGO,
	.name = "mongo",
	.aliases = (const char *const[]){"mongo", "mongodb", "mongodb+srv", NULL},
	.ext = ".archive",
	.default_port = 27017,
	.images = (const char *const[]){"mongo", NULL},
	.how = "mongodump --archive",
	.compose_login = mongo_compose_login,
};
