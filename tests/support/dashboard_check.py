#!/usr/bin/python3
"""Check the static dashboard (sclman report) in headless Chromium, through Selenium and
chromium-driver from Debian, as a browser and a screen reader see it.

    dashboard_check.py PAGE SCREENSHOT [--charts N] [--mark-name TEXT]...

It loads file://PAGE, waits for the page's own script to count the charts it laid out
(body[data-charts-drawn]), and checks:

- layout: N charts have a drawn line (--charts);
- the accessibility tree Chromium builds (DevTools Accessibility.getFullAXTree): every image,
  link, button, table, and named chart group has a name; headings do not skip a level; the page
  has exactly one level-1 heading and a main landmark; every --mark-name TEXT is the name of a
  decision marker (role image) somewhere, so a screen reader reads the decision and its reason;
- keyboard: each decision marker can take the focus (it is in the tab order);
- contrast (WCAG 2.1, 1.4.3): every visible text, HTML or SVG, has a contrast ratio of at least
  4.5:1 against the background behind it (3:1 for large text);
- the auto-refresh can be paused (WCAG 2.2.1): a "Pause auto-refresh" button exists and
  toggles aria-pressed.

It saves a screenshot of the whole page at SCREENSHOT. It prints one line per failed check and
exits 1 if any failed, 0 otherwise. Only file:// is loaded: no network.
"""
import argparse
import base64
import json
import sys
import time

from selenium.webdriver.common.by import By

import chromium  # tests/support/chromium.py

# Computed in the page: each visible text's color against the first opaque background behind
# it (walking up the tree; an SVG's background is its own), as WCAG defines contrast.
CONTRAST_JS = r"""
function parse(c) {
  var m = c.match(/rgba?\(([^)]+)\)/);
  if (!m) { return null; }
  var p = m[1].split(',').map(function (x) { return parseFloat(x); });
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
}
function lum(c) {
  var f = function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function background(el) {
  for (var e = el; e && e.nodeType === 1; e = e.parentElement) {
    var b = parse(getComputedStyle(e).backgroundColor);
    if (b && b.a > 0.99) { return b; }
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
var bad = [];
var checked = 0;
var all = document.querySelectorAll('body *');
for (var k = 0; k < all.length; k++) {
  var el = all[k];
  var own = '';
  for (var n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 3) { own += n.textContent; }
  }
  if (!own.trim() || el.closest('title, script, style, noscript, [hidden]')) { continue; }
  var style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none' || el.getClientRects().length === 0) { continue; }
  var svg = el instanceof SVGElement;
  var fg = parse(svg ? style.fill : style.color);
  if (!fg) { continue; }
  var bg = background(el);
  var l1 = lum(fg), l2 = lum(bg);
  var ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  var size = parseFloat(style.fontSize);
  var bold = parseInt(style.fontWeight, 10) >= 700;
  var large = size >= 24 || (bold && size >= 18.66);
  checked++;
  if (ratio < (large ? 3 : 4.5)) {
    bad.push(own.trim().slice(0, 40) + ': ' + ratio.toFixed(2) + ':1 (' + (svg ? style.fill : style.color) + ' on rgb(' + bg.r + ',' + bg.g + ',' + bg.b + '))');
  }
}
return {checked: checked, bad: bad};
"""


def ax_value(node, key):
    v = node.get(key)
    return v.get("value") if isinstance(v, dict) else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("screenshot")
    ap.add_argument("--charts", type=int, required=True)
    ap.add_argument("--mark-name", action="append", default=[])
    a = ap.parse_args()

    driver = chromium.driver(1000, 1400)
    failures = []
    try:
        driver.set_page_load_timeout(60)
        driver.get("file://" + a.page)
        drawn = None
        for _ in range(100):
            drawn = driver.find_element(By.TAG_NAME, "body").get_attribute("data-charts-drawn")
            if drawn is not None:
                break
            time.sleep(0.1)
        if drawn != str(a.charts):
            failures.append(f"layout: {drawn} charts drawn, want {a.charts}")

        tree = driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
        visible = [n for n in tree if not n.get("ignored")]
        roles = {}
        headings = []
        marker_names = []
        for n in visible:
            role = ax_value(n, "role") or ""
            name = (ax_value(n, "name") or "").strip()
            roles[role] = roles.get(role, 0) + 1
            if role in ("image", "img", "link", "button", "table") and not name:
                failures.append(f"a11y: a {role} without a name (node {n.get('nodeId')})")
            if role == "heading":
                level = next((p["value"]["value"] for p in n.get("properties", [])
                              if p.get("name") == "level"), None)
                headings.append((level, name))
            if role in ("image", "img"):
                marker_names.append(name)
        levels = [h[0] for h in headings]
        if levels.count(1) != 1:
            failures.append(f"a11y: {levels.count(1)} level-1 headings, want 1: {headings}")
        for prev, cur in zip(levels, levels[1:]):
            if cur is not None and prev is not None and cur > prev + 1:
                failures.append(f"a11y: heading level {cur} after {prev}: {headings}")
        if roles.get("main", 0) != 1:
            failures.append(f"a11y: {roles.get('main', 0)} main landmarks, want 1")
        for want in a.mark_name:
            if not any(want in name for name in marker_names):
                failures.append(f"a11y: no decision marker is named with '{want}': {marker_names}")

        marks = driver.find_elements(By.CSS_SELECTOR, "svg.chart g.mark")
        for m in marks:
            if m.get_attribute("tabindex") != "0":
                failures.append("keyboard: a decision marker is not in the tab order")
        if marks:
            driver.execute_script("arguments[0].focus()", marks[0])
            if driver.switch_to.active_element != marks[0]:
                failures.append("keyboard: a decision marker does not take the focus")

        contrast = driver.execute_script(CONTRAST_JS)
        for b in contrast["bad"]:
            failures.append(f"contrast: {b}")
        if contrast["checked"] < 10:
            failures.append(f"contrast: only {contrast['checked']} texts checked")

        pause = driver.find_elements(By.ID, "pause")
        if not pause or not pause[0].is_displayed():
            failures.append("refresh: no visible Pause auto-refresh button")
        else:
            before = pause[0].get_attribute("aria-pressed")
            pause[0].click()
            after = pause[0].get_attribute("aria-pressed")
            if (before, after) != ("false", "true"):
                failures.append(f"refresh: aria-pressed went {before} -> {after}")
            pause[0].click()

        # The whole page, beyond the window.
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"],
                     "height": min(size["height"], 8000), "scale": 1}})
        with open(a.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print(json.dumps({"charts_drawn": drawn, "ax_nodes": len(visible),
                          "markers": len(marker_names), "headings": len(headings),
                          "texts_checked": contrast["checked"], "failures": len(failures)}))
    finally:
        driver.quit()
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
