#!/bin/sh
# need-debs.sh PKG... -- make sure Debian packages are installed.
# As root, install what is missing with apt-get; otherwise print the exact
# command to run and fail.  Silent when everything is there, and a no-op on
# systems without dpkg (the build then fails with the compiler's own error).
command -v dpkg-query >/dev/null 2>&1 || exit 0
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "need-debs: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 &&
	    apt-get install -y -qq --no-install-recommends $missing >&2 ||
	    { echo "need-debs: apt-get failed" >&2; exit 1; }
else
	echo "need-debs: missing packages; run as root:" >&2
	echo "    apt-get install$missing" >&2
	exit 1
fi
