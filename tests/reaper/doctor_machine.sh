#!/bin/sh
# A dirty machine for the doctor suite (tests/reaper/test_doctor.c), built
# inside private PID and mount namespaces (the test runs this under
# `unshare --pid --fork --mount-proc`): /tmp and /dev/shm are fresh tmpfs,
# so doctor --fix here can see and touch nothing of the host's.  This
# script is the namespace's init: when it exits, every process in it dies.
#   doctor_machine.sh CHROMEREAPER LIBRARY REEXEC_HELPER OUTDIR
# writes the doctor's outputs and what was alive or present afterwards
# into OUTDIR (outside /tmp).
set -u
CR=$1 LIB=$2 FAKE=$3 OUT=$4
# A checkout under /tmp (a CI clone may be one) stays reachable: the old
# /tmp is kept aside and the top directories our arguments lie in are bound
# back into the fresh one (none has a browser's temp-dir name).
OLDTMP=/run/crtest-doctor-oldtmp.$$
mkdir -p "$OLDTMP" && mount --bind /tmp "$OLDTMP" || exit 89
mount -t tmpfs tmpfs /tmp || exit 90
for path in "$CR" "$LIB" "$FAKE" "$OUT"; do
    case $path in
    /tmp/*)
        top=${path#/tmp/}
        top=${top%%/*}
        [ -d "/tmp/$top" ] || { mkdir "/tmp/$top" && mount --bind "$OLDTMP/$top" "/tmp/$top"; } || exit 88
        ;;
    esac
done
mount -t tmpfs tmpfs /dev/shm || exit 91
CHROME="/usr/bin/chromium --headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run --remote-debugging-port=0"

# the leak: a bot's browser whose bot and driver are gone, adopted by init
# (setsid -f forks, so its parent exits at once)
setsid -f $CHROME --user-data-dir=/tmp/puppeteer_dev_chrome_profile-leak about:blank >/dev/null 2>&1
# a bystander: a browser whose parent (this subshell) is alive
( $CHROME --user-data-dir=/tmp/bystander-profile about:blank >/dev/null 2>&1 & wait ) &
# a live session's browser, adopted by init too, but recorded by the
# library and carrying the session's cookie
CHROMEREAPER_WATCHDOG=0 LD_PRELOAD=$LIB sh -c "setsid -f $CHROME --user-data-dir=/tmp/playwright_chromiumdev_profile-live about:blank >/dev/null 2>&1; exec sleep 3600" &
# another uid's leak: adopted by init like ours, and never ours to touch
mkdir -m 0777 /tmp/nobody-home
HOME=/tmp/nobody-home setpriv --reuid=65534 --regid=65534 --clear-groups \
    setsid -f $CHROME --user-data-dir=/tmp/nobody-home/profile about:blank >/dev/null 2>&1
# a program that calls itself chromium, adopted by init: its executable is not
# a browser's (the fixture re-execs itself through /proc/self/exe with
# argv[0] "chromium")
mkdir /tmp/fake-out && setsid -f "$FAKE" chromium /tmp/fake-out >/dev/null 2>&1
# a stale session: its root exited and no watchdog reaped it
CHROMEREAPER_WATCHDOG=0 LD_PRELOAD=$LIB /bin/true

# leftovers, and look-alikes that are not ours to remove
mkdir -p /tmp/org.chromium.Chromium.scoped_dir.old/Default
head -c 100000 /dev/urandom > /tmp/org.chromium.Chromium.scoped_dir.old/Default/Cookies
mkdir /tmp/playwright-artifacts-old
mkdir /tmp/org.chromium.Chromium.other && chown 65534:65534 /tmp/org.chromium.Chromium.other
mkdir /tmp/keep && ln -s /tmp/keep /tmp/org.chromium.Chromium.link
mkdir /tmp/unrelated
: > /tmp/com.google.Chrome.file
# old-looking leftovers that a live process uses: as its working directory,
# through an open file
mkdir /tmp/org.chromium.Chromium.cwdused /tmp/playwright-artifacts-fdused
: > /tmp/playwright-artifacts-fdused/trace.zip
(cd /tmp/org.chromium.Chromium.cwdused && exec sleep 3600) &
sleep 3600 < /tmp/playwright-artifacts-fdused/trace.zip &

# the main process of the browser using profile $1
main_of() {
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
        case "$cmd" in
        *--type=*) ;;
        */usr/lib/chromium/chromium*"--user-data-dir=/tmp/$1 "*) echo "${p#/proc/}"; return ;;
        esac
    done
}
for profile in puppeteer_dev_chrome_profile-leak bystander-profile playwright_chromiumdev_profile-live nobody-home/profile; do
    i=0
    while [ ! -s "/tmp/$profile/DevToolsActivePort" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
done
main_of puppeteer_dev_chrome_profile-leak > "$OUT/leak.pid"
main_of bystander-profile > "$OUT/bystander.pid"
main_of playwright_chromiumdev_profile-live > "$OUT/live.pid"
main_of nobody-home/profile > "$OUT/nobody.pid"
for p in /proc/[0-9]*; do
    [ "$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)" = "chromium chromium /tmp/fake-out reexecd " ] && echo "${p#/proc/}" > "$OUT/fake.pid"
done
ls /dev/shm > "$OUT/shm-before"
crashpads() {
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/exe" 2>/dev/null)" in */chrome_crashpad_handler) echo "${p#/proc/}" ;; esac
    done
}
crashpads > "$OUT/crashpads-before"
sleep 2 # everything above is now older than --older-than 1s

"$CR" doctor --json > "$OUT/young.json"; echo $? > "$OUT/young.rc"
"$CR" doctor --older-than 1s --json > "$OUT/list.json"; echo $? > "$OUT/list.rc"
NO_COLOR= TERM=xterm script -qec "$CR doctor --older-than 1s" /dev/null > "$OUT/list.tty"
NO_COLOR=1 TERM=xterm script -qec "$CR doctor --older-than 1s" /dev/null > "$OUT/list.nocolor"
"$CR" doctor --older-than 1s --fix --dry-run --json > "$OUT/dry.json"; echo $? > "$OUT/dry.rc"
kill -0 "$(cat "$OUT/leak.pid")" 2>/dev/null && echo alive > "$OUT/leak-after-dry"
"$CR" doctor --older-than 1s --fix --json > "$OUT/fix.json"; echo $? > "$OUT/fix.rc"
"$CR" doctor --older-than 1s --json > "$OUT/after.json"; echo $? > "$OUT/after.rc"
for f in young list dry fix after; do
    /usr/bin/python3 -m json.tool "$OUT/$f.json" > /dev/null 2>&1 && echo "$f" >> "$OUT/valid-json"
done
for who in leak bystander live fake nobody; do
    kill -0 "$(cat "$OUT/$who.pid")" 2>/dev/null && echo "$who" >> "$OUT/alive"
done
crashpads > "$OUT/crashpads-after"
ls -A /tmp > "$OUT/tmp-after"
ls /dev/shm > "$OUT/shm-after"
echo done > "$OUT/done"
