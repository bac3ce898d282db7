#!/bin/sh
# SPDX-License-Identifier: MIT
# A backend that crashes in the middle of a guest's work, with vuvm set to
# reconnect: kill -9 it at random points and start it again, and the
# workload must finish as if nothing happened; or kill it for good, and
# the device alone must fail.
#
#   backend_restarts.sh [options] VUVM VUVM-BACKEND TYPE
#
#   -k N      kill the backend N times (default 3), restarting it each time
#   -g        kill it once and never restart it
#   -K SIG    with -g: the signal (default KILL; STOP leaves a backend that
#             is connected but never answers again)
#   -a ARGS   backend arguments after TYPE --socket-path S (@IMG@: image)
#   -b CMD    start the backend with CMD instead (@SOCK@: its socket,
#             @IMG@: the image, @DIR@: a private directory), e.g.
#             qemu-storage-daemon
#   -i SIZE   create a sparse image file of SIZE for @IMG@
#   -d OPTS   more --device options (default reconnect=10, the seconds
#             scaled by the load factor; none: none)
#   -w WL     the workload (--test WL, default blk-verify,passes=16: on
#             KVM a few seconds, so that it outlasts the kills)
#   -m ARGS   more vuvm arguments (e.g. a second --device)
#   -x N      vuvm's expected exit status (default 0)
#   -o ERE    vuvm's stdout must match ERE (repeatable: each must)
#   -e ERE    vuvm's stderr must match ERE (repeatable: each must)
#   -c CMD    then run CMD (@IMG@ replaced) and require it to pass
#   -s SEED   seed for the kill times (default: the pid; printed)
#   -S CTL    before each kill, suspend the device and save its state
#             through vuvm's control socket (vuvmctl CTL); after the
#             restart, restore the state into the new process and resume
#   -U CTL    an upgrade: suspend before each kill, resume after the
#             restart (for backends without DEVICE_STATE)
#   -P CTL    no kills: at each point suspend, wait 0.3 s, resume
#   -R        the backends must have resubmitted in-flight requests
#   -D LO-HI  the backend kills itself instead (vuvm-backend
#             --die-after-push N, N random in LO..HI): right after a
#             completion, so with --reorder the rest of its batch is in
#             flight behind requests already completed
#
# With -D the script waits for each backend to die; should vuvm end first
# (failed, or gave up reconnecting), the backend left listening is ended
# and the run judged, rather than waited for for ever.
# Every resume must report that no used index moved while suspended.
# Kills come 0.1-0.5 s apart (after the backend is back); the first one
# 0.1-0.5 s after the guest printed its first line (every device is set
# up by then, however slow the machine). With -k, vuvm
# must log "reconnected" once per kill and the stdout must show no FAIL.
# Every run fails on a sanitizer report. Exits 77 without /dev/kvm.
set -u
. "$(dirname "$0")/../time_scale.sh"

kills=3 gone= bargs= img_size= devopts=reconnect=$(scaled_s 10)
wl=blk-verify,passes=16
vargs= want=0 out_ere= err_ere= check= seed=$$ ctl= how=kill bcmd=
die_range= need_resub= sig=KILL
while getopts k:gK:a:b:i:d:w:m:x:o:e:c:s:S:U:P:D:R opt; do
	case $opt in
	k) kills=$OPTARG ;;
	g) gone=1 kills=1 ;;
	K) sig=$OPTARG ;;
	a) bargs=$OPTARG ;;
	b) bcmd=$OPTARG ;;
	i) img_size=$OPTARG ;;
	d) devopts=$OPTARG ;;
	w) wl=$OPTARG ;;
	m) vargs=$OPTARG ;;
	x) want=$OPTARG ;;
	o) out_ere="$out_ere$OPTARG
" ;;
	e) err_ere="$err_ere$OPTARG
" ;;
	c) check=$OPTARG ;;
	s) seed=$OPTARG ;;
	S) ctl=$OPTARG how=save ;;
	U) ctl=$OPTARG how=upgrade ;;
	P) ctl=$OPTARG how=pause ;;
	D) die_range=$OPTARG how=self ;;
	R) need_resub=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "$devopts" != none ] || devopts=
[ $# -eq 3 ] || {
	echo "usage: backend_restarts.sh [options] VUVM VUVM-BACKEND TYPE" >&2
	exit 2
}
vuvm=$1 vub=$2 type=$3
# The guest gives up on requests that see no completion for stall= (5 s)
# and vuvm's watchdog ends the run after --timeout: upper bounds, scaled
# by the load factor like every other (a suspend or a restart takes
# longer on a slow machine). stall= given in -w wins.
case $wl, in
*,stall=*) ;;
blk-verify,* | net-echo,*) wl="$wl,stall=$(scaled_s 5)" ;;
esac

if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi

dir=$(mktemp -d /tmp/vuvm-restarts.XXXXXX) || exit 1
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
	echo "FAIL: $* (seed $seed)"
	echo "--- vuvm stdout (tail)"; tail -c 3000 "$dir/out" 2>/dev/null
	echo "--- vuvm stderr"; head -c 6000 "$dir/err" 2>/dev/null
	for log in "$dir"/backend.*.log; do
		echo "--- $log"; head -c 2000 "$log" 2>/dev/null
	done
	exit 1
}

img=$dir/disk.img
[ -z "$img_size" ] || truncate -s "$img_size" "$img" || exit 1
subst() {
	printf '%s\n' "$1" |
		sed "s|@IMG@|$img|g; s|@SOCK@|$dir/sock|g; s|@DIR@|$dir|g"
}
bargs=$(subst "$bargs")
bcmd=$(subst "$bcmd")

# The completion count backend $1 dies at with -D (none for the last).
die_arg() {
	[ $how = self ] && [ "$1" -lt "$kills" ] || return 0
	echo "--die-after-push $(sed -n "$(($1 + 1))p" "$dir/times")"
}

# Starts backend number $1 and waits for its socket.
start_backend() {
	rm -f "$dir/sock"
	# shellcheck disable=SC2086 # ARGS and CMD are words on purpose
	if [ -n "$bcmd" ]; then
		$bcmd >"$dir/backend.$1.log" 2>&1 &
	else
		"$vub" "$type" --socket-path "$dir/sock" --log-level info \
			$bargs $(die_arg "$1") >"$dir/backend.$1.log" 2>&1 &
	fi
	bpid=$!
	for _ in $(seq "$(scaled_tries 10000 50)"); do
		[ -S "$dir/sock" ] && return 0
		sleep 0.05
		kill -0 "$bpid" 2>/dev/null && continue
		# Gone after it listened: vuvm came and left (the run ended).
		grep -q "listening on" "$dir/backend.$1.log" && return 0
		fail "backend $1 exited at start"
	done
	fail "no socket from backend $1 after 10 s times $(time_scale)"
}

# The kill times, from the seed: one per line, 0.10-0.50 s after the
# device runs again; with -D the completion counts instead.
lo=${die_range%-*} hi=${die_range#*-}
awk -v n="$kills" -v s="$seed" -v lo="${lo:-0}" -v hi="${hi:-0}" \
	'BEGIN { srand(s); for (i = 0; i < n; i++)
		if (hi) printf "%d\n", lo + rand() * (hi - lo);
		else printf "%.2f\n", 0.1 + rand() * 0.4 }' >"$dir/times"

# ctl ERE COMMAND...: vuvmctl must say ok, and its reply match ERE.
ctl() {
	ere=$1
	shift
	"$ctl" "$dir/ctl.sock" "$@" >"$dir/ctl.out" 2>&1 ||
		fail "vuvmctl $*: $(cat "$dir/ctl.out")"
	grep -qE -- "$ere" "$dir/ctl.out" ||
		fail "vuvmctl $*: no /$ere/ in: $(cat "$dir/ctl.out")"
	! grep -q "moved" "$dir/ctl.out" ||
		fail "the backend touched a ring while suspended: $(cat "$dir/ctl.out")"
}

# Waits until device 0 is connected again (after a restart).
wait_connected() {
	for _ in $(seq "$(scaled_tries 10000 50)"); do
		"$ctl" "$dir/ctl.sock" status 2>/dev/null |
			grep -qE "^$type""0 connected" && return 0
		sleep 0.05
	done
	fail "vuvm did not reconnect within 10 s times $(time_scale)"
}

# Waits until vuvm's stderr counts $1 reconnections (or vuvm is gone:
# judged below).
wait_reconnected() {
	for _ in $(seq "$(scaled_tries 15000 50)"); do
		[ "$(grep -c 'reconnected after' "$dir/err")" -ge "$1" ] &&
			return 0
		kill -0 "$vpid" 2>/dev/null || return 0
		sleep 0.05
	done
	fail "vuvm did not reconnect within 15 s times $(time_scale)"
}

start_backend 0
ctlopt=
[ -z "$ctl" ] || ctlopt="--control $dir/ctl.sock"
# shellcheck disable=SC2086
"$vuvm" --device "$type,socket=$dir/sock${devopts:+,$devopts}" $vargs $ctlopt \
	--test "$wl" --timeout "$(scaled_s 100)" >"$dir/out" 2>"$dir/err" &
vpid=$!

# The guest runs once it printed a line: the first kill lands in its
# work, not in vuvm's set-up (which a slow machine can make take longer
# than the first interval). A vuvm that ended before is judged below.
if [ $how != self ]; then
	for _ in $(seq "$(scaled_tries 10000 50)"); do
		[ -s "$dir/out" ] || ! kill -0 "$vpid" 2>/dev/null && break
		sleep 0.05
	done
	[ -s "$dir/out" ] || ! kill -0 "$vpid" 2>/dev/null ||
		fail "no guest output within 10 s times $(time_scale)"
fi

k=0
while read -r t; do
	if [ $how = self ]; then
		# 137: SIGKILL, it died where told; else the run was over.
		# A backend only ends when its frontend hangs up: one that
		# vuvm never connected to (vuvm failed, or ended before it
		# reconnected) would be waited for for ever, the script
		# silent. Once vuvm is gone, end it and judge vuvm below.
		while kill -0 "$bpid" 2>/dev/null &&
			kill -0 "$vpid" 2>/dev/null; do
			sleep 0.05
		done
		if kill -0 "$bpid" 2>/dev/null; then
			kill -TERM "$bpid" 2>/dev/null
			wait "$bpid"
			bpid=
			break
		fi
		wait "$bpid"
		st=$?
		bpid=
		[ $st -eq 137 ] || break
		k=$((k + 1))
		start_backend "$k"
		continue
	fi
	sleep "$t"
	kill -0 "$vpid" 2>/dev/null || break
	case $how in
	pause)
		ctl "^ok: ${type}0 suspended" suspend "${type}0"
		sleep 0.3
		ctl "^ok: ${type}0 resumed" resume "${type}0"
		k=$((k + 1))
		continue ;;
	save | upgrade)
		# Suspended, nothing may be left in flight: the next
		# process starts where GET_VRING_BASE said.
		ctl "^ok: ${type}0 suspended" suspend "${type}0"
		! grep -q "not completed" "$dir/ctl.out" ||
			fail "requests in flight at suspend: $(cat "$dir/ctl.out")" ;;
	esac
	[ $how = save ] &&
		ctl "^ok: ${type}0: saved [1-9][0-9]* bytes" save "${type}0" \
			"$dir/state.$k"
	kill -"$sig" "$bpid"
	k=$((k + 1))
	# A stopped backend stays until the end (cleanup kills it).
	[ "$sig" = KILL ] && { wait "$bpid" 2>/dev/null; bpid=; }
	[ -n "$gone" ] && break
	start_backend "$k"
	# The next kill must find the device running again: one that lands
	# while vuvm is still reconnecting (a slow machine) would make one
	# reconnection out of two kills.
	[ $how = kill ] && wait_reconnected "$k"
	if [ $how != kill ]; then
		wait_connected
		[ $how = upgrade ] || ctl "^ok: ${type}0: loaded [1-9][0-9]* bytes" \
			restore "${type}0" "$dir/state.$((k - 1))"
		ctl "^ok: ${type}0 resumed" resume "${type}0"
	fi
done <"$dir/times"

# vuvm must end by itself: within 60 s of the last kill (the rest of the
# workload), 15 s when the backend is gone for good; both times the load
# factor (tests/time_scale.sh).
bound=60
[ -z "$gone" ] || bound=15
for _ in $(seq "$(scaled_tries $((bound * 1000)) 100)"); do
	kill -0 "$vpid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$vpid" 2>/dev/null &&
	fail "vuvm still runs $bound s times $(time_scale) after the last $how"
wait "$vpid"
status=$?
vpid=
[ -z "$bpid" ] || [ "$sig" != KILL ] ||
	{ kill -TERM "$bpid" 2>/dev/null; wait "$bpid"; bpid=; }

! grep -qE 'Sanitizer|runtime error:' "$dir/err" ||
	fail "sanitizer report on stderr"
[ "$status" -eq "$want" ] || fail "vuvm exited $status, wanted $want"
# Every ERE of list $1 (one per line) must match file $2.
match_all() {
	while IFS= read -r ere; do
		[ -z "$ere" ] || grep -qE -- "$ere" "$2" ||
			{ echo "$ere"; return 1; }
	done <<EOF
$1
EOF
}
miss=$(match_all "$out_ere" "$dir/out") || fail "stdout does not match /$miss/"
miss=$(match_all "$err_ere" "$dir/err") || fail "stderr does not match /$miss/"
# A run that must fail (-x) may end before the kills do.
if [ -z "$gone" ] && [ "$want" -eq 0 ]; then
	[ "$k" -eq "$kills" ] ||
		fail "the workload ended after $k of $kills ${how}s: make it longer"
	n=$(grep -c 'reconnected after' "$dir/err")
	[ $how = pause ] && n=$k
	[ "$n" -eq "$k" ] || fail "$k kills but $n reconnects"
	! grep -q '^FAIL' "$dir/out" || fail "the workload reported FAIL"
fi
if [ -n "$check" ]; then
	$(subst "$check") >"$dir/check.out" 2>&1 ||
		{ cat "$dir/check.out"; fail "check failed: $check"; }
	cat "$dir/check.out"
fi
resub=$(cat "$dir"/backend.*.log | sed -n \
	's/.*resubmitting \([0-9]*\) in-flight.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
[ -z "$need_resub" ] || [ "$resub" -gt 0 ] ||
	fail "no backend resubmitted an in-flight request"
echo "PASS: $k $how(s) of the $type backend, vuvm exited $status;" \
	"$resub in-flight request(s) resubmitted (seed $seed)"
grep -E '^VUVM-JSON' "$dir/out" | tail -n 1
# What vuvm noticed about the backend on the way (worth a look).
grep -hE 'answered GET_VRING_BASE|ignored' "$dir/err" "$dir"/backend.*.log
exit 0
