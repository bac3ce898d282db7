#!/bin/sh
# SPDX-License-Identifier: MIT
#
# vmm/'s layering (issue 11): no include cycle and no call cycle among its
# modules, and only machine.c (and main.c, which calls machine_run()) know
# vmm/machine.h. A module is a file stem: x.c and x.h are one module, and
# x_internal.h is the private half of the module(s) whose names start
# with x (vcpu_internal.h of vcpu, vhost_user_internal.h of vhost_user_*).
#
# Includes come from the #include "vmm/..." lines of vmm/*.[ch]; calls from
# the static library: a module calls another when its object leaves a
# symbol undefined that the other's object defines (nm). Calls through a
# function pointer (the interfaces that break the loops: mmio_signals,
# ioapic_sink, vcpu_exits) are not edges, which is the point of them.
#
# Usage: layering.sh SOURCE-DIR LIBVUVM_CORE.a

set -eu
src=$1
lib=$2
fail=0

# Prints "a -> b -> a" for every pair of modules on a common cycle of the
# edge list on stdin ("from to" lines; transitive closure); nothing when
# the graph is acyclic.
cycles() {
	awk '
	$1 != $2 { edge[$1, $2] = 1; node[$1]; node[$2] }
	END {
		for (k in node) for (i in node) if ((i, k) in edge)
			for (j in node) if ((k, j) in edge) edge[i, j] = 1
		for (i in node) for (j in node)
			if (i < j && (i, j) in edge && (j, i) in edge)
				print i " -> " j " -> " i
	}' | sort -u
}

includes=$(for f in "$src"/vmm/*.[ch]; do
	stem=$(basename "$f" | sed 's/\.[ch]$//')
	sed -n 's|^#include "vmm/\(.*\)\.h".*|\1|p' "$f" |
		while read -r to; do echo "$stem $to"; done
done | awk '
	# x_internal.h including its own module'"'"'s header is no edge.
	$1 ~ /_internal$/ && index($2, substr($1, 1, length($1) - 9)) == 1 { next }
	{ print }')
found=$(echo "$includes" | cycles)
if [ -n "$found" ]; then
	echo "FAIL: include cycles among vmm/ modules:"
	echo "$found"
	fail=1
fi

users=$(grep -l '^#include "vmm/machine.h"' "$src"/vmm/*.[ch] \
	"$src"/tests/vmm/*.c 2>/dev/null | sed 's|.*/||' |
	grep -v -x -e machine.c -e main.c || true)
if [ -n "$users" ]; then
	echo "FAIL: vmm/machine.h is machine.c's; also included by:" $users
	fail=1
fi

# nm -A: "LIB:x.c.o:ADDRESS T name" defined, "LIB:x.c.o: U name" used.
calls=$(nm -A "$lib" 2>/dev/null | awk '
	{ split($1, p, ":"); m = p[2]; sub(/\.c\.o$/, "", m) }
	NF == 3 && $2 ~ /^[TDBR]$/ { def[$3] = m }
	$(NF - 1) == "U" { use[m, $NF] = 1 }
	END { for (k in use) { split(k, q, SUBSEP)
		if (q[2] in def) print q[1], def[q[2]] } }')
if [ -z "$calls" ]; then
	echo "FAIL: no symbols read from $lib"
	exit 1
fi
found=$(echo "$calls" | cycles)
if [ -n "$found" ]; then
	echo "FAIL: call cycles among vmm/ modules:"
	echo "$found"
	fail=1
fi

[ $fail -eq 0 ] && echo "PASS: $(echo "$includes" | wc -l) include and" \
	"$(echo "$calls" | wc -l) call edges, no cycle"
exit $fail
