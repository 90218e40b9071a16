#!/bin/bash
# What snap leaves out: the defaults (build output only of a recognised
# toolchain), .ckptignore, --exclude, and the repository itself.
. "$(dirname "$0")/lib.sh"

P=$T/proj
mkdir -p "$P"/{node_modules/pkg,.venv,venv,web/build,web/dist,c/build,plain/build,plain/dist,rs/target,tmp,src/__pycache__}
cd "$P"
printf 'x\n' >node_modules/pkg/index.js
printf 'home = /usr\n' >.venv/pyvenv.cfg
printf 'mine\n' >venv/notes.txt        # no pyvenv.cfg: a folder someone named venv
printf '{}\n' >web/package.json
printf 'bundle\n' >web/build/app.js     # package.json next to it: output
printf 'bundle\n' >web/dist/app.js
printf 'project(x)\n' >c/CMakeLists.txt
printf 'obj\n' >c/build/x.o
printf 'all:\n' >plain/Makefile
printf 'hand-written\n' >plain/build/script.sh  # a plain Makefile: kept
printf 'hand-written\n' >plain/dist/notes.txt
printf '[package]\n' >rs/Cargo.toml
printf 'bin\n' >rs/target/app
printf 'c\n' >src/__pycache__/m.pyc
printf 'tmp\n' >tmp/scratch
printf 'keep\n' >tmp/keep.txt
printf 'SECRET=1\n' >.env.local
printf 'log\n' >debug.log
printf 'log\n' >src/deeper.log
printf 'code\n' >src/main.py
mkdir -p .git && printf 'ref: refs/heads/main\n' >.git/HEAD
printf 'tmp/*\n!tmp/keep.txt\n' >.ckptignore
# the repository inside the project is never snapshotted
export CKPTFS_REPO=$P/.ckptfs-repo

ck snap -q --exclude '*.log'
ck restore . --to "$T/out" >/dev/null
cd "$T/out"
for kept in venv/notes.txt web/package.json plain/build/script.sh plain/dist/notes.txt \
	rs/Cargo.toml tmp/keep.txt .env.local src/main.py .git/HEAD .ckptignore c/CMakeLists.txt; do
	[ -f "$kept" ] || fail "$kept was left out"
done
for gone in node_modules .venv web/build web/dist c/build rs/target src/__pycache__ \
	tmp/scratch debug.log src/deeper.log .ckptfs-repo; do
	[ ! -e "$gone" ] || fail "$gone was snapshotted"
done
echo ok
