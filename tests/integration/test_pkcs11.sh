#!/usr/bin/env bash
# Every CA key on a PKCS#11 token (issue 26): the roots made by iotca-root on tokens of their own, and iotcad
# with keys.store "pkcs11" on a SoftHSM2 token made here. The
# next issuer's key is generated on the token (pkcs11-tool: sensitive, never extractable), its CSR signed there,
# and no key file is written; after the real ceremony, leaves, the CRL and the OCSP responder's certificate are
# signed there and verify with OpenSSL and GnuTLS; a restart finds the key on the token again. A wrong PIN, a
# missing module and an unknown token stop iotcad at start with the reason.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -e "$MODULE" ] || MODULE=$(dpkg -L softhsm2 libsofthsm2 2>/dev/null | grep 'libsofthsm2\.so$' | head -n1 || true)
[ -n "$MODULE" ] && [ -e "$MODULE" ] || die "the SoftHSM2 module is missing: install softhsm2 (deploy/install-deps.sh)"
mkdir -p "$WORK/hsm/tokens"
printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK" > hsm/softhsm2.conf
export SOFTHSM2_CONF=$WORK/hsm/softhsm2.conf
# another token first, so the CA's is not the first slot (and SoftHSM's slot IDs are not 0..n-1)
softhsm2-util --init-token --free --label other --pin 1111 --so-pin 2222 >/dev/null
softhsm2-util --init-token --free --label iotca-ca --pin 4321 --so-pin 8765 >/dev/null
P11() { pkcs11-tool --module "$MODULE" --token-label iotca-ca --pin 4321 "$@" 2>&1; }

# the ceremony with each root on its own token (its PIN the root passphrase new_issuer signs with)
printf 'correct horse battery staple\n' > rootpass && chmod 600 rootpass
for r in r1 r2; do
  softhsm2-util --init-token --free --label "root-$r" --pin 'correct horse battery staple' --so-pin 87654321 >/dev/null
  "$ROOT_TOOL" init --vault "$r" --name "Test Root ${r^^}" --key ecdsa-p256 --pkcs11 "$MODULE" --token-label "root-$r" \
    --passphrase-file rootpass >/dev/null || die "iotca-root init $r on its token"
  [ ! -e "$r/root.key" ] || die "a root key file was written"
done
cat r1/root.pem r2/root.pem > roots.pem
ok "roots R1 and R2 made on tokens root-r1 and root-r2 (no root key file)"
write_config
printf '4321\n' > pin && chmod 600 pin
jq --arg m "$MODULE" --arg p "$WORK/pin" '.keys = {store: "pkcs11", module: $m, token_label: "iotca-ca", pin_file: $p,
  ocsp_responder: "token"}' \
  iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null || die "iotcad init"
"$IOTCAD" check-config --config iotcad.json >/dev/null || die "check-config refuses the pkcs11 keys config"
tokens
start_daemon
ok "iotcad started with its issuer keys on token iotca-ca"

new_issuer int1
wait_issuer_state "$ISSUER_ID" active
INT1=$ISSUER_ID
[ -z "$(find keys -name 'issuer-*' 2>/dev/null)" ] || die "an issuer key file was written: $(ls keys)"
ok "issuer int1 (key made on the token, CSR signed there) is active, and no issuer key file exists"
objs=$(P11 --list-objects)
priv=$(echo "$objs" | awk '/^Private Key Object/ { p = 1 } p && /label:/ { print; p = 0 }')
echo "$priv" | grep -q 'iotca issuer default-1' || die "no private key labelled for the issuer on the token: $objs"
access=$(echo "$objs" | awk '/^Private Key Object/ { p = 1 } p && /Access:/ { print; exit }')
for w in 'sensitive' 'always sensitive' 'never extractable' 'local'; do
  echo "$access" | grep -q "$w" || die "the issuer key's Access lacks '$w': $access"
done
echo "$access" | sed 's/never extractable//' | grep -q extractable && die "the key is extractable: $access"
pkcs11-tool --module "$MODULE" --token-label iotca-ca --list-objects 2>&1 | grep -q 'Private Key Object' &&
  die "the issuer's private key is listed without logging in (not CKA_PRIVATE)"
pkcs11-tool --module "$MODULE" --token-label iotca-ca --list-objects 2>&1 | grep -q 'Public Key Object' ||
  die "pkcs11-tool lists nothing without logging in: the check above proves nothing"
ok "pkcs11-tool: the issuer key is a private token object, listed only after login ($access)"
# the certificate's key is the token's public key
P11 --read-object --type pubkey --label 'iotca issuer default-1' -o tokpub.der >/dev/null || die "read the public key"
openssl pkey -pubin -inform DER -in tokpub.der -outform DER -out tokpub.spki 2>/dev/null || die "the token's public key"
openssl x509 -in int1.pem -noout -pubkey | openssl pkey -pubin -outform DER -out certpub.spki
cmp -s tokpub.spki certpub.spki || die "the issuer certificate's key is not the token's"
ok "the issuer certificate certifies the token's key"

issue_and_verify leaf1 "issue a leaf (signed on the token)"
certtool --verify --load-ca-certificate roots.pem --infile <(cat leaf1.crt leaf1.chain) >certtool.out 2>&1 ||
  die "GnuTLS does not verify the leaf: $(tail -3 certtool.out)"
ok "GnuTLS verifies the leaf and its chain"
serial=$(openssl x509 -in leaf1.crt -noout -serial | cut -d= -f2)
http POST "/v1/certificates/$(echo "$serial" | tr 'A-F' 'a-f')/revoke" -H "Authorization: Bearer $PROV" -d '{"reason": "keyCompromise"}'
expect 200 "" "revoke leaf1"
for _ in $(seq 1 50); do
  curl -sf "$BASE/crl/$INT1.crl" -o int1.crl && openssl crl -inform DER -in int1.crl -noout -text | grep -q "$serial" && break
  sleep 0.2
done
openssl crl -inform DER -in int1.crl -CAfile <(cat int1.pem roots.pem) -noout 2>&1 | grep -q 'verify OK' ||
  die "the CRL (signed on the token) does not verify"
openssl crl -inform DER -in int1.crl -noout -text | grep -q "$serial" || die "the CRL does not list leaf1"
ok "the CRL is signed on the token, verifies with openssl and lists leaf1"
oc=$(openssl ocsp -issuer int1.pem -cert leaf1.crt -url "$BASE/ocsp" -CAfile roots.pem -verify_other int1.pem 2>&1) || true
grep -q 'Response verify OK' <<<"$oc" && grep -q 'leaf1.crt: revoked' <<<"$oc" || die "OCSP: $oc"
ok "OCSP answers revoked, its responder certificate signed on the token"
[ -z "$(find keys -type f)" ] || die "key files were written: $(find keys -type f)"
P11 --list-objects | grep -q 'label:.*iotca ocsp' || die "the OCSP responder's key is not on the token"
ok "the OCSP responder's key is on the token too (ocsp_responder \"token\"): key_dir holds no file"

stop_clean
start_daemon
issue_and_verify leaf2 "after a restart, the issuer key is found on the token again"
[ "$(metric iotca_key_token_up)" = 1 ] || die "/metrics iotca_key_token_up is $(metric iotca_key_token_up)"

oc=$(openssl ocsp -issuer int1.pem -cert leaf2.crt -url "$BASE/ocsp" -CAfile roots.pem -verify_other int1.pem 2>&1) || true
grep -q 'leaf2.crt: good' <<<"$oc" || die "OCSP for leaf2: $oc" # signed now: the answer then served from memory

# -- the token goes away under load, and comes back ---------------------------------------------------------------
make_csr load load.updates.example.com "DNS:load.updates.example.com"
jq -n --rawfile csr load.csr '{csr: $csr, profile: "firmware-endpoint"}' > req.json
client() { # client N: issues until the file stop exists; each status to codes.N, each 201's serial to got.N
  local st
  while [ ! -e stop ]; do
    st=$(curl -s -m 20 -o "resp.$1" -w '%{http_code}' -X POST "$BASE/v1/certificates" \
      -H "Authorization: Bearer $PROV" -H 'Content-Type: application/json' --data-binary @req.json) || st=000
    echo "$st" >> "codes.$1"
    [ "$st" = 201 ] && jq -r .serial "resp.$1" >> "got.$1"
  done
}
before=$(sql 'SELECT count(*) FROM certificates')
pids=()
for n in 1 2 3 4; do client "$n" & pids+=($!); done
sleep 1.5
tokdir=$(dirname "$(grep -l iotca-ca hsm/tokens/*/token.object)")
mv "$tokdir" hsm/away # the token is gone: its objects with it
ok "the token is taken away under load"
for _ in $(seq 1 50); do [ "$(metric iotca_key_token_up)" = 0 ] && break; sleep 0.1; done
[ "$(metric iotca_key_token_up)" = 0 ] || die "iotca_key_token_up did not fall to 0 with the token away"
make_csr away away.updates.example.com "DNS:away.updates.example.com"
issue away firmware-endpoint "$PROV"
expect 503 "" "issuance while the token is away"
grep -q 'PKCS#11 token' <<<"$OUT" || die "the 503 does not name the token: $OUT"
oc=$(openssl ocsp -issuer int1.pem -cert leaf2.crt -url "$BASE/ocsp" -CAfile roots.pem -verify_other int1.pem 2>&1) || true
grep -q 'Response verify OK' <<<"$oc" && grep -q 'leaf2.crt: good' <<<"$oc" || die "OCSP while the token is away: $oc"
curl -sf "$BASE/crl/$INT1.crl" -o away.crl || die "the CRL is not served while the token is away"
http GET "/v1/certificates/$(openssl x509 -in leaf2.crt -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')" -H "Authorization: Bearer $PROV"
expect 200 "" "the inventory while the token is away"
ok "OCSP (an answer signed before), the CRL and the inventory keep answering while the token is away"
sleep 1
mv hsm/away "$tokdir"
ok "the token is back"
back=""
make_csr back back.updates.example.com "DNS:back.updates.example.com"
for _ in $(seq 1 50); do
  issue back firmware-endpoint "$PROV"
  [ "$STATUS" = 201 ] && { back=1; break; }
  sleep 0.2
done
[ -n "$back" ] || die "issuance did not recover after the token came back: $STATUS $OUT"
ok "issuance recovered without a restart ($(metric iotca_key_token_reopened_total) reopening(s) of the token)"
sleep 1
touch stop
for p in "${pids[@]}"; do wait "$p"; done
codes=$(cat codes.* | sort | uniq -c | awk '{printf "%s x %s; ", $1, $2}')
[ -z "$(cat codes.* | grep -vE '^(201|503)$')" ] || die "answers other than 201 and 503 under the outage: $codes"
grep -qx 503 codes.* || die "no client saw a 503 while the token was away: $codes"
n201=$(cat got.* | wc -l)
[ "$(sql 'SELECT count(*) FROM certificates')" -ge $((before + n201)) ] || die "issued certificates without rows"
missing=0
while read -r s; do [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$s'")" = 1 ] || missing=$((missing + 1)); done < <(cat got.*)
[ "$missing" = 0 ] || die "$missing answered certificates have no row"
ok "under the outage clients got only 201 or 503 ($codes), and every certificate answered is stored"
[ "$(metric iotca_key_token_up)" = 1 ] || die "iotca_key_token_up did not return to 1"
stop_clean

# -- refusals at start: the reason, and no daemon ---------------------------------------------------------------
refused() { # refused WHAT TEXT JQ: iotcad with the config changed by JQ must exit non-zero saying TEXT
  jq "$3" iotcad.json > bad.json
  local rc=0
  timeout 20 "$IOTCAD" --config bad.json > bad.log 2>&1 || rc=$?
  [ "$rc" != 0 ] && [ "$rc" != 124 ] || die "$1: iotcad started (exit $rc)"
  grep -q "$2" bad.log || die "$1: the log does not say '$2': $(tail -3 bad.log)"
  ok "$1 is refused at start: $(grep -o "$2[^\"]*" bad.log | head -1)"
}
printf '9999\n' > badpin && chmod 600 badpin
refused "a wrong PIN" 'the token refused the PIN' ".keys.pin_file = \"$WORK/badpin\""
: > emptypin && chmod 600 emptypin
refused "an empty PIN file" 'keys.pin_file .* is empty' ".keys.pin_file = \"$WORK/emptypin\""
refused "a missing module" 'cannot be loaded' '.keys.module = "/nonexistent/libpkcs11.so"'
refused "a library that is not a PKCS#11 module" 'not a PKCS#11 module' '.keys.module = "/lib/x86_64-linux-gnu/libm.so.6"'
refused "an unknown token" "no token is labelled 'iotca-cb'" '.keys.token_label = "iotca-cb"'
refused "a token's label prefix" "no token is labelled 'iotca'" '.keys.token_label = "iotca"'
echo "$CHECKS passed, 0 failed"
