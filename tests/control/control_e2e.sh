#!/bin/sh
# SPDX-License-Identifier: MIT
# The control socket end to end: a real vuvm with --control, driven by
# vuvmctl and by ctl_raw (which sends bytes vuvmctl would refuse to).
#
#   control_e2e.sh MODE VUVM VUVMCTL CTL_RAW SPIN [SOCK DIR]
#
# MODE is one of
#   usage     vuvmctl's own usage and connection errors (no vuvm);
#   paths     --control paths vuvm refuses (120, 121) or takes over (a
#             stale socket), and the socket file removed at every exit;
#   protocol  every command's replies and errors, several lines on one
#             connection, an overlong line, a slow client, clients in
#             sequence, no fd leak, quit;
#   suspend   suspend blk0 and resume blk0 in the middle of blk-verify
#             (and save and restore its state meanwhile): the guest
#             stands still, then the workload passes.
# SPIN is a guest that never ends. protocol and suspend run under
# with_backend.sh, which passes the backend's SOCK and a private DIR; the
# other modes make their own DIR. Exits 77 only when /dev/kvm is missing.
set -u
. "$(dirname "$0")/../time_scale.sh"

[ $# -ge 5 ] || {
	echo "usage: control_e2e.sh MODE VUVM VUVMCTL CTL_RAW SPIN [SOCK DIR]" >&2
	exit 2
}
mode=$1 vuvm=$2 ctl=$3 raw=$4 spin=$5 sock=${6:-}
if [ $# -ge 7 ]; then
	dir=$7 own_dir=
else
	dir=$(mktemp -d /tmp/vuvm-ctl.XXXXXX) || exit 1
	own_dir=1
fi
vpid=
cleanup() {
	# Only the vuvm this script started, by pid.
	[ -z "$vpid" ] || kill -KILL "$vpid" 2>/dev/null
	[ -z "$own_dir" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	for f in out err ctl.out ctl.err; do
		[ -s "$dir/$f" ] || continue
		echo "--- $f"
		head -c 4000 "$dir/$f"
	done
	exit 1
}

if [ "$mode" != usage ] && [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi

# A sanitizer build's report on vuvm's stderr fails the test.
no_sanitizer() {
	! grep -qE 'Sanitizer|runtime error:' "$dir/$1" ||
		fail "sanitizer report on vuvm's stderr"
}

# start_vuvm CTL-PATH ARGS...: vuvm in the background, up when its
# control socket answers (a stale socket file may be there before).
start_vuvm() {
	path=$1
	shift
	"$vuvm" --control "$path" "$@" >"$dir/out" 2>"$dir/err" &
	vpid=$!
	for _ in $(seq "$(scaled_tries 10000 50)"); do
		"$ctl" "$path" status >/dev/null 2>&1 && return 0
		kill -0 "$vpid" 2>/dev/null || fail "vuvm exited at start"
		sleep 0.05
	done
	fail "the control socket $path does not answer after 10 s" \
		"times $(time_scale)"
}

# ctl STATUS ERE ARGS...: vuvmctl ARGS must exit STATUS with stdout and
# stderr together matching ERE.
ctl() {
	want=$1 ere=$2
	shift 2
	"$ctl" "$@" >"$dir/ctl.out" 2>"$dir/ctl.err"
	got=$?
	[ $got -eq "$want" ] ||
		fail "vuvmctl $* exited $got, wanted $want"
	cat "$dir/ctl.out" "$dir/ctl.err" | grep -qE -- "$ere" ||
		fail "vuvmctl $*: no line matches /$ere/"
}

# stop_vuvm STATUS CTL-PATH: quit through the socket; vuvm exits STATUS
# and leaves no socket file behind.
stop_vuvm() {
	ctl 0 "^ok: stopping the machine [(]exit status 0[)]$" "$2" quit
	wait "$vpid"
	got=$?
	vpid=
	[ $got -eq "$1" ] || fail "vuvm exited $got after quit, wanted $1"
	no_sanitizer err
	[ ! -e "$2" ] || fail "the socket $2 is still there after exit"
	grep -q "control: quit: stopping the machine" "$dir/err" ||
		fail "vuvm did not log why it stopped"
}

# expect_vuvm STATUS ERE ARGS...: a vuvm that must exit STATUS at once
# with stderr matching ERE.
expect_vuvm() {
	want=$1 ere=$2
	shift 2
	"$vuvm" "$@" >"$dir/out" 2>"$dir/err"
	got=$?
	[ $got -eq "$want" ] || fail "vuvm $* exited $got, wanted $want"
	grep -qE -- "$ere" "$dir/err" || fail "vuvm $*: stderr lacks /$ere/"
	no_sanitizer err
}

mode_usage() {
	ctl 2 "^usage: vuvmctl "
	ctl 0 "^usage: vuvmctl .*SOCKET COMMAND" --help
	ctl 2 "cannot connect to $dir/none: No such file or directory" \
		"$dir/none" status
	ctl 2 "argument 'a b': empty or with white space" "$dir/none" save "a b"
	ctl 2 "--timeout 'x': expected seconds above 0" --timeout x s status
	ctl 2 "longer than 107 bytes" "$dir/$(printf '%0120d' 0)" status
	echo "PASS: vuvmctl usage and connection errors"
}

mode_paths() {
	long=$dir/$(printf '%0120d' 0)
	expect_vuvm 120 "--control '.*': longer than 107 bytes" \
		--control "$long" --kernel "$spin"
	expect_vuvm 120 "--control '': empty path" --control "" --kernel "$spin"
	echo keep >"$dir/file"
	expect_vuvm 121 "--control $dir/file: the file exists and is not a socket" \
		--control "$dir/file" --kernel "$spin"
	[ "$(cat "$dir/file")" = keep ] || fail "vuvm changed $dir/file"
	expect_vuvm 121 "--control $dir/no/sock: cannot listen: No such file" \
		--control "$dir/no/sock" --kernel "$spin"
	# A setup error after the socket exists still removes it.
	expect_vuvm 121 "" --control "$dir/setup.sock" --kernel "$dir/none.elf"
	[ ! -e "$dir/setup.sock" ] || fail "setup.sock left after a setup error"

	# A live socket is refused, and its owner keeps serving.
	start_vuvm "$dir/live.sock" --kernel "$spin" --timeout "$(scaled_s 60)"
	first=$vpid
	"$vuvm" --control "$dir/live.sock" --kernel "$spin" >"$dir/out2" \
		2>"$dir/err2"
	got=$?
	[ $got -eq 121 ] || fail "a second vuvm on a live socket exited $got"
	grep -q "another program listens on this socket" "$dir/err2" ||
		fail "the second vuvm did not say the socket is in use"
	no_sanitizer err2
	ctl 0 "^ok: 0 devices$" "$dir/live.sock" status

	# A socket left by a killed vuvm is stale: the next run takes it.
	kill -KILL "$first"
	wait "$first" 2>/dev/null
	vpid=
	[ -S "$dir/live.sock" ] || fail "no stale socket after kill -9"
	start_vuvm "$dir/live.sock" --kernel "$spin" --timeout "$(scaled_s 60)"
	ctl 0 "^ok: 0 devices$" "$dir/live.sock" status
	stop_vuvm 0 "$dir/live.sock"
	echo "PASS: bad, live and stale --control paths"
}

fds() {
	ls "/proc/$vpid/fd" | wc -l
}

mode_protocol() {
	s=$dir/ctl.sock
	start_vuvm "$s" --device "blk,socket=$sock" --kernel "$spin" \
		--timeout "$(scaled_s 60)"
	ctl 0 "^blk0 " "$s" status
	ctl 0 "^ok: 1 device$" "$s" status
	ctl 0 "^suspend DEV[|]all " "$s" help
	ctl 1 "^error: unknown command 'frob' [(]try help[)]$" "$s" frob
	ctl 0 "^ok: blk0 " "$s" suspend all
	ctl 0 "^ok: blk0 " "$s" resume 0
	ctl 1 "^error: no device 'blk7' " "$s" suspend blk7
	ctl 1 "^error: no device '1' " "$s" resume 1
	ctl 1 "^error: save: wrong arguments; usage: save DEV FILE$" \
		"$s" save blk0
	ctl 1 "^error: restore: wrong arguments" "$s" restore
	ctl 1 "^error: status: wrong arguments" "$s" status blk0
	ctl 1 "^error: suspend: wrong arguments" "$s" suspend blk0 blk0
	ctl 1 "^error: $dir/none/state: No such file or directory$" \
		"$s" restore blk0 "$dir/none/state"

	# Several lines on one connection, each answered in order, and the
	# connection usable after every error.
	printf 'frob\nstatus\n\nrestore blk0 rel.state\n  help  \n' |
		"$raw" "$s" >"$dir/ctl.out" || fail "ctl_raw: several lines"
	grep -E '^(ok|error): ' "$dir/ctl.out" >"$dir/finals"
	printf '%s\n' "error: unknown command 'frob' (try help)" \
		"ok: 1 device" "error: empty line (try help)" \
		"error: rel.state: FILE must be an absolute path" \
		"ok: 7 commands; DEV is a device name (blk0) or index" |
		cmp -s - "$dir/finals" ||
		fail "several lines: unexpected replies"

	# An overlong line is refused; the next line still works.
	{ head -c 3000 /dev/zero | tr '\0' x; printf '\nstatus\n'; } |
		"$raw" "$s" >"$dir/ctl.out" || fail "ctl_raw: overlong line"
	grep -qx "error: line longer than 1023 bytes" "$dir/ctl.out" ||
		fail "no error for a 3000-byte line"
	tail -n 1 "$dir/ctl.out" | grep -qx "ok: 1 device" ||
		fail "no status after the overlong line"

	# A client that connects and goes without a word, then the next.
	"$raw" "$s" </dev/null >"$dir/ctl.out" || fail "ctl_raw: empty client"
	[ ! -s "$dir/ctl.out" ] || fail "a reply to a client that sent nothing"
	ctl 0 "^ok: 1 device$" "$s" status

	# A slow client: half a line, then nothing. vuvm gives up after its
	# 5 s line deadline and serves the next client; the guest runs on.
	t0=$(date +%s%N)
	printf 'stat' | "$raw" -k "$s" >"$dir/ctl.out"
	got=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $got -eq 0 ] || fail "a slow client was not let go (ctl_raw $got)"
	grep -qx "error: the line did not end in time; closing" \
		"$dir/ctl.out" || fail "no reason given to the slow client"
	[ $ms -ge 4500 ] && [ $ms -le "$(scaled_ms 9000)" ] ||
		fail "a slow client let go after $ms ms, wanted about 5000"
	kill -0 "$vpid" 2>/dev/null || fail "vuvm died with a slow client"

	# Twenty clients in sequence: every one served, no fd left open.
	before=$(fds)
	for _ in $(seq 20); do
		ctl 0 "^ok: 1 device$" "$s" status
	done
	after=$(fds)
	[ "$before" -eq "$after" ] ||
		fail "vuvm had $before fds before 20 clients, $after after"

	stop_vuvm 0 "$s"
	ctl 2 "cannot connect to $s" "$s" status
	echo "PASS: control protocol (slow client let go after $ms ms," \
		"$before fds before and after 20 clients)"
}

# The last progress line of blk-verify,passes=N ("pass 1/2: write all:
# 1234 of 524288 KiB").
progress() {
	grep -E "INFO: blk-verify: pass [0-9]+/[0-9]+: " "$dir/out" | tail -n 1
}

# suspend blk0 in the middle of blk-verify: the guest's progress stops
# (its progress line keeps saying the same KiB), and after resume blk0 the
# workload goes on and verifies every byte. The guest gives up on a
# request after stall= (5 s times the load factor: each vuvmctl below
# takes longer on a slow machine), so the device stays suspended for
# about 1.3 s plus what the commands take. The first suspend comes once
# blk-verify printed progress (set-up done, however slow the machine).
mode_suspend() {
	s=$dir/ctl.sock
	start_vuvm "$s" --device "blk,socket=$sock" \
		--test "blk-verify,passes=2,stall=$(scaled_s 5)" \
		--timeout "$(scaled_s 60)"
	for _ in $(seq "$(scaled_tries 10000 50)"); do
		[ -z "$(progress)" ] || break
		sleep 0.05
	done
	sleep 0.5
	# A running device's state cannot be saved; the file the failed save
	# created is not left behind.
	ctl 1 "^error: " "$s" save blk0 "$dir/early.state"
	[ ! -e "$dir/early.state" ] && [ ! -e "$dir/early.state.tmp" ] ||
		fail "a failed save left its file"
	ctl 0 "^ok: " "$s" suspend blk0
	sleep 0.3
	p1=$(progress)
	ctl 0 "^blk0 " "$s" status
	# Suspended, the state goes out to a private file and back in.
	ctl 0 "^ok: " "$s" save blk0 "$dir/blk0.state"
	[ -s "$dir/blk0.state" ] || fail "save wrote nothing"
	[ "$(stat -c %a "$dir/blk0.state")" = 600 ] ||
		fail "the state file is not mode 0600"
	ctl 0 "^ok: " "$s" restore 0 "$dir/blk0.state"
	# A FIFO would block the control thread: refused, nothing waits.
	mkfifo "$dir/fifo"
	ctl 1 "^error: .*fifo: not a regular file" "$s" restore blk0 "$dir/fifo"
	ctl 0 "^blk0 " "$s" status
	sleep 1
	p2=$(progress)
	kill -0 "$vpid" 2>/dev/null || fail "vuvm ended while suspended"
	[ -n "$p1" ] || fail "no progress line from blk-verify,passes=2"
	[ "$p1" = "$p2" ] ||
		fail "the guest progressed while suspended: '$p1', then '$p2'"
	ctl 0 "^ok: " "$s" resume blk0
	wait "$vpid"
	got=$?
	vpid=
	[ $got -eq 0 ] || fail "blk-verify exited $got after suspend/resume"
	no_sanitizer err
	grep -qE "SUMMARY: [0-9]+ tests, 0 failures" "$dir/out" ||
		fail "no clean SUMMARY line"
	[ "$(progress)" != "$p2" ] ||
		fail "no progress after resume: the run was over before suspend"
	[ ! -e "$s" ] || fail "the socket is still there after exit"
	echo "PASS: blk-verify,passes=2 stood still while blk0 was suspended" \
		"('$p2') and passed after resume"
}

case $mode in
usage | paths | protocol | suspend) "mode_$mode" ;;
*) echo "control_e2e.sh: unknown mode $mode" >&2; exit 2 ;;
esac
