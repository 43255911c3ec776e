#!/bin/sh
# Runs a Criterion test binary:   scripts/suite.sh BINARY [ARGS...]
# Its output (stdout and stderr, merged) passes through line by line, as it
# comes, except Criterion's summary line: that is held back, and when tests
# failed their [FAIL] lines are printed once more just before it.  A log
# that keeps only its tail (CI's) then still names every failed test, and
# Criterion's summary stays the last line.  Reading stops at that line, so
# a process a test leaked cannot hold the run open.  Exits with the
# binary's status.
exec 3>&1
status=$( { { "$@" 2>&1 3>&- 4>&-; echo $? >&4; } | {
    failed= synthesis=
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
        '[====] Synthesis'*) synthesis=$line; break ;;
        '[FAIL]'*) failed="$failed$line
" ;;
        esac
        printf '%s\n' "$line"
    done
    if [ -n "$failed" ]; then
        echo "[----] failed, once more:"
        printf '%s' "$failed"
    fi
    [ -z "$synthesis" ] || printf '%s\n' "$synthesis"
} >&3; } 4>&1 )
exit "$status"
