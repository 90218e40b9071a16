#!/bin/bash
# snap a tree holding every file type and odd names, restore it elsewhere
# and compare byte for byte; restore into the project behind a safety
# snapshot; restore single files, a deleted directory, a dry run.
. "$(dirname "$0")/lib.sh"

P=$T/proj
mkdir -p "$P"

# --- a tree with everything a project can hold -----------------------------
cd "$P"
printf 'hello\n' >"a file.txt"
printf 'SECRET=1\n' >.env
: >empty
mkdir "sub dir" emptydir
printf 'inner\n' >"sub dir/inner.txt"
printf 'x\n' >$'new\nline'
printf 'y\n' >$'tab\there'
printf 'z\n' >$'bad\xff\xfename'
printf 'u\n' >"caf$(printf '\xc3\xa9') ünïcødé"
printf 'q\n' >"quote\"s 'and' \\back"
printf 'l\n' >"$(printf 'n%.0s' $(seq 255))"
# 50 directories deep
d=deep
for i in $(seq 2 50); do d="$d/d$i"; done
mkdir -p "$d"
printf 'bottom\n' >"$d/file"
# sparse: holes at the start and in the middle
truncate -s 10M sparse
printf 'middle' | dd of=sparse bs=1 seek=5000000 conv=notrunc status=none
printf 'end' | dd of=sparse bs=1 seek=$((10 * 1024 * 1024 - 3)) conv=notrunc status=none
head -c 3000000 /dev/urandom >random.bin
seq 1 200000 >numbers.txt
ln -s "a file.txt" link
ln -s /nonexistent/absolute dangling
ln -s ../.. up
ln -s "sub dir" dirlink
mkfifo pipe
printf '#!/bin/sh\necho hi\n' >script.sh
chmod 755 script.sh
chmod 600 .env
chmod 444 numbers.txt
chmod 700 "sub dir"
chmod 1777 emptydir
setfattr -n user.comment -v "a comment" "a file.txt"
setfattr -n user.bin -v 0x00ff0102 "a file.txt"
setfattr -n user.dir -v yes "sub dir"
# fixed times, ns included, files first then directories deepest first
find . -mindepth 1 ! -type d -exec touch -h -d @1700000000.123456789 {} +
touch -d @1600000000.5 "a file.txt"
find . -mindepth 1 -depth -type d -exec touch -d @1650000000.25 {} +
cp -a "a file.txt" "$T/original.txt"
cd /

# --- snap and restore elsewhere --------------------------------------------
out=$("$CKPTFS" snap "$P" -m first -t v1) || fail "snap exited $?"
echo "$out"
re='^proj [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?  [0-9,]+ files?  [0-9.]+ (B|KiB|MiB|GiB)  \+[0-9.]+ (B|KiB|MiB|GiB) new  [0-9.]+ s$'
[[ $out =~ $re ]] || fail "snap summary has an unexpected shape: $out"

(cd "$P" && ck restore . --to "$T/out") >"$T/restore.txt"
cat "$T/restore.txt"
grep -q "^restored \. from proj .* into $T/out: " "$T/restore.txt" || fail "restore summary"
same_tree "$P" "$T/out"
# holes come back as holes
blocks=$(stat -c %b "$T/out/sparse")
[ "$blocks" -lt 2048 ] || fail "sparse file restored with $blocks blocks"
[ -p "$T/out/pipe" ] || fail "fifo not restored as a fifo"

# -q prints nothing; an unchanged second snapshot stores nothing new
out=$("$CKPTFS" snap -q "$P") || fail "snap -q exited $?"
[ -z "$out" ] || fail "snap -q printed: $out"

# --- restore one file into the project: safety snapshot first --------------
printf 'changed\n' >"$P/a file.txt"
(cd "$P" && ck restore "a file.txt") >"$T/restore.txt"
cat "$T/restore.txt"
cmp "$P/a file.txt" "$T/original.txt" || fail "content not restored"
[ "$(stat -c %Y "$P/a file.txt")" = 1600000000 ] || fail "mtime not restored"
[ "$(getfattr --absolute-names --only-values -n user.comment "$P/a file.txt")" = "a comment" ] || fail "xattr"
grep -q '^safety snapshot proj ' "$T/restore.txt" || fail "no safety snapshot line"
safety=$(ck log --project proj --json | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
assert s["message"] == "before restore of a file.txt", s
print(s["name"])')
ck restore "a file.txt" --project proj --from "$safety" --to "$T/safe/" >/dev/null
[ "$(cat "$T/safe/a file.txt")" = changed ] || fail "safety snapshot lacks the changed file"
same_tree "$P" "$T/out"

# --- relative to the current directory inside the project ------------------
printf 'other\n' >"$P/sub dir/inner.txt"
(cd "$P/sub dir" && ck restore inner.txt --from v1) >/dev/null
[ "$(cat "$P/sub dir/inner.txt")" = inner ] || fail "cwd-relative restore"
# ... and relative to the project root as a fallback
printf 'other\n' >"$P/.env"
(cd "$P/sub dir" && ck restore .env --from v1) >/dev/null
[ "$(cat "$P/.env")" = SECRET=1 ] || fail "root-relative restore from a subdirectory"
# Writing a file into a directory changes the directory's mtime, as any
# write does; only a restored directory gets its recorded mtime back.
touch -d @1650000000.25 "$P/sub dir"

# --- a deleted directory comes back whole ----------------------------------
rm -rf "$P/deep"
(cd "$P" && ck restore deep/ --from v1) >/dev/null
same_tree "$P" "$T/out"

# --- dry run writes nothing --------------------------------------------------
rm "$P/numbers.txt"
(cd "$P" && ck restore numbers.txt --dry-run) >"$T/dry.txt"
grep -q '^would restore numbers.txt from proj ' "$T/dry.txt" || fail "dry run summary"
[ ! -e "$P/numbers.txt" ] || fail "dry run wrote the file"
n=$(ck log --project proj --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
(cd "$P" && ck restore numbers.txt) >/dev/null
[ "$(ck log --project proj --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = $((n + 1)) ] ||
	fail "restore into the project did not add one safety snapshot"
same_tree "$P" "$T/out"

# --- a single file to a new name, and into an existing directory ------------
ck restore "a file.txt" --project proj --from v1 --to "$T/single/renamed.txt" >/dev/null
cmp "$T/single/renamed.txt" "$T/original.txt" || fail "--to FILE"
mkdir "$T/into"
ck restore "sub dir/inner.txt" --project proj --to "$T/into" >/dev/null
[ "$(cat "$T/into/inner.txt")" = inner ] || fail "--to existing DIR"

# --- an absolute PATH names its project from anywhere, even once deleted ----
mkdir "$T/abs"
(cd / && ck restore "$P/a file.txt" --from v1 --to "$T/abs/") >/dev/null ||
	fail "absolute PATH from outside the project"
cmp "$T/abs/a file.txt" "$T/original.txt" || fail "absolute PATH: content"
rm -rf "$P/deep"
(cd / && ck restore "$P/deep" --from v1 --to "$T/abs/deep") >/dev/null ||
	fail "absolute PATH of a deleted folder"
[ -d "$T/abs/deep" ] || fail "absolute PATH of a deleted folder: nothing restored"
(cd / && ck versions "$P/a file.txt") >/dev/null || fail "versions of an absolute PATH"
(cd / && ck restore /nonexistent/x --to "$T/abs/") 2>"$T/err.txt" && fail "outside every project"
grep -q '^ckptfs: /nonexistent/x: not in a registered project' "$T/err.txt" ||
	fail "outside every project: $(cat "$T/err.txt")"

# --- a git work tree is found from a subdirectory ---------------------------
G=$T/gitproj
mkdir -p "$G/src/deeper"
git -C "$G" init -q -b main
printf 'code\n' >"$G/src/main.c"
git -C "$G" -c user.email=t@e -c user.name=t add -A
git -C "$G" -c user.email=t@e -c user.name=t commit -qm init
(cd "$G/src/deeper" && ck snap -q)
ck log --project gitproj --json | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
assert s["git_branch"] == "main", s
assert s["git_commit"] == sys.argv[1], s' "$(git -C "$G" rev-parse HEAD)"
ck restore . --project gitproj --to "$T/gitout" >/dev/null
[ -f "$T/gitout/.git/HEAD" ] || fail ".git is not in the snapshot"
cmp "$T/gitout/src/main.c" "$G/src/main.c" || fail "git project content"
echo ok
