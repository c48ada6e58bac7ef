#!/bin/sh
# fake-mq.sh -- a message broker stand-in for conf/example.ini.
# It lives at level mq and so may assume level db is up: it checks once and
# exits with an error if not.  Ready after a second, serves until TERM.
dir=/tmp/stackd-example
mkdir -p "$dir" || exit 1
rm -f "$dir/mq.ready"
pid=
stop() {
	echo "fake-mq: got TERM, closing client connections"
	rm -f "$dir/mq.ready"
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
if [ ! -f "$dir/db.ready" ]; then
	echo "fake-mq: cannot reach the database" >&2
	exit 1
fi
echo "fake-mq: starting as pid $$, loading queues from the database"
nap
echo "$$" >"$dir/mq.ready.tmp" && mv "$dir/mq.ready.tmp" "$dir/mq.ready"
echo "fake-mq: ready, 3 queues"
while :; do
	nap
done
