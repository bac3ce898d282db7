#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs vuvm (or any command) against virtiofsd (QEMU 7.2's C virtiofsd,
# /usr/lib/qemu/virtiofsd from qemu-system-common) sharing a fresh empty
# directory, then checks what fs-verify left there.
#
#   with_virtiofsd.sh [-c CACHE] [-b BACKEND] [-m CHECKER] [-E]
#                     [-x STATUS] [-o ERE]... [-e ERE]... -- COMMAND [ARG...]
#
# In COMMAND, @SOCK@ becomes virtiofsd's socket. The script
#  - starts virtiofsd with -o source=DIR -o cache=CACHE (default none)
#    -o sandbox=chroot (what works as root in a container: namespace
#    needs unshare(2) rights CI containers often lack);
#  - runs COMMAND; its exit status must match the ERE STATUS (default
#    0), its stdout every -o ERE and its stderr every -e ERE;
#  - with -m, runs CHECKER (tests/e2e/fs_manifest_check) on COMMAND's
#    stdout and the shared directory;
#  - with -E, wants the shared directory empty afterwards (fs-bench
#    removes what it made);
#  - expects virtiofsd to exit by itself, with status 0, once vuvm has
#    hung up (it does); kills it otherwise and fails;
#  - with -b BACKEND (one string, split at spaces; @SOCK@ the socket,
#    @SHARE@ the shared directory), runs that backend instead of
#    virtiofsd (vuvm-backend fs: needs neither root nor virtiofsd), with
#    the same expectations;
#  - prints every output when anything failed, then removes DIR.
# Exits 77 when /dev/kvm or virtiofsd is missing or when not root
# (virtiofsd needs root for its sandbox; neither matters with -b), 0 when
# all went as wanted, else 1.
set -u
. "$(dirname "$0")/../time_scale.sh"

vfsd=${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
cache=none checker= want_status=0 want_out= want_err= backend= empty=
nl='
'
while getopts c:b:m:Ex:o:e: opt; do
	case $opt in
	c) cache=$OPTARG ;;
	b) backend=$OPTARG ;;
	E) empty=1 ;;
	m) checker=$OPTARG ;;
	x) want_status=$OPTARG ;;
	o) want_out=$want_out$OPTARG$nl ;;
	e) want_err=$want_err$OPTARG$nl ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift # getopts may have taken it already
[ $# -ge 1 ] || {
	echo "usage: with_virtiofsd.sh [-c CACHE] [-m CHECKER] [-x STATUS] [-o ERE] [-e ERE] -- CMD..." >&2
	exit 2
}

if [ ! -e /dev/kvm ]; then
	echo "SKIP: /dev/kvm does not exist"
	exit 77
fi
if [ -z "$backend" ] && [ ! -x "$vfsd" ]; then
	echo "SKIP: no $vfsd (qemu-system-common)"
	exit 77
fi
if [ -z "$backend" ] && [ "$(id -u)" != 0 ]; then
	echo "SKIP: virtiofsd needs root"
	exit 77
fi

dir=$(mktemp -d /tmp/vuvm-fs.XXXXXX) || exit 1
mkdir "$dir/share" || exit 1
sock=$dir/vfsd.sock
pid=
fail=0

complain() {
	echo "FAIL: $*"
	fail=1
}

cleanup() {
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if [ $fail -ne 0 ]; then
		for f in out err vfsd.log; do
			echo "--- $f"
			head -c 6000 "$dir/$f" 2>/dev/null
		done
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

who=virtiofsd
if [ -n "$backend" ]; then
	who="the backend"
	cmd=$(printf '%s' "$backend" |
		sed -e "s|@SOCK@|$sock|g" -e "s|@SHARE@|$dir/share|g")
	sh -c "exec $cmd" >"$dir/vfsd.log" 2>&1 &
else
	"$vfsd" --socket-path="$sock" -o source="$dir/share" \
		-o cache="$cache" -o sandbox=chroot >"$dir/vfsd.log" 2>&1 &
fi
pid=$!
tries=$(scaled_tries 10000 50)
while [ ! -S "$sock" ]; do
	if ! kill -0 "$pid" 2>/dev/null || [ $tries -le 0 ]; then
		complain "$who did not create its socket"
		exit 1
	fi
	tries=$((tries - 1))
	sleep 0.05
done

n=$#
for a in "$@"; do
	set -- "$@" "$(printf '%s' "$a" | sed -e "s|@SOCK@|$sock|g")"
done
shift "$n"
"$@" >"$dir/out" 2>"$dir/err"
status=$?
echo "$status" | grep -qxE "$want_status" ||
	complain "exit status $status, wanted $want_status"
check() {
	while IFS= read -r ere; do
		[ -n "$ere" ] || continue
		grep -qE -- "$ere" "$2" || complain "$3 does not match /$ere/"
	done <<EOF2
$1
EOF2
}
check "$want_out" "$dir/out" stdout
check "$want_err" "$dir/err" stderr
! grep -qE 'Sanitizer|runtime error:' "$dir/err" ||
	complain "sanitizer report on stderr"
if [ -n "$checker" ]; then
	"$checker" "$dir/out" "$dir/share" || complain "manifest check"
fi
if [ -n "$empty" ] && [ -n "$(ls -A "$dir/share")" ]; then
	complain "the shared directory is not empty: $(ls -A "$dir/share")"
fi

# virtiofsd exits by itself once its client has gone.
for _ in $(seq "$(scaled_tries 5000 100)"); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	complain "$who did not exit after vuvm hung up"
else
	wait "$pid"
	st=$?
	pid=
	[ $st -eq 0 ] || complain "$who exited with status $st"
fi
[ $fail -eq 0 ] && echo "PASS: $* -> $status"
exit $fail
