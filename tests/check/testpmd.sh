#!/bin/sh
# SPDX-License-Identifier: MIT
# DPDK testpmd as a backend for vuvm-check: a vhost PMD port with one queue
# pair forwarding in macswap mode, offered on SOCK only once it forwards.
#
#   testpmd.sh DIR SOCK
#
# testpmd creates its vhost-user socket while it is still starting and
# closes a connection made then; so it listens on DIR/pmd.sock, and SOCK
# (what vuvm-check waits for) becomes a symbolic link to that socket when
# testpmd's log says its forwarding lcore runs. No huge pages, 128 MiB;
# DPDK's runtime files stay in DIR. Lcore 0 (the main one) is CPU 0 and the
# forwarding lcore, which busy-polls, CPU 1: run vuvm-check on CPU 0
# (taskset -c 0) so that the guest's polling vCPU does not share a CPU
# with it. vuvm-check stops the process group; testpmd exits on SIGTERM,
# and its log then goes to stdout.
set -u
dir=$1 sock=$2
RUNTIME_DIRECTORY=$dir taskset -c 0,1 dpdk-testpmd --no-huge -m 128 \
	--no-pci -l 0,1 --file-prefix="vuvm-check-$$" \
	--vdev "net_vhost0,iface=$dir/pmd.sock,queues=1" -- \
	--total-num-mbufs=2048 --forward-mode=macswap --auto-start \
	--stats-period 100 >"$dir/testpmd.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' TERM INT
until grep -q "forwards packets on" "$dir/testpmd.log" 2>/dev/null; do
	kill -0 $pid 2>/dev/null || {
		cat "$dir/testpmd.log" >&2
		exit 1
	}
	sleep 0.1
done
ln -s "$dir/pmd.sock" "$sock"
wait $pid
wait $pid
cat "$dir/testpmd.log" # into the backend log vuvm-check shows
