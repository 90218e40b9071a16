#!/bin/bash
# Browse the mount the way GNOME's file manager does, with gio (GLib's
# file API from Debian's libglib2.0-bin): list, info (with the file-system
# and thumbnail/xattr probes it makes), copy out; trash and remove fail.
. "$(dirname "$0")/lib.sh"
command -v gio >/dev/null || skip "gio not installed (libglib2.0-bin)"

P=$T/proj
M=$T/mnt
mkdir -p "$P/docs"
printf 'hello\n' >"$P/readme.md"
head -c 3M /dev/urandom >"$P/data.bin"
printf '<html></html>\n' >"$P/docs/index.html"
ln -s readme.md "$P/link"
setfattr -n user.xdg.comment -v "a note" "$P/readme.md"
ck snap -q "$P" -t v1
mount_ckpt "$M"
S=$M/proj/latest

# gio must never hang on the mount
g() { timeout 20 gio "$@"; }

g list "$M" >"$T/root" || fail "gio list root"
grep -qx proj "$T/root" || fail "gio list root: $(cat "$T/root")"
g list -h "$M/proj" >"$T/plist" || fail "gio list project"
grep -qx latest "$T/plist" && grep -qx @tags "$T/plist" || fail "gio list project: $(cat "$T/plist")"
g list -l -a 'standard::*,unix::*,thumbnail::*,access::*' "$S" >"$T/snap" || fail "gio list -l"
for n in readme.md data.bin docs link; do grep -q "^$n" "$T/snap" || fail "gio list lacks $n"; done

g info "$S/readme.md" >"$T/info" || fail "gio info"
grep -q "standard::size: 6" "$T/info" || fail "gio info size: $(cat "$T/info")"
grep -q "xattr::xdg.comment: a note" "$T/info" || fail "gio info xattr"
grep -q "access::can-write: FALSE" "$T/info" || fail "gio info says writable"
g info -f -a 'filesystem::*' "$M" >"$T/fsinfo" || fail "gio info -f"
grep -q "filesystem::readonly: TRUE" "$T/fsinfo" || fail "gio info -f: $(cat "$T/fsinfo")"

g copy "$S/data.bin" "$T/copied.bin" || fail "gio copy"
cmp "$T/copied.bin" "$P/data.bin" || fail "gio copy content"
g copy -p "$S/readme.md" "$T/readme.md" || fail "gio copy -p"
[ "$(stat -c %Y "$T/readme.md")" = "$(stat -c %Y "$P/readme.md")" ] || fail "gio copy -p mtime"
g copy "$M/proj/@tags/v1/docs/index.html" "$T/index.html" || fail "gio copy through a tag"
cmp "$T/index.html" "$P/docs/index.html" || fail "index.html"

if g trash "$S/readme.md" 2>/dev/null; then fail "gio trash succeeded"; fi
if g remove "$S/readme.md" 2>/dev/null; then fail "gio remove succeeded"; fi
if g copy "$P/readme.md" "$S/new.md" 2>/dev/null; then fail "gio copy into the mount succeeded"; fi
[ -f "$S/readme.md" ] || fail "readme.md gone"
# a file manager's probes left nothing behind and the mount still answers
[ "$(cat "$S/readme.md")" = hello ] || fail "after gio"
ck umount "$M"
echo ok
