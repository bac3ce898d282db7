#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks libvuvm-vhost.so's public face: its soname, and that it exports
# the vhu_ API (at version VUVM_VHOST_0) and nothing else.
#
#   lib_exports.sh LIBVUVM-VHOST.SO
set -u
[ $# -eq 1 ] || { echo "usage: lib_exports.sh LIB.so" >&2; exit 2; }
lib=$1
status=0

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "libvuvm-vhost.so.0" ]; then
	echo "FAIL: soname '$soname', expected libvuvm-vhost.so.0"
	status=1
fi
# Defined dynamic symbols, without the version node's own (absolute) one.
syms=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }')
others=$(printf '%s\n' "$syms" | grep -v '^vhu_')
if [ -n "$others" ]; then
	echo "FAIL: exported beyond the vhu_ API:" $others
	status=1
fi
# The API a frontend needs, and every one at the library's version.
for sym in vhu_connect vhu_negotiate vhu_get_config vhu_frontend_error \
	vhu_protocol_feature_name vhu_backend_init; do
	if ! printf '%s\n' "$syms" | grep -qx "$sym@@VUVM_VHOST_0"; then
		echo "FAIL: $sym@@VUVM_VHOST_0 is not exported"
		status=1
	fi
done
[ $status -ne 0 ] ||
	echo "ok: $(printf '%s\n' "$syms" | wc -l) vhu_ symbols, soname $soname"
exit $status
