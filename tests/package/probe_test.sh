#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs vuvm-probe against a backend this script starts, once for text and
# once with --json (a backend may serve only one frontend), and checks the
# output.
#
#   probe_test.sh PROBE BACKEND-COMMAND PROBE-ARGS PATTERN...
#
# BACKEND-COMMAND and PROBE-ARGS are strings split at spaces; in
# BACKEND-COMMAND @SOCK@ is the socket path, which the probe gets last, and
# @DIR@ a private directory (removed afterwards). A PATTERN
# "t:ERE" must match a line of the text output, "j:STRING" must occur in
# the JSON line. Exits 77 when the backend's program is not installed.
set -u
[ $# -ge 4 ] || {
	echo "usage: probe_test.sh PROBE BACKEND PROBE-ARGS PATTERN..." >&2
	exit 2
}
probe=$1 backend=$2 args=$3
shift 3
# The backend's program: its first word that is neither env nor VAR=value.
prog=$(echo "$backend" | awk '{ for (i = 1; i <= NF; i++)
	if ($i != "env" && $i !~ /=/) { print $i; exit } }')
command -v "$prog" >/dev/null || {
	echo "SKIP: $prog is not installed"
	exit 77
}
dir=$(mktemp -d /tmp/vuvm-probe.XXXXXX) || exit 1
sock=$dir/backend.sock
pid=

stop_backend() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}
trap 'stop_backend; rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM

# Starts the backend and waits up to 10 s for its socket.
start_backend() {
	# shellcheck disable=SC2086 # the command is split at spaces
	$(printf '%s' "$backend" | sed -e "s|@SOCK@|$sock|g" -e "s|@DIR@|$dir|g") \
		>"$dir/backend.log" 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		[ -S "$sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "FAIL: no socket from: $backend"
	cat "$dir/backend.log"
	return 1
}

# Runs the probe (with $1 as an extra option) into $dir/out.$2.
run_probe() {
	start_backend || return 1
	# shellcheck disable=SC2086 # the arguments are split at spaces
	if ! "$probe" $args $1 "$sock" >"$dir/out.$2"; then
		echo "FAIL: vuvm-probe $args $1 exited with status $?"
		return 1
	fi
	stop_backend
}

run_probe "" text || exit 1
run_probe --json json || exit 1
status=0
for p in "$@"; do
	case $p in
	t:*) grep -qE -- "${p#t:}" "$dir/out.text" && continue ;;
	j:*) grep -qF -- "${p#j:}" "$dir/out.json" && continue ;;
	*) echo "bad pattern '$p'"; exit 2 ;;
	esac
	echo "FAIL: no match for $p"
	status=1
done
if [ $status -ne 0 ] || [ "$(wc -l <"$dir/out.json")" -ne 1 ]; then
	echo "FAIL: the output was:"
	cat "$dir/out.text" "$dir/out.json"
	exit 1
fi
echo "ok: $# patterns matched"
