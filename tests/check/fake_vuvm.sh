#!/bin/sh
# SPDX-License-Identifier: MIT
# A stand-in for vuvm that tests vuvm-check's runner without KVM: it prints
# a console as a guest would and exits with a chosen status.
#
#   FAKE_IDS       check IDs to give a verdict for (space-separated)
#   FAKE_RESULT    the verdict for each of them (default pass)
#   FAKE_OVERRIDE  "ID=RESULT ..." verdicts that differ
#   FAKE_STATUS    exit status of a check run (default 0)
#   FAKE_BOOT      exit status of the preflight boot (default 0)
#   FAKE_SLEEP     seconds to wait before printing (default 0)
#   FAKE_ARGS      a file that gets this run's arguments appended
#   FAKE_STDERR    a line a check run prints on stderr (vuvm's log)
#   FAKE_RESTART   on the vu-reconnect scenario: print the guest's crash
#                  request, wait (5 s at most) for the first backend
#                  process (the first line of DIR/pids beside the socket,
#                  a pid per start) to be gone with no second one
#                  started, then print the start request and wait for a
#                  second line; every verdict fails when either does not
#                  come
set -u
test= device=
while [ $# -gt 0 ]; do
	[ -n "${FAKE_ARGS:-}" ] && printf '%s\n' "$1" >>"$FAKE_ARGS"
	case $1 in
	--test) test=$2; [ -n "${FAKE_ARGS:-}" ] && printf '%s\n' "$2" >>"$FAKE_ARGS"; shift ;;
	--device) device=$2; [ -n "${FAKE_ARGS:-}" ] && printf '%s\n' "$2" >>"$FAKE_ARGS"; shift ;;
	--timeout | --trace) [ -n "${FAKE_ARGS:-}" ] && printf '%s\n' "$2" >>"$FAKE_ARGS"; shift ;;
	esac
	shift
done
case $test in
exit,*) exit "${FAKE_BOOT:-0}" ;;
esac
sleep "${FAKE_SLEEP:-0}"
echo "vuvm: vhost-user: -> SET_OWNER (fake trace line)" >&2
restarted=yes
case ${FAKE_RESTART:-}/$test in
?*/*scenario=vu-reconnect*)
	sock=${device#*socket=}
	pids=$(dirname "${sock%%,*}")/pids
	echo "VUVM-CHECK: crash the backend (crash 1)"
	restarted=no
	for _ in $(seq 50); do
		kill -0 "$(head -n 1 "$pids")" 2>/dev/null || {
			restarted=killed
			break
		}
		sleep 0.1
	done
	# Not started again before it is asked to be.
	sleep 0.2
	[ "$(wc -l <"$pids")" -eq 1 ] || restarted=no
	if [ "$restarted" = killed ]; then
		echo "VUVM-CHECK: start the backend again (crash 1)"
		restarted=no
		for _ in $(seq 50); do
			if [ "$(wc -l <"$pids")" -ge 2 ]; then
				restarted=yes
				break
			fi
			sleep 0.1
		done
	fi
	;;
esac
[ "$restarted" = yes ] || FAKE_RESULT=fail FAKE_OVERRIDE=
for id in ${FAKE_IDS:-}; do
	result=${FAKE_RESULT:-pass}
	for o in ${FAKE_OVERRIDE:-}; do
		[ "${o%=*}" = "$id" ] && result=${o#*=}
	done
	case $result in
	fail) echo "VUVM-JSON: {\"check\":\"$id\",\"result\":\"fail\",\"expected\":\"status 0\",\"got\":\"status 1\"}" ;;
	skip) echo "VUVM-JSON: {\"check\":\"$id\",\"result\":\"skip\",\"reason\":\"feature not offered\"}" ;;
	none) ;;
	*) echo "VUVM-JSON: {\"check\":\"$id\",\"result\":\"$result\"}" ;;
	esac
done
[ -n "${FAKE_STDERR:-}" ] && echo "$FAKE_STDERR" >&2
echo "SUMMARY: fake"
exit "${FAKE_STATUS:-0}"
