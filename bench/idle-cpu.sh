#!/bin/sh
# idle-cpu.sh [SECONDS] -- CPU time stackd uses while idle at the top of a
# 10-process stack with no probes.  The target is zero: with nothing
# scheduled stackd has no timer and sleeps in epoll_wait.  Prints the
# clock ticks used and the wake-ups (context switches) seen; exits 1 if
# stackd used any CPU time.
set -eu
secs=${1:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
{
	printf '[stack]\nname = idle\ncontrol = %s/ctl.sock\n' "$dir"
	printf '[level a]\n[level b]\n'
	for i in 1 2 3 4 5 6 7 8 9 10; do
		l=a; [ "$i" -gt 5 ] && l=b
		printf '[process p%d]\nlevel = %s\ncommand = sleep 100000\n' \
		    "$i" "$l"
	done
} > "$dir/stack.ini"
"$here/build/stackd" -f "$dir/stack.ini" 2>"$dir/log" &
pid=$!
"$here/build/stackctl" -s "$dir/ctl.sock" wait top --timeout 10s 2>/dev/null ||
    { sleep 1; "$here/build/stackctl" -s "$dir/ctl.sock" wait top --timeout 10s; }
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
ctx() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$pid/status"; }
c0=$(cpu); w0=$(ctx)
sleep "$secs"
c1=$(cpu); w1=$(ctx)
echo "stackd idle ${secs}s at the top of 10 processes:" \
    "$((c1 - c0)) clock ticks, $((w1 - w0)) wake-ups"
[ "$((c1 - c0))" -eq 0 ]
