/* fuzz_dumper_sqlmigr.c — the migration tables' sections read from a
 * mysqldump stream (dumpers/sqlmigr.h): a server, or a dump stored long
 * ago, can hold any text.
 *
 * The first byte picks where the input is cut in two (fed as two pieces);
 * the rest is the stream.  Invariants: no crash or leak; fed whole, fed in
 * two pieces and fed byte by byte give the same answer; a version text is
 * never empty, has no control character and is at most 200 bytes plus the
 * cut mark; no version without a tool. */
#include <stdlib.h>
#include <string.h>

#include "dumpers/sqlmigr.h"
#include "tests/fuzz/fuzz.h"

static void run(const char *text, size_t n, size_t piece, size_t cut, struct dumper_schema *ret,
		bool *found)
{
	struct dumper_sqlmigr c;
	if (dumper_sqlmigr_init(&c) < 0)
		abort();
	if (piece) {
		for (size_t i = 0; i < n; i += piece)
			dumper_sqlmigr_feed(&c, text + i, piece < n - i ? piece : n - i);
	} else {
		dumper_sqlmigr_feed(&c, text, cut);
		dumper_sqlmigr_feed(&c, text + cut, n - cut);
	}
	if (dumper_sqlmigr_schema(&c, ret, found) < 0)
		abort(); /* only ENOMEM, which the fuzzer does not cause */
	dumper_sqlmigr_clear(&c);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t n = size - 1, cut = n ? data[0] % (n + 1) : 0;
	struct dumper_schema whole, two, bytes;
	bool fw, ft, fb;
	run(text, n, n ? n : 1, 0, &whole, &fw);
	run(text, n, 0, cut, &two, &ft);
	run(text, n, 1, 0, &bytes, &fb);
	if (fw != ft || fw != fb || !same(whole.tool, two.tool) || !same(whole.tool, bytes.tool) ||
	    !same(whole.version, two.version) || !same(whole.version, bytes.version))
		abort();
	if (whole.version) {
		if (!whole.tool || !*whole.version || strlen(whole.version) > 200 + strlen("…"))
			abort();
		for (const char *p = whole.version; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
	}
	dumper_schema_clear(&whole);
	dumper_schema_clear(&two);
	dumper_schema_clear(&bytes);
	return 0;
}
