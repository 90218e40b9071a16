#!/bin/bash
# ckptfs key passphrase / recovery-sheet: the wrapped key beside the plain
# one (file, stdin, terminal asked twice), --require makes every command
# ask (wrong passphrase: one line, exit 1), the sheet's key block is the
# wrapped key file and holds nothing of the plain key.
. "$(dirname "$0")/lib.sh"
export CKPTFS_KEYWRAP_MS=1
unset CKPTFS_PASSPHRASE_FILE

expect_status 1 "$CKPTFS" key passphrase --passphrase-stdin </dev/null
grep -q 'no repository at' "$T/stderr" || fail "no repo: $(cat "$T/stderr")"
[ ! -e "$CKPTFS_REPO" ] || fail "key passphrase created a repository"

mkdir -p "$T/p" && echo data >"$T/p/f"
(cd "$T/p" && ck snap -q)
expect_status 1 "$CKPTFS" key recovery-sheet
grep -q 'no passphrase-wrapped key (set one with: ckptfs key passphrase)' "$T/stderr" ||
	fail "sheet without wrapped key: $(cat "$T/stderr")"
expect_status 2 "$CKPTFS" key
expect_status 2 "$CKPTFS" key frobnicate

# --- from a file ---------------------------------------------------------------
printf 'first pass\n' >"$T/pass1"
CKPTFS_PASSPHRASE_FILE=$T/pass1 expect_status 0 "$CKPTFS" key passphrase
grep -q 'the plain key stays for local use' "$T/stdout" || fail "set: $(cat "$T/stdout")"
[ "$(stat -c %a "$CKPTFS_REPO/key.wrapped")" = 600 ] || fail "key.wrapped mode"
[ -e "$CKPTFS_REPO/key" ] || fail "plain key gone without --require"
! grep -rqF 'first pass' "$T/stdout" "$T/stderr" "$CKPTFS_REPO" || fail "passphrase printed or stored"

# --- the sheet: its block decodes to key.wrapped; the plain key is not in it -------
expect_status 0 "$CKPTFS" key recovery-sheet
cp "$T/stdout" "$T/sheet"
grep -Eq '^Repository id  [0-9a-f]{32}$' "$T/sheet" || fail "no id: $(cat "$T/sheet")"
sed -n '/^-----BEGIN CKPTFS WRAPPED KEY-----$/,/^-----END CKPTFS WRAPPED KEY-----$/p' "$T/sheet" |
	sed '1d;$d' | base64 -d >"$T/block" || fail "block does not decode"
cmp -s "$T/block" "$CKPTFS_REPO/key.wrapped" || fail "sheet block is not key.wrapped"
plain=$(tail -c +17 "$CKPTFS_REPO/key" | head -c 32 | base64 -w0)
! grep -qF "$(tail -c +17 "$CKPTFS_REPO/key" | head -c 24 | base64 -w0 | head -c 16)" "$T/sheet" ||
	fail "plain key material on the sheet"
[ -n "$plain" ]
grep -q 'ckptfs recover TARGET' "$T/sheet" || fail "sheet lacks the steps"

# --- --passphrase-stdin, changing it -----------------------------------------------
old=$(md5sum <"$CKPTFS_REPO/key.wrapped")
echo 'second pass' | expect_status 0 "$CKPTFS" key passphrase --passphrase-stdin
[ "$(md5sum <"$CKPTFS_REPO/key.wrapped")" != "$old" ] || fail "key.wrapped not rewritten"
echo '' | expect_status 1 "$CKPTFS" key passphrase --passphrase-stdin
grep -q 'empty passphrase' "$T/stderr" || fail "empty: $(cat "$T/stderr")"

# --- a terminal: asked twice, echo off; a mismatch changes nothing -------------------
if script -qec true /dev/null >/dev/null 2>&1 </dev/null; then
	old=$(md5sum <"$CKPTFS_REPO/key.wrapped")
	# typist LINE1 LINE2: types each line once its prompt is in tty.out
	# (echo is off from the prompt on; "sleep 1" before each line typed too
	# soon on a slow machine, and the line was echoed), then keeps the
	# terminal open until the command said how it ended.
	typist() {
		local end=$((SECONDS + 60))
		until grep -qs 'new passphrase: ' "$T/tty.out" || [ $SECONDS -ge $end ]; do sleep 0.05; done
		echo "$1"
		until grep -qs 'again: ' "$T/tty.out" || [ $SECONDS -ge $end ]; do sleep 0.05; done
		echo "$2"
		until grep -qsE 'differ|passphrase set' "$T/tty.out" || [ $SECONDS -ge $end ]; do sleep 0.05; done
	}
	: >"$T/tty.out" # emptied before the typist reads it
	typist 'tty pass' 'tty typo' | script -qec "$CKPTFS key passphrase" /dev/null >"$T/tty.out" 2>&1 || true
	grep -q 'new passphrase: ' "$T/tty.out" || fail "no prompt: $(cat "$T/tty.out")"
	grep -q 'the two entries differ' "$T/tty.out" || fail "mismatch not refused: $(cat "$T/tty.out")"
	[ "$(md5sum <"$CKPTFS_REPO/key.wrapped")" = "$old" ] || fail "mismatch changed key.wrapped"
	: >"$T/tty.out"
	typist 'tty pass' 'tty pass' | script -qec "$CKPTFS key passphrase" /dev/null >"$T/tty.out" 2>&1 ||
		fail "tty set: $(cat "$T/tty.out")"
	grep -q 'again: ' "$T/tty.out" || fail "not asked twice: $(cat "$T/tty.out")"
	grep -q 'passphrase set' "$T/tty.out" || fail "tty set: $(cat "$T/tty.out")"
	! grep -q 'tty pass' "$T/tty.out" || fail "passphrase echoed"
	printf 'tty pass\n' >"$T/pass1"
fi

# --- --require: every command asks; a wrong one is one line ---------------------------
CKPTFS_PASSPHRASE_FILE=$T/pass1 expect_status 0 "$CKPTFS" key passphrase --require
[ ! -e "$CKPTFS_REPO/key" ] || fail "--require left the plain key"
expect_status 1 "$CKPTFS" log --project p </dev/null
grep -q 'no terminal to ask on (set CKPTFS_PASSPHRASE_FILE)' "$T/stderr" || fail "no source: $(cat "$T/stderr")"
echo wrong >"$T/wrong"
CKPTFS_PASSPHRASE_FILE=$T/wrong expect_status 1 "$CKPTFS" log --project p
grep -q 'key.wrapped: wrong passphrase$' "$T/stderr" || fail "wrong: $(cat "$T/stderr")"
[ "$(wc -l <"$T/stderr")" = 1 ] || fail "wrong passphrase: more than one line"
CKPTFS_PASSPHRASE_FILE=$T/pass1 expect_status 0 "$CKPTFS" log --project p
CKPTFS_PASSPHRASE_FILE=$T/pass1 expect_status 0 "$CKPTFS" snap -q "$T/p"
# Back to a plain key.
CKPTFS_PASSPHRASE_FILE=$T/pass1 expect_status 0 "$CKPTFS" key passphrase
[ -e "$CKPTFS_REPO/key" ] || fail "plain key not back"
expect_status 0 "$CKPTFS" log --project p </dev/null
ck check -q
echo ok
