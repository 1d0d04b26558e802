#!/usr/bin/env python3
"""Drives the operator's page of a running `clipad serve` in headless Chromium (Debian's chromium + chromedriver)
through Selenium: loads GET /, submits an image through the page's own form, and checks the rendered result.

usage: check_operator_page.py PORT MODEL IMAGE.png EXPECTED_SCORE MAP_SIDE SCREENSHOT.png
Exits 0 and prints "operator page ok" when: the model is listed and selected, the result card shows the overlay
(decoded, MAP_SIDE wide) and colour bar, the score printed to 4 decimals equals EXPECTED_SCORE's, moving the
threshold slider below / above the score turns the verdict FAIL / PASS without a request, no request left the
page's origin, and the browser logged no console error. Saves a screenshot to SCREENSHOT.png either way.
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def main() -> int:
    port, model, image, expected, side, screenshot = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    origin = f"http://127.0.0.1:{port}"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-component-update"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(origin + "/")
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('#model option')).some(o => o.value === arguments[0]);", model))
        driver.execute_script("const s = document.getElementById('model'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));", model)
        driver.find_element(By.ID, "files").send_keys(image)
        driver.find_element(By.ID, "submit").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results .result") or "error" in d.find_element(By.ID, "status").get_attribute("class"))
        status = driver.find_element(By.ID, "status")
        assert "error" not in (status.get_attribute("class") or ""), "page reported: " + status.text
        card = driver.find_element(By.CSS_SELECTOR, "#results .result")
        wait.until(lambda d: d.execute_script("return arguments[0].querySelector('img.overlay').complete;", card))
        shown = card.find_element(By.CSS_SELECTOR, ".score").text
        assert shown == f"{expected:.4f}", f"score shown {shown!r}, expected {expected:.4f}"
        assert abs(float(card.get_attribute("data-score")) - expected) <= 1e-6 * max(1.0, abs(expected)), card.get_attribute("data-score")
        width = driver.execute_script("return arguments[0].querySelector('img.overlay').naturalWidth;", card)
        assert width == side, f"overlay is {width} px wide, expected the map side {side}"
        bar = driver.execute_script("return arguments[0].querySelector('img.colorbar').naturalHeight;", card)
        assert bar == side, f"colour bar is {bar} px tall, expected {side}"
        assert model in card.find_element(By.CSS_SELECTOR, ".name").text
        verdict = lambda: card.find_element(By.CSS_SELECTOR, ".verdict").text
        for value, want in ((expected * 0.5, "FAIL"), (expected * 1.5, "PASS")):
            driver.execute_script("const t = document.getElementById('threshold'); t.max = String(arguments[0] * 4); t.step = 'any';"
                                  "t.value = String(arguments[0]); t.dispatchEvent(new Event('input'));", value)
            assert verdict() == want, f"threshold {value}: verdict {verdict()!r}, expected {want}"
        shown_threshold = card.find_element(By.CSS_SELECTOR, ".threshold").text
        assert shown_threshold == f"{expected * 1.5:.4f}", shown_threshold
        driver.save_screenshot(screenshot)
        # Every request the page made went to its own origin (self-contained: no CDN, fonts or trackers).
        import json
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                url = message["params"]["request"]["url"]
                assert url.startswith(origin) or url.startswith("data:"), "request outside the origin: " + url
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, f"console errors: {errors}"
    except Exception:
        try:
            driver.save_screenshot(screenshot)
        finally:
            raise
    finally:
        driver.quit()
    print("operator page ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
