#!/bin/sh
# Runs the unit suite (a build without sanitizers) under valgrind memcheck:
#   scripts/valgrind-unit.sh BINARY JOBS LOGDIR
# Prints one summary line when the suite passes with zero valgrind errors;
# otherwise the suite's output and every valgrind report, and exits 1.
#
# Criterion runs each test in a worker it re-executes, so valgrind has to
# follow execs (--trace-children=yes; system binaries the tests start, such
# as /bin/sleep, run natively).  A worker's valgrind errors do not change
# how Criterion scores the test, and the runner's exit code does not see
# them: each process logs to LOGDIR/<pid>.log, and any "ERROR SUMMARY" that
# is not zero fails the run.  Definite and indirect leaks count as errors.
# procfs::exe_self is left out: under valgrind /proc/self/exe is valgrind's
# tool, not the test binary.
set -u
bin=$1 jobs=$2 logs=$3
rm -rf "$logs" && mkdir -p "$logs" || exit 1
start=$(date +%s)
valgrind --error-exitcode=1 --vgdb=no --trace-children=yes --trace-children-skip='/usr/bin/*,/bin/*' \
    --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    --log-file="$logs/%p.log" \
    "$bin" --jobs="$jobs" --short-filename --filter='!(procfs/exe_self)' >"$logs/suite.out" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
processes=$(find "$logs" -name '[0-9]*.log' | wc -l)
bad=$(grep -l 'ERROR SUMMARY: [1-9]' "$logs"/[0-9]*.log 2>/dev/null)
synthesis=$(grep 'Synthesis' "$logs/suite.out" | sed 's/^.*Synthesis: //; s/ *$//')
if [ "$rc" -ne 0 ] || [ -n "$bad" ] || [ -z "$synthesis" ]; then
    cat "$logs/suite.out"
    for f in $bad; do
        echo "---- $f"
        cat "$f"
    done
    grep '^\[FAIL\]' "$logs/suite.out"
    echo "valgrind: FAILED (suite exit $rc; $(echo "$bad" | grep -c .) of $processes processes with valgrind errors; logs in $logs)"
    exit 1
fi
echo "valgrind: unit suite clean under memcheck: $synthesis; $processes processes, 0 errors, ${secs}s"
