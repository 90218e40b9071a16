#!/bin/bash
# Compose and Docker databases that cannot be reached: a compose file names
# a postgres service and a mariadb container, and on this machine docker
# is missing, or its daemon does not answer.  Each snap gives one line per
# database naming it and the reason ("… (compose service db): … —
# skipped"), never a tool's usage text, exits 0 with a complete snapshot,
# and status shows the skip; with `required = true` in .ckptfs.toml the
# skip is a failure: partial snapshot, exit 3, status failing.
#
# The daemon-unreachable case runs the real docker CLI (installed here
# without a daemon) against a socket path nothing listens on, with an
# empty DOCKER_CONFIG; where no docker CLI is installed a script on PATH
# stands in that prints what docker prints then (a daemon cannot run in
# these tests, so "not running" and a running service are unit tested
# with a fake docker: tests/test_dumper_session.c).
. "$(dirname "$0")/lib.sh"

P=$T/proj
mkdir -p "$P"
cd "$P"
echo 'print("app")' >app.py
cat >docker-compose.yml <<'YML'
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: secret
      POSTGRES_DB: app
  legacy:
    image: mariadb:11
    container_name: legacy-db
    environment:
      MARIADB_ROOT_PASSWORD: x
      MARIADB_DATABASE: legacy
YML

# PATH without any folder holding docker or docker-compose.
nodocker=
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
	[ -e "$d/docker" ] || [ -e "$d/docker-compose" ] || nodocker=${nodocker:+$nodocker:}$d
done

no_usage() {
	! grep -Eqi "usage|unknown (shorthand )?flag|--help" "$T/stderr" ||
		{ cat "$T/stderr"; fail "a tool's usage text in the message"; }
}

# --- no docker on PATH ------------------------------------------------------
expect_status 0 env PATH="$nodocker" "$CKPTFS" snap -t nodocker
grep -qx "ckptfs: database postgres-app (compose service db): Docker is not installed (no docker on PATH) — skipped" \
	"$T/stderr" || { cat "$T/stderr"; fail "no one-line skip for the compose service"; }
grep -qx "ckptfs: database mysql-legacy (container legacy-db): Docker is not installed (no docker on PATH) — skipped" \
	"$T/stderr" || { cat "$T/stderr"; fail "no one-line skip for the container"; }
[ "$(wc -l <"$T/stderr")" = 2 ] || { cat "$T/stderr"; fail "more than one line per database"; }
no_usage
grep -q "postgres  postgres-app  skipped (compose service db): Docker is not installed" "$T/stdout" ||
	{ cat "$T/stdout"; fail "snap's summary does not list the skip"; }
expect_status 0 "$CKPTFS" show nodocker
grep -q "^status     complete" "$T/stdout" || { cat "$T/stdout"; fail "a skip made the snapshot partial"; }
grep -q "postgres-app  skipped (compose service db)" "$T/stdout" || fail "show does not give the skip"
expect_status 0 env PATH="$nodocker" "$CKPTFS" status
grep -q "^proj .* ok .*database postgres-app (compose service db): Docker is not installed (no docker on PATH) — skipped" \
	"$T/stdout" || { cat "$T/stdout"; fail "status does not show the skip"; }
expect_status 0 "$CKPTFS" status --json
grep -q '"databases_failing": \[\], "databases_skipped": \[{"name": "postgres-app", "result": "Docker is not installed' \
	"$T/stdout" || { cat "$T/stdout"; fail "status --json lacks the skipped databases"; }

# --- docker there, its daemon unreachable -----------------------------------
mkdir -p "$T/docker-config" "$T/fakebin"
export DOCKER_CONFIG=$T/docker-config DOCKER_HOST=unix://$T/no-daemon.sock
dpath=$PATH
if ! command -v docker >/dev/null; then
	# Stand-in: what docker 28 prints with no daemon at DOCKER_HOST.
	cat >"$T/fakebin/docker" <<'SH'
#!/bin/sh
case "$1" in
compose) echo "docker: unknown command: docker compose" >&2; echo >&2; echo "Run 'docker --help' for more information" >&2; exit 1;;
esac
echo "Cannot connect to the Docker daemon at $DOCKER_HOST. Is the docker daemon running?" >&2
exit 1
SH
	chmod +x "$T/fakebin/docker"
	dpath=$T/fakebin:$nodocker
fi
expect_status 0 env PATH="$dpath" "$CKPTFS" snap -t nodaemon
grep -qx "ckptfs: database mysql-legacy (container legacy-db): the Docker daemon is not reachable — skipped" \
	"$T/stderr" || { cat "$T/stderr"; fail "no one-line skip for an unreachable daemon"; }
# Without the compose plugin that is what stops the service first; with
# it, the daemon.
grep -Eqx "ckptfs: database postgres-app \(compose service db\): (docker compose is not installed \(neither the compose plugin nor docker-compose\)|the Docker daemon is not reachable) — skipped" \
	"$T/stderr" || { cat "$T/stderr"; fail "no one-line skip for the compose service"; }
[ "$(wc -l <"$T/stderr")" = 2 ] || { cat "$T/stderr"; fail "more than one line per database"; }
no_usage

# --- required = true: the skip is a failure ---------------------------------
printf '[databases.postgres-app]\nrequired = true\n' >.ckptfs.toml
expect_status 3 env PATH="$nodocker" "$CKPTFS" snap -t required
grep -qx "ckptfs: database postgres-app (compose service db): Docker is not installed (no docker on PATH) — required in .ckptfs.toml" \
	"$T/stderr" || { cat "$T/stderr"; fail "a required database skipped is not a failure"; }
grep -q "ckptfs: database mysql-legacy (container legacy-db): .* — skipped" "$T/stderr" ||
	fail "the other database is not skipped as before"
no_usage
expect_status 0 "$CKPTFS" show required
grep -q "^status     partial" "$T/stdout" || fail "required and skipped: not partial"
expect_status 1 "$CKPTFS" status
grep -q "^proj .* failing .*database postgres-app: compose service db Docker is not installed" "$T/stdout" ||
	{ cat "$T/stdout"; fail "status does not say the required database failed"; }

# -q: nothing on success, skips included (they are in the notes).
rm .ckptfs.toml
expect_status 0 env PATH="$nodocker" "$CKPTFS" snap -q
[ ! -s "$T/stderr" ] && [ ! -s "$T/stdout" ] || { cat "$T/stderr"; fail "snap -q printed something"; }
echo ok
