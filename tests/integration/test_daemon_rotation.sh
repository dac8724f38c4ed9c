#!/usr/bin/env bash
# The seed lesson (SPEC §1): rotate to a new intermediate. A device that trusts only the roots still connects
# to a server whose leaf comes from the new intermediate; firmware that pinned the old intermediate does not.
# Also: scheduled activation by the tick, the retiring issuer still published, and `next` in the issuer list.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
old_id=$ISSUER_ID
make_csr a a.updates.example.com "DNS:a.updates.example.com"
issue a firmware-endpoint "$PROV"; expect 201 "" "leaf from the first intermediate"

# the next intermediate, scheduled 3 seconds ahead: staged and shown as next until the tick activates it
stage_issuer int2 3
new_id=$ISSUER_ID
[ "$(echo "$OUT" | jq -r .state)" = staged ] || die "should be staged: $OUT"
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
[ "$(echo "$OUT" | jq -r .next.id)" = "$new_id" ] || die "next issuer not shown: $OUT"
ok "the staged issuer is published as next"
make_csr b b.updates.example.com "DNS:b.updates.example.com"
issue b firmware-endpoint "$PROV"; expect 201 "" "still issuing from the old intermediate before activation"
openssl verify -CAfile int1.pem -partial_chain b.crt >/dev/null || die "b should come from int1"
wait_issuer_state "$new_id" active
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $old_id) | .state")" = retiring ] || die "old issuer not retiring: $OUT"
ok "the tick activated the new issuer at its time and the old one is retiring"
http GET "/v1/ca/chain?issuer=$old_id"; expect 200 "" "the retiring issuer's chain is still published"
http GET "/v1/ca/chain"; expect 200 "" "default chain"
echo "$OUT" > served-chain.pem
cmp -s <(openssl x509 -in served-chain.pem -outform DER) <(openssl x509 -in int2.pem -outform DER) || die "served chain is not the new issuer"

make_csr c c.updates.example.com "DNS:c.updates.example.com"
issue c firmware-endpoint "$PROV"; expect 201 "" "leaf after the rotation"
openssl verify -CAfile int2.pem -partial_chain c.crt >/dev/null || die "c should come from int2"
ok "new leaves come from the new intermediate"

# a server renews onto the new intermediate; two devices connect
TLSPORT=$(free_port)
openssl s_server -quiet -accept "$TLSPORT" -cert c.crt -key c.key -cert_chain c.chain -www >/dev/null 2>&1 &
wait_port "$TLSPORT"
url="https://c.updates.example.com:$TLSPORT/"
res=(--resolve "c.updates.example.com:$TLSPORT:127.0.0.1")
curl -sf --cacert roots.pem "${res[@]}" "$url" >/dev/null || die "roots-only device failed"
ok "a device trusting only the roots connects after the rotation"
if curl -sf --cacert int1.pem "${res[@]}" "$url" >/dev/null 2>&1; then die "the intermediate-pinning device connected"; fi
ok "a device that pinned the old intermediate does not (the outage SPEC §1 describes)"
echo "$CHECKS passed, 0 failed"
