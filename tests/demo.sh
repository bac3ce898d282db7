#!/bin/sh
# The README's first command: installs what vuvm needs, builds it, and boots
# the built-in tiny guest, which prints what it found and checks itself.
set -eu
cd "$(dirname "$0")/.."

tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
echo
echo "== vuvm boots its tiny guest (workload: probe)"
start=$(date +%s%N)
status=0
build/vmm/vuvm --cpus 2 --test probe || status=$?
end=$(date +%s%N)
echo
echo "== vuvm exited with status $status in $(( (end - start) / 1000000 )) ms" \
	"(0 = every check in the guest passed)"
exit "$status"
