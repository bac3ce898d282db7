#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs one command (normally vuvm) and checks its exit status and output.
#
#   run_vuvm.sh [-o ERE] [-O ERE] [-e ERE] [-E ERE] STATUS CMD [ARG...]
#
# STATUS is an extended regex for the exit status ("0", "52|121"). -o/-e:
# stdout/stderr must match ERE; -O/-E: they must not. Sanitizer reports on
# stderr always fail. Exits 77 (skip) only when /dev/kvm does not exist.
set -u

want_out= deny_out= want_err= deny_err=
while getopts o:O:e:E: opt; do
	case $opt in
	o) want_out=$OPTARG ;;
	O) deny_out=$OPTARG ;;
	e) want_err=$OPTARG ;;
	E) deny_err=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
want_status=$1
shift

if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
"$@" >"$tmp/out" 2>"$tmp/err"
status=$?
fail=0

complain() {
	echo "FAIL: $*"
	fail=1
}

echo "$status" | grep -qxE "$want_status" ||
	complain "exit status $status, wanted $want_status"
[ -z "$want_out" ] || grep -qE -- "$want_out" "$tmp/out" ||
	complain "stdout does not match /$want_out/"
[ -z "$deny_out" ] || ! grep -qE -- "$deny_out" "$tmp/out" ||
	complain "stdout matches /$deny_out/"
[ -z "$want_err" ] || grep -qE -- "$want_err" "$tmp/err" ||
	complain "stderr does not match /$want_err/"
[ -z "$deny_err" ] || ! grep -qE -- "$deny_err" "$tmp/err" ||
	complain "stderr matches /$deny_err/"
! grep -qE 'Sanitizer|runtime error:' "$tmp/err" ||
	complain "sanitizer report on stderr"

if [ $fail -ne 0 ]; then
	echo "command: $*"
	echo "--- stdout"; head -c 4000 "$tmp/out"
	echo "--- stderr"; head -c 4000 "$tmp/err"
	exit 1
fi
echo "PASS: $* -> $status"
exit 0
