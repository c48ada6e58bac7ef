#!/bin/sh
# lb-register.sh register|deregister -- a load balancer stand-in, run by
# stackd as the web level's on_up and on_down hooks.  It keeps the backend
# list in /tmp/stackd-example/lb.backends, one "stack/level" a line, and
# uses the STACKD_STACK, STACKD_LEVEL and STACKD_EVENT that hooks get.
dir=/tmp/stackd-example
list=$dir/lb.backends
me=${STACKD_STACK:-?}/${STACKD_LEVEL:-?}
mkdir -p "$dir" || exit 1
touch "$list" || exit 1
case $1 in
register)
	grep -qxF "$me" "$list" || echo "$me" >>"$list"
	;;
deregister)
	grep -vxF "$me" "$list" >"$list.tmp"
	mv "$list.tmp" "$list"
	;;
*)
	echo "usage: lb-register.sh register|deregister" >&2
	exit 2
	;;
esac
echo "lb: ${1}ed $me on event ${STACKD_EVENT:-?}; backends: $(wc -l <"$list")"
