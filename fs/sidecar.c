/* sidecar.c — telling a WAL-mode SQLite database and its sidecar names. */
#include "fs/sidecar.h"

#include <string.h>

size_t sidecar_base_len(const char *name)
{
	size_t len = strlen(name);
	if (len <= 4)
		return 0;
	const char *suffix = name + len - 4;
	return strcmp(suffix, "-wal") == 0 || strcmp(suffix, "-shm") == 0 ? len - 4 : 0;
}

bool sidecar_wal_header(const uint8_t *hdr, size_t len)
{
	static const char magic[16] = "SQLite format 3"; /* with its NUL */
	return len >= SIDECAR_HEADER_BYTES && memcmp(hdr, magic, sizeof magic) == 0 && hdr[19] == 2;
}
