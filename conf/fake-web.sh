#!/bin/sh
# fake-web.sh -- a web server stand-in for conf/example.ini.
# Ready after a second.  While the file web.crash exists it crashes (exit 1)
# at once when started and within a second when running: a crash loop,
# which the web level's intensity turns into a level failure and a rewind.
# On TERM it drains for a second, then exits.
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
# Sleep in the background and wait, so TERM runs the trap at once; dash
# would report the sleep killed by the group's TERM, hence 2>/dev/null.
nap() {
	sleep 1 &
	pid=$!
	wait "$pid" 2>/dev/null
}
crash_if_asked() {
	if [ -e "$dir/web.crash" ]; then
		echo "fake-web: found $dir/web.crash, crashing" >&2
		rm -f "$dir/web.ready"
		exit 1
	fi
}
echo "fake-web: starting as pid $$ on port ${WEB_PORT:-8080}"
crash_if_asked
nap
echo "$$" >"$dir/web.ready.tmp" && mv "$dir/web.ready.tmp" "$dir/web.ready"
echo "fake-web: ready, serving requests"
while :; do
	crash_if_asked
	nap
done
