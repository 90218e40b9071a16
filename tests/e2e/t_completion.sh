#!/bin/bash
# Shell completion: the bash script, driven as bash drives it (COMP_LINE,
# COMP_POINT, COMP_WORDS split at ':'), completes commands, options,
# project names and snapshot names (which contain ':').
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")/../.." && pwd)

P=$T/webapp
mkdir -p "$P"
printf 'x\n' >"$P/a"
cd "$P"
ck snap -q -t before-migration
printf 'y\n' >"$P/a"
ck snap -q
snaps=$(ck log --json | python3 -c 'import json,sys; print("\n".join(s["name"] for s in json.load(sys.stdin)))')
first=$(printf '%s\n' "$snaps" | tail -n1)

# complete LINE: what bash would offer at the end of LINE.
complete_line() {
	bash -c '
		. "$1"
		COMP_LINE=$2 COMP_POINT=${#2}
		# bash splits words at spaces and at each character of COMP_WORDBREAKS.
		COMP_WORDS=(); w=
		for ((i = 0; i < ${#2}; i++)); do
			ch=${2:i:1}
			if [[ $ch == " " ]]; then [ -n "$w" ] && COMP_WORDS+=("$w"); w=
			elif [[ $ch == ":" ]]; then [ -n "$w" ] && COMP_WORDS+=("$w"); COMP_WORDS+=(":"); w=
			else w+=$ch; fi
		done
		COMP_WORDS+=("$w"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_ckptfs
		printf "%s\n" "${COMPREPLY[@]}"' _ "$here/contrib/ckptfs.bash" "$1"
}

out=$(complete_line "$CKPTFS sh")
[ "$out" = show ] || fail "command: got '$out'"
out=$(complete_line "$CKPTFS log --pro")
[ "$out" = --project ] || fail "option: got '$out'"
out=$(complete_line "$CKPTFS log --project we")
[ "$out" = webapp ] || fail "project: got '$out'"
out=$(complete_line "$CKPTFS show ")
for s in $snaps latest before-migration; do
	printf '%s\n' "$out" | grep -qx -- "$s" || fail "snapshot $s not offered: $out"
done
# Past a ':' bash replaces only what follows it.
head=${first%:*}
out=$(complete_line "$CKPTFS restore a --from $head:" | sort)
want=$(printf '%s\n' $snaps | grep -F "$head:" | sed "s/^$head://" | sort)
[ -n "$out" ] && [ "$out" = "$want" ] || fail "after ':': got '$out', want '$want'"
out=$(complete_line "$CKPTFS restore --from before")
[ "$out" = before-migration ] || fail "tag: got '$out'"
# diff takes WHENs first, search --since/--until times: snapshot names.
out=$(complete_line "$CKPTFS diff ")
printf '%s\n' "$out" | grep -qx latest || fail "diff WHEN: got '$out'"
out=$(complete_line "$CKPTFS search x --since ")
printf '%s\n' "$out" | grep -qx latest || fail "search --since: got '$out'"
out=$(complete_line "$CKPTFS versions ")
[ -z "$out" ] || fail "versions PATH: got '$out'"
# A path argument: nothing from ckptfs, so bash completes file names.
out=$(complete_line "$CKPTFS restore ")
[ -z "$out" ] || fail "path: got '$out'"
# No repository: completion prints nothing and creates nothing.
out=$(CKPTFS_REPO=$T/none complete_line "$CKPTFS show ")
[ -z "$out" ] && [ ! -e "$T/none" ] || fail "no repository: got '$out'"
# A command's own verbs (schedule enable|disable|status), then its options.
out=$(complete_line "$CKPTFS schedule st")
[ "$out" = status ] || fail "schedule verb: got '$out'"
out=$(complete_line "$CKPTFS schedule enable --ev")
[ "$out" = --every ] || fail "schedule option: got '$out'"
echo "bash completion: commands, options, projects, snapshot names and tags"
