#!/usr/bin/env bash
# Fleet check (SPEC §7, issues 5 and 20): every stack model of lib/fleet agrees with the real library Debian ships,
# on a table of good and bad chains at future dates.
#
# Each row names a trust store, a served chain (leaf first, then the CA certificates the server sends) and a
# date (days from now, or na:FILE / na+.5:FILE / na+1:FILE: exactly a certificate's notAfter, half a second past
# it, or the second after, with the clock frozen there). For every stack the row writes down the expected verdict, and the test asserts both:
#   (a) the model and the real library each give the verdict the row expects, and
#   (b) the model and the real library give the same verdict.
# and prints the table (row x stack: model/real). A disagreement fails the test.
#
# The two sides, per stack:
#   model    `iotca --json fleet check --trust-store STORE --chain CHAIN --stack S` run under faketime at the row's
#            date; the first report point (the "now" of the faked clock) is the model's verdict at that date.
#   openssl  `openssl verify -CAfile STORE -untrusted CAS LEAF` (OpenSSL 3) under faketime, no default CA paths.
#   mbedtls  tests/compat/mbedtls_verify.c (mbedtls_x509_crt_verify, as the 2.28 TLS client calls it) under
#            faketime; a certificate mbedTLS cannot parse fails the handshake just the same, so it counts as fail.
#   wolfssl  tests/compat/stack_verify_wolfssl.c: a real wolfSSL 5.5.4 client handshake (trust store loaded with
#            wolfSSL_CTX_load_verify_locations) against an in-process server sending CHAIN, under faketime.
#   bearssl  tests/compat/stack_verify_bearssl.c: br_x509_minimal with the date given explicitly (set_time),
#            anchors made from STORE as `brssl ta` makes them.
#   openssl102  there is no OpenSSL 1.0.2 in Debian 12: the model is held to the row's expectation only.
#   gnutls   `certtool --verify --load-ca-certificate STORE --infile CHAIN` (GnuTLS 3.7) under faketime: it calls
#            gnutls_x509_trust_list_verify_crt2, as a GnuTLS TLS client does, without a hostname or purpose.
#
# What each side checks: the model validates the CA chain the server sends (issuing CA first) against the store,
# the real libraries validate the leaf chain. They see the same thing as long as the leaf is valid whenever its
# issuing CA is: every leaf here is issued with --days 36500, which iotca-test-leaf caps at its issuer's
# notAfter, and every date is after the leaf's notBefore. So the leaf never expires before its issuer does and
# never decides a row by itself. Except on purpose: the leaf-* rows (issue 20) are about the leaf alone (expired,
# at its notAfter second, not yet valid), and there the leaf, not the CA chain the model sees, decides. Leaves
# that iotca-test-leaf cannot make (under an issuer without the CA bit, or one iotca cannot parse) are made by
# openssl (ossl_leaf) with the issuer's own lifetime, so they do not expire before it either.
#
# Certificates iotca-root refuses to make (a root that expires before its intermediate, an intermediate with a
# critical extension it does not emit, no or a false CA bit, a pathLen other than 0) are made with openssl, as in
# test_fleet_check.sh. A critical extension no stack knows at all (a private OID): wolfSSL's parser refuses such
# a certificate; the fleet check reads it with iotca's own reader and judges it per stack (the *-unknown-crit rows).
# certtool has no limit on the chain's length, a GnuTLS TLS client has (16 certificates): a section after the table
# holds the model to gnutls-cli against openssl s_server for that.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CLI=$IOTCA_BIN/tools/iotca
BSSL=$IOTCA_BIN/tests/stack-verify-bearssl
WSSL=$IOTCA_BIN/tests/stack-verify-wolfssl
need faketime certtool jq "$CLI" "$MBED" "$BSSL" "$WSSL"
export TZ=UTC
# faketime is an LD_PRELOAD library; under the ASan build (tests/run.sh) the sanitizer runtime would refuse
# to start after it, so its link-order check is turned off (the fault-injection test does the same)
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
NOW0=$(date -u +%s)
STACKS=(openssl openssl102 mbedtls wolfssl bearssl gnutls)

# ---- fixtures ------------------------------------------------------------------

section "roots from the ceremony tool"
new_vault r1 "Agree Root R1"
new_vault r2 "Agree Root R2"
new_vault r3 "Agree Root R3"
new_vault r1b "Agree Root R1" # other keys under R1's and R2's very names
new_vault r2b "Agree Root R2"
assert_eq "r1b has R1's subject DER, byte for byte" "$(der_field r1b/root.pem 6)" "$(der_field r1/root.pem 6)"
assert_ne "r1b has another key than R1" "$(der_field r1b/root.pem 7)" "$(der_field r1/root.pem 7)"
assert_eq "r2b has R2's subject DER, byte for byte" "$(der_field r2b/root.pem 6)" "$(der_field r2/root.pem 6)"
openssl pkey -in r1/root.key -passin "file:$PASS" -out r1.key 2>/dev/null || fail "cannot read R1's key with openssl"
cat r1/root.pem r2/root.pem >roots.pem
cat r2/root.pem r3/root.pem >wrong-roots.pem
cp r1/root.pem r1-only.pem
cp r2/root.pem r2-only.pem
cp r1b/root.pem impostor-only.pem
cat r1b/root.pem r1/root.pem >same-dn-impostor-first.pem
cat r1/root.pem r1b/root.pem >same-dn-right-first.pem
cat r2b/root.pem r1/root.pem >r2-impostor-and-r1.pem

# chain BASE: BASE-chain.pem is the leaf then BASE.pem, what a server using them sends.
chain() { cat "$1-leaf.pem" "$1.pem" >"$1-chain.pem"; }
leaf_under() { new_leaf "$1" "$1-leaf" "/CN=device1.example.com" --dns device1.example.com --eku server --days 36500; }

section "intermediates from the ceremony tool, leaves from iotca-test-leaf"
new_intermediate r1 int "/O=Agree/CN=Agree Issuer 1" --days 1095
leaf_under int
chain int
cat int-leaf.pem int.pem r1/root.pem >int-and-root-chain.pem # a server that sends its root too
# a renewal of int: the same request signed again (same name and key), valid for longer; a leaf under it that
# outlives int, served with the old int.pem by a server that was never given the renewal
expect_ok "renew int (same CSR, 2000 days)" "$ROOT" sign-intermediate --vault r1 --csr int.csr --out int-renewed.pem \
    --days 2000 --yes --passphrase-file "$PASS"
assert_eq "the renewal has int's subject DER" "$(der_field int-renewed.pem 6)" "$(der_field int.pem 6)"
assert_eq "the renewal has int's key" "$(der_field int-renewed.pem 7)" "$(der_field int.pem 7)"
expect_ok "renew int for 30 days only (expired by day 100)" "$ROOT" sign-intermediate --vault r1 --csr int.csr \
    --out int-renewed-short.pem --days 30 --yes --passphrase-file "$PASS"
cp int.key int-renewed.key
new_leaf int-renewed intr-leaf "/CN=device1.example.com" --dns device1.example.com --eku server --days 36500
cat intr-leaf.pem int.pem >int-stale-chain.pem
# a server given the renewal as well, after the old int or before it (the leaf is the renewal's)
cat intr-leaf.pem int.pem int-renewed.pem >int-then-renewal-chain.pem
cat intr-leaf.pem int-renewed.pem int.pem >renewal-then-int-chain.pem
# a renewal handed to devices before it is valid (signed 30 days ahead, under faketime), alone or with int itself
faketime "@$((NOW0 + 30 * 86400))" "$ROOT" sign-intermediate --vault r1 --csr int.csr --out int-renewed-early.pem \
    --days 2000 --yes --passphrase-file "$PASS" >/dev/null 2>&1 || fail "cannot sign a renewal of int 30 days ahead"
assert_eq "the early renewal has int's key" "$(der_field int-renewed-early.pem 7)" "$(der_field int.pem 7)"
cp int-renewed-early.pem renewal-early-only.pem
cat int-renewed-early.pem int.pem >renewal-early-and-int.pem
new_intermediate r1 nc "/O=Agree/CN=Agree Issuer NC" --days 1095 --permit-dns example.com --name-constraints critical
leaf_under nc
chain nc
new_intermediate r1 ncsoft "/O=Agree/CN=Agree Issuer NC soft" --days 1095 --permit-dns example.com \
    --name-constraints noncritical
leaf_under ncsoft
chain ncsoft

section "a rollover: R1 cross-signs R2 for 200 days; the issuer is under R2"
new_intermediate r2 int2 "/O=Agree/CN=Agree Issuer R2-1" --days 1095
leaf_under int2
expect_ok "cross-sign R2 by R1 for 200 days" "$ROOT" cross-sign --vault r1 --cert r2/root.pem --out cross.pem \
    --days 200 --yes --passphrase-file "$PASS"
cat int2-leaf.pem int2.pem cross.pem >int2-cross-chain.pem

# ossl_cert BASE SUBJECT DAYS SIGNER_CERT SIGNER_KEY EXT_LINE...: BASE.key/BASE.pem made by openssl, signed by
# SIGNER, with exactly the given extension lines (for a CA without the CA bit, a leaf under such a "CA").
ossl_cert() {
    local base=$1 subj=$2 days=$3 cert=$4 key=$5
    shift 5
    printf '%s\n' "$@" >"$base.ext"
    ec_key "$base.key"
    make_csr "$base.key" "$base.csr" "$subj"
    openssl x509 -req -in "$base.csr" -CA "$cert" -CAkey "$key" -CAcreateserial -days "$days" \
        -extfile "$base.ext" -out "$base.pem" 2>/dev/null || fail "openssl cannot make $base.pem"
    pass "openssl made $base.pem ($subj, $days days${*:+, $*})"
}

# ossl_ca BASE SUBJECT DAYS SIGNER_CERT SIGNER_KEY EXT_LINE...: BASE.key/BASE.pem, a CA certificate made by
# openssl (for what iotca-root refuses to make), with the given extension lines.
ossl_ca() {
    local base=$1 subj=$2 days=$3 cert=$4 key=$5
    shift 5
    ossl_cert "$base" "$subj" "$days" "$cert" "$key" "basicConstraints=critical,CA:TRUE" \
        "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" "$@"
}

section "a root that expires before its intermediate (made with openssl: iotca-root caps intermediates)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout old.key -subj "/CN=Agree Old Root" \
    -days 365 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out old.pem 2>/dev/null || fail "openssl cannot make the old root"
ossl_ca intold "/CN=Agree Issuer under Old Root" 1825 old.pem old.key
leaf_under intold
chain intold
cat old.pem r1/root.pem >old-and-r1.pem
cat intold-chain.pem old.pem >intold-and-root-chain.pem
cat int-chain.pem old.pem >int-and-stray-root-chain.pem # an unrelated (later expired) root sent along

section "a new root that expires before its cross-certificate from R1 (made with openssl)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout newroot.key \
    -subj "/CN=Agree New Root" -days 365 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out newroot.pem 2>/dev/null || fail "openssl cannot make the new root"
make_csr newroot.key newroot.csr "/CN=Agree New Root"
printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" \
    "authorityKeyIdentifier=keyid" >newcross.ext
openssl x509 -req -in newroot.csr -CA r1/root.pem -CAkey r1.key -CAcreateserial -days 1825 -extfile newcross.ext \
    -out newcross.pem 2>/dev/null || fail "openssl cannot cross-sign the new root"
assert_eq "the cross-certificate has the new root's subject DER" "$(der_field newcross.pem 6)" "$(der_field newroot.pem 6)"
ossl_ca intnew "/CN=Agree Issuer under New Root" 1825 newroot.pem newroot.key
leaf_under intnew
cat intnew-leaf.pem intnew.pem newcross.pem >intnew-cross-chain.pem
cat newroot.pem r1/root.pem >newroot-and-r1.pem

section "intermediates under R1 with critical extensions iotca-root does not emit (made with openssl)"
ossl_ca ekucrit "/CN=Agree Issuer critical EKU" 1095 r1/root.pem r1.key "extendedKeyUsage=critical,serverAuth"
ossl_ca polcons "/CN=Agree Issuer critical policyConstraints" 1095 r1/root.pem r1.key \
    "policyConstraints=critical,requireExplicitPolicy:0"
ossl_ca aiacrit "/CN=Agree Issuer critical AIA" 1095 r1/root.pem r1.key \
    "authorityInfoAccess=critical,caIssuers;URI:http://pki.example.com/r1.cer"
ossl_ca crldpcrit "/CN=Agree Issuer critical CRL DP" 1095 r1/root.pem r1.key \
    "crlDistributionPoints=critical,URI:http://pki.example.com/r1.crl"
ossl_ca polcrit "/CN=Agree Issuer critical policies" 1095 r1/root.pem r1.key \
    "certificatePolicies=critical,1.3.6.1.4.1.55555.1"
ossl_ca anypol "/CN=Agree Issuer critical anyPolicy" 1095 r1/root.pem r1.key "certificatePolicies=critical,2.5.29.32.0"
for b in ekucrit polcons aiacrit crldpcrit polcrit anypol; do
    leaf_under "$b"
    chain "$b"
done
cat int-chain.pem nc.pem >int-and-stray-nc-chain.pem # a CA the path does not need, with critical nameConstraints

section "what sets GnuTLS apart (made with openssl)"
# a cross-certificate of R2 by R1 that is not valid yet (made 30 days ahead, under faketime), sent after int2
openssl pkey -in r2/root.key -passin "file:$PASS" -out r2.key 2>/dev/null || fail "cannot read R2's key with openssl"
openssl x509 -x509toreq -in r2/root.pem -signkey r2.key -out r2.csr 2>/dev/null || fail "cannot make R2's request"
faketime "@$((NOW0 + 30 * 86400))" openssl x509 -req -in r2.csr -CA r1/root.pem -CAkey r1.key -CAcreateserial \
    -days 400 -extfile newcross.ext -out crossfut.pem 2>/dev/null || fail "openssl cannot make the future cross-sign"
assert_eq "the future cross-certificate has R2's subject DER" "$(der_field crossfut.pem 6)" "$(der_field r2/root.pem 6)"
assert_eq "the future cross-certificate has R2's key identifier" \
    "$(openssl x509 -in crossfut.pem -noout -ext subjectKeyIdentifier)" \
    "$(openssl x509 -in r2/root.pem -noout -ext subjectKeyIdentifier)"
cat int2-leaf.pem int2.pem crossfut.pem >int2-crossfut-chain.pem
# a root with a critical policyConstraints (GnuTLS checks its anchors' extensions too), and an issuer under it
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout pcroot.key \
    -subj "/CN=Agree Root critical policyConstraints" -days 3650 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -addext "policyConstraints=critical,requireExplicitPolicy:0" \
    -out pcroot.pem 2>/dev/null || fail "openssl cannot make the policyConstraints root"
ossl_ca intpcr "/CN=Agree Issuer under the policyConstraints root" 1095 pcroot.pem pcroot.key
leaf_under intpcr
chain intpcr
cat pcroot.pem r2/root.pem >pcroot-and-r2.pem
# a store pinning the issuer under the old root, and that root (which expires first)
cat intold.pem old.pem >intold-and-old.pem

# ---- issue 20: chains the models did not handle yet --------------------------------------------------------

# ossl_root BASE SUBJECT DAYS EXT_LINE...: a self-signed BASE.pem (BASE.key) with exactly the given extension
# lines (`openssl req -x509` would add its configuration's basicConstraints).
ossl_root() {
    local base=$1 subj=$2 days=$3
    shift 3
    printf '%s\n' "$@" >"$base.ext"
    ec_key "$base.key"
    make_csr "$base.key" "$base.csr" "$subj"
    openssl x509 -req -in "$base.csr" -signkey "$base.key" -days "$days" -extfile "$base.ext" \
        -out "$base.pem" 2>/dev/null || fail "openssl cannot make the root $base.pem"
    pass "openssl made the root $base.pem ($subj, $days days, $*)"
}
# ossl_leaf ISSUER_BASE DAYS: ISSUER_BASE-leaf.pem/.key and ISSUER_BASE-chain.pem, what leaf_under and chain make,
# made by openssl: iotca-test-leaf refuses an issuer without the CA bit or one iotca cannot parse.
ossl_leaf() {
    ossl_cert "$1-leaf" "/CN=device1.example.com" "$2" "$1.pem" "$1.key" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" "subjectAltName=DNS:device1.example.com" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid"
    chain "$1"
}

section "issue 20: intermediates without the CA bit, pathLen, self-issued CAs (made with openssl)"
# an intermediate under R1 with no basicConstraints at all, and one with CA:FALSE (keyUsage keyCertSign kept)
ossl_cert bcnone "/O=Agree/CN=Agree Issuer without basicConstraints" 1095 r1/root.pem r1.key \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid"
ossl_leaf bcnone 1095
ossl_cert cafalse "/O=Agree/CN=Agree Issuer CA:FALSE" 1095 r1/root.pem r1.key "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid"
ossl_leaf cafalse 1095
# R1 -> pl0 (iotca-root: pathlen:0) -> pl0b (CA, no pathLen) -> leaf: one CA too many under pl0
new_intermediate r1 pl0 "/O=Agree/CN=Agree Issuer pathlen 0" --days 1095
assert_grep "iotca-root writes pathlen:0 into an intermediate" 'CA:TRUE, pathlen:0' <(openssl x509 -in pl0.pem -noout -text)
ossl_ca pl0b "/O=Agree/CN=Agree Sub-issuer under pathlen 0" 1000 pl0.pem pl0.key
leaf_under pl0b
cat pl0b-leaf.pem pl0b.pem pl0.pem >pl0-too-long-chain.pem
# R1 -> pl1 (pathlen:1) -> pl1b (pathlen:0) -> leaf: within every pathLen
ossl_cert pl1 "/O=Agree/CN=Agree Issuer pathlen 1" 1095 r1/root.pem r1.key "basicConstraints=critical,CA:TRUE,pathlen:1" \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid"
ossl_cert pl1b "/O=Agree/CN=Agree Sub-issuer pathlen 0" 1000 pl1.pem pl1.key "basicConstraints=critical,CA:TRUE,pathlen:0" \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid"
leaf_under pl1b
cat pl1b-leaf.pem pl1b.pem pl1.pem >pl1-ok-chain.pem
# a root with pathlen:0 -> rpa -> rpb -> leaf (and rpa -> leaf): the anchor's own pathLen is exceeded
ossl_root rp0 "/CN=Agree Root pathlen 0" 3650 "basicConstraints=critical,CA:TRUE,pathlen:0" \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash"
ossl_ca rpa "/O=Agree/CN=Agree Issuer under the pathlen 0 root" 1095 rp0.pem rp0.key
ossl_ca rpb "/O=Agree/CN=Agree Sub-issuer under the pathlen 0 root" 1000 rpa.pem rpa.key
leaf_under rpa
chain rpa
leaf_under rpb
cat rpb-leaf.pem rpb.pem rpa.pem >rpb-chain.pem
cat rp0.pem r2/root.pem >rp0-and-r2.pem
# R1 -> pl0 -> si (self-issued: pl0's very name, another key, signed by pl0's key, CA:TRUE) -> leaf. RFC 5280
# 6.1.4 (l): a self-issued certificate does not count against pathLen, so pl0's pathlen:0 allows it.
ec_key si.key
openssl x509 -x509toreq -in pl0.pem -signkey si.key -out si.csr 2>/dev/null || fail "cannot make si's request"
openssl x509 -req -in si.csr -CA pl0.pem -CAkey pl0.key -CAcreateserial -days 1000 -extfile pl0b.ext \
    -out si.pem 2>/dev/null || fail "openssl cannot make the self-issued si.pem"
assert_eq "si has pl0's subject DER (self-issued)" "$(der_field si.pem 6)" "$(der_field pl0.pem 6)"
assert_eq "si's issuer is its own subject" "$(der_field si.pem 4)" "$(der_field si.pem 6)"
assert_ne "si has another key than pl0" "$(der_field si.pem 7)" "$(der_field pl0.pem 7)"
leaf_under si
cat si-leaf.pem si.pem pl0.pem >self-issued-chain.pem
# roots without the CA bit: no basicConstraints at all (v3, keyUsage keyCertSign), and CA:FALSE
ossl_root nobcroot "/CN=Agree Root without basicConstraints" 3650 "keyUsage=critical,keyCertSign,cRLSign" \
    "subjectKeyIdentifier=hash"
ossl_ca intnobcr "/O=Agree/CN=Agree Issuer under the root without basicConstraints" 1095 nobcroot.pem nobcroot.key
leaf_under intnobcr
chain intnobcr
ossl_root cafroot "/CN=Agree Root CA:FALSE" 3650 "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash"
ossl_ca intcafr "/O=Agree/CN=Agree Issuer under the CA:FALSE root" 1095 cafroot.pem cafroot.key
leaf_under intcafr
chain intcafr
cat nobcroot.pem r2/root.pem >nobcroot-and-r2.pem
cat cafroot.pem r2/root.pem >cafroot-and-r2.pem

section "issue 20: the leaf decides (these leaves do not outlive their issuer on purpose)"
new_leaf int leafexp "/CN=device1.example.com" --dns device1.example.com --eku server --days 10
cat leafexp.pem int.pem >leafexp-chain.pem
# a leaf signed 30 days ahead (under faketime): not valid yet today
ec_key leafnyv.key
make_csr leafnyv.key leafnyv.csr "/CN=device1.example.com"
expect_ok "issue a leaf 30 days ahead (faketime)" faketime "@$((NOW0 + 30 * 86400))" "$LEAF" --issuer-cert int.pem \
    --issuer-key int.key --csr leafnyv.csr --out leafnyv.pem --dns device1.example.com --eku server --days 36500
cat leafnyv.pem int.pem >leafnyv-chain.pem

section "issue 20: path building over the store and the served set"
cat int.pem r1/root.pem >int-and-r1.pem
cat int-leaf.pem r1/root.pem >leaf-and-root-chain.pem     # the intermediate only in the store
cat int-leaf.pem r1/root.pem int.pem >root-int-swapped-chain.pem # root and intermediate swapped
cat int2-leaf.pem cross.pem int2.pem >int2-cross-first-chain.pem   # the cross-certificate before int2
cat int2-leaf.pem int2.pem cross.pem r2/root.pem >int2-cross-r2-chain.pem # and R2 itself sent after it
cat r2/root.pem r1/root.pem >roots-r2-first.pem

section "issue 20: an unknown critical extension (a private OID), made with openssl"
ossl_ca unkcrit "/O=Agree/CN=Agree Issuer unknown critical extension" 1095 r1/root.pem r1.key \
    "1.3.6.1.4.1.55555.99=critical,ASN1:NULL"
ossl_leaf unkcrit 1095
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout unkroot.key \
    -subj "/CN=Agree Root unknown critical extension" -days 3650 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -addext "1.3.6.1.4.1.55555.99=critical,ASN1:NULL" \
    -out unkroot.pem 2>/dev/null || fail "openssl cannot make the root with an unknown critical extension"
cat r1/root.pem r2/root.pem unkroot.pem >roots-and-unknown-crit.pem
cat int-chain.pem unkcrit.pem >int-and-stray-unknown-crit-chain.pem

section "issue 20: critical key identifiers and a CA without keyCertSign (wolfSSL refuses to parse the first two)"
ossl_cert skicrit "/O=Agree/CN=Agree Issuer critical SKI" 1095 r1/root.pem r1.key "basicConstraints=critical,CA:TRUE" \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=critical,hash" "authorityKeyIdentifier=keyid"
ossl_leaf skicrit 1095
ossl_cert akicrit "/O=Agree/CN=Agree Issuer critical AKI" 1095 r1/root.pem r1.key "basicConstraints=critical,CA:TRUE" \
    "keyUsage=critical,keyCertSign,cRLSign" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=critical,keyid"
ossl_leaf akicrit 1095
ossl_cert kunosign "/O=Agree/CN=Agree Issuer without keyCertSign" 1095 r1/root.pem r1.key \
    "basicConstraints=critical,CA:TRUE" "keyUsage=critical,digitalSignature,cRLSign" "subjectKeyIdentifier=hash" \
    "authorityKeyIdentifier=keyid"
ossl_leaf kunosign 1095
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout skiroot.key \
    -subj "/CN=Agree Root critical SKI" -days 3650 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -addext "subjectKeyIdentifier=critical,hash" \
    -out skiroot.pem 2>/dev/null || fail "openssl cannot make the root with a critical SKI"
assert_grep "the root's subjectKeyIdentifier is critical" 'Subject Key Identifier: critical' <(openssl x509 -in skiroot.pem -noout -text)
cat r1/root.pem r2/root.pem skiroot.pem >roots-and-ski-crit.pem

section "issue 20: long chains R1 -> L1 -> ... -> Lk -> leaf (openssl CAs without pathLen)"
prev=r1/root.pem prevkey=r1.key
for k in $(seq 1 16); do
    ossl_ca "long$k" "/O=Agree/CN=Agree Long Issuer $k" $((1095 - k)) "$prev" "$prevkey"
    prev=long$k.pem prevkey=long$k.key
    if ((k >= 7 && k <= 10 || k >= 15)); then
        leaf_under "long$k"
        cp "long$k-leaf.pem" "long$k-chain.pem"
        for ((j = k; j >= 1; j--)); do cat "long$j.pem" >>"long$k-chain.pem"; done
    fi
done

# ---- the table -------------------------------------------------------------------
# row: name store chain leaf-key day | expected verdict for openssl openssl102 mbedtls wolfssl bearssl gnutls
# The expectations are what the real libraries did (and, for openssl102, what OpenSSL 1.0.2's X509_verify_cert
# does: untrusted chain first, alternative chains from 1.0.2b, every certificate dated, the root first):
#   *-expired, root-expired  validity of the intermediate, the root (anchors: BearSSL and wolfSSL never date them)
#   store-pins-int, wrong-root, impostor-root-only  which store certificates anchor
#   nc-*, *-critical, stray-nc-critical  critical extensions, per library; mbedTLS parses every presented one
#   cross-*, new-root-expired  a rollover through a cross-certificate, before and after either end expires
#   same-dn-*, dn-match-then-cross  two anchors with one DN (BearSSL tries each, then goes on up the chain)
#   sends-*, stray-expired-root  a server that also sends a root, or a certificate the path does not need
#   cross-not-yet-valid  GnuTLS follows the served chain by names: a cross-certificate not valid yet ends it,
#                        although the store holds the issuer's own root (an expired one would be retried)
#   root-polconstr-crit  a root with a critical extension: GnuTLS, like OpenSSL and mbedTLS, checks its anchors
#   pinned-int-exp-root  the store pins the issuer and its expired root: GnuTLS tries the root, then, the signer
#                        having expired, the stored certificate with the issuer's own name and key
#   store-pins-renewal, renewal-stale-served, renewal-expired  the store holds a renewal of the issuing CA (same
#                        name and key): mbedTLS, BearSSL, wolfSSL and GnuTLS anchor the leaf there whatever the served
#                        copy's dates; an expired renewal fails where anchors are dated (mbedTLS, GnuTLS)
#   renewal-early-*      a stored renewal not valid yet: mbedTLS takes a stored CA out of date only when none with the
#                        name and key is in date (x509_crt_find_parent_in's fallback), so int beside it still anchors
#   renewal-sent-*       the server sends int, expired, and its renewal: OpenSSL 3 and mbedTLS take the first presented
#                        issuer in date (find_issuer; x509_crt_find_parent_in), whatever the order; OpenSSL 1.0.2 and
#                        BearSSL take the first (in order), wolfSSL and GnuTLS judge the expired one all the same
# Issue 20 (the libraries' own messages are in the survey report on branch survey20):
#   bc-none-int, ca-false-int  an intermediate with no basicConstraints / CA:FALSE (keyUsage keyCertSign): every real
#                        library refuses both. OpenSSL 1.0.2 tolerates the missing extension: check_chain_extensions
#                        takes X509_check_ca's 4 ("keyUsage keyCertSign, no basicConstraints") unless
#                        X509_V_FLAG_X509_STRICT; OpenSSL 3 makes STRICT implicit for intermediates.
#   pinned-*             the store pins such an intermediate: refused everywhere (a stored "CA" needs the CA bit too)
#   pathlen*, root-pathlen0*  pathLen of an intermediate / of the anchor itself: wolfSSL and BearSSL (anchors carry no
#                        pathLen) and OpenSSL 1.0.2 (check_chain_extensions loops over the untrusted certificates
#                        only, i < last_untrusted) do not enforce the anchor's; OpenSSL 3, mbedTLS, GnuTLS do
#   self-issued-pathlen0 R1 -> pl0 (pathlen:0) -> si (pl0's name, another key) -> leaf, RFC 5280 6.1.4 (l): si does not
#                        count. OpenSSL (EXFLAG_SI, also 1.0.2) and wolfSSL agree; mbedTLS counts it (self_cnt grows
#                        only after si's parent is found), BearSSL and GnuTLS count every CA
#   anchor-no-bc, anchor-ca-false  a v3 root without basicConstraints / with CA:FALSE: OpenSSL 3 takes X509_check_ca's 4
#                        for the anchor but not 0; mbedTLS needs the CA bit on a v3 anchor; BearSSL anchors only CAs;
#                        wolfSSL takes both; OpenSSL 1.0.2 never checks the anchor (check_chain_extensions stops at
#                        last_untrusted; read in 1.0.2s's x509_vfy.c, not run: Debian 12 has no 1.0.2)
#   leaf-*               a leaf expired, at exactly its notAfter (OpenSSL, also 1.0.2's X509_cmp_time, call it expired;
#                        the others accept that second), one second after, not valid yet
#   int-in-store-root-sent, root-int-swapped  the intermediate only in the store; root and intermediate sent swapped
#                        (BearSSL takes the chain in order: DN mismatch)
#   cross-first-*        the cross-certificate sent before int2: mbedTLS, wolfSSL and BearSSL need each issuer after
#                        its child; OpenSSL 1.0.2 (untrusted first) still builds through the expired cross when R1 is
#                        stored, and falls back to R2 only when R1 is not (alternative chains)
#   cross-exp-r2-*       R2 before R1 in the store; R2 itself sent after the expired cross. OpenSSL 1.0.2's find_issuer
#                        returns the first presented issuer, in date or not (crypto/x509/x509_vfy.c of 1.0.2s, read; the
#                        preference for one in date came with 1.1.0), so the expired cross is taken, R1 anchors it
#                        from the store and internal_verify fails on the cross (as in renewal-sent-after)
#   long-chain-N         R1 -> L1 -> ... -> LN -> leaf: mbedTLS stops at 8 intermediates (MBEDTLS_X509_MAX_INTERMEDIATE_CA),
#                        wolfSSL keeps at most 9 presented certificates (MAX_CHAIN_DEPTH); OpenSSL's default depth is
#                        100; BearSSL and certtool (gnutls_x509_trust_list_verify_crt2) have no limit up to 42
#                        certificates, but a GnuTLS TLS client refuses more than 16 presented ones (verify_depth)
#   ski-critical, aki-critical, store-ski-critical  a critical key identifier (RFC 5280 §4.2.1.1-2: MUST NOT be): OpenSSL,
#                        mbedTLS 2.28 and wolfSSL refuse it on the path, BearSSL and GnuTLS process it; a stored root
#                        with one is skipped by wolfSSL's loader and harms no one
#   ca-no-certsign       a CA:TRUE intermediate whose keyUsage lacks keyCertSign: refused everywhere
#   *-unknown-crit       a private critical extension (1.3.6.1.4.1.55555.99) in an unrelated stored root, a served
#                        intermediate on the path, a served certificate off the path: mbedTLS cannot parse such a
#                        certificate anywhere; wolfSSL refuses one presented, even off the path, not one stored
TABLE=$(
    cat <<'EOF'
good-now             roots.pem                   int-chain.pem         int-leaf.key     1     ok   ok   ok   ok   ok   ok
good-in-2-years      roots.pem                   int-chain.pem         int-leaf.key     730   ok   ok   ok   ok   ok   ok
intermediate-expired roots.pem                   int-chain.pem         int-leaf.key     1200  fail fail fail fail fail fail
root-expired         old-and-r1.pem              intold-chain.pem      intold-leaf.key  500   fail fail fail ok   ok   fail
store-pins-int       int.pem                     int-chain.pem         int-leaf.key     1     fail fail ok   ok   ok   ok
wrong-root           wrong-roots.pem             int-chain.pem         int-leaf.key     1     fail fail fail fail fail fail
nc-critical          roots.pem                   nc-chain.pem          nc-leaf.key      1     ok   ok   fail ok   fail ok
nc-noncritical       roots.pem                   ncsoft-chain.pem      ncsoft-leaf.key  1     ok   ok   ok   ok   ok   ok
eku-critical         roots.pem                   ekucrit-chain.pem     ekucrit-leaf.key 1     ok   ok   ok   ok   fail ok
policyconstr-crit    roots.pem                   polcons-chain.pem     polcons-leaf.key 1     ok   ok   fail ok   fail fail
aia-critical         roots.pem                   aiacrit-chain.pem     aiacrit-leaf.key 1     fail fail fail ok   ok   ok
crldp-critical       roots.pem                   crldpcrit-chain.pem   crldpcrit-leaf.key 1   ok   fail fail ok   ok   ok
policies-critical    roots.pem                   polcrit-chain.pem     polcrit-leaf.key 1     ok   ok   fail ok   ok   ok
anypolicy-critical   roots.pem                   anypol-chain.pem      anypol-leaf.key  1     ok   ok   ok   ok   ok   ok
cross-old-root       r1-only.pem                 int2-cross-chain.pem  int2-leaf.key    1     ok   ok   ok   ok   ok   ok
cross-expired-new    roots.pem                   int2-cross-chain.pem  int2-leaf.key    400   ok   fail ok   fail ok   ok
cross-expired-old    r1-only.pem                 int2-cross-chain.pem  int2-leaf.key    400   fail fail fail fail fail fail
same-dn-impostor-1st same-dn-impostor-first.pem  int-chain.pem         int-leaf.key     1     ok   ok   ok   ok   ok   ok
same-dn-right-1st    same-dn-right-first.pem     int-chain.pem         int-leaf.key     1     ok   ok   ok   ok   ok   ok
impostor-root-only   impostor-only.pem           int-chain.pem         int-leaf.key     1     fail fail fail fail fail fail
dn-match-then-cross  r2-impostor-and-r1.pem      int2-cross-chain.pem  int2-leaf.key    1     ok   ok   ok   ok   ok   ok
cross-new-root-only  r2-only.pem                 int2-cross-chain.pem  int2-leaf.key    1     ok   ok   ok   ok   ok   ok
cross-exp-new-only   r2-only.pem                 int2-cross-chain.pem  int2-leaf.key    400   ok   ok   ok   ok   ok   ok
sends-root           roots.pem                   int-and-root-chain.pem int-leaf.key    1     ok   ok   ok   ok   ok   ok
sends-untrusted-root wrong-roots.pem             int-and-root-chain.pem int-leaf.key    1     fail fail fail fail fail fail
sends-expired-root   old-and-r1.pem              intold-and-root-chain.pem intold-leaf.key 500 fail fail fail fail ok fail
stray-expired-root   roots.pem                   int-and-stray-root-chain.pem int-leaf.key 500 ok ok ok   ok   ok   ok
stray-nc-critical    roots.pem                   int-and-stray-nc-chain.pem int-leaf.key 1  ok   ok   fail ok   ok   ok
new-root-expired     newroot-and-r1.pem          intnew-cross-chain.pem intnew-leaf.key 500 fail ok  fail ok   ok   ok
cross-not-yet-valid  roots.pem                   int2-crossfut-chain.pem int2-leaf.key  1     ok   fail ok   fail ok   fail
root-polconstr-crit  pcroot-and-r2.pem           intpcr-chain.pem      intpcr-leaf.key  1     ok   ok   fail ok   ok   fail
pinned-int-exp-root  intold-and-old.pem          intold-chain.pem      intold-leaf.key  500   fail fail ok   ok   ok   ok
store-pins-renewal   int-renewed.pem             int-chain.pem         int-leaf.key     1     fail fail ok   ok   ok   ok
renewal-stale-served int-renewed.pem             int-stale-chain.pem   intr-leaf.key    1200  fail fail ok   ok   ok   ok
renewal-expired      int-renewed-short.pem       int-chain.pem         int-leaf.key     100   fail fail fail ok   ok   fail
renewal-early-only   renewal-early-only.pem      int-chain.pem         int-leaf.key     1     fail fail fail ok   ok   fail
renewal-early-int    renewal-early-and-int.pem   int-chain.pem         int-leaf.key     1     fail fail ok   ok   ok   fail
renewal-sent-after   roots.pem                   int-then-renewal-chain.pem intr-leaf.key 1200 ok  fail ok   fail fail fail
renewal-sent-first   roots.pem                   renewal-then-int-chain.pem intr-leaf.key 1200 ok  ok   ok   fail ok   ok
not-after-exact      roots.pem                   int-chain.pem         int-leaf.key     na:int.pem   fail fail ok   ok   ok   ok
not-after-half       roots.pem                   int-chain.pem         int-leaf.key     na+.5:int.pem fail fail ok  ok   ok   ok
not-after-plus-1     roots.pem                   int-chain.pem         int-leaf.key     na+1:int.pem fail fail fail fail fail fail
bc-none-int          roots.pem                   bcnone-chain.pem      bcnone-leaf.key  1     fail ok   fail fail fail fail
ca-false-int         roots.pem                   cafalse-chain.pem     cafalse-leaf.key 1     fail fail fail fail fail fail
pinned-bc-none       bcnone.pem                  bcnone-chain.pem      bcnone-leaf.key  1     fail fail fail fail fail fail
pinned-ca-false      cafalse.pem                 cafalse-chain.pem     cafalse-leaf.key 1     fail fail fail fail fail fail
pathlen0-too-long    roots.pem                   pl0-too-long-chain.pem pl0b-leaf.key   1     fail fail fail fail fail fail
pathlen1-ok          roots.pem                   pl1-ok-chain.pem      pl1b-leaf.key    1     ok   ok   ok   ok   ok   ok
root-pathlen0        rp0-and-r2.pem              rpb-chain.pem         rpb-leaf.key     1     fail ok   fail ok   ok   fail
root-pathlen0-1int   rp0-and-r2.pem              rpa-chain.pem         rpa-leaf.key     1     fail ok   fail ok   ok   fail
self-issued-pathlen0 roots.pem                   self-issued-chain.pem si-leaf.key      1     ok   ok   fail ok   fail fail
anchor-no-bc         nobcroot-and-r2.pem         intnobcr-chain.pem    intnobcr-leaf.key 1    ok   ok   fail ok   fail ok
anchor-ca-false      cafroot-and-r2.pem          intcafr-chain.pem     intcafr-leaf.key 1     fail ok   fail ok   fail fail
leaf-expired         roots.pem                   leafexp-chain.pem     leafexp.key      20    fail fail fail fail fail fail
leaf-not-after-exact roots.pem                   leafexp-chain.pem     leafexp.key      na:leafexp.pem   fail fail ok ok ok ok
leaf-not-after-half  roots.pem                   leafexp-chain.pem     leafexp.key      na+.5:leafexp.pem fail fail ok ok ok ok
leaf-not-after-plus-1 roots.pem                  leafexp-chain.pem     leafexp.key      na+1:leafexp.pem fail fail fail fail fail fail
leaf-not-yet-valid   roots.pem                   leafnyv-chain.pem     leafnyv.key      1     fail fail fail fail fail fail
int-in-store-root-sent int-and-r1.pem            leaf-and-root-chain.pem int-leaf.key   1     ok   ok   ok   ok   ok   ok
root-int-swapped     roots.pem                   root-int-swapped-chain.pem int-leaf.key 1    ok   ok   ok   ok   fail ok
cross-first-old-root r1-only.pem                 int2-cross-first-chain.pem int2-leaf.key 1   ok   ok   fail fail fail ok
cross-first-expired  roots.pem                   int2-cross-first-chain.pem int2-leaf.key 400 ok   fail ok   fail fail ok
cross-first-new-only r2-only.pem                 int2-cross-first-chain.pem int2-leaf.key 400 ok   ok   ok   ok   fail ok
cross-exp-r2-1st-store roots-r2-first.pem        int2-cross-chain.pem  int2-leaf.key    400   ok   fail ok   fail ok   ok
cross-exp-r2-sent    roots.pem                   int2-cross-r2-chain.pem int2-leaf.key  400   ok   fail ok   fail ok   ok
long-chain-7         roots.pem                   long7-chain.pem       long7-leaf.key   1     ok   ok   ok   ok   ok   ok
long-chain-8         roots.pem                   long8-chain.pem       long8-leaf.key   1     ok   ok   ok   ok   ok   ok
long-chain-9         roots.pem                   long9-chain.pem       long9-leaf.key   1     ok   ok   fail fail ok   ok
long-chain-10        roots.pem                   long10-chain.pem      long10-leaf.key  1     ok   ok   fail fail ok   ok
store-unknown-crit   roots-and-unknown-crit.pem  int-chain.pem         int-leaf.key     1     ok   ok   ok   ok   ok   ok
served-unknown-crit  roots.pem                   unkcrit-chain.pem     unkcrit-leaf.key 1     fail fail fail fail fail fail
stray-unknown-crit   roots.pem                   int-and-stray-unknown-crit-chain.pem int-leaf.key 1 ok ok fail fail ok ok
ski-critical         roots.pem                   skicrit-chain.pem     skicrit-leaf.key 1     fail fail fail fail ok   ok
aki-critical         roots.pem                   akicrit-chain.pem     akicrit-leaf.key 1     fail fail fail fail ok   ok
store-ski-critical   roots-and-ski-crit.pem      int-chain.pem         int-leaf.key     1     ok   ok   ok   ok   ok   ok
ca-no-certsign       roots.pem                   kunosign-chain.pem    kunosign-leaf.key 1    fail fail fail fail fail fail
EOF
)

# ---- the two sides -------------------------------------------------------------------

# model STACK STORE CHAIN AT: the model's verdict at AT (epoch) in $V, its reason in $WHY.
model() {
    local st=$1 store=$2 chain=$3 at=$4 until
    until=$(date -u -d "@$((at + 2 * 86400))" +%Y-%m-%d)
    run "${FT[@]}" "$CLI" --json fleet check --trust-store "$store" --until "$until" --stack "$st" --chain "$chain"
    [[ $RC -eq 0 || $RC -eq 5 ]] || fail "iotca fleet check ($st) exited $RC"
    local first
    first=$(jq -r '.points[0].at | fromdateiso8601' "$OUT") || fail "iotca fleet check ($st) printed no JSON (or no RFC 3339 date)"
    # the first point is the faked "now": the row's date, give or take the seconds the run took
    ((first >= at && first < at + 600)) || fail "iotca fleet check ($st): first point at $first, expected $at"
    V=$(jq -r 'if .points[0].ok then "ok" else "fail" end' "$OUT")
    WHY=$(jq -r '.points[0].reason' "$OUT")
}

# real STACK STORE CHAIN KEY AT: the real library's verdict at AT in $V ("-" if Debian has none), reason in $WHY.
real() {
    local st=$1 store=$2 chain=$3 key=$4 at=$5
    V=fail
    case $st in
    openssl)
        awk '!f; /END CERTIFICATE/ {f=1}' "$chain" >"$T/.leaf.pem"     # the leaf
        awk 'f; /END CERTIFICATE/ && !f {f=1}' "$chain" >"$T/.cas.pem" # the certificates after it
        run "${FT[@]}" openssl verify -no-CApath -no-CAstore -CAfile "$store" -untrusted "$T/.cas.pem" "$T/.leaf.pem"
        [[ $RC -eq 0 ]] && grep -qE ': OK$' "$OUT" && V=ok
        WHY=$(grep -hE '^error|OK$' "$OUT" "$ERR" | head -n 1)
        WHY=${WHY//$T\//}
        ;;
    mbedtls)
        run "${FT[@]}" "$MBED" "$store" "$chain"
        [[ $RC -le 1 || $RC -eq 3 ]] || fail "mbedtls-verify: usage or I/O error ($RC)"
        [[ $RC -eq 0 ]] && V=ok
        WHY=$(head -n 1 "$OUT")
        ;;
    wolfssl)
        run "${FT[@]}" "$WSSL" "$store" "$chain" "$key"
        [[ $RC -le 1 ]] || fail "stack-verify-wolfssl: set-up error ($RC)"
        [[ $RC -eq 0 ]] && V=ok
        WHY=$(head -n 1 "$OUT")
        ;;
    bearssl)
        run "$BSSL" "$store" "$chain" "$at"
        [[ $RC -le 1 ]] || fail "stack-verify-bearssl: usage or I/O error ($RC)"
        [[ $RC -eq 0 ]] && V=ok
        WHY=$(head -n 1 "$OUT")
        ;;
    gnutls)
        run "${FT[@]}" certtool --verify --load-ca-certificate "$store" --infile "$chain"
        WHY=$(grep -h '^Chain verification output:' "$OUT" "$ERR" | head -n 1 || true)
        [[ -n $WHY ]] || fail "certtool printed no chain verdict"
        [[ $WHY == *": Verified."* ]] && V=ok
        WHY=${WHY#Chain verification output: }
        ;;
    *) V=- WHY="no such library in Debian 12" ;;
    esac
}

has_real() { [[ $1 != openssl102 ]]; }

# ---- run it ------------------------------------------------------------------------

section "every row, every stack: expected / model / real"
declare -A CELL
ROWS=()
DETAILS=$T/.details
: >"$DETAILS"
while read -r name store chainf key day e_ossl e_102 e_mbed e_wolf e_bear e_gnu; do
    [[ -n $name ]] || continue
    ROWS+=("$name")
    # DAY: days from now (the clock runs from there), or na:FILE / na+.5:FILE / na+1:FILE, exactly FILE's notAfter,
    # half a second past it (a fraction of the notAfter second) or the
    # second after it, with the clock frozen there so every side judges that very second
    case $day in
    na:* | na+1:* | na+.5:*)
        at=$(date -u -d "$(openssl x509 -in "${day#*:}" -noout -enddate | cut -d= -f2)" +%s)
        [[ $day == na+1:* ]] && at=$((at + 1))
        frac="" # na+.5: half a second past notAfter (the libraries read whole seconds: time())
        [[ $day == na+.5:* ]] && frac=.5
        FT=(faketime -f "$(date -u -d "@$at" '+%Y-%m-%d %H:%M:%S')$frac")
        ;;
    *)
        at=$((NOW0 + day * 86400 + 3600))
        FT=(faketime "@$at")
        ;;
    esac
    expected=("$e_ossl" "$e_102" "$e_mbed" "$e_wolf" "$e_bear" "$e_gnu")
    for want in "${expected[@]}"; do
        [[ $want == ok || $want == fail ]] || fail "row $name: expectations are ok or fail, not '$want'"
    done
    [[ -s $store && -s $chainf && -s $key ]] || fail "row $name: a fixture is missing"
    for i in "${!STACKS[@]}"; do
        st=${STACKS[$i]} want=${expected[$i]} rv=-
        model "$st" "$store" "$chainf" "$at"
        mv=$V
        printf '%-20s %-10s model %-4s %s\n' "$name" "$st" "$mv" "$WHY" >>"$DETAILS"
        if has_real "$st"; then
            real "$st" "$store" "$chainf" "$key" "$at"
            rv=$V
            printf '%-20s %-10s real  %-4s %s\n' "$name" "$st" "$rv" "$WHY" >>"$DETAILS"
        fi
        CELL[$name,$st]="$mv/$rv"
        if [[ $mv != "$want" ]] || [[ $rv != - && $rv != "$want" ]] || [[ $rv != - && $mv != "$rv" ]]; then
            CELL[$name,$st]="$mv/$rv!"
            FAILED="${FAILED:-}$name/$st (expected $want, model $mv, real $rv); "
        fi
    done
    line="$name (+$day days): $(for st in "${STACKS[@]}"; do printf '%s=%s ' "$st" "${CELL[$name,$st]}"; done)"
    if [[ $line == *'!'* ]]; then
        printf 'DIFF  %s\n' "$line" # reported with the table below, then the test fails
    else
        pass "$line"
    fi
done <<<"$TABLE"

section "the table (model/real; - where Debian has no such library; ! marks a cell that disagrees or is unexpected)"
printf '%-21s' "row"
for st in "${STACKS[@]}"; do printf ' %-11s' "$st"; done
printf '\n'
for name in "${ROWS[@]}"; do
    printf '%-21s' "$name"
    for st in "${STACKS[@]}"; do printf ' %-11s' "${CELL[$name,$st]}"; done
    printf '\n'
done
if [[ -z ${FAILED:-} ]]; then
    printf '\nwhy each refusal (model and real):\n'
    awk '$4 == "fail"' "$DETAILS" | sed 's/^/  /'
else
    printf '\nwhy (model and real, every cell):\n'
    sed 's/^/  /' "$DETAILS"
fi

LAST_CMD="" # the table says it all
[[ -z ${FAILED:-} ]] || fail "disagreement or unexpected verdict: $FAILED"
pass "all ${#ROWS[@]} rows: every model and every real library give the expected verdict, and agree"

section "the longest chain a GnuTLS TLS client takes: gnutls-cli against openssl s_server (certtool has no limit)"
need gnutls-cli
# gnutls_tls K: what gnutls-cli says of a server sending longK's leaf and its K CAs (K + 1 certificates), in $V
gnutls_tls() {
    local k=$1 port sp
    awk 'f; /END CERTIFICATE/ && !f {f=1}' "long$k-chain.pem" >"long$k-cas.pem"
    for _ in $(seq 1 50); do # a free port below the ephemeral range client sockets use
        port=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    openssl s_server -quiet -accept "127.0.0.1:$port" -cert "long$k-leaf.pem" -key "long$k-leaf.key" \
        -cert_chain "long$k-cas.pem" -www >/dev/null 2>&1 &
    sp=$!
    for _ in $(seq 1 50); do (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    run timeout 20 gnutls-cli --x509cafile roots.pem --verify-hostname device1.example.com -p "$port" 127.0.0.1 </dev/null
    kill "$sp" 2>/dev/null || true
    wait "$sp" 2>/dev/null || true
    V=fail
    if grep -q "Handshake was completed" "$OUT"; then V=ok; fi
    WHY=$(grep -o "Some constraint limits were reached" "$OUT" | head -n 1 || true)
}
for k in 15 16; do
    gnutls_tls "$k"
    real_v=$V real_why=$WHY
    [[ $real_v == ok || -n $real_why ]] || fail "gnutls-cli refused $((k + 1)) certificates for another reason than their number"
    FT=(faketime "@$((NOW0 + 3600))")
    model gnutls roots.pem "long$k-chain.pem" "$((NOW0 + 3600))"
    want=ok
    ((k + 1 > 16)) && want=fail
    [[ $real_v == "$want" && $V == "$want" ]] ||
        fail "$((k + 1)) certificates sent: gnutls-cli $real_v, model $V ($WHY), expected $want"
    pass "$((k + 1)) certificates sent: gnutls-cli and the gnutls model both say $want${real_why:+ (gnutls-cli: $real_why; model: $WHY)}"
done
finish
