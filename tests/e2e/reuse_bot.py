#!/usr/bin/python3
"""A bot that reuses one temporary profile across sequential chromium launches
(issue 9), the way a Puppeteer bot with a fixed userDataDir does.

usage: reuse_bot.py REAPER ROUNDS {chrome-made|bot-made} {kill|close} OUTFILE

The profile is $TMPDIR/reused-profile-<pid>, which chromium creates on the
first launch (chrome-made), or a tempfile.mkdtemp() the bot makes first
(bot-made).  Each round starts chromium on it and waits for DevTools; waits
until the session's watchdog (or `run`) has reaped every earlier round
(`chromereaper ls`: totals.rounds_reaped); then checks that the profile is
still the one this round's browser wrote its DevToolsActivePort into, the
same directory (inode) as in the first round, holding the files the bot
wrote into it in every earlier round, and writes one more; then ends the round: chromium SIGKILLed
(kill) or SIGTERMed and waited for (close).  The next round starts at once,
while the reaper deals with the one that ended.  Writes the profile's path
to OUTFILE first, prints one line per round, exits 0 when every round found
its profile intact, 3 at the first round that did not.
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-debugging-port=0", "about:blank"]
BOUND_SEC = 90.0  # only so that a broken reaper fails the test instead of hanging it


def reaper_env():
    """The reaper's own calls stay out of the session."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def ls(reaper, *args):
    """`ls --json`.  Listing every session exits 3 when some other session's
    registry does not load (the suite's hostile tests make such files next
    to ours); the list then still holds every session that loaded."""
    res = subprocess.run([reaper, "ls", *args, "--json"], env=reaper_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if res.returncode != 0 and (args or res.returncode != 3):
        raise subprocess.CalledProcessError(res.returncode, res.args, res.stdout)
    return json.loads(res.stdout)


def my_session(reaper):
    for s in ls(reaper):
        if s["root_pid"] == os.getpid():
            return s["session"]
    return None


def rounds_reaped(reaper):
    session = my_session(reaper)
    return ls(reaper, "--session", session)["totals"]["rounds_reaped"] if session else -1


def start_browser(profile):
    """chromium on the profile; returns (process, DevTools port)."""
    p = subprocess.Popen([CHROMIUM, "--user-data-dir=" + profile, *FLAGS],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + BOUND_SEC
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([p.stderr], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(p.stderr.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        marker = b"DevTools listening on ws://127.0.0.1:"
        at = buf.find(marker)
        if at >= 0 and b"/" in buf[at + len(marker):]:
            port = buf[at + len(marker):].split(b"/", 1)[0].decode()
            return p, port
    sys.exit(f"chromium never served DevTools: {buf.decode(errors='replace')[-2000:]}")


def devtools_active_port(profile):
    """The port the profile's DevToolsActivePort names.  Chrome writes the
    file after it prints "DevTools listening" (truncate, then write): read
    it until it names a port, within the bound."""
    path = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + BOUND_SEC
    written = ""
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                written = f.readline().strip()
        except FileNotFoundError:
            written = ""
        if written:
            return written
        time.sleep(0.02)
    return written


def main():
    reaper, rounds, made_by, ending, outfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    if made_by == "bot-made":
        profile = tempfile.mkdtemp()
    else:
        profile = os.path.join(tempfile.gettempdir(), f"reused-profile-{os.getpid()}")
    with open(outfile, "w") as f:
        f.write(profile + "\n")
    first_inode = None
    for r in range(rounds):
        p, port = start_browser(profile)
        deadline = time.monotonic() + BOUND_SEC
        while rounds_reaped(reaper) < r:
            if time.monotonic() > deadline:
                sys.exit(f"round {r}: the earlier rounds were never reaped")
            time.sleep(0.05)
        try:
            inode = os.stat(profile).st_ino
            first_inode = first_inode or inode
            written = devtools_active_port(profile)
            for k in range(r):
                with open(os.path.join(profile, f"bot-round-{k}")) as f:
                    f.read()
            with open(os.path.join(profile, f"bot-round-{r}"), "w") as f:
                f.write("mine\n")
        except OSError as e:
            print(f"round {r}: profile damaged: {e}", flush=True)
            sys.exit(3)
        if inode != first_inode:
            print(f"round {r}: the profile was removed and made anew", flush=True)
            sys.exit(3)
        if written != port:
            print(f"round {r}: DevToolsActivePort says {written}, chromium serves {port}", flush=True)
            sys.exit(3)
        print(f"round {r}: profile intact", flush=True)
        if ending == "kill":
            os.kill(p.pid, signal.SIGKILL)
        else:
            p.terminate()
        p.wait()
        p.stderr.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
