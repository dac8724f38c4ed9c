#!/usr/bin/python3
"""Makes the README's dashboard screenshots (docs/dashboard-*.png) from a running demo CA (deploy/demo.sh):
logs in with its admin token in Debian's headless Chromium and saves the hierarchy and the timeline pages.
Usage: /usr/bin/python3 docs/screenshots.py URL ADMIN_TOKEN_FILE OUT_DIR"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

url, token_file, out = sys.argv[1:4]
o = webdriver.ChromeOptions()
o.binary_location = "/usr/bin/chromium"
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync",
          "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--window-size=1100,900"):
    o.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
d.get(url + "/ui/login")
d.find_element(By.ID, "token").send_keys(open(token_file).read().strip())
d.find_element(By.ID, "login").click()
for page, name in (("/ui/", "hierarchy"), ("/ui/timeline?years=10", "timeline")):
    d.get(url + page)
    d.set_window_size(1100, min(d.execute_script("return document.documentElement.scrollHeight") + 20, 2400))
    d.save_screenshot(os.path.join(out, "dashboard-" + name + ".png"))
    d.set_window_size(1100, 900)
d.quit()
