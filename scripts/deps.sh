#!/bin/sh
# deps.sh PKG... - make sure the named Debian packages are installed.
# As root, installs the missing ones with apt-get (running apt-get update
# first if the package lists are stale or empty).  Otherwise prints the exact
# command to run and exits 1.  On a system without dpkg it only warns: the
# build will then say what it cannot find.
set -u
command -v dpkg-query >/dev/null 2>&1 || {
    echo "deps.sh: not a Debian system; make sure these are installed: $*" >&2
    exit 0
}
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing Debian packages:$missing" >&2
    echo "deps.sh: run:  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
    apt-get update >/dev/null &&
    apt-get install -y --no-install-recommends $missing
} || { echo "deps.sh: apt-get install$missing failed" >&2; exit 1; }
