#!/bin/sh
# fake-web.sh -- a web server stand-in for conf/example.ini.
# Ready after a second.  While the file web.crash exists it crashes (exit 1)
# every second, which shows a restart in place and, when it keeps crashing,
# a level failure and a rewind.  On TERM it drains for a second, then exits.
dir=/tmp/stackd-example
mkdir -p "$dir" || exit 1
rm -f "$dir/web.ready"
pid=
stop() {
	echo "fake-web: got TERM, draining connections"
	rm -f "$dir/web.ready"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	sleep 1
	echo "fake-web: drained, bye"
	exit 0
}
trap stop TERM INT
# Sleep in the background and wait, so TERM runs the trap at once.
nap() {
	sleep 1 &
	pid=$!
	wait "$pid"
}
crash_if_asked() {
	if [ -e "$dir/web.crash" ]; then
		echo "fake-web: found $dir/web.crash, crashing" >&2
		rm -f "$dir/web.ready"
		exit 1
	fi
}
echo "fake-web: starting as pid $$ on port ${WEB_PORT:-8080}"
nap
crash_if_asked
echo "$$" >"$dir/web.ready.tmp" && mv "$dir/web.ready.tmp" "$dir/web.ready"
echo "fake-web: ready, serving requests"
while :; do
	crash_if_asked
	nap
done
