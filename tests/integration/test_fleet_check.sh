#!/usr/bin/env bash
# Fleet check (SPEC §7, issue 5): the field incidents. (a) a store holding only the current intermediate breaks
# at the next rotation; (b) a store with both roots stays ok through three rotations; (c) a rollover to a new
# root with a cross-sign keeps old-root devices working until the cross-sign ends, and the report names that
# date; (d) a served chain through a cross-signing root that expires: openssl102 fails, openssl passes.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
day() { date -u -d "+$1 days" +%Y-%m-%dT%H:%M:%SZ; }
stage() { # stage NAME VAULT DAYS_AHEAD
  http POST /v1/issuers -H "Authorization: Bearer $ADMIN"; [ "$STATUS" = 201 ] || die "new issuer"
  local id; id=$(echo "$OUT" | jq -r .id)
  echo "$OUT" | jq -r .csr > "$1.csr"
  "$ROOT_TOOL" sign-intermediate --vault "$2" --csr "$1.csr" --out "$1.pem" --yes --passphrase-file rootpass >/dev/null
  http PUT "/v1/issuers/$id/certificate" -H "Authorization: Bearer $ADMIN" \
    -d "$(jq -n --rawfile c "$1.pem" --arg at "$(day "$3")" '{certificate: $c, activate_at: $at}')"
  [ "$STATUS" = 200 ] || die "stage $1: $OUT"
}
stage int2 r1 30
stage int3 r2 60
UNTIL=$(date -u -d '+700 days' +%Y-%m-%d)
fc() { http POST /v1/fleet/check -H "Authorization: Bearer $PROV" -d "$(jq -n --rawfile s "$1" --arg st "$2" --arg u "$UNTIL" '{trust_store: $s, stack: $st, until: $u}')"; }

# (a)
fc int1.pem mbedtls; expect 200 "" "fleet check of a store pinning the current intermediate (mbedtls)"
ff=$(echo "$OUT" | jq -r .first_failure)
want=$(day 30 | cut -c1-13)
[ "${ff:0:13}" = "$want" ] || die "(a) should break at the next rotation ($want): $OUT"
[ "$(echo "$OUT" | jq '.points[0].ok')" = true ] || die "(a) works until the rotation for mbedtls"
ok "(a) a store holding only the current intermediate breaks at the next rotation date ($ff)"
fc int1.pem openssl
[ "$(echo "$OUT" | jq '.points[0].ok')" = false ] || die "(a) openssl has no partial chains"
ok "(a) for OpenSSL such a store never works"
set +e; "$IOTCA_CLI" --url "$BASE" --token "$PROV" fleet check --trust-store int1.pem --stack mbedtls --until "$UNTIL" > cli.out; rc=$?; set -e
[ "$rc" = 5 ] && grep -q "first failure: ${want}" cli.out || die "(a) CLI against the daemon: $rc $(cat cli.out)"
ok "(a) iotca fleet check against the daemon exits 5 and names the date"

# (b)
for st in openssl openssl102 mbedtls wolfssl bearssl gnutls; do
  fc roots.pem "$st"; expect 200 "" "fleet check of both roots ($st)"
  [ "$(echo "$OUT" | jq -r .first_failure)" = null ] || die "(b) $st breaks: $OUT"
  [ "$(echo "$OUT" | jq '[.points[] | select(.ok)] | length')" -ge 3 ] || die "(b) too few dates checked: $OUT"
done
ok "(b) a store with both roots is ok through three rotations, for every stack"

# (c) R1 cross-signs R2 for 400 days; the new intermediate is under R2; the device holds only R1
"$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross.pem --days 400 --yes --passphrase-file rootpass >/dev/null
cat int3.pem cross.pem > served-c.pem
cross_end=$(date -u -d "$(openssl x509 -in cross.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%d)
for st in openssl openssl102 mbedtls wolfssl bearssl gnutls; do
  set +e; "$IOTCA_CLI" fleet check --trust-store r1/root.pem --stack "$st" --until "$UNTIL" --chain served-c.pem > c.out; rc=$?; set -e
  [ "$rc" = 5 ] && grep -q "first failure ($st): $cross_end" c.out || die "(c) $st: $rc $(cat c.out)"
  head -1 c.out | grep >/dev/null " ok " || die "(c) $st should work before the cross-sign ends: $(head -1 c.out)"
done
ok "(c) old-root devices stay ok until the cross-sign ends ($cross_end), and every stack's report names that date"

# (c') the same rollover for devices that refresh their store from EST's cacerts (R1, R2 and the cross-certificate)
# when they re-enroll: every 300 days is within the cross-sign's 400, so R2 arrives in time; every 500 is not
cat r1/root.pem r2/root.pem cross.pem > cacerts.pem
for st in openssl mbedtls bearssl gnutls; do
  "$IOTCA_CLI" fleet check --trust-store r1/root.pem --stack "$st" --until "$UNTIL" --chain served-c.pem \
    --refresh-from cacerts.pem --reenroll-every 300d > c.out || die "(c') $st, re-enrolling every 300 days: $(cat c.out)"
  grep -q "^ok through $UNTIL for $st" c.out || die "(c') $st: $(cat c.out)"
  set +e; "$IOTCA_CLI" fleet check --trust-store r1/root.pem --stack "$st" --until "$UNTIL" --chain served-c.pem \
    --refresh-from cacerts.pem --reenroll-every 500d > c.out; rc=$?; set -e
  [ "$rc" = 5 ] && grep -q "first failure ($st): $cross_end" c.out || die "(c') $st, every 500 days: $rc $(cat c.out)"
done
# OpenSSL 1.0.2 builds through the served cross-certificate to R1 before it looks for R2, and wolfSSL takes a
# presented CA that a loaded root signed: both then fail on its date (the DST Root X3 incident). Holding R2 does
# not save them while the server still sends the expired cross-certificate.
for st in openssl102 wolfssl; do
  set +e; "$IOTCA_CLI" fleet check --trust-store r1/root.pem --stack "$st" --until "$UNTIL" --chain served-c.pem \
    --refresh-from cacerts.pem --reenroll-every 300d > c.out; rc=$?; set -e
  [ "$rc" = 5 ] && grep -q "first failure ($st): $cross_end" c.out && grep -q 'CN=Test Root R2' c.out ||
    die "(c') $st must still break at the cross-sign's end: $rc $(cat c.out)"
done
ok "(c') devices refreshing from cacerts every 300 days outlive the 400-day cross-sign, except OpenSSL 1.0.2 and wolfSSL ones while the expired cross-sign is served; every 500 days all break at its end ($cross_end)"
for bad in "--refresh-from cacerts.pem" "--reenroll-every 30d" "--refresh-from cacerts.pem --reenroll-every soon" \
  "--refresh-from cacerts.pem --reenroll-every 3h"; do
  set +e
  # shellcheck disable=SC2086 # the flags split on purpose
  "$IOTCA_CLI" fleet check --trust-store r1/root.pem --until "$UNTIL" --chain served-c.pem $bad > c.out 2>&1; rc=$?
  set -e
  [ "$rc" = 2 ] || die "(c') '$bad' must be a usage error: $rc $(cat c.out)"
done
set +e; "$IOTCA_CLI" fleet check --trust-store r1/root.pem --until "$UNTIL" --refresh-from cacerts.pem --reenroll-every 30d \
  > c.out 2>&1; rc=$?; set -e
[ "$rc" = 2 ] || die "(c') --refresh-from without a chain: $rc $(cat c.out)"
ok "(c') refused: either flag alone, a bad or sub-day interval, no chain to check offline"
# (c'') the daemon's own schedule for such devices: its cacerts hold R1 and R2, and int3 (under R2) serves from
# day 60. A device holding R1 that re-enrolls every 30 days has R2 by then; every 90 days it has not
fcr() { http POST /v1/fleet/check -H "Authorization: Bearer $PROV" -d "$(jq -n --rawfile s r1/root.pem --arg u "$UNTIL" \
  --arg e "$1" '{trust_store: $s, stack: "mbedtls", until: $u, reenroll_every: $e}')"; }
fcr 30d; expect 200 "" "fleet check for devices re-enrolling every 30 days"
[ "$(echo "$OUT" | jq -r .first_failure)" = null ] || die "(c'') every 30 days should hold: $OUT"
fcr 90d; expect 200 "" "fleet check for devices re-enrolling every 90 days"
[ "$(echo "$OUT" | jq -r .first_failure | cut -c1-13)" = "$(day 60 | cut -c1-13)" ] || die "(c'') every 90 days: $OUT"
fc r1/root.pem mbedtls
[ "$(echo "$OUT" | jq -r .first_failure | cut -c1-13)" = "$(day 60 | cut -c1-13)" ] || die "(c'') no refresh: $OUT"
"$IOTCA_CLI" --url "$BASE" --token "$PROV" fleet check --trust-store r1/root.pem --stack mbedtls --until "$UNTIL" \
  --reenroll-every 30d > cli.out || die "(c'') the CLI against the daemon, every 30 days: $(cat cli.out)"
for bad in 3h soon 4000d; do fcr "$bad"; expect 400 bad_request "reenroll_every $bad"; done
ok "(c'') POST /v1/fleet/check with reenroll_every: the daemon's cacerts reach devices re-enrolling every 30 days before int3 serves (day 60), not every 90; the CLI passes --reenroll-every; bad intervals get 400"

# (d) an old root valid for one year cross-signs R2 for five (made with openssl: iotca-root caps a
# cross-sign at its own root's end, so it cannot make this mistake); devices hold R2 and the old root
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout old.key -subj "/CN=Old Root" -days 365 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out old.pem 2>/dev/null
openssl pkey -in r2/root.key -passin file:rootpass -out r2.key
openssl req -new -key r2.key -subj "/CN=Test Root R2" -out r2.csr
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > ca.ext
openssl x509 -req -in r2.csr -CA old.pem -CAkey old.key -CAcreateserial -days 1825 -extfile ca.ext -out cross-old.pem 2>/dev/null
cmp -s <(openssl x509 -in cross-old.pem -noout -subject) <(openssl x509 -in r2/root.pem -noout -subject) || die "cross subject"
cat r2/root.pem old.pem > store-d.pem
cat int3.pem cross-old.pem > served-d.pem
set +e
"$IOTCA_CLI" fleet check --trust-store store-d.pem --stack openssl --until "$UNTIL" --chain served-d.pem > d1.out; rc1=$?
"$IOTCA_CLI" fleet check --trust-store store-d.pem --stack openssl102 --until "$UNTIL" --chain served-d.pem > d2.out; rc2=$?
set -e
[ "$rc1" = 0 ] || die "(d) openssl should pass: $(cat d1.out)"
old_end=$(date -u -d "$(openssl x509 -in old.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%d)
[ "$rc2" = 5 ] && grep -q "first failure (openssl102): $old_end" d2.out && grep -q "expired root: CN=Old Root" d2.out || die "(d) openssl102: $rc2 $(cat d2.out)"
ok "(d) through an expired cross-signing root: openssl passes, openssl102 fails on $old_end naming the expired root"
# the offline --json report gives its dates as the daemon does (RFC 3339 UTC strings), not epoch seconds
set +e; "$IOTCA_CLI" --json fleet check --trust-store store-d.pem --stack openssl102 --until "$UNTIL" --chain served-d.pem > d2.json; set -e
rfc3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
jq -e --arg re "$rfc3339" '(.first_failure | type == "string" and test($re)) and all(.points[]; .at | type == "string" and test($re))' d2.json >/dev/null ||
  die "(d) offline --json dates are not RFC 3339 strings: $(head -c 300 d2.json)"
[ "$(jq -r .first_failure d2.json | cut -c1-10)" = "$old_end" ] || die "(d) offline --json first_failure: $(jq -r .first_failure d2.json)"
ok "(d) offline --json gives RFC 3339 dates, as the daemon does ($(jq -r .first_failure d2.json))"

# a live server: the chain it really sends (leaf + intermediate) against the store
make_csr live live.updates.example.com "DNS:live.updates.example.com"
issue live firmware-endpoint "$PROV"; [ "$STATUS" = 201 ] || die "issue live"
TLSPORT=$(free_port)
openssl s_server -quiet -accept "$TLSPORT" -cert live.crt -key live.key -cert_chain live.chain -www >/dev/null 2>&1 &
wait_port "$TLSPORT"
set +e
"$IOTCA_CLI" fleet check --endpoint "127.0.0.1:$TLSPORT" --trust-store roots.pem --until "$UNTIL" > e1.out; rc1=$?
"$IOTCA_CLI" fleet check --endpoint "127.0.0.1:$TLSPORT" --trust-store r2/root.pem --until "$UNTIL" > e2.out; rc2=$?
set -e
# the leaf the server sends is judged too (issue 20, point 4): the chain holds until the leaf's own notAfter (openssl,
# the default stack: from that very second), which comes before --until; nothing breaks before it
live_end=$(date -u -d "$(openssl x509 -in live.crt -noout -enddate | cut -d= -f2)" '+%Y-%m-%d %H:%M:%S')
[ "$rc1" = 5 ] && grep -q "first failure (openssl): $live_end" e1.out && grep -q "BREAKS  the leaf has expired: CN=live.updates.example.com" e1.out ||
  die "--endpoint with both roots: breaks when the served leaf expires ($live_end): $rc1 $(cat e1.out)"
[ "$(grep -c BREAKS e1.out)" = "$(grep -c "BREAKS  the leaf has expired" e1.out)" ] && [ "$(head -n 1 e1.out | grep -c ' ok ')" = 1 ] ||
  die "--endpoint with both roots: ok until the leaf expires: $(cat e1.out)"
[ "$rc2" = 5 ] && grep -q "no path to a trust anchor" e2.out || die "--endpoint against a store without R1 should break: $rc2 $(cat e2.out)"
ok "--endpoint checks the chain a live TLS server sends, its leaf included"
TLS2=$(free_port)
openssl s_server -quiet -accept "$TLS2" -cert live.crt -key live.key -www >/dev/null 2>&1 &
wait_port "$TLS2"
set +e; "$IOTCA_CLI" fleet check --endpoint "127.0.0.1:$TLS2" --trust-store roots.pem --until "$UNTIL" > e3.out 2>&1; rc3=$?; set -e
[ "$rc3" != 0 ] && grep -q "sends no intermediate" e3.out || die "a server without its chain: $rc3 $(cat e3.out)"
ok "a server that does not send its intermediate is reported"
set +e; "$IOTCA_CLI" fleet check --endpoint "127.0.0.1:1" --trust-store roots.pem --until "$UNTIL" > e4.out 2>&1; rc4=$?; set -e
[ "$rc4" != 0 ] && grep -q "cannot complete a TLS handshake" e4.out || die "unreachable endpoint: $rc4 $(cat e4.out)"
ok "an unreachable endpoint is a clear failure"

# refusals
fc roots.pem schannel; expect 400 bad_request "unknown stack"
http POST /v1/fleet/check -H "Authorization: Bearer $PROV" -d "$(jq -n --rawfile s roots.pem '{trust_store: $s, until: "2001-01-01"}')"
expect 400 bad_request "until in the past"
http POST /v1/fleet/check -H "Authorization: Bearer $PROV" -d '{"trust_store": "x"}'; expect 400 bad_request "missing until"
http POST /v1/fleet/check -d '{}'; expect 401 unauthorized "no token"
printf -- '-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n' > garbage.pem
fc garbage.pem openssl; expect 400 malformed "a trust store whose certificate does not parse"
set +e; "$IOTCA_CLI" fleet check --trust-store roots.pem; rc=$?; set -e
[ "$rc" = 2 ] || die "missing --until: $rc"
set +e; "$IOTCA_CLI" fleet check --trust-store roots.pem --until "$UNTIL" --chain served-c.pem@notadate 2>/dev/null; rc=$?; set -e
[ "$rc" = 2 ] || die "bad chain date: $rc"
ok "bad input: 400 from the API, exit 2 from the CLI"
echo "$CHECKS passed, 0 failed"
