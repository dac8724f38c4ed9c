#!/usr/bin/env bash
# Root CRLs (ARLs, RFC 5280 §5): revoke an intermediate, publish the CRL, and check that OpenSSL and GnuTLS accept
# the CRL and that OpenSSL then rejects the revoked intermediate but not its sibling.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need certtool

section "a root with two intermediates"
new_vault v "CRL Root R1" --org "ACME Devices"
new_intermediate v bad "/O=ACME Devices/CN=Compromised Issuer" --days 400
new_intermediate v good "/O=ACME Devices/CN=Healthy Issuer" --days 400
bad_serial=$(serial_of bad.pem)
good_serial=$(serial_of good.pem)

section "revoke-intermediate and crl"
expect_ok "revoke the first intermediate for keyCompromise" "$ROOT" revoke-intermediate --vault v \
    --serial "$bad_serial" --reason keyCompromise --yes
expect_output "$bad_serial"
expect_ok "crl" "$ROOT" crl --vault v --out crl.pem --yes --passphrase-file "$PASS"
assert_grep "crl.pem is PEM 'X509 CRL'" '^-----BEGIN X509 CRL-----$' crl.pem
run openssl crl -in crl.pem -CAfile v/root.pem -verify -noout
[[ $RC -eq 0 ]] || fail "openssl crl -verify exited $RC"
expect_output '^verify OK$'
openssl crl -in crl.pem -text -noout >crl.txt 2>&1 || fail "openssl cannot print crl.pem"
assert_grep "a v2 CRL" 'Version 2' crl.txt
assert_grep "issued by the root" 'Issuer: O = ACME Devices, CN = CRL Root R1' crl.txt
assert_grep "lists the revoked serial" "Serial Number: $(printf '%s' "$bad_serial" | tr 'a-f' 'A-F')\$" crl.txt
assert_grep "with reason Key Compromise" '^ +Key Compromise$' crl.txt
assert_no_grep "does not list the healthy intermediate" "$(printf '%s' "$good_serial" | tr 'a-f' 'A-F')" crl.txt
assert_grep "has a CRL Number extension" 'X509v3 CRL Number' crl.txt
assert_eq "CRL number 1" "$(openssl crl -in crl.pem -noout -crlnumber)" "crlNumber=0x01"
assert_grep "has an Authority Key Identifier (RFC 5280 §5.2.1)" 'X509v3 Authority Key Identifier' crl.txt
assert_grep "has a Next Update" 'Next Update: ' crl.txt
expect_ok "certtool --crl-info parses it" certtool --crl-info --infile crl.pem
expect_output "Serial Number \(hex\): $bad_serial"
expect_ok "certtool --verify-crl verifies it with the root" certtool --verify-crl --load-ca-certificate v/root.pem \
    --infile crl.pem
expect_output 'Verification output: Verified\.'
new_vault other "Unrelated Root"
expect_refused "certtool --verify-crl rejects it with an unrelated root" certtool --verify-crl \
    --load-ca-certificate other/root.pem --infile crl.pem

section "OpenSSL applies the CRL"
openssl_verify_rejects "the revoked intermediate fails -crl_check" 'certificate revoked' \
    -crl_check -CRLfile crl.pem -CAfile v/root.pem bad.pem
openssl_verify_ok "without -crl_check it still verifies (the rejection is the CRL's doing)" -CAfile v/root.pem bad.pem
openssl_verify_ok "the unrevoked intermediate passes -crl_check" -crl_check -CRLfile crl.pem -CAfile v/root.pem good.pem

section "CRL numbers increase"
expect_ok "a second crl" "$ROOT" crl --vault v --out crl2.pem --yes --passphrase-file "$PASS"
assert_eq "CRL number 2" "$(openssl crl -in crl2.pem -noout -crlnumber)" "crlNumber=0x02"
run openssl crl -in crl2.pem -CAfile v/root.pem -verify -noout
expect_output '^verify OK$'
expect_ok "revoke the second intermediate (superseded)" "$ROOT" revoke-intermediate --vault v \
    --serial "$good_serial" --reason superseded --yes
expect_ok "a third crl" "$ROOT" crl --vault v --out crl3.pem --yes --passphrase-file "$PASS"
assert_eq "CRL number 3" "$(openssl crl -in crl3.pem -noout -crlnumber)" "crlNumber=0x03"
openssl crl -in crl3.pem -text -noout >crl3.txt
assert_grep "crl3 still lists the first intermediate" "$(printf '%s' "$bad_serial" | tr 'a-f' 'A-F')" crl3.txt
assert_grep "crl3 lists the second one" "$(printf '%s' "$good_serial" | tr 'a-f' 'A-F')" crl3.txt
assert_grep "with reason Superseded" '^ +Superseded$' crl3.txt
openssl_verify_rejects "the second intermediate now fails -crl_check" 'certificate revoked' \
    -crl_check -CRLfile crl3.pem -CAfile v/root.pem good.pem

section "revocation refusals (exit 2)"
ledger_lines=$(line_count v/ledger.jsonl)
expect_fail 2 "$ROOT" revoke-intermediate --vault v --serial 0123456789abcdef0123456789abcdef --reason keyCompromise \
    --yes
expect_message
expect_fail 2 "$ROOT" revoke-intermediate --vault v --serial "$bad_serial" --reason keyCompromise --yes
expect_stderr 'already'
upper_colons=$(printf '%s' "$bad_serial" | tr 'a-f' 'A-F' | sed -E 's/(..)/\1:/g; s/:$//')
expect_fail 2 "$ROOT" revoke-intermediate --vault v --serial "$upper_colons" --yes
expect_stderr 'already'
assert_eq "nothing appended to the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"
new_intermediate v third "/O=ACME Devices/CN=Third Issuer" --days 400
ledger_lines=$(line_count v/ledger.jsonl)
expect_fail 2 "$ROOT" revoke-intermediate --vault v --serial "$(serial_of third.pem)" --reason bogus --yes
expect_stderr 'bogus|keyCompromise'
expect_fail 2 "$ROOT" revoke-intermediate --vault v --serial "not-hex" --yes
expect_message
expect_fail 2 "$ROOT" revoke-intermediate --vault v --yes
expect_message
expect_fail 2 "$ROOT" revoke-intermediate --vault v --serial "$(serial_of v/root.pem)" --yes
expect_message
assert_eq "no refused revocation reached the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"
expect_ok "ledger verify" "$ROOT" ledger verify --vault v

finish
