#!/bin/sh
# Installs the Debian packages chromereaper builds and tests with, when they
# are missing: as root with apt-get, otherwise prints the exact command.
set -eu
PKGS="libcriterion-dev uthash-dev chromium chromium-driver python3-selenium pkg-config gcc make"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq $missing >&2
else
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
