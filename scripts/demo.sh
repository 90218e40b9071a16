#!/bin/bash
# make demo: snapshot a small sample project and walk through its history.
# Uses a private repository in a temp dir (DEMO_KEEP=1 keeps it).
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
D=$(mktemp -d "${TMPDIR:-/tmp}/ckptfs-demo.XXXXXX")
cleanup() {
	mountpoint -q "$D/mnt" 2>/dev/null && { "$CKPTFS" umount "$D/mnt" || fusermount3 -uz "$D/mnt"; }
	[ "${DEMO_KEEP:-0}" = 1 ] && echo "kept $D" || rm -rf "$D"
}
trap cleanup EXIT
export CKPTFS_REPO=$D/repo
ckptfs() { "$CKPTFS" "$@"; }
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() {
	local a line='$'
	for a in "$@"; do
		case $a in
		*[[:space:]\'\"]*) line="$line \"$a\"" ;;
		*) line="$line $a" ;;
		esac
	done
	printf '%s\n' "$line"
	"$@"
}

# --- a sample project: git, an .env, sources, a local database, bulk -------
P=$D/myapp
mkdir -p "$P/src" "$P/migrations" "$P/node_modules/left-pad"
cd "$P"
cat >src/app.py <<'PY'
import os, sqlite3
DB = os.environ.get("DATABASE", "app.db")
def main():
    con = sqlite3.connect(DB)
    print(con.execute("select count(*) from users").fetchone()[0], "users")
if __name__ == "__main__":
    main()
PY
printf 'def helper():\n    return 42\n' >src/util.py
printf 'DATABASE=app.db\nSECRET_KEY=s3cr3t-do-not-lose\n' >.env
printf 'create table users(id integer primary key, name text);\n' >migrations/001_users.sql
printf 'module.exports = s => s;\n' >node_modules/left-pad/index.js
printf '# myapp\n' >README.md
if command -v sqlite3 >/dev/null; then
	sqlite3 app.db 'create table users(id integer primary key, name text);
		insert into users(name) values ("ada"), ("grace");'
fi
if command -v git >/dev/null; then
	git init -q -b main
	printf 'node_modules/\n.env\napp.db\n' >.gitignore
	git add -A && git -c user.email=demo@example.com -c user.name=demo commit -qm "first commit"
fi

say "A first snapshot (the project registers itself under its folder name)"
run ckptfs snap -m "initial"

say "Some work happens..."
printf 'ALTER TABLE users ADD email TEXT;\n' >migrations/002_email.sql
printf 'def helper():\n    return 43\n' >src/util.py
rm README.md
echo "  (added migrations/002_email.sql, changed src/util.py, removed README.md)"
run ckptfs snap -m "before migration" -t pre-migration

say "History of this project, newest first"
run ckptfs log

say "Every project in the repository"
run ckptfs projects

say "What the latest snapshot holds and what changed (node_modules is left out)"
run ckptfs show latest

say "Oops: the .env is overwritten"
printf 'DATABASE=\n' >.env
run cat .env
say "Get it back from the tagged snapshot (a safety snapshot is taken first)"
run ckptfs restore .env --from pre-migration
run cat .env

say "The whole src/ of the first snapshot, somewhere else"
first=$("$CKPTFS" log | tail -n 1 | cut -d' ' -f1)
run ckptfs restore src/ --from "$first" --to "$D/old-src"
run cat "$D/old-src/util.py"

say "Times work too: a date means the state at the end of that day"
run ckptfs restore src/util.py --from "$(date +%Y-%m-%d)" --dry-run

say "The safety snapshot is in the history: the restore itself can be undone"
run ckptfs log

say "Every snapshot as a read-only folder tree"
if [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
	mkdir "$D/mnt"
	run ckptfs mount "$D/mnt"
	run ls "$D/mnt/myapp"
	run cat "$D/mnt/myapp/$first/src/util.py"
	run ls -l "$D/mnt/myapp/latest"
	run ckptfs umount "$D/mnt"
else
	echo "  (skipped: no /dev/fuse here)"
fi

say "Every version of a file, and what changed since the last snapshot"
run ckptfs versions src/util.py
run ckptfs diff --stat || true # exit 1 means: there are differences

say "History thins itself: forget moves snapshots to the trash, for 7 days"
run ckptfs forget "$first"
run ckptfs trash
run ckptfs trash restore "$first"
run ckptfs gc --dry-run

say "An offsite copy: the key wrapped with a passphrase, a remote, a push"
printf 'correct horse battery staple\n' >"$D/passphrase"
export CKPTFS_PASSPHRASE_FILE=$D/passphrase
run ckptfs key passphrase
run ckptfs remote add usb "$D/usb"
run ckptfs push
run ckptfs remote list
