#!/usr/bin/env bash
# Rotation preflight with the corrected stack models (issue 20: "a rotation that would serve a chain violating an
# issuer's pathLen is refused"): a configured root made with pathLenConstraint 0 (an openssl habit) cannot have an
# issuing CA under it for fleets whose stack reads the anchor's pathLen (mbedTLS 2.28, OpenSSL 3, GnuTLS), although
# it can for wolfSSL, which does not look (test_stack_agreement.sh, rows root-pathlen0*). The preflight refuses
# the import naming the profile, the date and the rule; the wolfSSL fleet is not named.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ceremony
# R3: a root with pathlen:0, made with openssl (iotca-root never writes a pathLen into a root)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout r3.key -subj "/CN=Test Root R3 pathLen 0" \
  -days 3650 -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out r3.pem 2>/dev/null || die "openssl cannot make R3"
chmod 600 r3.key
grep -q "CA:TRUE, pathlen:0" < <(openssl x509 -in r3.pem -noout -text) || die "R3 has no pathlen:0"
cat r1/root.pem r3.pem > r1-r3.pem
write_config
jq --arg r3 "$WORK/r3.pem" '.roots += [$r3]' iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
UNTIL=$(date -u -d '+700 days' +%Y-%m-%d)
profile() { http POST /v1/trust-profiles -H "Authorization: Bearer $ADMIN" -d "$(jq -n --arg n "$1" --rawfile p "$2" --arg u "$UNTIL" --arg s "$3" '{name: $n, pem: $p, until: $u, stack: $s}')"; }
profile fleet-mbed r1-r3.pem mbedtls; expect 201 "" "an mbedTLS fleet holding R1 and R3"
profile fleet-wolf r1-r3.pem wolfssl; expect 201 "" "a wolfSSL fleet holding R1 and R3"

# an issuing CA under R3, signed by openssl as a ceremony would (CA:TRUE, pathlen:0, keyCertSign)
http POST /v1/issuers -H "Authorization: Bearer $ADMIN" -d '{}'; expect 201 "" "a new issuer key"
ID=$(echo "$OUT" | jq -r .id); echo "$OUT" | jq -r .csr > i3.csr
printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" \
  "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" > i3.ext
openssl x509 -req -in i3.csr -CA r3.pem -CAkey r3.key -CAcreateserial -days 1095 -extfile i3.ext -out i3.pem 2>/dev/null ||
  die "openssl cannot sign the issuer under R3"
put() { http PUT "/v1/issuers/$ID/certificate" -H "Authorization: Bearer $ADMIN" -d "$1"; }
put "$(jq -n --rawfile c i3.pem '{certificate: $c}')"
expect 409 preflight_failed "an issuer under a root with pathLen 0, for an mbedTLS fleet"
grep -q "fleet-mbed" <<<"$OUT" && grep -q "pathLenConstraint 0 exceeded" <<<"$OUT" &&
  grep -qE "breaks on [0-9]{4}-[0-9]{2}-[0-9]{2}" <<<"$OUT" || die "the refusal must name the profile, the date and the rule: $OUT"
grep -q "fleet-wolf" <<<"$OUT" && die "wolfSSL does not read the anchor's pathLen, its fleet must not be named: $OUT"
ok "the refusal names fleet-mbed, the date and pathLenConstraint; not the wolfSSL fleet"
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $ID) | .state")" = pending ] || die "the refused issuer must stay pending: $OUT"
ok "the refused issuer stays pending"

# the fleet check and the lint say the same, offline, from the CLI
set +e
"$IOTCA_CLI" fleet check --trust-store r1-r3.pem --stack mbedtls --until "$UNTIL" --chain i3.pem > fc.out; rc=$?
"$IOTCA_CLI" fleet check --trust-store r1-r3.pem --stack wolfssl --until "$UNTIL" --chain i3.pem > fw.out; rcw=$?
"$IOTCA_CLI" lint --trust-store r1-r3.pem --stack mbedtls --chain i3.pem > lint.out; rcl=$?
set -e
[ "$rc" = 5 ] && grep -q "pathLenConstraint 0 exceeded (1 CA certificate below it) in: CN=Test Root R3 pathLen 0" fc.out ||
  die "fleet check (mbedtls): $rc $(cat fc.out)"
[ "$rcw" = 0 ] || die "fleet check (wolfssl) must pass: $rcw $(cat fw.out)"
[ "$rcl" = 5 ] && grep -q "chain.rejected" lint.out && grep -q "pathLenConstraint 0 exceeded" lint.out || die "lint (mbedtls): $rcl $(cat lint.out)"
ok "iotca fleet check and iotca lint refuse the chain for mbedTLS (pathLenConstraint), the fleet check passes it for wolfSSL"
stop_clean
echo "$CHECKS passed, 0 failed"
