#!/bin/bash
# make bench: ckptfs, restic and borg side by side on one realistic project.
#
# The project is built here, under BENCH_DIR (default a temp dir in /var/tmp):
#   vendor/    copies of real system trees: /usr/lib/python3.X and /usr/include
#   .venv/     a virtualenv shape: pyvenv.cfg + /usr/lib/python3/dist-packages
#   web/       node_modules: `npm ci` of bench/npm/package{,-lock}.json when the
#              npm registry answers, else a generated tree of the same shape
#   app/       a generated source tree (bench/gen-tree.c) under git, with .git
#   data/      a WAL SQLite database whose writer process keeps it open (so its
#              -wal is present) for the whole run and commits during "work"
#   logs/      a big log file
#   assets/    binary files (random bytes: images, fonts, archives)
#   .env*      environment files
#   .ckptignore  negates ckptfs's default excludes, so all three tools store
#              the same bytes (restic and borg exclude nothing by default)
#
# Phases, each tool in turn (ckptfs first), the page cache dropped before
# each measurement when /proc/sys/vm/drop_caches is writable:
#   first snapshot, unchanged re-snap (cold, then warm), snap after "an hour
#   of work" (edits, new and deleted files, git commits, database commits,
#   log growth, a new asset, an edited .env), repository growth for it,
#   through a fresh mount: cp of the big log, cp -a of the whole snapshot,
#   find; full restore; references: cold cat of every file, cold cp -a.
#   Peak RSS (/usr/bin/time) of every snap and of every mount server.
#
# BENCH_SCALE (default 1: ~30,000 files, ~1.7 GB) scales the file count;
# the big files (log, database, assets) scale with it up to 2x.
# BENCH_TOOLS (default "ckptfs restic borg"), BENCH_PHASES=scale (only first
# snapshot, re-snap, mount find and restore: the scale run), BENCH_KEEP=1
# keeps BENCH_DIR, BENCH_NPM=0 skips the registry and generates node_modules.
set -euo pipefail
: "${CKPTFS:?set CKPTFS to the ckptfs binary}"
here=$(cd "$(dirname "$0")/.." && pwd)
SCALE=${BENCH_SCALE:-1}
TOOLS=${BENCH_TOOLS:-ckptfs restic borg}
PHASES=${BENCH_PHASES:-all}
W=${BENCH_DIR:-$(mktemp -d /var/tmp/ckptfs-bench.XXXXXX)}
mkdir -p "$W"
P=$W/project
M=$W/mnt
export TZ=${TZ:-UTC} LC_ALL=C
export CKPTFS_REPO=$W/repo-ckptfs
export RESTIC_REPOSITORY=$W/repo-restic RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$W/cache-restic
export BORG_REPO=$W/repo-borg BORG_PASSPHRASE=bench BORG_BASE_DIR=$W/borg-home
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
writer_pid=
mount_pid=
cleanup() {
	set +e
	if mountpoint -q "$M" 2>/dev/null; then fusermount3 -u "$M" || umount -l "$M"; fi
	[ -n "$mount_pid" ] && kill "$mount_pid" 2>/dev/null
	[ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null && wait "$writer_pid" 2>/dev/null
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$M"

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
calc() { awk "BEGIN { $1 }"; }
# n scaled: int(n * SCALE), at least 1; big: scaled up to 2x
sc() { calc "v = int($1 * $SCALE); print (v < 1) ? 1 : v"; }
big() { calc "s = ($SCALE > 2) ? 2 : $SCALE; v = int($1 * s); print (v < 1) ? 1 : v"; }
dirbytes() { du -sb "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
mb() { calc "printf \"%.1f MB\", $1 / 1e6"; }
drop_note=
drop() {
	sync
	if [ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
		return 0
	fi
	drop_note="page cache NOT dropped (not permitted here): cold figures are warm"
}
log() { printf '== %s\n' "$*"; }

declare -A T RSS GROW SIZE
# timed KEY CMD...: drop the page cache, run CMD under /usr/bin/time, keep
# the wall time in T[KEY] and the peak RSS in RSS[KEY].
timed() {
	local key=$1 t0 rc=0
	shift
	drop
	t0=$(now)
	/usr/bin/time -f '%M' -o "$W/time.out" "$@" || rc=$?
	T[$key]=$(secs "$t0" "$(now)")
	RSS[$key]=$(tail -1 "$W/time.out")
	if [ $rc != 0 ]; then
		echo "bench: $key: exit $rc" >&2
		return $rc
	fi
	case $key in
	*mount* | ref*) printf '   %-28s %8s s\n' "$key" "${T[$key]}" ;;
	*) printf '   %-28s %8s s  %7s MB peak RSS\n' "$key" "${T[$key]}" "$(calc "printf \"%.0f\", ${RSS[$key]} * 1024 / 1e6")" ;;
	esac
}
warm() { # like timed, without the drop
	local key=$1 t0
	shift
	t0=$(now)
	"$@"
	T[$key]=$(secs "$t0" "$(now)")
	printf '   %-28s %8s s\n' "$key" "${T[$key]}"
}

# ---------------------------------------------------------------- dataset
build_dataset() {
	local t0 i frac n
	t0=$(now)
	mkdir -p "$P"/{vendor,.venv,web,data,logs,assets}
	log "dataset (BENCH_SCALE=$SCALE) in $P"

	# Real trees, sampled for a scale below 1, copied more than once above.
	pyroot=$(ls -d /usr/lib/python3.[0-9]* 2>/dev/null | sort -V | tail -1)
	n=$(calc "print int($SCALE + 0.999)")
	for ((i = 0; i < n; i++)); do
		frac=$(calc "f = $SCALE - $i; print (f > 1) ? 1 : f")
		for src in "$pyroot" /usr/include /usr/lib/python3/dist-packages; do
			[ -d "$src" ] || continue
			case $src in
			*dist-packages) dst=$P/.venv/lib/python3/site-packages-$i ;;
			*) dst=$P/vendor/$i$(basename "$src") ;;
			esac
			mkdir -p "$dst"
			(cd "$src" && find . \( -type f -o -type l \) -print |
				awk -v f="$frac" -v seed=$((i + 1)) 'BEGIN { srand(seed) } rand() < f' |
				tar -cf - --no-recursion -T - 2>/dev/null) | tar -C "$dst" -xf -
		done
	done
	echo "   system trees: $(secs "$t0" "$(now)") s"
	printf 'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3\n' >"$P/.venv/pyvenv.cfg"

	# node_modules
	cp "$here/bench/npm/package.json" "$here/bench/npm/package-lock.json" "$P/web/"
	nm_how="generated (npm registry not used)"
	# npm ci runs once per lock file, into build/bench/npm-<sum>/ (the
	# registry is slow here); later runs copy that tree.
	nm_cache=$here/build/bench/npm-$(cat "$here/bench/npm/package-lock.json" | md5sum | cut -c1-12)
	if [ "${BENCH_NPM:-1}" = 1 ] && [ ! -d "$nm_cache/node_modules" ] && command -v npm >/dev/null; then
		rm -rf "$nm_cache.tmp"
		mkdir -p "$nm_cache.tmp"
		cp "$here/bench/npm/package.json" "$here/bench/npm/package-lock.json" "$nm_cache.tmp/"
		(cd "$nm_cache.tmp" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null 2>&1) &&
			mv "$nm_cache.tmp" "$nm_cache"
		rm -rf "$nm_cache.tmp"
	fi
	if [ "${BENCH_NPM:-1}" = 1 ] && [ -d "$nm_cache/node_modules" ]; then
		cp -a "$nm_cache/node_modules" "$P/web/"
		nm_how="npm ci of bench/npm/package-lock.json"
	else
		rm -rf "$P/web/node_modules"
		python3 - "$P/web/node_modules" 470 <<'EOF'
# The shape of an npm ci: ~470 packages, ~21 files each, mostly small JS.
import os, random, sys
root, npk = sys.argv[1], int(sys.argv[2])
r = random.Random(12)
words = "function return const let var require module exports this value key object array string".split()
for p in range(npk):
    d = os.path.join(root, ("@scope%d/" % (p % 20) if p % 7 == 0 else "") + "pkg-%d" % p)
    os.makedirs(os.path.join(d, "lib"), exist_ok=True)
    open(os.path.join(d, "package.json"), "w").write('{"name": "pkg-%d", "version": "1.%d.0", "main": "lib/index.js"}\n' % (p, p % 30))
    open(os.path.join(d, "LICENSE"), "w").write("MIT License\n\nCopyright (c) contributors\n" * 20)
    open(os.path.join(d, "README.md"), "w").write("# pkg-%d\n\n" % p + " ".join(r.choice(words) for _ in range(r.randint(50, 2000))))
    for f in range(r.randint(5, 36)):
        n = int(r.lognormvariate(7.5, 1.3))
        body = " ".join(r.choice(words) for _ in range(max(1, n // 7)))
        open(os.path.join(d, "lib", "f%d.js" % f), "w").write("'use strict';\n" + body + "\n")
EOF
	fi
	echo "   node_modules: $nm_how"
	if [ "$n" -gt 1 ]; then # more node_modules trees at a larger scale
		for ((i = 1; i < n; i++)); do cp -a "$P/web" "$P/web$i"; done
	fi

	echo "   node_modules: $(secs "$t0" "$(now)") s"
	# app/: a generated source tree under git
	mkdir -p "$here/build/bench"
	cc -O2 -Wall -o "$here/build/bench/gen-tree" "$here/bench/gen-tree.c" -lm
	"$here/build/bench/gen-tree" -n "$(sc 5000)" -s "$(sc 120)" -r 7 "$P/app" >/dev/null
	(
		cd "$P/app"
		git init -q .
		git config user.email bench@example.com
		git config user.name bench
		# git commit starts an automatic gc in the background once there are
		# thousands of loose objects (BENCH_SCALE >= 2): it would delete files
		# while the references and snapshots read the tree.  In the foreground
		# it runs inside the untimed commit, as a user's would before a snap.
		git config gc.autoDetach false
		git add -A
		git commit -q -m "initial import"
		f=$(find . -path ./.git -prune -o -type f -name '*.py' -print | sort | sed -n '1,50p')
		for x in $f; do echo "# refactor" >>"$x"; done
		git commit -q -am "refactor"
	)

	echo "   app + git: $(secs "$t0" "$(now)") s"
	# .env files (no database URLs: the dumpers would try to reach them)
	printf 'APP_ENV=development\nSECRET_KEY=%s\nSTRIPE_KEY=sk_test_%s\nLOG_LEVEL=debug\n' \
		"$(head -c 24 /dev/urandom | base64)" "$(head -c 18 /dev/urandom | base64 | tr -d /+)" >"$P/.env"
	printf 'APP_ENV=production\nSECRET_KEY=%s\n' "$(head -c 24 /dev/urandom | base64)" >"$P/.env.production"
	printf 'API_TOKEN=%s\n' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$P/app/.env.local"

	# assets: binary, incompressible, 50 MB at scale 1
	python3 - "$P/assets" "$(big 50)" <<'EOF'
import os, random, sys
root, mb = sys.argv[1], int(sys.argv[2])
r = random.Random(5)
total, i = mb * 1000000, 0
kinds = ["png", "jpg", "woff2", "zip", "mp4", "ico"]
while total > 0:
    n = min(total, int(r.lognormvariate(11.5, 1.4)))
    d = os.path.join(root, kinds[i % len(kinds)])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "asset-%04d.%s" % (i, kinds[i % len(kinds)])), "wb") as f:
        f.write(r.randbytes(n))
    total -= n
    i += 1
EOF

	echo "   assets: $(secs "$t0" "$(now)") s"
	# the big log: 1 GiB at scale 1
	gen_log "$(big 1024)" 0 >"$P/logs/app.log"

	echo "   log: $(secs "$t0" "$(now)") s"
	# the SQLite database (WAL) and its writer, which stays
	python3 - "$P/data/app.db" "$(big 200)" <<'EOF'
import sqlite3, sys
db, mib = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE orders(id INTEGER PRIMARY KEY, owner INT, amount INT, note TEXT)")
c.execute("CREATE INDEX orders_owner ON orders(owner)")
rows = mib * 1024 * 1024 // 130
c.execute("BEGIN")
c.execute("""WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
             INSERT INTO orders SELECT i, abs(random()) % 10000, abs(random()) % 100000,
             'order ' || i || ' ' || hex(randomblob(40)) FROM s""", (rows,))
c.execute("COMMIT")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
EOF
	start_writer

	# ckptfs's default excludes off: keep what they would drop
	cat >"$P/.ckptignore" <<'EOF'
# make bench: store what restic and borg store
!node_modules/
!__pycache__/
!.cache/
!.pytest_cache/
!.mypy_cache/
!.tox/
!.gradle/
!.venv/
!venv/
!target/
!dist/
!build/
EOF
	sync
	nfiles=$(find "$P" -type f | wc -l)
	nentries=$(find "$P" | wc -l)
	tbytes=$(dirbytes "$P")
	echo "   $nfiles files, $nentries entries, $(mb "$tbytes") in $(secs "$t0" "$(now)") s"
}

# gen_log MIB SEED: log lines, every one different (bench/gen-log.c)
gen_log() {
	[ "$here/build/bench/gen-log" -nt "$here/bench/gen-log.c" ] || {
		mkdir -p "$here/build/bench"
		cc -O2 -Wall -o "$here/build/bench/gen-log" "$here/bench/gen-log.c"
	}
	"$here/build/bench/gen-log" "$1" "$2"
}

# The database's writer: holds the database open (its -wal stays), and on
# SIGUSR1 commits an hour's worth of work — 1% of the rows updated at random
# over 200 transactions and 1,000 rows inserted — then touches $W/writer.done.
start_writer() {
	python3 - "$P/data/app.db" "$W/writer.done" <<'EOF' &
import os, random, signal, sqlite3, sys, time
db, done = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("INSERT INTO orders(owner, amount, note) VALUES (0, 0, 'writer up')")
work = [False]
signal.signal(signal.SIGUSR1, lambda *a: work.__setitem__(0, True))
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
open(done, "w").close()
r = random.Random(3)
while True:
    if not work[0]:
        signal.pause()
        continue
    work[0] = False
    n = c.execute("SELECT max(id) FROM orders").fetchone()[0]
    per = max(1, n // 100 // 200)
    for t in range(200):
        c.execute("BEGIN")
        for _ in range(per):
            c.execute("UPDATE orders SET amount = amount + 1, note = note || '.' WHERE id = ?", (r.randint(1, n),))
        for _ in range(5):
            c.execute("INSERT INTO orders(owner, amount, note) VALUES (?, ?, ?)", (r.randint(0, 9999), r.randint(0, 99999), "new order %x" % r.getrandbits(128)))
        c.execute("COMMIT")
    open(done, "w").close()
EOF
	writer_pid=$!
	for _ in $(seq 100); do [ -e "$W/writer.done" ] && break; sleep 0.1; done
	[ -e "$W/writer.done" ] || { echo "bench: the database writer did not start" >&2; exit 1; }
}

# "An hour of work": edits, new and deleted files, commits, database
# commits, log growth, a new asset, an edited .env.
do_work() {
	rm -f "$W/writer.done"
	kill -USR1 "$writer_pid"
	(
		cd "$P/app"
		git ls-files | awk 'NR % 97 == 3' | while read -r f; do printf '\n# edited: handle the empty case\n' >>"$f"; done
		mkdir -p feature
		for i in $(seq 40); do
			head -c $((2000 + i * 300)) "$P/logs/app.log" | tr 'a-z' 'n-za-m' >"feature/mod_$i.py"
		done
		git ls-files | awk 'NR % 499 == 7' | xargs -r git rm -q
		git add -A
		git commit -q -m "feature work"
		git ls-files | awk 'NR % 211 == 5' | while read -r f; do printf '// more\n' >>"$f"; done
		git commit -q -am "fixes"
	)
	gen_log "$(big 20)" 1 >>"$P/logs/app.log"
	head -c 2000000 /dev/urandom >"$P/assets/png/new-screenshot.png"
	echo "FEATURE_FLAG=on" >>"$P/.env"
	for _ in $(seq 600); do [ -e "$W/writer.done" ] && break; sleep 0.1; done
	[ -e "$W/writer.done" ] || { echo "bench: the database writer did not finish" >&2; exit 1; }
	sync
}

# ------------------------------------------------------------------ tools
# snap_argv TOOL: the snapshot command in SNAP[]
snap_argv() {
	case $1 in
	ckptfs) SNAP=("$CKPTFS" snap -q "$P") ;;
	restic) SNAP=(restic backup -q "$P") ;;
	borg) SNAP=(borg create "::s-{now:%Y-%m-%dT%H:%M:%S.%f}" "$P") ;;
	esac
}
init_repo() {
	case $1 in
	ckptfs) : ;; # created by the first snap
	restic) restic init -q >/dev/null ;;
	borg) borg init -e repokey-blake2 ;;
	esac
}
repo_of() {
	case $1 in ckptfs) echo "$CKPTFS_REPO" ;; restic) echo "$RESTIC_REPOSITORY" ;; borg) echo "$BORG_REPO" ;; esac
}
# mount_tool TOOL: a fresh mount in the foreground under /usr/bin/time;
# sets SNAPDIR to the project's latest snapshot inside it
mount_tool() {
	rm -f "$W/mount.time"
	case $1 in
	ckptfs)
		/usr/bin/time -f '%M' -o "$W/mount.time" "$CKPTFS" mount -f "$M" 2>"$W/mount.err" &
		SNAPDIR=$M/$(basename "$P")/latest ;;
	restic)
		/usr/bin/time -f '%M' -o "$W/mount.time" restic mount "$M" >/dev/null 2>"$W/mount.err" &
		SNAPDIR=$M/snapshots/latest$P ;;
	borg)
		last=$(borg list --short | tail -1)
		/usr/bin/time -f '%M' -o "$W/mount.time" borg mount -f "::$last" "$M" 2>"$W/mount.err" &
		SNAPDIR=$M/${P#/} ;;
	esac
	mount_pid=$!
	for _ in $(seq 600); do [ -e "$SNAPDIR/logs/app.log" ] && return 0; sleep 0.1; done
	echo "bench: $1 mount not ready: $(cat "$W/mount.err")" >&2
	exit 1
}
umount_tool() { # -> MRSS (KiB)
	fusermount3 -u "$M" 2>/dev/null || { sleep 1; fusermount3 -u "$M"; }
	wait "$mount_pid" 2>/dev/null || true
	mount_pid=
	MRSS=$(tail -1 "$W/mount.time" 2>/dev/null || echo 0)
	case $MRSS in '' | *[!0-9]*) MRSS=0 ;; esac
}
restore_argv() { # restore_argv TOOL DEST: the command in REST[]
	mkdir -p "$2"
	case $1 in
	ckptfs) REST=("$CKPTFS" restore "$P" --project "$(basename "$P")" --to "$2/project") ;;
	restic) REST=(restic restore -q latest --target "$2") ;;
	borg) REST=(sh -c 'cd "$1" && exec borg extract "$2"' sh "$2" "::$(borg list --short | tail -1)") ;;
	esac
}

# ------------------------------------------------------------------- run
for t in $TOOLS; do
	case $t in
	ckptfs) ;;
	restic | borg) command -v "$t" >/dev/null || { echo "bench: $t not installed (scripts/install-deps.sh bench)" >&2; exit 1; } ;;
	*) echo "bench: unknown tool $t" >&2; exit 2 ;;
	esac
done
echo "ckptfs bench: $(date -u +%FT%TZ), $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $("$CKPTFS" --version 2>/dev/null | head -1), $(restic version 2>/dev/null | cut -d' ' -f1-2), $(borg --version 2>/dev/null)"
build_dataset
for t in $TOOLS; do init_repo "$t"; done

log "references: cold cat of every file, cold cp -a"
timed "ref cat" sh -c 'find "$1" -type f -print0 | xargs -0 cat >/dev/null' sh "$P"
timed "ref cp -a" cp -a "$P" "$W/ref-copy"
rm -rf "$W/ref-copy"

log "first snapshot"
for t in $TOOLS; do
	snap_argv "$t"
	timed "$t first" "${SNAP[@]}"
	SIZE[$t]=$(dirbytes "$(repo_of "$t")")
done
log "unchanged re-snap: cold, then warm"
for t in $TOOLS; do
	snap_argv "$t"
	timed "$t resnap" "${SNAP[@]}"
	warm "$t resnap warm" "${SNAP[@]}"
done
if [ "$PHASES" = all ]; then
	log "an hour of work"
	do_work
	for t in $TOOLS; do
		b0=$(dirbytes "$(repo_of "$t")")
		snap_argv "$t"
		timed "$t work" "${SNAP[@]}"
		GROW[$t]=$(($(dirbytes "$(repo_of "$t")") - b0))
		echo "   $t repository +$(mb "${GROW[$t]}")"
	done
fi

log "through the mount (a fresh mount for each)"
declare -A MOUNT_RSS
for t in $TOOLS; do
	MOUNT_RSS[$t]=0
	ops="find"
	[ "$PHASES" = all ] && ops="cp-log cp-a find"
	for op in $ops; do
		mount_tool "$t"
		case $op in
		cp-log) timed "$t mount cp log" cp "$SNAPDIR/logs/app.log" "$W/out.log" ;;
		cp-a) mkdir -p "$W/out-tree"; timed "$t mount cp -a" cp -a "$SNAPDIR/." "$W/out-tree" ;;
		find) timed "$t mount find" sh -c 'find "$1" | wc -l >"$2"' sh "$SNAPDIR/" "$W/find.$t"
			echo "   ($(cat "$W/find.$t") entries)" ;;
		esac
		umount_tool
		[ "$MRSS" -gt "${MOUNT_RSS[$t]}" ] && MOUNT_RSS[$t]=$MRSS
		echo "   ($t mount server peak RSS $(calc "printf \"%.0f\", $MRSS * 1024 / 1e6") MB)"
		rm -rf "$W/out.log" "$W/out-tree"
	done
done

log "full restore"
for t in $TOOLS; do
	restore_argv "$t" "$W/restore-$t"
	timed "$t restore" "${REST[@]}"
	echo "   $t restored $(find "$W/restore-$t" -type f | wc -l) files"
	rm -rf "$W/restore-$t"
done

# ------------------------------------------------------------------ table
peers=""
for t in $TOOLS; do [ "$t" != ckptfs ] && peers="$peers $t"; done
row() { # row LABEL REFERENCE KEY-SUFFIX [unit]
	local label=$1 ref=$2 suf=$3 line best="" v
	line="| $label | $ref |"
	for t in $TOOLS; do
		v=${T["$t $suf"]:-}
		line="$line ${v:+$v s} |"
	done
	for t in $peers; do
		v=${T["$t $suf"]:-}
		[ -n "$v" ] && { [ -z "$best" ] || calc "exit !($v < $best)"; } && best=$v
	done
	if [[ " $TOOLS " == *" ckptfs "* ]] && [ -n "$best" ] && [ -n "${T["ckptfs $suf"]:-}" ]; then
		line="$line $(calc "printf \"%.2f\", ${T["ckptfs $suf"]} / $best") |"
	else
		line="$line — |"
	fi
	echo "$line"
}
bytes_row() { # bytes_row LABEL ARRAY-NAME
	local -n arr=$2
	local line="| $1 | — |" best="" v
	for t in $TOOLS; do line="$line $(mb "${arr[$t]:-0}") |"; done
	for t in $peers; do v=${arr[$t]:-}; [ -n "$v" ] && { [ -z "$best" ] || [ "$v" -lt "$best" ]; } && best=$v; done
	if [[ " $TOOLS " == *" ckptfs "* ]] && [ -n "$best" ]; then
		line="$line $(calc "printf \"%.2f\", ${arr[ckptfs]} / $best") |"
	else
		line="$line — |"
	fi
	echo "$line"
}
rss_row() { # rss_row LABEL KIB-ARRAY-OR-KEY-SUFFIX
	local line="| $1 | — |" v
	for t in $TOOLS; do
		if [ "$2" = mount ]; then v=${MOUNT_RSS[$t]}; else v=${RSS["$t $2"]:-0}; fi
		line="$line $(calc "printf \"%.0f MB\", $v * 1024 / 1e6") |"
	done
	echo "$line —  |"
}
{
	echo
	echo "ckptfs bench, BENCH_SCALE=$SCALE: $nfiles files, $nentries entries, $(mb "$tbytes"); node_modules: $nm_how"
	echo "$(uname -r), $(nproc) CPUs, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	[ -n "$drop_note" ] && echo "$drop_note" || echo "page cache dropped before every timed step"
	echo
	hdr="| phase | reference |"
	sep="|---|---|"
	for t in $TOOLS; do hdr="$hdr $t |"; sep="$sep---|"; done
	echo "$hdr ckptfs / best peer |"
	echo "$sep---|"
	row "first snapshot" "cold \`cat\` ${T[ref cat]} s" first
	bytes_row "repository after it" SIZE
	row "unchanged re-snap (cold)" — resnap
	row "unchanged re-snap (warm)" — "resnap warm"
	if [ "$PHASES" = all ]; then
		row "snap after an hour of work" — work
		bytes_row "repository growth for that hour" GROW
		row "mount: \`cp\` the $(big 1024) MiB log" — "mount cp log"
		row "mount: \`cp -a\` whole snapshot" "cold \`cp -a\` ${T[ref cp -a]} s" "mount cp -a"
	fi
	row "mount: \`find\` $(cat "$W/find.$(set -- $TOOLS; echo "$1")") entries" — "mount find"
	row "full restore" "cold \`cp -a\` ${T[ref cp -a]} s" restore
	rss_row "peak RSS, first snapshot" first
	[ "$PHASES" = all ] && rss_row "peak RSS, snap after work" work
	rss_row "peak RSS, mount server" mount
} | tee "$W/table.md"
[ -n "${BENCH_TABLE:-}" ] && cp "$W/table.md" "$BENCH_TABLE"
exit 0
