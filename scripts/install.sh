#!/bin/sh
# make install / make uninstall:  scripts/install.sh install|uninstall BUILD
# with DESTDIR and PREFIX in the environment.
#
# The installed layout is what the binaries look for with no variable set:
# chromereaper finds ../lib/chromereaper/libchromereaper.so beside itself,
# the library finds ../../bin/chromereaper beside itself.  Install records
# the directories it had to create (installed-dirs, beside the library), so
# that uninstall removes those, once empty, and no directory it did not make.
set -eu
verb=$1
build=$2
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
libdir=$prefix/lib/chromereaper
record=$destdir$libdir/installed-dirs

# source|target|mode, the target relative to PREFIX
FILES="$build/chromereaper|bin/chromereaper|0755
$build/libchromereaper.so|lib/chromereaper/libchromereaper.so|0644
docs/man/chromereaper.1|share/man/man1/chromereaper.1|0644
docs/man/libchromereaper.7|share/man/man7/libchromereaper.7|0644
completion/chromereaper|share/bash-completion/completions/chromereaper|0644"

# mkdir -p $destdir$1, printing (without DESTDIR) each directory it creates
# below DESTDIR (a DESTDIR that does not exist yet is made, not recorded)
make_dirs() {
    [ -d "$destdir$1" ] && return 0
    if [ "$1" = / ]; then
        mkdir -p "$destdir"
        return 0
    fi
    make_dirs "$(dirname "$1")"
    mkdir "$destdir$1"
    echo "$1"
}

case $verb in
install)
    made=$(mktemp)
    trap 'rm -f "$made"' EXIT
    echo "$FILES" | while IFS='|' read -r src dst mode; do
        make_dirs "$(dirname "$prefix/$dst")" >>"$made"
        install -m "$mode" "$src" "$destdir$prefix/$dst"
        echo "install: $destdir$prefix/$dst"
    done
    # a reinstall keeps what an earlier install made
    [ -f "$record" ] && cat "$record" >>"$made"
    sort -u "$made" >"$record"
    chmod 0644 "$record"
    ;;
uninstall)
    echo "$FILES" | while IFS='|' read -r src dst mode; do
        if [ -e "$destdir$prefix/$dst" ]; then
            rm -f "$destdir$prefix/$dst"
            echo "uninstall: $destdir$prefix/$dst"
        fi
    done
    dirs=""
    [ -f "$record" ] && dirs=$(cat "$record")
    rm -f "$record"
    # deepest first: a parent can only go once its children have
    printf '%s\n%s\n' "$libdir" "$dirs" | awk 'NF { print length($0) "\t" $0 }' | sort -rn | cut -f2- |
        while IFS= read -r dir; do
            rmdir "$destdir$dir" 2>/dev/null || true
        done
    ;;
*)
    echo "usage: scripts/install.sh install|uninstall BUILD" >&2
    exit 2
    ;;
esac
