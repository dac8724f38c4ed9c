#!/usr/bin/env bash
# ACME (issue 21) requests the real clients never send, signed by tests/tools/acme_probe.py (Debian's python3-acme
# and python3-josepy, the libraries certbot signs with) against the real daemon: each refusal an RFC 8555 problem
# document of the right type, no row left behind, the daemon serving on. A used nonce (badNonce), a JWS signed for
# another url (unauthorized), by another key (malformed), no external account binding where one is required
# (externalAccountRequired), too many identifiers (rejectedIdentifier; 10,000 of them a body over the limit: 413
# malformed), a GET of a POST resource (405 malformed), finalize before the order is ready
# (orderNotReady), another account's order (unauthorized), a CSR that does not match its order (badCSR, the order
# left ready), and then the right CSR (valid, the certificate downloadable by its account only, with an alternate
# chain through a cross-certificate); challenges that must fail (outside allowed_ranges, nobody listening, a
# tls-alpn-01 certificate without acmeIdentifier, a TLS server without acme-tls/1).
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
# shellcheck source=tests/integration/acme_lib.sh
source "$HERE/acme_lib.sh"
acme_deps
PROBE=$HERE/../tools/acme_probe.py
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import acme, josepy' 2>/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-acme python3-josepy >/dev/null
command -v faketime >/dev/null && command -v certtool >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q faketime gnutls-bin >/dev/null
probe() { /usr/bin/python3 "$PROBE" "$@"; }
start_dns acme.test

ceremony
# R1 cross-signs R2 (root rollover, SPEC §3): once now, valid, and once three days ago for a day, expired; iotcad
# serves leaves under R2 with R2's chain, and the chain through the valid cross-certificate as an alternate
"$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross.pem --yes --passphrase-file rootpass >/dev/null
ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 faketime -f -3d "$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross-old.pem --days 1 --yes \
  --passphrase-file rootpass >/dev/null
write_config
HP=$(acme_free_port)
TP=$(acme_free_port)
jq --arg b "$BASE" --arg dns "127.0.0.1:$DNS_PORT" --arg w "$WORK" --argjson hp "$HP" --argjson tp "$TP" '.base_url = $b
  | .profiles.web = {key_types: ["ecdsa-p256"], max_ttl: "90d", eku: ["server"], dns_suffixes: ["acme.test"],
                     require_san: true}
  | .profiles["web-short"] = (.profiles.web + {max_ttl: "7d"})
  | .cross_certificates = [$w + "/cross-old.pem", $w + "/cross.pem"]
  | .acme = {profiles: {web: {variants: {shortlived: "web-short"}}},
             validation: {resolvers: [$dns], allowed_ranges: ["127.0.0.0/8"], timeout_s: 5, http_port: $hp,
                          tls_port: $tp}}' \
  iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1 r2
D=$BASE/acme/web/directory
A=$BASE/acme/web

# expect DESC STATUS TYPE JSON: the probe's answer must be STATUS with a problem of TYPE (or no problem for "")
expect_acme() {
  local desc=$1 status=$2 type=$3 answer=$4
  [ "$(jq -r .status <<<"$answer")" = "$status" ] || die "$desc: expected $status: $answer"
  if [ -n "$type" ]; then
    jq -e --arg t "urn:ietf:params:acme:error:$type" '.body.type == $t' <<<"$answer" >/dev/null || die "$desc: $answer"
    ok "$desc: $status $type ($(jq -r .body.detail <<<"$answer" | head -c 90))"
  else
    ok "$desc: $status"
  fi
}

probe key k1.pem
probe key k2.pem
expect_acme "newAccount without an external account binding" 400 externalAccountRequired "$(probe account "$D" k1.pem)"
eab() { "$IOTCAD" acme eab create --config iotcad.json --profile web --json; }
E1=$(eab)
ans=$(probe account "$D" k1.pem "$(jq -r .kid <<<"$E1")" "$(jq -r .hmac_key <<<"$E1")")
expect_acme "newAccount with python3-acme's external account binding" 201 "" "$ans"
K1=$(jq -r .location <<<"$ans")
[[ $K1 == "$A/account/"[0-9]* ]] || die "account URL: $K1"
expect_acme "the account, POST-as-GET" 200 "" "$(probe post "$D" k1.pem "$K1" "$K1" '')"

# ---- the envelope: nonces, url, signature (§6.2-6.5) ----
N=$(probe nonce "$D")
expect_acme "a fresh nonce" 200 "" "$(probe post "$D" k1.pem "$K1" "$K1" '' --nonce "$N")"
expect_acme "the same nonce again" 400 badNonce "$(probe post "$D" k1.pem "$K1" "$K1" '' --nonce "$N")"
expect_acme "a nonce the server never gave" 400 badNonce "$(probe post "$D" k1.pem "$K1" "$K1" '' --nonce AAAAAAAAAAAAAAAAAAAAAA)"
expect_acme "a JWS signed for another url" 403 unauthorized "$(probe post "$D" k1.pem "$K1" "$K1" '' --url "$A/new-order")"
expect_acme "a JWS signed by another key under the account's kid" 400 malformed \
  "$(probe post "$D" k1.pem "$K1" "$K1" '' --sign-with k2.pem)"
expect_acme "a kid that is no account" 400 accountDoesNotExist "$(probe post "$D" k1.pem "$A/account/999" "$A/account/999" '')"

# ---- orders (§7.4) ----
ids=$(jq -cn '[range(101) | {type: "dns", value: "n\(.).acme.test"}] | {identifiers: .}')
expect_acme "an order of 101 names" 400 rejectedIdentifier "$(probe post "$D" k1.pem "$K1" "$A/new-order" "$ids")"
# 10,000 names: a body over limits.max_body_bytes, refused by the engine before any handler, as a problem document
jq -cn '[range(10000) | {type: "dns", value: "n\(.).acme.test"}] | {identifiers: .}' > ids10k.json
ans=$(probe post "$D" k1.pem "$K1" "$A/new-order" @ids10k.json)
expect_acme "an order of 10,000 names" 413 malformed "$ans"
[ "$(jq -r .content_type <<<"$ans")" = application/problem+json ] || die "10,000 names: not a problem document: $ans"
[ -n "$(jq -r '.nonce // empty' <<<"$ans")" ] || die "10,000 names: no Replay-Nonce: $ans"
code=$(curl -s -D get.hdr -o get.body -w '%{http_code}' "$A/new-order")
[ "$code" = 405 ] && grep -qi '^content-type: application/problem+json' get.hdr && grep -qi '^allow: POST' get.hdr &&
  jq -e '.type == "urn:ietf:params:acme:error:malformed" and .status == 405' get.body >/dev/null ||
  die "GET new-order: $code $(cat get.hdr get.body)"
ok "GET new-order: 405 malformed problem document with Allow: POST (RFC 8555 §6.3)"
expect_acme "an order for a name outside the profile" 400 rejectedIdentifier \
  "$(probe post "$D" k1.pem "$K1" "$A/new-order" '{"identifiers":[{"type":"dns","value":"x.example.net"}]}')"
expect_acme "an order for an IP address" 400 unsupportedIdentifier \
  "$(probe post "$D" k1.pem "$K1" "$A/new-order" '{"identifiers":[{"type":"ip","value":"192.0.2.1"}]}')"
[ "$(sql "SELECT count(*) FROM acme_orders")" = 0 ] || die "a refused order left a row"
ok "no refused order left a row"
ans=$(probe post "$D" k1.pem "$K1" "$A/new-order" '{"identifiers":[{"type":"dns","value":"p1.acme.test"}]}')
expect_acme "an order for p1.acme.test" 201 "" "$ans"
O1=$(jq -r .location <<<"$ans")
FIN=$(jq -r .body.finalize <<<"$ans")
AZ=$(jq -r '.body.authorizations[0]' <<<"$ans")
probe csr good.csr p1.acme.test
expect_acme "finalize before the order is ready" 403 orderNotReady \
  "$(probe post "$D" k1.pem "$K1" "$FIN" "{\"csr\":\"$(cat good.csr)\"}")"
E2=$(eab)
K2=$(jq -r .location <<<"$(probe account "$D" k2.pem "$(jq -r .kid <<<"$E2")" "$(jq -r .hmac_key <<<"$E2")")")
expect_acme "another account reading the order" 403 unauthorized "$(probe post "$D" k2.pem "$K2" "$O1" '')"
expect_acme "another account reading its authorization" 403 unauthorized "$(probe post "$D" k2.pem "$K2" "$AZ" '')"

# dns-01 with the TXT record the probe computes, published with a signed RFC 2136 update
authz=$(probe post "$D" k1.pem "$K1" "$AZ" '')
CH=$(jq -r '.body.challenges[] | select(.type == "dns-01") | .url' <<<"$authz")
TOKEN=$(jq -r '.body.challenges[] | select(.type == "dns-01") | .token' <<<"$authz")
dns_update "update add _acme-challenge.p1.acme.test. 1 TXT \"$(probe dns01 k1.pem "$TOKEN")\"" ||
  die "could not publish the TXT record"
ans=$(probe post "$D" k1.pem "$K1" "$CH" '{}')
expect_acme "the dns-01 challenge answered" 200 "" "$ans"
[ "$(jq -r .body.status <<<"$ans")" = valid ] || die "the challenge is not valid: $ans"
[ "$(jq -r .body.status <<<"$(probe post "$D" k1.pem "$K1" "$O1" '')")" = ready ] || die "the order is not ready"
ok "the challenge is valid and the order ready"
probe csr bad.csr p2.acme.test
expect_acme "finalize with a CSR for another name" 400 badCSR \
  "$(probe post "$D" k1.pem "$K1" "$FIN" "{\"csr\":\"$(cat bad.csr)\"}")"
[ "$(jq -r .body.status <<<"$(probe post "$D" k1.pem "$K1" "$O1" '')")" = ready ] || die "a refused CSR changed the order"
ok "the order is still ready after the refused CSR"
ans=$(probe post "$D" k1.pem "$K1" "$FIN" "{\"csr\":\"$(cat good.csr)\"}")
expect_acme "finalize with the right CSR" 200 "" "$ans"
CERT=$(jq -r .body.certificate <<<"$ans")
[ "$(jq -r .body.status <<<"$ans")" = valid ] && [[ $CERT == "$A/cert/"* ]] || die "finalize: $ans"
expect_acme "finalize again" 403 orderNotReady "$(probe post "$D" k1.pem "$K1" "$FIN" "{\"csr\":\"$(cat good.csr)\"}")"
ans=$(probe post "$D" k1.pem "$K1" "$CERT" '')
jq -r .body <<<"$ans" > chain.pem
openssl verify -CAfile roots.pem -untrusted <(awk 'f; /END CERTIFICATE/ && !f {f=1}' chain.pem) chain.pem >/dev/null ||
  die "the downloaded chain does not verify: $(head -c 300 chain.pem)"
ok "the certificate and its chain, downloaded by the account, verify with openssl"
expect_acme "another account downloading it" 403 unauthorized "$(probe post "$D" k2.pem "$K2" "$CERT" '')"

# ---- the alternate chain through R1's cross-certificate (§7.4.2, Link rel="alternate") ----
jq -e --arg l "<$CERT/alt/1>;rel=\"alternate\"" '.links | index($l) != null and length == 2' <<<"$ans" >/dev/null ||
  die "the certificate's answer does not link one alternate chain: $(jq -c .links <<<"$ans")"
ok "the certificate's answer links one alternate chain, $CERT/alt/1 (the expired cross-certificate makes none)"
leaf_only() { awk '/BEGIN CERTIFICATE/ {n++} n == 1' "$1"; }
rest() { awk '/BEGIN CERTIFICATE/ {n++} n > 1' "$1"; }
leaf_only chain.pem > leaf.pem
! openssl verify -CAfile r1/root.pem -untrusted <(rest chain.pem) leaf.pem >/dev/null 2>&1 ||
  die "the issuer's chain verifies for a client trusting R1 alone: the test shows nothing"
ans=$(probe post "$D" k1.pem "$K1" "$CERT/alt/1" '')
expect_acme "the alternate chain, POST-as-GET" 200 "" "$ans"
jq -r .body <<<"$ans" > alt.pem
[ "$(grep -c 'BEGIN CERTIFICATE' alt.pem)" = 3 ] && cmp -s leaf.pem <(leaf_only alt.pem) ||
  die "the alternate chain is not the same leaf, its issuer and the cross-certificate: $(head -c 300 alt.pem)"
openssl verify -CAfile r1/root.pem -untrusted <(rest alt.pem) leaf.pem >/dev/null ||
  die "the alternate chain does not verify for a client trusting R1 alone"
certtool --verify --load-ca-certificate r1/root.pem --infile alt.pem >/dev/null ||
  die "GnuTLS does not verify the alternate chain against R1"
ok "the alternate chain verifies with openssl and certtool for a client that trusts only R1"
jq -e --arg l "<$CERT>;rel=\"alternate\"" '.links | index($l) != null' <<<"$ans" >/dev/null ||
  die "the alternate chain does not link back to the issuer's: $(jq -c .links <<<"$ans")"
ok "the alternate chain links back to the issuer's chain"
expect_acme "an alternate chain there is not (alt/2)" 400 malformed "$(probe post "$D" k1.pem "$K1" "$CERT/alt/2" '')"
expect_acme "an alternate chain named by no number (alt/x)" 400 malformed "$(probe post "$D" k1.pem "$K1" "$CERT/alt/x" '')"
expect_acme "another account downloading the alternate" 403 unauthorized "$(probe post "$D" k2.pem "$K2" "$CERT/alt/1" '')"
# ---- ARI (RFC 9773): the renewal window follows the CA's schedule ----
[ "$(curl -s "$D" | jq -r .renewalInfo)" = "$A/renewal-info" ] || die "the directory has no renewalInfo"
CID=$(probe certid chain.pem)
window() { probe get "$A/renewal-info/$1"; }
w=$(window "$CID")
now=$(date +%s)
start=$(jq -r '.body.suggestedWindow.start | fromdateiso8601' <<<"$w")
end=$(jq -r '.body.suggestedWindow.end | fromdateiso8601' <<<"$w")
na=$(date -d "$(openssl x509 -in chain.pem -noout -enddate | cut -d= -f2)" +%s)
[ "$(jq -r .status <<<"$w")" = 200 ] && [ "$(jq -r .retry_after <<<"$w")" = 21600 ] || die "renewalInfo: $w"
((start > now + 50 * 86400 && end > start && end < na)) || die "the window of a fresh 90-day certificate: $w"
ok "renewalInfo of a fresh 90-day certificate: its last third ($(jq -r .body.suggestedWindow.start <<<"$w") to $(jq -r .body.suggestedWindow.end <<<"$w")), Retry-After 21600"
# a cross-certificate of R2 ending in 20 days (iotcad restarted with it instead): the chain through it is offered
# until then, so the window moves to its end, onto the issuer's own chain
"$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross-20d.pem --days 20 --yes --passphrase-file rootpass \
  >/dev/null
stop_clean
jq --arg x "$WORK/cross-20d.pem" '.cross_certificates = [$x]' iotcad.json > c.json && mv c.json iotcad.json
start_daemon
xend=$(date -u -d "$(openssl x509 -in cross-20d.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
w=$(window "$CID")
[ "$(jq -r .body.suggestedWindow.start <<<"$w")" = "$xend" ] || die "the window does not start at the cross-sign end $xend: $w"
ok "a cross-certificate of the issuer's root ending $xend moves the window to start there"
# a successor issuer staged to activate in 10 days: the window moves to that activation, onto the new chain
http POST /v1/issuers -H "Authorization: Bearer $ADMIN" -d '{}'; [ "$STATUS" = 201 ] || die "a second issuer: $OUT"
next_id=$(jq -r .id <<<"$OUT"); jq -r .csr <<<"$OUT" > next.csr
"$ROOT_TOOL" sign-intermediate --vault r1 --csr next.csr --out next.pem --yes --passphrase-file rootpass >/dev/null
act=$(date -u -d '+10 days' +%Y-%m-%dT%H:%M:%SZ)
http PUT "/v1/issuers/$next_id/certificate" -H "Authorization: Bearer $ADMIN" \
  -d "$(jq -n --rawfile c next.pem --arg at "$act" '{certificate: $c, activate_at: $at}')"
[ "$STATUS" = 200 ] || die "staging the successor: $OUT"
w=$(window "$CID")
[ "$(jq -r .body.suggestedWindow.start <<<"$w")" = "$act" ] || die "the window does not start at the activation $act: $w"
ok "a successor staged for $act moves the window to start there (renew onto the new chain before the old ends)"
# revoked: renew now
http POST "/v1/certificates/$(openssl x509 -in chain.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')/revoke" \
  -H "Authorization: Bearer $ADMIN" -d '{"reason": "superseded"}'
[ "$STATUS" = 200 ] || die "revoking: $OUT"
w=$(window "$CID")
start=$(jq -r '.body.suggestedWindow.start | fromdateiso8601' <<<"$w")
((start <= $(date +%s))) || die "a revoked certificate's window has not begun: $w"
ok "revoked: the window has begun (renew now)"
[ "$(jq -r .status <<<"$(window "AAAA.AAAA")")" = 404 ] || die "an unknown certID is not 404"
[ "$(jq -r .status <<<"$(window "nodot")")" = 400 ] || die "a malformed certID is not 400"
[ "$(jq -r .status <<<"$(window "${CID%%.*}x.${CID#*.}")")" = 404 ] || die "a wrong key identifier is not 404"
ok "renewalInfo refuses an unknown certID (404), a wrong key identifier (404), a malformed one (400)"

# replaces (RFC 9773 §5): recorded; a certificate is replaced once, by the account that ordered it
order_p1() { probe post "$D" "$1" "$2" "$A/new-order" "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"p1.acme.test\"}],\"replaces\":\"$3\"}"; }
expect_acme "an order replacing the certificate" 201 "" "$(order_p1 k1.pem "$K1" "$CID")"
[ "$(sql "SELECT count(*) FROM acme_orders WHERE replaces = '$CID'")" = 1 ] || die "replaces is not recorded"
expect_acme "a second order replacing it" 409 alreadyReplaced "$(order_p1 k1.pem "$K1" "$CID")"
expect_acme "another account replacing it" 400 malformed "$(order_p1 k2.pem "$K2" "$CID")"
expect_acme "replaces that is no certID" 400 malformed "$(order_p1 k1.pem "$K1" "not-a-cert-id")"

# ---- account key rollover (§7.3.5) and authorization deactivation (§7.5.2) ----
probe key k3.pem
ans=$(probe keychange "$D" k1.pem "$K1" k2.pem)
expect_acme "keyChange to another account's key" 409 malformed "$ans"
[ "$(jq -r .location <<<"$ans")" = "$K2" ] || die "the 409 does not name the account that has the key: $ans"
ans=$(probe keychange "$D" k1.pem "$K1" k3.pem)
expect_acme "keyChange from k1 to a new key k3" 200 "" "$ans"
expect_acme "the old key under the account's kid" 400 malformed "$(probe post "$D" k1.pem "$K1" "$K1" '')"
expect_acme "the new key under the account's kid" 200 "" "$(probe post "$D" k3.pem "$K1" "$K1" '')"
ans=$(probe post "$D" k3.pem "$K1" "$A/new-order" '{"identifiers":[{"type":"dns","value":"d1.acme.test"}]}')
O3=$(jq -r .location <<<"$ans")
AZ3=$(jq -r '.body.authorizations[0]' <<<"$ans")
expect_acme "deactivating an authorization with another status than deactivated" 400 malformed \
  "$(probe post "$D" k3.pem "$K1" "$AZ3" '{"status":"valid"}')"
ans=$(probe post "$D" k3.pem "$K1" "$AZ3" '{"status":"deactivated"}')
expect_acme "deactivating an authorization" 200 "" "$ans"
[ "$(jq -r .body.status <<<"$ans")" = deactivated ] || die "the authorization is not deactivated: $ans"
[ "$(jq -r .body.status <<<"$(probe post "$D" k3.pem "$K1" "$O3" '')")" = invalid ] || die "its order is not invalid"
ok "the deactivated authorization's order is invalid"

# ---- ACME profiles (draft-aaron-acme-profiles): the directory offers variants; an order names one ----
curl -s "$D" | jq -e '.meta.profiles | has("shortlived") and has("web")' >/dev/null || die "meta.profiles: $(curl -s "$D")"
expect_acme "an order for a profile the directory does not offer" 400 invalidProfile \
  "$(probe post "$D" k3.pem "$K1" "$A/new-order" '{"identifiers":[{"type":"dns","value":"s1.acme.test"}],"profile":"nosuch"}')"
ans=$(probe post "$D" k3.pem "$K1" "$A/new-order" '{"identifiers":[{"type":"dns","value":"s1.acme.test"}],"profile":"shortlived"}')
expect_acme "an order for the shortlived profile" 201 "" "$ans"
[ "$(jq -r .body.profile <<<"$ans")" = shortlived ] || die "the order does not say its profile: $ans"
FIN=$(jq -r .body.finalize <<<"$ans")
authz=$(probe post "$D" k3.pem "$K1" "$(jq -r '.body.authorizations[0]' <<<"$ans")" '')
TOKEN=$(jq -r '.body.challenges[] | select(.type == "dns-01") | .token' <<<"$authz")
dns_update "update add _acme-challenge.s1.acme.test. 1 TXT \"$(probe dns01 k3.pem "$TOKEN")\"" || die "TXT"
probe post "$D" k3.pem "$K1" "$(jq -r '.body.challenges[] | select(.type == "dns-01") | .url' <<<"$authz")" '{}' >/dev/null
probe csr short.csr s1.acme.test
ans=$(probe post "$D" k3.pem "$K1" "$FIN" "{\"csr\":\"$(cat short.csr)\"}")
[ "$(jq -r .body.status <<<"$ans")" = valid ] || die "the shortlived order did not finalize: $ans"
jq -r .body <<<"$(probe post "$D" k3.pem "$K1" "$(jq -r .body.certificate <<<"$ans")" '')" > short.pem
nb=$(date -d "$(openssl x509 -in short.pem -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in short.pem -noout -enddate | cut -d= -f2)" +%s)
((na - nb <= 7 * 86400 + 3600)) || die "the shortlived certificate lives $(((na - nb) / 86400)) days"
[ "$(sql "SELECT count(*) FROM certificates WHERE profile = 'web-short'")" = 1 ] || die "not issued under web-short"
ok "an order for profile shortlived is issued under iotca profile web-short (7 days), as the directory says"

# ---- validation that must fail (§8.3, §8.4, RFC 8737): each challenge invalid with the problem that says why ----
# challenge NAME TYPE: orders NAME with k3's account and answers its TYPE challenge; prints the challenge's answer
challenge() {
  local o az
  o=$(probe post "$D" k3.pem "$K1" "$A/new-order" "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"$1\"}]}")
  az=$(probe post "$D" k3.pem "$K1" "$(jq -r '.body.authorizations[0]' <<<"$o")" '')
  probe post "$D" k3.pem "$K1" "$(jq -r --arg t "$2" '.body.challenges[] | select(.type == $t) | .url' <<<"$az")" '{}'
}
# expect_invalid DESC TYPE REGEX ANSWER: the challenge is invalid, its error of TYPE with a detail matching REGEX
expect_invalid() {
  jq -e --arg t "urn:ietf:params:acme:error:$2" --arg re "$3" \
    '.status == 200 and .body.status == "invalid" and .body.error.type == $t and (.body.error.detail | test($re))' \
    <<<"$4" >/dev/null || die "$1: $4"
  ok "$1: invalid, $2 ($(jq -r .body.error.detail <<<"$4" | head -c 100))"
}
dns_update "update add far.acme.test. 1 A 192.0.2.10" || die "A far"
for n in tls1 tls2 tls3 h1; do dns_update "update add $n.acme.test. 1 A 127.0.0.1" || die "A $n"; done
expect_invalid "http-01 to an address outside allowed_ranges (192.0.2.10)" rejectedIdentifier \
  'far.acme.test resolves to 192.0.2.10, which validation may not reach' "$(challenge far.acme.test http-01)"
expect_invalid "tls-alpn-01 with nothing listening on tls_port" connection 'cannot connect' "$(challenge tls1.acme.test tls-alpn-01)"
expect_invalid "http-01 with nothing listening on http_port" connection '' "$(challenge h1.acme.test http-01)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout plain.key -out plain.crt -days 1 \
  -subj /CN=tls2.acme.test -addext subjectAltName=DNS:tls2.acme.test 2>/dev/null
# openssl s_server answering ALPN acme-tls/1 with a certificate that has no acmeIdentifier
openssl s_server -accept "127.0.0.1:$TP" -cert plain.crt -key plain.key -alpn acme-tls/1 -quiet \
  >s_server.log 2>&1 &
SERVER=$!
ACME_PIDS+=("$SERVER")
acme_wait_port "$TP" "$SERVER" "openssl s_server" s_server.log
expect_invalid "tls-alpn-01 answered by a certificate without acmeIdentifier" incorrectResponse \
  'acmeIdentifier' "$(challenge tls2.acme.test tls-alpn-01)"
kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true
openssl s_server -accept "127.0.0.1:$TP" -cert plain.crt -key plain.key -quiet >s_server.log 2>&1 &
SERVER=$!
ACME_PIDS+=("$SERVER")
acme_wait_port "$TP" "$SERVER" "openssl s_server" s_server.log
expect_invalid "tls-alpn-01 to a TLS server that does not speak acme-tls/1" tls 'ALPN|handshake' \
  "$(challenge tls3.acme.test tls-alpn-01)"
kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true
[ "$(sql "SELECT count(*) FROM acme_orders o WHERE o.status != 'invalid' AND o.identifiers LIKE '%tls%'")" = 0 ] ||
  die "an order with a failed challenge is not invalid: $(sql "SELECT status, identifiers FROM acme_orders")"
ok "every order with a failed challenge is invalid"

curl -sf "$BASE/healthz" >/dev/null || die "the daemon stopped serving"
stop_clean
echo "$CHECKS passed, 0 failed"
