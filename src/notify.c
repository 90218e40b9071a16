/* notify.c — desktop notifications, once a day per problem (see notify.h). */
#include "src/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/json_lite.h"
#include "src/output.h"
#include "src/runlog.h"
#include "src/sched.h"
#include "store/err.h"

#define NOTIFY_FILE "notified.json"

bool notify_have_bus(void)
{
	const char *a = getenv("DBUS_SESSION_BUS_ADDRESS"), *rt = getenv("XDG_RUNTIME_DIR");
	if (a && *a)
		return true;
	char *path = NULL;
	struct stat st;
	bool ok = rt && *rt == '/' && asprintf(&path, "%s/bus", rt) >= 0 && stat(path, &st) == 0 &&
		  S_ISSOCK(st.st_mode);
	free(path);
	return ok;
}

/* The record's key of a project's state. */
static char *key_of(const struct notify_item *it)
{
	char *k = NULL;
	if (asprintf(&k, "%s\t%s", it->project, it->state) < 0)
		return NULL;
	return k;
}

static void send_one(const struct notify_item *it)
{
	char *title = NULL;
	if (asprintf(&title, "ckptfs: %s is %s", it->project, it->state) < 0)
		return;
	char *argv[] = {(char *)"notify-send", (char *)"--app-name=ckptfs",
			(char *)"--icon=dialog-warning", title,
			(char *)(it->problem ? it->problem : ""), NULL};
	char *out = NULL;
	int st = sched_exec(argv, NULL, &out);
	if (st != 0)
		out_err("status: notify-send: %s", st < 0 && store_error() ? store_error()
						   : out && *out ? out : "failed");
	store_error_clear();
	free(out);
	free(title);
}

int notify_send_due(const struct notify_item *items, size_t n, int64_t now)
{
	struct jv rec;
	bool have = runlog_state_read(NOTIFY_FILE, &rec) == 0;
	store_error_clear();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		if (have)
			jv_clear(&rec);
		return -ENOMEM;
	}
	int sent = 0, k = 0;
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		char *key = key_of(&items[i]);
		if (!key)
			continue;
		double last = have ? jv_num(&rec, key, 0) : 0;
		int64_t when = (int64_t)last;
		if (!last || now - when >= NOTIFY_EVERY_NS) {
			send_one(&items[i]);
			sent++;
			when = now;
		}
		/* Only current problems are kept: one that went away and comes
		 * back is news again. */
		fputs(k++ ? ", " : "", f);
		out_json_str(f, key);
		fprintf(f, ": %lld", (long long)when);
		free(key);
	}
	fputs("}\n", f);
	if (have)
		jv_clear(&rec);
	if (fclose(f) != 0 || !text) {
		free(text);
		return -ENOMEM;
	}
	int r = runlog_state_write(NOTIFY_FILE, text, len);
	free(text);
	return r < 0 ? r : sent;
}
