#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks that a program's --help and its man page list the same long
# options: every --option the help prints is in the man page's OPTIONS
# section, and every one there is in the help.
#
#   man_options.sh PROGRAM MANPAGE.1
set -u
[ $# -eq 2 ] || { echo "usage: man_options.sh PROGRAM MANPAGE.1" >&2; exit 2; }
prog=$1 page=$2
dir=$(mktemp -d /tmp/vuvm-man.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT

# The long options in text: "--name" tokens, one a line, sorted, unique;
# not those of another of vuvm's programs ("(vuvm --control SOCKET)").
self=$(basename "$prog")
options() {
	grep -oE -- '([a-z][a-z-]* )?--[a-z][a-z0-9-]*' |
		awk -v self="$self" 'NF == 1 || $1 !~ /^vuvm/ || $1 == self {
			print $NF }' | sort -u
}

if ! "$prog" --help >"$dir/help.txt"; then
	echo "FAIL: $prog --help exited with status $?"
	exit 1
fi
options <"$dir/help.txt" >"$dir/help"
# roff: drop escapes (\fB, \-) and keep the lines of the OPTIONS section.
sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' "$page" |
	awk '/^\.SH/ { in_opts = ($2 == "OPTIONS") } in_opts' |
	options >"$dir/man"

if [ ! -s "$dir/help" ] || [ ! -s "$dir/man" ]; then
	echo "FAIL: no options found in the help ($(wc -l <"$dir/help")) or the man page ($(wc -l <"$dir/man"))"
	exit 1
fi
status=0
for opt in $(comm -23 "$dir/help" "$dir/man"); do
	echo "FAIL: $opt is in $(basename "$prog") --help but not in $page"
	status=1
done
for opt in $(comm -13 "$dir/help" "$dir/man"); do
	echo "FAIL: $opt is in $page but not in $(basename "$prog") --help"
	status=1
done
[ $status -ne 0 ] || echo "ok: $(wc -l <"$dir/help") options in both"
exit $status
