#!/usr/bin/env bash
# Bridge certificates (issue 24, point 4): the way back for devices that pinned an intermediate the CA rotated
# away from. After a rotation the device pinned to the old intermediate (curl over TLS; mbedTLS 2.28, a wolfSSL
# client's handshake and BearSSL 0.6, with that intermediate as their only anchor) fails against the new chain; an admin issues a
# short-lived bridge certificate from the retiring issuer (`iotca cert bridge`), and the same device connects to
# an update endpoint serving it. Refused: no or a bad justification, a profile without bridge_max_ttl, a TTL
# over it, an issuer that is not retiring (the active one, a retired one), another group's, a provisioner.
# Each bridge is in GET /v1/bridges, /metrics and the audit trail with its justification, until it expires.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
MBED_VERIFY="$IOTCA_BIN/tests/mbedtls-verify"
WOLF_VERIFY="$IOTCA_BIN/tests/stack-verify-wolfssl"   # a wolfSSL client's handshake against the chain
BEAR_VERIFY="$IOTCA_BIN/tests/stack-verify-bearssl"   # BearSSL 0.6's X.509 engine (built with libbearssl-dev)
# stacks STORE CHAIN KEY: "accept" or "reject" for each device stack pinned to STORE, space separated
stacks() {
  local r out=""
  for v in "$MBED_VERIFY $1 $2" "$WOLF_VERIFY $1 $2 $3" "$BEAR_VERIFY $1 $2"; do
    if [ ! -x "${v%% *}" ]; then out+="absent "; continue; fi
    set +e; $v >/dev/null 2>&1; r=$?; set -e
    case $r in 0) out+="accept " ;; 1) out+="reject " ;; *) out+="error$r " ;; esac
  done
  echo "${out% }"
}

ceremony
write_config
# firmware-endpoint allows bridges of up to 3 days; device does not
jq '.profiles["firmware-endpoint"].bridge_max_ttl = "3d"' iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1
old_id=$ISSUER_ID

# the rotation: int2 scheduled 2 s ahead, activated by the tick; int1 retiring
stage_issuer int2 2
new_id=$ISSUER_ID

# before the rotation, a bridge from the active issuer is refused: bridges come only from a retiring one
make_csr u updates.example.com "DNS:updates.example.com"
bridge() { # bridge CSR PROFILE ISSUER JUSTIFICATION [TTL] [TOKEN]
  http POST /v1/bridges -H "Authorization: Bearer ${6:-$ADMIN}" \
    -d "$(jq -n --rawfile csr "$1" --arg p "$2" --argjson i "$3" --arg j "$4" --arg t "${5:-}" \
      '{csr: $csr, profile: $p, issuer: $i, justification: $j} + (if $t == "" then {} else {ttl: $t} end)')"
}
bridge u.csr firmware-endpoint "$old_id" "devices pinned int1"
expect 422 policy "a bridge from the active issuer"
echo "$OUT" | jq -r .detail | grep -q "only from a retiring issuer: issuer .* is active" || die "unclear: $OUT"

wait_issuer_state "$old_id" retiring
ok "the rotation: int2 active, int1 retiring"

# the update server renews onto the new intermediate; the device pinned to int1 no longer connects
make_csr n updates.example.com "DNS:updates.example.com"
issue n firmware-endpoint "$PROV"; expect 201 "" "the update server's leaf after the rotation"
serve() { # serve LEAF KEY CHAIN: an HTTPS update endpoint on a fresh port ($TLSPORT), pid in SRV_PID
  TLSPORT=$(free_port)
  openssl s_server -quiet -accept "$TLSPORT" -cert "$1" -key "$2" -cert_chain "$3" -www >/dev/null 2>&1 &
  SRV_PID=$!
  wait_port "$TLSPORT"
}
device() { # device: the firmware that pinned int1 fetches from the endpoint on $TLSPORT
  curl -sf --cacert int1.pem --resolve "updates.example.com:$TLSPORT:127.0.0.1" "https://updates.example.com:$TLSPORT/" >/dev/null 2>&1
}
serve n.crt n.key n.chain
if device; then die "the device pinned to int1 connected to the new chain"; fi
cat n.crt n.chain > n.full
verdicts=$(stacks int1.pem n.full n.key)
[[ $verdicts =~ ^reject\ reject\ (reject|absent)$ ]] || die "pinned to int1, the new chain: mbedTLS, wolfSSL, BearSSL said $verdicts"
kill "$SRV_PID"
ok "after the rotation the device pinned to int1 fails: curl over TLS, and mbedTLS, wolfSSL, BearSSL: $verdicts"

# refusals, each leaving no certificate
before=$(sql "SELECT count(*) FROM certificates")
bridge u.csr firmware-endpoint "$old_id" ""; expect 400 bad_request "no justification"
bridge u.csr firmware-endpoint "$old_id" "   "; expect 400 bad_request "a blank justification"
bridge u.csr firmware-endpoint "$old_id" "$(printf 'line\nbreak')"; expect 400 bad_request "a control character in the justification"
bridge u.csr firmware-endpoint "$old_id" "$(printf 'x%.0s' $(seq 201))"; expect 400 bad_request "a 201-byte justification"
http POST /v1/bridges -H "Authorization: Bearer $ADMIN" -d "$(jq -n --rawfile csr u.csr --argjson i "$old_id" '{csr: $csr, profile: "firmware-endpoint", issuer: $i}')"
expect 400 bad_request "a body without the justification field"
bridge u.csr firmware-endpoint "$old_id" "stranded devices" 4d; expect 422 policy "a TTL over bridge_max_ttl"
make_csr d dev-1 "URI:urn:dev:1"
bridge d.csr device "$old_id" "stranded devices"; expect 422 policy "a profile without bridge_max_ttl"
echo "$OUT" | jq -r .detail | grep -q "does not allow bridge certificates" || die "unclear: $OUT"
bridge u.csr firmware-endpoint "$new_id" "stranded devices"; expect 422 policy "the active issuer"
bridge u.csr firmware-endpoint 999 "stranded devices"; expect 400 bad_request "an issuer that does not exist"
bridge u.csr nosuch "$old_id" "stranded devices"; expect 400 unknown_profile "an unknown profile"
bridge u.csr firmware-endpoint "$old_id" "stranded devices" "" "$PROV"; expect 403 forbidden "a provisioner token"
[ "$(sql "SELECT count(*) FROM certificates")" = "$before" ] || die "a refused bridge left a certificate"
[ "$(sql "SELECT count(*) FROM bridges")" = 0 ] || die "a refused bridge left a bridge row"
ok "every refusal left no certificate and no bridge"

# the bridge, through the CLI: a short-lived leaf from int1
just="firmware 4.2 moves devices off int1; ticket OPS-311"
"$IOTCA_CLI" --url "$BASE" --token "$ADMIN" cert bridge --profile firmware-endpoint --issuer "$old_id" \
  --justification "$just" --csr u.csr --ttl 2d --out u.crt --chain-out u.chain > bridge.out 2>&1 ||
  die "iotca cert bridge: $(cat bridge.out)"
openssl verify -CAfile int1.pem -partial_chain u.crt >/dev/null || die "the bridge does not come from int1"
end=$(date -d "$(openssl x509 -in u.crt -noout -enddate | cut -d= -f2)" +%s)
[ $((end - $(date +%s))) -le $((2 * 86400 + 60)) ] || die "the bridge outlives its 2-day TTL"
serial=$(openssl x509 -in u.crt -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
ok "iotca cert bridge: a 2-day leaf from the retiring int1 ($serial)"
set +e; "$IOTCA_CLI" --url "$BASE" --token "$ADMIN" cert bridge --profile firmware-endpoint --issuer "$old_id" --csr u.csr >/dev/null 2>&1; rc1=$?
"$IOTCA_CLI" --url "$BASE" --token "$ADMIN" cert bridge --profile firmware-endpoint --issuer int1 --justification x --csr u.csr >/dev/null 2>&1; rc2=$?; set -e
{ [ "$rc1" = 2 ] && [ "$rc2" = 2 ]; } || die "the CLI without --justification or with a non-numeric --issuer: exit $rc1, $rc2 (want 2)"
ok "iotca cert bridge without --justification, or with --issuer int1: usage errors (exit 2)"

serve u.crt u.key u.chain
device || die "the device pinned to int1 does not connect to the bridge endpoint"
cat u.crt u.chain > u.full
verdicts=$(stacks int1.pem u.full u.key)
[[ $verdicts =~ ^accept\ accept\ (accept|absent)$ ]] || die "pinned to int1, the bridge: mbedTLS, wolfSSL, BearSSL said $verdicts"
kill "$SRV_PID"
ok "the device pinned to int1 connects to the bridge endpoint (curl over TLS); mbedTLS, wolfSSL, BearSSL: $verdicts"

# listed: the API, /metrics, the audit trail
http GET /v1/bridges -H "Authorization: Bearer $ADMIN"; expect 200 "" "GET /v1/bridges"
echo "$OUT" | jq -e --arg s "$serial" --arg j "$just" --argjson i "$old_id" \
  '.bridges | length == 1 and .[0].serial == $s and .[0].justification == $j and .[0].issuer == $i and (.[0].actor | startswith("token:")) and .[0].status == "valid"' >/dev/null ||
  die "the bridge is not listed as issued: $OUT"
http GET /v1/bridges -H "Authorization: Bearer $PROV"; expect 403 forbidden "GET /v1/bridges with a provisioner token"
curl -s "$BASE/metrics" > m.txt
grep -q "^iotca_bridge_certificate_not_after{serial=\"$serial\",issuer=\"$old_id\",profile=\"firmware-endpoint\",status=\"valid\"} $end$" m.txt ||
  die "/metrics: $(grep bridge m.txt)"
grep -q '^iotca_bridge_certificates 1$' m.txt || die "/metrics count: $(grep bridge m.txt)"
"$IOTCAD" audit show --config iotcad.json > show.out 2>&1 || die "audit show: $(cat show.out)"
grep "bridge certificate $serial (firmware-endpoint) from retiring issuer" show.out | grep -q "justification: $just" ||
  die "the bridge is not in the audit trail with its justification: $(grep -i bridge show.out)"
ok "the bridge is listed (GET /v1/bridges, /metrics) and audited with its justification"
# SPEC §6 names the route POST /v1/certificates/bridge: the same handler, the same refusals
http POST /v1/certificates/bridge -H "Authorization: Bearer $PROV" -d '{}'; expect 403 forbidden "POST /v1/certificates/bridge with a provisioner token"
http POST /v1/certificates/bridge -H "Authorization: Bearer $ADMIN" \
  -d "$(jq -n --rawfile csr u.csr --argjson i "$old_id" '{csr: $csr, profile: "firmware-endpoint", issuer: $i}')"
expect 400 bad_request "POST /v1/certificates/bridge without a justification"
echo "$OUT" | grep -q justification || die "unclear: $OUT"

# revoked: still listed until it expires, no longer counted as valid
http POST "/v1/certificates/$serial/revoke" -H "Authorization: Bearer $ADMIN" -d '{"reason":"superseded"}'; expect 200 "" "revoke the bridge"
http GET /v1/bridges -H "Authorization: Bearer $ADMIN"
[ "$(echo "$OUT" | jq -r '.bridges[0].status')" = revoked ] || die "the revoked bridge: $OUT"
curl -s "$BASE/metrics" | grep -q '^iotca_bridge_certificates 0$' || die "a revoked bridge still counted"
ok "a revoked bridge is listed as revoked and no longer counted"

# once int1 is retired (the tick's move at its end, set here directly), no bridge comes from it
sql "UPDATE issuers SET state = 'retired' WHERE id = $old_id"
bridge u.csr firmware-endpoint "$old_id" "too late"; expect 422 policy "a bridge from a retired issuer"
echo "$OUT" | jq -r .detail | grep -q "is retired" || die "unclear: $OUT"
ok "a retired issuer gives no bridge"
echo "$CHECKS passed, 0 failed"
