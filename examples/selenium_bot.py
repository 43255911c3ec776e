#!/usr/bin/python3
"""A plain Selenium 4 bot for Debian's chromium + chromedriver.

It loads a local page, reads something off it and loops.  Run it with
/usr/bin/python3 (Debian's python3-selenium).  Under chromereaper:

    chromereaper run -- /usr/bin/python3 examples/selenium_bot.py --loops 3

--ready-file PATH  write "<pid>\n" to PATH once the first page was read
                   (tests and the demo wait for it, then kill the bot)
--no-quit          leave without driver.quit(), as a crashing bot would
--crash-after N    raise an exception in round N, skipping driver.quit()
"""
import argparse
import os
import pathlib
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

PAGE = pathlib.Path(__file__).resolve().parent / "pages" / "index.html"


def make_driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"):
        opts.add_argument(flag)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # Chromium refuses to run as root otherwise
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=3)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--ready-file")
    ap.add_argument("--no-quit", action="store_true")
    ap.add_argument("--crash-after", type=int, default=0)
    args = ap.parse_args()

    driver = make_driver()
    try:
        for i in range(args.loops):
            driver.get(PAGE.as_uri())
            text = driver.find_element(By.ID, "count").text
            print(f"round {i + 1}: {driver.title!r}: {text}", flush=True)
            if i == 0 and args.ready_file:
                tmp = args.ready_file + ".tmp"
                with open(tmp, "w") as f:
                    f.write(f"{os.getpid()}\n")
                os.rename(tmp, args.ready_file)
            time.sleep(args.interval)
            if args.crash_after and i + 1 >= args.crash_after:
                raise RuntimeError(f"crashing in round {i + 1} as asked, without driver.quit()")
    except RuntimeError:
        args.no_quit = True
        raise
    finally:
        if not args.no_quit:
            driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
