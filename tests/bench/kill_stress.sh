#!/bin/sh
# SPDX-License-Identifier: MIT
# Many more backend kills than CI runs: RUNS times, blk-verify,passes=4
# over a 256 MiB file while `vuvm-backend blk --reorder 8` is killed with
# SIGKILL KILLS times at random points and restarted (reconnect=10); the
# image is checked on the host after each run. Prints each run's line and
# the totals: kills survived, in-flight requests resubmitted, bytes
# verified by the guest.
#
# Usage: tests/bench/kill_stress.sh [BUILD_DIR [RUNS [KILLS]]]
# (default build, 10 runs, 5 kills). Stops at the first failing run.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
runs=${2:-10}
kills=${3:-5}
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist"; exit 77; }
cmake --build "$build" --target vuvm vuvm-backend blk_image_check >/dev/null

total_kills=0 total_resub=0 total_bytes=0
for i in $(seq "$runs"); do
	out=$(sh "$root/tests/e2e/backend_restarts.sh" -k "$kills" -s "$i" \
		-i 256M -a "--file @IMG@ --reorder 8" -m "--mem 256M" \
		-w blk-verify,passes=6 \
		-c "$build/tests/e2e/blk_image_check @IMG@ 1" \
		"$build/vmm/vuvm" "$build/vhost/backends/vuvm-backend" blk) || {
		printf '%s\n' "$out" | tail -n 40
		echo "run $i failed"
		exit 1
	}
	line=$(printf '%s\n' "$out" | grep '^PASS: ')
	resub=$(printf '%s\n' "$line" | sed -n 's/.*; \([0-9]*\) in-flight.*/\1/p')
	bytes=$(printf '%s\n' "$out" |
		sed -n 's/.*"bytes_verified":\([0-9]*\).*/\1/p' | tail -n 1)
	echo "run $i: $line"
	total_kills=$((total_kills + kills))
	total_resub=$((total_resub + resub))
	total_bytes=$((total_bytes + bytes))
done
echo "total: $runs runs, $total_kills kills survived," \
	"$total_resub in-flight requests resubmitted," \
	"$total_bytes bytes verified ($((total_bytes >> 30)) GiB)"
