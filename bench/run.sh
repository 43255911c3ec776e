#!/bin/sh
# make bench: runs bench/bench.py inside a PID namespace of its own, with
# build/bench/ns_init as its PID 1, so that
#   - the pkill and psutil baselines of B5 see only the bench's processes:
#     a `pkill -9 -f chrome` in there cannot reach any other Chrome;
#   - nothing the bench starts outlives it: when ns_init exits (the driver
#     ended, or was interrupted) the kernel kills what is left in the
#     namespace; ns_init dies with unshare, and unshare with this script,
#     even a SIGKILLed one (PR_SET_PDEATHSIG, setpriv --pdeathsig).
# Temporary files (and the copies of the binaries it measures) live in one
# directory, removed on exit, as are the registries of the bench's sessions.
#
#   bench/run.sh [bench.py options: --only B1,B4 --quick --no-doc]
set -eu
cd "$(dirname "$0")/.."
for tool in unshare setpriv pkill pgrep gnuplot; do
    command -v $tool >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
/usr/bin/python3 -c 'import psutil' 2>/dev/null ||
    { echo "bench: python3-psutil is missing (scripts/deps.sh bench)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
    echo "bench: needs root, for its PID namespace (unshare --pid)" >&2
    exit 1
fi

# the driver's parsers, checked on sample lines before anything runs
/usr/bin/python3 -m doctest bench/bench.py || { echo "bench: bench/bench.py fails its doctests" >&2; exit 1; }

run_id="$(date +%H%M%S)$$"
work=$(mktemp -d /tmp/crbench.XXXXXX)
uid=$(id -u)
ns=""
cleanup() {
    set +e
    # a driver that did not get to finish: the namespace goes, with all in it
    if [ -n "$ns" ]; then kill -KILL "$ns" 2>/dev/null; fi
    # registries of this run's sessions; preload-mode sessions name
    # themselves, and the driver notes each one in $work/sessions
    rm -f /dev/shm/chromereaper-"$uid"-bench-"$run_id"-*
    if [ -f "$work/sessions" ]; then
        while read -r s; do
            case $s in *[!A-Za-z0-9._-]*|'') ;; *) rm -f "/dev/shm/chromereaper-$uid-$s" ;; esac
        done < "$work/sessions"
    fi
    rm -rf "$work"
}
# Interrupted: ask the driver to tear down the sample it is in (ns_init
# forwards INT to it), give it 30 s, then the cleanup kills the namespace.
interrupted() {
    trap - INT TERM HUP
    echo "bench: interrupted, cleaning up" >&2
    if [ -n "$ns" ]; then
        pkill -INT -P "$ns" 2>/dev/null || true
        i=0
        while kill -0 "$ns" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    exit "$1"
}
trap cleanup EXIT
trap 'interrupted 130' INT
trap 'interrupted 143' TERM HUP

# The bench runs its own copy of what it measures: others may rebuild
# build/ while it runs, and every sample must measure the same binaries.
bin="$work/bin"
mkdir "$bin"
cp build/chromereaper build/libchromereaper.so build/fixtures/bench_tree \
    build/bench/forkloop build/bench/abloop build/bench/append build/bench/oracle_kill build/bench/floor_kill build/bench/ns_init \
    build/bench/libempty.so build/bench/libminrecorder.so "$bin/"
# bench_tree's nodes run as .../bench_tree.d/chromium: the shim and the
# reaper know a browser by its executable's name (tests/fixtures/fx_realname.h)
mkdir "$bin/bench_tree.d"
ln "$bin/bench_tree" "$bin/bench_tree.d/chromium"
export BENCH_BIN="$bin"

start=$(date +%s)
# Relative paths only: the pkill baselines match command lines, and the
# checkout's absolute path may well contain "chrom".  In the background, so
# that a signal reaches the traps above at once.
setpriv --pdeathsig KILL unshare --pid --fork --mount-proc --kill-child=KILL \
    "$bin/ns_init" /usr/bin/python3 bench/bench.py --work "$work" --run-id "$run_id" "$@" &
ns=$!
status=0
wait "$ns" || status=$?
ns=""
case $status in
0|1) echo "make bench: $(($(date +%s) - start)) s in all; table in bench/results/latest.md" ;;
*) echo "make bench: stopped after $(($(date +%s) - start)) s (status $status)" >&2 ;;
esac
# it measures, it does not gate: a missed target still exits 0; only a
# benchmark that could not run at all makes this fail
exit $status
