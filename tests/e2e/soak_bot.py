#!/usr/bin/python3
"""A bot that opens and ends a Selenium driver round after round, each round
ending one of the ways real bots end them:

  quit          driver.quit(), the clean way
  noquit        the bot drops the driver without quit() (Service.__del__ runs)
  kill-driver   chromedriver dies of SIGKILL, the bot moves on
  kill-browser  Chrome's main process dies of SIGKILL, the bot stops the driver

After each round it writes SYNC/round-<i> ("<action>\n") and waits for
SYNC/ack-<i>: the test checks that the round's leftovers are gone meanwhile.
"""
import argparse
import gc
import os
import pathlib
import random
import signal
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples"))
from selenium_bot import PAGE, make_driver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

ACTIONS = ("quit", "noquit", "kill-driver", "kill-browser")


def children(pid, comm):
    """Pids whose parent is pid and whose command name is comm."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid and name == comm:
            found.append(int(entry))
    return found


def one_round(action):
    driver = make_driver()
    driver.get(PAGE.as_uri())
    driver.find_element(By.ID, "count")
    if action == "quit":
        driver.quit()
    elif action == "noquit":
        del driver
        gc.collect()
    elif action == "kill-driver":
        proc = driver.service.process
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        del driver
        gc.collect()
    elif action == "kill-browser":
        for pid in children(driver.service.process.pid, "chromium"):
            os.kill(pid, signal.SIGKILL)
        driver.service.stop()
        del driver
        gc.collect()


def wait_for(path, timeout=120):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            sys.exit(f"soak_bot: no {path} after {timeout} s")
        time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--actions", help="comma-separated, cycled (default: random)")
    ap.add_argument("--sync", required=True)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    fixed = args.actions.split(",") if args.actions else None
    for i in range(args.rounds):
        action = fixed[i % len(fixed)] if fixed else rnd.choice(ACTIONS)
        one_round(action)
        tmp = os.path.join(args.sync, f".round-{i}")
        with open(tmp, "w") as f:
            f.write(action + "\n")
        os.rename(tmp, os.path.join(args.sync, f"round-{i}"))
        wait_for(os.path.join(args.sync, f"ack-{i}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
