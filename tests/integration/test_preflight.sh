#!/usr/bin/env bash
# Trust profiles and rotation preflight (SPEC §7, issue 5 item 4; incident (e)): scheduling an issuer whose chain
# a registered device trust store cannot validate is refused, naming the profile, the date and the reason; an
# explicit justification overrides it and is recorded; a profile registered after scheduling holds the activation.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
UNTIL=$(date -u -d '+700 days' +%Y-%m-%d)
profile() { http POST /v1/trust-profiles -H "Authorization: Bearer $ADMIN" -d "$(jq -n --arg n "$1" --rawfile p "$2" --arg u "$UNTIL" --arg s "${3:-openssl}" '{name: $n, pem: $p, until: $u, stack: $s}')"; }
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
profile fleet-r1-only r1/root.pem; expect 201 "" "register a fleet holding only R1 (after the R2 issuer was scheduled)"

# (e) switching the served chain to a root the registered fleet lacks is refused
issuer_csr r2b default; r2b=$ID; sign r2b r2
put "$r2b" "$(jq -n --rawfile c r2b.pem '{certificate: $c}')"
expect 409 preflight_failed "(e) an issuer under R2 for a fleet that holds only R1"
echo "$OUT" | grep >/dev/null "fleet-r1-only" && echo "$OUT" | grep >/dev/null "no path to a trust anchor" && echo "$OUT" | grep -E >/dev/null "breaks on [0-9]{4}-[0-9]{2}-[0-9]{2}" || die "refusal must name profile, date, reason: $OUT"
ok "(e) the refusal names the profile, the date and the reason"
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $r2b) | .state")" = pending ] || die "refused issuer must stay pending"
ok "the refused issuer stays pending"
put "$r2b" "$(jq -n --rawfile c r2b.pem '{certificate: $c, force_justification: "short"}')"
expect 400 bad_request "a justification under 10 characters is not enough"
put "$r2b" "$(jq -n --rawfile c r2b.pem '{certificate: $c, force_justification: "R1 fleet recalled; change CHG-1234 approved by ops lead"}')"
expect 200 "" "override with a recorded justification"
[ "$(sql "SELECT count(*) FROM preflight_overrides WHERE issuer_id = $r2b AND justification LIKE 'R1 fleet recalled%'")" = 1 ] || die "override not recorded"
sql "SELECT findings FROM preflight_overrides WHERE issuer_id = $r2b" | grep >/dev/null "fleet-r1-only" || die "override findings"
ok "the override and the findings it overrode are recorded"

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
[ "$(echo "$OUT" | jq '.trust_profiles | length')" = 2 ] || die "two profiles: $OUT"
profile fleet-both roots.pem; expect 409 exists "duplicate profile name"
profile bad-stack roots.pem schannel; expect 400 bad_request "unknown stack"
printf 'garbage\n' > junk.pem
profile junk junk.pem; expect 400 malformed "a store without certificates"
http POST /v1/trust-profiles -H "Authorization: Bearer $ADMIN" -d "$(jq -n --rawfile p roots.pem '{name: "old", pem: $p, until: "2001-01-01", stack: "openssl"}')"
expect 400 bad_request "an end of life in the past"
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
echo "$CHECKS passed, 0 failed"
