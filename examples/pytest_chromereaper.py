"""pytest plugin: fail every test whose browser processes or temp directories outlive it.

Run the suite in a chromereaper session, supervised or preload-only:

    chromereaper run -- /usr/bin/python3 -m pytest -p pytest_chromereaper tests/
    LD_PRELOAD=/usr/local/lib/chromereaper/libchromereaper.so \\
        /usr/bin/python3 -m pytest -p pytest_chromereaper tests/

(with this file on PYTHONPATH, or `pytest_plugins = ["pytest_chromereaper"]` in a
conftest.py).  After each test's teardown the plugin asks `chromereaper ls --json` what
the session holds.  The test fails when, after a short wait for a browser that was quit
to finish exiting (--chromereaper-wait, default 3 seconds):

- a browser-stack process (chromedriver, chromium and its children, crashpad) that was
  not alive before the test still is;
- or a directory the session recorded during the test (a temporary profile, Chrome's
  scoped_dir) is still there; Chrome's singleton directory, which Chrome leaves even
  after a clean quit, does not count.

What the session's supervisor already cleaned up while the test ran (the leftovers of a
driver that exited, reaped within a fraction of a second) is not the test's leak: it no
longer outlives anything.  `chromereaper run --report FILE` records those reaps.

The failure (of the test's call, so pytest counts one failed test) shows the session as `chromereaper ls --session ID --tree` prints it.  The
leaked processes are left to the session's reaper (the end of `chromereaper run`, or
the watchdog): they are counted against the test that leaked them only, since each
test is judged by what appeared while it ran.

The chromereaper binary is $CHROMEREAPER_BIN, else $CHROMEREAPER_REAPER, else the one
on PATH.  Outside a session the plugin does nothing and says so in the header.
"""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

BROWSER_ROLES = {"driver", "browser", "zygote", "renderer", "gpu", "utility", "crashpad"}
# Chrome's singleton directory: org.chromium.Chromium.XXXXXX (or Google's), mkdtemp's six
SINGLETON = re.compile(r"^\.?(org\.chromium\.Chromium|com\.google\.Chrome)\.[A-Za-z0-9]{6}$")


def pytest_addoption(parser):
    group = parser.getgroup("chromereaper")
    group.addoption("--chromereaper-wait", type=float, default=3.0,
                    help="seconds a quit browser may take to be gone (default 3)")


def _binary():
    for var in ("CHROMEREAPER_BIN", "CHROMEREAPER_REAPER"):
        if os.environ.get(var):
            return os.environ[var]
    return shutil.which("chromereaper")


def _ls(binary, *args):
    out = subprocess.run([binary, "ls", *args], capture_output=True, text=True, check=False)
    return out.stdout if out.returncode == 0 else None


def _find_session(binary):
    """$CHROMEREAPER_SESSION (under run), else the session whose root is this process."""
    if os.environ.get("CHROMEREAPER_SESSION"):
        return os.environ["CHROMEREAPER_SESSION"]
    text = _ls(binary, "--json")
    for s in json.loads(text) if text else []:
        if s["root_pid"] == os.getpid():
            return s["session"]
    return None


class Snapshot:
    """What the session holds at one moment."""

    def __init__(self, data):
        self.live = {(p["pid"], p["start_time"]) for p in data["processes"]
                     if p["state"] == "live" and p["role"] in BROWSER_ROLES}
        self.dirs = {d["path"] for d in data["directories"] if d["present"]}
        self.recorded_dirs = {d["path"] for d in data["directories"]}


class Guard:
    def __init__(self, config):
        self.wait = config.getoption("chromereaper_wait")
        self.binary = _binary()
        self.session = _find_session(self.binary) if self.binary else None

    def snapshot(self):
        text = _ls(self.binary, "--session", self.session, "--json")
        return Snapshot(json.loads(text)) if text else None

    @staticmethod
    def leaks(before, now):
        procs = now.live - before.live
        dirs = {d for d in now.dirs - before.recorded_dirs
                if not SINGLETON.match(os.path.basename(d))}
        return procs, dirs

    def check(self, before):
        """(processes, directories) that outlived the test, after the wait."""
        deadline = time.monotonic() + self.wait
        while True:
            now = self.snapshot()
            if now is None:
                return set(), set()
            procs, dirs = self.leaks(before, now)
            if not (procs or dirs) or time.monotonic() >= deadline:
                return procs, dirs
            time.sleep(0.1)


def pytest_configure(config):
    config._chromereaper = Guard(config)


def pytest_report_header(config):
    guard = config._chromereaper
    if not guard.binary:
        return "chromereaper: no chromereaper binary (set CHROMEREAPER_BIN): leaks are not checked"
    if not guard.session:
        return "chromereaper: not in a session (run pytest under `chromereaper run`): leaks are not checked"
    return f"chromereaper: session {guard.session}: a test whose browser outlives it fails"


def _describe(guard, item, procs, dirs):
    tree = _ls(guard.binary, "--session", guard.session, "--tree") or "(chromereaper ls failed)\n"
    lines = [f"chromereaper: {item.nodeid} leaked: {len(procs)} browser processes still alive "
             f"{guard.wait:g} s after its teardown, {len(dirs)} directories left"]
    lines += [f"  process {pid}" for pid, _ in sorted(procs)]
    lines += [f"  directory {d}" for d in sorted(dirs)]
    lines += ["", f"chromereaper ls --session {guard.session} --tree:", tree]
    return "\n".join(lines)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Runs the test's setup, call and teardown as pytest does, then judges
    what outlived them before the reports are logged: a leak fails the
    test's call (one failed test, not a passed test plus an error)."""
    guard = item.config._chromereaper
    if not guard.session:
        return None
    from _pytest.runner import runtestprotocol
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    before = guard.snapshot()
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    procs, dirs = guard.check(before) if before else (set(), set())
    if procs or dirs:
        text = _describe(guard, item, procs, dirs)
        calls = [r for r in reports if r.when == "call"] or reports[-1:]
        report = calls[0]
        if report.passed:
            report.outcome = "failed"
            report.longrepr = text
        else:
            report.sections.append(("chromereaper", text))
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
