#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the build into a fresh DESTDIR (prefix /usr) and uses it from
# there, as a user of the installed tree would:
#  - every program, the library (shared, static, soname link), its
#    headers and vuvm-vhost.pc, the man pages and the docs are there;
#  - the installed programs run (--help, --version) and carry no RPATH;
#    vuvm carries its guest inside;
#  - every installed header compiles on its own;
#  - the installed example, vuvm-probe.c, builds outside the tree through
#    pkg-config against the installed library, shared and static, and
#    both builds probe the installed vuvm-backend.
#
#   install_tree.sh BUILD-DIR VERSION CC [CFLAGS...]
set -u
[ $# -ge 3 ] || { echo "usage: install_tree.sh BUILD VERSION CC [CFLAGS...]" >&2; exit 2; }
build=$1 version=$2 cc=$3
shift 3
dir=$(mktemp -d /tmp/vuvm-install.XXXXXX) || exit 1
root=$dir/root
status=0
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	status=1
}

if ! DESTDIR=$root cmake --install "$build" --prefix /usr >"$dir/install.log" 2>&1; then
	cat "$dir/install.log"
	fail "cmake --install"
	exit 1
fi
pc=$(find "$root/usr/lib" -name vuvm-vhost.pc)
libdir=$(dirname "$(dirname "$pc")")
for f in bin/vuvm bin/vuvmctl bin/vuvm-backend bin/vuvm-fault-backend \
	bin/vuvm-probe include/vuvm/vhost/frontend.h \
	include/vuvm/virtio/virtio_blk.h share/doc/vuvm/README.md \
	share/doc/vuvm/install.md share/doc/vuvm/copyright \
	share/doc/vuvm/examples/vuvm-probe.c; do
	[ -f "$root/usr/$f" ] || fail "/usr/$f is not installed"
done
for f in libvuvm-vhost.so.0 libvuvm-vhost.so libvuvm-vhost.a; do
	[ -e "$libdir/$f" ] || fail "$f is not installed in $libdir"
done
for p in vuvm vuvmctl vuvm-backend vuvm-fault-backend vuvm-probe; do
	[ -f "$root/usr/share/man/man1/$p.1.gz" ] || fail "no man page for $p"
	if readelf -d "$root/usr/bin/$p" | grep -qE 'RPATH|RUNPATH'; then
		fail "/usr/bin/$p has an RPATH"
	fi
done
[ $status -eq 0 ] || exit 1
export LD_LIBRARY_PATH="$libdir"

# The programs run from the installed tree.
bin=$root/usr/bin
[ "$("$bin/vuvm" --version)" = "vuvm $version" ] || fail "vuvm --version"
"$bin/vuvm" --help | grep -q -- '--device SPEC' || fail "vuvm --help"
"$bin/vuvm-backend" --help | grep -q -- '--socket-path' ||
	fail "vuvm-backend --help"
[ "$("$bin/vuvm-probe" --version)" = "vuvm-probe $version" ] ||
	fail "vuvm-probe --version"
# The guest is in the binary: vuvm_guest_elf .. vuvm_guest_elf_end.
addr() {
	nm "$bin/vuvm" | awk -v s="$1" '$3 == s { print "0x" $1 }'
}
start=$(addr vuvm_guest_elf) end=$(addr vuvm_guest_elf_end)
guest=$((${end:-0} - ${start:-0}))
[ "$guest" -gt 4096 ] || fail "vuvm has no built-in guest ($guest bytes)"

# Each installed header stands alone with the one -I of vuvm-vhost.pc.
export PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
[ "$(pkg-config --modversion vuvm-vhost)" = "$version" ] ||
	fail "pkg-config --modversion vuvm-vhost"
cflags=$(pkg-config --cflags vuvm-vhost) || exit 1
for h in "$root"/usr/include/vuvm/*/*.h; do
	rel=${h#"$root/usr/include/vuvm/"}
	# shellcheck disable=SC2086 # flags are split at spaces
	echo "#include <$rel>" | "$cc" -std=gnu11 -Wall -Werror $cflags \
		-fsyntax-only -x c - || fail "<$rel> does not compile alone"
done

# The example, built as a user's program is, shared and static.
cp "$root/usr/share/doc/vuvm/examples/vuvm-probe.c" "$dir/"
libs=$(pkg-config --libs vuvm-vhost jansson) || exit 1
# shellcheck disable=SC2086
"$cc" -std=gnu11 -Wall -Werror "$@" $cflags -DVUVM_VERSION="\"$version\"" \
	-o "$dir/probe-shared" "$dir/vuvm-probe.c" $libs ||
	fail "vuvm-probe.c does not build against libvuvm-vhost.so"
# shellcheck disable=SC2086
"$cc" -std=gnu11 -Wall -Werror "$@" $cflags -o "$dir/probe-static" \
	"$dir/vuvm-probe.c" -L"$libdir" -Wl,-Bstatic -lvuvm-vhost \
	-Wl,-Bdynamic -ljansson ||
	fail "vuvm-probe.c does not build against libvuvm-vhost.a"
[ $status -eq 0 ] || exit 1
ldd "$dir/probe-shared" | grep -q "libvuvm-vhost.so.0 => $libdir/" ||
	fail "probe-shared does not load the installed libvuvm-vhost.so.0"
if ldd "$dir/probe-static" | grep -q libvuvm-vhost; then
	fail "probe-static loads libvuvm-vhost.so"
fi

# Both probe the installed vuvm-backend: rng with 1 queue, 32 mem slots.
for p in probe-shared probe-static; do
	sock=$dir/$p.sock
	"$bin/vuvm-backend" rng --socket-path "$sock" &
	pid=$!
	"$dir/$p" --type rng --timeout 10 "$sock" >"$dir/$p.out"
	st=$?
	kill "$pid" 2>/dev/null
	wait "$pid"
	if [ $st -ne 0 ] || ! grep -qx 'queues: 1' "$dir/$p.out" ||
		! grep -qx 'mem_slots: 32' "$dir/$p.out" ||
		! grep -q '^feature_names: .*VIRTIO_F_VERSION_1' "$dir/$p.out"; then
		fail "$p against vuvm-backend rng (status $st):"
		cat "$dir/$p.out"
	fi
done
[ $status -ne 0 ] || echo "ok: installed tree in $root works"
exit $status
