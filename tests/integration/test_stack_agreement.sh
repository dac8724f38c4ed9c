#!/usr/bin/env bash
# Fleet check (SPEC §7, issue 5): every stack model of lib/fleet/check.c agrees with the real library Debian ships,
# on a table of good and bad chains at future dates.
#
# Each row names a trust store, a served chain (leaf first, then the CA certificates the server sends) and a
# date (days from now, or na:FILE / na+1:FILE: exactly a certificate's notAfter, or the second after, with the
# clock frozen there). For every stack the row writes down the expected verdict, and the test asserts both:
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
# never decides a row by itself.
#
# Certificates iotca-root refuses to make (a root that expires before its intermediate, an intermediate with a
# critical extension it does not emit) are made with openssl, as in test_fleet_check.sh. A critical extension no
# stack knows at all (a private OID) cannot be tested: wolfSSL, and so iotca's own parser, refuses to parse it.
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

# ossl_ca BASE SUBJECT DAYS SIGNER_CERT SIGNER_KEY EXT_LINE...: BASE.key/BASE.pem, a CA certificate made by
# openssl (for what iotca-root refuses to make), with the given extension lines.
ossl_ca() {
    local base=$1 subj=$2 days=$3 cert=$4 key=$5
    shift 5
    printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" "$@" >"$base.ext"
    ec_key "$base.key"
    make_csr "$base.key" "$base.csr" "$subj"
    openssl x509 -req -in "$base.csr" -CA "$cert" -CAkey "$key" -CAcreateserial -days "$days" \
        -extfile "$base.ext" -out "$base.pem" 2>/dev/null || fail "openssl cannot make $base.pem"
    pass "openssl made $base.pem ($subj, $days days${*:+, $*})"
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
not-after-plus-1     roots.pem                   int-chain.pem         int-leaf.key     na+1:int.pem fail fail fail fail fail fail
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
    # DAY: days from now (the clock runs from there), or na:FILE / na+1:FILE, exactly FILE's notAfter or the
    # second after it, with the clock frozen there so every side judges that very second
    case $day in
    na:* | na+1:*)
        at=$(date -u -d "$(openssl x509 -in "${day#*:}" -noout -enddate | cut -d= -f2)" +%s)
        [[ $day == na+1:* ]] && at=$((at + 1))
        FT=(faketime -f "$(date -u -d "@$at" '+%Y-%m-%d %H:%M:%S')")
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
finish
