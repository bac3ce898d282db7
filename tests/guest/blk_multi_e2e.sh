#!/bin/sh
# SPDX-License-Identifier: MIT
# blk-verify over two virtio-blk devices, each with its own backend.
#
#   blk_multi_e2e.sh VUVM VUVM-BACKEND "SECOND BACKEND" STATUS ERE TEST [flip]
#
# The first device is `VUVM-BACKEND blk` on a 4 MiB RAM disk; the second is
# served by SECOND BACKEND (a command with @SOCK@, as with_backend.sh takes
# it). vuvm runs --test TEST with both; the script passes when vuvm exits
# with STATUS and its output matches ERE (the blk-verify JSON line, whose
# figures say which device failed and how many bytes were verified). With
# "flip" the second backend's device comes first in the device tree.
# Exits 77 (skip) only when /dev/kvm does not exist.
set -u

vuvm=$1 backend=$2 second=$3 status=$4 ere=$5 test=$6 flip=${7:-}
here=$(dirname "$0")
e2e=$here/../e2e

if [ "${BLK_MULTI_INNER:-}" ]; then
	# Inside the first backend's with_backend.sh: $BLK_MULTI_SOCK is its
	# socket; this level starts the second backend.
	second=$(printf '%s' "$second" | sed 's|@SOCK2@|@SOCK@|g')
	first_dev=blk,socket=$BLK_MULTI_SOCK second_dev=blk,socket=@SOCK@
	if [ "$flip" = flip ]; then
		first_dev=blk,socket=@SOCK@ second_dev=blk,socket=$BLK_MULTI_SOCK
	fi
	exec sh "$e2e/with_backend.sh" "$second" -- \
		sh "$here/../vmm/run_vuvm.sh" -o "$ere" "$status" "$vuvm" \
		--device "$first_dev" --device "$second_dev" --timeout 60 \
		--test "$test"
fi
# The outer with_backend.sh would put its own socket into every @SOCK@:
# the second backend's waits as @SOCK2@ for the inner one.
second=$(printf '%s' "$second" | sed 's|@SOCK@|@SOCK2@|g')
exec sh "$e2e/with_backend.sh" \
	"$backend blk --socket-path @SOCK@ --size 4M" -- \
	env BLK_MULTI_INNER=1 BLK_MULTI_SOCK=@SOCK@ \
	sh "$0" "$vuvm" "$backend" "$second" "$status" "$ere" "$test" "$flip"
