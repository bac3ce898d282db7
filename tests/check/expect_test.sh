#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs vuvm-check against a backend and compares every verdict with an
# expected-results file (tests/check/expected/*.txt: "ID RESULT" lines,
# RESULT one of pass, fail, warn, skip; '#' starts a comment). A check
# missing from the file, or a verdict that differs, fails the test: a
# change in vuvm that loses a finding about a third-party backend, or a new
# check nobody has judged against it yet, shows here.
#
#   expect_test.sh EXPECTED VUVM-CHECK ARG...
# Exits 77 (skip) only when /dev/kvm does not exist, or when
# VUVM_EXPECT_ROOT names a program the backend is (virtiofsd) and it is
# missing or this is not root.
set -u
expected=$1
shift
if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi
if [ -n "${VUVM_EXPECT_ROOT:-}" ]; then
	if [ ! -x "$VUVM_EXPECT_ROOT" ] || [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root and $VUVM_EXPECT_ROOT"
		exit 77
	fi
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
"$@" --json "$tmp/out.json" >"$tmp/tap"
status=$?
cat "$tmp/tap"
if [ $status -gt 1 ]; then
	echo "FAIL: vuvm-check exited $status"
	exit 1
fi
python3 - "$expected" "$tmp/out.json" <<'PY'
import json, sys
want = {}
for line in open(sys.argv[1]):
    line = line.split('#', 1)[0].split()
    if line:
        want[line[0]] = line[1]
got = {c['id']: c['result'] for c in json.load(open(sys.argv[2]))['checks']}
bad = [f"{i}: expected {want.get(i, '(not listed)')}, got {r}"
       for i, r in got.items() if want.get(i) != r]
bad += [f"{i}: expected {r}, but it did not run" for i, r in want.items()
        if i not in got]
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
