/* fuzz_json_parse.c — json_lite reads snapshot notes out of the repository
 * (data, not trusted).  Whatever parses must write back (jv_write_str for
 * every key and string) into text that parses to the same value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/json_lite.h"
#include "tests/fuzz/fuzz.h"

static void write_value(FILE *f, const struct jv *v)
{
	switch (v->t) {
	case J_NULL: fputs("null", f); break;
	case J_BOOL: fputs(v->b ? "true" : "false", f); break;
	case J_NUM: fprintf(f, "%.17g", isfinite(v->num) ? v->num : 0.0); break;
	case J_STR: jv_write_str(f, v->s); break;
	case J_ARR:
	case J_OBJ:
		fputc(v->t == J_ARR ? '[' : '{', f);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			if (v->t == J_OBJ) {
				jv_write_str(f, v->keys[i]);
				fputc(':', f);
			}
			write_value(f, &v->items[i]);
		}
		fputc(v->t == J_ARR ? ']' : '}', f);
		break;
	}
}

static bool same(const struct jv *a, const struct jv *b)
{
	if (a->t != b->t)
		return false;
	switch (a->t) {
	case J_NULL: return true;
	case J_BOOL: return a->b == b->b;
	case J_NUM: return (isfinite(a->num) ? a->num : 0.0) == b->num;
	case J_STR: return strcmp(a->s, b->s) == 0;
	case J_ARR:
	case J_OBJ:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++)
			if ((a->t == J_OBJ && strcmp(a->keys[i], b->keys[i]) != 0) ||
			    !same(&a->items[i], &b->items[i]))
				return false;
		return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct jv v;
	if (jv_parse(text, &v) == 0) {
		char *out = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&out, &len);
		if (!m)
			abort();
		write_value(m, &v);
		if (fclose(m) != 0)
			abort();
		struct jv back;
		if (jv_parse(out, &back) != 0 || !same(&v, &back))
			abort();
		jv_clear(&back);
		jv_clear(&v);
		free(out);
	}
	free(text);
	return 0;
}
