#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot-time benchmark: vuvm --test probe against a bare KVM floor, in the
# same run. Usage: tests/bench/boot.sh [BUILD_DIR [RUNS]]
# (default build-vmm, 200 runs). Builds what it needs first.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-vmm}
runs=${2:-200}
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist"; exit 77; }
cmake --build "$build" --target vuvm kvm_floor bootstat >/dev/null

stat="$build/tests/vmm/bootstat $runs"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  host: $(uname -r), $(nproc) cpus"
echo "floor (no irqchip, hlt):  $($stat 0 "$build/tests/vmm/kvm_floor")"
echo "floor (split irqchip, out): $($stat 0 "$build/tests/vmm/kvm_floor" \
	--split-irqchip)"
echo "floor (irqchip, out):     $($stat 0 "$build/tests/vmm/kvm_floor" --irqchip)"
echo "vuvm --test probe:        $($stat 0 "$build/vmm/vuvm" --test probe)"
echo "vuvm --mem 64M --test probe --json: $($stat 0 "$build/vmm/vuvm" \
	--mem 64M --test probe --json)"
echo "vuvm --cpus 2 --test probe: $($stat 0 "$build/vmm/vuvm" --cpus 2 \
	--test probe)"
