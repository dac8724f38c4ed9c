#!/usr/bin/env bash
# What the CA tells an operator about its own state (issue 19): which issuer is *next* when two are staged, and
# a revocation's CRL published at once when the last CRL is older than the debounce (and the log saying which
# path it took).
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
first_id=$ISSUER_ID

# ---- next: the staged issuer activating soonest, whatever the order they were made in ----
stage() { # stage NAME ACTIVATE_AT: a new issuer signed by r1 and imported with that activation; sets ISSUER_ID
  http POST /v1/issuers -H "Authorization: Bearer $ADMIN" -d '{}'; expect 201 "" "make issuer $1"
  ISSUER_ID=$(echo "$OUT" | jq -r .id)
  echo "$OUT" | jq -r .csr > "$1.csr"
  "$ROOT_TOOL" sign-intermediate --vault r1 --csr "$1.csr" --out "$1.pem" --yes --passphrase-file rootpass >/dev/null
  http PUT "/v1/issuers/$ISSUER_ID/certificate" -H "Authorization: Bearer $ADMIN" \
    -d "$(jq -n --rawfile c "$1.pem" --arg at "$2" '{certificate: $c, activate_at: $at}')"
  expect 200 "" "import $1 to activate at $2"
}
jan=$(date -u -d '+30 days' +%Y-%m-%dT00:00:00Z)
jun=$(date -u -d '+180 days' +%Y-%m-%dT00:00:00Z)
stage soon "$jan"; soon_id=$ISSUER_ID
stage later "$jun"; later_id=$ISSUER_ID
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"; expect 200 "" "list issuers"
[ "$(echo "$OUT" | jq -r .next.id)" = "$soon_id" ] ||
  die "next must be issuer $soon_id (activates $jan), not $(echo "$OUT" | jq -r .next.id): $OUT"
ok "GET /v1/issuers names the staged issuer activating soonest as next"
"$IOTCA_CLI" --url "$BASE" --token "$ADMIN" issuers list > list.txt || die "iotca issuers list: $(cat list.txt)"
grep -q "^next: issuer $soon_id " list.txt || die "iotca issuers list must name $soon_id as next: $(cat list.txt)"
ok "iotca issuers list names it too"
[ "$first_id" != "$later_id" ] || die "ids"

# ---- a revocation remakes the CRL at once when the last one is older than a second ----
issue_and_verify r1leaf "a leaf to revoke"
serial_hex() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
s1=$(serial_hex r1leaf.crt)
sleep 1.5 # past the debounce: the issuer's last CRL (made at activation) is older than a second
http POST "/v1/certificates/$s1/revoke" -H "Authorization: Bearer $PROV" -d '{"reason": "keyCompromise"}'
expect 200 "" "revoke"
curl -sf -o c1.der "$BASE/crl/$first_id.crl" || die "fetching the CRL"
grep -qi "Serial Number: $s1" < <(openssl crl -inform DER -in c1.der -noout -text) ||
  die "the CRL fetched right after the revocation does not list $s1: $(openssl crl -inform DER -in c1.der -noout -text)"
ok "the CRL served right after the revocation lists the certificate (remade at once)"
grep '"msg":"certificate revoked"' daemon.log | grep "\"serial\":\"$s1\"" | grep -q '"crl":"published now"' ||
  die "the log must say the CRL was published now: $(grep revoked daemon.log)"
ok "the log says the revocation's CRL was published at once"

# after a restart the issuer's key is loaded (decrypted: hundreds of ms) by the first CRL the process makes;
# that is not the CRL's own time, so the next revocation a second later is still published at once
issue_and_verify r4leaf "a leaf for after the restart"
issue_and_verify r5leaf "another leaf for after the restart"
s4=$(serial_hex r4leaf.crt); s5=$(serial_hex r5leaf.crt)
stop_daemon
start_daemon
sleep 1.5
http POST "/v1/certificates/$s4/revoke" -H "Authorization: Bearer $PROV"; expect 200 "" "revoke after a restart"
sleep 1.5
http POST "/v1/certificates/$s5/revoke" -H "Authorization: Bearer $PROV"; expect 200 "" "revoke a second later"
curl -sf -o c5.der "$BASE/crl/$first_id.crl" || die "fetching the CRL"
grep -qi "Serial Number: $s5" < <(openssl crl -inform DER -in c5.der -noout -text) ||
  die "the CRL right after the second revocation since the restart lacks $s5: $(grep 'certificate revoked' daemon.log | tail -1)"
ok "after a restart, a revocation a second after the last CRL is published at once (the key's load is not the CRL's time)"

# two revocations inside a second: the second is left to the tick, and the log says so and why
issue_and_verify r2leaf "a second leaf"
issue_and_verify r3leaf "a third leaf"
s2=$(serial_hex r2leaf.crt); s3=$(serial_hex r3leaf.crt)
sleep 1.5
http POST "/v1/certificates/$s2/revoke" -H "Authorization: Bearer $PROV"; expect 200 "" "revoke 2"
http POST "/v1/certificates/$s3/revoke" -H "Authorization: Bearer $PROV"; expect 200 "" "revoke 3"
grep '"msg":"certificate revoked"' daemon.log | grep "\"serial\":\"$s3\"" | grep -q '"crl":"left to the tick"' ||
  die "the log must say the second CRL was left to the tick: $(grep revoked daemon.log)"
grep '"msg":"certificate revoked"' daemon.log | grep "\"serial\":\"$s3\"" | grep -q 'ms ago' ||
  die "the log must say why (the last CRL's age): $(grep revoked daemon.log)"
ok "a revocation within a second of the last CRL is left to the tick, and the log says why"
echo "$CHECKS passed, 0 failed"
