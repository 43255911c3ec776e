#!/bin/sh
# Installs the Debian packages chromereaper builds and tests with, when they
# are missing: as root with apt-get, otherwise prints the exact command.
# `scripts/deps.sh bench` also installs what `make bench` needs: gnuplot for
# the plots, python3-psutil for the seed-style baseline, procps (pkill) and
# util-linux (unshare) for the PID namespace the baselines run in.
# `scripts/deps.sh fuzz` also installs clang and its libFuzzer runtime.
# The npm packages of examples/container/check (the offline Kubernetes
# manifest check, pinned in its package-lock.json) and of examples/ (the
# Puppeteer and Playwright bots: puppeteer-core and playwright-core, pinned
# in examples/package-lock.json, no browser download) are installed with
# `npm ci`, needing node and npm; golang-go builds the Go launcher the e2e
# suites run (tests/fixtures/go/).
set -eu
cd "$(dirname "$0")/.."
PKGS="libcriterion-dev uthash-dev chromium chromium-driver python3-selenium python3-pytest python3-jsonschema pkg-config gcc make valgrind util-linux mount man-db groff-base systemd golang-go"
BENCH_PKGS="gnuplot-nox python3-psutil procps util-linux"
FUZZ_PKGS="clang libclang-rt-dev util-linux"
# promtool, which the metrics suite checks --metrics-file output with (the
# package's recommends, node-exporter and the like, are not needed)
PROMTOOL_PKGS="prometheus"

missing_of() {
    out=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
    done
    echo "$out"
}

# install "what for" [apt-get options...] -- packages...
install() {
    what=$1; shift
    opts=""
    while [ "$1" != -- ]; do opts="$opts $1"; shift; done
    shift
    [ $# -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "deps: installing$what $*" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq$opts "$@" >&2
    else
        echo "deps: missing Debian packages$what: $*" >&2
        echo "deps: run: sudo apt-get update && sudo apt-get install -y$opts $*" >&2
        exit 1
    fi
}

# Debian's package names for node and npm when they are missing from PATH
# (a Node from elsewhere is used as it is).
missing_node() {
    out=""
    command -v node >/dev/null 2>&1 || out="$out nodejs"
    command -v npm >/dev/null 2>&1 || out="$out npm"
    echo "$out"
}

# npm_ci DIR: DIR/node_modules from DIR/package-lock.json, again only when
# the lock file changed since (a second run needs no network).
npm_ci() {
    stamp=$1/node_modules/.chromereaper-lock
    cmp -s "$1/package-lock.json" "$stamp" 2>/dev/null && return 0
    echo "deps: npm ci in $1" >&2
    (cd "$1" && PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
        npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2)
    cp "$1/package-lock.json" "$stamp"
}

# shellcheck disable=SC2046 # word splitting of the package lists is wanted
install "" -- $(missing_of $PKGS) $(missing_node)
npm_ci examples/container/check
npm_ci examples
# shellcheck disable=SC2046
install " (promtool, for the tests)" --no-install-recommends -- $(missing_of $PROMTOOL_PKGS)
if [ "${1:-}" = bench ]; then
    # shellcheck disable=SC2046
    install " (for make bench)" --no-install-recommends -- $(missing_of $BENCH_PKGS)
fi
if [ "${1:-}" = fuzz ]; then
    # shellcheck disable=SC2046
    install " (for make fuzz)" --no-install-recommends -- $(missing_of $FUZZ_PKGS)
fi
exit 0
