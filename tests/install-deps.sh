#!/bin/sh
# Installs the Debian 12 packages that building and testing vuvm needs.
# Non-interactive; uses sudo when not run as root.
set -eu

# qemu-system-common (qemu-storage-daemon), qemu-utils (qemu-img), dpdk
# (dpdk-testpmd), dpdk-dev and librte-net-vhost23 (the vhost PMD): the
# third-party vhost-user backends tests/e2e runs vuvm against;
# librte-net-virtio23 (net_virtio_user, DPDK's own frontend, which
# tests/bench/compare.sh compares vuvm with). scdoc (the man pages),
# libjansson-dev and pkg-config (JSON for vuvm-probe and vuvm-check), lintian (the Debian
# package's check in tests/package/deb_cycle.sh), libseccomp-dev (vuvm's
# per-thread system call filters, vmm/seccomp.c).
packages="build-essential cmake clang libclang-rt-14-dev libfdt-dev libseccomp-dev
	qemu-system-common qemu-utils dpdk dpdk-dev librte-net-vhost23
	librte-net-virtio23 scdoc libjansson-dev pkg-config lintian"

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
else
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$sudo apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "install-deps: $packages"
