#!/bin/sh
# SPDX-License-Identifier: MIT
# The backend dies while the guest is busy with its device: vuvm must notice
# the hang-up and stop with exit status 125 and a reason, not hang.
#
#   backend_dies.sh VUVM VUVM-BACKEND KILL-AFTER-SEC WORKLOAD [SIGNAL [ERE]]
#
# Starts `VUVM-BACKEND blk` on a 1 GiB RAM disk (blk-verify takes seconds
# on it), boots VUVM with --test WORKLOAD, sends the backend SIGKILL after
# KILL-AFTER-SEC and expects vuvm to exit 125 within 10 s with
# "the vhost-user backend closed the connection" on stderr and no
# sanitizer report. With SIGNAL (default KILL) STOP, the backend stays
# connected but stops answering: vuvm must give up on it after its reply
# timeout (5 s) and exit 125 all the same, saying so (ERE, default the
# hang-up sentence, is what stderr must contain). with_backend.sh does not fit: it stops the backend
# only after the command is done. Exits 77 without /dev/kvm.
set -u

[ $# -ge 4 ] && [ $# -le 6 ] || {
	echo "usage: backend_dies.sh VUVM VUVM-BACKEND KILL-AFTER-SEC WORKLOAD" \
		"[SIGNAL [ERE]]" >&2
	exit 2
}
vuvm=$1 vub=$2 after=$3 workload=$4 sig=${5:-KILL}
reason=${6:-the vhost-user backend closed the connection}

if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi

dir=$(mktemp -d /tmp/vuvm-e2e.XXXXXX) || exit 1
bpid= vpid=
cleanup() {
	# Only the processes this script started, by pid.
	[ -z "$bpid" ] || kill -KILL "$bpid" 2>/dev/null
	[ -z "$vpid" ] || kill -KILL "$vpid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	echo "--- vuvm stdout"; head -c 4000 "$dir/out" 2>/dev/null
	echo "--- vuvm stderr"; head -c 4000 "$dir/err" 2>/dev/null
	echo "--- backend"; head -c 4000 "$dir/backend.log" 2>/dev/null
	exit 1
}

"$vub" blk --socket-path "$dir/sock" --size 1G >"$dir/backend.log" 2>&1 &
bpid=$!
for _ in $(seq 200); do
	[ -S "$dir/sock" ] && break
	kill -0 "$bpid" 2>/dev/null || fail "the backend exited at start"
	sleep 0.05
done
[ -S "$dir/sock" ] || fail "no backend socket after 10 s"

# --timeout is a backstop only: 124 instead of 125 means vuvm missed it.
"$vuvm" --device "blk,socket=$dir/sock" --test "$workload" --timeout 20 \
	>"$dir/out" 2>"$dir/err" &
vpid=$!
sleep "$after"
kill -0 "$vpid" 2>/dev/null || fail "vuvm was done before the backend died"
kill -"$sig" "$bpid"
if [ "$sig" = KILL ]; then
	wait "$bpid" 2>/dev/null
	bpid=
fi

# 10 s for vuvm to notice, far less than the --timeout backstop.
for _ in $(seq 100); do
	kill -0 "$vpid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$vpid" 2>/dev/null && fail "vuvm still runs 10 s after the backend died"
wait "$vpid"
status=$?
vpid=

[ $status -eq 125 ] || fail "vuvm exited $status, wanted 125"
grep -qE "$reason" "$dir/err" || fail "stderr does not say /$reason/"
! grep -qE 'Sanitizer|runtime error:' "$dir/err" ||
	fail "sanitizer report on stderr"
echo "PASS: vuvm exited 125 after SIG$sig to the backend ($workload)"
exit 0
