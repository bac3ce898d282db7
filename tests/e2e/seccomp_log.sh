#!/bin/sh
# SPDX-License-Identifier: MIT
# --seccomp=log: the vCPU thread is made to call getcwd(2), which no
# thread may (the test hook VUVM_SECCOMP_TEST); vuvm must let it through,
# finish the workload with status 0 and say nothing of a forbidden call,
# and, where this user can read the kernel log, the kernel must have
# logged the call (an audit line with the thread's comm and syscall=79).
#
#   seccomp_log.sh RUN_VUVM.SH VUVM
set -u
run=$1
vuvm=$2

if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi
before=
if dmesg >/dev/null 2>&1; then
	before=$(dmesg | wc -l)
fi
VUVM_SECCOMP_TEST=vcpu sh "$run" -o "SUMMARY: [0-9]+ tests, 0 failures" \
	-e "seccomp: log mode: a system call outside a thread's allow-list" \
	-e "vcpu0: test: calling getcwd" -E "forbidden system call" 0 \
	"$vuvm" --seccomp=log --test probe --timeout 20 || exit 1
if [ -z "$before" ]; then
	echo "the kernel log is not readable here: its line not checked"
	exit 0
fi
# The log line may take a moment to appear.
for _ in 1 2 3 4 5; do
	if dmesg | tail -n +"$((before + 1))" |
		grep -qE 'comm="vcpu0" exe="[^"]*/vuvm".* syscall=79 '; then
		echo "PASS: the kernel logged vcpu0's getcwd"
		exit 0
	fi
	sleep 1
done
echo "FAIL: no audit line for vcpu0's getcwd (syscall=79) in the kernel log"
dmesg | tail -n +"$((before + 1))" | tail -20
exit 1
