#!/bin/bash
# push / check --remote / recover through rclone's sftp backend against a
# real OpenSSH server started here: 127.0.0.1 on a free port, a temp host
# key, a temp user key, an rclone config in the temp dir.  And an sftp
# remote that refuses connections: a fast, clear error, not a hang.
. "$(dirname "$0")/lib.sh"
export CKPTFS_KEYWRAP_MS=1
command -v rclone >/dev/null || skip "rclone is not installed"
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip "no sshd (openssh-server)"
command -v ssh-keygen >/dev/null || skip "no ssh-keygen"
[ "$(id -u)" = 0 ] || skip "sshd needs root here (privilege separation)"
# sshd's privilege separation directory, as its own service makes it.
[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd 2>/dev/null || skip "cannot make /run/sshd"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S=$T/ssh
mkdir -p "$S"
chmod 700 "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host" || fail "host key"
ssh-keygen -q -t ed25519 -N '' -f "$S/user" || fail "user key"
cp "$S/user.pub" "$S/authorized_keys"
# start_sshd: sshd on a free port ($port); 1 if it could not listen there
# (someone took the port between free_port and sshd's bind), to try another.
start_sshd() {
	port=$(free_port)
	cat >"$S/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $S/host
AuthorizedKeysFile $S/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $S/sshd.pid
Subsystem sftp internal-sftp
CONF
	"$SSHD" -t -f "$S/sshd_config" 2>"$T/sshd.err" || skip "sshd cannot run here: $(head -1 "$T/sshd.err")"
	"$SSHD" -D -e -f "$S/sshd_config" 2>"$T/sshd.log" &
	sshd_pid=$!
	track_pid $sshd_pid
	# Listening, by its own word (a server of someone else's on the port
	# would answer a connection too).
	local end=$((SECONDS + 60))
	until grep -qs "Server listening on 127.0.0.1 port $port\." "$T/sshd.log"; do
		kill -0 $sshd_pid 2>/dev/null || return 1
		[ $SECONDS -lt $end ] || fail "sshd not listening on $port: $(cat "$T/sshd.log")"
		sleep 0.05
	done
}
for try in 1 2 3 4 5; do
	start_sshd && break
	[ $try -lt 5 ] || fail "sshd could not listen: $(cat "$T/sshd.log")"
done
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$S/host.pub")" >"$S/known_hosts"
# A port that refuses connections while the test runs: bound, never
# listening, by a process of ours, so no one else can listen there (a free
# port, as before, could get another test's server meanwhile).
python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(3600)' >"$T/dead.port" &
track_pid $!
wait_for 60 "no port held for the refusing remote" test -s "$T/dead.port"
dead=$(cat "$T/dead.port")
export RCLONE_CONFIG=$T/rclone.conf
cat >"$RCLONE_CONFIG" <<CONF
[sf]
type = sftp
host = 127.0.0.1
port = $port
user = $(id -un)
key_file = $S/user
known_hosts_file = $S/known_hosts

[down]
type = sftp
host = 127.0.0.1
port = $dead
user = $(id -un)
key_file = $S/user
CONF
rclone lsd "sf:$T" >/dev/null 2>"$T/rc.err" || fail "rclone cannot reach the test sshd: $(tail -1 "$T/rc.err")"

P=$T/proj
mkdir -p "$P"
echo 'DB_PASSWORD=hunter2-sftp-secret' >"$P/.env"
head -c $((2 << 20)) /dev/urandom >"$P/data.bin"
(cd "$P" && ck snap -q -m one)
echo more >>"$P/.env"
(cd "$P" && ck snap -q -t two)
printf 'sftp pass\n' >"$T/pass"
CKPTFS_PASSPHRASE_FILE=$T/pass ck key passphrase >/dev/null
ck remote add off "rclone:sf:$T/offsite" >/dev/null
expect_status 0 "$CKPTFS" push off
grep -Eq '^off: [0-9]+ new packs?, ' "$T/stdout" || fail "push: $(cat "$T/stdout")"
(cd "$CKPTFS_REPO" && find packs -name '*.pack' | sort) >"$T/l"
(cd "$T/offsite" && find packs -type f | sort) >"$T/r"
cmp -s "$T/l" "$T/r" || fail "pack lists differ"
while read -r f; do cmp -s "$CKPTFS_REPO/$f" "$T/offsite/$f" || fail "$f differs"; done <"$T/l"
! grep -rqF 'hunter2-sftp-secret' "$T/offsite" || fail "secret readable on the remote"
expect_status 0 "$CKPTFS" push off
grep -Eq '^off: 0 new packs' "$T/stdout" || fail "second push sent: $(cat "$T/stdout")"
expect_status 0 "$CKPTFS" check --remote off --read-data
CKPTFS_PASSPHRASE_FILE=$T/pass expect_status 0 "$CKPTFS" recover "rclone:sf:$T/offsite" --repo "$T/rec"
grep -q 'remote off added$' "$T/stdout" || fail "recover: $(cat "$T/stdout")"
for s in $("$CKPTFS" log -p proj | awk '{print $1}'); do
	rm -rf "$T/o1" "$T/o2"
	"$CKPTFS" restore . -p proj --from "$s" --to "$T/o1" >/dev/null
	CKPTFS_REPO=$T/rec "$CKPTFS" restore . -p proj --from "$s" --to "$T/o2" >/dev/null
	same_tree "$T/o1" "$T/o2"
done

# --- a remote holding another repository: refused, nothing written to it -----------
# (push's pack copy is started beside the look and held; over sftp too the
# refused remote gets nothing from it.)
tree_state() { (cd "$1" && find . -printf '%y %p %s %T@ %m\n' | sort && find . -type f -exec sha256sum {} + | sort); }
mkdir -p "$T/oproj"
head -c $((1 << 20)) /dev/urandom >"$T/oproj/o.bin"
(cd "$T/oproj" && CKPTFS_REPO=$T/orepo ck snap -q)
CKPTFS_REPO=$T/orepo CKPTFS_PASSPHRASE_FILE=$T/pass ck key passphrase >/dev/null
CKPTFS_REPO=$T/orepo ck remote add theirs "rclone:sf:$T/theirs" >/dev/null
CKPTFS_REPO=$T/orepo ck push theirs >/dev/null
ck remote add theirs "rclone:sf:$T/theirs" >/dev/null
tree_state "$T/theirs" >"$T/theirs.before"
expect_status 1 "$CKPTFS" push theirs
grep -q '^ckptfs: remote theirs: holds another repository (id ' "$T/stderr" || fail "foreign: $(cat "$T/stderr")"
[ "$(wc -l <"$T/stderr")" = 1 ] || fail "foreign: more than one line: $(cat "$T/stderr")"
tree_state "$T/theirs" | diff "$T/theirs.before" - >&2 || fail "a refused push changed the other repository's remote"

# --- connection refused: fast, one line, exit 1 --------------------------------
ck remote add down "rclone:down:$T/nowhere" >/dev/null
t0=$SECONDS
expect_status 1 timeout 60 "$CKPTFS" push down
[ $((SECONDS - t0)) -lt 30 ] || fail "connection refused took $((SECONDS - t0)) s"
grep -q '^ckptfs: remote rclone:down:.*connection refused' "$T/stderr" || fail "refused: $(cat "$T/stderr")"
[ "$(wc -l <"$T/stderr")" = 1 ] || fail "refused: more than one line: $(cat "$T/stderr")"
t0=$SECONDS
CKPTFS_PASSPHRASE_FILE=$T/pass expect_status 1 timeout 60 "$CKPTFS" recover "rclone:down:$T/nowhere" --repo "$T/rec2"
[ $((SECONDS - t0)) -lt 30 ] || fail "recover from a refusing server took $((SECONDS - t0)) s"
[ ! -e "$T/rec2" ] || fail "failed recover wrote $T/rec2"
echo ok
