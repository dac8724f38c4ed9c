#!/usr/bin/env bash
# A read replica (issue 25): iotcad with database.read_conninfo pointing at a hot standby of its PostgreSQL reads
# OCSP, CRLs and the inventory there and writes only to the primary. A standby that is not the primary's
# synchronous standby is refused at start (its reads could miss a revocation already reported). As one, a
# certificate is in the inventory read there as soon as it is issued, and a revocation is answered revoked at
# once. With the primary stopped, issuance and /readyz answer 503, while OCSP (a pre-signed answer never served
# before), the CRL and the inventory still answer, from the standby.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
# shellcheck source=tests/integration/pg_lib.sh
source "$HERE/pg_lib.sh"
trap 'stop_pg; cleanup' EXIT

start_pg
ceremony
write_config
jq --arg db "$PG_URL" '.database = {conninfo: $db}' iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null || die "iotcad init on PostgreSQL failed"
tokens
start_pg_standby
jq --arg r "$PG_STANDBY_URL" '.database.read_conninfo = $r' iotcad.json > c.json && mv c.json iotcad.json

rc=0; timeout 20 "$IOTCAD" --config iotcad.json > refused.log 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || die "iotcad started with an asynchronous standby as its read replica (exit $rc)"
grep -q 'synchronous_standby_names is empty' refused.log || die "the refusal does not say why: $(tail -3 refused.log)"
ok "a standby that is not synchronous is refused as the read replica: $(grep -o 'the read replica is a standby[^;]*' refused.log | head -1)"

pg_sync_standby
start_daemon
new_issuer int1
wait_issuer_state "$ISSUER_ID" active
INT1=$ISSUER_ID

serial_hex() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
status_of() { # status_of CERT: what openssl ocsp says of CERT (the answer verified)
  local oc
  oc=$(openssl ocsp -issuer int1.pem -cert "$1" -url "$BASE/ocsp" -CAfile roots.pem -verify_other int1.pem 2>&1) || true
  grep -q "Response verify OK" <<<"$oc" || die "the OCSP answer for $1 does not verify: $oc"
  echo "$oc" | sed -n "s/^$1: \([a-z]*\).*/\1/p"
}
for i in 1 2 3; do
  issue_and_verify "leaf$i" "issue leaf$i"
  http GET "/v1/certificates/$(serial_hex "leaf$i.crt")" -H "Authorization: Bearer $PROV"
  expect 200 "" "leaf$i is in the inventory at once (read from the standby)"
done
http GET "/v1/certificates?profile=firmware-endpoint" -H "Authorization: Bearer $PROV"
[ "$STATUS" = 200 ] && [ "$(echo "$OUT" | jq '.certificates | length')" = 3 ] || die "the list: $STATUS $OUT"
ok "the inventory list has all three"
standby_conns=$(psql -X -At -d "$PG_STANDBY_URL" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'iotcad'")
[ "$standby_conns" -gt 0 ] || die "iotcad holds no connection to the standby"
ok "iotcad reads through $standby_conns connection(s) to the standby"

for _ in 1 2; do [ "$(status_of leaf1.crt)" = good ] || die "leaf1 should be good"; done
http POST "/v1/certificates/$(serial_hex leaf1.crt)/revoke" -H "Authorization: Bearer $PROV" -d '{"reason": "keyCompromise"}'
expect 200 "" "revoke leaf1"
[ "$(status_of leaf1.crt)" = revoked ] || die "leaf1 is not answered revoked right after its revocation"
ok "right after the revocation, OCSP answers revoked (the cached good answer dropped, the standby read)"

# the tick pre-signs leaf3's answer on the primary; nobody has asked for it yet, so it is in no memory cache
for _ in $(seq 1 100); do
  [ "$(pg_sql "SELECT count(*) FROM ocsp_responses WHERE serial = '$(serial_hex leaf3.crt)'")" = 1 ] && break
  sleep 0.2
done
[ "$(pg_sql "SELECT count(*) FROM ocsp_responses WHERE serial = '$(serial_hex leaf3.crt)'")" = 1 ] ||
  die "the tick did not pre-sign leaf3's answer"
curl -sf "$BASE/crl/$INT1.crl" -o before.crl || die "GET the CRL"

pg_halt
ok "the primary is stopped"
make_csr down down.updates.example.com "DNS:down.updates.example.com"
issue down firmware-endpoint "$PROV"
expect 503 "" "issuance with the primary down"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")
[ "$code" = 503 ] || die "/readyz answered $code with the primary down"
ok "/readyz answers 503 with the primary down"
[ "$(status_of leaf3.crt)" = good ] || die "no OCSP answer for leaf3 from the standby"
ok "OCSP still answers (leaf3's pre-signed answer, read from the standby)"
[ "$(status_of leaf1.crt)" = revoked ] || die "leaf1 is not revoked from the standby"
ok "and leaf1 is still revoked"
curl -sf "$BASE/crl/$INT1.crl" -o during.crl || die "GET the CRL with the primary down"
openssl crl -inform DER -in during.crl -noout -text | grep -qi "$(serial_hex leaf1.crt)" || die "the CRL does not list leaf1"
ok "the CRL is served with the primary down, listing leaf1"
http GET "/v1/certificates/$(serial_hex leaf2.crt)" -H "Authorization: Bearer $PROV"
expect 200 "" "the inventory is read with the primary down"
pg_resume
for _ in $(seq 1 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] && break; sleep 0.2; done
issue down firmware-endpoint "$PROV"
expect 201 "" "issuance once the primary is back"
stop_clean
echo "$CHECKS passed, 0 failed"
