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
e2e=$(dirname "$0")/../e2e

# with_backend.sh runs the backend (and skips without /dev/kvm);
# run_vuvm.sh checks vuvm's status and the guest's verdict.
exec sh "$e2e/with_backend.sh" \
	"$backend $type --socket-path @SOCK@ $be_args" -- \
	sh "$(dirname "$0")/../vmm/run_vuvm.sh" \
	-o '^SUMMARY: [0-9]+ tests, 0 failures' -O '^FAIL:' 0 \
	"$vuvm" --device "$type,socket=@SOCK@$dev_opts" --timeout 60 \
	--test "$test"
