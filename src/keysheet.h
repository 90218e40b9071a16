/* keysheet.h — the recovery sheet: what a person needs, on paper, to get a
 * repository back from a remote with nothing but the passphrase.  Its key
 * block (base64 of key.wrapped between BEGIN/END lines) is read back by
 * `ckptfs recover --key SHEET` when a remote lost its copy of the key. */
#ifndef CKPTFS_SRC_KEYSHEET_H
#define CKPTFS_SRC_KEYSHEET_H

#include <stdio.h>

struct repo;

#define KEYSHEET_BEGIN "-----BEGIN CKPTFS WRAPPED KEY-----"
#define KEYSHEET_END "-----END CKPTFS WRAPPED KEY-----"

/* Print the sheet of repo to f.  -ENOENT (with the message) when the
 * repository has no wrapped key yet. */
int keysheet_print(FILE *f, struct repo *repo);

#endif
