#!/usr/bin/python3
"""Drive sclman serve's pages in Chromium (Selenium, Debian's chromium-driver) as a person would.

serve_ui.py --url URL --operator TOKEN --viewer TOKEN --evil URL --shots DIR

Signs in (a wrong token first), finds cluster shop on the clusters page, opens it, resizes it to
3 at once and to 2 as an intent, sends a forged form from another page (refused: no CSRF
field), signs out, and signs in as a viewer (no resize form). Screenshots go to DIR. Prints one
line per step; exits 1 naming the first step that failed.
"""
import argparse
import sys
import time

from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

import chromium  # tests/support/chromium.py


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--operator", required=True)
    ap.add_argument("--viewer", required=True)
    ap.add_argument("--admin", required=True)
    ap.add_argument("--evil", required=True)
    ap.add_argument("--shots", required=True)
    a = ap.parse_args()

    d = chromium.driver(1100, 1000)
    d.set_page_load_timeout(30)

    def check(ok, what):
        if not ok:
            d.save_screenshot(f"{a.shots}/serve-failed.png")
            print(f"FAIL: {what}\n--- page:\n{d.page_source[:3000]}", file=sys.stderr)
            d.quit()
            sys.exit(1)
        print(f"ok: {what}")

    def click(element):
        """Click `element` and wait until the page it leads to has replaced this one and loaded.
        While the next page loads (a cluster created, nginx started), the browser may answer
        a question about the old one with an error other than 'stale': wait on."""
        old = d.find_element(By.TAG_NAME, "html")
        element.click()

        def loaded(drv):
            try:
                old.is_enabled()
                return False
            except StaleElementReferenceException:
                pass
            except WebDriverException:
                return False
            try:
                return drv.execute_script("return document.readyState") == "complete"
            except WebDriverException:
                return False

        WebDriverWait(d, 60).until(loaded)

    def shot(name):
        d.save_screenshot(f"{a.shots}/serve-{name}.png")

    def sign_in(token):
        d.get(a.url + "/ui/login")
        d.find_element(By.ID, "token").send_keys(token)
        click(d.find_element(By.ID, "sign-in"))

    try:
        d.get(a.url + "/ui/")
        check(d.current_url.endswith("/ui/login"), "the pages ask to sign in first")
        sign_in("sclman_" + "A" * 43)
        check("not a valid token" in d.page_source, "a wrong token is refused")
        sign_in(a.operator)
        rows = d.find_elements(By.CSS_SELECTOR, "#clusters tr")
        check(len(rows) == 2 and "shop" in rows[1].text, "the clusters page lists shop")
        check(rows[1].find_element(By.CSS_SELECTOR, ".size").text == "2", "shop has 2 in service")
        shot("clusters")
        click(d.find_element(By.LINK_TEXT, "shop"))
        members = d.find_elements(By.CSS_SELECTOR, "#members tr")
        check(len(members) == 4, f"the cluster page shows 3 members ({len(members) - 1})")
        shot("cluster")

        to = d.find_element(By.ID, "to")
        to.clear()
        to.send_keys("3")
        d.find_element(By.ID, "now").click()
        click(d.find_element(By.ID, "resize-button"))
        notice = d.find_element(By.ID, "notice").text
        check("scale_out 2→3, done" in notice, f"resize to 3 now: {notice}")
        check(d.find_element(By.ID, "size").text == "3", "the page shows 3 in service")
        shot("resized-now")
        click(d.find_element(By.LINK_TEXT, "why"))
        check('"source": "api:ops"' in d.find_element(By.ID, "why").text,
              "the decision's why names api:ops")
        d.get(a.url + "/ui/clusters/shop")

        to = d.find_element(By.ID, "to")
        to.clear()
        to.send_keys("2")
        click(d.find_element(By.ID, "resize-button"))
        notice = d.find_element(By.ID, "notice").text
        check("scale_in 3→2, pending" in notice, f"resize to 2 as an intent: {notice}")
        shot("resized-intent")

        # The browser's own check of min and max stops this form first; with it off, the
        # server refuses the size itself.
        d.execute_script("document.getElementById('resize').noValidate = true")
        to = d.find_element(By.ID, "to")
        to.clear()
        to.send_keys("9")
        click(d.find_element(By.ID, "resize-button"))
        notice = d.find_element(By.ID, "notice").text
        check("outside [min 1, max 4]" in notice and "exit 64" in notice,
              f"a size outside [min, max] is refused with the CLI's words: {notice}")

        # A new cluster from the form; it comes into service; its policy changed.
        d.get(a.url + "/ui/")
        d.find_element(By.ID, "new-name").send_keys("blog")
        web = d.find_element(By.ID, "new-web")
        web.clear()
        web.send_keys("2")
        d.find_element(By.ID, "new-max").send_keys("4")
        click(d.find_element(By.ID, "create-button"))
        check("created cluster 'blog'" in d.find_element(By.ID, "notice").text,
              f"create blog from the form: {d.find_element(By.ID, 'notice').text}")
        for _ in range(60):
            if d.find_element(By.ID, "size").text == "2":
                break
            time.sleep(0.5)
            d.get(a.url + "/ui/clusters/blog")
        check(d.find_element(By.ID, "size").text == "2", "blog comes into service with 2")
        shot("created")
        minimum = d.find_element(By.ID, "policy-min")
        minimum.clear()
        minimum.send_keys("1")
        maximum = d.find_element(By.ID, "policy-max")
        maximum.clear()
        maximum.send_keys("3")
        click(d.find_element(By.ID, "policy-button"))
        check(d.find_element(By.ID, "notice").text == "policy changed"
              and d.find_element(By.ID, "policy-max").get_attribute("value") == "3",
              "the policy form sets max 3")
        d.find_element(By.ID, "preset").send_keys("nosuch")
        click(d.find_element(By.ID, "policy-button"))
        check("unknown policy" in d.find_element(By.ID, "notice").text,
              f"an unknown preset is refused: {d.find_element(By.ID, 'notice').text}")
        check(not d.find_elements(By.ID, "delete"), "an operator's page has no delete form")

        # Remove one member of blog (drained first).
        d.get(a.url + "/ui/clusters/blog")
        row = [r for r in d.find_elements(By.CSS_SELECTOR, "#members tr") if "blog-web-1" in r.text][0]
        click(row.find_element(By.CSS_SELECTOR, "button.remove"))
        notice = d.find_element(By.ID, "notice").text
        check("Removing blog-web-1: draining, desired 1" in notice, f"remove a member: {notice}")
        states = {r.find_elements(By.TAG_NAME, "td")[0].text: r.find_element(By.CSS_SELECTOR, ".state").text
                  for r in d.find_elements(By.CSS_SELECTOR, "#members tr")[1:]}
        check(states.get("blog-web-1") in ("draining", "deleting"), f"blog-web-1 drains: {states}")
        shot("removed")

        # Replace the other member of blog: its replacement boots first; the page shows the
        # rollout, and its charts.
        row = [r for r in d.find_elements(By.CSS_SELECTOR, "#members tr") if "blog-web-2" in r.text][0]
        click(row.find_element(By.CSS_SELECTOR, "button.replace"))
        notice = d.find_element(By.ID, "notice").text
        check("Replacing blog-web-2: its replacement boots" in notice, f"replace a member: {notice}")
        rollout = d.find_element(By.ID, "rollout").text
        check("running" in rollout and "of blog-web-2" in rollout and "1 of 1 left" in rollout,
              f"the page shows the rollout: {rollout}")
        check(len(d.find_elements(By.CSS_SELECTOR, "#charts svg.chart")) == 2,
              "the cluster's page has the dashboard's two charts")
        shot("replacing")

        # A page elsewhere that posts a form to this server, without the CSRF field.
        d.get(a.evil)
        click(d.find_element(By.ID, "go"))
        check("Refused" in d.page_source and "CSRF" in d.page_source,
              "a forged form from another page is refused")
        shot("csrf-refused")

        d.get(a.url + "/ui/clusters/shop")
        click(d.find_element(By.XPATH, "//button[text()='Sign out']"))
        check(d.current_url.endswith("/ui/login"), "sign out")
        d.get(a.url + "/ui/")
        check(d.current_url.endswith("/ui/login"), "signed out, the pages ask to sign in again")

        # An admin deletes blog, once its name is typed.
        sign_in(a.admin)
        d.get(a.url + "/ui/clusters/blog")
        d.find_element(By.ID, "confirm").send_keys("shop")
        click(d.find_element(By.ID, "delete-button"))
        check("Nothing was done" in d.find_element(By.ID, "notice").text,
              "delete with another name typed does nothing")
        d.find_element(By.ID, "confirm").send_keys("blog")
        shot("delete-confirm")
        click(d.find_element(By.ID, "delete-button"))
        check("deleted cluster 'blog'" in d.find_element(By.ID, "notice").text, "blog deleted")
        d.get(a.url + "/ui/")
        check("blog" not in d.find_element(By.ID, "clusters").text, "blog is gone from the list")
        click(d.find_element(By.XPATH, "//button[text()='Sign out']"))

        sign_in(a.viewer)
        d.get(a.url + "/ui/clusters/shop")
        check(not d.find_elements(By.ID, "resize") and not d.find_elements(By.ID, "policy"),
              "a viewer's page has no resize or policy form")
        shot("viewer")
    finally:
        d.quit()


if __name__ == "__main__":
    main()
