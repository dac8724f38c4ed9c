#!/usr/bin/env bash
# The crypto threads (lib/ca/crypto_pool.c): every issuance's signature work (the CSR's signature, signing and
# verifying the leaf) runs on one crypto thread a serving thread, however many issuances are in flight.
# wolfSSL keeps up to 15 public keys' point tables per thread that verifies (about 12 MB once a fleet's
# distinct CSRs fill them), so with the work on the 16 pool workers (before f4e4520) a burst of distinct CSRs
# grew the daemon by about 150 MB; on one crypto thread it must stay within one thread's tables.
# Errors met on a crypto thread reach the client with their code and detail.
# shellcheck source=daemon_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon_lib.sh"

hwm_kb() { awk '$1 == "VmHWM:" {print $2}' "/proc/$DAEMON_PID/status"; }
start_ca '.limits.threads = 1 | .limits.workers = 16'
grep -q '"workers":16,"crypto_threads":1' daemon.log ||
  die "the start line does not report 16 workers and 1 crypto thread: $(grep started daemon.log)"
ok "started with 16 workers (which did the crypto before f4e4520) and 1 crypto thread (the start line says so)"
new_issuer int1
sleep 1.5 # what setting up the issuer built is given back first
before=$(hwm_kb)

# 320 distinct CSRs from 16 clients at once: 16 issuances in flight, more than the 15 keys a thread's
# tables hold
"$IOTCA_BIN/bench/iotca-csrs" 320 > fleet.pem
jq -Rsc 'split("-----END CERTIFICATE REQUEST-----\n")[:-1][] | . + "-----END CERTIFICATE REQUEST-----\n" |
  {csr: ., profile: "firmware-endpoint"}' fleet.pem > bodies.jsonl
[ "$(wc -l < bodies.jsonl)" = 320 ] || die "expected 320 request bodies"
mkdir bodies out && split -l 1 -d -a 3 bodies.jsonl bodies/b
export BASE PROV
n0=$(sql "SELECT count(*) FROM certificates")
# shellcheck disable=SC2016
find bodies -type f | xargs -P 16 -n 20 sh -c 'for f; do
    curl -s -m 30 -o "out/$(basename "$f").json" -w "%{http_code}\n" -X POST "$BASE/v1/certificates" \
      -H "Authorization: Bearer $PROV" -H "Content-Type: application/json" --data-binary @"$f"
  done' sh > codes.txt
[ "$(grep -c '^201$' codes.txt)" = 320 ] ||
  die "not every issuance of the burst got 201: $(sort codes.txt | uniq -c | tr '\n' ' ')"
n1=$(sql "SELECT count(*) FROM certificates")
[ $((n1 - n0)) = 320 ] || die "the burst recorded $((n1 - n0)) certificates, not 320"
ok "320 issuances with distinct CSRs from 16 clients: all 201 and all recorded"

# every answer holds a certificate for its own CSR's key, signed by the issuer
for f in out/b000.json out/b137.json out/b319.json; do
  jq -r .certificate "$f" > s.crt
  jq -r .chain "$f" > s.chain
  openssl verify -CAfile roots.pem -untrusted s.chain s.crt >/dev/null || die "$f: the certificate does not verify"
  n=${f#out/b}
  n=$((10#${n%.json}))
  want=$(sed -n "$((n + 1))p" bodies.jsonl | jq -r .csr | openssl req -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)
  got=$(openssl x509 -in s.crt -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)
  [ "$want" = "$got" ] || die "$f: the certificate is not for the key of the CSR it answers"
done
ok "sampled answers verify with openssl and certify the key of the CSR each answers"

peak=$(hwm_kb)
grew=$(((peak - before) / 1024))
if asan_build; then
  echo "skip - AddressSanitizer build: its quarantine keeps freed memory, the peak says nothing"
else
  # one crypto thread's full tables are about 12 MB; 16 workers doing the work themselves grew it ~150 MB
  [ "$grew" -le 48 ] || die "the burst grew the daemon by $grew MB (peak $((peak / 1024)) MB): more than one crypto thread's tables"
  ok "the burst grew the daemon by $grew MB at most (peak $((peak / 1024)) MB)"
fi

# errors met on the crypto thread come back whole: the code and the parser's or verifier's detail
make_csr bad bad.updates.example.com "DNS:bad.updates.example.com"
openssl req -in bad.csr -outform DER -out bad.der && flip_byte bad.der 3
openssl req -inform DER -in bad.der -out bad.csr 2>/dev/null || die "openssl cannot re-encode the CSR"
issue bad firmware-endpoint "$PROV"
expect 400 bad_signature "a CSR with a bad signature"
echo "$OUT" | jq -r .detail | grep -i "signature" >/dev/null || die "the bad signature's detail was lost: $OUT"
ok "a CSR whose signature does not verify: 400 bad_signature, detail '$(echo "$OUT" | jq -r .detail)'"
printf '%s' '-----BEGIN CERTIFICATE REQUEST-----
MIIBAjCBqAIBADAAMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
-----END CERTIFICATE REQUEST-----
' > trunc.csr
issue trunc firmware-endpoint "$PROV"
expect 400 "" "a truncated CSR"
detail=$(echo "$OUT" | jq -r .detail)
[ -n "$detail" ] && [ "$detail" != null ] || die "the truncated CSR's detail was lost: $OUT"
ok "a truncated CSR: 400 $(echo "$OUT" | jq -r .error), detail '$detail'"

# and the daemon issues as before
issue_and_verify after "issuing after the refusals"
stop_clean
ok "iotcad stops cleanly"
echo "$CHECKS passed, 0 failed"
