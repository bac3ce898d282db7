#!/bin/sh
# SPDX-License-Identifier: MIT
# DPDK testpmd and vuvm started at the same moment, ROUNDS times: every
# round must pass. vuvm finds no socket yet (it retries), then a vhost PMD
# that may accept the connection and close it while it is still starting
# (vuvm connects again within connect-timeout, docs/reliability.md); the
# guest's net-echo must then get every frame back macswapped.
#
#   dpdk_start_race.sh ROUNDS VUVM
#
# testpmd runs as in tests/e2e/CMakeLists.txt: its main lcore on CPU 0,
# its busy-polling forwarding lcore on CPU 1, and vuvm (whose vCPU polls)
# pinned to CPU 0. with_backend.sh -l 0 starts testpmd and runs vuvm at
# once, and stops testpmd after each round. connect-timeout and
# reply-timeout are 10 s and 5 s times the load factor of
# tests/time_scale.sh, as are the bound on each round (40 s), vuvm's
# watchdog (--timeout 20) and the guest's stall= (5 s). Prints one
# line per round and in how many rounds testpmd closed a connection before
# its first reply (vuvm's "connected at attempt N"), and how many such
# connections there were.
# Exits 0, 1 when a round failed, 77 without /dev/kvm.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/time_scale.sh"

[ $# -eq 2 ] || { echo "usage: dpdk_start_race.sh ROUNDS VUVM" >&2; exit 2; }
rounds=$1 vuvm=$2
if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi
command -v dpdk-testpmd >/dev/null || {
	echo "FAIL: dpdk-testpmd is not installed (tests/install-deps.sh)"
	exit 1
}

tmp=$(mktemp -d /tmp/vuvm-dpdk-race.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
seconds() {
	awk -v ms="$(scaled_ms "$1")" \
		'BEGIN { printf "%d.%03d\n", ms / 1000, ms % 1000 }'
}
connect_s=$(seconds 10000)
reply_s=$(seconds 5000)
bound_ms=$(scaled_ms 40000)
testpmd="env RUNTIME_DIRECTORY=@DIR@ dpdk-testpmd --no-huge -m 128 --no-pci -l 0,1 --file-prefix=vuvm-race --vdev net_vhost0,iface=@SOCK@,queues=1 -- --total-num-mbufs=2048 --forward-mode=macswap --auto-start --stats-period 100"
# vuvm's output goes to $tmp (with_backend.sh removes @DIR@).
inner='taskset -c 0 "$0" --device "net,socket=$1,connect-timeout=$2,reply-timeout=$3" --test "net-echo,expect=macswap,stall=$5" --timeout "$6" >"$4/out" 2>"$4/err"'

failed=0 retried=0 early=0
for i in $(seq "$rounds"); do
	t0=$(date +%s%N)
	sh "$top/tests/e2e/with_backend.sh" -l 0 "$testpmd" -- \
		sh -c "$inner" "$vuvm" @SOCK@ "$connect_s" "$reply_s" "$tmp" \
		"$(scaled_s 5)" "$(scaled_s 20)" >"$tmp/with" 2>&1
	status=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	attempts=$(sed -n 's/.*connected at attempt \([0-9]*\),.*/\1/p' \
		"$tmp/err" | head -n 1)
	why=
	[ $status -eq 0 ] || why="vuvm or testpmd exited $status"
	grep -qE 'pair 0: 256 frames of 60..1514 bytes back, 0 bad' \
		"$tmp/out" || why="$why; no 'pair 0: 256 frames ... 0 bad'"
	grep -qE 'SUMMARY: [0-9]+ tests, 0 failures' "$tmp/out" ||
		why="$why; no 'SUMMARY: ... 0 failures'"
	! grep -qE 'Sanitizer|runtime error:' "$tmp/err" ||
		why="$why; sanitizer report"
	[ "$ms" -le "$bound_ms" ] ||
		why="$why; $ms ms, bound 40 s times $(time_scale)"
	if [ -n "$why" ]; then
		echo "round $i: FAIL: ${why#; }"
		echo "--- vuvm stdout"; tail -n 20 "$tmp/out"
		echo "--- vuvm stderr"; head -c 4000 "$tmp/err"
		echo "--- with_backend.sh"; head -c 8000 "$tmp/with"
		failed=$((failed + 1))
		continue
	fi
	# vuvm counts a connection only when the backend closed it before
	# its first reply: waiting for the socket to appear is not one.
	closes=$(grep -c 'closed the connection before its first reply' \
		"$tmp/err")
	[ -z "$attempts" ] || retried=$((retried + 1))
	early=$((early + closes))
	echo "round $i: ok in $ms ms, connected at attempt ${attempts:-1}" \
		"($closes closed by testpmd before its first reply)"
done
echo "$((rounds - failed)) of $rounds rounds passed; in $retried of them" \
	"testpmd closed a connection before its first reply ($early" \
	"such connections in all), and vuvm connected again"
[ $failed -eq 0 ]
