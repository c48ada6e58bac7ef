#!/bin/sh
# make-deb.sh -- build the binary Debian package: `make deb`.
#
# dpkg-buildpackage wants debian/ at the top of the source tree and writes
# its results into the tree's parent directory; neither belongs in the
# repository.  So this copies the tree (git's tracked files plus untracked
# ones that are not ignored, so local edits are packaged as they are; a
# plain copy without the build directories outside git) to
# build/deb/stackd-VERSION/, adds packaging/debian there as debian/, runs
# `dpkg-buildpackage -us -uc -b` in it, and copies the package to
# build/stackd_VERSION_ARCH.deb.  The rest of dpkg's output (.changes,
# .buildinfo, the -dbgsym package) stays in build/deb/.  When lintian is
# installed it checks the result and any error fails the build.
set -eu
cd "$(dirname "$0")/.."

version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
made=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile)
if [ "$version" != "$made" ]; then
	echo "make-deb: packaging/debian/changelog is at $version but the" \
	    "Makefile's VERSION is $made: add a changelog entry" >&2
	exit 1
fi

top=build/deb
src=$top/stackd-$version
rm -rf "$top"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# --ignore-failed-read: a tracked file deleted in the work tree is
	# left out, as it would be from a commit.
	git ls-files -z --cached --others --exclude-standard |
	    tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$src"
else
	tar --exclude=./.git --exclude=./build --exclude='./build-*' \
	    -cf - . | tar -xf - -C "$src"
fi
rm -rf "$src/debian"
cp -R packaging/debian "$src/debian"

(cd "$src" && dpkg-buildpackage -us -uc -b)

deb=$(ls "$top"/stackd_"$version"_*.deb)
cp "$deb" build/
echo "make-deb: build/$(basename "$deb")"
if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error --info "$top"/stackd_"$version"_*.changes
	echo "make-deb: lintian found no errors"
else
	echo "make-deb: lintian is not installed, package not checked" >&2
fi
