#!/usr/bin/env bash
# ACME (issue 21, SPEC §9) accounts against the real daemon, driven by Debian's certbot: the directory and nonces,
# External Account Binding keys made by `iotcad acme eab create` (required by default), accounts made, refused
# (no binding, a wrong MAC, a used, revoked or other profile's key) and deactivated, and malformed requests
# answered with RFC 8555 problem documents. Orders, validation and finalization are in later tests.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
# shellcheck source=tests/integration/acme_lib.sh
source "$HERE/acme_lib.sh"
acme_deps

ceremony
write_config
# two profiles with a directory: firmware-endpoint (EAB required, the default) and device (EAB optional)
jq --arg b "$BASE" '.base_url = $b | .acme = {profiles: {"firmware-endpoint": {}, "device": {eab_required: false}}}' \
  iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1
DIR=$BASE/acme/firmware-endpoint
ACME_DIRECTORY=$DIR/directory
ACME_CA_BUNDLE=$WORK/roots.pem # certbot reads it only for https: the daemon serves plain HTTP on loopback here

# ---- the directory and nonces (RFC 8555 §7.1.1, §7.2) ----
curl -s -D hdr.txt "$ACME_DIRECTORY" > dir.json
jq -e --arg d "$DIR" '.newNonce == "\($d)/new-nonce" and .newAccount == "\($d)/new-account" and
  .newOrder == "\($d)/new-order" and .revokeCert == "\($d)/revoke-cert" and .meta.externalAccountRequired == true' \
  dir.json >/dev/null || die "directory: $(cat dir.json)"
grep -qi "^Link: <$ACME_DIRECTORY>;rel=\"index\"" hdr.txt || die "the directory lacks its index Link: $(cat hdr.txt)"
ok "the directory names every resource under $DIR and says an external account binding is required"
curl -s "$BASE/acme/device/directory" | jq -e '.meta.externalAccountRequired == false' >/dev/null ||
  die "device's directory should not require EAB"
ok "a profile with eab_required false says so in its directory"
n1=$(curl -s -I "$DIR/new-nonce" | tr -d '\r' | awk 'tolower($1) == "replay-nonce:" {print $2}')
code=$(curl -s -o /dev/null -w '%{http_code}' -D nhdr.txt "$DIR/new-nonce")
n2=$(tr -d '\r' < nhdr.txt | awk 'tolower($1) == "replay-nonce:" {print $2}')
[[ $n1 =~ ^[A-Za-z0-9_-]{22}$ && $n2 =~ ^[A-Za-z0-9_-]{22}$ && $n1 != "$n2" && $code == 204 ]] ||
  die "new-nonce: HEAD '$n1', GET $code '$n2'"
grep -qi "^Cache-Control: no-store" nhdr.txt || die "a nonce must not be cached: $(cat nhdr.txt)"
ok "new-nonce: HEAD 200 and GET 204, each a fresh 128-bit nonce, not cacheable"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/acme/nosuch/directory")
[ "$code" = 404 ] || die "/acme/nosuch/directory: $code, expected 404"
ok "a profile with no ACME directory is 404"

# ---- accounts with and without an external account binding (§7.3, §7.3.4) ----
client_refused "certbot without an EAB key is refused (certbot reads the directory's meta and does not ask)" "externalAccountRequired|external account binding" certbot_run register
"$IOTCAD" acme eab create --config iotcad.json --profile firmware-endpoint > eab1.txt || die "eab create: $(cat eab1.txt)"
KID=$(awk '/^kid:/ {print $2}' eab1.txt)
KEY=$(awk '/^hmac_key:/ {print $2}' eab1.txt)
[[ $KID =~ ^eab-[0-9a-f]{16}$ && $KEY =~ ^[A-Za-z0-9_-]{43}$ ]] || die "eab create printed: $(cat eab1.txt)"
grep -q "certbot: --server $ACME_DIRECTORY --eab-kid $KID --eab-hmac-key=$KEY" eab1.txt || die "no certbot line: $(cat eab1.txt)"
[ "$(sql "SELECT count(*) FROM acme_eab_keys WHERE kid = '$KID' AND length(secret_hash) = 32")" = 1 ] ||
  die "the key's row is missing"
[ "$(sql "SELECT count(*) FROM acme_eab_keys WHERE instr(secret, '$KEY') > 0")" = 0 ] || die "the HMAC key is stored"
ok "iotcad acme eab create prints a kid, a 256-bit key (shown once; not in the database) and the certbot flags"
# a wrong MAC: the right kid with another key (base64url of 32 other bytes)
WRONG=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
CERTBOT_DIR=$ACME_TMP/cb-wrong client_refused "certbot with a wrong EAB MAC is refused" "unauthorized|MAC" \
  certbot_run register --eab-kid "$KID" --eab-hmac-key="$WRONG"
CERTBOT_DIR=$ACME_TMP/cb1 client_ok "certbot registers with its EAB key" certbot_run register --eab-kid "$KID" --eab-hmac-key="$KEY"
[ "$(sql "SELECT count(*) FROM acme_accounts WHERE eab_kid = '$KID' AND profile = 'firmware-endpoint' AND status = 'valid'")" = 1 ] ||
  die "no account bound to $KID"
"$IOTCAD" acme eab list --config iotcad.json > list.txt
grep -E "^$KID +firmware-endpoint .* - +1$" list.txt >/dev/null || die "eab list: $(cat list.txt)"
ok "the account is bound to the key (iotcad acme eab list shows its account)"
CERTBOT_DIR=$ACME_TMP/cb2 client_refused "a used EAB key makes no second account" "bound to another account" \
  certbot_run register --eab-kid "$KID" --eab-hmac-key="$KEY"
"$IOTCAD" acme eab create --config iotcad.json --profile firmware-endpoint > eab2.txt
KID2=$(awk '/^kid:/ {print $2}' eab2.txt)
KEY2=$(awk '/^hmac_key:/ {print $2}' eab2.txt)
"$IOTCAD" acme eab revoke --config iotcad.json "$KID2" | grep -q "revoked EAB key $KID2" || die "eab revoke"
CERTBOT_DIR=$ACME_TMP/cb3 client_refused "a revoked EAB key is refused" "revoked" \
  certbot_run register --eab-kid "$KID2" --eab-hmac-key="$KEY2"
set +e; "$IOTCAD" acme eab revoke --config iotcad.json "$KID2" 2> again.txt; rc=$?; set -e
[ "$rc" = 1 ] && grep -q "revoked already" again.txt || die "a second revocation: $rc $(cat again.txt)"
"$IOTCAD" acme eab create --config iotcad.json --profile device > eab3.txt
KID3=$(awk '/^kid:/ {print $2}' eab3.txt)
KEY3=$(awk '/^hmac_key:/ {print $2}' eab3.txt)
CERTBOT_DIR=$ACME_TMP/cb4 client_refused "another profile's EAB key is refused" "for profile device" \
  certbot_run register --eab-kid "$KID3" --eab-hmac-key="$KEY3"
[ "$(sql "SELECT count(*) FROM acme_accounts")" = 1 ] || die "a refused registration left an account"
ok "no refused registration left a row"
# device: a binding is optional there
ACME_DIRECTORY=$BASE/acme/device/directory CERTBOT_DIR=$ACME_TMP/cb5 client_ok "certbot registers without EAB where the profile allows it" \
  certbot_run register
for a in acme.eab.create acme.eab.revoke; do
  [ "$(sql "SELECT count(*) FROM audit WHERE action = '$a' AND actor LIKE 'local:%'")" -ge 1 ] || die "no $a in the audit trail"
done
[ "$(sql "SELECT count(*) FROM audit WHERE action LIKE 'POST /acme/firmware-endpoint/new-account' AND outcome = '201' AND actor = 'acme:account:1'")" = 1 ] ||
  die "the account's creation is not audited: $(sql "SELECT actor, action, outcome FROM audit WHERE action LIKE '%acme%'")"
ok "EAB keys made and revoked, and accounts made, are in the audit trail"
CERTBOT_DIR=$ACME_TMP/cb1 client_ok "certbot deactivates its account (unregister)" certbot_run unregister
[ "$(sql "SELECT status FROM acme_accounts WHERE eab_kid = '$KID'")" = deactivated ] || die "the account is not deactivated"
ok "the account is deactivated in the store (certbot forgets its key: a request signed by it is tested with the store's own tests)"

# ---- the admin API and `iotca acme eab` (the same keys, over HTTP with an admin token) ----
export IOTCA_URL=$BASE
IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" acme eab create --profile firmware-endpoint > eab4.txt || die "iotca acme eab create: $(cat eab4.txt)"
KID4=$(awk '/^kid:/ {print $2}' eab4.txt)
KEY4=$(awk '/^hmac_key:/ {print $2}' eab4.txt)
grep -q "^directory: $ACME_DIRECTORY$" eab4.txt || die "iotca acme eab create printed: $(cat eab4.txt)"
CERTBOT_DIR=$ACME_TMP/cb6 client_ok "certbot registers with a key made through the admin API" \
  certbot_run register --eab-kid "$KID4" --eab-hmac-key="$KEY4"
IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" acme eab list > list4.txt
grep -E "^$KID4  firmware-endpoint  created .*  active  account bound$" list4.txt >/dev/null || die "iotca acme eab list: $(cat list4.txt)"
IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" --json acme eab list | jq -e --arg k "$KID2" '.eab_keys[] | select(.kid == $k) | .revoked | type == "string"' \
  >/dev/null || die "the JSON list does not show $KID2 revoked"
ok "iotca acme eab create and list (text and JSON) over the admin API"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'acme.eab.create' AND actor LIKE 'token:%'")" = 1 ] ||
  die "the API's key creation is not audited with its token"
set +e
IOTCA_TOKEN=$PROV "$IOTCA_CLI" acme eab create --profile firmware-endpoint > prov.txt 2>&1; rc_prov=$?
IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" acme eab create --profile infra > noacme.txt 2>&1; rc_noacme=$?
IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" acme eab revoke eab-0000000000000000 > unknown.txt 2>&1; rc_unknown=$?
IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" acme eab revoke "../x" > bad.txt 2>&1; rc_bad=$?
IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" acme eab create > noprof.txt 2>&1; rc_noprof=$?
set -e
[ "$rc_prov" = 3 ] && grep -q forbidden prov.txt || die "a provisioner made an EAB key: $rc_prov $(cat prov.txt)"
[ "$rc_noacme" = 3 ] && grep -q "no ACME directory" noacme.txt || die "a profile without ACME: $rc_noacme $(cat noacme.txt)"
[ "$rc_unknown" = 3 ] && grep -q "no EAB key" unknown.txt || die "an unknown kid: $rc_unknown $(cat unknown.txt)"
[ "$rc_bad" = 2 ] && [ "$rc_noprof" = 2 ] || die "usage errors: $rc_bad $(cat bad.txt) / $rc_noprof $(cat noprof.txt)"
ok "refused: a provisioner (403), a profile without ACME (400), an unknown kid (404), a malformed kid or no --profile (usage)"
IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" acme eab revoke "$KID4" | grep -q "revoked EAB key $KID4" || die "iotca acme eab revoke"
[ "$(sql "SELECT revoked_at IS NOT NULL FROM acme_eab_keys WHERE kid = '$KID4'")" = 1 ] || die "the key is not revoked"
ok "iotca acme eab revoke revokes it"

# ---- malformed requests: problem documents (§6.7), the daemon serving on ----
problem() { # problem DESC EXPECTED-TYPE CURL-ARGS...: POST to new-account; the answer must be that problem
  local desc=$1 type=$2
  shift 2
  code=$(curl -s -o p.json -D ph.txt -w '%{http_code}' -X POST "$DIR/new-account" "$@")
  grep -qi '^Content-Type: application/problem+json' ph.txt || die "$desc: not a problem document: $(cat ph.txt p.json)"
  jq -e --arg t "urn:ietf:params:acme:error:$type" '.type == $t and (.detail | length > 0) and .status >= 400' p.json \
    >/dev/null || die "$desc: $(cat p.json)"
  grep -qi '^Replay-Nonce: ' ph.txt || die "$desc: a problem carries a fresh nonce too (RFC 8555 §6.5)"
  ok "$desc: $code $type ($(jq -r .detail p.json | head -c 80))"
}
problem "a JSON body without the JOSE content type" malformed -H 'Content-Type: application/json' -d '{}'
problem "a body that is no JWS" malformed -H 'Content-Type: application/jose+json' -d 'not json'
problem "a JWS with alg none" badSignatureAlgorithm -H 'Content-Type: application/jose+json' \
  -d "{\"protected\":\"$(printf '{"alg":"none","url":"x","nonce":"y","jwk":{}}' | base64 -w0 | tr '+/' '-_' | tr -d '=')\",\"payload\":\"\",\"signature\":\"AAAA\"}"
curl -sf "$BASE/healthz" >/dev/null || die "the daemon stopped serving"
ok "the daemon serves on after every malformed request"
stop_clean
echo "$CHECKS passed, 0 failed"
