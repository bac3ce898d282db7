#!/bin/sh
# SPDX-License-Identifier: MIT
# The comparison of issue 6: the notification floor, vuvm against its own
# reference backends, against qemu-storage-daemon (null-co) and DPDK
# testpmd (macswap), and DPDK's own userspace frontend (net_virtio_user)
# against the same testpmd, side by side in one run. Each configuration
# runs RUNS times (one second each); the table gives medians and ratios.
# Issue 13's packed rows: blk-bench QD1/QD32 with ring=packed against
# vuvm-backend, net-bench 64 B batch=32 through testpmd macswap with split
# and packed rings, and net_virtio_user with packed_vq=1 as the packed
# ceiling.
#
#   tests/bench/compare.sh [BUILD_DIR [RUNS [SECONDS]]]
#
# Defaults: build, 5 runs, 1 second per run (net_virtio_user: 5 + SECONDS
# seconds, of which the first two stats are dropped).
#
# Writes tests/bench/out/latency.svg, qd.svg, results.txt and the raw
# JSON lines (raw.txt). Every backend is started and stopped by
# tests/e2e/with_backend.sh in a private temp dir. vuvm runs pinned to
# CPU 0; the busy-polling backends (testpmd's forwarding lcore) on CPU 1.
# See docs/benchmarks.md, "Comparison".
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
runs=${2:-5}
secs=${3:-1}
case $build in /*) ;; *) build=$PWD/$build ;; esac
[ -e /dev/kvm ] || { echo "SKIP: /dev/kvm does not exist"; exit 77; }
cmake --build "$build" --target vuvm vuvm-backend eventfd_pingpong >/dev/null

vuvm=$build/vmm/vuvm
be=$build/vhost/backends/vuvm-backend
pingpong=$build/tests/vmm/eventfd_pingpong
with="sh $root/tests/e2e/with_backend.sh -w 20"
out=$root/tests/bench/out
mkdir -p "$out"
tmp=$(mktemp -d /tmp/vuvm-compare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
raw=$out/raw.txt
: >"$raw"

have_qsd=; command -v qemu-storage-daemon >/dev/null && have_qsd=1
have_dpdk=; command -v dpdk-testpmd >/dev/null && have_dpdk=1

BE_BLK="$be blk --socket-path @SOCK@ --size 64M"
BE_NET="$be net --socket-path @SOCK@"
QSD="qemu-storage-daemon --blockdev driver=null-co,node-name=n0,size=67108864 --export type=vhost-user-blk,id=e0,addr.type=unix,addr.path=@SOCK@,writable=on,node-name=n0"
# As in tests/e2e: testpmd's main lcore on CPU 0 (it sleeps between
# stats), its forwarding lcore busy-polls on CPU 1.
MACSWAP="env RUNTIME_DIRECTORY=@DIR@ dpdk-testpmd --no-huge -m 128 --no-pci -l 0,1 --file-prefix=cmp-macswap --vdev net_vhost0,iface=@SOCK@,queues=1 -- --total-num-mbufs=2048 --forward-mode=macswap --auto-start --stats-period 100"

# vuvm BACKEND DEVICE TEST: one run, prints vuvm's JSON line.
vuvm_run() {
	$with "$1" -- taskset -c 0 "$vuvm" --json --device "$2" \
		--test "$3" --timeout 30 >"$tmp/run" 2>&1 || {
		cat "$tmp/run" >&2
		echo "FAIL: $3 against ${1%% *}" >&2
		return 1
	}
	grep '^{' "$tmp/run" | tail -1
}

# First value of KEY in a JSON line (lat_ns comes before per_queue).
jget() {
	printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" |
		head -1
}
jfirst() {
	printf '%s\n' "$2" | sed -n "s/[^{]*\"$1\":\([0-9.]*\).*/\1/p"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1;
		if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# series NAME BACKEND DEVICE TEST: RUNS runs; keeps p50 (us), the other
# percentiles, and the rate of each in $tmp/NAME.*
series() {
	name=$1; i=0
	: >"$tmp/$name.rate"; : >"$tmp/$name.lat"
	while [ $i -lt "$runs" ]; do
		j=$(vuvm_run "$2" "$3" "$4") || return 1
		echo "$name $j" >>"$raw"
		rate=$(jget iops "$j"); [ -n "$rate" ] || rate=$(jget frames_per_s "$j")
		echo "$rate" >>"$tmp/$name.rate"
		lat=$(printf '%s\n' "$j" | sed 's/.*"lat_ns":{\([^}]*\)}.*/\1/')
		echo "$lat" >>"$tmp/$name.lat"
		i=$((i + 1))
	done
}

# lat NAME PCT: median over the runs of that latency percentile, in us.
lat() {
	while read -r l; do jget "$2" "{$l}"; done <"$tmp/$1.lat" |
		median | awk '{ printf "%.1f", $1 / 1000 }'
}
rate() { median <"$tmp/$1.rate" | awk '{ printf "%d", $1 }'; }
# spread NAME: the lowest and highest rate over the runs.
spread() { sort -n "$tmp/$1.rate" | awk 'NR == 1 { lo = $1 } { hi = $1 }
	END { printf "%d..%d", lo, hi }'; }

# vuser NAME VDEV_ARGS: RUNS runs of testpmd on net_virtio_user (VDEV_ARGS
# appended to its --vdev) against macswap; Rx-pps of each in $tmp/NAME.rate.
vuser() {
	: >"$tmp/$1.rate"
	i=0
	while [ $i -lt "$runs" ]; do
		$with "$MACSWAP" -- sh -c "mkdir @DIR@/vu && RUNTIME_DIRECTORY=@DIR@/vu timeout -s INT $((5 + secs)) dpdk-testpmd --no-huge -m 128 --no-pci -l 0,1 --main-lcore 1 --file-prefix=cmp-vuser --vdev net_virtio_user0,path=@SOCK@,queues=1$2 -- --total-num-mbufs=2048 --forward-mode=io --tx-first --auto-start --stats-period 1 </dev/null; true" >"$tmp/vu.out" 2>&1 || {
			cat "$tmp/vu.out" >&2; echo "FAIL: net_virtio_user$2" >&2; exit 1; }
		v=$(awk '/Rx-pps:/ { n++; if (n > 2) print $2 }' "$tmp/vu.out" | median) || {
			cat "$tmp/vu.out" >&2; echo "FAIL: no Rx-pps from net_virtio_user$2" >&2; exit 1; }
		echo "$1 $v" >>"$raw"
		echo "$v" >>"$tmp/$1.rate"
		i=$((i + 1))
	done
}

echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  host: $(uname -r), $(nproc) cpus, $runs runs each"

# 1. The floors.
: >"$tmp/efd"
i=0
while [ $i -lt "$runs" ]; do
	"$pingpong" 20000 0 1 | awk '{ print $3 }' >>"$tmp/efd"
	i=$((i + 1))
done
efd=$(median <"$tmp/efd")
echo "eventfd ping-pong CPU 0 <-> 1: $(tr '\n' ' ' <"$tmp/efd")us"
: >"$tmp/efd0"
i=0
while [ $i -lt "$runs" ]; do
	"$pingpong" 20000 0 0 | awk '{ print $3 }' >>"$tmp/efd0"
	i=$((i + 1))
done
efd0=$(median <"$tmp/efd0")

series floor "$BE_BLK" blk,socket=@SOCK@ blk-bench,rw=randread,qd=1,seconds=$secs
# 2. vuvm against the reference backends.
series ref_qd32 "$BE_BLK" blk,socket=@SOCK@ blk-bench,rw=randread,qd=32,seconds=$secs
series ref_net1 "$BE_NET" net,socket=@SOCK@ net-bench,dir=rtt,size=64,batch=1,seconds=$secs
series ref_net32 "$BE_NET" net,socket=@SOCK@ net-bench,dir=rtt,size=64,batch=32,seconds=$secs
# 3. qemu-storage-daemon null-co and DPDK testpmd macswap.
if [ -n "$have_qsd" ]; then
	series qsd_qd1 "$QSD" blk,socket=@SOCK@ blk-bench,rw=randread,qd=1,seconds=$secs
	series qsd_qd32 "$QSD" blk,socket=@SOCK@ blk-bench,rw=randread,qd=32,seconds=$secs
fi
# 2b. Packed rings (issue 13) against the reference blk backend.
series pk_qd1 "$BE_BLK" blk,socket=@SOCK@ blk-bench,rw=randread,qd=1,seconds=$secs,ring=packed
series pk_qd32 "$BE_BLK" blk,socket=@SOCK@ blk-bench,rw=randread,qd=32,seconds=$secs,ring=packed
if [ -n "$have_dpdk" ]; then
	series dpdk_net1 "$MACSWAP" net,socket=@SOCK@ net-bench,dir=rtt,size=64,batch=1,seconds=$secs
	series dpdk_net32 "$MACSWAP" net,socket=@SOCK@ net-bench,dir=rtt,size=64,batch=32,seconds=$secs
	series dpdk_net32_pk "$MACSWAP" net,socket=@SOCK@ net-bench,dir=rtt,size=64,batch=32,seconds=$secs,ring=packed
	# 4. DPDK's own frontend: a second testpmd on net_virtio_user, io
	# forwarding on its one port with --tx-first: one burst of 32
	# 64-byte frames circulates through macswap and back, the same
	# round trip with 32 in flight as net-bench batch=32. Its forwarding
	# lcore is on CPU 0 (where vuvm's vCPU runs), its main lcore on
	# CPU 1 (asleep between stats, beside macswap's poller). Rx-pps of
	# the per-second stats after the first two, median per run.
	vuser vu ""
	# The same with packed rings (packed_vq=1): the packed ceiling.
	vuser vu_pk ",packed_vq=1"
fi

# 5. The table.
fl=$(lat floor p50)
fr=$(rate floor)
row() { # LABEL p50 RATE RATIO [SPREAD]
	printf '%-50s %7s %9s %-21s %s\n' "$1" "$2" "$3" "$4" "${5:-}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
{
echo
echo "floor = blk-bench randread 4 KiB QD1 poll against vuvm-backend (RAM):"
echo "guest kick (ioeventfd exit) -> backend thread wakes -> used ring -> polling guest sees it"
echo
row "configuration (medians of $runs runs)" "p50 us" "rate/s" "ratio" "rate min..max"
row "eventfd ping-pong, 2 processes, CPU 0 <-> 1" "$(awk -v v="$efd" 'BEGIN { printf "%.1f", v }')" - "$(ratio "$efd" "$fl") of floor p50"
row "eventfd ping-pong, 2 processes, both on CPU 0" "$(awk -v v="$efd0" 'BEGIN { printf "%.1f", v }')" - "$(ratio "$efd0" "$fl") of floor p50"
row "FLOOR vuvm blk QD1 poll, vuvm-backend" "$fl" "$fr" "1.00x" "$(spread floor)"
row "vuvm blk QD32 poll, vuvm-backend" "$(lat ref_qd32 p50)" "$(rate ref_qd32)" "$(ratio "$(rate ref_qd32)" "$fr") floor rate" "$(spread ref_qd32)"
row "vuvm net rtt 64 B batch=1, vuvm-backend" "$(lat ref_net1 p50)" "$(rate ref_net1)" "$(ratio "$(lat ref_net1 p50)" "$fl") floor p50" "$(spread ref_net1)"
row "vuvm net rtt 64 B batch=32, vuvm-backend" "$(lat ref_net32 p50)" "$(rate ref_net32)" "$(ratio "$(rate ref_net32)" "$fr") floor rate" "$(spread ref_net32)"
row "vuvm blk QD1 poll packed, vuvm-backend" "$(lat pk_qd1 p50)" "$(rate pk_qd1)" "$(ratio "$(lat pk_qd1 p50)" "$fl") floor p50" "$(spread pk_qd1)"
row "vuvm blk QD32 poll packed, vuvm-backend" "$(lat pk_qd32 p50)" "$(rate pk_qd32)" "$(ratio "$(rate pk_qd32)" "$(rate ref_qd32)") split QD32" "$(spread pk_qd32)"
if [ -n "$have_qsd" ]; then
	row "vuvm blk QD1 poll, qsd null-co" "$(lat qsd_qd1 p50)" "$(rate qsd_qd1)" "$(ratio "$(lat qsd_qd1 p50)" "$fl") floor p50" "$(spread qsd_qd1)"
	row "vuvm blk QD32 poll, qsd null-co" "$(lat qsd_qd32 p50)" "$(rate qsd_qd32)" "$(ratio "$(rate qsd_qd32)" "$(rate qsd_qd1)") qsd QD1 rate" "$(spread qsd_qd32)"
fi
if [ -n "$have_dpdk" ]; then
	row "vuvm net rtt 64 B batch=1, testpmd macswap" "$(lat dpdk_net1 p50)" "$(rate dpdk_net1)" "$(ratio "$(lat dpdk_net1 p50)" "$fl") floor p50" "$(spread dpdk_net1)"
	row "vuvm net rtt 64 B batch=32, testpmd macswap" "$(lat dpdk_net32 p50)" "$(rate dpdk_net32)" "$(ratio "$(rate dpdk_net32)" "$(rate vu)") virtio_user" "$(spread dpdk_net32)"
	row "testpmd net_virtio_user io 32 in flight, macswap" - "$(rate vu)" "1.00x" "$(spread vu)"
	row "vuvm net rtt 64 B batch=32 packed, testpmd macswap" "$(lat dpdk_net32_pk p50)" "$(rate dpdk_net32_pk)" "$(ratio "$(rate dpdk_net32_pk)" "$(rate vu_pk)") virtio_user packed" "$(spread dpdk_net32_pk)"
	row "testpmd net_virtio_user packed_vq=1 io 32, macswap" - "$(rate vu_pk)" "1.00x" "$(spread vu_pk)"
fi
echo
echo "targets:"
if [ -n "$have_qsd" ]; then
	r=$(awk -v a="$(lat qsd_qd1 p50)" -v b="$fl" 'BEGIN { print a / b }')
	awk -v r="$r" 'BEGIN { printf "  QD1 qsd null-co p50 within 1.5x of the floor: %.2fx  %s\n", r, (r <= 1.5 ? "MET" : "MISSED") }'
	r=$(awk -v a="$(rate qsd_qd32)" -v b="$(rate qsd_qd1)" 'BEGIN { print a / b }')
	awk -v r="$r" 'BEGIN { printf "  QD32 >= 10x QD1 IOPS (qsd null-co): %.1fx  %s\n", r, (r >= 10 ? "MET" : "MISSED") }'
fi
r=$(awk -v a="$(rate ref_qd32)" -v b="$fr" 'BEGIN { print a / b }')
awk -v r="$r" 'BEGIN { printf "  QD32 >= 10x QD1 IOPS (vuvm-backend): %.1fx  %s\n", r, (r >= 10 ? "MET" : "MISSED") }'
if [ -n "$have_dpdk" ]; then
	r=$(awk -v a="$(rate dpdk_net32)" -v b="$(rate vu)" 'BEGIN { print a / b }')
	awk -v r="$r" 'BEGIN { printf "  net-bench 64 B rtt via testpmd >= 50%% of net_virtio_user: %.0f%%  %s\n", r * 100, (r >= 0.5 ? "MET" : "MISSED") }'
	r=$(awk -v a="$(rate dpdk_net32_pk)" -v b="$(rate vu_pk)" 'BEGIN { print a / b }')
	awk -v r="$r" 'BEGIN { printf "  packed net-bench 64 B batch=32 via testpmd >= 100%% of net_virtio_user packed_vq=1: %.0f%%  %s\n", r * 100, (r >= 1 ? "MET" : "MISSED") }'
fi
} | tee "$out/results.txt"

# 6. The plots. Latency percentiles, QD1 (medians over the runs).
{
	for p in min p50 p90 p99 p99_9 max; do
		x=$(echo "$p" | sed 's/_/./')
		echo "vuvm-backend $x $(lat floor $p)"
		[ -z "$have_qsd" ] || echo "qsd-null-co $x $(lat qsd_qd1 $p)"
	done
} | awk -v title="blk-bench randread 4 KiB QD1 poll: latency percentiles" \
	-v xlabel="percentile (median of $runs runs)" -v ylabel="latency, us" \
	-f "$root/tests/bench/svgchart.awk" >"$out/latency.svg"
# Throughput against queue depth, one run per point.
{
	for qd in 1 2 4 8 16 32; do
		j=$(vuvm_run "$BE_BLK" blk,socket=@SOCK@ blk-bench,rw=randread,qd=$qd,seconds=$secs)
		echo "qd_be$qd $j" >>"$raw"
		echo "vuvm-backend $qd $(jget iops "$j")"
		[ -n "$have_qsd" ] || continue
		j=$(vuvm_run "$QSD" blk,socket=@SOCK@ blk-bench,rw=randread,qd=$qd,seconds=$secs)
		echo "qd_qsd$qd $j" >>"$raw"
		echo "qsd-null-co $qd $(jget iops "$j")"
	done
} | awk -v title="blk-bench randread 4 KiB poll: IOPS against queue depth" \
	-v xlabel="queue depth (one queue, one vCPU)" -v ylabel="IOPS" \
	-f "$root/tests/bench/svgchart.awk" >"$out/qd.svg"
echo "plots: $out/latency.svg $out/qd.svg"
