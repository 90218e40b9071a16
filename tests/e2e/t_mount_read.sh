#!/bin/bash
# Reads answered straight from the chunk cache (several chunks per reply)
# give exactly the file's bytes: ends not page-aligned, partial reads,
# reads of what the kernel kept, 4 KiB and 4 MiB read sizes, readers that
# stop early beside a full one, and a chunk cache smaller than one read.
. "$(dirname "$0")/lib.sh"

P=$T/proj
M=$T/mnt
mkdir -p "$P"
head -c $((24 * 1048576 + 1234)) /dev/urandom >"$P/rand.bin"
{ head -c 3M /dev/urandom; head -c $((5 * 1048576 + 7)) < <(yes 'some text that compresses, 0123456789'); } >"$P/mixed.bin"
ck snap -q "$P"
mount_ckpt "$M"
S=$M/proj/latest

# Bytes [off, off + len) of a file, by dd with a small block size.
slice() { dd if="$1" bs=4096 iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none; }

# --- whole files, then again from what the kernel kept -------------------------
for f in rand.bin mixed.bin; do
	cmp "$S/$f" "$P/$f" || fail "$f: cp differs"
	cmp "$S/$f" "$P/$f" || fail "$f: a second read (page cache) differs"
	cmp <(tail -c 5000 "$S/$f") <(tail -c 5000 "$P/$f") || fail "$f: tail differs"
done

# --- a partial read, then reads in and past what the kernel read ahead -------
ck umount "$M"
mount_ckpt "$M"
head -c $((4 * 1048576)) "$S/rand.bin" >/dev/null
for at in 0 4095 4194303 4194304 5000000 9999999 $((24 * 1048576 - 10)); do
	cmp <(slice "$S/rand.bin" "$at" 300000) <(slice "$P/rand.bin" "$at" 300000) ||
		fail "rand.bin: bytes at $at differ after a partial read"
done
dd if="$S/mixed.bin" bs=4k status=none | cmp - "$P/mixed.bin" || fail "mixed.bin: 4 KiB reads differ"
dd if="$S/rand.bin" bs=4M status=none | cmp - "$P/rand.bin" || fail "rand.bin: 4 MiB reads differ"

# --- readers that stop early, several at once, beside a full one ---------------
ck umount "$M"
mount_ckpt "$M"
for i in 1 2 3; do head -c $((i * 3 * 1048576)) "$S/rand.bin" >/dev/null & done
cmp "$S/rand.bin" "$P/rand.bin" || fail "rand.bin differs beside early-stopping readers"
wait

# --- a 1 MiB chunk cache: chunks pinned by one read outlive their eviction ----
ck umount "$M"
mount_ckpt "$M" --cache-size 1M
dd if="$S/rand.bin" bs=1M status=none | cmp - "$P/rand.bin" || fail "rand.bin differs with a 1 MiB cache"
cmp "$S/mixed.bin" "$P/mixed.bin" || fail "mixed.bin differs with a 1 MiB cache"
ck umount "$M"

# --- files are opened without a round trip ------------------------------------
# The first OPEN is answered ENOSYS (FUSE_CAP_NO_OPEN_SUPPORT); from then on
# the kernel opens files itself: no OPEN, no RELEASE, and reads still give
# the bytes.  The debug trace of a foreground mount counts the requests.
F=$T/mnt-trace
mkdir -p "$F"
_mounts+=("$F")
"$CKPTFS" mount -f -o debug "$F" 2>"$T/trace" &
track_pid $!
wait_for 60 "not mounted" mountpoint -q "$F"
for i in 1 2; do
	for f in rand.bin mixed.bin; do
		cmp "$F/proj/latest/$f" "$P/$f" || fail "$f differs (no open handle, round $i)"
	done
done
fusermount3 -u "$F"
wait_for 60 "still mounted" sh -c "! mountpoint -q '$F'"
opens=$(grep -c 'opcode: OPEN (14)' "$T/trace" || true)
releases=$(grep -c 'opcode: RELEASE (18)' "$T/trace" || true)
reads=$(grep -c 'opcode: READ (15)' "$T/trace" || true)
[ "$reads" -gt 0 ] || fail "the trace shows no READ: $(grep -c opcode "$T/trace") requests"
[ "$opens" -le 1 ] || fail "$opens OPEN requests for 4 opens of 2 files (wanted at most 1)"
[ "$releases" -eq 0 ] || fail "$releases RELEASE requests (wanted none)"
