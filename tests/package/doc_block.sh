#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks that a document quotes a file verbatim: the fenced block right
# after the line "<!-- verbatim: NAME -->" (NAME the file's base name)
# must equal the file, so that what the document shows is what is tested.
#
#   doc_block.sh DOC.md FILE
set -u
[ $# -eq 2 ] || { echo "usage: doc_block.sh DOC.md FILE" >&2; exit 2; }
doc=$1 file=$2
name=$(basename "$file")
block=$(mktemp /tmp/vuvm-doc.XXXXXX) || exit 1
trap 'rm -f "$block"' EXIT
awk -v mark="<!-- verbatim: $name -->" '
	$0 == mark { found = 1; next }
	found == 1 && /^```/ { found = 2; next }
	found == 2 && /^```/ { exit }
	found == 2 { print }' "$doc" >"$block"
if [ ! -s "$block" ]; then
	echo "FAIL: $doc has no fenced block after <!-- verbatim: $name -->"
	exit 1
fi
if ! diff -u "$file" "$block"; then
	echo "FAIL: the block in $doc differs from $file (above)"
	exit 1
fi
echo "ok: $doc quotes $name verbatim ($(wc -l <"$file") lines)"
