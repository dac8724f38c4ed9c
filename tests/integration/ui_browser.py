#!/usr/bin/python3
"""The dashboard in a real browser (issue 27): Debian's Chromium, headless, driven through chromedriver by
Selenium, against the running iotcad that tests/integration/test_ui.sh set up. Every page is opened, its content
checked against what the test made (issuer names, dates, the trust profile that breaks and when), a certificate
is revoked through its page, and each page is saved as a screenshot (artifacts, never committed). Along the
way: no console error, no request to any other origin, and a certificate named <script>alert(1)</script>
shown as text.

Input (environment): BASE, ADMIN, PROV_DEV (tokens), SHOTS (screenshot folder), PROFILE (a new folder for
the browser's profile), EXPECT (a JSON file of what the test made). Output: "ok - ..." lines; on the first failure "FAIL - ..." and exit status 1. The serial it
revoked is written to $SHOTS/revoked.serial for the shell to ask OCSP about."""
import atexit
import json
import os
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, NoSuchElementException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["BASE"]
SHOTS = os.environ["SHOTS"]
EXPECT = json.load(open(os.environ["EXPECT"]))
CHECKS = 0


def ok(what):
    global CHECKS
    CHECKS += 1
    print("ok - " + what, flush=True)


def fail(what):
    print("FAIL - " + what, file=sys.stderr, flush=True)
    try:
        shot("failure")
        print("page at the failure: %s\n%s" % (D.current_url, D.page_source[:2000]), file=sys.stderr)
    finally:
        sys.exit(1)


def check(cond, what):
    if not cond:
        fail(what)
    ok(what)


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    # as root in a closed network: no sandbox, and none of Chromium's own background connections
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1280,900",
              "--user-data-dir=" + os.environ["PROFILE"]):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_page_load_timeout(30)
    return d


D = browser()
atexit.register(D.quit)  # the browser and its driver end with this script, however it ends


def shot(name, width=1280):
    D.set_window_size(width, 900)
    h = D.execute_script("return document.documentElement.scrollHeight")
    D.set_window_size(width, min(max(h, 600) + 20, 6000))
    D.save_screenshot(os.path.join(SHOTS, name + ".png"))
    D.set_window_size(1280, 900)


def open_page(path):
    D.get(BASE + path)
    return D.page_source


def text(css):
    return D.find_element(By.CSS_SELECTOR, css).text


def path():
    return urllib.parse.urlparse(D.current_url).path


def console_and_origins(where):
    """No console message at error level, and every request the pages made went to BASE."""
    errors = [e for e in D.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    check(not errors, where + ": no console errors" + (": " + json.dumps(errors[:3]) if errors else ""))
    urls = set()
    for e in D.get_log("performance"):
        m = json.loads(e["message"])["message"]
        if m["method"] == "Network.requestWillBeSent":
            urls.add(m["params"]["request"]["url"])
    # data: URLs are the browser's own (the date input's calendar icon): nothing is fetched for them
    foreign = sorted(u for u in urls if not u.startswith(BASE + "/") and not u.startswith("data:"))
    check(urls and not foreign, where + ": all %d requests went to the daemon's origin%s" %
          (len(urls), (", not " + ", ".join(foreign[:3])) if foreign else ""))


def submit(button_id):
    """Clicks a form's button and waits until the page it leads to has replaced this one."""
    page = D.find_element(By.TAG_NAME, "html")
    D.find_element(By.ID, button_id).click()
    WebDriverWait(D, 15).until(expected_conditions.staleness_of(page))
    WebDriverWait(D, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def login(token):
    open_page("/ui/login")
    D.find_element(By.ID, "token").send_keys(token)
    submit("login")


# ---- logged out: no page but the login page ----
for p in ("/ui/", "/ui/timeline", "/ui/risk", "/ui/counts", "/ui/certs", "/ui/certs/" + EXPECT["fw_serial"]):
    src = open_page(p)
    check(path() == "/ui/login" and "Test Root" not in src and EXPECT["fw_serial"] not in src,
          "logged out, %s shows only the login page" % p)
login("iotca_0123456789abcdef_" + "0" * 64)
check(path() == "/ui/login" and text("#login-error") == "Unknown or wrong token.", "a wrong token is refused")

# ---- an admin ----
login(os.environ["ADMIN"])
check(path() == "/ui/", "the admin token logs in and lands on the hierarchy")
D.get_log("browser")  # the refusals above were asked for; from here on the console must stay clean
D.get_log("performance")
cookies = {c["name"]: c for c in D.get_cookies()}
s = cookies.get("iotca_session")
check(s and s["httpOnly"] and s.get("sameSite") == "Strict" and s["path"] == "/ui",
      "the session cookie is HttpOnly, SameSite=Strict, path /ui")
check(D.execute_script("return document.cookie") == "", "page script could not read the session cookie")

src = open_page("/ui/")
roots = [e.text for e in D.find_elements(By.CSS_SELECTOR, "#roots tr.root td:first-child")]
check(roots == ["CN=Test Root R1", "CN=Test Root R2"], "hierarchy: both roots listed (%s)" % roots)
cross = D.find_elements(By.CSS_SELECTOR, "#cross tr.cross")
check(len(cross) == 1 and "CN=Test Root R2" in cross[0].text and EXPECT["cross_end"] in cross[0].text,
      "hierarchy: the cross-sign of R2 by R1, ending %s" % EXPECT["cross_end"])
states = {e.find_element(By.CSS_SELECTOR, "td").text.split(" #")[0]: e.get_attribute("data-state")
          for e in D.find_elements(By.CSS_SELECTOR, "tr.issuer")}
check(states.get(EXPECT["issuer_a"]) == "active" and states.get(EXPECT["issuer_b"]) == "staged",
      "hierarchy: issuer %s active, %s staged (%s)" % (EXPECT["issuer_a"], EXPECT["issuer_b"], states))
nxt = text("#next")
check(EXPECT["issuer_b"] in nxt and EXPECT["b_at"] in nxt, "hierarchy: next issuer %s activates %s" %
      (EXPECT["issuer_b"], EXPECT["b_at"]))
check(len(D.find_elements(By.CSS_SELECTOR, "#warnings")) == 1, "hierarchy: the advance warnings section")
shot("hierarchy")

open_page("/ui/timeline")
svg = D.find_element(By.CSS_SELECTOR, "#timeline svg")
for cls in ("today", "due-30", "due-60", "due-180"):
    check(len(svg.find_elements(By.CSS_SELECTOR, "line." + cls)) == 1, "timeline: the %s line" % cls)
titles = [t.get_attribute("textContent") for t in svg.find_elements(By.CSS_SELECTOR, "title")]
check(any("cross-sign ends " + EXPECT["cross_end"] in t for t in titles), "timeline: the cross-sign end marked")
check(any(EXPECT["issuer_b"] in t and EXPECT["b_at"] in t for t in titles
          if "activat" in t), "timeline: %s's activation on %s marked" % (EXPECT["issuer_b"], EXPECT["b_at"]))
leaf = [t for t in titles if "firmware-endpoint" in t and "expire" in t]
check(leaf and sum(int(t.split()[0]) for t in leaf) == EXPECT["fw_valid"],
      "timeline: %d firmware-endpoint leaves in the weekly expiry band" % EXPECT["fw_valid"])
shot("timeline")

open_page("/ui/risk")
rows = {(e.get_attribute("data-profile"), e.get_attribute("data-group")): e
        for e in D.find_elements(By.CSS_SELECTOR, "tr.risk")}
r1 = rows.get(("fleet-r1-only", EXPECT["group"]))
check(r1 is not None and r1.find_element(By.CSS_SELECTOR, ".breaks-on").text == EXPECT["b_at"],
      "fleet risk: fleet-r1-only breaks on %s, when %s activates" % (EXPECT["b_at"], EXPECT["issuer_b"]))
both = rows.get(("fleet-both", EXPECT["group"]))
check(both is not None and both.find_element(By.CSS_SELECTOR, ".verdict").text.startswith("ok until"),
      "fleet risk: fleet-both is ok")
shot("risk")

open_page("/ui/certs")
D.find_element(By.ID, "q").send_keys("fw2")
submit("search")
found = [e.text for e in D.find_elements(By.CSS_SELECTOR, "#results tr.cert td:nth-child(2)")]
check(found == ["CN=fw2.updates.example.com"], "search by SAN/subject text: fw2 finds one (%s)" % found)
open_page("/ui/certs?status=revoked")
check(D.find_elements(By.ID, "no-results"), "search by status: nothing revoked yet")
open_page("/ui/certs?profile=device")
found = [e.text for e in D.find_elements(By.CSS_SELECTOR, "#results tr.cert td:nth-child(3)")]
check(found and set(found) == {"device"}, "search by profile: device certificates only")
open_page("/ui/certs?q=" + EXPECT["fw_serial"].upper())
check(EXPECT["fw_serial"] in text("#results"), "search by serial (any case)")
shot("certificates")

# a certificate whose CN is markup: shown as text, nothing runs
open_page("/ui/certs?q=" + urllib.parse.quote("<script>"))
link = D.find_element(By.CSS_SELECTOR, "#results tr.cert a")
check(D.find_element(By.CSS_SELECTOR, "#results tr.cert td:nth-child(2)").text == "CN=<script>alert(1)</script>",
      "the CN <script>alert(1)</script> is listed as text")
D.get(link.get_attribute("href"))
check(text("#subject") == "CN=<script>alert(1)</script>" and "&lt;script&gt;alert(1)&lt;/script&gt;" in D.page_source,
      "its page shows the CN as text, escaped in the HTML")
try:
    D.switch_to.alert
    fail("an alert opened: the CN ran as script")
except NoAlertPresentException:
    ok("no script ran")
check(D.execute_script("return document.scripts.length") == 0, "the page holds no script element")

# one certificate, revoked through its page
open_page("/ui/certs/" + EXPECT["fw_serial"])
check(text("#status") == "valid" and "-----BEGIN CERTIFICATE-----" in text("#pem") and
      "-----BEGIN CERTIFICATE-----" in text("#chain"), "certificate page: status valid, PEM and chain")
check("DNS:fw1.updates.example.com" in text("#names"), "certificate page: its SANs")
shot("certificate")
Select(D.find_element(By.ID, "reason")).select_by_visible_text("keyCompromise")
submit("revoke")
check(path() == "/ui/certs/" + EXPECT["fw_serial"] and text("#status") == "revoked" and
      "revoked" in text("#ocsp-state"), "revoked through the page: status and OCSP state revoked")
check(not D.find_elements(By.ID, "revoke"), "a revoked certificate offers no revoke button")
open(os.path.join(SHOTS, "revoked.serial"), "w").write(EXPECT["fw_serial"])

open_page("/ui/counts")
issued, refused, revoked = (int(text("#total-" + k)) for k in ("issued", "refused", "revoked"))
check((issued, refused, revoked) == (EXPECT["issued"], EXPECT["refused"], 1),
      "counts: %d issued, %d refused, 1 revoked (saw %d, %d, %d)" %
      (EXPECT["issued"], EXPECT["refused"], issued, refused, revoked))
check(len(D.find_elements(By.CSS_SELECTOR, "#counts svg")) == 1, "counts: the weekly chart")
shot("counts")
console_and_origins("admin pages")

# phone-sized: nothing wider than the screen but what scrolls inside its box
D.set_window_size(390, 844)
for p in ("/ui/", "/ui/timeline", "/ui/risk", "/ui/certs", "/ui/counts", "/ui/certs/" + EXPECT["fw_serial"]):
    open_page(p)
    w = D.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    check(w[0] <= w[1], "phone width: %s fits (%d <= %d px)" % (p, w[0], w[1]))
open_page("/ui/timeline")
shot("phone-timeline", 390)

# forged POSTs: another origin's page submits the revoke form while the admin's session is live. From another
# site (localhost is not 127.0.0.1's site) the browser sends no SameSite=Strict cookie; from another origin of
# the same site (another port) it does, and the missing form token and the Origin refuse it.
for url, why in ((EXPECT["evil_cross_site"], "Not logged in"), (EXPECT["evil_same_site"], "Refused")):
    D.get(url)
    for _ in range(100):
        if path().endswith("/revoke"):
            break
        time.sleep(0.1)
    h1 = D.find_element(By.TAG_NAME, "h1").text
    check(urllib.parse.urlparse(D.current_url).netloc == urllib.parse.urlparse(BASE).netloc and
          path() == "/ui/certs/%s/revoke" % EXPECT["xss_serial"] and h1 == why,
          "a forged POST from %s is refused: %s" % (urllib.parse.urlparse(url).netloc, h1))
open_page("/ui/certs/" + EXPECT["xss_serial"])
check(text("#status") == "valid", "... and the certificate is still valid")

# logging out ends the session
submit("logout")
check(path() == "/ui/login", "log out")
open_page("/ui/")
check(path() == "/ui/login", "after logging out, /ui/ leads to the login page")
D.delete_all_cookies()

# a provisioner scoped to the device profile: its pages, no more
login(os.environ["PROV_DEV"])
nav = [a.text for a in D.find_elements(By.CSS_SELECTOR, "nav a")]
check(nav == ["Hierarchy", "Certificates", "Counts"], "provisioner: navigation without timeline and risk (%s)" % nav)
check(not D.find_elements(By.ID, "issuers"), "provisioner: no issuers on the hierarchy page")
open_page("/ui/risk")
check(D.find_element(By.TAG_NAME, "h1").text == "Not for this role", "provisioner: fleet risk refused")
open_page("/ui/certs")
found = [e.text for e in D.find_elements(By.CSS_SELECTOR, "#results tr.cert td:nth-child(3)")]
check(found and set(found) == {"device"}, "provisioner scoped to device: only device certificates")
open_page("/ui/certs/" + EXPECT["fw2_serial"])
check(D.find_element(By.TAG_NAME, "h1").text == "Not found", "provisioner: a firmware certificate is not found")
open_page("/ui/certs/" + EXPECT["xss_serial"])
check(D.find_elements(By.ID, "revoke"), "provisioner: may revoke a certificate of its profile")
shot("provisioner-certificate")
D.get_log("browser")  # the 403 and 404 pages above are refusals asked for; what follows must be clean
D.get_log("performance")
open_page("/ui/counts")
console_and_origins("provisioner pages")

print("browser: %d checks" % CHECKS)
