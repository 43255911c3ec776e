#!/bin/sh
# make demo: a real Selenium bot (examples/selenium_bot.py) under
# `chromereaper run`, killed with SIGKILL after its first page, then proof
# that nothing of its browser stack is left: no process, no temp directory.
set -eu
cd "$(dirname "$0")/.."
reaper=build/chromereaper
session="demo-$$"
work=$(mktemp -d /tmp/chromereaper-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

chrome_dirs() { ls -d /tmp/*org.chromium.Chromium* /tmp/.org.chromium.Chromium* 2>/dev/null || true; }
chrome_dirs | sort > "$work/dirs.before"

echo "== 1. starting: chromereaper run -- /usr/bin/python3 examples/selenium_bot.py"
CHROMEREAPER_LOG=info "$reaper" run --session "$session" -- \
    /usr/bin/python3 examples/selenium_bot.py --loops 100000 --interval 0.3 \
    --ready-file "$work/ready" > "$work/bot.out" 2> "$work/reaper.log" &
run=$!
i=0
while [ ! -s "$work/ready" ]; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $run 2>/dev/null; then
        echo "demo: the bot did not read its first page; its output:" >&2
        cat "$work/bot.out" "$work/reaper.log" >&2
        kill $run 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done
bot=$(cat "$work/ready")
echo
echo "== 2. the bot (pid $bot) read its first page; what its browser spawned (chromereaper ls --tree):"
"$reaper" ls --session "$session" --tree
"$reaper" ls --session "$session" --json |
    /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("\n".join(str(p["pid"]) for p in d["processes"] if p["state"]=="live"))' \
    > "$work/pids.before"
echo
echo "== 3. kill -9 $bot (the bot dies without driver.quit(): chromedriver and Chrome would leak)"
kill -9 "$bot"
status=0
wait $run || status=$?
echo "chromereaper run exited with $status (128+9: the bot's own fate)"
echo
echo "== 4. the reap report:"
grep -v ': running ' "$work/reaper.log" || true
echo
echo "== 5. what is left:"
alive=0
for pid in $(cat "$work/pids.before"); do
    if [ "$pid" != "$bot" ] && [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
        echo "   still alive: $(ps -o pid=,comm= -p "$pid")"
        alive=$((alive + 1))
    fi
done
chrome_dirs | sort > "$work/dirs.after"
new_dirs=$(comm -13 "$work/dirs.before" "$work/dirs.after" | wc -l)
comm -13 "$work/dirs.before" "$work/dirs.after" | sed 's/^/   still there: /'
echo "   processes of the session alive: $alive (of $(wc -l < "$work/pids.before") before the kill)"
echo "   Chrome temp directories created during the demo that remain: $new_dirs"
if [ "$alive" -eq 0 ] && [ "$new_dirs" -eq 0 ]; then
    echo "== nothing leaked"
else
    echo "== LEAKED" >&2
    exit 1
fi
