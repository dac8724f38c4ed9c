#!/usr/bin/env bash
# Advance warnings (SPEC §7, issue 5 item 5): a root and an issuer nearing expiry and an issuer due to rotate
# without a staged successor show in GET /v1/issuers, /metrics and the log (once per threshold); staging a
# successor clears the rotation warning.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ceremony
# a third root that ends in 50 days (inside the 60-day window)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout short.key -subj "/CN=Short-lived Root" \
  -days 50 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out short.pem 2>/dev/null
write_config
jq --arg s "$WORK/short.pem" '.roots += [$s]' iotcad.json > cfg.tmp && mv cfg.tmp iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
# an issuer whose certificate ends in 100 days
http POST /v1/issuers -H "Authorization: Bearer $ADMIN"; expect 201 "" "make an issuer"
id=$(echo "$OUT" | jq -r .id)
echo "$OUT" | jq -r .csr > short-int.csr
"$ROOT_TOOL" sign-intermediate --vault r1 --csr short-int.csr --out short-int.pem --days 100 --yes --passphrase-file rootpass >/dev/null
http PUT "/v1/issuers/$id/certificate" -H "Authorization: Bearer $ADMIN" --data-binary @short-int.pem; expect 200 "" "import it"

http GET /v1/issuers -H "Authorization: Bearer $ADMIN"; expect 200 "" "list issuers with warnings"
w() { echo "$OUT" | jq -c ".warnings[] | select(.kind == \"$1\")"; }
[ "$(w root_expiry | jq -r .threshold_days)" = 60 ] && [ "$(w root_expiry | jq -r .subject)" = "CN=Short-lived Root" ] || die "root warning: $OUT"
ok "a root ending in 50 days is in the 60-day window"
[ "$(w issuer_expiry | jq -r .threshold_days)" = 180 ] && [ "$(w issuer_expiry | jq -r .days_left)" -ge 98 ] || die "issuer expiry: $OUT"
ok "an issuer ending in 100 days is in the 180-day window"
[ "$(w rotation_due | jq -r .threshold_days)" = 180 ] && w rotation_due | grep >/dev/null "no successor is staged" || die "rotation due: $OUT"
ok "an active issuer without a staged successor is flagged as due to rotate"
for r in r1 r2; do [ -z "$(echo "$OUT" | jq -c ".warnings[] | select(.subject | test(\"Test Root\"))")" ] || die "25-year roots must not warn"; done
ok "25-year roots do not warn"

http GET /metrics; expect 200 "" "metrics"
echo "$OUT" | grep -E >/dev/null '^iotca_advance_warning\{kind="root_expiry",subject="CN=Short-lived Root",threshold="60"\} 4[89]$' || die "root gauge: $(echo "$OUT" | grep advance)"
echo "$OUT" | grep >/dev/null 'iotca_advance_warning{kind="rotation_due"' || die "rotation gauge"
echo "$OUT" | grep >/dev/null '^iotca_advance_warnings 3$' || die "warning count: $(echo "$OUT" | grep advance_warnings)"
ok "/metrics carries a gauge per warning and their count"

# wait (bounded) until the ticks have logged the three warnings, then let more ticks pass: each is logged once
for _ in $(seq 1 300); do [ "$(grep -c '"msg":"advance warning"' daemon.log)" -ge 3 ] && break; sleep 0.1; done
sleep 2.5
[ "$(grep -c '"msg":"advance warning"' daemon.log)" = 3 ] || die "expected 3 warning log lines: $(grep -c 'advance warning' daemon.log)"
grep '"msg":"advance warning"' daemon.log | grep >/dev/null '"kind":"root_expiry"' || die "root warning not logged"
ok "each warning is logged once as a JSON warn line"

# staging a successor clears the rotation warning
http POST /v1/issuers -H "Authorization: Bearer $ADMIN"; expect 201 "" "make the successor"
nid=$(echo "$OUT" | jq -r .id)
echo "$OUT" | jq -r .csr > next.csr
"$ROOT_TOOL" sign-intermediate --vault r1 --csr next.csr --out next.pem --yes --passphrase-file rootpass >/dev/null
http PUT "/v1/issuers/$nid/certificate" -H "Authorization: Bearer $ADMIN" \
  -d "$(jq -n --rawfile c next.pem --arg at "$(date -u -d '+20 days' +%Y-%m-%dT%H:%M:%SZ)" '{certificate: $c, activate_at: $at}')"
expect 200 "" "stage the successor 20 days ahead"
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
[ -z "$(w rotation_due)" ] || die "rotation warning should be gone: $OUT"
[ -n "$(w issuer_expiry)" ] || die "the expiry warning stays until the rotation happens"
ok "a staged successor clears the rotation warning"
echo "$CHECKS passed, 0 failed"
