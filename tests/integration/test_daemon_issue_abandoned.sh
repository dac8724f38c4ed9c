#!/usr/bin/env bash
# Issuances whose clients leave before the answer. A serving thread starts an issuance and serves its other
# connections while the crypto thread signs and the group commit records it; the connection waits, suspended,
# and is resumed when the record is durable (server/http.c issue_here). A client that sends a whole request
# and closes at once must cost nothing but its own answer: every certificate recorded has its audit record,
# a refusal is audited as usual, the clients that stay all get their certificates, and the daemon goes on
# issuing. Then a SIGTERM in the middle of a burst: a clean stop (exit 0, no sanitizer report under ASan,
# no connection left suspended) and every answered certificate recorded.
# shellcheck source=daemon_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon_lib.sh"

start_ca
new_issuer int1

"$IOTCA_BIN/bench/iotca-csrs" 60 > fleet.pem
jq -Rsc 'split("-----END CERTIFICATE REQUEST-----\n")[:-1][] | . + "-----END CERTIFICATE REQUEST-----\n" |
  {csr: ., profile: "firmware-endpoint"}' fleet.pem > bodies.jsonl
[ "$(wc -l < bodies.jsonl)" = 60 ] || die "expected 60 request bodies"
mkdir kept left out
head -n 30 bodies.jsonl | split -l 1 -d -a 2 - kept/b
tail -n 30 bodies.jsonl | split -l 1 -d -a 2 - left/b
# ten more that the crypto thread refuses (a CSR whose signature does not verify), also abandoned
make_csr bad bad.updates.example.com "DNS:bad.updates.example.com"
openssl req -in bad.csr -outform DER -out bad.der && flip_byte bad.der 3
openssl req -inform DER -in bad.der -out bad.csr 2>/dev/null || die "openssl cannot re-encode the CSR"
for i in $(seq 0 9); do jq -nc --rawfile csr bad.csr '{csr: $csr, profile: "firmware-endpoint"}' > "left/x$i"; done

audited() { sql "SELECT count(*) FROM audit WHERE action = 'POST /v1/certificates' AND outcome = '$1'"; }
n0=$(sql "SELECT count(*) FROM certificates")
a0=$(audited 201)
r0=$(audited 400)

# send a whole request, then close without reading the answer
abandon() {
  local body
  body=$(cat "$1")
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 0
  printf 'POST /v1/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$PROV" "${#body}" "$body" >&3 2>/dev/null || true
  exec 3>&-
}
export BASE PROV PORT
export -f abandon
# shellcheck disable=SC2016
find left -type f | xargs -P 8 -n 5 bash -c 'for f; do abandon "$f"; done' bash &
abandoning=$!
# shellcheck disable=SC2016
find kept -type f | xargs -P 8 -n 5 sh -c 'for f; do
    curl -s -m 30 -o "out/$(basename "$f").json" -w "%{http_code}\n" -X POST "$BASE/v1/certificates" \
      -H "Authorization: Bearer $PROV" -H "Content-Type: application/json" --data-binary @"$f"
  done' sh > codes.txt
wait "$abandoning"
[ "$(grep -c '^201$' codes.txt)" = 30 ] ||
  die "the clients that stayed did not all get 201: $(sort codes.txt | uniq -c | tr '\n' ' ')"
ok "30 clients that stayed got 201 while 40 others left mid-issuance"

# what was started is settled: wait until the counts stop moving (at most 10 s)
last=""
for _ in $(seq 1 50); do
  now="$(sql "SELECT count(*) FROM certificates")/$(audited 201)/$(audited 400)"
  [ "$now" = "$last" ] && break
  last=$now
  sleep 0.2
done
n1=$(sql "SELECT count(*) FROM certificates")
a1=$(audited 201)
r1=$(audited 400)
issued=$((n1 - n0))
[ "$issued" -ge 30 ] && [ "$issued" -le 60 ] || die "$issued certificates recorded, expected 30 to 60"
[ $((a1 - a0)) = "$issued" ] || die "$issued certificates recorded but $((a1 - a0)) issuances audited"
[ $((r1 - r0)) -le 10 ] || die "$((r1 - r0)) refusals audited for 10 bad requests"
ok "$issued certificates recorded ($((issued - 30)) for clients that left), each with its audit record; $((r1 - r0)) abandoned refusals audited"
if [ $((r1 - r0)) -gt 0 ]; then
  [ "$(sql "SELECT count(*) FROM audit WHERE action = 'POST /v1/certificates' AND outcome = '400' AND detail = 'bad_signature'")" = $((r1 - r0)) ] ||
    die "an abandoned refusal was audited with the wrong error"
fi

# every kept answer is a certificate that verifies and is recorded
for f in out/b00.json out/b17.json out/b29.json; do
  jq -r .certificate "$f" > s.crt
  jq -r .chain "$f" > s.chain
  openssl verify -CAfile roots.pem -untrusted s.chain s.crt >/dev/null || die "$f: the certificate does not verify"
  serial=$(jq -r .serial "$f")
  [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$serial'")" = 1 ] || die "$f: serial $serial not recorded"
done
ok "sampled answers verify with openssl and are recorded"

# the daemon goes on: a refusal and an issuance answered, then a clean stop
issue bad firmware-endpoint "$PROV"
expect 400 bad_signature "a bad CSR after the abandoned ones"
issue_and_verify after "issuing after the abandoned requests"

# stopping in the middle of a burst: SIGTERM while 8 clients issue. The daemon waits for the issuances it
# started (their connections are resumed by the group commit's notification, so the serving threads must
# outlive them) and exits 0; every 201 a client got is recorded, every recorded certificate audited.
mkdir burst
# shellcheck disable=SC2016
seq 1 8 | xargs -P 8 -I{} sh -c 'for i in $(seq 1 40); do
    curl -s -m 30 -o "burst/{}-$i.json" -w "%{http_code}
" -X POST "$BASE/v1/certificates"       -H "Authorization: Bearer $PROV" -H "Content-Type: application/json" --data-binary @kept/b00
  done' > burst_codes.txt &
bursting=$!
for _ in $(seq 1 100); do [ "$(find burst -name '*.json' | wc -l)" -ge 24 ] && break; sleep 0.05; done
stop_clean
wait "$bursting" || true
got=$(grep -c '^201$' burst_codes.txt || true)
[ "$got" -ge 24 ] || die "only $got issuances answered before the stop"
for f in burst/*.json; do
  serial=$(jq -r '.serial // empty' "$f" 2>/dev/null) || continue
  [ -n "$serial" ] || continue
  [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$serial'")" = 1 ] || die "$f: answered serial $serial is not recorded"
done
[ "$(sql "SELECT count(*) FROM certificates")" = "$(audited 201)" ] ||
  die "$(sql "SELECT count(*) FROM certificates") certificates recorded but $(audited 201) issuances audited"
ok "SIGTERM during a burst: exit 0; the $got answered issuances are recorded, every recorded one audited"
echo "$CHECKS passed, 0 failed"
