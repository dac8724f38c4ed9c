#!/usr/bin/env bash
# Root rollover by cross-signing (SPEC §3): the old root R1 signs the new root R2, so a device that only holds R1
# still validates a chain issued under R2.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need certtool

section "two roots: R1 (old, in the field) and R2 (new)"
new_vault r1 "ACME IoT Root R1" --org "ACME Devices"
new_vault r2 "ACME IoT Root R2" --org "ACME Devices" --country DE

section "R1 cross-signs R2"
expect_ok "cross-sign" "$ROOT" cross-sign --vault r1 --cert r2/root.pem --out cross.pem --yes --passphrase-file "$PASS"
x509_text cross.pem cross.txt
assert_eq "cross.pem has R2's subject DER, byte for byte" "$(der_field cross.pem 6)" "$(der_field r2/root.pem 6)"
assert_eq "cross.pem has R2's SPKI DER, byte for byte" "$(der_field cross.pem 7)" "$(der_field r2/root.pem 7)"
assert_eq "cross.pem has R1's subject as issuer DER" "$(der_field cross.pem 4)" "$(der_field r1/root.pem 6)"
assert_eq "openssl -pubkey: same public key as R2" "$(openssl x509 -in cross.pem -noout -pubkey)" \
    "$(openssl x509 -in r2/root.pem -noout -pubkey)"
assert_eq "openssl -issuer: R1" "$(openssl x509 -in cross.pem -noout -issuer -nameopt RFC2253)" \
    "issuer=$(openssl x509 -in r1/root.pem -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
assert_ne "a new serial, not R2's" "$(serial_of cross.pem)" "$(serial_of r2/root.pem)"
assert_grep "cross.pem is a CA" 'CA:TRUE' cross.txt
assert_grep "cross.pem may sign certificates" 'Certificate Sign' cross.txt
skid_r2=$(openssl x509 -in r2/root.pem -noout -ext subjectKeyIdentifier | sed -n 2p | tr -d ' ')
skid_cross=$(openssl x509 -in cross.pem -noout -ext subjectKeyIdentifier | sed -n 2p | tr -d ' ')
assert_eq "cross.pem keeps R2's subject key identifier" "$skid_cross" "$skid_r2"
akid_cross=$(openssl x509 -in cross.pem -noout -ext authorityKeyIdentifier | sed -n 2p | tr -d ' ')
skid_r1=$(openssl x509 -in r1/root.pem -noout -ext subjectKeyIdentifier | sed -n 2p | tr -d ' ')
[[ -n $skid_r1 && $akid_cross == *"$skid_r1"* ]] || fail "cross.pem's AKID '$akid_cross' does not name R1's key $skid_r1"
pass "cross.pem's authority key identifier is R1's"
cross_end=$(openssl x509 -in cross.pem -noout -enddate)
cross_end=$(date -u -d "${cross_end#notAfter=}" +%s)
r2_end=$(openssl x509 -in r2/root.pem -noout -enddate)
r2_end=$(date -u -d "${r2_end#notAfter=}" +%s)
[[ $cross_end -le $r2_end ]] || fail "cross.pem (until $cross_end) outlives R2's own certificate (until $r2_end)"
pass "cross.pem does not outlive R2's self-signed certificate"
openssl_verify_ok "openssl verifies cross.pem under R1" -CAfile r1/root.pem cross.pem
expect_ok "R1's ledger recorded the cross-sign" grep -q '"op":"cross-sign"' r1/ledger.jsonl

section "an intermediate under R2 and a leaf under it"
new_intermediate r2 int "/O=ACME Devices/CN=ACME Issuer R2-1" --days 400
new_leaf int leaf "/CN=device7.example.com" --dns device7.example.com
cat int.pem cross.pem >untrusted.pem

section "validation from each trust store"
openssl_verify_ok "a device with only the OLD root validates via int + cross" \
    -CAfile r1/root.pem -untrusted untrusted.pem leaf.pem
run openssl verify -show_chain -CAfile r1/root.pem -untrusted untrusted.pem leaf.pem
expect_output 'depth=3: O = ACME Devices, CN = ACME IoT Root R1'
openssl_verify_ok "a device with the NEW root validates with just int" -CAfile r2/root.pem -untrusted int.pem leaf.pem
openssl_verify_ok "a device with both roots validates int + cross" \
    -CAfile <(cat r1/root.pem r2/root.pem) -untrusted untrusted.pem leaf.pem
openssl_verify_rejects "the OLD root alone without cross.pem fails" 'unable to get (local )?issuer certificate' \
    -CAfile r1/root.pem -untrusted int.pem leaf.pem
gnutls_chain "GnuTLS accepts leaf + int + cross + R1" verified leaf.pem int.pem cross.pem r1/root.pem
gnutls_chain "GnuTLS accepts leaf + int + R2" verified leaf.pem int.pem r2/root.pem

section "cross-signing refusals"
ledger_lines=$(line_count r1/ledger.jsonl)
expect_fail 6 "$ROOT" cross-sign --vault r1 --cert int.pem --out cross-int.pem --yes --passphrase-file "$PASS"
expect_message
expect_fail 6 "$ROOT" cross-sign --vault r1 --cert leaf.pem --out cross-leaf.pem --yes --passphrase-file "$PASS"
expect_message
expect_fail 6 "$ROOT" cross-sign --vault r1 --cert cross.pem --out cross-cross.pem --yes --passphrase-file "$PASS"
expect_message
expect_fail 6 "$ROOT" cross-sign --vault r1 --cert r1/root.pem --out cross-self.pem --yes --passphrase-file "$PASS"
expect_stderr 'own root'
head -c 300 /dev/urandom >garbage.pem
expect_fail 3 "$ROOT" cross-sign --vault r1 --cert garbage.pem --out cross-garbage.pem --yes --passphrase-file "$PASS"
expect_message
expect_fail 2 "$ROOT" cross-sign --vault r1 --cert r2/root.pem --out cross.pem --yes --passphrase-file "$PASS"
expect_stderr 'exists'
assert_absent cross-int.pem cross-leaf.pem cross-cross.pem cross-self.pem cross-garbage.pem
assert_eq "no refused cross-sign reached R1's ledger" "$(line_count r1/ledger.jsonl)" "$ledger_lines"

finish
