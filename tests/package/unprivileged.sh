#!/bin/sh
# SPDX-License-Identifier: MIT
# vuvm without root, as CI runs it (tests/run-all.sh): the build installed
# into a fresh DESTDIR, then used by an ordinary user made for the purpose
# whose only right is membership of the group that owns /dev/kvm:
#  - the demo (vuvm-backend blk and vuvm's blk-verify on two queues);
#  - a reconnect test (tests/e2e/backend_restarts.sh: the blk backend
#    kills itself twice and is started again, vuvm reconnects, every
#    sector verifies);
#  - vuvm-fault-backend closing two connections before its first reply,
#    which vuvm retries;
#  - vuvm's control socket in the user's directory, asked by vuvmctl;
#  - vuvm-check (one rng check) and vuvm-probe;
#  - vuvm --hugepages, when the system's pool has 64 MiB free;
#  - and the same user without the group: vuvm exits 121 and names the
#    group it needs.
# Setting up needs root (useradd, runuser, setpriv from util-linux), or
# sudo; nothing the user runs does.
#
#   unprivileged.sh BUILD-DIR
#
# /dev/kvm as Debian 12 leaves it (tests/package/kvm_user.sh: where no
# udev ran, the script does what udev's rule does and puts it back when
# done). Exits 0, 1 when a step failed, 77 only when /dev/kvm does not
# exist.
set -u
[ $# -eq 1 ] || { echo "usage: unprivileged.sh BUILD-DIR" >&2; exit 2; }
if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && exec sudo -n sh "$0" "$@"
	echo "FAIL: unprivileged.sh needs root or sudo to create its user"
	exit 1
fi
build=$(cd "$1" && pwd) || exit 2
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/time_scale.sh"
. "$src/tests/package/kvm_user.sh"
user=vuvm-unpriv
tmp=$(mktemp -d /tmp/vuvm-unpriv.XXXXXX) || exit 1
chmod 0755 "$tmp"
status=0

cleanup() {
	kvm_user_del "$user"
	kvm_access_restore
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	status=1
}

# step NAME COMMAND...: runs COMMAND, shows its output on failure.
step() {
	name=$1
	shift
	if "$@" >"$tmp/step.log" 2>&1; then
		echo "unprivileged: $name: ok"
	else
		fail "$name (status $?):"
		tail -c 6000 "$tmp/step.log"
	fi
}

# --- /dev/kvm and the user --------------------------------------------------
kvm_access_grant || exit 1
group=$kvm_group
kvm_user_add "$user" || exit 1

# The installed tree and the scripts the user runs, readable by all; a
# working directory of the user's own.
if ! DESTDIR=$tmp/root cmake --install "$build" --prefix /usr \
	>"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	fail "cmake --install"
	exit 1
fi
bin=$tmp/root/usr/bin
libdir=$(dirname "$(dirname "$(find "$tmp/root/usr/lib" -name vuvm-vhost.pc)")")
mkdir -p "$tmp/src/tests/e2e" "$tmp/work"
cp "$src/tests/time_scale.sh" "$tmp/src/tests/"
cp "$src/tests/e2e/backend_restarts.sh" "$tmp/src/tests/e2e/"
chmod -R a+rX "$tmp/root" "$tmp/src"
chown "$user:" "$tmp/work"
chmod 0700 "$tmp/work"
work=$tmp/work

# as_user COMMAND...: as $user with the groups /etc/group gives it (runuser
# calls initgroups), a clean environment, the installed programs first in
# PATH; killed after 180 s times the load factor.
limit=$(($(scaled_ms 180000) / 1000))
as_user() {
	runuser -u "$user" -- timeout "$limit" env -i PATH="$bin:/usr/bin:/bin" \
		HOME=/nonexistent LD_LIBRARY_PATH="$libdir" \
		VUVM_TEST_TIME_SCALE="${VUVM_TEST_TIME_SCALE:-}" "$@"
}

# Waits for socket $1 (as the user sees it), 10 s times the load factor.
wait_sock='n=0; while [ ! -S "$1" ] && [ $n -lt '"$(scaled_tries 10000 50)"' ]; do sleep 0.05; n=$((n + 1)); done; [ -S "$1" ]'

# --- as the user --------------------------------------------------------------
step "who: not root, in group $group, /dev/kvm readable and writable" \
	as_user sh -c '[ "$(id -u)" -ne 0 ] && id -Gn | grep -qw "$1" &&
		[ -r /dev/kvm ] && [ -w /dev/kvm ]' sh "$group"

# The demo (tests/demo.sh's two commands, from the installed tree).
step "demo: vuvm-backend blk, vuvm --test blk-verify on 2 queues" \
	as_user sh -c 'vuvm-backend blk --socket-path "$1/blk.sock" \
			--size 64M --queues 2 & b=$!
		set -- "$1/blk.sock"; '"$wait_sock"' || exit 1
		vuvm --cpus 2 --timeout 60 --device "blk,socket=$1,queues=2" \
			--test blk-verify,queues=2 >"${1%/*}/demo.out" 2>&1
		s=$?; kill $b 2>/dev/null; wait $b
		cat "${1%/*}/demo.out"
		[ $s -eq 0 ] && grep -qE "SUMMARY: [0-9]+ tests, 0 failures" \
			"${1%/*}/demo.out"' sh "$work"

# Reconnecting, as the user: the blk backend (a disk image, completing
# out of order) kills itself twice, each time right after a random
# completion (so the points do not depend on the machine's speed), and is
# started again; blk-verify must pass with every sector verified.
step "reconnect: blk backend dies twice, vuvm reconnects" \
	as_user sh "$tmp/src/tests/e2e/backend_restarts.sh" -k 2 -D 200-2000 \
	-i 64M -a "--file @IMG@ --reorder 8" "$bin/vuvm" "$bin/vuvm-backend" blk

# vuvm-fault-backend closing the first two connections unanswered.
step "vuvm-fault-backend --close-first 2: vuvm connects a third time" \
	as_user sh -c 'vuvm-backend blk --socket-path "$1/b.sock" & b=$!
		vuvm-fault-backend --listen "$1/p.sock" --upstream "$1/b.sock" \
			--close-first 2 & p=$!
		set -- "$1/p.sock"; '"$wait_sock"' || exit 1
		vuvm --device "blk,socket=$1" --test probe >"${1%/*}/f.out" 2>&1
		s=$?; kill $p $b 2>/dev/null; wait
		cat "${1%/*}/f.out"
		[ $s -eq 0 ] && grep -q "blk0: connected at attempt 3" \
			"${1%/*}/f.out"' sh "$work"

# The control socket in the user's directory, and vuvmctl.
step "vuvm --control in the user's directory, vuvmctl status" \
	as_user sh -c 'vuvm-backend blk --socket-path "$1/c.sock" & b=$!
		d=$1; set -- "$d/c.sock"; '"$wait_sock"' || exit 1
		vuvm --control "$d/ctl" --device "blk,socket=$1" \
			--test blk-verify,passes=200 --timeout 120 \
			>"$d/c.out" 2>&1 & v=$!
		n=0; until vuvmctl "$d/ctl" status >"$d/status" 2>&1; do
			n=$((n + 1)); [ $n -lt 200 ] || break; sleep 0.05; done
		cat "$d/status"; vuvmctl "$d/ctl" quit; wait $v; s=$?
		kill $b 2>/dev/null; wait $b
		[ $s -eq 0 ] && grep -q "^ok" "$d/status" &&
			[ ! -e "$d/ctl" ]' sh "$work"

# Huge pages, when the pool has 64 MiB free (filling it is root's, once).
free_hp=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages \
	2>/dev/null || echo 0)
if [ "$free_hp" -ge 32 ]; then
	step "vuvm --hugepages (64 MiB of the pool)" \
		as_user vuvm --hugepages --mem 64M --test probe
else
	echo "unprivileged: --hugepages not tried: $free_hp free 2 MiB" \
		"pages, 32 needed (sysctl vm.nr_hugepages)"
fi

# vuvm-check and vuvm-probe.
step "vuvm-check --type rng (one check)" \
	as_user vuvm-check --type rng --only rng/5.4.6.2/1 \
	--backend "vuvm-backend rng --socket-path @SOCK@"
step "vuvm-probe --type blk" \
	as_user sh -c 'vuvm-backend blk --socket-path "$1/p2.sock" & b=$!
		set -- "$1/p2.sock"; '"$wait_sock"' || exit 1
		vuvm-probe --type blk "$1" | grep -q "^config.capacity: 131072$"
		s=$?; kill $b 2>/dev/null; wait $b; exit $s' sh "$work"

# The same user without the group: a setup error that names the group
# (unless /dev/kvm is open to everyone, as some CI runners make it).
mode=$(printf '%04o' "0$(stat -c %a /dev/kvm)")
if [ $((0$mode & 06)) -eq 6 ]; then
	echo "unprivileged: /dev/kvm is mode $mode, open to every user:" \
		"the case without group $group cannot be made here"
elif setpriv --reuid="$user" --regid="$user" --clear-groups \
	env -i PATH="$bin:/usr/bin:/bin" vuvm --test probe \
	>"$tmp/nogroup.out" 2>&1; then
	fail "vuvm ran without group $group"
else
	st=$?
	msg="cannot open /dev/kvm: Permission denied: it is for group $group"
	msg="$msg (mode $mode), and user $user is not in it"
	if [ $st -eq 121 ] && grep -qF "$msg" "$tmp/nogroup.out"; then
		echo "unprivileged: without group $group: exit 121, $(
			grep -F "$msg" "$tmp/nogroup.out")"
	else
		fail "without group $group: status $st, wanted 121 and '$msg':"
		cat "$tmp/nogroup.out"
	fi
fi

[ $status -eq 0 ] && echo "unprivileged: every step passed as $user"
exit $status
