#!/bin/sh
# SPDX-License-Identifier: MIT
# vuvm-check's runner without KVM: a fake vuvm (fake_vuvm.sh) prints the
# verdicts a guest would, and this script checks what vuvm-check makes of
# them: TAP, JUnit XML, JSON, exit statuses, and the reasons it gives when
# a verdict is missing, the backend crashes or will not start.
#
#   runner_test.sh VUVM_CHECK VUVM_BACKEND FAKE_VUVM CASE
set -u
check=$1 backend=$2 fake=$3 case=$4
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
fail=0
complain() {
	echo "FAIL: $*"
	fail=1
}

good_backend="$backend blk --socket-path @SOCK@ --size 1M"
ids=$("$check" --list --type blk | awk '{ print $1 }')
n=$(echo "$ids" | wc -l)
export FAKE_IDS="$ids"

# run [ARG...]: vuvm-check with the fake vuvm; output in $tmp/out, status
# in $status.
run() {
	"$check" --vuvm "$fake" --type blk --timeout 5 "$@" >"$tmp/out" \
		2>"$tmp/err"
	status=$?
}
want_status() {
	[ "$status" = "$1" ] || complain "exit status $status, wanted $1"
}
want() {
	grep -qE -- "$1" "$tmp/out" || complain "stdout lacks /$1/"
}
want_err() {
	grep -qE -- "$1" "$tmp/err" || complain "stderr lacks /$1/"
}
count() {
	c=$(grep -cE -- "$1" "$tmp/out")
	[ "$c" = "$2" ] || complain "$c lines match /$1/, wanted $2"
}
# The JUnit file parses and has the counts given.
junit() {
	python3 - "$tmp/junit.xml" "$@" <<'EOF' || complain "JUnit: $*"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
want = dict(a.split('=') for a in sys.argv[2:])
got = {k: root.get(k) for k in want}
suites = root.findall('testsuite')
cases = root.findall('testsuite/testcase')
assert got == want, (got, want)
assert sum(int(s.get('tests')) for s in suites) == len(cases)
assert len(suites) > 1, 'one testsuite per spec area'
EOF
}
# The JSON file parses; its summary has the counts given.
json() {
	python3 - "$tmp/out.json" "$@" <<'EOF' || complain "JSON: $*"
import sys, json
doc = json.load(open(sys.argv[1]))
want = {a.split('=')[0]: int(a.split('=')[1]) for a in sys.argv[2:]}
got = {k: doc['summary'][k] for k in want}
assert got == want, (got, want)
assert len(doc['checks']) == doc['summary']['checks']
for c in doc['checks']:
	assert c['result'] in ('pass', 'fail', 'warn', 'skip'), c
EOF
}

first=$(echo "$ids" | head -n 1)
should=$("$check" --list --type blk | awk '$2 == "SHOULD" { print $1; exit }')

case $case in
pass)
	run --backend "$good_backend" --junit "$tmp/junit.xml" \
		--json "$tmp/out.json"
	want_status 0
	want '^TAP version 13$'
	want "^1\.\.$n\$"
	count '^ok [0-9]+ - ' "$n"
	want "^# blk: $n checks, $n passed, 0 failed \(MUST\), 0 warnings"
	junit tests="$n" failures=0 skipped=0
	json checks="$n" passed="$n" failed=0
	;;
must_fails)
	FAKE_OVERRIDE="$first=fail" run --backend "$good_backend" \
		--junit "$tmp/junit.xml" --json "$tmp/out.json"
	want_status 1
	want "^not ok 1 - $first "
	want '^# MUST: '
	want '^#   expected status 0; got status 1$'
	want '^#   vuvm \(exit status 0\), last lines:$'
	want 'fake trace line'
	junit tests="$n" failures=1
	json failed=1
	;;
should_warns)
	FAKE_OVERRIDE="$should=fail" run --backend "$good_backend" \
		--junit "$tmp/junit.xml" --json "$tmp/out.json"
	want_status 0
	want "^not ok [0-9]+ - $should .* # TODO SHOULD-level"
	junit failures=0
	json warnings=1 failed=0
	FAKE_OVERRIDE="$should=fail" run --backend "$good_backend" --strict
	want_status 1
	grep -q "# TODO" "$tmp/out" && complain "--strict still says TODO"
	;;
skip)
	FAKE_OVERRIDE="$first=skip" run --backend "$good_backend"
	want_status 0
	want "^ok 1 - $first .* # SKIP feature not offered$"
	;;
no_verdict_timeout)
	FAKE_RESULT=none FAKE_STATUS=124 run --backend "$good_backend"
	want_status 1
	count '^not ok ' "$n"
	want "no verdict: vuvm's --timeout \(5 s\) expired"
	;;
too_few_queues)
	FAKE_RESULT=none FAKE_STATUS=121 \
		FAKE_STDERR="vuvm: blk0: 2 queues asked for, the backend has 1" \
		run --backend "$good_backend"
	want_status 0
	count '^ok [0-9]+ - .* # SKIP the backend has fewer queues than this scenario needs [(]vuvm: blk0: 2 queues asked for, the backend has 1[)]$' "$n"
	FAKE_RESULT=none FAKE_STATUS=121 FAKE_STDERR="vuvm: blk0: something else" \
		run --backend "$good_backend"
	want_status 1
	want 'no verdict: vuvm could not set the device up'
	;;
missing_one)
	FAKE_OVERRIDE="$first=none" run --backend "$good_backend"
	want_status 1
	want "^not ok 1 - $first "
	want 'no verdict: the guest ended \(status 0\) without reporting'
	;;
backend_crash)
	# The blk device checks (a few scenarios, each waiting 1 s in the
	# fake vuvm for the crash): every one of them not ok.
	FAKE_SLEEP=1 run --only blk/ --backend \
		"$good_backend & sleep 0.3; kill -SEGV \$\$"
	want_status 1
	count '^not ok ' "$(echo "$ids" | grep -c '^blk/')"
	want 'the backend crashed \(signal 11'
	want 'backend log, last lines:'
	;;
restart)
	# vu-reconnect: the guest's request has the backend killed and the
	# same command started again on the same socket and directory.
	FAKE_RESTART=1 run --only vhost-user/SET_INFLIGHT_FD/ --backend \
		"echo \$\$ >>@DIR@/pids; exec $good_backend" -v
	want_status 0
	count '^ok ' 1
	want '^ok 1 - vhost-user/SET_INFLIGHT_FD/1'
	dir=$(sed -n 's/^vuvm-check: vu-reconnect: kept //p' "$tmp/err")
	grep -q 'backend killed (SIGKILL), crash 1, at the guest.s request' \
		"$dir/backend.log" ||
		complain "the backend log does not say it was killed"
	grep -q 'backend started again, restart 1, at the guest.s request' \
		"$dir/backend.log" ||
		complain "the backend log does not say it was started again"
	# Without a backend of its own (--socket), nothing to restart: the
	# scenario is skipped (main.c), and the fake never asks.
	;;
backend_wont_start)
	run --backend "echo no such thing >&2; exit 3 # @SOCK@"
	want_status 2
	want_err 'the backend would not start: the backend ended before'
	want_err 'no such thing'
	;;
no_kvm)
	FAKE_BOOT=121 run --backend "$good_backend"
	want_status 2
	want_err 'cannot boot the guest \(exit status 121\)'
	;;
socket)
	run --socket "$tmp/nothing-here.sock"
	want_status 2
	want_err "--socket $tmp/nothing-here.sock: No such file"
	sock=$tmp/b.sock
	$backend blk --socket-path "$sock" --size 1M &
	pid=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 500 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	FAKE_ARGS=$tmp/args run --socket "$sock"
	kill $pid 2>/dev/null
	want_status 0
	count '^ok [0-9]+ - ' "$n"
	grep -qx "blk,socket=$sock,connect-timeout=5" "$tmp/args" ||
		complain "vuvm was not given the --socket path"
	;;
select)
	run --backend "$good_backend" --only virtio/2.7.4/ --skip virtio/2.7.4/2
	want_status 0
	want '^1\.\.2$'
	want '^ok 1 - virtio/2\.7\.4/1 '
	want '^ok 2 - virtio/2\.7\.4/3 '
	;;
jobs)
	run --backend "$good_backend" --jobs 4
	want_status 0
	count '^ok [0-9]+ - ' "$n"
	;;
args)
	FAKE_ARGS=$tmp/args run --backend "$good_backend"
	want_status 0
	grep -qx 'check,scenario=blk-layout' "$tmp/args" ||
		complain "the guest was not given its scenario"
	grep -qx 'exit,status=0' "$tmp/args" ||
		complain "no preflight boot"
	;;
usage)
	for bad in "" "--type foo" "--type blk" "--type blk --socket s --backend x@SOCK@" \
		"--type blk --backend no-sock-marker" "--type blk --socket s --jobs 0" \
		"--type blk --socket s --timeout 0" "--type blk --socket s extra"; do
		# shellcheck disable=SC2086 # the words are the arguments
		"$check" $bad >/dev/null 2>"$tmp/err"
		s=$?
		[ $s = 2 ] || complain "'$bad': exit status $s, wanted 2"
		grep -q "Try 'vuvm-check --help'" "$tmp/err" ||
			complain "'$bad': no hint"
	done
	"$check" --help >"$tmp/out" || complain "--help failed"
	for opt in type backend socket only skip strict list junit json jobs \
		timeout vuvm verbose help; do
		grep -q -- "--$opt" "$tmp/out" || complain "--help lacks --$opt"
	done
	;;
fs_type)
	# --type fs: every fs check gets its verdict; the fs device and the
	# multi-queue scenario's queues=3 reach vuvm; what the backend left
	# under @DIR@ (a shared directory with files) is removed.
	FAKE_IDS=$("$check" --list --type fs | awk '{ print $1 }')
	nfs=$(echo "$FAKE_IDS" | wc -l)
	[ "$nfs" -ge 12 ] || complain "only $nfs fs checks"
	export FAKE_IDS FAKE_ARGS="$tmp/args"
	"$check" --vuvm "$fake" --type fs --timeout 5 --backend \
		"mkdir -p @DIR@/shared/d && echo x >@DIR@/shared/d/f && exec $good_backend" \
		>"$tmp/out" 2>"$tmp/err"
	status=$?
	want_status 0
	count '^ok [0-9]+ - ' "$nfs"
	grep -q '^fs,socket=.*,queues=3$' "$tmp/args" ||
		complain "no fs device with queues=3 given to vuvm"
	grep -q '^check,scenario=fs-layout$' "$tmp/args" ||
		complain "no fs-layout scenario run"
	left=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'vuvm-check-*')
	[ -z "$left" ] || complain "left behind: $left"
	;;
*)
	echo "unknown case $case"
	exit 2
	;;
esac
[ $fail = 0 ] || { echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"; }
exit $fail
