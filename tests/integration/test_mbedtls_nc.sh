#!/usr/bin/env bash
# Embedded-safe name constraints (SPEC §3): mbedTLS 2.28 cannot parse a certificate with a critical nameConstraints
# extension, so fleets on mbedTLS need `--name-constraints noncritical`; OpenSSL accepts both.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need "$MBED"

section "one root, two intermediates that differ only in the criticality of nameConstraints"
new_vault v "Embedded Root R1" --org "ACME Devices"
new_intermediate v crit "/O=ACME Devices/CN=Critical NC Issuer" --days 400 \
    --permit-dns example.com --name-constraints critical
new_intermediate v noncrit "/O=ACME Devices/CN=Noncritical NC Issuer" --days 400 \
    --permit-dns example.com --name-constraints noncritical
x509_text crit.pem crit.txt
x509_text noncrit.pem noncrit.txt
assert_grep "crit.pem: Name Constraints critical" 'X509v3 Name Constraints: critical' crit.txt
assert_grep "noncrit.pem: Name Constraints present" 'X509v3 Name Constraints:' noncrit.txt
assert_no_grep "noncrit.pem: Name Constraints not critical" 'X509v3 Name Constraints: critical' noncrit.txt
assert_grep "noncrit.pem: permitted DNS example.com" '^ +DNS:example\.com$' noncrit.txt
new_leaf crit leaf-crit "/CN=device1.example.com" --dns device1.example.com --eku server
new_leaf noncrit leaf-noncrit "/CN=device1.example.com" --dns device1.example.com --eku server
cat leaf-crit.pem crit.pem >chain-crit.pem
cat leaf-noncrit.pem noncrit.pem >chain-noncrit.pem

section "mbedTLS 2.28"
expect_fail 0 "$MBED" v/root.pem chain-noncrit.pem
expect_output '^accepted$'
expect_fail 3 "$MBED" v/root.pem chain-crit.pem
expect_output '^parse error: .*chain-crit\.pem, certificate #2'
expect_fail 1 "$MBED" v/root.pem leaf-crit.pem
expect_output '^rejected: ' # the leaf alone parses; only the intermediate cannot
expect_fail 3 "$MBED" v/root.pem crit.pem
expect_output 'parse error'
expect_ok "mbedTLS parses the noncritical-NC intermediate alone and verifies it" "$MBED" v/root.pem noncrit.pem
expect_output '^accepted$'

section "mbedTLS 2.28 ignores a noncritical constraint; OpenSSL enforces it"
# Why `iotca lint` must flag noncritical constraints as advisory on mbedTLS (SPEC §7).
new_leaf noncrit leaf-outside "/CN=device1.example.org" --dns device1.example.org --eku server
cat leaf-outside.pem noncrit.pem >chain-outside.pem
expect_fail 0 "$MBED" v/root.pem chain-outside.pem
expect_output '^accepted$'
openssl_verify_rejects "OpenSSL enforces the noncritical constraint" 'permitted subtree violation' \
    -CAfile v/root.pem -untrusted noncrit.pem leaf-outside.pem

section "mbedtls-verify itself rejects what it should"
new_vault other "Other Root"
expect_fail 1 "$MBED" other/root.pem chain-noncrit.pem
expect_output '^rejected: '
head -c 400 /dev/urandom >garbage.pem
expect_fail 3 "$MBED" v/root.pem garbage.pem
expect_output 'parse error'
expect_fail 2 "$MBED" v/root.pem
expect_fail 2 "$MBED" v/root.pem no-such-file.pem

section "OpenSSL accepts both chains"
openssl_verify_ok "openssl verify: critical-NC chain" -CAfile v/root.pem -untrusted crit.pem leaf-crit.pem
openssl_verify_ok "openssl verify: noncritical-NC chain" -CAfile v/root.pem -untrusted noncrit.pem leaf-noncrit.pem

finish
