#!/bin/sh
# SPDX-License-Identifier: MIT
# vuvm-ci.sh: validates a vhost-user backend with vuvm in CI (docs/ci.md).
#
#   vuvm-ci.sh TYPE RESULTS-DIR BACKEND-COMMAND
#
# TYPE is blk, net or rng. BACKEND-COMMAND (run with sh -c, once per step)
# starts your backend listening on the unix socket "$VUVM_SOCKET". Steps:
# vuvm-probe (what the backend offers), then each workload of
# $VUVM_WORKLOADS (default per TYPE) in a vuvm guest. RESULTS-DIR gets
# probe.json, NAME.log and NAME.json per workload, summary.md and
# junit.xml. Exit: 0 all passed, 1 something failed, 77 no KVM (the probe
# ran, the workloads were skipped): the workloads run when $VUVM_KVM
# (default /dev/kvm) exists.
set -u
[ $# -eq 3 ] || { echo "usage: vuvm-ci.sh TYPE RESULTS-DIR BACKEND-COMMAND" >&2; exit 2; }
type=$1 results=$2 backend=$3
case $type in
blk) workloads=${VUVM_WORKLOADS:-"blk-verify blk-verify,mode=irq,queues=1"} ;;
net) workloads=${VUVM_WORKLOADS:-"net-echo net-echo,mode=irq"} ;;
rng) workloads=${VUVM_WORKLOADS:-"rng"} ;;
*) echo "vuvm-ci.sh: TYPE must be blk, net or rng" >&2; exit 2 ;;
esac
mkdir -p "$results" || exit 1
tmp=$(mktemp -d /tmp/vuvm-ci.XXXXXX) || exit 1
export VUVM_SOCKET="$tmp/backend.sock"
pid=
trap 'stop_backend; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

start_backend() {
	rm -f "$VUVM_SOCKET"
	# Its own process group, so that stopping it stops what it started.
	setsid sh -c "$backend" >>"$results/backend.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ -S "$VUVM_SOCKET" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "vuvm-ci.sh: the backend did not listen on $VUVM_SOCKET" >&2
	return 1
}

stop_backend() {
	[ -n "$pid" ] || return 0
	kill -TERM "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}

# record NAME RESULT SECONDS: one line of summary.md and one test case.
record() {
	echo "| $1 | $2 | $3 |" >>"$results/summary.md"
	printf '  <testcase classname="vuvm.%s" name="%s" time="%s">%s</testcase>\n' \
		"$type" "$1" "$3" "$(case $2 in
		pass) ;;
		skip*) echo '<skipped/>' ;;
		*) echo "<failure message=\"$2\"/>" ;;
		esac)" >>"$tmp/cases.xml"
	echo "vuvm-ci.sh: $1: $2"
}

# run NAME COMMAND...: runs one step against a fresh backend.
run() {
	name=$1
	shift
	t0=$(date +%s.%N)
	if start_backend; then
		"$@"
		st=$?
	else
		st=1
	fi
	stop_backend
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	case $st in
	0) record "$name" pass "$secs" ;;
	77) record "$name" "skipped (exit 77)" "$secs" ;;
	*) record "$name" "failed (exit $st)" "$secs" ;;
	esac
}

workload() {
	vuvm --device "$type,socket=$VUVM_SOCKET" --test "$1" --timeout 300 \
		>"$results/$1.log" 2>&1
	st=$?
	sed -n 's/^VUVM-JSON: //p' "$results/$1.log" >"$results/$1.json"
	return $st
}

printf '| step | result | seconds |\n|---|---|---|\n' >"$results/summary.md"
: >"$tmp/cases.xml"
run probe sh -c 'vuvm-probe --type "$0" --json "$VUVM_SOCKET" \
	>"$1/probe.json"' "$type" "$results"
for w in $workloads; do
	if [ -e "${VUVM_KVM:-/dev/kvm}" ]; then
		run "$w" workload "$w"
	else
		record "$w" "skipped (no KVM)" 0
	fi
done

{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	printf '<testsuite name="vuvm-%s" tests="%s" failures="%s" skipped="%s">\n' \
		"$type" "$(grep -c '<testcase' "$tmp/cases.xml")" \
		"$(grep -c '<failure' "$tmp/cases.xml")" \
		"$(grep -c '<skipped' "$tmp/cases.xml")"
	cat "$tmp/cases.xml"
	echo '</testsuite>'
} >"$results/junit.xml"
grep -q '<failure' "$tmp/cases.xml" && exit 1
grep -q '<skipped' "$tmp/cases.xml" && exit 77
exit 0
