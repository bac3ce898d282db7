#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the CI recipe of docs/ci.md (vuvm-ci.sh) as a backend author's job
# would, against vuvm-backend, and checks what it leaves: probe.json,
# summary.md, junit.xml, and its exit status (0, or 77 without /dev/kvm).
# A backend that never starts must fail the job.
#
#   ci_recipe_test.sh [BIN-DIR...]    (BIN-DIRs go first in PATH)
set -u
recipe=$(dirname "$0")/vuvm-ci.sh
for d in "$@"; do
	PATH=$d:$PATH
done
export PATH
dir=$(mktemp -d /tmp/vuvm-ci-test.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
status=0

fail() {
	echo "FAIL: $*"
	status=1
}

if [ -e /dev/kvm ]; then want=0 verdict='failures="0" skipped="0"'; else
	want=77 verdict='failures="0" skipped="2"'; fi
sh "$recipe" blk "$dir/blk" \
	'vuvm-backend blk --socket-path "$VUVM_SOCKET" --size 16M'
st=$?
[ $st -eq $want ] || fail "vuvm-ci.sh blk exited $st, expected $want"
grep -q '"type":"blk"' "$dir/blk/probe.json" &&
	grep -q '"capacity":32768,' "$dir/blk/probe.json" ||
	fail "probe.json: $(cat "$dir/blk/probe.json")"
grep -q "<testsuite name=\"vuvm-blk\" tests=\"3\" $verdict>" \
	"$dir/blk/junit.xml" || fail "junit.xml: $(cat "$dir/blk/junit.xml")"
grep -q '^| probe | pass | ' "$dir/blk/summary.md" ||
	fail "summary.md: $(cat "$dir/blk/summary.md")"

sh "$recipe" rng "$dir/bad" 'echo no backend here'
st=$?
[ $st -eq 1 ] || fail "a backend that never listens: exit $st, expected 1"
grep -q '<failure message="failed (exit 1)"/>' "$dir/bad/junit.xml" ||
	fail "junit.xml: $(cat "$dir/bad/junit.xml")"
grep -q 'no backend here' "$dir/bad/backend.log" || fail "no backend.log"

# The workload steps, with a stand-in for vuvm (this test may run where
# there is no KVM): it wants the backend's socket and prints a JSON line.
cat >"$dir/vuvm" <<'FAKE'
#!/bin/sh
[ "$1" = --device ] && [ -S "${2#*socket=}" ] && [ "$3" = --test ] || exit 9
echo "VUVM-JSON: {\"workload\":\"$4\"}"
[ "$4" != rng,fail ] || exit 1
FAKE
chmod +x "$dir/vuvm"
PATH=$dir:$PATH VUVM_KVM=/dev/null VUVM_WORKLOADS="rng rng,fail" \
	sh "$recipe" rng "$dir/rng" 'vuvm-backend rng --socket-path "$VUVM_SOCKET"'
st=$?
[ $st -eq 1 ] || fail "a failing workload: exit $st, expected 1"
grep -qx '{"workload":"rng"}' "$dir/rng/rng.json" ||
	fail "rng.json: $(cat "$dir/rng/rng.json")"
grep -q '<testsuite name="vuvm-rng" tests="3" failures="1" skipped="0">' \
	"$dir/rng/junit.xml" || fail "junit.xml: $(cat "$dir/rng/junit.xml")"
grep -q '^| rng,fail | failed (exit 1) | ' "$dir/rng/summary.md" ||
	fail "summary.md: $(cat "$dir/rng/summary.md")"

[ $status -ne 0 ] || echo "ok: vuvm-ci.sh ran (exit $want) and left its results"
exit $status
