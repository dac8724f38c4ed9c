#!/usr/bin/env bash
# ACME issuance from iotcad (issue 21) with the clients infra teams run: Debian's certbot and lego, with EAB,
# http-01 (their standalone servers), tls-alpn-01 (lego's) and dns-01 (certbot-dns-rfc2136 and lego's rfc2136 provider) against a real
# authoritative DNS server (Knot, TSIG updates) that iotcad's validation asks (acme.validation.resolvers); certbot
# renew; refusals (a name outside the profile, a challenge nobody answers). Every certificate verifies with openssl
# to the CA's roots, is in the inventory, and names the ACME order that made it.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
# shellcheck source=tests/integration/acme_lib.sh
source "$HERE/acme_lib.sh"
acme_deps
acme_init
start_dns acme.test

ceremony
# R1 cross-signs R2, under which the issuer is: ACME offers the chain through it as an alternate
"$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross.pem --yes --passphrase-file rootpass >/dev/null
write_config
# a profile for the infra team's servers under acme.test, served over ACME; validation asks the test DNS server
# and connects to loopback on the clients' port
jq --arg b "$BASE" --arg dns "127.0.0.1:$DNS_PORT" --arg cross "$WORK/cross.pem" --argjson port "$HTTP01_PORT" --argjson tls "$TLSALPN01_PORT" '.base_url = $b
  | .profiles.web = {key_types: ["ecdsa-p256", "ecdsa-p384"], max_ttl: "90d", eku: ["server"],
                     dns_suffixes: ["acme.test"], require_san: true}
  | .cross_certificates = [$cross]
  | .acme = {profiles: {web: {}},
             validation: {resolvers: [$dns], http_port: $port, tls_port: $tls, allowed_ranges: ["127.0.0.0/8"],
                          timeout_s: 5}}' \
  iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1 r2
ACME_DIRECTORY=$BASE/acme/web/directory
ACME_CA_BUNDLE=$WORK/roots.pem
ACME_ROOTS=$WORK/roots.pem
eab() { "$IOTCAD" acme eab create --config iotcad.json --profile web --json; }
E1=$(eab)
CB_EAB=(--eab-kid "$(jq -r .kid <<<"$E1")" --eab-hmac-key="$(jq -r .hmac_key <<<"$E1")")
LIVE=$ACME_TMP/certbot/config/live
STANDALONE=(--standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 --key-type ecdsa)

# ---- certbot ----
client_ok "certbot http-01 (--standalone on $HTTP01_PORT) with EAB for web1.acme.test" \
  certbot_run certonly "${STANDALONE[@]}" -d web1.acme.test "${CB_EAB[@]}"
check_issued "$LIVE/web1.acme.test/cert.pem" "$LIVE/web1.acme.test/chain.pem" web1.acme.test
s1=$(cert_serial "$LIVE/web1.acme.test/cert.pem")
[ "$(sql "SELECT count(*) FROM acme_orders o JOIN certificates c ON c.serial = o.serial WHERE o.status = 'valid'
  AND c.profile = 'web' AND ltrim(o.serial, '0') = '$s1'")" = 1 ] || die "no valid order made $s1"
ok "the certificate is in the inventory (profile web) and its ACME order is valid with its serial"
full=$(sql "SELECT serial FROM acme_orders WHERE status = 'valid' ORDER BY id LIMIT 1")
http GET "/v1/certificates/$full" -H "Authorization: Bearer $PROV"
jq -e '.acme.account == 1 and (.acme.order | type == "number") and .profile == "web"' <<<"$OUT" >/dev/null ||
  die "GET /v1/certificates/$full does not say which ACME account asked: $OUT"
ok "GET /v1/certificates/{serial} says which ACME account and order asked for it"
client_ok "certbot --preferred-chain 'Test Root R1' for web3.acme.test (the alternate chain, Link rel=alternate)" \
  certbot_run certonly "${STANDALONE[@]}" -d web3.acme.test --preferred-chain "Test Root R1"
[ "$(grep -c 'BEGIN CERTIFICATE' "$LIVE/web3.acme.test/chain.pem")" = 2 ] &&
  openssl verify -CAfile r1/root.pem -untrusted "$LIVE/web3.acme.test/chain.pem" "$LIVE/web3.acme.test/cert.pem" \
    >/dev/null || die "certbot's preferred chain is not the issuer and the cross-certificate to R1: $(
    openssl crl2pkcs7 -nocrl -certfile "$LIVE/web3.acme.test/chain.pem" | openssl pkcs7 -print_certs -noout)"
! openssl verify -CAfile r1/root.pem -untrusted "$LIVE/web1.acme.test/chain.pem" "$LIVE/web1.acme.test/cert.pem" \
  >/dev/null 2>&1 || die "web1's default chain verifies against R1 alone: the preferred-chain check shows nothing"
ok "certbot took the chain through the cross-certificate: it verifies with openssl against R1 alone; the default does not"
certbot_rfc2136_ini "$ACME_TMP/rfc2136.ini"
client_ok "certbot dns-01 (--dns-rfc2136, TSIG) for web2.acme.test and www.web2.acme.test" \
  certbot_run certonly --dns-rfc2136 --dns-rfc2136-credentials "$ACME_TMP/rfc2136.ini" --key-type ecdsa \
  --dns-rfc2136-propagation-seconds 0 -d web2.acme.test -d www.web2.acme.test
check_issued "$LIVE/web2.acme.test/cert.pem" "$LIVE/web2.acme.test/chain.pem" web2.acme.test www.web2.acme.test
client_ok "certbot renew --force-renewal (both lineages)" certbot_run renew --force-renewal --no-random-sleep-on-renew
[[ $(cert_serial "$LIVE/web1.acme.test/cert.pem") != "$s1" ]] || die "web1.acme.test was not renewed"
check_issued "$LIVE/web1.acme.test/cert.pem" "$LIVE/web1.acme.test/chain.pem" web1.acme.test
# certbot 2.1 then fails in its own error handler ("AttributeError: can't set attribute", josepy): the server's
# problem document is in certbot's log
client_refused "certbot for a name outside the profile is refused" "." \
  certbot_run certonly "${STANDALONE[@]}" -d other.example.net
grep -q "urn:ietf:params:acme:error:rejectedIdentifier :: .*rule san.dns: 'other.example.net' is not under an allowed domain" \
  "$ACME_TMP/certbot/logs/letsencrypt.log" || die "no rejectedIdentifier naming the rule in certbot's log"
ok "  ...with urn:ietf:params:acme:error:rejectedIdentifier naming the profile's rule (san.dns)"
before=$(sql "SELECT count(*) FROM certificates")
# a challenge no one answers: the client listens nowhere iotcad connects (another port), so the order fails
client_refused "an http-01 challenge nobody answers fails the order" "connection|refused|Connection" \
  certbot_run certonly --standalone --http-01-port "$(acme_free_port)" --http-01-address 127.0.0.1 --key-type ecdsa \
  -d nobody.acme.test
[ "$(sql "SELECT count(*) FROM certificates")" = "$before" ] || die "a failed order issued a certificate"
[ "$(sql "SELECT count(*) FROM acme_orders WHERE status = 'invalid' AND error LIKE '%connection%'")" -ge 1 ] ||
  die "the failed order is not invalid with a connection problem: $(sql "SELECT status, error FROM acme_orders")"
ok "the order is invalid with the connection problem, and nothing was issued"

# ---- revocation (§7.6): by the ordering account, and by the certificate's own key; OCSP and the CRL say so ----
ocsp_status() { # ocsp_status CERT CHAIN: good or revoked, as openssl ocsp reads iotcad's verified answer
  openssl ocsp -issuer "$2" -cert "$1" -url "$BASE/ocsp" -CAfile "$WORK/roots.pem" -no_nonce 2>&1 |
    awk -v c="$1" '$1 == c":" {print $2}'
}
[ "$(ocsp_status "$LIVE/web2.acme.test/cert.pem" "$LIVE/web2.acme.test/chain.pem")" = good ] || die "web2 is not good before"
client_ok "certbot revoke (signed by its account) --reason keycompromise" \
  certbot_run revoke --cert-name web2.acme.test --reason keycompromise --no-delete-after-revoke
[ "$(ocsp_status "$LIVE/web2.acme.test/cert.pem" "$LIVE/web2.acme.test/chain.pem")" = revoked ] ||
  die "OCSP does not say revoked after certbot revoke"
s2=$(cert_serial "$LIVE/web2.acme.test/cert.pem")
[ "$(sql "SELECT reason FROM certificates WHERE ltrim(serial, '0') = '$s2' AND revoked_at IS NOT NULL")" = 1 ] ||
  die "the inventory does not hold the revocation with reason keyCompromise"
ok "iotcad's OCSP answers revoked and the inventory holds reason 1 (keyCompromise)"
client_ok "certbot revoke signed by the certificate's own key (--key-path: jwk)" \
  certbot_run revoke --cert-path "$LIVE/web1.acme.test/cert.pem" --key-path "$LIVE/web1.acme.test/privkey.pem" \
  --reason superseded --no-delete-after-revoke
[ "$(ocsp_status "$LIVE/web1.acme.test/cert.pem" "$LIVE/web1.acme.test/chain.pem")" = revoked ] ||
  die "OCSP does not say revoked after the key's own revocation"
ok "iotcad's OCSP answers revoked for the certificate revoked with its own key"
client_refused "a second revocation is refused" "." certbot_run revoke --cert-name web2.acme.test --no-delete-after-revoke
grep -q "urn:ietf:params:acme:error:alreadyRevoked :: .*certificate [0-9a-f]* is already revoked" \
  "$ACME_TMP/certbot/logs/letsencrypt.log" || die "no alreadyRevoked problem in certbot's log"
ok "  ...with urn:ietf:params:acme:error:alreadyRevoked (certbot 2.1's handler trips on it, as on every problem)"
issuer_id=$(sql "SELECT issuer_id FROM certificates WHERE ltrim(serial, '0') = '$s2'")
for _ in $(seq 1 30); do
  curl -sf "$BASE/crl/$issuer_id.crl" -o acme.crl && openssl crl -inform DER -in acme.crl -noout -text |
    grep -qi "Serial Number: 0*$s2" && break
  sleep 0.5
done
openssl crl -inform DER -in acme.crl -noout -text | grep -qi "Serial Number: 0*$s2" || die "the CRL does not list $s2"
ok "the issuer's CRL lists the certificate certbot revoked"

# ---- certbot --nginx: the certificate installed into a real nginx, which curl then trusts through the CA's roots ----
start_nginx site.acme.test
NGINX_TLS_PORT=$(acme_free_port)
client_ok "certbot --nginx for site.acme.test (http-01 through nginx on $NGINX_PORT, TLS on $NGINX_TLS_PORT)" \
  certbot_run --nginx --nginx-server-root "$NGINX_ROOT" --nginx-ctl "$(command -v nginx)" --key-type ecdsa \
  --http-01-port "$HTTP01_PORT" --https-port "$NGINX_TLS_PORT" -d site.acme.test
check_issued "$LIVE/site.acme.test/cert.pem" "$LIVE/site.acme.test/chain.pem" site.acme.test
body=""
for _ in $(seq 1 50); do # the reload is asynchronous: the old workers may answer a moment longer
  body=$(curl -sS --cacert "$WORK/roots.pem" --resolve "site.acme.test:$NGINX_TLS_PORT:127.0.0.1" \
    "https://site.acme.test:$NGINX_TLS_PORT/" 2>curl.err) && break
  sleep 0.1
done
[[ $body == "nginx for site.acme.test" ]] || die "HTTPS to nginx: '$body' $(cat curl.err)"
ok "curl --cacert roots.pem connects over HTTPS to nginx, serving the certificate certbot got from iotcad"
stop_nginx # frees HTTP01_PORT for lego

# ---- lego ----
E2=$(eab)
LEGO_EAB=(--eab --kid "$(jq -r .kid <<<"$E2")" --hmac "$(jq -r .hmac_key <<<"$E2")")
CERTS=$ACME_TMP/lego/certificates
lego_rfc2136_env
client_ok "lego http-01 with EAB for lego1.acme.test" \
  lego_run "${LEGO_EAB[@]}" --key-type ec256 --domains lego1.acme.test --http --http.port "127.0.0.1:$HTTP01_PORT" run
check_issued "$CERTS/lego1.acme.test.crt" "$CERTS/lego1.acme.test.issuer.crt" lego1.acme.test
client_ok "lego tls-alpn-01 (RFC 8737, --tls.port 127.0.0.1:$TLSALPN01_PORT) for lego3.acme.test" \
  lego_run "${LEGO_EAB[@]}" --key-type ec256 --domains lego3.acme.test --tls --tls.port "127.0.0.1:$TLSALPN01_PORT" run
check_issued "$CERTS/lego3.acme.test.crt" "$CERTS/lego3.acme.test.issuer.crt" lego3.acme.test
[ "$(sql "SELECT count(*) FROM acme_challenges WHERE type = 'tls-alpn-01' AND status = 'valid'")" = 1 ] ||
  die "no valid tls-alpn-01 challenge in the store"
ok "  ...validated through tls-alpn-01 (iotcad's GnuTLS handshake with ALPN acme-tls/1)"
client_ok "lego dns-01 (rfc2136) for lego2.acme.test" \
  lego_run "${LEGO_EAB[@]}" --key-type ec256 --domains lego2.acme.test "${LEGO_DNS_ARGS[@]}" run
check_issued "$CERTS/lego2.acme.test.crt" "$CERTS/lego2.acme.test.issuer.crt" lego2.acme.test
[ "$(sql "SELECT count(DISTINCT account_id) FROM acme_orders WHERE status = 'valid'")" = 2 ] ||
  die "two accounts (certbot's, lego's) should hold the valid orders"
ok "certbot's and lego's accounts each hold their valid orders"

# 8 lego clients at once, each its own account (EAB key) and name, dns-01: every one must succeed (order state
# changes are compare-and-set in one transaction, nonces single-use in the database)
pids=()
for i in 1 2 3 4 5 6 7 8; do
  e=$(eab)
  (LEGO_DIR=$ACME_TMP/lego-par$i lego_run --eab --kid "$(jq -r .kid <<<"$e")" --hmac "$(jq -r .hmac_key <<<"$e")" \
    --key-type ec256 --domains "par$i.acme.test" "${LEGO_DNS_ARGS[@]}" run) &
  pids+=("$!")
done
failed=""
for i in 1 2 3 4 5 6 7 8; do wait "${pids[$((i - 1))]}" || failed="$failed par$i($(tail -n 3 "$ACME_TMP/lego-par$i.log" | tr '\n' ' '))"; done
[ -z "$failed" ] || die "parallel lego clients failed:$failed"
serials=$(for i in 1 2 3 4 5 6 7 8; do cert_serial "$ACME_TMP/lego-par$i/certificates/par$i.acme.test.crt"; done | sort -u | wc -l)
[ "$serials" = 8 ] || die "8 clients got $serials distinct certificates"
for i in 1 8; do
  check_issued "$ACME_TMP/lego-par$i/certificates/par$i.acme.test.crt" \
    "$ACME_TMP/lego-par$i/certificates/par$i.acme.test.issuer.crt" "par$i.acme.test"
done
ok "8 lego clients at once (8 accounts, dns-01) all got their certificates (8 distinct serials)"
stop_clean
echo "$CHECKS passed, 0 failed"
