/* keysheet.c — the recovery sheet (see keysheet.h). */
#include "src/keysheet.h"

#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "src/output.h"
#include "store/repo.h"
#include "store/repokey.h"

int keysheet_print(FILE *f, struct repo *repo)
{
	uint8_t wrapped[KEYWRAP_BYTES];
	char id[KEYS_REPO_ID_LEN + 1], host[256] = "?", when[OUT_BUF];
	char b64[sodium_base64_ENCODED_LEN(KEYWRAP_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	int r = repokey_read_wrapped(repo, wrapped);
	if (r < 0)
		return r;
	repokey_repo_id(repo, id);
	gethostname(host, sizeof host - 1);
	sodium_bin2base64(b64, sizeof b64, wrapped, sizeof wrapped, sodium_base64_VARIANT_ORIGINAL);
	fprintf(f,
		"ckptfs recovery sheet\n"
		"=====================\n"
		"\n"
		"Repository id  %s\n"
		"Made           %s on %s\n"
		"Repository     %s\n"
		"\n"
		"Keep this sheet away from the computer.  With it, the passphrase and\n"
		"any remote this repository was pushed to (ckptfs push), everything\n"
		"comes back on a new machine:\n"
		"\n"
		"  1. Install ckptfs (and rclone for an rclone: remote).\n"
		"  2. ckptfs recover TARGET       TARGET as given to `ckptfs remote add`,\n"
		"                                 e.g. /media/usb/ckptfs or rclone:b2:bucket/ckptfs\n"
		"     It asks for the passphrase, fetches every pack, checks them and\n"
		"     rebuilds the catalog; the remote's repository id must be the one above.\n"
		"  3. ckptfs log, ckptfs mount ~/ckpt, ckptfs restore as before.\n"
		"\n"
		"If the remote lost its copy of the key, save this whole sheet as a file\n"
		"and run: ckptfs recover TARGET --key SHEETFILE\n"
		"The block below is the master key sealed under the passphrase\n"
		"(Argon2id + XChaCha20-Poly1305): useless without the passphrase.\n"
		"\n",
		id, out_local_time(out_now_ns(), false, when), host, repo_path(repo));
	fputs(KEYSHEET_BEGIN "\n", f);
	for (size_t i = 0, n = strlen(b64); i < n; i += 64)
		fprintf(f, "%.64s\n", b64 + i);
	fputs(KEYSHEET_END "\n", f);
	sodium_memzero(wrapped, sizeof wrapped);
	return 0;
}
