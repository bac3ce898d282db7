#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end: the guest's virtio drivers against a real vuvm-backend.
#
#   virtq_e2e.sh VUVM BACKEND TYPE "BACKEND ARGS" "DEVICE OPTS" TEST
#
# Starts `BACKEND TYPE --socket-path SOCK BACKEND ARGS`, runs
# `VUVM --device TYPE,socket=SOCK DEVICE OPTS --test TEST` with a timeout,
# and passes only on exit 0 with a SUMMARY line and no FAIL line. Exits 77
# (skip) only when /dev/kvm does not exist.
set -u

vuvm=$1 backend=$2 type=$3 be_args=$4 dev_opts=$5 test=$6

if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi

tmp=$(mktemp -d) || exit 2
sock=$tmp/$type.sock
bpid=
cleanup() {
	[ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid"
	rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC2086 # BACKEND ARGS is a list of words
"$backend" "$type" --socket-path "$sock" $be_args 2>"$tmp/backend.err" &
bpid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done

"$vuvm" --device "$type,socket=$sock$dev_opts" --timeout 60 \
	--test "$test" >"$tmp/out" 2>"$tmp/err"
status=$?
cat "$tmp/out"
[ -s "$tmp/err" ] && sed 's/^/vuvm: /' "$tmp/err"
[ -s "$tmp/backend.err" ] && sed 's/^/backend: /' "$tmp/backend.err"

if [ $status -ne 0 ]; then
	echo "FAIL: vuvm exited $status, expected 0"
	exit 1
fi
if ! grep -q '^SUMMARY: [0-9]* tests, 0 failures' "$tmp/out" ||
	grep -q '^FAIL:' "$tmp/out"; then
	echo "FAIL: the guest reported failures"
	exit 1
fi
exit 0
