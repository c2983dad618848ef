"""Debian's Chromium under Selenium, as the browser tests run it: headless, no sandbox (tests
run as root), nothing that reaches the network on its own."""
from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def driver(width, height):
    """Return a WebDriver for /usr/bin/chromium through /usr/bin/chromedriver, its window
    width x height."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
