#!/usr/bin/env bash
# EST's TLS channel binding (RFC 7030 §3.5; issue 22): a GnuTLS device (tests/compat/est_binding_gnutls.c) puts
# the base64 of its connection's binding in the CSR's challengePassword — tls-unique over TLS 1.2, tls-exporter
# over TLS 1.3 (RFC 9266) — and enrolls on that connection: accepted on both versions, for simpleenroll and for
# simplereenroll with the client certificate. Refused with 403, no row left: a binding from another connection
# (a request replayed onto a new channel), a binding with one bit changed, an openssl CSR whose challengePassword
# is an ordinary password; and, on a profile with "channel_binding": "required", a CSR without one. A config
# naming another value is refused at init.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
CLIENT=$IOTCA_BIN/tests/est-binding-gnutls
[ -x "$CLIENT" ] || die "no $CLIENT"

ceremony
write_config
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost -days 30 -out tls.pem 2>/dev/null
export CURL_CA_BUNDLE=$WORK/tls.pem
SECRET=$("$IOTCAD" est hash-secret --generate)
PASS=$(sed -n 's/^secret: //p' <<<"$SECRET")
HASH=$(sed -n 's/^secret_hash: //p' <<<"$SECRET")
# device checks a binding when one is sent; bound (the same profile rules) requires one
jq --arg c "$WORK/tls.pem" --arg k "$WORK/tls.key" --arg h "$HASH" '.listen.tls = {cert: $c, key: $k}
  | .profiles.bound = .profiles.device
  | .est = {profiles: {device: {secret_hash: $h}, bound: {secret_hash: $h, channel_binding: "required"}}}' \
  iotcad.json > t.json && mv t.json iotcad.json

# ---- the config: channel_binding is "required" or "when_sent" ----
jq '.est.profiles.device.channel_binding = "sometimes"' iotcad.json > bad.json
rc=0; "$IOTCAD" init --config bad.json >/dev/null 2>err || rc=$?
[ "$rc" != 0 ] && grep -q 'channel_binding' err || die "channel_binding \"sometimes\" was accepted: exit $rc $(cat err)"
jq '.est.profiles.device.channel_binding = true' iotcad.json > bad.json
rc=0; "$IOTCAD" init --config bad.json >/dev/null 2>err || rc=$?
[ "$rc" != 0 ] && grep -q 'channel_binding' err || die "channel_binding true was accepted: exit $rc $(cat err)"
rm -f "$WORK/iotca.db"
ok "config: channel_binding other than \"required\" or \"when_sent\" is refused, naming the key"

"$IOTCAD" init --config iotcad.json >/dev/null
tokens
BASE="https://127.0.0.1:$PORT"
start_daemon
new_issuer int1 r2
count() { sql "SELECT count(*) FROM certificates"; }

# device PROFILE/OP MODE TLS NUM [CREDS]: the GnuTLS device for dev-NUM (urn:dev:acme:NUM); its key in
# dev-NUM.key, its output in dev-NUM.out, the HTTP status in $CODE, the binding's name in $KIND
device() {
  local num=$4
  EST_KEY_OUT=$WORK/dev-$num.key "$CLIENT" 127.0.0.1 "$PORT" "$WORK/tls.pem" "/.well-known/est/$1" "$2" "$3" \
    "dev-$num" "urn:dev:acme:$num" "${5:-dev-$num:$PASS}" > "dev-$num.out" 2>"dev-$num.err" ||
    die "the GnuTLS device failed: $(cat "dev-$num.err")"
  KIND=$(sed -n 's/^binding: \([a-z-]*\) .*/\1/p' "dev-$num.out")
  CODE=$(sed -n 's/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' "dev-$num.out")
}
# the certificate of an accepted enrollment (the certs-only CMS body after the headers) into dev-NUM.pem
cert_of() {
  sed '1,/^\r$/d' "dev-$1.out" | tr -d '\r' | base64 -d | openssl pkcs7 -inform DER -print_certs -out "dev-$1.pem" >/dev/null ||
    die "dev-$1: the answer is no certs-only CMS: $(cat "dev-$1.out")"
  openssl verify -CAfile r2/root.pem -untrusted int1.pem "dev-$1.pem" >/dev/null || die "dev-$1 does not verify"
  [ "$(openssl x509 -in "dev-$1.pem" -noout -pubkey)" = "$(openssl pkey -in "dev-$1.key" -pubout)" ] ||
    die "dev-$1: not the device's key"
}

# ---- the binding of the connection the CSR came on: accepted ----
before=$(count)
device device/simpleenroll bind 1.3 0001
[ "$CODE" = 200 ] && [ "$KIND" = tls-exporter ] || die "TLS 1.3 with its tls-exporter: $CODE $KIND $(cat dev-0001.out)"
grep -q '^binding: tls-exporter (32 bytes)' dev-0001.out || die "tls-exporter is 32 bytes: $(head -1 dev-0001.out)"
cert_of 0001
device device/simpleenroll bind 1.2 0002
[ "$CODE" = 200 ] && [ "$KIND" = tls-unique ] || die "TLS 1.2 with its tls-unique: $CODE $KIND $(cat dev-0002.out)"
cert_of 0002
device bound/simpleenroll bind 1.3 0003
[ "$CODE" = 200 ] || die "the bound profile with the binding: $CODE $(cat dev-0003.out)"
[ "$(count)" = $((before + 3)) ] || die "three enrollments, $(($(count) - before)) rows"
ok "simpleenroll with the connection's binding in challengePassword: tls-exporter (TLS 1.3), tls-unique (TLS 1.2)"

# ---- a binding from elsewhere: refused, naming the rule, nothing stored ----
before=$(count)
for v in 1.3 1.2; do
  device device/simpleenroll other "$v" 0010
  [ "$CODE" = 403 ] && grep -q "another TLS connection" dev-0010.out ||
    die "TLS $v: a CSR bound to an earlier connection: $CODE $(cat dev-0010.out)"
  grep -q "$KIND" dev-0010.out || die "the refusal does not name $KIND: $(cat dev-0010.out)"
  device device/simpleenroll flip "$v" 0011
  [ "$CODE" = 403 ] || die "TLS $v: a binding with one bit changed: $CODE $(cat dev-0011.out)"
done
# an ordinary password in challengePassword (openssl), sent with curl: no binding of this connection either
printf '[req]\nprompt=no\ndistinguished_name=dn\nattributes=at\nreq_extensions=ext\n[dn]\nCN=dev-0012\n[at]\nchallengePassword=letmein-please\n[ext]\nsubjectAltName=URI:urn:dev:acme:0012\n' > pw.cnf
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout pw.key -config pw.cnf -outform DER \
  -out pw.der 2>/dev/null
code=$(base64 pw.der | curl -s -o pw.out -w '%{http_code}' -H 'Content-Type: application/pkcs10' \
  --data-binary @- -u "dev-0012:$PASS" "$BASE/.well-known/est/device/simpleenroll")
[ "$code" = 403 ] && grep -q 'challengePassword' pw.out || die "a password in challengePassword: $code $(cat pw.out)"
# a CSR without a binding on the profile that requires one; accepted where it is only checked when sent
device bound/simpleenroll none 1.3 0013
[ "$CODE" = 403 ] && grep -q 'requires the TLS channel binding' dev-0013.out ||
  die "no binding on the bound profile: $CODE $(cat dev-0013.out)"
code=$(base64 pw.der | curl -s -o pw.out -w '%{http_code}' -H 'Content-Type: application/pkcs10' \
  --data-binary @- -u "dev-0012:$PASS" "$BASE/.well-known/est/bound/simpleenroll")
[ "$code" = 403 ] || die "a password in challengePassword on the bound profile: $code $(cat pw.out)"
[ "$(count)" = "$before" ] || die "refused enrollments left $(($(count) - before)) rows"
device device/simpleenroll none 1.3 0014
[ "$CODE" = 200 ] || die "no binding where it is checked only when sent: $CODE $(cat dev-0014.out)"
ok "refused with 403 and no row: another connection's binding, one bit changed (TLS 1.2 and 1.3), a password"
ok "\"required\": a CSR without the binding is refused; \"when_sent\" (the default) enrolls it"

# ---- simplereenroll with the client certificate, bound to the connection it came on ----
before=$(count)
cat dev-0001.pem int1.pem > dev-0001.old.pem # GnuTLS offers a certificate whose chain reaches a CA the server names
cp dev-0001.key dev-0001.old.key
device device/simplereenroll other 1.3 0001 "$WORK/dev-0001.old.pem:$WORK/dev-0001.old.key"
[ "$CODE" = 403 ] || die "re-enrollment bound to another connection: $CODE $(cat dev-0001.out)"
[ "$(count)" = "$before" ] || die "a refused re-enrollment left a row"
device device/simplereenroll bind 1.3 0001 "$WORK/dev-0001.old.pem:$WORK/dev-0001.old.key"
[ "$CODE" = 200 ] || die "re-enrollment with the binding: $CODE $(cat dev-0001.out)"
cert_of 0001
[ "$(openssl x509 -in dev-0001.pem -noout -serial)" != "$(openssl x509 -in dev-0001.old.pem -noout -serial)" ] || die "the re-enrollment returned the old certificate"
[ "$(count)" = $((before + 1)) ] || die "the re-enrollment is not stored"
ok "simplereenroll over TLS 1.3 with the client certificate: bound to its connection accepted, to another refused"

stop_clean
echo "PASS: $CHECKS checks"
