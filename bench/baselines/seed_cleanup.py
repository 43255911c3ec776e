#!/usr/bin/python3
"""Seed-style cleanup: what a user picks today to clean up after a Selenium
bot that crashed or was killed (the pattern of countless answers, cron jobs
and CI teardown steps), written for `make bench` from that description.

It scans every process, matches "chrome" broadly (chrome, chromium,
chromedriver, chrome_crashpad_handler, anywhere in the name or command
line, any case), kills each match together with its whole process tree,
waits for them, then runs `pkill -9 -f chrome` for whatever slipped through.

It kills every Chrome on the machine, the user's own browser included.
That is the point of benchmark B5, and the reason this script refuses to run
anywhere but inside the bench's own PID namespace (PID 1 must be
the bench's ns_init, see bench/run.sh).

    seed_cleanup.py            kill
    seed_cleanup.py --dry-run  print the pids it would kill first, kill nothing
"""
import os
import re
import subprocess
import sys

import psutil

BROAD = re.compile(r"chrom(e|ium)", re.IGNORECASE)


def inside_bench_namespace():
    try:
        return os.path.basename(os.readlink("/proc/1/exe")) == "ns_init"
    except OSError:
        return False


def matches(proc):
    name = proc.info.get("name") or ""
    cmdline = " ".join(proc.info.get("cmdline") or [])
    return bool(BROAD.search(name) or BROAD.search(cmdline))


def main():
    if not inside_bench_namespace():
        sys.exit("seed_cleanup.py: refusing to run outside the bench's PID namespace")
    dry_run = "--dry-run" in sys.argv[1:]
    me = os.getpid()
    victims = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.pid in (me, 1) or not matches(proc):
            continue
        if dry_run:
            print(proc.pid)
            continue
        try:
            tree = proc.children(recursive=True) + [proc]
        except psutil.NoSuchProcess:
            continue
        for p in tree:
            try:
                p.kill()
                victims.append(p)
            except psutil.NoSuchProcess:
                pass
    if dry_run:
        return 0
    psutil.wait_procs(victims, timeout=5)
    subprocess.run(["pkill", "-9", "-f", "chrome"], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
