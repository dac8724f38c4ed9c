#!/usr/bin/env bash
# Per-issuer CRLs and root CRLs (issue 4): served as DER at the URL the leaves carry, verified by openssl and
# GnuTLS, updated at once on revocation (openssl verify -crl_check rejects the revoked leaf, accepts a good
# one), numbered monotonically across restarts, cacheable with ETag/304; root CRLs from iotca-root import.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ceremony
write_config
jq --arg u "$BASE" '.base_url = $u' iotcad.json > cfg.tmp && mv cfg.tmp iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1
for n in a b c; do make_csr "$n" "$n.updates.example.com" "DNS:$n.updates.example.com"; issue "$n" firmware-endpoint "$PROV"; [ "$STATUS" = 201 ] || die "issue $n"; done
sa=$(openssl x509 -in a.crt -noout -serial | cut -d= -f2)
openssl x509 -in a.crt -noout -text | grep -q "URI:$BASE/crl/$ISSUER_ID.crl" || die "the leaf lacks the CRL distribution point"
ok "leaves carry the CRL distribution point $BASE/crl/$ISSUER_ID.crl"

fetch() { STATUS=$(curl -s -o "$1" -D "$1.hdr" -w '%{http_code}' "$BASE/crl/$2" "${@:3}") || STATUS=000; }
cat int1.pem roots.pem > cachain.pem
fetch c1.der "$ISSUER_ID.crl"; [ "$STATUS" = 200 ] || die "GET CRL: $STATUS"
grep -qi '^content-type: application/pkix-crl' c1.der.hdr || die "content type"
openssl crl -inform DER -in c1.der -CAfile cachain.pem -verify -noout 2>&1 | grep -q "verify OK" || die "openssl crl -verify"
n1=$(openssl crl -inform DER -in c1.der -noout -crlnumber | cut -d= -f2)
ok "the CRL is DER, verifies with openssl (number $n1)"

http POST "/v1/certificates/$(echo "$sa" | tr 'A-F' 'a-f')/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'
expect 200 "" "revoke leaf a"
fetch c2.der "$ISSUER_ID.crl"
openssl crl -inform DER -in c2.der -noout -text > c2.txt
grep -q "Serial Number: $sa" c2.txt && grep -A4 "Serial Number: $sa" c2.txt | grep -q "Key Compromise" || die "revoked entry: $(cat c2.txt)"
n2=$(openssl crl -inform DER -in c2.der -noout -crlnumber | cut -d= -f2)
[ $((n2)) -gt $((n1)) ] || die "CRL number did not increase ($n1 -> $n2)"
ok "right after the revoke the CRL lists leaf a with Key Compromise and a higher number ($n2)"
openssl crl -inform DER -in c2.der -out c2.pem
set +e; openssl verify -crl_check -CRLfile c2.pem -CAfile roots.pem -untrusted int1.pem a.crt > va.out 2>&1; rca=$?; set -e
[ "$rca" != 0 ] && grep -q "certificate revoked" va.out || die "revoked leaf accepted: $(cat va.out)"
openssl verify -crl_check -CRLfile c2.pem -CAfile roots.pem -untrusted int1.pem b.crt >/dev/null || die "good leaf rejected with -crl_check"
ok "openssl verify -crl_check rejects the revoked leaf and accepts a good one"
certtool --crl-info --inder --infile c2.der 2>/dev/null | grep -q "Revoked certificates (1)" || die "certtool --crl-info"
ok "GnuTLS certtool --crl-info reads it"

etag=$(grep -i '^etag:' c2.der.hdr | cut -d' ' -f2 | tr -d '\r')
grep -qi '^cache-control: max-age=' c2.der.hdr && grep -qi '^last-modified:' c2.der.hdr || die "caching headers"
fetch c3.der "$ISSUER_ID.crl" -H "If-None-Match: $etag"; [ "$STATUS" = 304 ] || die "If-None-Match: $STATUS"
ok "caching headers, and 304 for an unchanged CRL"

stop_daemon; start_daemon
sb=$(openssl x509 -in b.crt -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
http POST "/v1/certificates/$sb/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"superseded"}'; expect 200 "" "revoke leaf b after a restart"
fetch c4.der "$ISSUER_ID.crl"
n4=$(openssl crl -inform DER -in c4.der -noout -crlnumber | cut -d= -f2)
[ $((n4)) -gt $((n2)) ] || die "CRL number reused after restart ($n2 -> $n4)"
[ "$(openssl crl -inform DER -in c4.der -noout -text | grep -c 'Serial Number')" = 2 ] || die "two entries expected"
ok "numbers keep increasing across restarts ($n2 -> $n4)"

for bad in 99.crl abc.crl 0.crl "$ISSUER_ID.crl.bak" root-9.crl root-1.crl; do
  fetch x.der "$bad"; [ "$STATUS" = 404 ] || die "/crl/$bad: $STATUS"
done
http POST /v1/issuers -H "Authorization: Bearer $ADMIN"; pending=$(echo "$OUT" | jq -r .id)
fetch x.der "$pending.crl"; [ "$STATUS" = 404 ] || die "a pending issuer has no CRL: $STATUS"
ok "404 for unknown, malformed, pending and not-yet-imported CRL names"

# root CRLs from the offline ceremony
"$ROOT_TOOL" revoke-intermediate --vault r1 --serial "$(openssl x509 -in int1.pem -noout -serial | cut -d= -f2)" --reason superseded --yes >/dev/null
"$ROOT_TOOL" crl --vault r1 --out r1.crl --passphrase-file rootpass --yes >/dev/null
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary @r1.crl; expect 200 "" "import R1's CRL"
[ "$(echo "$OUT" | jq -r .url)" = /crl/root-1.crl ] || die "root CRL url: $OUT"
fetch root1.der root-1.crl; [ "$STATUS" = 200 ] || die "GET root CRL"
cmp -s root1.der <(openssl crl -in r1.crl -outform DER) || die "served root CRL differs from the imported one"
openssl crl -inform DER -in root1.der -CAfile r1/root.pem -verify -noout 2>&1 | grep -q "verify OK" || die "root CRL verify"
ok "the root CRL is served at /crl/root-1.crl, byte for byte, and verifies against R1"
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary @r1.crl; expect 409 stale_crl "importing the same CRL number again"
"$ROOT_TOOL" init --vault r3 --name "Stranger Root" --key ecdsa-p256 --passphrase-file rootpass >/dev/null
"$ROOT_TOOL" crl --vault r3 --out r3.crl --passphrase-file rootpass --yes >/dev/null
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary @r3.crl; expect 422 policy "a CRL from a root not configured"
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary 'garbage'; expect 400 "" "garbage"
http PUT /v1/ca/root-crl -H "Authorization: Bearer $PROV" --data-binary @r1.crl; expect 403 forbidden "provisioners cannot import"
echo "$CHECKS passed, 0 failed"
