#!/usr/bin/python3
"""A Selenium bot that starts browsers and never quits them, as a bot that
starts a browser per job and drops the old one would (it keeps a reference
to each driver, so Python's garbage collector does not stop them either).

usage: abandon_bot.py --browsers N --wait-dead K [--max-wait SEC]

Starts N Chrome sessions one after another (chromedriver + chromium), loads
a page in each, then waits until at least K of the chromedrivers have been
killed by someone else (chromereaper's circuit breaker), at most --max-wait
seconds.  Prints "started I" after each start and "dead D of N" at the end;
exits 0 if at least K died, 3 if not.  Never calls driver.quit().
Run it with /usr/bin/python3 (Debian's python3-selenium).
"""
import argparse
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples"))
from selenium_bot import PAGE, make_driver  # noqa: E402  (the same Chrome options)


def start():
    driver = make_driver()
    driver.get(PAGE.as_uri())
    return driver


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--browsers", type=int, required=True)
    ap.add_argument("--wait-dead", type=int, required=True)
    ap.add_argument("--max-wait", type=float, default=90)
    ap.add_argument("--pause", type=float, default=0, help="seconds between starts")
    args = ap.parse_args()
    drivers = []
    for i in range(args.browsers):
        drivers.append(start())
        print(f"started {i + 1}", flush=True)
        time.sleep(args.pause)
    deadline = time.monotonic() + args.max_wait
    while True:
        dead = sum(d.service.process.poll() is not None for d in drivers)
        if dead >= args.wait_dead or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    print(f"dead {dead} of {len(drivers)}", flush=True)
    # leave without driver.quit(): the live ones are the session's to reap
    os._exit(0 if dead >= args.wait_dead else 3)


if __name__ == "__main__":
    sys.exit(main())
