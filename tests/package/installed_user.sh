#!/bin/sh
# SPDX-License-Identifier: MIT
# The installed package used as issue 15 asks: an ordinary user made for
# the purpose, in the group that owns /dev/kvm and nothing else, runs
# /usr/bin/vuvm --test probe and the demo (/usr/bin/vuvm-backend blk,
# vuvm --test blk-verify). deb_cycle.sh runs it between installing and
# purging the package. Needs root (useradd, runuser) or sudo.
#
#   installed_user.sh
#
# /dev/kvm as Debian 12 leaves it (kvm_user.sh). Exits 0, 1 when a step
# failed, 77 when /dev/kvm does not exist.
set -u
if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && exec sudo -n sh "$0" "$@"
	echo "FAIL: installed_user.sh needs root or sudo to create its user"
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../time_scale.sh"
# shellcheck source=tests/package/kvm_user.sh
. "$here/kvm_user.sh"
user=vuvm-deb
tmp=$(mktemp -d /tmp/vuvm-deb-user.XXXXXX) || exit 1
chmod 0755 "$tmp"
status=0

cleanup() {
	kvm_user_del "$user"
	kvm_access_restore
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

kvm_access_grant || exit 1
kvm_user_add "$user" || exit 1
mkdir "$tmp/work" && chown "$user:" "$tmp/work" && chmod 0700 "$tmp/work" ||
	exit 1

# as_user COMMAND...: as $user with the groups /etc/group gives it, a
# clean environment, only the system's programs in PATH; killed after
# 180 s times the load factor.
limit=$(($(scaled_ms 180000) / 1000))
as_user() {
	runuser -u "$user" -- timeout "$limit" env -i PATH=/usr/bin:/bin \
		HOME=/nonexistent \
		VUVM_TEST_TIME_SCALE="${VUVM_TEST_TIME_SCALE:-}" "$@"
}

# step NAME COMMAND...: runs COMMAND, shows its output (and says so).
step() {
	name=$1
	shift
	if "$@" >"$tmp/step.log" 2>&1; then
		echo "installed_user: $name: ok"
		sed 's/^/  | /' "$tmp/step.log" | tail -n 4
	else
		echo "FAIL: $name (status $?):"
		tail -c 6000 "$tmp/step.log"
		status=1
	fi
}

step "$user: not root, in group $kvm_group only, the programs are /usr/bin's" \
	as_user sh -c '[ "$(id -u)" -ne 0 ] && id -Gn | grep -qw "$1" &&
		[ "$(command -v vuvm)" = /usr/bin/vuvm ] &&
		[ "$(command -v vuvm-backend)" = /usr/bin/vuvm-backend ] &&
		id' sh "$kvm_group"
step "$user: vuvm --test probe" \
	as_user sh -c 'vuvm --test probe --timeout 60 &&
		echo "exit status $?"'
wait_tries=$(scaled_tries 10000 50)
step "$user: the demo (vuvm-backend blk, vuvm --test blk-verify)" \
	as_user sh -c 'vuvm-backend blk --socket-path "$1/demo.sock" \
			--size 8M & b=$!
		n=0; while [ ! -S "$1/demo.sock" ] && [ $n -lt "$2" ]; do
			sleep 0.05; n=$((n + 1)); done
		vuvm --device "blk,socket=$1/demo.sock" --test blk-verify \
			--timeout 60 >"$1/demo.out" 2>&1
		s=$?; kill $b 2>/dev/null; wait $b
		cat "$1/demo.out"
		[ $s -eq 0 ] && grep -qE "SUMMARY: [0-9]+ tests, 0 failures" \
			"$1/demo.out"' sh "$tmp/work" "$wait_tries"

[ $status -eq 0 ] && echo "installed_user: ok: the installed vuvm runs" \
	"as $user (group $kvm_group)"
exit $status
