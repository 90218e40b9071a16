/* catalog_valid.c — what a catalog row must be before anything uses it.
 *
 * catalog.db is a file like any other: a crafted or damaged one can hold a
 * project named "bad/name" or "", a snapshot named "../../x" or "latest",
 * a status of 99, negative counts, a snapshot of a project that does not
 * exist.  Names become directory names and symlink targets in the mount and
 * path components of restores, so every row is checked here, in one place,
 * as it is read (project_from_row, snap_from_row): an invalid row is
 * skipped by every lookup and listing (and counted, for the commands to
 * flag), reported by check and quarantined or fixed by check --repair
 * (check_rows.c).  Registration checks new names with the same rules.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "store/catalog.h"

#define NAME_MAX_BYTES 255 /* a directory name in the mount */

bool catalog_project_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > NAME_MAX_BYTES || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* n digits at *p, their value in [lo, hi]; advances *p. */
static bool field(const char **p, int n, int lo, int hi)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		v = v * 10 + (**p - '0');
	}
	return v >= lo && v <= hi;
}

bool catalog_snapshot_name_ok(const char *name)
{
	/* What snapname_make gives: YYYY-MM-DDTHH:MM[:SS[.N]], N >= 2. */
	const char *p = name;
	if (!p || !field(&p, 4, 0, 9999) || *p++ != '-' || !field(&p, 2, 1, 12) || *p++ != '-' ||
	    !field(&p, 2, 1, 31) || *p++ != 'T' || !field(&p, 2, 0, 23) || *p++ != ':' ||
	    !field(&p, 2, 0, 59))
		return false;
	if (*p == '\0')
		return true;
	if (*p++ != ':' || !field(&p, 2, 0, 60))
		return false;
	if (*p == '\0')
		return true;
	if (*p++ != '.' || *p < '1' || *p > '9')
		return false;
	long v = 0;
	for (; isdigit((unsigned char)*p); p++)
		if ((v = v * 10 + (*p - '0')) > 1000000)
			return false;
	return *p == '\0' && v >= 2;
}

/* Absolute, and as proj_find_root makes it: no empty, "." or ".."
 * component, no trailing slash (but "/" itself). */
static bool root_ok(const char *root)
{
	if (!root || root[0] != '/')
		return false;
	if (!root[1])
		return true;
	for (const char *p = root; *p;) {
		const char *c = p + 1, *e = strchr(c, '/');
		size_t len = e ? (size_t)(e - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		p = c + len;
	}
	return true;
}

unsigned catalog_project_faults(const struct project *p)
{
	unsigned f = 0;
	if (!catalog_project_name_ok(p->name))
		f |= CATALOG_FAULT_NAME;
	if (!root_ok(p->root))
		f |= CATALOG_FAULT_ROOT;
	if (p->created_ns < 0)
		f |= CATALOG_FAULT_TIME;
	return f;
}

unsigned catalog_snapshot_faults(const struct snapshot *s)
{
	unsigned f = 0;
	if (!s->project)
		f |= CATALOG_FAULT_ORPHAN;
	else if (!catalog_project_name_ok(s->project))
		f |= CATALOG_FAULT_PROJECT;
	if (!catalog_snapshot_name_ok(s->name))
		f |= CATALOG_FAULT_NAME;
	if ((unsigned)s->status > SNAP_DAMAGED)
		f |= CATALOG_FAULT_STATUS;
	if (s->time_ns < 0)
		f |= CATALOG_FAULT_TIME;
	const struct snap_stats *k = &s->stats;
	if ((int64_t)k->files < 0 || (int64_t)k->dirs < 0 || (int64_t)k->bytes < 0 ||
	    (int64_t)k->new_blobs < 0 || (int64_t)k->new_bytes < 0 || (int64_t)k->read_bytes < 0 ||
	    k->duration_ns < 0)
		f |= CATALOG_FAULT_COUNTS;
	return f;
}

const char *catalog_faults_text(unsigned faults, bool snapshot, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *project, *snapshot;
	} texts[] = {
		{CATALOG_FAULT_NAME, "invalid project name", "invalid snapshot name"},
		{CATALOG_FAULT_ROOT, "root is not an absolute, normalized path",
		 "invalid root tree id"},
		{CATALOG_FAULT_ORPHAN, "", "its project does not exist"},
		{CATALOG_FAULT_PROJECT, "", "its project is invalid"},
		{CATALOG_FAULT_STATUS, "", "invalid status"},
		{CATALOG_FAULT_TIME, "negative creation time", "negative time"},
		{CATALOG_FAULT_COUNTS, "", "negative counts"},
	};
	size_t n = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		if (!(faults & texts[i].bit) || n + 1 >= len)
			continue;
		const char *t = snapshot ? texts[i].snapshot : texts[i].project;
		int w = snprintf(buf + n, len - n, "%s%s", n ? "; " : "", t);
		if (w > 0)
			n = n + (size_t)w < len ? n + (size_t)w : len - 1;
	}
	return buf;
}
