#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs one command (normally vuvm) and checks its exit status and output.
#
#   run_vuvm.sh [-K|-k] [-o ERE] [-O ERE] [-e ERE] [-E ERE] STATUS CMD [ARG...]
#
# STATUS is an extended regex for the exit status ("0", "52|121"). -o/-e:
# stdout/stderr must match ERE; -O/-E: they must not. Each option may be
# given several times: every ERE counts. Sanitizer reports on stderr
# always fail. Exits 77 (skip) when /dev/kvm does not exist and CMD needs
# KVM: with -K it does, with -k it does not (vuvm --help); without either,
# CMD needs KVM when it is vuvm itself.
set -u

# Lists of EREs, one per line.
nl='
'
want_out= deny_out= want_err= deny_err= kvm=
while getopts Kko:O:e:E: opt; do
	case $opt in
	K) kvm=1 ;;
	k) kvm=0 ;;
	o) want_out=$want_out$OPTARG$nl ;;
	O) deny_out=$deny_out$OPTARG$nl ;;
	e) want_err=$want_err$OPTARG$nl ;;
	E) deny_err=$deny_err$OPTARG$nl ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
want_status=$1
shift

if [ -z "$kvm" ]; then
	case ${1##*/} in
	vuvm) kvm=1 ;;
	*) kvm=0 ;;
	esac
fi
if [ "$kvm" = 1 ] && [ ! -e /dev/kvm ]; then
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
# check LIST FILE WANT NAME: every ERE of LIST must (WANT=1) or must not
# (WANT=0) match FILE.
check() {
	while IFS= read -r ere; do
		[ -n "$ere" ] || continue
		if grep -qE -- "$ere" "$2"; then
			[ "$3" = 1 ] || complain "$4 matches /$ere/"
		else
			[ "$3" = 0 ] || complain "$4 does not match /$ere/"
		fi
	done <<EOF
$1
EOF
}
check "$want_out" "$tmp/out" 1 stdout
check "$deny_out" "$tmp/out" 0 stdout
check "$want_err" "$tmp/err" 1 stderr
check "$deny_err" "$tmp/err" 0 stderr
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
