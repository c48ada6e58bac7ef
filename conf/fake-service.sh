#!/bin/sh
# fake-service.sh NAME WHAT -- a service stand-in for conf/example.ini.
#
# Starts up for a second ("WHAT" says what it pretends to be), then writes
# the ready marker NAME.ready that its level's probe tests, and serves until
# TERM, on which it drains for a moment and exits 0.  Remove the marker
# while it runs to make the probe fail.  While the file NAME.crash exists it
# crashes (exit 1) at once when started and within a second when running:
# a crash loop, which the level's intensity turns into a level failure and
# a rewind.  Everything lives under /tmp/stackd-example.
name=${1:?usage: fake-service.sh NAME WHAT}
what=${2:-service}
dir=/tmp/stackd-example
mkdir -p "$dir" || exit 1
rm -f "$dir/$name.ready"
pid=
stop() {
	echo "$name: got TERM, draining"
	rm -f "$dir/$name.ready"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	sleep 0.5
	echo "$name: drained, bye"
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
	if [ -e "$dir/$name.crash" ]; then
		echo "$name: found $dir/$name.crash, crashing" >&2
		rm -f "$dir/$name.ready"
		exit 1
	fi
}
echo "$name: starting $what as pid $$"
crash_if_asked
nap
echo "$$" >"$dir/$name.ready.tmp" && mv "$dir/$name.ready.tmp" "$dir/$name.ready"
echo "$name: ready"
while :; do
	crash_if_asked
	nap
done
