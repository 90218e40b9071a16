/* fuzz_dumper_config.c — project files are written by whoever wrote the
 * project (a cloned repository can attack whoever snapshots it): .env
 * files, connection URLs, compose files, Rails database.yml and
 * .ckptfs.toml are parsed into database targets before any tool runs.
 *
 * The first byte picks the parser, the rest is the file.  Invariants: no
 * crash or leak; every key .env parsing hands out is non-empty; and every
 * target that dumper_target_check accepts is one a child process can be
 * given as it is — no control character in any field, no field that
 * lands in an argument starting with '-', one host (not a list), a port
 * in range, and a local target whose final host is local. */
#include <stdlib.h>
#include <string.h>

#include "dumpers/server.h"
#include "dumpers/config_toml.h"
#include "dumpers/target.h"
#include "store/err.h"
#include "tests/fuzz/fuzz.h"

static int on_pair(void *ctx, const char *key, const char *val)
{
	(void)ctx;
	if (!key || !key[0] || !val)
		abort();
	return 0;
}

static void no_control(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void check_accepted(const struct dumper_target *t)
{
	if (dumper_target_check(t) < 0)
		return;
	const char *fields[] = { t->host, t->user, t->password, t->dbname,
				 t->uri,  t->container, t->service, t->compose };
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		no_control(fields[i]);
	const char *args[] = { t->host, t->user, t->dbname, t->container, t->service, t->compose };
	for (size_t i = 0; i < sizeof args / sizeof *args; i++)
		if (args[i] && args[i][0] == '-')
			abort();
	if (t->kind != DUMPER_MONGO && t->host && strchr(t->host, ','))
		abort();
	if (t->port < 0 || t->port > 65535)
		abort();
	if (t->local && !t->explicit_ && !dumper_target_is_local(t))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	struct dumper_targets ts = { 0 };
	struct dumper_target one = { 0 };
	switch (data[0] % 5) {
	case 0:
		dumper_env_parse(text, on_pair, NULL);
		dumper_env_targets(text, ".env", &ts);
		break;
	case 1:
		if (dumper_url_parse(text, &one) == 0) {
			one.local = dumper_target_is_local(&one);
			check_accepted(&one);
		}
		break;
	case 2:
		dumper_compose_targets(text, "docker-compose.yml", &ts);
		break;
	case 3:
		dumper_rails_targets(text, &ts);
		break;
	case 4:
		dumper_config_apply(text, ".ckptfs.toml", &ts);
		break;
	}
	for (size_t i = 0; i < ts.n; i++)
		check_accepted(&ts.v[i]);
	dumper_target_clear(&one);
	dumper_targets_clear(&ts);
	store_error_clear();
	free(text);
	return 0;
}
