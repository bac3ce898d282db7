#!/bin/sh
# SPDX-License-Identifier: MIT
# fs_manifest_check itself (no guest): a tree that matches its manifest
# passes; a changed byte, a changed size, an extra file, an extra
# directory, a missing file and a missing manifest each fail.
set -u
check=$1
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
fail=0

# FNV-1a 64 of "abc" and of the empty file, by their definition.
mk() {
	rm -rf "$dir/share"
	mkdir -p "$dir/share/t/d0"
	printf abc >"$dir/share/t/d0/f1"
	: >"$dir/share/t/f0"
}
cat >"$dir/out" <<'EOT'
vuvm tiny guest: workload fs-verify
VUVM-JSON: {"workload":"fs-verify","manifest":["t/","t/d0/","t/d0/f1 3 e71fa2190541574b","t/f0 0 cbf29ce484222325"]}
SUMMARY: 1 tests, 0 failures
EOT
expect() { # STATUS WHAT
	"$check" "$dir/out" "$dir/share" >"$dir/log" 2>&1
	st=$?
	if [ $st -ne "$1" ]; then
		echo "FAIL: $2: status $st, wanted $1"
		cat "$dir/log"
		fail=1
	else
		echo "PASS: $2: $(head -1 "$dir/log")"
	fi
}
mk
expect 0 "the tree as listed"
mk; printf abd >"$dir/share/t/d0/f1"
expect 1 "a changed byte"
mk; printf abcd >"$dir/share/t/d0/f1"
expect 1 "a changed size"
mk; : >"$dir/share/t/extra"
expect 1 "an extra file"
mk; mkdir "$dir/share/t/d9"
expect 1 "an extra directory"
mk; rm "$dir/share/t/f0"
expect 1 "a missing file"
mk; sed -i 's/VUVM-JSON/INFO/' "$dir/out"
expect 1 "no manifest"
exit $fail
