/* fuzz_remote_listing.c — the remotes file (beside the catalog) and
 * rclone's lsf listing of a remote are parsed from bytes ckptfs did not
 * just write: any input is refused cleanly or parses to entries that
 * pass their own checks. */
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/remote_conf.h"
#include "store/rio_internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remote_list l;
	if (remote_conf_parse("fuzz", (const char *)data, size, &l) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (!remote_name_ok(l.r[i].name) || !remote_target_ok(l.r[i].target))
				abort();
		remote_list_clear(&l);
	}
	struct rio_entry *e = NULL;
	size_t n = 0;
	if (rio_parse_lsf("fuzz", "packs", (const char *)data, size, &e, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (strncmp(e[i].name, "packs/", 6))
				abort();
		rio_entries_free(e, n);
	}
	store_error_clear();
	return 0;
}
