#!/usr/bin/env bash
# iotcad end to end: ceremony, issuer import, issuance through curl, verification with openssl, a real TLS
# handshake with s_server and curl, inventory, revocation, metrics, and every refusal of issue 3.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ceremony
write_config
"$IOTCAD" init --config iotcad.json >/dev/null || die "iotcad init"
[ "$(stat -c %a keys)" = 700 ] || die "key dir not 0700"
ok "iotcad init"
tokens
start_daemon

http GET /healthz; expect 200 "" "healthz"
# ready means able to issue (issue 19): with no issuer yet /readyz says why not, and what to do
http GET /readyz; expect 503 no_issuer "readyz before any issuer"
echo "$OUT" | jq -r .detail | grep -q 'group default can sign: none is active; make an issuer (iotca issuers new)' ||
  die "readyz must name the group and the remedy: $OUT"
ok "readyz says which group cannot sign and what to do"
http GET /v1/ca/roots; expect 200 "" "roots are public"
[ "$(echo "$OUT" | jq '.roots | length')" = 2 ] || die "two roots expected"
pin=$(openssl x509 -in r1/root.pem -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
echo "$OUT" | jq -r '.roots[].spki_sha256' | grep -x >/dev/null "$pin" || die "SPKI pin of R1 missing or wrong"
ok "roots carry the SPKI SHA-256 pins openssl computes"

# no active issuer yet: issuance is refused cleanly
make_csr fw1 fw1.updates.example.com "DNS:fw1.updates.example.com"
issue fw1 firmware-endpoint "$PROV"; expect 503 no_issuer "issuance before any issuer is active"
echo "$OUT" | jq -r .detail | grep -q 'sign its CSR offline (iotca-root sign-intermediate) and import it' ||
  die "the refusal must say what to do: $OUT"
ok "the refusal says to make, sign and import an issuer"

# issuer lifecycle through the API
http GET /v1/issuers -H "Authorization: Bearer $PROV"; expect 403 forbidden "provisioner cannot list issuers"
new_issuer int1
key_file=$(ls keys/)
[ "$(stat -c %a "keys/$key_file")" = 600 ] || die "issuer key not 0600"
head -1 "keys/$key_file" | grep >/dev/null "BEGIN ENCRYPTED PRIVATE KEY" || die "issuer key not encrypted at rest"
ok "issuer key is encrypted PKCS#8 with mode 0600"
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"; expect 200 "" "list issuers"
[ "$(echo "$OUT" | jq -r '.issuers[0].state')" = active ] || die "imported issuer should be active: $OUT"
ok "imported issuer became active"
http GET /readyz; expect 200 "" "readyz once an issuer is active"
http PUT "/v1/issuers/$ISSUER_ID/certificate" -H "Authorization: Bearer $ADMIN" --data-binary @int1.pem
expect 422 policy "re-import into an active issuer refused"

# import refusals: another key, not a CA, garbage, unknown issuer
http POST /v1/issuers -H "Authorization: Bearer $ADMIN"; expect 201 "" "second pending issuer"
pending=$(echo "$OUT" | jq -r .id)
http PUT "/v1/issuers/$pending/certificate" -H "Authorization: Bearer $ADMIN" --data-binary @int1.pem
expect 422 policy "certificate of another key refused"
http PUT "/v1/issuers/$pending/certificate" -H "Authorization: Bearer $ADMIN" --data-binary 'garbage'
expect 400 "" "garbage certificate refused"
http PUT "/v1/issuers/999/certificate" -H "Authorization: Bearer $ADMIN" --data-binary @int1.pem
expect 404 not_found "unknown issuer"
openssl req -x509 -new -key fw1.key -subj "/CN=rogue" -days 30 -out rogue.pem
http PUT "/v1/issuers/$pending/certificate" -H "Authorization: Bearer $ADMIN" --data-binary @rogue.pem
expect 422 policy "certificate not chaining to a configured root refused"

# issuance through curl, verified by openssl
issue fw1 firmware-endpoint "$PROV"; expect 201 "" "issue firmware-endpoint"
serial=$(echo "$OUT" | jq -r .serial)
openssl verify -CAfile roots.pem -untrusted fw1.chain fw1.crt >/dev/null || die "openssl verify"
ok "openssl verify -CAfile roots.pem -untrusted chain.pem leaf.pem"
openssl x509 -in fw1.crt -noout -text > fw1.txt
grep -q "DNS:fw1.updates.example.com" fw1.txt && grep -q "TLS Web Server Authentication" fw1.txt || die "leaf content"
grep -q "CA:FALSE" fw1.txt || die "leaf must be CA:FALSE"
leaf_end=$(date -d "$(openssl x509 -in fw1.crt -noout -enddate | cut -d= -f2)" +%s)
int_end=$(date -d "$(openssl x509 -in int1.pem -noout -enddate | cut -d= -f2)" +%s)
[ "$leaf_end" -le "$int_end" ] || die "leaf outlives issuer"
ok "leaf has the SAN, EKU and CA:FALSE the profile says, and ends before its issuer"
certtool --verify-chain --infile <(cat fw1.crt fw1.chain r1/root.pem) 2>/dev/null | grep >/dev/null "Chain verification output: Verified" || die "certtool"
ok "GnuTLS certtool verifies the chain"
[ "$(sql "SELECT count(*) FROM certificates WHERE serial='$serial'")" = 1 ] || die "certificate not in the store"
ok "certificate recorded in the store"

# a real TLS handshake: s_server with the leaf and chain, curl trusting only the roots
TLSPORT=$(free_port)
openssl s_server -quiet -accept "$TLSPORT" -cert fw1.crt -key fw1.key -cert_chain fw1.chain -www >/dev/null 2>&1 &
wait_port "$TLSPORT"
curl -sf --cacert roots.pem --resolve "fw1.updates.example.com:$TLSPORT:127.0.0.1" \
  "https://fw1.updates.example.com:$TLSPORT/" >/dev/null || die "TLS handshake with roots only"
ok "curl --cacert roots.pem completes a TLS handshake with the issued leaf + chain"
kill %% 2>/dev/null || true

# inventory and revocation
http GET "/v1/certificates/$serial" -H "Authorization: Bearer $PROV"; expect 200 "" "get certificate"
[ "$(echo "$OUT" | jq -r .status)" = valid ] || die "status valid"
http GET "/v1/certificates/$serial" -H "Authorization: Bearer $PROV_DEV"; expect 404 not_found "scoped token cannot see another profile's certificate"
http GET "/v1/certificates/00ff" -H "Authorization: Bearer $PROV"; expect 404 not_found "unknown serial"
http GET "/v1/certificates/zz" -H "Authorization: Bearer $PROV"; expect 404 not_found "non-hex serial"
for i in 2 3 4; do make_csr "fw$i" "fw$i.updates.example.com" "DNS:fw$i.updates.example.com"; issue "fw$i" firmware-endpoint "$PROV"; [ "$STATUS" = 201 ] || die "issue fw$i"; done
http GET "/v1/certificates?profile=firmware-endpoint&limit=3" -H "Authorization: Bearer $PROV"; expect 200 "" "list page 1"
[ "$(echo "$OUT" | jq '.certificates | length')" = 3 ] || die "page of 3"
cur=$(echo "$OUT" | jq -r .next_cursor)
http GET "/v1/certificates?profile=firmware-endpoint&limit=3&cursor=$cur" -H "Authorization: Bearer $PROV"; expect 200 "" "list page 2"
[ "$(echo "$OUT" | jq '.certificates | length')" = 1 ] && [ "$(echo "$OUT" | jq -r .next_cursor)" = null ] || die "last page: $OUT"
ok "cursor paging returns 3 + 1 certificates"
http GET "/v1/certificates?limit=0" -H "Authorization: Bearer $PROV"; expect 400 bad_request "limit 0 refused"
http GET "/v1/certificates?status=bogus" -H "Authorization: Bearer $PROV"; expect 400 bad_request "bad status filter"
http GET "/v1/certificates?expires_before=yesterday" -H "Authorization: Bearer $PROV"; expect 400 bad_request "bad time filter"
http POST "/v1/certificates/$serial/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'; expect 200 "" "revoke"
[ "$(echo "$OUT" | jq -r .status)" = revoked ] && [ "$(echo "$OUT" | jq -r .reason)" = keyCompromise ] || die "revoked status: $OUT"
http POST "/v1/certificates/$serial/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'; expect 409 already_revoked "revoke twice"
http POST "/v1/certificates/00aa/revoke" -H "Authorization: Bearer $PROV" -d '{}'; expect 404 not_found "revoke unknown"
http GET "/v1/certificates?status=revoked" -H "Authorization: Bearer $PROV"; expect 200 "" "list revoked"
[ "$(echo "$OUT" | jq -r '.certificates[0].serial')" = "$serial" ] || die "revoked list"
[ "$(sql "SELECT reason FROM certificates WHERE serial='$serial'")" = 1 ] || die "reason not recorded"
ok "revocation recorded with its reason"

# refusals: each a 4xx JSON error, the daemon still serving, no row left behind
before=$(sql "SELECT count(*) FROM certificates")
refuse() { # refuse STATUS CODE DESC curl-args...
  local st=$1 code=$2 desc=$3; shift 3
  http POST /v1/certificates "$@"; expect "$st" "$code" "$desc"
  echo "$OUT" | jq -e '.error and .detail' >/dev/null || die "$desc: not a JSON error"
}
body() { jq -n --rawfile csr "$1" --arg p "$2" '{csr: $csr, profile: $p}'; }
A=(-H "Authorization: Bearer $PROV")
refuse 400 malformed "garbage CSR" "${A[@]}" -d '{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n","profile":"firmware-endpoint"}'
openssl req -in fw1.csr -outform DER -out badsig.der && flip_byte badsig.der 3
openssl base64 -in badsig.der | { echo "-----BEGIN CERTIFICATE REQUEST-----"; cat; echo "-----END CERTIFICATE REQUEST-----"; } > badsig.csr
refuse 400 bad_signature "CSR with a bad signature" "${A[@]}" -d "$(body badsig.csr firmware-endpoint)"
make_csr evil evil.example.org "DNS:evil.example.org"
refuse 422 policy "SAN outside the profile" "${A[@]}" -d "$(body evil.csr firmware-endpoint)"
grep -q "san.dns" out.json || die "refusal must name the rule"
refuse 422 policy "TTL over the maximum" "${A[@]}" -d "$(jq -n --rawfile csr fw2.csr '{csr: $csr, profile: "firmware-endpoint", ttl: "91d"}')"
grep -q "rule ttl" out.json || die "TTL refusal must name the rule"
openssl req -new -newkey rsa:3072 -nodes -keyout rsa.key -subj "/CN=rsa.updates.example.com" -addext "subjectAltName=DNS:rsa.updates.example.com" -out rsa.csr 2>/dev/null
refuse 422 policy "key type not allowed" "${A[@]}" -d "$(body rsa.csr firmware-endpoint)"
grep -q "key_types" out.json || die "key type refusal must name the rule"
refuse 401 unauthorized "missing token" -d "$(body fw2.csr firmware-endpoint)"
refuse 401 unauthorized "wrong token" -H "Authorization: Bearer iotca_0000000000000000_$(printf '0%.0s' $(seq 64))" -d "$(body fw2.csr firmware-endpoint)"
refuse 401 unauthorized "malformed token" -H "Authorization: Bearer nonsense" -d "$(body fw2.csr firmware-endpoint)"
refuse 403 forbidden "token scoped to another profile" -H "Authorization: Bearer $PROV_DEV" -d "$(body fw2.csr firmware-endpoint)"
head -c 70000 /dev/zero | tr '\0' 'a' > big.txt
refuse 413 too_large "body over the limit" "${A[@]}" --data-binary @big.txt
refuse 400 malformed_json "malformed JSON" "${A[@]}" -d '{"csr": '
refuse 400 bad_request "missing fields" "${A[@]}" -d '{"profile":"firmware-endpoint"}'
refuse 400 bad_request "unknown field" "${A[@]}" -d "$(jq -n --rawfile csr fw2.csr '{csr: $csr, profile: "firmware-endpoint", color: "red"}')"
refuse 400 unknown_profile "unknown profile" "${A[@]}" -d "$(body fw2.csr nosuchprofile)"
refuse 400 bad_request "bad ttl" "${A[@]}" -d "$(jq -n --rawfile csr fw2.csr '{csr: $csr, profile: "firmware-endpoint", ttl: "soon"}')"
[ "$(sql "SELECT count(*) FROM certificates")" = "$before" ] || die "a refusal left a row behind"
ok "no refusal left a row behind"
http GET /healthz; expect 200 "" "daemon still serving after the refusals"
http GET /nope; expect 404 not_found "unknown path"
http DELETE /v1/certificates; expect 405 method_not_allowed "wrong method"
hdr=$(curl -s -o /dev/null -D - -X DELETE "$BASE/v1/certificates" | tr -d '\r' | grep -i '^allow:')
[ "$hdr" = "Allow: POST, GET, HEAD" ] || die "the 405 names what is allowed: '$hdr'"
echo "$OUT" | grep >/dev/null 'POST, GET, HEAD is' || die "the 405 detail names what is allowed: $OUT"
ok "the 405 lists the allowed methods in Allow and its detail"
hdr=$(curl -s -o /dev/null -D - -X PUT "$BASE/healthz" | tr -d '\r' | grep -i '^allow:')
[ "$hdr" = "Allow: GET, HEAD" ] || die "PUT /healthz Allow: '$hdr'"
ok "a GET-only path allows GET, HEAD"
STATUS=$(curl -s -I -o head.hdr -w '%{http_code} %{size_download}' "$BASE/healthz") || STATUS=000
[ "$STATUS" = "200 0" ] || die "HEAD /healthz: $STATUS"
STATUS=$(curl -s -I -o /dev/null -w '%{http_code}' "$BASE/v1/certificates") || STATUS=000
[ "$STATUS" = 401 ] || die "HEAD of a token-only listing without a token: $STATUS"
STATUS=$(curl -s -I -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $PROV" "$BASE/v1/certificates") || STATUS=000
[ "$STATUS" = 200 ] || die "HEAD of the listing with a token: $STATUS"
STATUS=$(curl -s -I -o /dev/null -w '%{http_code}' "$BASE/nope") || STATUS=000
[ "$STATUS" = 404 ] || die "HEAD of an unknown path: $STATUS"
ok "HEAD is answered wherever GET is, with GET's auth: 200 and no body, 401 without a token, 404 for no such path"

# the device profile: subject rebuilt from the CN, URI SAN required
make_csr dev1 "dev-0001" "URI:urn:dev:acme:dev-0001"
issue dev1 device "$PROV_DEV"; expect 201 "" "device certificate through a scoped token"
openssl x509 -in dev1.crt -noout -subject | grep >/dev/null "CN = dev-0001" || die "device subject"
openssl x509 -in dev1.crt -noout -text | grep >/dev/null "TLS Web Client Authentication" || die "device EKU"
make_csr dev2 "dev-0002" "URI:urn:dev:other:dev-0002"
issue dev2 device "$PROV_DEV"; expect 422 policy "URI outside the allowed prefix"

# metrics
http GET /metrics; expect 200 "" "metrics"
echo "$OUT" | grep -E >/dev/null '^iotca_certificates_issued_total [5-9]' || die "issued counter: $(echo "$OUT" | grep issued)"
echo "$OUT" | grep -E >/dev/null '^iotca_issuance_refused_total [1-9]' || die "refused counter"
echo "$OUT" | grep >/dev/null 'iotca_http_request_duration_seconds_bucket{le="+Inf"}' || die "latency histogram"
echo "$OUT" | grep >/dev/null 'iotca_root_days_to_expiry{root=' || die "root expiry gauge"
echo "$OUT" | grep >/dev/null 'iotca_issuer_days_to_expiry{issuer=' || die "issuer expiry gauge"
ok "metrics: issued, refused, latency histogram, days to expiry"

# logs: one JSON object per line, no token in them
while IFS= read -r line; do echo "$line" | jq -e . >/dev/null 2>&1 || die "log line is not JSON: $line"; done < daemon.log
for t in "$ADMIN" "$PROV" "$PROV_DEV"; do grep -qF "${t#iotca_*_}" daemon.log && die "a token secret reached the log"; done
ok "every log line is JSON and no token secret is logged"
stop_daemon
echo "$CHECKS passed, 0 failed"
