#!/usr/bin/env bash
# Trust profiles and rotation preflight (SPEC §7, issue 5 item 4; incident (e)): scheduling an issuer whose chain
# a registered device trust store cannot validate is refused, naming the profile, the date and the reason; an
# explicit justification overrides it and is recorded; a profile registered after scheduling holds the activation.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
UNTIL=$(date -u -d '+700 days' +%Y-%m-%d)
# profile NAME STORE [STACK] [ACK-JSON]: POST /v1/trust-profiles (ACK-JSON: the acknowledge array, if any)
profile() { http POST /v1/trust-profiles -H "Authorization: Bearer $ADMIN" -d "$(jq -n --arg n "$1" --rawfile p "$2" --arg u "$UNTIL" --arg s "${3:-openssl}" --argjson a "${4:-null}" '{name: $n, pem: $p, until: $u, stack: $s} + (if $a == null then {} else {acknowledge: $a} end)')"; }
issuer_csr() { # issuer_csr NAME GROUP -> $ID, NAME.csr
  http POST /v1/issuers -H "Authorization: Bearer $ADMIN" -d "{\"group\": \"$2\"}"; [ "$STATUS" = 201 ] || die "new issuer: $OUT"
  ID=$(echo "$OUT" | jq -r .id); echo "$OUT" | jq -r .csr > "$1.csr"
}
sign() { "$ROOT_TOOL" sign-intermediate --vault "$2" --csr "$1.csr" --out "$1.pem" --yes --passphrase-file rootpass >/dev/null; }
put() { http PUT "/v1/issuers/$1/certificate" -H "Authorization: Bearer $ADMIN" -d "$2"; }

profile fleet-both roots.pem; expect 201 "" "register a fleet holding both roots"
issuer_csr g2a g2; g2=$ID; sign g2a r2
put "$g2" "$(jq -n --rawfile c g2a.pem --arg at "$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)" '{certificate: $c, activate_at: $at}')"
expect 200 "" "an R2 issuer passes preflight while every fleet holds R2"
# the store is linted at registration: a single root, and a served chain (the staged R2 issuer) it cannot
# anchor, are errors the registrar must acknowledge
profile fleet-r1-only r1/root.pem; expect 422 trust_store_lint "a store with a single root, not acknowledged"
echo "$OUT" | jq -e '[.findings[].code] == ["store.single_root", "chain.no_anchor"]' >/dev/null &&
  echo "$OUT" | jq -r .detail | grep -q 'store.single_root: .*chain.no_anchor: ' || die "the refusal must name the findings: $OUT"
ok "the refusal names the findings (store.single_root, chain.no_anchor), in the detail and in findings"
profile fleet-r1-only r1/root.pem openssl '["store.single_root"]'; expect 422 trust_store_lint "one of its two errors acknowledged"
profile fleet-r1-only r1/root.pem openssl '["store.single_root", "chain.no_anchor"]'
expect 201 "" "register a fleet holding only R1, its single root acknowledged (after the R2 issuer was scheduled)"
[ "$(sql "SELECT count(*) FROM audit WHERE subject LIKE 'trust profile fleet-r1-only ack store.single_root%'")" = 1 ] ||
  die "the acknowledgement is not in the audit trail"
ok "the acknowledgement is in the audit trail"
profile fleet-r1-gnutls r1/root.pem gnutls '["store.single_root", "chain.no_anchor"]'; expect 201 "" "a second R1-only fleet (gnutls)"

# (e) switching the served chain to a root the registered fleet lacks is refused
issuer_csr r2b default; r2b=$ID; sign r2b r2
put "$r2b" "$(jq -n --rawfile c r2b.pem '{certificate: $c}')"
expect 409 preflight_failed "(e) an issuer under R2 for a fleet that holds only R1"
echo "$OUT" | grep -E >/dev/null "fleet-r1-(only|gnutls)" && echo "$OUT" | grep >/dev/null "no path to a trust anchor" && echo "$OUT" | grep -E >/dev/null "breaks on [0-9]{4}-[0-9]{2}-[0-9]{2}" || die "refusal must name profile, date, reason: $OUT"
ok "(e) the refusal names the profile, the date and the reason"
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $r2b) | .state")" = pending ] || die "refused issuer must stay pending"
ok "the refused issuer stays pending"
put "$r2b" "$(jq -n --rawfile c r2b.pem '{certificate: $c, force_justification: "short"}')"
expect 400 bad_request "a justification under 10 characters is not enough"
put "$r2b" "$(jq -n --rawfile c r2b.pem '{certificate: $c, force_justification: "R1 fleet recalled; change CHG-1234 approved by ops lead"}')"
expect 200 "" "override with a recorded justification"
# the override is in the hash-chained audit trail: the justification and every broken profile
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'issuer.preflight_override' AND subject = 'issuer $r2b' AND outcome = 'justified' AND detail LIKE '%R1 fleet recalled%'")" = 1 ] ||
  die "the justification is not in the audit trail"
for p in fleet-r1-only fleet-r1-gnutls; do
  [ "$(sql "SELECT count(*) FROM audit WHERE action = 'issuer.preflight_override' AND outcome = 'broken_profile' AND detail LIKE 'profile $p breaks on %: %'")" = 1 ] ||
    die "the audit trail does not name $p"
done
ok "the audit trail holds the justification and both broken profiles with their dates and reasons"
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
echo "$OUT" | jq -e ".issuers[] | select(.id == $r2b) | .preflight_override | (.justification | startswith(\"R1 fleet recalled\")) and (.by | startswith(\"token:\")) and ([.broken_profiles[].profile] | sort == [\"fleet-r1-gnutls\", \"fleet-r1-only\"]) and all(.broken_profiles[]; .breaks_on | test(\"^[0-9]{4}-\"))" >/dev/null ||
  die "GET /v1/issuers does not show the override: $OUT"
ok "GET /v1/issuers shows the override: justification, who, and both broken profiles with dates"
"$IOTCA_CLI" --url "$BASE" --token "$ADMIN" issuers list > il.out
grep -q "issuer $r2b: preflight overridden .* R1 fleet recalled" il.out && grep -q "breaks trust profile fleet-r1-only on" il.out &&
  grep -q "breaks trust profile fleet-r1-gnutls on" il.out || die "iotca issuers list: $(cat il.out)"
ok "iotca issuers list shows the override and both broken profiles"

# a profile registered after scheduling holds the activation at the tick
sleep 5
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $g2) | .state")" = staged ] || die "activation should be held: $OUT"
echo "$OUT" | jq -e '.warnings[] | select(.kind == "activation_held")' >/dev/null || die "no activation_held warning: $OUT"
ok "the tick holds an activation that would break a fleet registered since, and warns"

# an issuer under R1 breaks nobody
issuer_csr g3a g3; sign g3a r1
put "$ID" "$(jq -n --rawfile c g3a.pem '{certificate: $c}')"; expect 200 "" "an R1 issuer passes preflight for both fleets"

# trust profile refusals
http GET /v1/trust-profiles -H "Authorization: Bearer $ADMIN"; expect 200 "" "list trust profiles"
[ "$(echo "$OUT" | jq '.trust_profiles | length')" = 3 ] || die "three profiles: $OUT"
profile fleet-both roots.pem; expect 409 exists "duplicate profile name"
profile bad-stack roots.pem schannel; expect 400 bad_request "unknown stack"
printf 'garbage\n' > junk.pem
profile junk junk.pem; expect 400 malformed "a store without certificates"
http POST /v1/trust-profiles -H "Authorization: Bearer $ADMIN" -d "$(jq -n --rawfile p roots.pem '{name: "old", pem: $p, until: "2001-01-01", stack: "openssl"}')"
expect 400 bad_request "an end of life in the past"
# a store pinning the intermediate: refused, nothing registered; acknowledged, registered and audited
profile fleet-pins-int int1.pem mbedtls; expect 422 trust_store_lint "a store that pins the intermediate"
echo "$OUT" | jq -e '[.findings[].code] | index("store.not_root")' >/dev/null || die "store.not_root not named: $OUT"
codes=$(echo "$OUT" | jq -c '[.findings[].code] | unique')
[ "$(sql "SELECT count(*) FROM trust_profiles WHERE name = 'fleet-pins-int'")" = 0 ] || die "a refused store was registered"
ok "a store pinning the intermediate is refused naming store.not_root, and nothing is registered"
profile fleet-pins-int int1.pem mbedtls "$codes"; expect 201 "" "every finding acknowledged ($codes)"
profile x roots.pem openssl '"store.not_root"'; expect 400 bad_request "acknowledge as a string, not an array"
profile x roots.pem openssl '[1]'; expect 400 bad_request "acknowledge with a number"
profile x roots.pem openssl '["no.such"]'; expect 400 bad_request "acknowledge with a code the lint does not have"
# warnings come back with a registration
openssl req -x509 -newkey rsa:2048 -nodes -keyout weak.key -subj "/CN=Weak Root" -days 3650 -out weak.pem 2>/dev/null
cat roots.pem weak.pem > with-weak.pem
profile fleet-weak with-weak.pem; expect 201 "" "a store with a root iotca does not accept (a warning)"
echo "$OUT" | jq -e '[.warnings[].code] | index("root.weak")' >/dev/null || die "no root.weak warning in the answer: $OUT"
ok "the answer carries the warning (root.weak)"
"$IOTCA_CLI" --url "$BASE" --token "$ADMIN" trust-profile add --name fleet-weak-cli --trust-store with-weak.pem --stack openssl --until "$UNTIL" > tw.out ||
  die "CLI add with a warning: $(cat tw.out)"
grep -q "^warning: root.weak" tw.out || die "the CLI does not print the warning: $(cat tw.out)"
set +e; "$IOTCA_CLI" --url "$BASE" --token "$ADMIN" trust-profile add --name cli-pins --trust-store int1.pem --stack mbedtls --until "$UNTIL" 2>tp2.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "store.not_root" tp2.err || die "CLI refusal: $rc $(cat tp2.err)"
"$IOTCA_CLI" --url "$BASE" --token "$ADMIN" trust-profile add --name cli-pins --trust-store int1.pem --stack mbedtls --until "$UNTIL" \
  $(echo "$codes" | jq -r '.[] | "--acknowledge " + .') >/dev/null || die "CLI add with --acknowledge"
ok "the CLI prints warnings, shows the refusal, and registers with --acknowledge"
http POST /v1/trust-profiles -H "Authorization: Bearer $PROV" -d '{}'; expect 403 forbidden "provisioners cannot register fleets"
http POST /v1/trust-profiles -d '{}'; expect 401 unauthorized "no token"
# the same through the CLI
export IOTCA_URL="$BASE" IOTCA_TOKEN="$ADMIN"
"$IOTCA_CLI" trust-profile list > tp.out
grep -q "fleet-both  openssl" tp.out && grep -q "fleet-r1-only" tp.out || die "trust-profile list: $(cat tp.out)"
set +e; "$IOTCA_CLI" trust-profile add --name fleet-both --trust-store roots.pem --stack mbedtls --until "$UNTIL" 2>tp.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "already exists" tp.err || die "duplicate via CLI: $rc"
"$IOTCA_CLI" trust-profile add --name fleet-mbed --trust-store roots.pem --stack mbedtls --until "$UNTIL" | grep >/dev/null "registered trust profile fleet-mbed" || die "add via CLI"
issuer_csr g4a g4; g4=$ID; sign g4a r2
set +e; "$IOTCA_CLI" issuers import "$g4" g4a.pem 2>imp.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "preflight_failed" imp.err || die "CLI import refused by preflight: $rc $(cat imp.err)"
"$IOTCA_CLI" issuers import "$g4" g4a.pem --force-justification "lab fleet only, approved in CHG-99" >/dev/null || die "CLI override"
ok "trust-profile add/list and issuers import --force-justification through the CLI"
# the override cannot be quietly removed: the row GET /v1/issuers reads may go, the audit trail keeps it and
# tampering with the trail is found
"$IOTCAD" audit verify --config iotcad.json >/dev/null || die "the audit trail does not verify"
sql "DELETE FROM preflight_overrides"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'issuer.preflight_override'")" -ge 3 ] || die "the trail lost the override"
# the trail's triggers refuse the change; someone with the file drops them first (as test_audit.sh does)
sql "DROP TRIGGER audit_no_update; UPDATE audit SET detail = replace(detail, 'R1 fleet recalled', 'routine change') WHERE action = 'issuer.preflight_override'"
set +e; "$IOTCAD" audit verify --config iotcad.json >av.out 2>&1; rc=$?; set -e
[ "$rc" = 1 ] && grep -q FAILED av.out || die "tampering with the override's audit record went unnoticed: $rc $(cat av.out)"
ok "the override stays in the audit trail when its row is deleted, and altering it fails iotcad audit verify"
echo "$CHECKS passed, 0 failed"
