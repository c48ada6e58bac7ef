#!/bin/sh
# fake-db.sh -- a database stand-in for conf/example.ini.
# Replays its "log" for a second, then writes the ready marker that the db
# level's probe tests, and serves until TERM.  Remove the marker while it
# runs to make the probe fail.
dir=/tmp/stackd-example
mkdir -p "$dir" || exit 1
rm -f "$dir/db.ready"
pid=
stop() {
	echo "fake-db: got TERM, checkpointing and shutting down"
	rm -f "$dir/db.ready"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
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
echo "fake-db: starting as pid $$, replaying the write-ahead log"
nap
echo "$$" >"$dir/db.ready.tmp" && mv "$dir/db.ready.tmp" "$dir/db.ready"
echo "fake-db: ready, accepting connections"
while :; do
	nap
done
