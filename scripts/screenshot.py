"""Take the README screenshots from a running `make run` (http://127.0.0.1:8000)."""

import sys

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]

with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page.goto(BASE + "/accounts/login/")
    page.fill("#id_username", "demo_street")
    page.fill("#id_password", "yibenzhang-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#chart canvas")
    page.wait_for_timeout(800)
    page.screenshot(path="docs/screenshot-home.png")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
    phone.goto(BASE + "/registry/residents/?q=王")
    phone.screenshot(path="docs/screenshot-phone-search.png")
    browser.close()
