#!/usr/bin/env bash
# The OCSP responder (issue 4): openssl ocsp says good, then revoked with the reason right after a revoke;
# the response verifies against the roots through the delegated responder certificate; GET and POST;
# malformed, unknown-issuer and oversized requests get OCSP error responses or 4xx and never a crash.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
make_csr leaf leaf.updates.example.com "DNS:leaf.updates.example.com"
issue leaf firmware-endpoint "$PROV"; expect 201 "" "issue a leaf"
serial=$(echo "$OUT" | jq -r .serial)
make_csr other other.updates.example.com "DNS:other.updates.example.com"
issue other firmware-endpoint "$PROV"; expect 201 "" "issue a second leaf"
other_serial=$(echo "$OUT" | jq -r .serial)
# nobody asked for other's answer yet: the tick (every second here) pre-signs it and moves the OCSP mark
# past it (schema 0009), in one transaction. The tick runs at nice 10 and its first run also makes the
# issuer's OCSP responder (a key and its KDF), so under a parallel test run it may take a while: wait 30 s.
for _ in $(seq 1 300); do [ "$(sql "SELECT length(der) FROM ocsp_responses WHERE serial = '$other_serial'")" -gt 0 ] 2>/dev/null && break; sleep 0.1; done
[ "$(sql "SELECT length(der) FROM ocsp_responses WHERE serial = '$other_serial'")" -gt 0 ] 2>/dev/null ||
  die "the tick did not pre-sign a new certificate's answer"
[ "$(sql "SELECT last_rowid FROM ocsp_mark")" = "$(sql "SELECT max(rowid) FROM certificates")" ] ||
  die "the OCSP mark did not move past the pre-signed certificates: $(sql "SELECT last_rowid FROM ocsp_mark")"
ok "the tick pre-signed the new certificates' answers and moved the OCSP mark"

ocsp() { # ocsp CERT [extra openssl args] -> output in $OC
  OC=$(openssl ocsp "${@:2}" -issuer int1.pem -cert "$1" -url "$BASE/ocsp" -CAfile roots.pem -verify_other int1.pem 2>&1) || true
}
ocsp leaf.crt
echo "$OC" | grep >/dev/null "Response verify OK" || die "response does not verify: $OC"
echo "$OC" | grep >/dev/null "leaf.crt: good" || die "not good: $OC"
ok "openssl ocsp: good, and the response verifies against the roots"
ocsp leaf.crt -resp_text
echo "$OC" | grep >/dev/null "Responder Id: " || die "no responder id"
echo "$OC" | grep >/dev/null "OCSP Signing" || die "the responder certificate lacks id-kp-OCSPSigning: $OC"
echo "$OC" | grep >/dev/null "OCSP No Check" || die "the responder certificate lacks ocsp-nocheck"
ok "the response is signed by a delegated responder (OCSPSigning, ocsp-nocheck)"
resp_key=$(echo "$OC" | awk '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/' | openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)
int_key=$(openssl x509 -in int1.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)
[ "$resp_key" != "$int_key" ] || die "responses are signed with the issuer key itself"
ok "the issuer key is not used per response"

http POST "/v1/certificates/$serial/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'
expect 200 "" "revoke the leaf"
ocsp leaf.crt
echo "$OC" | grep >/dev/null "leaf.crt: revoked" || die "not revoked right after the revoke: $OC"
echo "$OC" | grep >/dev/null "Reason: keyCompromise" || die "reason missing: $OC"
echo "$OC" | grep >/dev/null "Response verify OK" || die "revoked response does not verify"
ok "openssl ocsp: revoked with reason keyCompromise right after the revoke"
ocsp other.crt
echo "$OC" | grep >/dev/null "other.crt: good" || die "the other leaf should stay good: $OC"
ok "the other leaf is still good"

# SHA-256 CertID (signed on demand) and GET
ocsp leaf.crt -sha256
echo "$OC" | grep >/dev/null "leaf.crt: revoked" || die "SHA-256 CertID: $OC"
ok "a SHA-256 CertID is answered too"
openssl ocsp -issuer int1.pem -cert other.crt -reqout req.der -no_nonce >/dev/null 2>&1
b64=$(openssl base64 -A -in req.der | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
st=$(curl -s -o get.der -D get.hdr -w '%{http_code}' "$BASE/ocsp/$b64")
[ "$st" = 200 ] || die "GET /ocsp: $st"
openssl ocsp -respin get.der -issuer int1.pem -cert other.crt -CAfile roots.pem -verify_other int1.pem 2>&1 | grep >/dev/null "other.crt: good" || die "GET answer"
grep -qi '^cache-control: max-age=' get.hdr || die "GET answer is not cacheable: $(cat get.hdr)"
ok "GET /ocsp/{base64} answers good with Cache-Control max-age (RFC 5019)"
st=$(curl -s -o post.der -w '%{http_code}' -H 'Content-Type: application/ocsp-request' --data-binary @req.der "$BASE/ocsp")
[ "$st" = 200 ] && cmp -s post.der get.der || die "POST and GET answers differ or failed ($st)"
ok "POST /ocsp returns the same pre-signed answer"

# refusals: OCSP error statuses or 4xx, never a crash
# the response status as OpenSSL names it: "Responder Error: malformedrequest (1)" or "...Status: successful"
status_of() { openssl ocsp -respin "$1" -resp_text -noverify 2>&1 | sed -n 's/.*Responder Error: \([a-z]*\).*/\1/p; s/.*OCSP Response Status: \([a-z]*\).*/\1/p' | head -1; }
post() { curl -s -o "$2" -w '%{http_code}' -H 'Content-Type: application/ocsp-request' --data-binary @"$1" "$BASE/ocsp"; }
head -c 300 /dev/urandom > garbage.der
[ "$(post garbage.der g.out)" = 200 ] && [ "$(status_of g.out)" = malformedrequest ] || die "garbage: $(status_of g.out)"
ok "garbage -> malformedRequest"
head -c 40 req.der > trunc.der
[ "$(post trunc.der t.out)" = 200 ] && [ "$(status_of t.out)" = malformedrequest ] || die "truncated"
ok "truncated -> malformedRequest"
# unknown hash algorithm: replace the SHA-1 OID 2b0e03021a with an unknown one of the same length
sed 's/\x2b\x0e\x03\x02\x1a/\x2b\x0e\x03\x02\x1b/' req.der > badhash.der
cmp -s req.der badhash.der && die "could not build the bad-hash request"
[ "$(post badhash.der h.out)" = 200 ] && [ "$(status_of h.out)" = malformedrequest ] || die "unknown hash: $(status_of h.out)"
ok "unknown hash algorithm -> malformedRequest"
openssl req -x509 -new -key other.key -subj "/CN=Stranger CA" -days 30 -out stranger.pem
openssl ocsp -issuer stranger.pem -serial 0x1234 -reqout stranger.der -no_nonce >/dev/null 2>&1
[ "$(post stranger.der u.out)" = 200 ] && [ "$(status_of u.out)" = unauthorized ] || die "unknown issuer: $(status_of u.out)"
ok "unknown issuer -> unauthorized"
openssl ocsp -issuer int1.pem -serial 0x0badc0ffee -reqout unknown.der -no_nonce >/dev/null 2>&1
post unknown.der n.out >/dev/null
openssl ocsp -respin n.out -issuer int1.pem -serial 0x0badc0ffee -CAfile roots.pem -verify_other int1.pem 2>&1 | grep >/dev/null ": unknown" || die "unknown serial"
ok "unknown serial of our issuer -> signed status unknown"
# many request entries: 10,000 in one request exceeds the body limit (413); 50 is malformed (one per request)
args=(); for i in $(seq 1 50); do args+=(-serial "0x$i"); done
openssl ocsp -issuer int1.pem "${args[@]}" -reqout many.der -no_nonce >/dev/null 2>&1
[ "$(post many.der m.out)" = 200 ] && [ "$(status_of m.out)" = malformedrequest ] || die "50 entries: $(status_of m.out)"
args=(); for i in $(seq 1 10000); do args+=(-serial "0x$i"); done
openssl ocsp -issuer int1.pem "${args[@]}" -reqout huge.der -no_nonce >/dev/null 2>&1
[ "$(post huge.der x.out)" = 413 ] || die "10000 entries should be refused as too large"
ok "50 entries -> malformedRequest; 10,000 entries -> 413"
# GET with what is not base64: still an OCSP answer (200, malformedRequest), so clients get the status they
# understand (server/api_ocsp.c)
for bad in '%25%25%25not-base64' 'AQ-D' 'AQ%2AD' '%3D%3D'; do
  st=$(curl -s -o bad.der -D bad.hdr -w '%{http_code}' "$BASE/ocsp/$bad")
  [ "$st" = 200 ] && grep -qi '^content-type: application/ocsp-response' bad.hdr || die "bad base64 GET $bad: $st $(cat bad.hdr)"
  said=$(openssl ocsp -respin bad.der -resp_text -noverify 2>&1 || true) # exits non-zero on an error answer
  [[ $said == *"Responder Error: malformedrequest"* ]] || die "bad base64 GET $bad: not a malformedRequest answer: $said"
done
ok "GET /ocsp/ with characters outside base64 or no data: 200 with an OCSP malformedRequest answer"
http GET /healthz; expect 200 "" "the daemon still serves after the hostile requests"
echo "$CHECKS passed, 0 failed"
