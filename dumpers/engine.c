/* engine.c — the one list of engines, and finding a row (engine.h). */
#include "dumpers/engine.h"

#include <string.h>
#include <strings.h>

/* One line per engine; a new kind adds its row here. */
static const struct dumper_engine *const engines[] = {
	&dumper_engine_postgres,
	&dumper_engine_mysql,
	&dumper_engine_mongo,
};

const struct dumper_engine *const *dumper_engines(size_t *ret_n)
{
	*ret_n = sizeof engines / sizeof *engines;
	return engines;
}

const struct dumper_engine *dumper_engine_of(enum dumper_kind k)
{
	for (size_t i = 0; i < sizeof engines / sizeof *engines; i++)
		if (engines[i]->kind == k)
			return engines[i];
	return NULL;
}

const struct dumper_engine *dumper_engine_by_alias(const char *word)
{
	for (size_t i = 0; word && i < sizeof engines / sizeof *engines; i++)
		for (const char *const *a = engines[i]->aliases; *a; a++)
			if (!strcasecmp(word, *a))
				return engines[i];
	return NULL;
}

const struct dumper_engine *dumper_engine_by_image(const char *image)
{
	if (!image)
		return NULL;
	const char *b = strrchr(image, '/');
	b = b ? b + 1 : image;
	size_t n = strcspn(b, ":@");
	for (size_t i = 0; i < sizeof engines / sizeof *engines; i++)
		for (const char *const *p = engines[i]->images; *p; p++)
			if (n >= strlen(*p) && !strncmp(b, *p, strlen(*p)))
				return engines[i];
	return NULL;
}
