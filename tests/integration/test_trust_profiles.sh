#!/usr/bin/env bash
# Trust profiles can be listed, shown, replaced and deleted (issue 19, point 8), each change audited: one mistaken
# profile must not force --force-justification on every later rotation. A profile registered by mistake (only
# R1, while the fleet holds both roots) refuses a rotation to an R2 issuer; replaced with the right store, the
# rotation goes through without override; another mistake, deleted, likewise. Then the refusals: unknown names
# 404, names with '/' or too long 400, wrong role 403, bad JSON 400, a replacement the lint refuses 422 (and the
# profile unchanged), and the CLI's own checks.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
UNTIL=$(date -u -d '+700 days' +%Y-%m-%d)
A=(-H "Authorization: Bearer $ADMIN")
body() { # body STORE [STACK] [ACK-JSON] [NAME]: a trust profile's JSON
  jq -n --rawfile p "$1" --arg u "$UNTIL" --arg s "${2:-openssl}" --argjson a "${3:-null}" --arg n "${4:-}" \
    '{pem: $p, until: $u, stack: $s} + (if $a == null then {} else {acknowledge: $a} end) + (if $n == "" then {} else {name: $n} end)'
}
issuer_csr() { # issuer_csr NAME -> $ID, NAME.csr
  http POST /v1/issuers "${A[@]}" -d '{}'; [ "$STATUS" = 201 ] || die "new issuer: $OUT"
  ID=$(echo "$OUT" | jq -r .id); echo "$OUT" | jq -r .csr > "$1.csr"
}
sign() { "$ROOT_TOOL" sign-intermediate --vault "$2" --csr "$1.csr" --out "$1.pem" --yes --passphrase-file rootpass >/dev/null; }
export IOTCA_URL="$BASE" IOTCA_TOKEN="$ADMIN"

# the mistake: a fleet that holds both roots registered with R1 alone (its single root acknowledged)
http POST /v1/trust-profiles "${A[@]}" -d "$(body r1/root.pem openssl '["store.single_root"]' fleet-a)"
expect 201 "" "register fleet-a with R1 only (a mistake: the fleet holds R1 and R2)"
issuer_csr r2a; r2a=$ID; sign r2a r2
set +e; "$IOTCA_CLI" issuers import "$r2a" r2a.pem 2>imp.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "preflight_failed" imp.err && grep -q "fleet-a" imp.err || die "the mistake must hold the rotation back: $rc $(cat imp.err)"
ok "the mistaken profile refuses the rotation to an R2 issuer (409 preflight_failed naming fleet-a)"

# list and show
http GET /v1/trust-profiles "${A[@]}"; expect 200 "" "list"
echo "$OUT" | jq -e '.trust_profiles | length == 1 and .[0].name == "fleet-a" and .[0].stack == "openssl" and (.[0].created_at | test("^[0-9]{4}-"))' >/dev/null || die "list: $OUT"
http GET /v1/trust-profiles/fleet-a "${A[@]}"; expect 200 "" "show fleet-a"
[ "$(echo "$OUT" | jq -r .pem)" = "$(cat r1/root.pem)" ] || die "show does not give back the store: $OUT"
echo "$OUT" | jq -e '.name == "fleet-a" and .stack == "openssl" and (.until | startswith("'"$UNTIL"'"))' >/dev/null || die "show: $OUT"
ok "show gives the store as registered, with stack and end of life"
"$IOTCA_CLI" trust-profile show fleet-a --out fa.pem > show.out || die "CLI show: $(cat show.out)"
grep -q "Test Root R1" show.out && grep -q "SHA-256 $(openssl x509 -in r1/root.pem -outform DER | sha256sum | cut -d' ' -f1)" show.out &&
  cmp -s fa.pem r1/root.pem || die "CLI show: $(cat show.out)"
ok "iotca trust-profile show prints each certificate (subject, SHA-256) and --out saves the store"

# a replacement the lint refuses changes nothing
http PUT /v1/trust-profiles/fleet-a "${A[@]}" -d "$(body int1.pem mbedtls)"
expect 422 trust_store_lint "a replacement pinning the intermediate, not acknowledged"
echo "$OUT" | jq -e '[.findings[].code] | index("store.not_root")' >/dev/null || die "the refusal must name store.not_root: $OUT"
[ "$(sql "SELECT stack FROM trust_profiles WHERE name = 'fleet-a'")" = openssl ] || die "a refused replacement changed the profile"
ok "the refused replacement left fleet-a as it was"

# replaced with the right store: the rotation goes through without override
"$IOTCA_CLI" trust-profile replace fleet-a --trust-store roots.pem --stack openssl --until "$UNTIL" > rep.out || die "CLI replace: $(cat rep.out)"
grep -q "replaced trust profile fleet-a" rep.out || die "CLI replace: $(cat rep.out)"
[ "$(sql "SELECT count(*) FROM trust_profiles WHERE name = 'fleet-a' AND pem = readfile('roots.pem')")" = 1 ] ||
  [ "$(sql "SELECT length(pem) FROM trust_profiles WHERE name = 'fleet-a'")" = "$(wc -c < roots.pem)" ] || die "the store was not replaced"
"$IOTCA_CLI" issuers import "$r2a" r2a.pem > imp.out 2>&1 || die "the rotation after the replacement: $(cat imp.out)"
http GET /v1/issuers "${A[@]}"
echo "$OUT" | jq -e ".issuers[] | select(.id == $r2a) | .state != \"pending\" and .preflight_override == null" >/dev/null ||
  die "the R2 issuer should be imported without an override: $OUT"
ok "after the replacement the rotation to R2 goes through with no --force-justification (no override recorded)"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'trust_profile.replace' AND subject = 'trust profile fleet-a' AND outcome = 'replaced' AND actor LIKE 'token:%' AND detail LIKE 'now openssl until $UNTIL, 2 certificates, store SHA-256 %; was openssl until $UNTIL, 1 certificate, store SHA-256 %'")" = 1 ] ||
  die "the replacement is not in the audit trail: $(sql "SELECT action, subject, outcome, detail FROM audit ORDER BY seq DESC LIMIT 3")"
ok "the audit trail records the replacement: who, what it is now and what it was"

# another mistake, deleted: an R1-only profile (both errors acknowledged) holds the next R2 rotation back
http POST /v1/trust-profiles "${A[@]}" -d "$(body r1/root.pem openssl '["store.single_root", "chain.no_anchor"]' fleet-b)"
expect 201 "" "register fleet-b with R1 only (another mistake)"
issuer_csr r2b; r2b=$ID; sign r2b r2
http PUT "/v1/issuers/$r2b/certificate" "${A[@]}" --data-binary @r2b.pem
expect 409 preflight_failed "fleet-b holds the next rotation back"
"$IOTCA_CLI" trust-profile delete fleet-b > del.out || die "CLI delete: $(cat del.out)"
grep -q "deleted trust profile fleet-b" del.out || die "CLI delete: $(cat del.out)"
[ "$(sql "SELECT count(*) FROM trust_profiles WHERE name = 'fleet-b'")" = 0 ] || die "fleet-b is still registered"
http PUT "/v1/issuers/$r2b/certificate" "${A[@]}" --data-binary @r2b.pem
expect 200 "" "after the deletion the rotation goes through without override"
[ "$(echo "$OUT" | jq -r .state)" != pending ] || die "not imported: $OUT"
[ "$(sql "SELECT count(*) FROM preflight_overrides")" = 0 ] || die "an override was recorded"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'trust_profile.delete' AND subject = 'trust profile fleet-b' AND outcome = 'deleted' AND detail LIKE 'was openssl until $UNTIL, 1 certificate, store SHA-256 %'")" = 1 ] ||
  die "the deletion is not in the audit trail"
ok "the deletion is in the audit trail with what the profile was"
"$IOTCA_CLI" trust-profile list > list.out
grep -q "^fleet-a  openssl" list.out && ! grep -q fleet-b list.out || die "CLI list: $(cat list.out)"
ok "iotca trust-profile list shows fleet-a and no longer fleet-b"

# a profile registered after an issuer was staged holds its activation at the tick; deleted, the tick lets it go
issuer_csr r2c; r2c=$ID; sign r2c r2
at=$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)
http PUT "/v1/issuers/$r2c/certificate" "${A[@]}" -d "$(jq -n --rawfile c r2c.pem --arg at "$at" '{certificate: $c, activate_at: $at}')"
expect 200 "" "stage an R2 issuer to activate in 4 s (nothing registered breaks)"
http POST /v1/trust-profiles "${A[@]}" -d "$(body r1/root.pem openssl '["store.single_root", "chain.no_anchor"]' fleet-c)"
expect 201 "" "then register fleet-c (R1 only, a mistake)"
sleep 6
http GET /v1/issuers "${A[@]}"
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $r2c) | .state")" = staged ] || die "the tick should hold the activation: $OUT"
echo "$OUT" | jq -e '.warnings[] | select(.kind == "activation_held")' >/dev/null || die "no activation_held warning: $OUT"
ok "the tick holds the activation while fleet-c is registered"
http DELETE /v1/trust-profiles/fleet-c "${A[@]}"; expect 200 "" "delete fleet-c"
for _ in $(seq 1 50); do
  http GET /v1/issuers "${A[@]}"
  [ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $r2c) | .state")" = active ] && break
  sleep 0.2
done
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $r2c) | .state")" = active ] || die "the held issuer did not activate: $OUT"
ok "with fleet-c deleted the tick activates the held issuer"

# refusals
http GET /v1/trust-profiles/nosuch "${A[@]}"; expect 404 not_found "show an unknown name"
http PUT /v1/trust-profiles/nosuch "${A[@]}" -d "$(body roots.pem)"; expect 404 not_found "replace an unknown name (PUT does not create)"
[ "$(sql "SELECT count(*) FROM trust_profiles WHERE name = 'nosuch'")" = 0 ] || die "PUT created a profile"
http DELETE /v1/trust-profiles/nosuch "${A[@]}"; expect 404 not_found "delete an unknown name"
http GET /v1/trust-profiles/a%2Fb "${A[@]}"; expect 400 bad_request "a name with '/' (%2F)"
http DELETE /v1/trust-profiles/fleet-a/x "${A[@]}"; expect 400 bad_request "a name with '/'"
long=$(printf 'x%.0s' $(seq 1 80))
http GET "/v1/trust-profiles/$long" "${A[@]}"; expect 400 bad_request "an 80-character name"
http PUT "/v1/trust-profiles/$long" "${A[@]}" -d "$(body roots.pem)"; expect 400 bad_request "replace with an 80-character name"
http POST /v1/trust-profiles "${A[@]}" -d "$(body roots.pem openssl null 'a/b')"; expect 400 bad_request "register a name with '/'"
http POST /v1/trust-profiles "${A[@]}" -d "$(body roots.pem openssl null "$long")"; expect 400 bad_request "register an 80-character name"
http PUT /v1/trust-profiles/fleet-a "${A[@]}" -d '{"pem": '; expect 400 malformed_json "replace with bad JSON"
http PUT /v1/trust-profiles/fleet-a "${A[@]}" -d "$(body roots.pem openssl null fleet-z)"; expect 400 bad_request "a body naming another profile"
http PUT /v1/trust-profiles/fleet-a "${A[@]}" -d "$(body roots.pem schannel)"; expect 400 bad_request "replace with an unknown stack"
http PUT /v1/trust-profiles/fleet-a "${A[@]}" -d "$(jq -n --rawfile p roots.pem '{pem: $p, until: "2001-01-01", stack: "openssl"}')"
expect 400 bad_request "replace with an end of life in the past"
http PUT /v1/trust-profiles/fleet-a "${A[@]}" -d "$(jq -n --rawfile p roots.pem --arg u "$UNTIL" '{pem: $p, until: $u, stack: "openssl", extra: 1}')"
expect 400 bad_request "replace with an unknown field"
printf 'garbage\n' > junk.pem
http PUT /v1/trust-profiles/fleet-a "${A[@]}" -d "$(body junk.pem)"; expect 400 malformed "replace with a store without certificates"
for m in GET PUT DELETE; do
  http "$m" /v1/trust-profiles/fleet-a -H "Authorization: Bearer $PROV" -d "$(body roots.pem)"; expect 403 forbidden "$m as a provisioner"
  http "$m" /v1/trust-profiles/fleet-a -d "$(body roots.pem)"; expect 401 unauthorized "$m with no token"
done
[ "$(sql "SELECT length(pem) FROM trust_profiles WHERE name = 'fleet-a'")" = "$(wc -c < roots.pem)" ] &&
  [ "$(sql "SELECT stack FROM trust_profiles WHERE name = 'fleet-a'")" = openssl ] || die "a refused request changed fleet-a"
ok "no refused request changed fleet-a"
[ "$(sql "SELECT count(*) FROM audit WHERE action LIKE 'DELETE /v1/trust-profiles/fleet-a%' AND outcome = '403'")" = 1 ] ||
  die "a refused deletion is not in the audit trail"
ok "a refused deletion is in the audit trail too"

# the CLI's own checks: nothing sent, exit 2
cli_refuses() { # cli_refuses WHAT ARGS...: exit 2 with a message
  local what=$1; shift
  set +e; "$IOTCA_CLI" "$@" >cli.out 2>cli.err; local rc=$?; set -e
  [ "$rc" = 2 ] && [ -s cli.err ] || die "$what: exit $rc, $(cat cli.err)"
  ok "$what: exit 2 ($(head -n 1 cli.err))"
}
cli_refuses "show without a NAME" trust-profile show
cli_refuses "delete a name with '/'" trust-profile delete a/b
cli_refuses "replace without --trust-store" trust-profile replace fleet-a --stack openssl --until "$UNTIL"
cli_refuses "replace with an unknown stack" trust-profile replace fleet-a --trust-store roots.pem --stack schannel --until "$UNTIL"
cli_refuses "delete with a stray option" trust-profile delete fleet-a --stack openssl
set +e; "$IOTCA_CLI" trust-profile delete nosuch 2>cli.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "no trust profile 'nosuch'" cli.err || die "CLI delete of an unknown name: $rc $(cat cli.err)"
ok "iotca trust-profile delete of an unknown name: exit 3, naming it"
"$IOTCAD" audit verify --config iotcad.json >/dev/null || die "the audit trail does not verify"
ok "iotcad audit verify passes"
stop_clean
echo "$CHECKS passed, 0 failed"
