#!/usr/bin/env bash
# bench/csrs.c (iotca-csrs) and the many-CSR mode of bench/limit.c (iotca-limit), which bench/run's fleet
# rows rest on: the CSRs must be distinct keys, each a request OpenSSL accepts with the bench CSR's subject
# and SAN (else the rows would measure something else), and bad input must be refused, not half-read.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CSRS=$IOTCA_BIN/bench/iotca-csrs
LIMIT=$IOTCA_BIN/bench/iotca-limit

section "iotca-csrs: usage errors"
expect_fail 2 "$CSRS"
expect_stderr 'usage: iotca-csrs N'
expect_fail 2 "$CSRS" 0
expect_fail 2 "$CSRS" -3
expect_fail 2 "$CSRS" 12x
expect_fail 2 "$CSRS" 100001
expect_fail 2 "$CSRS" 3 ecdsa-p255
expect_stderr 'unknown key type'
expect_fail 2 "$CSRS" 3 ecdsa-p256 extra

section "iotca-csrs: 20 distinct requests"
expect_ok "20 requests" "$CSRS" 20
cp "$OUT" fleet.pem
assert_eq "20 PEM blocks" "$(grep -c -- '-----BEGIN CERTIFICATE REQUEST-----' fleet.pem)" 20
csplit -s -z -f csr. fleet.pem '/-----BEGIN CERTIFICATE REQUEST-----/' '{*}'
n=0
for f in csr.*; do
  openssl req -in "$f" -noout -verify 2>/dev/null || fail "$f: openssl rejects its self-signature"
  openssl req -in "$f" -noout -subject -nameopt RFC2253 | grep -x 'subject=CN=bench.updates.example.com' >/dev/null ||
    fail "$f: subject is not CN=bench.updates.example.com"
  openssl req -in "$f" -noout -text | grep 'DNS:bench.updates.example.com' >/dev/null || fail "$f: no DNS SAN"
  openssl req -in "$f" -noout -pubkey | sha256sum >> keys.txt
  n=$((n + 1))
done
assert_eq "20 requests split out" "$n" 20
pass "each verifies with openssl and carries the bench CSR's subject and DNS SAN"
assert_eq "20 distinct public keys" "$(sort -u keys.txt | wc -l)" 20
expect_ok "one P-384 request" "$CSRS" 1 ecdsa-p384
openssl req -noout -text < "$OUT" | grep 'NIST CURVE: P-384' >/dev/null || fail "ecdsa-p384 did not give a P-384 key"
pass "ecdsa-p384 gives a P-384 request"

section "iotca-limit: many CSRs"
expect_ok "iotca-limit on the 20 requests" "$LIMIT" fleet.pem ecdsa-p256 0.3 1
grep -qx 'csrs 20' "$OUT" || fail "iotca-limit did not read all 20 requests"
pass "iotca-limit reads every request of the file (csrs 20)"
awk '/^limit_per_s/ {exit !($2 > 0)}' "$OUT" || fail "no positive limit_per_s"
pass "and measures a positive rate"
head -c 300 /dev/urandom > junk.bin
expect_fail 1 "$LIMIT" junk.bin ecdsa-p256 0.1 1
expect_stderr 'holds no PEM CERTIFICATE REQUEST'
{ cat csr.00; printf -- '-----BEGIN CERTIFICATE REQUEST-----\n@@@@\n-----END CERTIFICATE REQUEST-----\n'; } > bad.pem
expect_fail 1 "$LIMIT" bad.pem ecdsa-p256 0.1 1
expect_stderr 'request 2'
{ cat csr.00; openssl req -in csr.01 -outform DER | head -c 100 | base64 -w 64 |
  sed '1i -----BEGIN CERTIFICATE REQUEST-----' | sed '$a -----END CERTIFICATE REQUEST-----'; } > cut.pem
expect_fail 1 "$LIMIT" cut.pem ecdsa-p256 0.1 1
expect_stderr 'iotca-limit: DER: .*overruns' # the worker thread's own detail, not the main thread's
expect_fail 2 "$LIMIT" fleet.pem ecdsa-p256 0 1
finish
