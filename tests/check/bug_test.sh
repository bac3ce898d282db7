#!/bin/sh
# SPDX-License-Identifier: MIT
# vuvm-check catches each defect of vuvm-backend --bug (that the clean
# backend passes is check_expect_vuvm-backend-blk). Needs KVM (the guest
# runs): exits 77 (skipped) without /dev/kvm.
#
#   bug_test.sh VUVM_CHECK VUVM VUVM_BACKEND TYPE BUG CHECK_ID [ARG...]
#
# TYPE is the device (blk, net, rng, fs); blk's backend gets a 16 MiB RAM
# disk, net's two queue pairs (so that it offers MQ and serves a control
# queue), fs's a fresh shared directory under the scenario's @DIR@.
#
# The run with --only CHECK_ID (and ARGs, e.g. --strict) must exit 1 with
# a "not ok N - CHECK_ID " line. An ARG that starts with + goes, without
# the +, to the backend instead (+--queues=2, +--read-only).
set -u
. "$(dirname "$0")/../time_scale.sh"
check=$1 vuvm=$2 backend=$3 type=$4 bug=$5 id=$6
shift 6
extra=
for a in "$@"; do
	shift
	case $a in
	+*) extra="$extra ${a#+}" ;;
	*) set -- "$@" "$a" ;;
	esac
done
[ -e /dev/kvm ] || {
	echo "SKIP: no /dev/kvm"
	exit 77
}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp

cmd="$backend $type --socket-path @SOCK@"
[ "$type" = blk ] && cmd="$cmd --size 16M"
[ "$type" = net ] && cmd="$cmd --queues 2"
[ "$type" = fs ] &&
	cmd="mkdir @DIR@/shared && exec $cmd --shared-dir @DIR@/shared"
# A scenario takes at most a few seconds on KVM; a defect that hangs one
# is caught when its time runs out (10 s, scaled by the load, not the
# default 30).
"$check" --vuvm "$vuvm" --type "$type" --backend "$cmd$extra --bug $bug" \
	--timeout "$(scaled_s 10)" --only "$id" "$@" >"$tmp/out"
status=$?
cat "$tmp/out"
[ "$status" = 1 ] || {
	echo "FAIL: --bug $bug: exit status $status, wanted 1"
	exit 1
}
re=$(printf '%s' "$id" | sed 's/[].[*^$\/]/\\&/g')
grep -q "^not ok [0-9][0-9]* - $re " "$tmp/out" || {
	echo "FAIL: --bug $bug: no 'not ok N - $id ' line"
	exit 1
}
exit 0
