#!/bin/sh
# SPDX-License-Identifier: MIT
# A benchmark workload end to end, checked for consistency, never speed.
#
#   bench_e2e.sh VUVM BACKEND TYPE "BACKEND ARGS" "DEVICE OPTS" TEST
#
# Starts `BACKEND TYPE --socket-path SOCK BACKEND ARGS`, runs
# `VUVM --json --device TYPE,socket=SOCK DEVICE OPTS --test TEST`, and
# checks the one JSON object it prints (json_flat.awk parses it): requests
# > 0 and == count= when given, errors == 0, min <= p50 <= p90 <= p99 <=
# p99.9 <= max, per-queue requests and errors summing to the totals, and
# each queue's p50 <= p99 <= max. Exits 77 (skip) only when /dev/kvm does
# not exist.
set -u

vuvm=$1 backend=$2 type=$3 be_args=$4 dev_opts=$5 test=$6
here=$(dirname "$0")

if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# with_backend.sh runs the backend; it prints only when something failed.
sh "$here/../e2e/with_backend.sh" \
	"$backend $type --socket-path @SOCK@ $be_args" -- \
	"$vuvm" --json --device "$type,socket=@SOCK@$dev_opts" --timeout 60 \
	--test "$test" >"$tmp/out" 2>"$tmp/err"
status=$?
cat "$tmp/out"
[ -s "$tmp/err" ] && sed 's/^/stderr: /' "$tmp/err"

if [ $status -ne 0 ]; then
	echo "FAIL: vuvm exited $status, expected 0"
	exit 1
fi
if [ "$(wc -l <"$tmp/out")" -ne 1 ]; then
	echo "FAIL: expected exactly one JSON line"
	exit 1
fi
awk -f "$here/json_flat.awk" "$tmp/out" >"$tmp/flat" || {
	cat "$tmp/flat"
	echo "FAIL: the JSON does not parse"
	exit 1
}

# The checks, over path=value lines; every failed check prints its line.
awk -F= '
	{ v[$1] = $2 }
	function need(ok, what) {
		if (!ok) {
			print "FAIL: " what
			bad = 1
		}
	}
	function ordered(p, q,   a, b) {
		a = v[p]; b = v[q]
		need(a != "" && b != "" && a + 0 <= b + 0,
		     p " (" a ") <= " q " (" b ")")
	}
	END {
		need(v["requests"] + 0 > 0, "requests > 0")
		need(v["errors"] == "0", "errors == 0 (" v["errors"] ")")
		if ("count" in v)
			need(v["requests"] == v["count"],
			     "requests (" v["requests"] ") == count (" \
			     v["count"] ")")
		ordered("lat_ns.min", "lat_ns.p50")
		ordered("lat_ns.p50", "lat_ns.p90")
		ordered("lat_ns.p90", "lat_ns.p99")
		ordered("lat_ns.p99", "lat_ns.p99_9")
		ordered("lat_ns.p99_9", "lat_ns.max")
		need(v["lat_ns.min"] + 0 > 0, "lat_ns.min > 0")
		for (q = 0; ("per_queue." q ".requests") in v; q++) {
			k = "per_queue." q
			need(v[k ".requests"] + 0 > 0, k ".requests > 0")
			reqs += v[k ".requests"]
			errs += v[k ".errors"]
			ordered(k ".p50", k ".p99")
			ordered(k ".p99", k ".max")
			need(v[k ".max"] + 0 <= v["lat_ns.max"] + 0,
			     k ".max <= lat_ns.max")
		}
		need(q > 0 && q == v["queues"] + 0,
		     q " per_queue entries for queues=" v["queues"])
		need(reqs == v["requests"] + 0,
		     "per-queue requests sum (" reqs ") == requests")
		need(errs == v["errors"] + 0, "per-queue errors sum == errors")
		exit bad
	}' "$tmp/flat" || exit 1
echo "PASS: the JSON parses and its figures are consistent"
exit 0
