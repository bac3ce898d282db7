#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian package's whole life, as CI runs it (tests/run-all.sh):
# builds it from BUILD-DIR with CPack, checks its fields and lintian (no
# errors), installs it with apt, uses the installed programs and library
# (the demo and the CI recipe too; their guest workloads need /dev/kvm,
# and the demo runs as an ordinary user in the kvm group:
# installed_user.sh), and purges it again. Needs root, or sudo.
#
#   deb_cycle.sh BUILD-DIR
#
# Idempotent: a vuvm package left installed (by a run that was killed) is
# purged first, and the package is purged again however the run ends.
set -u
# useradd, groupadd, ldconfig and dpkg live in sbin, which a root shell's
# PATH may lack (su without -, a chroot).
PATH=$PATH:/usr/sbin:/sbin
[ $# -eq 1 ] || { echo "usage: deb_cycle.sh BUILD-DIR" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
dir=$(mktemp -d /tmp/vuvm-deb.XXXXXX) || exit 1
status=0

purge() {
	dpkg -s vuvm >/dev/null 2>&1 || return 0
	$sudo apt-get purge -y -qq vuvm >"$dir/purge.log" 2>&1 ||
		{ cat "$dir/purge.log"; return 1; }
}
trap 'purge; rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	status=1
}

# step NAME COMMAND...: runs COMMAND quietly, shows its output on failure.
step() {
	name=$1
	shift
	if "$@" >"$dir/step.log" 2>&1; then
		echo "deb_cycle: $name: ok"
	else
		fail "$name (status $?):"
		cat "$dir/step.log"
	fi
}

# --- build and check --------------------------------------------------------
purge || exit 1
(cd "$build" && cpack -G DEB -B "$dir/out") >"$dir/cpack.log" 2>&1 || {
	cat "$dir/cpack.log"
	fail "cpack -G DEB"
	exit 1
}
set -- "$dir"/out/vuvm_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || { fail "no single vuvm_*.deb: $*"; exit 1; }
deb=$1
version=$(dpkg-deb -f "$deb" Version)
echo "deb_cycle: built $(basename "$deb")"
depends=$(dpkg-deb -f "$deb" Depends)
case $depends in
*libc6*) ;;
*) fail "Depends has no libc6: $depends" ;;
esac
case $depends in
*libfdt*) fail "Depends has libfdt, which is linked statically: $depends" ;;
esac
[ "$(dpkg-deb -f "$deb" Suggests)" = "qemu-system-common, dpdk" ] ||
	fail "Suggests: $(dpkg-deb -f "$deb" Suggests)"
dpkg-deb --fsys-tarfile "$deb" |
	tar -xOf - ./usr/share/doc/vuvm/changelog.Debian.gz | gzip -dc |
	head -n 1 | grep -qF "vuvm ($version)" ||
	fail "docs/debian/changelog does not start with version $version"
lintian --fail-on error --tag-display-limit 0 "$deb" >"$dir/lintian.log" 2>&1
st=$?
grep -v 'running with root privileges' "$dir/lintian.log"
[ $st -eq 0 ] || fail "lintian found errors (status $st)"
[ $status -eq 0 ] || exit 1

# --- install and use ---------------------------------------------------------
step "apt-get install $(basename "$deb")" \
	$sudo apt-get install -y -qq --no-install-recommends "$deb"
[ $status -eq 0 ] || exit 1
for p in vuvm vuvmctl vuvm-backend vuvm-fault-backend vuvm-probe; do
	[ "$(command -v $p)" = "/usr/bin/$p" ] || fail "$p is not /usr/bin/$p"
	[ -f "/usr/share/man/man1/$p.1.gz" ] || fail "no man page for $p"
done
upstream=${version%-*}
[ "$(vuvm --version)" = "vuvm $upstream" ] || fail "vuvm --version"
step "vuvm --help" sh -c 'vuvm --help | grep -q -- "--device SPEC"'
step "vuvm-backend --help" sh -c 'vuvm-backend --help | grep -q -- --socket-path'
step "vuvmctl --help" vuvmctl --help
step "vuvm-fault-backend --list-faults" vuvm-fault-backend --list-faults
step "vuvm-probe --version" sh -c "[ \"\$(vuvm-probe --version)\" = 'vuvm-probe $upstream' ]"
step "ldconfig knows libvuvm-vhost.so.0" sh -c \
	'ldconfig -p | grep -q "libvuvm-vhost.so.0 "'
# The library's example, built as a user would against the package.
cp /usr/share/doc/vuvm/examples/vuvm-probe.c "$dir/"
step "cc vuvm-probe.c \$(pkg-config --cflags --libs vuvm-vhost jansson)" \
	sh -c "cc -Wall -Werror -o '$dir/probe' '$dir/vuvm-probe.c' \
		\$(pkg-config --cflags --libs vuvm-vhost jansson)"
# with_blk SOCKET COMMAND...: runs COMMAND against a vuvm-backend blk on
# SOCKET, and stops that backend (it exits by itself only after serving a
# frontend).
with_blk() {
	vuvm-backend blk --socket-path "$1" --size 8M &
	pid=$!
	shift
	"$@"
	st=$?
	kill "$pid" 2>/dev/null
	wait "$pid"
	return $st
}
step "the example probes vuvm-backend blk" with_blk "$dir/blk.sock" \
	sh -c "'$dir/probe' --type blk --timeout 10 '$dir/blk.sock' |
		grep -x 'config.capacity: 16384'"
# vuvm --test probe and the demo as an ordinary user in the kvm group
# (installed_user.sh shows its output).
if [ -e /dev/kvm ]; then
	sh "$here/installed_user.sh" || fail "installed_user.sh"
else
	echo "deb_cycle: vuvm --test probe, the demo: skipped (no /dev/kvm)"
fi
if command -v man >/dev/null; then
	step "man vuvm shows the options" sh -c \
		'MANPAGER=cat MANWIDTH=100 man vuvm 2>/dev/null |
			grep -q -- "--seccomp"'
fi
# The CI recipe of docs/ci.md, with the installed programs only.
step "the CI recipe (docs/ci.md)" sh "$here/ci_recipe_test.sh"

# --- remove ------------------------------------------------------------------
step "apt-get purge vuvm" purge
for f in /usr/bin/vuvm /usr/share/doc/vuvm /usr/include/vuvm; do
	[ ! -e "$f" ] || fail "$f is still there after the purge"
done
if ldconfig -p | grep -q libvuvm-vhost; then
	fail "ldconfig still lists libvuvm-vhost after the purge"
fi
[ $status -ne 0 ] || echo "deb_cycle: ok: $(basename "$deb") built, checked, installed, used and purged"
exit $status
