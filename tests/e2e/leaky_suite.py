"""Two tests for examples/pytest_chromereaper.py (run by tests/e2e/test_audit.c):
one keeps its browser in a cache and never quits it, one quits.  The
leaking one runs first: the clean one must not be blamed for it."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples"))
from selenium_bot import PAGE, make_driver  # noqa: E402

forgotten = []  # a module-level cache: the driver lives on after the test


def test_forgets_its_browser():
    driver = make_driver()
    driver.get(PAGE.as_uri())
    assert driver.title
    forgotten.append(driver)


def test_quits_its_browser():
    driver = make_driver()
    driver.get(PAGE.as_uri())
    assert driver.title
    driver.quit()
