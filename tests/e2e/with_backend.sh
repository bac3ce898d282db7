#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a command against a vhost-user backend that this script starts and
# stops itself.
#
#   with_backend.sh [-w SEC] [-l SEC] [-n] [-i SIZE] BACKEND-COMMAND --
#                   COMMAND [ARG...]
#
# In both commands @DIR@ becomes a fresh private directory and @SOCK@ the
# socket path inside it (@DIR@/backend.sock). BACKEND-COMMAND is one string,
# split at spaces. The script
#  - with -i SIZE, first creates @DIR@/disk.img, SIZE bytes of zeroes
#    (truncate's sizes: 8M, 1G);
#  - starts the backend with its output in @DIR@/backend.log;
#  - waits at most -w SEC (default 10) for the socket to appear, unless -l
#    SEC is given: then the backend is started SEC seconds late and
#    COMMAND runs at once (to test that vuvm waits for it);
#  - runs COMMAND and keeps its exit status;
#  - stops only the backend it started (SIGTERM, then SIGKILL after 5 s),
#    and with -n expects the backend to have exited by itself by then,
#    with status 0;
#  - prints the backend's log when anything failed, then removes @DIR@.
# Exits with COMMAND's status (77 when /dev/kvm does not exist), or 1 when
# the backend failed to start, died early, or had to be killed.
set -u
. "$(dirname "$0")/../time_scale.sh"

wait_sec=10 late= self_exit= image=
while getopts w:l:ni: opt; do
	case $opt in
	w) wait_sec=$OPTARG ;;
	l) late=$OPTARG ;;
	n) self_exit=1 ;;
	i) image=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] && [ "$2" = "--" ] || {
	echo "usage: with_backend.sh [-w SEC] [-l SEC] [-n] [-i SIZE] BACKEND -- CMD..." >&2
	exit 2
}
backend=$1
shift 2

if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi

dir=$(mktemp -d /tmp/vuvm-e2e.XXXXXX) || exit 1
sock=$dir/backend.sock
pid=
fail=0

subst() {
	printf '%s' "$1" | sed -e "s|@SOCK@|$sock|g" -e "s|@DIR@|$dir|g"
}

# The backend's pid is the one we stop: with -l, a shell that sleeps and
# then becomes the backend through exec.
start_backend() {
	cmd=$(subst "$backend")
	sh -c "sleep ${late:-0}; exec $cmd" >"$dir/backend.log" 2>&1 &
	pid=$!
}

# Waits for the socket; fails if the backend exits or time runs out.
wait_socket() {
	tries=$(scaled_tries "$(awk "BEGIN { print $wait_sec * 1000 }")" 50)
	while [ ! -S "$sock" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "FAIL: the backend exited before creating $sock"
			return 1
		fi
		tries=$((tries - 1))
		if [ $tries -le 0 ]; then
			echo "FAIL: no socket $sock after $wait_sec s" \
				"times $(time_scale) (load)"
			return 1
		fi
		sleep 0.05
	done
}

# Stops the backend it started, whatever state it is in. With -n the
# backend must have exited by itself (vuvm hung up) within 2 s (times the
# load factor of tests/time_scale.sh, as every wait here).
stop_backend() {
	[ -n "$pid" ] || return 0
	if [ -n "$self_exit" ]; then
		for _ in $(seq "$(scaled_tries 2000 100)"); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "FAIL: the backend did not exit when vuvm hung up"
			fail=1
		else
			wait "$pid"
			st=$?
			pid=
			[ $st -eq 0 ] && return 0
			echo "FAIL: the backend exited with status $st"
			fail=1
			return 0
		fi
	fi
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq "$(scaled_tries 5000 100)"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "FAIL: the backend ignored SIGTERM; killed"
		kill -KILL "$pid" 2>/dev/null
		fail=1
	fi
	wait "$pid" 2>/dev/null
	pid=
}

cleanup() {
	stop_backend
	if [ $fail -ne 0 ]; then
		echo "--- backend: $(subst "$backend")"
		head -c 8000 "$dir/backend.log" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ -n "$image" ] && ! truncate -s "$image" "$dir/disk.img"; then
	fail=1
	exit 1
fi
start_backend
if [ -z "$late" ] && ! wait_socket; then
	fail=1
	exit 1
fi

n=$#
for a in "$@"; do
	set -- "$@" "$(subst "$a")"
done
shift "$n"
"$@"
status=$?
[ $status -eq 0 ] || [ $status -eq 77 ] || fail=1
stop_backend
[ $fail -eq 0 ] || [ $status -ne 0 ] || status=1
exit $status
