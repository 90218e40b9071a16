#!/bin/sh
# Install the Debian 12 packages ckptfs needs, only those missing.
#   install-deps.sh build   compiler libraries (what `make` needs)
#   install-deps.sh test    + tools the end-to-end tests drive for real
#   install-deps.sh bench   + restic, borg (with its FUSE module), for `make bench`
#   install-deps.sh fuzz    + clang and libFuzzer, for `make fuzz`
#   install-deps.sh missing MODE   only print the packages MODE lacks
# Idempotent and quiet when everything is present.
set -eu
mode=${1:-build}
list_only=
if [ "$mode" = missing ]; then
	list_only=1
	mode=${2:-build}
fi

pkgs="build-essential pkg-config libfuse3-dev fuse3 libsqlite3-dev libzstd-dev
      libxxhash-dev libsodium-dev libcmocka-dev"
case $mode in
build) ;;
test)  pkgs="$pkgs sqlite3 attr valgrind libglib2.0-bin gvfs gvfs-fuse psmisc
             postgresql mariadb-server mariadb-client procps util-linux file python3 git
             man-db cron rclone openssh-server openssh-client
             dbus-daemon dbus-bin libnotify-bin" ;;
bench) pkgs="$pkgs restic borgbackup python3-pyfuse3 sqlite3 attr strace python3 git time" ;;
fuzz)  pkgs="$pkgs clang-14 libclang-rt-14-dev" ;;
*) echo "usage: $0 [missing] build|test|bench|fuzz" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$list_only" ]; then
	[ -n "$missing" ] && echo $missing
	exit 0
fi
[ -z "$missing" ] && exit 0

echo "ckptfs: installing Debian packages:$missing" >&2
SUDO=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "ckptfs: missing packages:$missing: not root and no sudo; install them and retry" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# Server packages must not start (or enable) their system-wide daemons: tests
# start private instances on their own sockets.
policy=/usr/sbin/policy-rc.d
created_policy=
if [ ! -e $policy ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
	$SUDO chmod 0755 $policy
	created_policy=1
fi
rc=0
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || rc=$?
if [ $rc != 0 ]; then
	# Show apt's own message the second time round.
	$SUDO apt-get install -y --no-install-recommends $missing >&2 || rc=$?
fi
[ -n "$created_policy" ] && $SUDO rm -f $policy
if [ $rc != 0 ]; then
	echo "ckptfs: apt-get install$missing: failed (exit $rc)" >&2
	exit 1
fi
