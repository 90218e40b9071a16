/* fuzz_dumper_output.c — what other tools print is parsed too: the SQL
 * client's rows (which migration table is there, the version text) and
 * docker's answers (the services listed as running, its error texts),
 * the rows per table of a mysqldump stream, and "name\tcount" rows.
 * A database or a docker daemon can print anything.
 *
 * The first byte picks the parser, the rest is the output.  Invariants: no
 * crash or leak; a version text is never empty, holds no control
 * character and is at most 200 bytes plus the cut mark; a judged docker
 * reason is one line without "Usage". */
#include <stdlib.h>
#include <string.h>

#include "dumpers/docker.h"
#include "dumpers/drill.h"
#include "dumpers/sqlcount.h"
#include "dumpers/sqlsection.h"
#include "dumpers/migration.h"
#include "dumpers/proc.h"
#include "tests/fuzz/fuzz.h"

struct sink {
	char *p;
	size_t n;
};

static int sink_add(void *ctx, const char *buf, size_t n)
{
	struct sink *s = ctx;
	char *p = realloc(s->p, s->n + n + 1);
	if (!p)
		abort();
	memcpy(p + s->n, buf, n);
	s->p = p;
	s->n += n;
	return 0;
}

static void one_line(const char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
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
	char why[256], line[64];
	switch (data[0] % 7) {
	case 0: {
		size_t n;
		dumper_migration_probes(&n);
		int i = dumper_migration_pick(text);
		if (i < -1 || i >= (int)n)
			abort();
		break;
	}
	case 1: {
		char *v = NULL;
		if (dumper_migration_format(text, &v) == 0 && v) {
			size_t len = strlen(v);
			if (!len || len > 200 + strlen("…"))
				abort();
			for (size_t i = 0; i < len; i++)
				if ((unsigned char)v[i] < 0x20)
					abort();
		}
		free(v);
		break;
	}
	case 2:
		dumper_docker_judge_daemon(text, why, sizeof why);
		one_line(why);
		dumper_docker_judge_inspect(size > 1 && data[1] & 1, text, text, why, sizeof why);
		one_line(why);
		break;
	case 3:
		dumper_docker_lists(text, "db");
		dumper_first_line(text, line, sizeof line);
		one_line(line);
		break;
	case 4: {
		/* a mysqldump stream, fed whole and in two pieces: same counts */
		struct dumper_sqlcount a = {0}, b = {0};
		size_t n = size - 1, cut = n / 3;
		dumper_sqlcount_feed(&a, (const char *)data + 1, n);
		dumper_sqlcount_feed(&b, (const char *)data + 1, cut);
		dumper_sqlcount_feed(&b, (const char *)data + 1 + cut, n - cut);
		if (a.ntables != b.ntables)
			abort();
		for (size_t i = 0; i < a.ntables; i++)
			if (a.tables[i].rows <= 0 || a.tables[i].rows != b.tables[i].rows ||
			    strlen(a.tables[i].name) > SQLCOUNT_NAME_MAX ||
			    strcmp(a.tables[i].name, b.tables[i].name))
				abort();
		dumper_sqlcount_clear(&a);
		dumper_sqlcount_clear(&b);
		break;
	}
	case 6: {
		/* the section filter: whole and in two pieces, the same output,
		 * never more than its input */
		const char *want[] = {"item", "t"};
		struct dumper_sqlsection a, b;
		struct sink sa = {0}, sb = {0};
		size_t n = size - 1, cut = n / 2;
		if (dumper_sqlsection_init(&a, want, 2) < 0 || dumper_sqlsection_init(&b, want, 2) < 0)
			abort();
		dumper_sqlsection_feed(&a, (const char *)data + 1, n, sink_add, &sa);
		dumper_sqlsection_end(&a, sink_add, &sa);
		dumper_sqlsection_feed(&b, (const char *)data + 1, cut, sink_add, &sb);
		dumper_sqlsection_feed(&b, (const char *)data + 1 + cut, n - cut, sink_add, &sb);
		dumper_sqlsection_end(&b, sink_add, &sb);
		if (sa.n != sb.n || sa.n > n || (sa.n && memcmp(sa.p, sb.p, sa.n)))
			abort();
		free(sa.p);
		free(sb.p);
		dumper_sqlsection_clear(&a);
		dumper_sqlsection_clear(&b);
		break;
	}
	case 5: {
		struct dumper_table_count *v = NULL;
		size_t n = 0;
		if (dumper_counts_parse(text, &v, &n) == 0)
			for (size_t i = 0; i < n; i++)
				if (v[i].rows < -1 || strchr(v[i].name, '\n'))
					abort();
		dumper_table_counts_free(v, n);
		break;
	}
	}
	free(text);
	return 0;
}
