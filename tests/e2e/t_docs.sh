#!/bin/bash
# The documentation agrees with the program: every command the program
# lists has a section in the man page and in the README, and every long
# option a command's --help shows is in the man page's SYNOPSIS or that
# command's section, and in the README.
. "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
man=$root/man/ckptfs.1
readme=$root/README.md
[ -f "$man" ] && [ -f "$readme" ] || skip "no man page or README beside the tests"
command -v man >/dev/null || skip "no man(1) to render the man page"
# The man page as text, hyphens plain.
MANWIDTH=200 man -l "$man" 2>/dev/null | sed 's/‐/-/g' >"$T/man.txt"
[ -s "$T/man.txt" ] || fail "man page renders empty"

cmds=$("$CKPTFS" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ -n "$cmds" ] || fail "no commands in ckptfs --help"
for c in $cmds; do
	grep -Eq "^ +ckptfs $c( |$)" "$T/man.txt" || fail "man page SYNOPSIS lacks ckptfs $c"
	grep -Fq "ckptfs $c" "$readme" || fail "README lacks ckptfs $c"
	"$CKPTFS" "$c" --help >"$T/help.txt" || fail "ckptfs $c --help exited $?"
	# Option lines: "  -m, --message MSG" or "      --name NAME".
	while read -r short long; do
		[ "$long" = --help ] && continue
		grep -Fq -- "$long" "$T/man.txt" || fail "ckptfs $c $long: not in the man page"
		# The README may give the short form.
		grep -Fq -- "$long" "$readme" || { [ "$short" != none ] && grep -Eq -- "(^|[^a-z-])$short([^a-z]|$)" "$readme"; } ||
			fail "ckptfs $c $long: not in the README"
	done < <(sed -nE 's/^ +(-[a-zA-Z]), (--[a-z][a-z-]*).*/\1 \2/p; s/^ +(--[a-z][a-z-]*).*/none \1/p' "$T/help.txt")
done
echo ok
