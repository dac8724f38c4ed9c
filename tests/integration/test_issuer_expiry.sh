#!/usr/bin/env bash
# Issue 18: an active issuer past its notAfter, and a database that refuses writes, must be told as they are.
# Before: issuance was refused as a TTL rule of the request (422 policy), the issuer stayed "active" and
# /readyz said ready. Now: issuance gets 503 no_issuer naming the expired issuer, /readyz 503 with the reason,
# and the tick retires the issuer (audited as issuer.expire). A write the database refuses makes /readyz 503
# after the next tick, and 200 once writes work again.
# The issuer is signed with openssl (with R1's key) to expire 25 seconds after it is made: iotca-root signs
# whole days. The tick runs hourly at first, so the refusals are seen before it retires the issuer; a restart
# runs the tick at once. Then the fault shim (tests/tools/fault_shim.c) makes the database refuse writes.
source "$(dirname "${BASH_SOURCE[0]}")/daemon_lib.sh"
SHIM="$IOTCA_BIN/tests/libiotca_fault_shim.so"
[ -f "$SHIM" ] || die "fault shim not built"
: > "$WORK/fault"
cat > iotcad-shim <<SH
#!/bin/sh
LD_PRELOAD="$SHIM" IOTCA_FAULT_FILE="$WORK/fault" ASAN_OPTIONS="\${ASAN_OPTIONS:-}:verify_asan_link_order=0" exec "$IOTCAD" "\$@"
SH
chmod +x iotcad-shim
ceremony
write_config
jq '.tick_interval_s = 3600' iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
REAL_IOTCAD=$IOTCAD
IOTCAD=$WORK/iotcad-shim
start_daemon

# an issuer that expires 25 seconds from now, then a certificate from it
http POST /v1/issuers -H "Authorization: Bearer $ADMIN" -d '{}'
ID1=$(echo "$OUT" | jq -r .id)
echo "$OUT" | jq -r .csr > short.csr
openssl pkey -in r1/root.key -passin file:rootpass -out r1.key 2>/dev/null || die "cannot read R1's key"
mkdir newcerts && touch index.txt
cat > ca.cnf <<CNF
[ca]
default_ca = short
[short]
database = $WORK/index.txt
new_certs_dir = $WORK/newcerts
default_md = sha256
policy = any
unique_subject = no
serial = $WORK/serial
[any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
ends=$(($(date +%s) + 25))
openssl ca -batch -config ca.cnf -cert r1/root.pem -keyfile r1.key -in short.csr -out short.pem -extensions ext \
  -startdate "$(date -u -d '-1 minute' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d "@$ends" +%Y%m%d%H%M%SZ)" -preserveDN \
  -notext -rand_serial 2>ca.err || die "openssl ca: $(cat ca.err)"
http PUT "/v1/issuers/$ID1/certificate" -H "Authorization: Bearer $ADMIN" --data-binary @short.pem
expect 200 "" "an issuer valid for 25 more seconds imported and active"
issue_and_verify a "issuance while the issuer is valid"
http GET /readyz; expect 200 "" "readyz while it is valid"

while [ "$(date +%s)" -le "$ends" ]; do sleep 0.5; done # the issuer has expired; the tick has not run since
make_csr b b.updates.example.com "DNS:b.updates.example.com"
issue b firmware-endpoint "$PROV"
expect 503 no_issuer "issuance once the active issuer expired (before the tick)"
echo "$OUT" | jq -r .detail | grep -q 'default-1 expired' || die "the refusal does not name the expired issuer: $OUT"
ok "the refusal names it: $(echo "$OUT" | jq -r .detail)"
http GET /readyz; expect 503 no_issuer "readyz once the active issuer expired"
echo "$OUT" | jq -r .detail | grep -q 'default-1 expired' || die "readyz gives no reason: $OUT"
ok "readyz says why: $(echo "$OUT" | jq -r .detail)"
http GET /healthz; expect 200 "" "healthz (liveness) meanwhile"

stop_clean
start_daemon # its first tick retires the expired issuer
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $ID1) | .state")" = retired ] || die "the expired issuer is not retired: $OUT"
ok "the tick retired the expired issuer"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'issuer.expire'")" = 1 ] || die "no issuer.expire audit record"
ok "the expiry is in the audit trail"
"$REAL_IOTCAD" audit verify --config iotcad.json >/dev/null || die "the audit trail does not verify"
ok "the audit trail verifies"
issue b firmware-endpoint "$PROV"
expect 503 no_issuer "issuance with the group's issuer retired"
http GET /readyz; expect 503 no_issuer "readyz with the group's issuer retired"

# a successor brings it back
new_issuer next
issue_and_verify c "issuance from the successor"
http GET /readyz; expect 200 "" "readyz with the successor active"

# a database that refuses writes (SQLITE_FULL on the tick's write probe and on serial reservations), seen
# within a tick (1 s here)
stop_clean
jq '.tick_interval_s = 1' iotcad.json > c.json && mv c.json iotcad.json
start_daemon
printf '13 UPDATE heartbeat\n13 INSERT INTO serials\n' > "$WORK/fault"
for _ in $(seq 1 50); do http GET /readyz; [ "$STATUS" = 503 ] && break; sleep 0.1; done
expect 503 unavailable "readyz while the database refuses writes"
echo "$OUT" | jq -r .detail | grep -q 'refuses writes' || die "readyz gives no reason: $OUT"
ok "readyz says why: $(echo "$OUT" | jq -r .detail)"
: > "$WORK/fault"
for _ in $(seq 1 50); do http GET /readyz; [ "$STATUS" = 200 ] && break; sleep 0.1; done
expect 200 "" "readyz once writes work again"
stop_clean
echo "PASS test_issuer_expiry: $CHECKS checks"
