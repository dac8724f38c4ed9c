#!/usr/bin/env bash
# EST (RFC 7030; issue 22) over HTTPS with curl and openssl as the device, as a firmware engineer would try it:
# /cacerts decodes with openssl pkcs7 and GnuTLS certtool and holds the roots (and a valid cross-certificate,
# not an expired one); simpleenroll with HTTP Basic and the profile's enrollment secret returns a certificate
# that verifies; the default profile serves /.well-known/est/ itself. Refused, each with a 4xx, no row left and
# the daemon serving: no or wrong credentials, garbage or oversize base64, base64 that is no CSR, the wrong
# Content-Type, a CSR outside the profile, a profile EST does not serve, a GET of simpleenroll. simplereenroll
# with the TLS client certificate (curl --cert): a rekeyed successor; refused without one, with another CA's, another
# profile's, a revoked one, or a CSR changing the subject; under libfaketime a certificate expired 200 days ago
# re-enrolls within a 365-day grace (audited, counted), one 400 days expired does not.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
command -v certtool >/dev/null && command -v faketime >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnutls-bin faketime >/dev/null

ceremony
# R1 cross-signs R2: once now (valid), once three days ago for a day (expired)
"$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross.pem --yes --passphrase-file rootpass >/dev/null
ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 faketime -f -3d "$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross-old.pem --days 1 --yes \
  --passphrase-file rootpass >/dev/null
write_config
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost -days 30 -out tls.pem 2>/dev/null
export CURL_CA_BUNDLE=$WORK/tls.pem
# a factory CA (openssl, not iotca) and the identity it gave a device: EST's bootstrap for a first enrollment
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout factory.key -subj "/CN=Factory CA" \
  -addext basicConstraints=critical,CA:TRUE -days 30 -out factory.pem 2>/dev/null
factory_cert() { # factory_cert NAME [faketime offset]: NAME.key and NAME.pem, a one-day identity from the factory CA
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -subj "/CN=$1" -out "$1.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > "$1.ext" # a v3 certificate
  ${2:+faketime -f "$2"} openssl x509 -req -in "$1.csr" -CA factory.pem -CAkey factory.key -days 1 -extfile "$1.ext" \
    -out "$1.pem" 2>/dev/null
}
factory_cert factory-0100
factory_cert factory-old -3d
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger-early.key -subj /CN=dev-0100 \
  -days 30 -out stranger-early.pem 2>/dev/null

# ---- iotcad est hash-secret ----
SECRET=$("$IOTCAD" est hash-secret --generate)
PASS=$(sed -n 's/^secret: //p' <<<"$SECRET")
HASH=$(sed -n 's/^secret_hash: //p' <<<"$SECRET")
[[ $PASS =~ ^[0-9a-f]{32}$ && $HASH =~ ^pbkdf2-sha256\$100000\$[0-9a-f]{32}\$[0-9a-f]{64}$ ]] ||
  die "est hash-secret --generate: $SECRET"
ok "est hash-secret --generate: a secret shown once and its PBKDF2 hash"
[ "$(printf 'short\n' | "$IOTCAD" est hash-secret 2>&1 >/dev/null)" != "" ] || die "a 5-byte secret was hashed"
H2=$(printf 'a longer enrollment secret\n' | "$IOTCAD" est hash-secret | sed -n 's/^secret_hash: //p')
H3=$(printf 'a longer enrollment secret\n' | "$IOTCAD" est hash-secret | sed -n 's/^secret_hash: //p')
[[ -n $H2 && $H2 != "$H3" ]] || die "the same secret hashed twice must differ by its salt: $H2 / $H3"
printf 'a longer enrollment secret\n' > secret.txt
chmod 644 secret.txt
rc=0; "$IOTCAD" est hash-secret --secret-file secret.txt >/dev/null 2>err || rc=$?
[ "$rc" != 0 ] && grep -q '0644' err || die "a secret file others can read: exit $rc $(cat err)"
chmod 600 secret.txt
"$IOTCAD" est hash-secret --secret-file secret.txt | grep -q '^secret_hash: pbkdf2-sha256\$' || die "--secret-file"
rc=0; "$IOTCAD" est hash-secret --bogus >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || die "an unknown flag: exit $rc"
rc=0; "$IOTCAD" est frobnicate >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || die "an unknown est command: exit $rc"
ok "hash-secret: salted (two hashes of one secret differ), refuses a short secret, a readable file, bad flags"

jq --arg c "$WORK/tls.pem" --arg k "$WORK/tls.key" --arg h "$HASH" --arg w "$WORK" '.listen.tls = {cert: $c, key: $k}
  | .cross_certificates = [$w + "/cross-old.pem", $w + "/cross.pem"]
  | .est = {profiles: {device: {secret_hash: $h, reenroll_grace: "365d", bootstrap_ca: ($w + "/factory.pem")}},
            default_profile: "device"}' iotcad.json > t.json && mv t.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
BASE="https://127.0.0.1:$PORT"
start_daemon
new_issuer int1 r2
EST=$BASE/.well-known/est

# ---- cacerts (§4.1) ----
code=$(curl -s -D h.txt -o cacerts.b64 -w '%{http_code}' "$EST/device/cacerts")
[ "$code" = 200 ] && grep -qi '^content-type: application/pkcs7-mime' h.txt || die "cacerts: $code $(cat h.txt)"
base64 -d cacerts.b64 > cacerts.p7 || die "cacerts is not base64"
openssl pkcs7 -inform DER -in cacerts.p7 -print_certs -out cacerts.pem >/dev/null || die "openssl pkcs7 cannot read cacerts"
subjects=$(openssl crl2pkcs7 -nocrl -certfile cacerts.pem | openssl pkcs7 -print_certs -noout | grep -c '^subject=')
[ "$subjects" = 3 ] || die "cacerts holds $subjects certificates, want R1, R2 and the valid cross-certificate"
for f in r1/root.pem r2/root.pem cross.pem; do
  grep -qF "$(sed -n 2p "$f")" cacerts.pem || die "cacerts lacks $f"
done
! grep -qF "$(sed -n 2p cross-old.pem)" cacerts.pem || die "cacerts holds the expired cross-certificate"
certtool --p7-info --inder --infile cacerts.p7 > p7info.txt 2>&1 || die "certtool --p7-info: $(cat p7info.txt)"
[ "$(grep -c 'BEGIN CERTIFICATE' p7info.txt)" = 3 ] || die "certtool sees $(grep -c 'BEGIN CERTIFICATE' p7info.txt) certificates"
ok "cacerts: base64 certs-only CMS; openssl and certtool read R1, R2 and the valid cross-certificate (not the expired one)"
cmp -s cacerts.b64 <(curl -s "$EST/cacerts") || die "the default profile's cacerts differs"
ok "/.well-known/est/cacerts serves the default profile's"

# ---- csrattrs (§4.5): what the device profile wants in a CSR ----
code=$(curl -s -D h.txt -o attrs.b64 -w '%{http_code}' "$EST/device/csrattrs")
[ "$code" = 200 ] && grep -qi '^content-type: application/csrattrs' h.txt || die "csrattrs: $code $(cat h.txt attrs.b64)"
base64 -d attrs.b64 | openssl asn1parse -inform DER > attrs.txt || die "csrattrs is not base64 DER"
for want in 'id-ecPublicKey' 'prime256v1' 'ecdsa-with-SHA256' 'Extension Request'; do
  grep -q ":$want" attrs.txt || die "csrattrs lacks $want: $(cat attrs.txt)"
done
! grep -q 'secp384r1\|rsaEncryption' attrs.txt || die "csrattrs names a key type the profile refuses: $(cat attrs.txt)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$EST/firmware-endpoint/csrattrs")
[ "$code" = 404 ] || die "csrattrs of a profile EST does not serve: $code"
ok "csrattrs: P-256 (id-ecPublicKey, prime256v1), ecdsa-with-SHA256 and extensionRequest, as openssl asn1parse reads them"

# ---- simpleenroll (§4.2.1) ----
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev1.key -subj /CN=dev-0001 \
  -addext subjectAltName=URI:urn:dev:acme:0001 -outform DER -out dev1.der 2>/dev/null
enroll() { # enroll PATH CSR-FILE [curl args...]: base64 of CSR-FILE posted; body in enroll.out, status printed
  local path=$1 file=$2
  shift 2
  base64 "$file" | curl -s -o enroll.out -D enroll.hdr -w '%{http_code}' -H 'Content-Type: application/pkcs10' \
    --data-binary @- "$@" "$EST/$path"
}
count() { sql "SELECT count(*) FROM certificates"; }
before=$(count)
code=$(enroll device/simpleenroll dev1.der -u "dev-0001:$PASS")
[ "$code" = 200 ] && grep -qi '^content-type: application/pkcs7-mime; smime-type=certs-only' enroll.hdr ||
  die "simpleenroll: $code $(cat enroll.hdr enroll.out)"
base64 -d enroll.out | openssl pkcs7 -inform DER -print_certs -out dev1.pem >/dev/null || die "the answer is no certs-only CMS"
[ "$(grep -c 'BEGIN CERTIFICATE' dev1.pem)" = 1 ] || die "the answer holds $(grep -c 'BEGIN CERTIFICATE' dev1.pem) certificates"
openssl verify -CAfile r2/root.pem -untrusted int1.pem dev1.pem >/dev/null || die "the enrolled certificate does not verify"
[ "$(openssl x509 -in dev1.pem -noout -pubkey)" = "$(openssl pkey -in dev1.key -pubout)" ] || die "not the CSR's key"
[ "$(count)" = $((before + 1)) ] || die "the enrollment is not in the store"
serial=$(openssl x509 -in dev1.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
[ "$(sql "SELECT actor FROM audit WHERE action = 'est.simpleenroll' AND subject LIKE '%$serial%'")" = "est:device:dev-0001" ] ||
  die "no est.simpleenroll audit record for $serial: $(sql "SELECT action, actor, subject FROM audit ORDER BY seq DESC LIMIT 3")"
ok "simpleenroll with HTTP Basic: a certs-only CMS holding the certificate, which verifies with openssl; stored and audited"
code=$(enroll simpleenroll dev1.der -u "x:$PASS")
[ "$code" = 200 ] || die "simpleenroll on the default profile: $code $(cat enroll.out)"
ok "/.well-known/est/simpleenroll enrolls under the default profile"

# ---- simpleenroll with a bootstrap certificate (the factory's identity) instead of Basic credentials ----
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev100.key -subj /CN=dev-0100 \
  -addext subjectAltName=URI:urn:dev:acme:0100 -outform DER -out dev100.der 2>/dev/null
code=$(enroll device/simpleenroll dev100.der --cert factory-0100.pem --key factory-0100.key)
[ "$code" = 200 ] || die "simpleenroll with the factory identity: $code $(cat enroll.out)"
base64 -d enroll.out | openssl pkcs7 -inform DER -print_certs -out dev100.pem >/dev/null || die "no CMS"
openssl verify -CAfile r2/root.pem -untrusted int1.pem dev100.pem >/dev/null || die "the bootstrapped certificate"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'est.simpleenroll' AND actor = 'est:device:bootstrap'")" = 1 ] ||
  die "the bootstrap enrollment's audit record: $(sql "SELECT actor, action FROM audit ORDER BY seq DESC LIMIT 2")"
ok "simpleenroll with a bootstrap certificate from the factory CA (no Basic credentials): issued, audited"

# ---- serverkeygen (§4.4): the CA makes the key; multipart/mixed with the PKCS#8 key and the certificate ----
code=$(enroll device/serverkeygen dev1.der -u "kg:$PASS")
[ "$code" = 200 ] && grep -qi '^content-type: multipart/mixed; boundary=iotca-est-serverkeygen' enroll.hdr ||
  die "serverkeygen: $code $(cat enroll.hdr)"
{ printf 'Content-Type: %s\r\n\r\n' "$(sed -n 's/^[Cc]ontent-[Tt]ype: //p' enroll.hdr | tr -d '\r')"; cat enroll.out; } |
  /usr/bin/python3 -c '
import email, sys
m = email.message_from_bytes(sys.stdin.buffer.read())
parts = [p for p in m.walk() if not p.is_multipart()]
assert [p.get_content_type() for p in parts] == ["application/pkcs8", "application/pkcs7-mime"], parts
open("kg.key.der", "wb").write(parts[0].get_payload(decode=True))
open("kg.p7", "wb").write(parts[1].get_payload(decode=True))' || die "serverkeygen's multipart: $(head -c 300 enroll.out)"
openssl pkey -inform DER -in kg.key.der -out kg.key 2>/dev/null || die "the key part is no PKCS#8 key"
openssl pkcs7 -inform DER -in kg.p7 -print_certs -out kg.pem >/dev/null || die "the certificate part is no certs-only CMS"
[ "$(openssl x509 -in kg.pem -noout -pubkey)" = "$(openssl pkey -in kg.key -pubout)" ] || die "the key does not match the certificate"
[ "$(openssl x509 -in kg.pem -noout -pubkey)" != "$(openssl pkey -in dev1.key -pubout)" ] || die "the CSR's key was used"
openssl x509 -in kg.pem -noout -subject -ext subjectAltName | grep -q 'urn:dev:acme:0001' &&
  openssl x509 -in kg.pem -noout -subject | grep -q 'CN *= *dev-0001' || die "not the CSR's subject and names"
openssl verify -CAfile r2/root.pem -untrusted int1.pem kg.pem >/dev/null || die "serverkeygen's certificate does not verify"
! grep -qF "$(base64 -w0 kg.key.der | head -c 40)" daemon.log || die "the private key is in the log"
ok "serverkeygen: a new key (PKCS#8) and its certificate with the CSR's subject and names, which verifies; not logged"

# ---- refusals: each a 4xx, nothing stored, the daemon serving ----
before=$(count)
refused() { # refused DESC STATUS REGEX CODE: the last answer
  [ "$4" = "$2" ] || die "$1: expected $2, got $4: $(cat enroll.out)"
  grep -Eq "$3" enroll.out || die "$1: the text must match /$3/: $(cat enroll.out)"
  ok "$1: $2 ($(head -c 100 enroll.out | tr -d '\n'))"
}
refused "no credentials" 401 "Basic" "$(enroll device/simpleenroll dev1.der)"
refused "serverkeygen without credentials" 401 "Basic" "$(enroll device/serverkeygen dev1.der)"
grep -qi '^www-authenticate: Basic realm="iotca EST device"' enroll.hdr || die "no WWW-Authenticate: $(cat enroll.hdr)"
refused "a bootstrap certificate from another CA" 403 "not issued by a bootstrap CA" \
  "$(enroll device/simpleenroll dev100.der --cert stranger-early.pem --key stranger-early.key)"
refused "an expired bootstrap certificate" 403 "expired" \
  "$(enroll device/simpleenroll dev100.der --cert factory-old.pem --key factory-old.key)"
refused "a wrong secret" 401 "wrong enrollment secret" "$(enroll device/simpleenroll dev1.der -u "dev:wrong-secret-123")"
refused "Basic credentials that are not base64" 401 "not base64" \
  "$(enroll device/simpleenroll dev1.der -H 'Authorization: Basic %%%%')"
printf 'not base64 at all!' > junk.txt
code=$(curl -s -o enroll.out -w '%{http_code}' -u "d:$PASS" -H 'Content-Type: application/pkcs10' --data-binary @junk.txt \
  "$EST/device/simpleenroll")
refused "a body that is not base64" 400 "base64" "$code"
printf 'hello' > hello.bin
refused "base64 of something that is no CSR" 400 "PKCS#10|CSR|csr" "$(enroll device/simpleenroll hello.bin -u "d:$PASS")"
head -c 100000 /dev/urandom > big.bin
refused "an oversize body" 413 "over" "$(enroll device/simpleenroll big.bin -u "d:$PASS")"
code=$(base64 dev1.der | curl -s -o enroll.out -w '%{http_code}' -u "d:$PASS" -H 'Content-Type: application/json' \
  --data-binary @- "$EST/device/simpleenroll")
refused "the wrong Content-Type" 415 "application/pkcs10" "$code"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout out.key -subj /CN=dev-0002 \
  -addext subjectAltName=URI:urn:other:0002 -outform DER -out out.der 2>/dev/null
refused "a CSR outside the profile" 403 "uri" "$(enroll device/simpleenroll out.der -u "d:$PASS")"
refused "a profile EST does not serve" 404 "no EST service" \
  "$(enroll firmware-endpoint/simpleenroll dev1.der -u "d:$PASS")"
code=$(curl -s -o enroll.out -w '%{http_code}' "$EST/device/simpleenroll")
refused "GET simpleenroll" 405 "POST" "$code"
[ "$(count)" = "$before" ] || die "a refused enrollment left a certificate"
curl -sf "$BASE/healthz" >/dev/null || die "the daemon stopped serving"
ok "no refused enrollment left a certificate; the daemon serves on"
grep -q "$PASS" daemon.log && die "the enrollment secret is in the log"
ok "the enrollment secret is not in the log"

# ---- simplereenroll (§4.2.2) with the TLS client certificate being renewed ----
reenroll() { # reenroll CSR-FILE [curl args...]: status printed, body in enroll.out
  local file=$1
  shift
  base64 "$file" | curl -s -o enroll.out -D enroll.hdr -w '%{http_code}' -H 'Content-Type: application/pkcs10' \
    --data-binary @- "$@" "$EST/device/simplereenroll"
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'; }
# rekey: a new key, the same subject and names
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev1b.key -subj /CN=dev-0001 \
  -addext subjectAltName=URI:urn:dev:acme:0001 -outform DER -out dev1b.der 2>/dev/null
code=$(reenroll dev1b.der --cert dev1.pem --key dev1.key)
[ "$code" = 200 ] || die "simplereenroll with dev1's certificate: $code $(cat enroll.out)"
base64 -d enroll.out | openssl pkcs7 -inform DER -print_certs -out dev1b.pem >/dev/null || die "no certs-only CMS"
openssl verify -CAfile r2/root.pem -untrusted int1.pem dev1b.pem >/dev/null || die "the successor does not verify"
[ "$(openssl x509 -in dev1b.pem -noout -subject)" = "$(openssl x509 -in dev1.pem -noout -subject)" ] &&
  [ "$(openssl x509 -in dev1b.pem -noout -pubkey)" = "$(openssl pkey -in dev1b.key -pubout)" ] || die "not a rekeyed successor"
[ "$(sql "SELECT renews FROM certificates WHERE ltrim(serial, '0') = '$(serial_of dev1b.pem)'")" = "$(sql "SELECT serial FROM certificates WHERE ltrim(serial, '0') = '$(serial_of dev1.pem)'")" ] ||
  die "the successor is not recorded as renewing dev1"
ok "simplereenroll with the client certificate: a rekeyed successor, same subject, recorded as renewing it"
before=$(count)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout x.key -subj /CN=dev-9999 \
  -addext subjectAltName=URI:urn:dev:acme:9999 -outform DER -out other-subject.der 2>/dev/null
refused "re-enrollment with a CSR changing the subject" 400 "subject|names" "$(reenroll other-subject.der --cert dev1b.pem --key dev1b.key)"
refused "re-enrollment without a client certificate" 401 "client certificate" "$(reenroll dev1b.der)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger.key -subj /CN=dev-0001 \
  -addext subjectAltName=URI:urn:dev:acme:0001 -days 30 -out stranger.pem 2>/dev/null
refused "re-enrollment with a certificate from another CA" 403 "not issued by this CA" \
  "$(reenroll dev1b.der --cert stranger.pem --key stranger.key)"
[ "$(count)" = "$before" ] || die "a refused re-enrollment left a certificate"
make_csr fw fw.updates.example.com DNS:fw.updates.example.com
issue fw firmware-endpoint "$PROV"
[ "$STATUS" = 201 ] || die "a firmware-endpoint certificate: $STATUS $OUT"
# a device on mbedTLS 2.28 re-enrolls over TLS with its client certificate (mbedTLS matches DNS names only)
MBED=$IOTCA_BIN/tests/est-reenroll-mbedtls
[ -x "$MBED" ] || die "no $MBED (libmbedtls-dev)"
openssl req -new -key dev1b.key -subj /CN=dev-0001 -addext subjectAltName=URI:urn:dev:acme:0001 -outform DER \
  -out dev1c.der 2>/dev/null
"$MBED" localhost "$PORT" tls.pem dev1b.pem dev1b.key dev1c.der /.well-known/est/device/simplereenroll \
  > mbed.out 2> mbed.err || die "the mbedTLS device's re-enrollment: $(cat mbed.err mbed.out)"
base64 -d mbed.out | openssl pkcs7 -inform DER -print_certs -out dev1c.pem >/dev/null || die "mbedTLS got no CMS"
openssl verify -CAfile r2/root.pem -untrusted int1.pem dev1c.pem >/dev/null || die "the mbedTLS device's successor"
[ "$(sql "SELECT renews FROM certificates WHERE ltrim(serial, '0') = '$(serial_of dev1c.pem)'" | sed 's/^0*//')" = "$(serial_of dev1b.pem)" ] ||
  die "the mbedTLS device's successor does not renew dev1b"
ok "an mbedTLS 2.28 client re-enrolls over TLS with its client certificate ($(head -1 mbed.err))"
before=$(count)
refused "re-enrollment with a certificate of another profile" 403 "issued under profile firmware-endpoint" \
  "$(reenroll dev1b.der --cert fw.crt --key fw.key)"
# the inventory's spelling: lowercase hex of whole bytes, as openssl prints it (a leading 0 nibble kept)
http POST "/v1/certificates/$(openssl x509 -in dev1.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')/revoke" -H "Authorization: Bearer $ADMIN" -d '{"reason":"superseded"}'
[ "$STATUS" = 200 ] || die "revoking dev1: $STATUS $OUT"
refused "re-enrollment with a revoked certificate" 403 "revoked" "$(reenroll dev1b.der --cert dev1.pem --key dev1.key)"
[ "$(count)" = "$before" ] || die "a refused re-enrollment left a certificate"
ok "no refused re-enrollment left a certificate"

# ---- devices back from a shelf: the grace after expiry, under faketime ----
for n in 200 400; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "s$n.key" -subj "/CN=dev-$n" \
    -addext "subjectAltName=URI:urn:dev:acme:$n" -out "s$n.csr" 2>/dev/null
  issue "s$n" device "$PROV" 1d
  [ "$STATUS" = 201 ] || die "a one-day certificate: $STATUS $OUT"
  openssl req -new -key "s$n.key" -subj "/CN=dev-$n" -addext "subjectAltName=URI:urn:dev:acme:$n" -outform DER \
    -out "s$n.der" 2>/dev/null
done
start_at() { # start_at OFFSET: iotcad restarted with its clock OFFSET ahead (libfaketime)
  stop_clean
  # libfaketime comes before a sanitizer build's runtime in the preload list: ASan is told that is meant
  ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 FAKETIME="$1" FAKETIME_DONT_RESET=1 \
    "$IOTCAD" --config iotcad.json >>daemon.log 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "iotcad did not start with its clock at $1"
}
start_at +201d
code=$(reenroll s200.der --cert s200.crt --key s200.key)
[ "$code" = 200 ] || die "a certificate 200 days expired, grace 365 days: $code $(cat enroll.out)"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'est.simplereenroll.grace'")" = 1 ] ||
  die "the grace re-enrollment is not audited as such: $(sql "SELECT action, subject FROM audit ORDER BY seq DESC LIMIT 3")"
[ "$(metric iotca_est_grace_reenrollments_total)" = 1 ] || die "not counted in /metrics: $(curl -s "$BASE/metrics" | grep est)"
ok "a certificate expired 200 days ago re-enrolls within the 365-day grace: audited (est.simplereenroll.grace), counted in /metrics"
start_at +401d
refused "a certificate expired 400 days ago" 403 "expired 400 days ago, past the profile's reenroll_grace of 365 days" \
  "$(reenroll s400.der --cert s400.crt --key s400.key)"
refused "a revoked certificate, even within the grace" 403 "revoked" "$(reenroll dev1b.der --cert dev1.pem --key dev1.key)"
[ "$(metric iotca_est_grace_reenrollments_total)" = 0 ] || die "a refusal was counted"
curl -sf "$BASE/healthz" >/dev/null || die "the daemon stopped serving"
stop_clean
echo "$CHECKS passed, 0 failed"
