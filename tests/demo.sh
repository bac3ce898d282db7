#!/bin/sh
# The README's first command: installs what vuvm needs, builds it, starts
# the reference vhost-user block backend, and boots vuvm's tiny guest
# against it. The guest's virtio-blk driver writes a pattern over the whole
# disk, reads it back and compares; vuvm only sets the device up, the data
# path goes guest -> KVM -> backend directly.
set -eu
cd "$(dirname "$0")/.."

tests/install-deps.sh
echo "== building vuvm (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

dir=$(mktemp -d /tmp/vuvm-demo.XXXXXX)
backend=
cleanup() {
	[ -z "$backend" ] || kill "$backend" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

echo "== starting the reference backend: vuvm-backend blk (64 MiB RAM disk)"
build/vhost/backends/vuvm-backend blk --socket-path "$dir/blk.sock" \
	--size 64M --queues 2 &
backend=$!
for _ in $(seq 100); do
	[ -S "$dir/blk.sock" ] && break
	sleep 0.05
done

echo "== vuvm boots the tiny guest with that disk attached (workload blk-verify)"
echo
start=$(date +%s%N)
status=0
build/vmm/vuvm --cpus 2 --timeout 60 \
	--device "blk,socket=$dir/blk.sock,queues=2" \
	--test blk-verify,queues=2 || status=$?
end=$(date +%s%N)
echo
echo "== vuvm exited with status $status after $(( (end - start) / 1000000 )) ms" \
	"(0: every check in the guest passed; see README.md for the codes)"
exit "$status"
