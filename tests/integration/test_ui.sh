#!/usr/bin/env bash
# The dashboard (issue 27, SPEC §13) in a real browser and with curl: a CA with two roots, a cross-sign, an
# active issuer under R1 and a staged one under R2, two registered trust profiles (one holding only R1, which
# breaks when the staged issuer activates), leaves of two profiles (one with the CN <script>alert(1)</script>)
# and a refused request. tests/integration/ui_browser.py then drives Debian's Chromium through every page;
# here: the revocation it made, seen by OpenSSL's OCSP client; the headers; the forms refused without their
# token or from another origin; sessions that end. Screenshots go to $IOTCA_BIN/ui-screenshots (artifacts).
source "$(dirname "$0")/daemon_lib.sh"
for b in /usr/bin/chromium /usr/bin/chromedriver; do [ -x $b ] || die "$b missing (deploy/install-deps.sh installs it)"; done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || die "python3-selenium missing (deploy/install-deps.sh installs it)"

ceremony
"$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross.pem --days 40 --yes --passphrase-file rootpass >/dev/null
write_config "\"cross_certificates\": [\"$WORK/cross.pem\"]"
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer a
A_NAME=$(curl -s "$BASE/v1/issuers" -H "Authorization: Bearer $ADMIN" | jq -r ".issuers[] | select(.id == $ISSUER_ID) | .name")
B_SECONDS=$((20 * 86400))
stage_issuer b $B_SECONDS r2
B_ID=$ISSUER_ID
B_NAME=$(curl -s "$BASE/v1/issuers" -H "Authorization: Bearer $ADMIN" | jq -r ".issuers[] | select(.id == $B_ID) | .name")
B_AT=$(curl -s "$BASE/v1/issuers" -H "Authorization: Bearer $ADMIN" | jq -r ".issuers[] | select(.id == $B_ID) | .activate_at" | cut -c1-10)
GROUP=$(curl -s "$BASE/v1/issuers" -H "Authorization: Bearer $ADMIN" | jq -r ".issuers[] | select(.id == $B_ID) | .group")
CROSS_END=$(date -u -d "$(openssl x509 -in cross.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%d)

# trust profiles, registered after the staging (preflight would refuse the staging otherwise)
profile() { # profile NAME PEMFILE ACK...
  local name=$1 pem=$2; shift 2
  http POST /v1/trust-profiles -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d "$(jq -n --arg n "$name" --rawfile p "$pem" --args '{name: $n, pem: $p, stack: "mbedtls", until: "2028-06-01",
          acknowledge: $ARGS.positional}' "$@")"
  expect 201 "" "register trust profile $name"
}
profile fleet-r1-only r1/root.pem store.single_root chain.no_anchor
profile fleet-both roots.pem

for i in 1 2 3; do
  make_csr "fw$i" "fw$i.updates.example.com" "DNS:fw$i.updates.example.com"
  issue "fw$i" firmware-endpoint "$PROV"; expect 201 "" "issue fw$i"
  eval "FW${i}_SERIAL=\$(echo \"\$OUT\" | jq -r .serial)"
done
for i in 1 2; do
  make_csr "dev$i" "device-$i" "URI:urn:dev:acme:$i"
  issue "dev$i" device "$PROV"; expect 201 "" "issue device $i"
done
make_csr xss '<script>alert(1)<\/script>' 'URI:urn:dev:acme:xss'
issue xss device "$PROV"; expect 201 "" "issue a device certificate whose CN is <script>alert(1)</script>"
XSS_SERIAL=$(echo "$OUT" | jq -r .serial)
make_csr off "fw9.elsewhere.example" "DNS:fw9.elsewhere.example"
issue off firmware-endpoint "$PROV"; expect 422 "" "a request outside its profile is refused (counted)"

# the pages another origin serves: a form posting to the revoke of the xss certificate, submitted at load
EVIL=$(free_port)
mkdir evil
cat > evil/index.html <<HTML
<!doctype html><html><body><form id="f" method="post" action="$BASE/ui/certs/$XSS_SERIAL/revoke">
<input name="reason" value="keyCompromise"></form><script>document.getElementById('f').submit()</script></body></html>
HTML
(cd evil && exec /usr/bin/python3 -m http.server "$EVIL" --bind 127.0.0.1 >/dev/null 2>&1) &
wait_port "$EVIL"

SHOTS=${UI_SHOTS:-$IOTCA_BIN/ui-screenshots}
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
jq -n --arg fw "$FW1_SERIAL" --arg fw2 "$FW2_SERIAL" --arg xss "$XSS_SERIAL" --arg a "$A_NAME" --arg b "$B_NAME" \
  --arg bat "$B_AT" --arg cross "$CROSS_END" --arg g "$GROUP" \
  --arg e1 "http://localhost:$EVIL/" --arg e2 "http://127.0.0.1:$EVIL/" \
  '{fw_serial: $fw, fw2_serial: $fw2, xss_serial: $xss, issuer_a: $a, issuer_b: $b, b_at: $bat, cross_end: $cross,
    group: $g, fw_valid: 3, issued: 6, refused: 1, evil_cross_site: $e1, evil_same_site: $e2}' > expect.json
BASE=$BASE ADMIN=$ADMIN PROV_DEV=$PROV_DEV SHOTS=$SHOTS PROFILE=$WORK/chromium EXPECT=$WORK/expect.json \
  timeout 300 /usr/bin/python3 "$IOTCA_SRC/tests/integration/ui_browser.py" || die "the browser run failed"
ok "the browser run passed (screenshots in $SHOTS)"

# the revocation made through the page, as OCSP answers it (OpenSSL's client)
[ "$(cat "$SHOTS/revoked.serial")" = "$FW1_SERIAL" ] || die "the browser did not revoke fw1"
openssl ocsp -issuer a.pem -cert fw1.crt -url "$BASE/ocsp" -CAfile roots.pem -resp_text > ocsp.txt 2>&1 || true
grep -q "fw1.crt: revoked" ocsp.txt || die "OCSP does not say revoked: $(head -5 ocsp.txt)"
grep -q "Reason: keyCompromise" ocsp.txt || die "OCSP does not give the reason: $(grep -i reason ocsp.txt)"
ok "OCSP answers revoked (keyCompromise) for the certificate revoked in the browser"
[ "$(sql "SELECT actor || ' ' || action || ' ' || outcome FROM audit WHERE action LIKE 'POST /ui/certs/%/revoke' AND subject = '$FW1_SERIAL'")" = \
  "token:$(echo "$ADMIN" | cut -d_ -f2) POST /ui/certs/$FW1_SERIAL/revoke 303" ] || die "the revocation is not in the audit trail"
ok "the revocation is in the audit trail, by the admin's token"

# ---- with curl: headers, forms, sessions ----
login_session() { # login_session TOKEN -> cookie jar $1.jar, the page's form token in CSRF
  rm -f "$2.jar"
  curl -s -c "$2.jar" -b "$2.jar" "$BASE/ui/login" -o login.html
  local pre
  pre=$(grep -o 'name="csrf" value="[0-9a-f]*"' login.html | grep -o '[0-9a-f]\{64\}')
  curl -s -c "$2.jar" -b "$2.jar" -o /dev/null --data-urlencode "token=$1" --data "csrf=$pre" "$BASE/ui/login"
  curl -s -b "$2.jar" "$BASE/ui/" -o page.html
  CSRF=$(grep -o 'name="csrf" value="[0-9a-f]*"' page.html | grep -o '[0-9a-f]\{64\}')
  [ -n "$CSRF" ] || die "no session for $2"
}
login_session "$ADMIN" admin
curl -s -D h.txt -o /dev/null -b admin.jar "$BASE/ui/risk"
grep -qi "^Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" h.txt ||
  die "no strict CSP header: $(cat h.txt)"
grep -qi '^X-Content-Type-Options: nosniff' h.txt && grep -qi '^X-Frame-Options: DENY' h.txt || die "security headers missing"
ok "pages carry the strict Content-Security-Policy, nosniff and DENY framing"
revoke_post() { # revoke_post EXPECTED_STATUS DESCRIPTION [curl args]
  local want=$1 what=$2; shift 2
  STATUS=$(curl -s -o post.html -w '%{http_code}' -b admin.jar "$@" "$BASE/ui/certs/$XSS_SERIAL/revoke")
  [ "$STATUS" = "$want" ] || die "$what: expected $want, got $STATUS"
  ok "$what ($want)"
}
revoke_post 403 "a revoke without the form token is refused" --data "reason=keyCompromise"
revoke_post 403 "a revoke with a wrong form token is refused" --data "reason=keyCompromise&csrf=$(printf '0%.0s' $(seq 64))"
revoke_post 403 "a revoke from another origin is refused" -H "Origin: http://localhost:$EVIL" --data "reason=keyCompromise&csrf=$CSRF"
revoke_post 403 "a revoke a browser says is cross-site is refused" -H "Sec-Fetch-Site: cross-site" --data "reason=keyCompromise&csrf=$CSRF"
revoke_post 403 "a revoke from Origin null is refused" -H "Origin: null" --data "reason=keyCompromise&csrf=$CSRF"
revoke_post 415 "a revoke that is not a form is refused" -H 'Content-Type: application/json' --data '{"csrf":"x"}'
revoke_post 400 "a form with a broken %-escape is refused" --data "reason=key%zzCompromise&csrf=$CSRF"
revoke_post 400 "a form with a NUL is refused" --data "reason=a%00b&csrf=$CSRF"
revoke_post 400 "a revoke with an unknown reason is refused" --data "reason=becauseISaidSo&csrf=$CSRF"
[ "$(sql "SELECT status FROM certificates WHERE serial = '$XSS_SERIAL'")" = valid ] || die "a refused form revoked"
ok "none of the refused forms changed anything"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b admin.jar --data "csrf=$CSRF" "$BASE/ui/certs/ffff0000/revoke")
[ "$STATUS" = 404 ] || die "revoking an unknown serial: $STATUS"
ok "revoking an unknown serial through the form: 404"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b admin.jar "$BASE/ui/timeline?years=99")
[ "$STATUS" = 400 ] || die "timeline years=99: $STATUS"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b admin.jar "$BASE/ui/certs?expires_before=tomorrow")
[ "$STATUS" = 400 ] || die "certs expires_before=tomorrow: $STATUS"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b admin.jar "$BASE/ui/counts?weeks=1")
[ "$STATUS" = 400 ] || die "counts weeks=1: $STATUS"
ok "bad query values get 400 pages"
STATUS=$(curl -s -o page.html -w '%{http_code}' -b admin.jar "$BASE/ui/certs/not-a-serial")
[ "$STATUS" = 404 ] && grep -q '<h1>Not found</h1>' page.html || die "a malformed serial's page: $STATUS"
STATUS=$(curl -s -o page.html -w '%{http_code}' -b admin.jar "$BASE/ui/certs/$(printf 'f%.0s' $(seq 41))")
[ "$STATUS" = 404 ] || die "a 41-digit serial's page: $STATUS"
STATUS=$(curl -s -D h.txt -o page.html -w '%{http_code}' -b admin.jar -X DELETE "$BASE/ui/")
[ "$STATUS" = 405 ] && grep -q '<h1>Method not allowed</h1>' page.html && grep -qi '^Content-Security-Policy:' h.txt ||
  die "DELETE /ui/: $STATUS $(head -c 200 page.html)"
ok "a malformed or over-long serial is a 404 page; a method a page does not take is a 405 page with the CSP"

# a login from another site, or without the login form's token, makes no session
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -c x.jar --data-urlencode "token=$ADMIN" --data "csrf=$CSRF" "$BASE/ui/login")
[ "$STATUS" = 403 ] && ! grep -q iotca_session x.jar || die "a login without the login cookie: $STATUS"
ok "a login posted without the login form's cookie is refused (403), no session"

STATUS=$(curl -s -o /dev/null -w '%{http_code}' -c x.jar -H 'Content-Type: application/json' --data '{"token":"x"}' "$BASE/ui/login")
[ "$STATUS" = 415 ] || die "a login that is not a form: $STATUS"
ok "a login that is not a form is refused (415)"

# sessions end: at logout (a logout needs the form token too), and when their token is revoked
login_session "$PROV_DEV" prov
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b prov.jar --data "csrf=" "$BASE/ui/logout")
[ "$STATUS" = 403 ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -b prov.jar "$BASE/ui/certs")" = 200 ] ||
  die "a logout without the form token: $STATUS, or it ended the session"
ok "a logout without the form token is refused (403) and the session goes on"
curl -s -o /dev/null -b prov.jar --data "csrf=$CSRF" "$BASE/ui/logout"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b prov.jar "$BASE/ui/certs")
[ "$STATUS" = 303 ] || die "a logged-out session still sees pages: $STATUS"
ok "after logout the old session cookie sees no page (303 to the login page)"
login_session "$PROV_DEV" prov
"$IOTCAD" token revoke --config iotcad.json "$(echo "$PROV_DEV" | cut -d_ -f2)" >/dev/null
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b prov.jar "$BASE/ui/certs")
[ "$STATUS" = 303 ] || die "a session of a revoked token still sees pages: $STATUS"
ok "revoking the token ends its session at once"
grep -q "$ADMIN" daemon.log && die "a token's secret is in the log"
ok "no token secret in the log"
stop_clean
echo "PASS test_ui: $CHECKS checks"
