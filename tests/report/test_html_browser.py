"""The HTML report opens in a real headless Chromium without console errors or broken images."""

import shutil

import pytest

from tests.helpers import golden_copy

pytestmark = pytest.mark.slow


def _driver():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]' installs it)")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("Chromium or ChromeDriver not found: install Debian's chromium and chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


def test_html_report_opens_in_headless_chromium(tmp_path):
    folder = golden_copy(tmp_path / "results")  # the golden results folder, its reports rebuilt
    driver = _driver()
    try:
        driver.get((folder / "report.html").as_uri())
        assert driver.title.startswith("discover:")
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);"
        )
        assert len(images) == 5 and all(done and width > 100 for done, width, _ in images), images
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        assert "Re-simulation of held-out data" in driver.find_element("tag name", "body").text
    finally:
        driver.quit()
