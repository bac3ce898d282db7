#!/bin/sh
# SPDX-License-Identifier: MIT
# One fault-injection case: vuvm talks to `vuvm-backend blk` through
# vuvm-fault-backend, which injects FAULT; vuvm must exit with STATUS and
# say ERE on stderr, within the bound, without a sanitizer report.
#
#   run_fault.sh VUVM VUVM-BACKEND FAULT-BACKEND FAULT WORKLOAD STATUS ERE
#
# FAULT is the proxy's --fault argument (MODE[@REQUEST[#N]]), or
# close-first=N for its --close-first N (then the proxy must say it closed
# N connections instead of its "fault:" line); WORKLOAD is
# vuvm's --test; STATUS an ERE for vuvm's exit status (run_vuvm.sh).
# with_backend.sh starts and stops the backend (without -n: a backend may
# fairly fail on a reply the proxy cut off); run_vuvm.sh checks vuvm.
# Beyond that the proxy must log its "fault:" line (the fault really
# happened) and exit 0 by itself once vuvm is gone, and vuvm must be done
# within BOUND seconds (default 5; the reply timeout is 0.3 s), times the
# load factor of tests/time_scale.sh, as every wait here and the reply
# timeout (@MS@ in ERE: its milliseconds, as vuvm says them). Exits 77
# without /dev/kvm.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bound=${FAULT_BOUND:-5}
. "$top/tests/time_scale.sh"

if [ "${1:-}" != --inner ]; then
	[ $# -eq 7 ] || {
		echo "usage: run_fault.sh VUVM VUVM-BACKEND FAULT-BACKEND" \
			"FAULT WORKLOAD STATUS ERE" >&2
		exit 2
	}
	exec sh "$top/tests/e2e/with_backend.sh" \
		"$2 blk --socket-path @SOCK@ --size 8M" \
		-- sh "$0" --inner @SOCK@ @DIR@ "$@"
fi
shift
sock=$1 dir=$2 vuvm=$3 fproxy=$5 fault=$6 workload=$7 status=$8 ere=$9
reply_s=$(awk -v ms="$(scaled_ms 300)" \
	'BEGIN { printf "%d.%03d\n", ms / 1000, ms % 1000 }')
reply_ms=$(awk -v s="$reply_s" 'BEGIN { printf "%d\n", s * 1000 }')
# The proxy's socket is there before vuvm starts; connect-timeout matters
# only after a hang-up before the first reply, which vuvm retries (and
# then finds the proxy gone).
connect_s=$(awk -v ms="$(scaled_ms 1000)" \
	'BEGIN { printf "%d.%03d\n", ms / 1000, ms % 1000 }')
ere=$(printf '%s\n' "$ere" | sed "s/@MS@/$reply_ms/g")
psock=$dir/proxy.sock
plog=$dir/proxy.log
ppid=

fail() {
	echo "FAIL: $*"
	echo "--- vuvm-fault-backend --fault $fault"
	head -c 4000 "$plog" 2>/dev/null
	[ -z "$ppid" ] || kill -KILL "$ppid" 2>/dev/null
	exit 1
}

case $fault in
close-first=*)
	closes=${fault#close-first=}
	set -- --close-first "$closes"
	said="closed frontend $closes of $closes"
	;;
*)
	set -- --fault "$fault"
	said="fault: "
	;;
esac
"$fproxy" --listen "$psock" --upstream "$sock" "$@" \
	>"$plog" 2>&1 &
ppid=$!
for _ in $(seq "$(scaled_tries 5000 50)"); do
	[ -S "$psock" ] && break
	kill -0 "$ppid" 2>/dev/null || fail "the proxy exited at start"
	sleep 0.05
done
[ -S "$psock" ] || fail "no proxy socket after 5 s times $(time_scale)"

t0=$(date +%s%N)
sh "$top/tests/vmm/run_vuvm.sh" -e "$ere" -E "AddressSanitizer" "$status" \
	"$vuvm" --device "blk,socket=$psock,reply-timeout=$reply_s,connect-timeout=$connect_s" \
	--test "$workload" --timeout 20 || fail "vuvm (above)"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -le "$(scaled_ms $((bound * 1000)))" ] ||
	fail "vuvm took $ms ms, bound $bound s times $(time_scale)"

# vuvm is gone, so the proxy must end by itself, and cleanly.
for _ in $(seq "$(scaled_tries 2000 50)"); do
	kill -0 "$ppid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$ppid" 2>/dev/null &&
	fail "the proxy still runs 2 s times $(time_scale) after vuvm exited"
wait "$ppid"
pstatus=$?
ppid=
[ $pstatus -eq 0 ] || fail "the proxy exited $pstatus"
grep -q "$said" "$plog" || fail "the proxy never said '$said'"
! grep -qE 'Sanitizer|runtime error:' "$plog" ||
	fail "sanitizer report from the proxy"
echo "PASS: --fault $fault: vuvm exited as expected in $ms ms"
echo "    $(grep "$said" "$plog")"
exit 0
