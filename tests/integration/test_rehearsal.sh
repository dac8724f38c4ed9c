#!/usr/bin/env bash
# Rehearsals (issue 24, points 1-3): iotcad serves each rehearsal scenario on its own TLS port, and real stacks
# stand in for bench devices: curl (OpenSSL), gnutls-cli, and network clients on mbedTLS 2.28, wolfSSL and
# BearSSL 0.6 (tests/compat/tls_client_*.c). With a store of the roots every device accepts `current` and `next`
# and refuses every failure (`revoked` only where the stack checks a stapled OCSP answer); a store pinning
# today's intermediate accepts `current` and refuses `next` (the first field incident, a rotation early). A
# trust profile named in rehearsal.require_passed_next holds the staged issuer past its activation time until
# its device passed `next`; then the tick activates it. Results (reported, or recorded by the handshake) show in
# the API, `iotca rehearse status` and /metrics; rehearsal leaves never reach the inventory. The rotation is a root
# rollover (int2 under R2, R1 cross-signing R2): afterwards the cross-certificate's end is a scenario of its own,
# which a store holding only R1 refuses.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
NAME=bench.updates.example.com
MBED="$IOTCA_BIN/tests/tls-client-mbedtls"
WOLF="$IOTCA_BIN/tests/tls-client-wolfssl"
BEAR="$IOTCA_BIN/tests/tls-client-bearssl"
for b in "$MBED" "$WOLF" "$BEAR"; do [ -x "$b" ] || die "$b is not built (libmbedtls-dev, libbearssl-dev)"; done
command -v gnutls-cli >/dev/null || die "gnutls-cli is not installed (gnutls-bin)"

# base_range: the first of IOTCA_REHEARSAL_MAX (15) consecutive free ports
base_range() {
  local b p busy
  for _ in $(seq 1 50); do
    b=$((20000 + RANDOM % 12000)); busy=0
    for p in $(seq "$b" $((b + 14))); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { busy=1; break; }; done
    [ "$busy" = 0 ] && { echo "$b"; return; }
  done
  die "no 15 free ports in a row"
}

ceremony
# the root rollover ahead: R1 cross-signs R2, and the next issuer comes from R2
"$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross.pem --days 400 --yes --passphrase-file rootpass >/dev/null
write_config
RP=$(base_range)
jq --argjson p "$RP" --arg n "$NAME" --arg x "$WORK/cross.pem" \
  '.rehearsal = {base_port: $p, name: $n, leaf_ttl: "1h", require_passed_next: ["fw-roots"]} | .cross_certificates = [$x]' \
  iotcad.json > c.json
mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1
int1_id=$ISSUER_ID

# a fleet whose devices hold the two roots, registered so that rotations are checked against it
http POST /v1/trust-profiles -H "Authorization: Bearer $ADMIN" \
  -d "$(jq -n --rawfile pem roots.pem '{name: "fw-roots", pem: $pem, stack: "mbedtls", until: "2028-01-01"}')"
expect 201 "" "register trust profile fw-roots (the roots, mbedTLS)"

# rehearsals: GET /v1/rehearsals into $OUT and scen.json; port SCENARIO: its port from the last one
rehearsals() {
  http GET /v1/rehearsals -H "Authorization: Bearer $PROV"
  [ "$STATUS" = 200 ] || die "GET /v1/rehearsals: $STATUS $OUT"
  echo "$OUT" > scen.json
}
port() { jq -r ".scenarios[] | select(.name == \"$1\") | .port" scen.json; }

# ---- the scenarios before anything is staged
rehearsals
[ "$(echo "$OUT" | jq '.scenarios | length')" = 7 ] || die "expected the 7 fixed scenarios: $OUT"
for s in current next expired revoked wrong-root intermediate-missing critical-name-constraints; do
  [ -n "$(port "$s")" ] || die "scenario $s missing: $OUT"
done
[ "$(port current)" = "$RP" ] && [ "$(port critical-name-constraints)" = $((RP + 6)) ] || die "ports: $OUT"
[ "$(echo "$OUT" | jq -r '.scenarios[] | select(.name == "next") | .available')" = false ] || die "next without a staged issuer: $OUT"
echo "$OUT" | jq -r '.scenarios[] | select(.name == "next") | .unavailable' | grep -q "no staged issuer" || die "why next is unavailable: $OUT"
echo "$OUT" | jq -r .lab_root > lab_root.pem
openssl x509 -in lab_root.pem -noout -subject | grep -q "rehearsal lab root" || die "lab_root: $(head -c 200 lab_root.pem)"
ok "7 scenarios on ports $RP-$((RP + 6)); next unavailable until an issuer is staged; the lab root is published"
http GET /v1/rehearsals; expect 401 unauthorized "GET /v1/rehearsals without a token"

# nothing is served where nothing is staged: the `next` port ends the handshake
if curl -s -m 5 --cacert roots.pem --resolve "$NAME:$((RP + 1)):127.0.0.1" "https://$NAME:$((RP + 1))/" >/dev/null; then
  die "the next port served something with no staged issuer"
fi
ok "the next port refuses handshakes while no issuer is staged"

# ---- the rotation ahead: int2 (under R2) staged to activate in 3 s; the tick holds it for fw-roots' rehearsal
stage_issuer int2 3 r2
int2_id=$ISSUER_ID
rehearsals
[ "$(echo "$OUT" | jq -r '.scenarios[] | select(.name == "next") | .issuer')" = "$int2_id" ] || die "next is not int2's: $OUT"
for s in current next expired revoked wrong-root intermediate-missing critical-name-constraints; do
  echo "$OUT" | jq -r ".scenarios[] | select(.name == \"$s\") | .chain" > "$s.chain"
  echo "$OUT" | jq -r ".scenarios[] | select(.name == \"$s\") | .serial" > "$s.serial"
done
cat int1.pem > pinned.pem

# device STACK STORE SCENARIO [PATH]: "accept" or "refuse" (anything else dies)
device() {
  local p r=0 out
  p=$(port "$3")
  case $1 in
    curl) out=$(curl -s -m 10 --cacert "$2" --resolve "$NAME:$p:127.0.0.1" "https://$NAME:$p${4:-/}" 2>&1) || r=$? ;;
    curl-status) out=$(curl -s -m 10 --cert-status --cacert "$2" --resolve "$NAME:$p:127.0.0.1" "https://$NAME:$p/" 2>&1) || r=$? ;;
    gnutls) out=$(gnutls-cli --x509cafile "$2" --sni-hostname "$NAME" --verify-hostname "$NAME" -p "$p" 127.0.0.1 \
                    </dev/null 2>&1) || r=$? ;;
    mbedtls) out=$("$MBED" "$2" 127.0.0.1 "$p" "$NAME" 2>&1) || r=$? ;;
    wolfssl) out=$("$WOLF" "$2" 127.0.0.1 "$p" "$NAME" 2>&1) || r=$? ;;
    bearssl) out=$("$BEAR" "$2" 127.0.0.1 "$p" "$NAME" 2>&1) || r=$? ;;
  esac
  case $1:$r in
    *:0) echo accept ;;
    mbedtls:1 | wolfssl:1 | bearssl:1 | gnutls:1 | curl*:35 | curl*:60 | curl*:91) echo refuse ;;
    *) echo "error $r: $(echo "$out" | tail -2 | tr '\n' ' ')" ;;
  esac
}
# matrix STORE SCENARIO EXPECT STACK...: every stack does EXPECT
matrix() {
  local store=$1 s=$2 want=$3 st got
  shift 3
  for st in "$@"; do
    got=$(device "$st" "$store" "$s")
    [ "$got" = "$want" ] || die "$st with $store on $s: $got (expected $want)"
  done
}
ALL="curl gnutls mbedtls wolfssl bearssl"
# shellcheck disable=SC2086
{
  matrix roots.pem current accept $ALL
  matrix roots.pem next accept $ALL
  ok "roots store: current and next accepted by curl, gnutls-cli, mbedTLS, wolfSSL and BearSSL"
  matrix pinned.pem current accept $ALL
  matrix pinned.pem next refuse $ALL
  ok "a store pinning int1: current accepted, next refused by every stack (the rotation would strand it)"
  for s in expired wrong-root intermediate-missing critical-name-constraints; do matrix roots.pem "$s" refuse $ALL; done
  ok "roots store: expired, wrong-root, intermediate-missing, critical-name-constraints refused by every stack"
  matrix roots.pem revoked refuse curl-status gnutls
  matrix roots.pem revoked accept mbedtls bearssl
  ok "revoked: refused by curl --cert-status and gnutls-cli (stapled OCSP); mbedTLS 2.28 and BearSSL check no revocation"
  matrix pinned.pem intermediate-missing accept mbedtls bearssl
  ok "intermediate-missing is accepted only by a device that pins the intermediate"
  matrix lab_root.pem critical-name-constraints refuse mbedtls bearssl
  matrix lab_root.pem critical-name-constraints accept curl gnutls
  ok "with the lab root trusted, a critical nameConstraints is refused by mbedTLS and BearSSL, accepted by OpenSSL and GnuTLS"
}
echo | openssl s_client -connect "127.0.0.1:$(port revoked)" -servername "$NAME" -status 2>/dev/null |
  grep -q "Cert Status: revoked" || die "the revoked scenario staples no revoked OCSP answer"
ok "openssl s_client -status reads the staple: Cert Status: revoked"

# what each scenario presents, read with openssl
leaf_of() { openssl x509 -in "$1.chain" -noout "${@:2}"; }
openssl verify -CAfile roots.pem -untrusted <(sed '1,/END CERT/d' current.chain) current.chain >/dev/null ||
  die "current does not verify under the roots"
leaf_of current -ext subjectAltName | grep -q "DNS:$NAME" || die "current's leaf does not name $NAME"
nb=$(date -d "$(leaf_of current -startdate | cut -d= -f2)" +%s); na=$(date -d "$(leaf_of current -enddate | cut -d= -f2)" +%s)
[ $((na - nb)) -le $((3600 + 300)) ] || die "current's leaf lives $((na - nb)) s (leaf_ttl 1h)"
[ "$(grep -c BEGIN intermediate-missing.chain)" = 1 ] || die "intermediate-missing sends $(grep -c BEGIN intermediate-missing.chain) certificates"
if leaf_of expired -checkend 0 >/dev/null; then die "the expired scenario's leaf has not expired"; fi
[ "$(openssl x509 -in int1.pem -noout -subject)" = "$(sed '1,/END CERT/d' wrong-root.chain | openssl x509 -noout -subject)" ] ||
  die "wrong-root's intermediate does not carry int1's name"
sed '1,/END CERT/d' critical-name-constraints.chain | openssl x509 -noout -text | grep -A1 "Name Constraints: critical" |
  grep -q "Permitted" || die "critical-name-constraints' intermediate has no critical nameConstraints"
ok "the leaves: $NAME, short-lived; one certificate without the intermediate; expired; int1's names on other keys; critical NC"

# ---- never in the inventory, never requestable
inv=$(sql "SELECT count(*) FROM certificates")
for s in current next revoked; do
  ser=$(cat "$s.serial")
  [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$ser'")" = 0 ] || die "rehearsal leaf $ser is in the inventory"
  [ "$(sql "SELECT count(*) FROM serials WHERE serial = '$ser' AND issuer_id > 0")" = 1 ] || die "$ser is not reserved"
  [ "$(sql "SELECT scenario FROM rehearsal_leaves WHERE serial = '$ser'")" = "$s" ] || die "$ser is not recorded"
  http GET "/v1/certificates/$ser" -H "Authorization: Bearer $PROV"; [ "$STATUS" = 404 ] || die "GET /v1/certificates/$ser: $STATUS"
done
http GET "/v1/certificates?limit=1000" -H "Authorization: Bearer $PROV"
[ "$(echo "$OUT" | jq '.certificates | length')" = "$inv" ] || die "the inventory lists more than its $inv certificates"
make_csr r "$NAME" "DNS:$NAME"
issue r rehearsal "$PROV"; [ "$STATUS" = 400 ] || [ "$STATUS" = 404 ] || [ "$STATUS" = 422 ] || die "profile rehearsal: $STATUS $OUT"
http GET /acme/rehearsal/directory; [ "$STATUS" = 404 ] || die "an ACME directory for rehearsals: $STATUS"
http GET /.well-known/est/rehearsal/cacerts; [ "$STATUS" = 404 ] || die "an EST label for rehearsals: $STATUS"
ok "rehearsal leaves: recorded with reserved serials, absent from the inventory (GET 404), no REST/ACME/EST profile"

# ---- the gate: int2's activation time has passed, and the tick holds it for fw-roots
sleep 3
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $int2_id) | .state")" = staged ] || die "int2 was not held: $OUT"
"$IOTCAD" audit show --config iotcad.json > audit.txt
grep "issuer.activate" audit.txt | grep held | grep -q "no passed rehearsal of the next chain for trust profile(s) fw-roots" ||
  die "no audit record of the hold: $(grep issuer.activate audit.txt)"
ok "int2 is held past its activation time: fw-roots has not passed the next rehearsal (audited)"

# results: the engineer's report of a failure scenario, then the device's own handshake on next
http POST /v1/rehearsals/wrong-root/results -H "Authorization: Bearer $PROV" -d '{"trust_profile":"fw-roots","result":"failed","note":"bench unit 7"}'
expect 201 "" "report: fw-roots refused wrong-root"
[ "$(echo "$OUT" | jq -r '.passed, .expected')" = "true
refuse" ] || die "wrong-root refused should pass: $OUT"
http POST /v1/rehearsals/expired/results -H "Authorization: Bearer $PROV" -d '{"trust_profile":"fw-roots","result":"ok"}'
expect 201 "" "report: fw-roots accepted expired"
[ "$(echo "$OUT" | jq -r .passed)" = false ] || die "accepting an expired leaf passed: $OUT"
# a handshake result: the device names its trust profile; one a profile and scenario in 10 s; a typo is refused
# (on `current`: the moment `next` passes, the tick activates int2 and `next` presents nothing more)
curl_on() { curl -s -m 10 --cacert roots.pem --resolve "$NAME:$(port "$1"):127.0.0.1" "https://$NAME:$(port "$1")/?trust_profile=$2"; }
st=$(curl -s -o typo.txt -w '%{http_code}' -m 10 --cacert roots.pem --resolve "$NAME:$(port current):127.0.0.1" \
  "https://$NAME:$(port current)/?trust_profile=fw-rots")
[ "$st" = 400 ] && grep -q "not recorded: no trust profile 'fw-rots' is registered" typo.txt || die "a typo: $st $(cat typo.txt)"
got=$(curl_on current fw-roots)
echo "$got" | grep -q "recorded: trust profile fw-roots accepted this chain (passed" || die "current was not recorded: $got"
again=$(curl_on current fw-roots)
echo "$again" | grep -q "already recorded for trust profile fw-roots" || die "a second handshake within 10 s: $again"
[ "$(sql "SELECT count(*) FROM rehearsal_results WHERE source = 'handshake'")" = 1 ] || die "handshake rows: $(sql 'SELECT * FROM rehearsal_results')"
[ "$(sql "SELECT note FROM rehearsal_results WHERE source = 'handshake'")" = "handshake completed from 127.0.0.1" ] ||
  die "the handshake result does not say who: $(sql 'SELECT note FROM rehearsal_results')"
ok "handshake results: one per profile and scenario in 10 s, the client's address noted, an unregistered profile refused"
# the endpoint's own refusals: GET only; an empty trust profile records nothing
st=$(curl -s -o post.txt -w '%{http_code}' -m 10 --cacert roots.pem --resolve "$NAME:$(port current):127.0.0.1" \
  -d 'x=1' "https://$NAME:$(port current)/?trust_profile=fw-roots")
[ "$st" = 405 ] && grep -q "GET only" post.txt || die "a POST to a rehearsal endpoint: $st $(cat post.txt)"
empty=$(curl_on current "")
echo "$empty" | grep -q "not recorded: trust_profile" || die "an empty trust profile: $empty"
[ "$(sql "SELECT count(*) FROM rehearsal_results WHERE source = 'handshake'")" = 1 ] || die "a refused request recorded a result"
ok "rehearsal endpoints refuse a POST (405) and an empty trust profile, recording nothing"
got=$(curl_on next fw-roots)
echo "$got" | grep -q "recorded: trust profile fw-roots accepted this chain (passed" || die "the handshake was not recorded: $got"
ok "the bench device's request on next with ?trust_profile=fw-roots recorded a pass"
wait_issuer_state "$int2_id" active
ok "with the rehearsal passed, the tick activated int2"

# after the rollover, the cross-certificate's end is the next change: a scenario of its own on slot 7
rehearsals
xs=$(jq -r '.scenarios[7].name' scen.json)
[[ $xs == cross-sign-end-20* ]] && [ "$(jq -r '.scenarios[7].port' scen.json)" = $((RP + 7)) ] &&
  [ "$(jq -r '.scenarios[7].issuer' scen.json)" = "$int2_id" ] || die "no cross-sign-end scenario: $(jq -c '.scenarios[7]' scen.json)"
cp r1/root.pem r1only.pem
# shellcheck disable=SC2086
{
  matrix roots.pem "$xs" accept $ALL
  matrix r1only.pem "$xs" refuse $ALL
}
ok "$xs (port $((RP + 7))): accepted with both roots, refused by every stack holding only the old root R1"

# negatives of the results endpoint
post() { http POST "/v1/rehearsals/$1/results" -H "Authorization: Bearer ${3:-$PROV}" -d "$2"; }
post current '{"trust_profile":"fw-roots","result":"ok"}' "$PROV_DEV"; expect 201 "" "a provisioner limited to other profiles may report"
post nonesuch '{"trust_profile":"fw-roots","result":"ok"}'; expect 400 bad_request "an unknown scenario"
echo "$OUT" | grep -q "no rehearsal scenario 'nonesuch'" || die "unclear: $OUT"
post current '{"trust_profile":"nobody","result":"ok"}'; expect 400 bad_request "an unregistered trust profile"
post current '{"trust_profile":"fw-roots","result":"maybe"}'; expect 400 bad_request "a result other than ok or failed"
post current '{"trust_profile":"fw-roots"}'; expect 400 bad_request "no result"
post current '{"trust_profile":"fw-roots","result":"ok","extra":1}'; expect 400 bad_request "an unknown field"
post current 'not json'; expect 400 "" "a body that is not JSON"
post current "$(jq -n --arg n "$(head -c 300 /dev/zero | tr '\0' x)" '{trust_profile:"fw-roots",result:"ok",note:$n}')"
expect 400 bad_request "a note over 200 bytes"
post current '{"trust_profile":"fw-roots","result":"ok"}' "bogus-token"; expect 401 unauthorized "a bad token"
post next '{"trust_profile":"fw-roots","result":"ok"}'; expect 422 policy "next, with nothing staged any more"

# the API, the CLI and /metrics show the results per trust profile
rehearsals
[ "$(echo "$OUT" | jq -r '.scenarios[] | select(.name == "current") | .issuer')" = "$int2_id" ] || die "current after the rotation: $OUT"
echo "$OUT" | jq -e '.results[] | select(.trust_profile == "fw-roots" and .scenario == "next" and .passed and .source == "handshake")' >/dev/null ||
  die "results: $OUT"
echo "$OUT" | jq -e '.results[] | select(.scenario == "expired" and (.passed | not))' >/dev/null || die "results: $OUT"
export IOTCA_URL=$BASE IOTCA_TOKEN=$PROV
"$IOTCA_CLI" rehearse list > list.txt
for s in current next expired revoked wrong-root intermediate-missing critical-name-constraints; do
  grep -q "^$s  127.0.0.1:[0-9]*  server name $NAME  a correct device: " list.txt || die "rehearse list lacks $s: $(cat list.txt)"
done
grep -A3 "^next " list.txt | grep -q "unavailable: no staged issuer" || die "rehearse list: next: $(cat list.txt)"
"$IOTCA_CLI" rehearse status > status.txt
grep -q "^fw-roots  next  ok  passed  issuer $int2_id" status.txt || die "rehearse status: $(cat status.txt)"
grep -q "^fw-roots  expired  ok  FAILED" status.txt || die "rehearse status: $(cat status.txt)"
"$IOTCA_CLI" rehearse report revoked --trust-profile fw-roots --result failed --note "checks staples" > rep.txt
grep -q "recorded: fw-roots refused scenario revoked: passed" rep.txt || die "rehearse report: $(cat rep.txt)"
r=0; "$IOTCA_CLI" rehearse report revoked --trust-profile fw-roots 2>err.txt || r=$?
[ "$r" = 2 ] && grep -q "needs --trust-profile NAME and --result" err.txt || die "report without --result: $r $(cat err.txt)"
r=0; "$IOTCA_CLI" rehearse report revoked --trust-profile fw-roots --result yes 2>err.txt || r=$?
[ "$r" = 2 ] || die "report --result yes: $r"
r=0; "$IOTCA_CLI" rehearse report 'a/b' --trust-profile fw-roots --result ok 2>err.txt || r=$?
[ "$r" = 2 ] || die "report a/b: $r"
r=0; "$IOTCA_CLI" rehearse report nonesuch --trust-profile fw-roots --result ok 2>err.txt || r=$?
[ "$r" = 3 ] && grep -q "no rehearsal scenario" err.txt || die "report nonesuch: $r $(cat err.txt)"
r=0; "$IOTCA_CLI" rehearse list extra 2>err.txt || r=$?
[ "$r" = 2 ] || die "rehearse list extra: $r"
ok "iotca rehearse list, status and report (and their refusals)"
m=$(curl -s "$BASE/metrics")
echo "$m" | grep -q "^iotca_rehearsal_passed{trust_profile=\"fw-roots\",scenario=\"next\",issuer=\"$int2_id\",result=\"ok\"} 1$" ||
  die "metrics: $(echo "$m" | grep rehearsal)"
echo "$m" | grep -q '^iotca_rehearsal_passed{trust_profile="fw-roots",scenario="expired",.*} 0$' || die "metrics: $(echo "$m" | grep rehearsal)"
ok "/metrics: iotca_rehearsal_passed per trust profile and scenario"
"$IOTCAD" audit show --config iotcad.json > audit.txt
grep -q "rehearsal.result" audit.txt && grep -q "rehearsal.leaf" audit.txt || die "audit: $(grep rehearsal audit.txt | head)"
"$IOTCAD" audit verify --config iotcad.json >/dev/null || die "the audit trail does not verify"
ok "rehearsal leaves and results are in the audit trail, which verifies"
stop_clean
ok "iotcad stops cleanly with the rehearsal endpoints"
echo "PASS test_rehearsal: $CHECKS checks"
