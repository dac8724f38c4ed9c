#!/usr/bin/env bash
# Root ceremony end to end: init a vault, sign a constrained intermediate from an openssl CSR, issue leaves under it,
# and check every artifact with OpenSSL and GnuTLS (SPEC §3, §5).
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need certtool

section "init: the root key file"
new_vault v "ACME IoT Root R1" --org "ACME Devices"
assert_mode v/root.key 600
assert_grep "root.key is an encrypted PKCS#8 PEM" '^-----BEGIN ENCRYPTED PRIVATE KEY-----$' v/root.key
expect_ok "openssl pkey opens root.key with the passphrase" openssl pkey -in v/root.key -passin "file:$PASS" -noout
expect_refused "openssl pkey refuses root.key with a wrong passphrase" \
    openssl pkey -in v/root.key -passin "file:$WRONG_PASS" -noout
run openssl pkey -in v/root.key -passin "file:$PASS" -pubout
cp "$OUT" key-pub.pem
run openssl x509 -in v/root.pem -noout -pubkey
assert_eq "root.key holds the key of root.pem" "$(cat key-pub.pem)" "$(cat "$OUT")"
openssl_verify_ok "openssl verifies root.pem as self-signed" -CAfile v/root.pem v/root.pem
x509_text v/root.pem root.txt
assert_grep "root is CA:TRUE (critical basicConstraints)" 'CA:TRUE' root.txt
assert_grep "root keyUsage includes Certificate Sign" 'Certificate Sign' root.txt
assert_grep "root subject is O=ACME Devices, CN=ACME IoT Root R1" 'Subject: O = ACME Devices, CN = ACME IoT Root R1' root.txt
expect_ok "root is valid for more than 24 years" openssl x509 -in v/root.pem -noout -checkend $((24 * 366 * 86400))
expect_refused "root is not valid past 26 years (default 25)" \
    openssl x509 -in v/root.pem -noout -checkend $((26 * 366 * 86400))
openssl asn1parse -in v/root.pem >root.asn1
assert_grep "root notBefore is UTCTime (RFC 5280 §4.1.2.5: before 2050)" 'UTCTIME' root.asn1
assert_grep "root notAfter is GeneralizedTime (after 2050)" 'GENERALIZEDTIME' root.asn1

section "sign-intermediate from an openssl CSR, with constraints, EKU and URLs"
ec_key int.key
make_csr int.key int.csr "/C=DE/O=ACME Devices/CN=ACME Fleet Issuer 1"
expect_ok "sign-intermediate" "$ROOT" sign-intermediate --vault v --csr int.csr --out int.pem \
    --permit-dns example.com --permit-ip 192.0.2.0/24 --permit-ip 2001:db8::/32 --name-constraints critical \
    --eku server --ocsp-url http://ocsp.example.com/root --ca-issuers-url http://pki.example.com/root.cer \
    --crl-url http://pki.example.com/root.crl --yes --passphrase-file "$PASS"
cp "$OUT" sign.out
# SPEC §5: before signing it shows the CSR's subject, key, fingerprint and the exact extensions.
assert_grep "preview shows the CSR subject" 'subject +C=DE, O=ACME Devices, CN=ACME Fleet Issuer 1' sign.out
assert_grep "preview shows the key type" 'ecdsa-p256' sign.out
csr_sha=$(openssl req -in int.csr -outform DER | sha256sum | cut -d' ' -f1)
assert_grep "preview shows the CSR's SHA-256" "CSR SHA-256 +$csr_sha" sign.out
assert_grep "preview shows pathLen 0" 'pathLen:0' sign.out
assert_grep "preview shows critical nameConstraints" 'nameConstraints \(critical\)' sign.out
assert_grep "preview shows the OCSP URL" 'http://ocsp\.example\.com/root' sign.out
openssl_verify_ok "openssl verify -CAfile root.pem int.pem" -CAfile v/root.pem int.pem
x509_text int.pem int.txt
assert_grep "Name Constraints extension is critical" 'X509v3 Name Constraints: critical' int.txt
assert_grep "permitted DNS example.com" '^ +DNS:example.com$' int.txt
assert_grep "permitted IPv4 192.0.2.0/24" '^ +IP:192\.0\.2\.0/255\.255\.255\.0$' int.txt
assert_grep "permitted IPv6 2001:db8::/32" '^ +IP:2001:DB8:0:0:0:0:0:0/FFFF:FFFF:0:0:0:0:0:0$' int.txt
assert_grep "basicConstraints CA:TRUE, pathlen:0" 'CA:TRUE, pathlen:0' int.txt
assert_grep "keyUsage Certificate Sign, CRL Sign" 'Certificate Sign, CRL Sign' int.txt
assert_grep "EKU TLS Web Server Authentication" 'TLS Web Server Authentication' int.txt
assert_no_grep "EKU has no TLS Web Client Authentication" 'Client Authentication' int.txt
assert_grep "AIA OCSP URI" 'OCSP - URI:http://ocsp\.example\.com/root$' int.txt
assert_grep "AIA CA Issuers URI" 'CA Issuers - URI:http://pki\.example\.com/root\.cer$' int.txt
assert_grep "CRL Distribution Point URI" 'URI:http://pki\.example\.com/root\.crl$' int.txt
assert_grep "Subject Key Identifier present" 'X509v3 Subject Key Identifier' int.txt
assert_grep "Authority Key Identifier present" 'X509v3 Authority Key Identifier' int.txt
assert_grep "X.509 v3" 'Version: 3 \(0x2\)' int.txt
int_serial=$(serial_of int.pem)
[[ ${#int_serial} -ge 16 ]] || fail "serial $int_serial is shorter than 64 bits"
pass "serial $int_serial has at least 64 bits"
expect_ok "intermediate valid beyond 2.9 years" openssl x509 -in int.pem -noout -checkend $((1058 * 86400))
expect_refused "intermediate not valid beyond 3.1 years (default 3)" \
    openssl x509 -in int.pem -noout -checkend $((1132 * 86400))

section "the intermediate keeps the CSR's subject and key byte for byte"
assert_eq "subject DER of int.pem equals the CSR's subject DER" "$(der_field int.pem 6)" "$(der_field int.csr 2)"
assert_eq "SPKI DER of int.pem equals the CSR's SPKI DER" "$(der_field int.pem 7)" "$(der_field int.csr 3)"
assert_eq "issuer DER of int.pem equals the root's subject DER" "$(der_field int.pem 4)" "$(der_field v/root.pem 6)"
openssl asn1parse -in int.pem >int.asn1
assert_grep "country kept as PrintableString" 'PRINTABLESTRING +:DE' int.asn1

section "the vault recorded it"
assert_grep "ledger has a sign-intermediate record with the serial" "\"op\":\"sign-intermediate\".*\"serial\":\"$int_serial\"|\"serial\":\"$int_serial\".*\"op\":\"sign-intermediate\"" v/ledger.jsonl
expect_ok "issued/<serial>.pem is a copy of int.pem" cmp "v/issued/$int_serial.pem" int.pem
expect_ok "ledger verify passes" "$ROOT" ledger verify --vault v

section "GnuTLS agrees"
gnutls_chain "certtool --verify-chain accepts int + root" verified int.pem v/root.pem
run certtool -i --infile int.pem
cp "$OUT" int.gnutls.txt
assert_grep "certtool -i: Name Constraints (critical)" 'Name Constraints \(critical\):' int.gnutls.txt
assert_grep "certtool -i: permitted DNSname example.com" 'DNSname: example\.com' int.gnutls.txt
assert_grep "certtool -i: permitted IPAddress 192.0.2.0/24" 'IPAddress: 192\.0\.2\.0/24' int.gnutls.txt
assert_grep "certtool -i: Path Length Constraint 0" 'Path Length Constraint: 0' int.gnutls.txt

section "leaves under the intermediate (iotca-test-leaf stands in for iotcad)"
assert_grep "the intermediate's openssl key is already unencrypted PKCS#8" '^-----BEGIN PRIVATE KEY-----$' int.key
new_leaf int leaf-in "/CN=device1.example.com" --dns device1.example.com --ip 192.0.2.10 --eku server
openssl_verify_ok "leaf inside the constraints verifies (root + untrusted int)" \
    -CAfile v/root.pem -untrusted int.pem leaf-in.pem
openssl_verify_ok "and for purpose sslserver" -purpose sslserver -CAfile v/root.pem -untrusted int.pem leaf-in.pem
gnutls_chain "certtool --verify-chain accepts leaf + int + root" verified leaf-in.pem int.pem v/root.pem
x509_text leaf-in.pem leaf-in.txt
assert_grep "leaf is CA:FALSE" 'CA:FALSE' leaf-in.txt
assert_grep "leaf keyUsage Digital Signature" 'Digital Signature' leaf-in.txt
assert_grep "leaf SAN" 'DNS:device1\.example\.com, IP Address:192\.0\.2\.10' leaf-in.txt

new_leaf int leaf-dns-out "/CN=device1.example.org" --dns device1.example.org --eku server
openssl_verify_rejects "leaf with DNS SAN outside the constraint is rejected" 'permitted subtree violation' \
    -CAfile v/root.pem -untrusted int.pem leaf-dns-out.pem
gnutls_chain "GnuTLS rejects it too" rejected leaf-dns-out.pem int.pem v/root.pem
new_leaf int leaf-ip-out "/CN=device2.example.com" --dns device2.example.com --ip 198.51.100.7 --eku server
openssl_verify_rejects "leaf with an IP SAN outside the constraint is rejected" 'permitted subtree violation' \
    -CAfile v/root.pem -untrusted int.pem leaf-ip-out.pem
new_leaf int leaf-client "/CN=device3.example.com" --dns device3.example.com --eku client
openssl_verify_rejects "a clientAuth leaf is refused for sslclient (the intermediate's EKU is server only)" \
    'at 1 depth.*unsuitable certificate purpose' -purpose sslclient -CAfile v/root.pem -untrusted int.pem leaf-client.pem

section "every root key type"
ec_key any.key
make_csr any.key any.csr "/O=ACME Devices/CN=Any Issuer"
declare -A alg=(
    [ecdsa-p256]='NIST CURVE: P-256'
    [ecdsa-p384]='NIST CURVE: P-384'
    [rsa-3072]='Public-Key: \(3072 bit\)'
    [ed25519]='Public Key Algorithm: ED25519'
)
for kt in ecdsa-p256 ecdsa-p384 rsa-3072 ed25519; do
    expect_ok "init --key $kt" "$ROOT" init --vault "vault-$kt" --name "Root $kt" --key "$kt" --passphrase-file "$PASS"
    x509_text "vault-$kt/root.pem" "root-$kt.txt"
    assert_grep "$kt: openssl parses root.pem and shows the key type" "${alg[$kt]}" "root-$kt.txt"
    openssl_verify_ok "$kt: openssl verify -CAfile root.pem root.pem" -CAfile "vault-$kt/root.pem" "vault-$kt/root.pem"
    expect_ok "$kt: openssl pkey opens root.key" \
        openssl pkey -in "vault-$kt/root.key" -passin "file:$PASS" -noout
    expect_ok "$kt: certtool parses root.pem" certtool -i --infile "vault-$kt/root.pem"
    expect_ok "$kt: the root signs an intermediate" "$ROOT" sign-intermediate --vault "vault-$kt" --csr any.csr \
        --out "int-$kt.pem" --yes --passphrase-file "$PASS"
    openssl_verify_ok "$kt: openssl verifies that intermediate" -CAfile "vault-$kt/root.pem" "int-$kt.pem"
    gnutls_chain "$kt: GnuTLS verifies it" verified "int-$kt.pem" "vault-$kt/root.pem"
done
expect_ok "init without --key" "$ROOT" init --vault vault-default --name "Root default" --passphrase-file "$PASS"
x509_text vault-default/root.pem root-default.txt
assert_grep "the default root key is ECDSA P-384 (SPEC §3)" 'NIST CURVE: P-384' root-default.txt

finish
