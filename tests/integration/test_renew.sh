#!/usr/bin/env bash
# Renewal (issue 19, point 7): `iotca cert renew SERIAL|--cert FILE [--csr FILE | --new-key FILE]` and
# POST /v1/certificates/{serial}/renew issue a successor with the same subject, SANs and profile (the same key,
# a CSR's, or a key made by the CLI), recorded as renewing its predecessor and shown by GET; checked with
# openssl. Refusals: unknown serial 404, revoked 409, a CSR asking for other names 400, a token scoped to
# other profiles 403, the profile's own rules 422, bad bodies and bad flags (nothing sent, nothing recorded).
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
cli() { "$IOTCA_CLI" --url "$BASE" --token "$PROV" "$@"; }
serial_of() { # as iotca writes it: 16 octets in lower-case hex (openssl drops leading zero octets)
  local s; s=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
  while [ ${#s} -lt 32 ]; do s="0$s"; done; echo "$s"
}
subject_of() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253; }
sans_of() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' '; }
pub_of() { openssl x509 -in "$1" -noout -pubkey; }
certs() { sql "SELECT count(*) FROM certificates"; }
leaf_only() { openssl x509 -in "$1" -out "$2"; } # the first certificate of a PEM file (cert issue writes the chain after it)

# ---- a certificate to renew, issued by the CLI with a key made here ----
cli cert issue --profile firmware-endpoint --key-out k1.pem --cn r1.updates.example.com \
  --dns r1.updates.example.com --dns r1-alt.updates.example.com --ttl 10d --out r1.full 2>issue.err ||
  die "cert issue: $(cat issue.err)"
leaf_only r1.full r1.crt
s1=$(serial_of r1.crt)
ok "a certificate to renew: $s1"

# ---- the same key, by serial ----
cli cert renew "$s1" --out r2.full > renew.out 2>&1 || die "cert renew SERIAL: $(cat renew.out)"
leaf_only r2.full r2.crt
s2=$(serial_of r2.crt)
[ "$s2" != "$s1" ] || die "the successor has the predecessor's serial"
grep -q "^renewed $s1 as $s2 (profile firmware-endpoint" renew.out || die "the CLI must say what it renewed: $(cat renew.out)"
[ "$(subject_of r2.crt)" = "$(subject_of r1.crt)" ] || die "subject: $(subject_of r2.crt) vs $(subject_of r1.crt)"
[ "$(sans_of r2.crt)" = "$(sans_of r1.crt)" ] || die "SANs: $(sans_of r2.crt) vs $(sans_of r1.crt)"
[ "$(pub_of r2.crt)" = "$(pub_of r1.crt)" ] || die "without --csr or --new-key the key must stay"
openssl verify -CAfile roots.pem -untrusted <(sed -n '/END CERTIFICATE/,$p' r2.full | tail -n +2) r2.crt >/dev/null ||
  die "the successor does not verify"
# the profile's default TTL (30 days), not the predecessor's 10
end=$(date -u -d "$(openssl x509 -in r2.crt -noout -enddate | cut -d= -f2)" +%s)
[ $((end - $(date +%s))) -gt $((29 * 86400)) ] || die "the successor should get the profile default of 30 days"
ok "cert renew SERIAL: a successor with the same subject, SANs and key (openssl), verifying, under the profile's TTL"

http GET "/v1/certificates/$s2" -H "Authorization: Bearer $PROV"; expect 200 "" "fetch the successor"
[ "$(echo "$OUT" | jq -r .renews)" = "$s1" ] && [ "$(echo "$OUT" | jq -r .profile)" = firmware-endpoint ] ||
  die "the successor must say it renews $s1: $OUT"
http GET "/v1/certificates/$s1" -H "Authorization: Bearer $PROV"; expect 200 "" "fetch the predecessor"
[ "$(echo "$OUT" | jq -r .renewed_by)" = "$s2" ] || die "the predecessor must say it was renewed by $s2: $OUT"
cli cert show "$s2" > show2.txt && grep -q "^  Renews: *$s1$" show2.txt || die "cert show of the successor: $(cat show2.txt)"
cli cert show "$s1" > show1.txt && grep -q "^  Renewed by: *$s2$" show1.txt || die "cert show of the predecessor: $(cat show1.txt)"
ok "GET shows renews on the successor and renewed_by on the predecessor, and so does iotca cert show"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'POST /v1/certificates/*/renew' AND outcome = '201' AND subject LIKE 'certificate $s2 (firmware-endpoint) renewing $s1'")" = 1 ] ||
  die "the renewal must be in the audit trail: $(sql "SELECT action, subject, outcome FROM audit ORDER BY seq DESC LIMIT 3")"
ok "the renewal is audited with both serials"

# ---- a new key made by the CLI, the certificate named by its file ----
cli cert renew --cert r2.crt --new-key k3.pem --ttl 7d --out r3.full > renew3.out 2>&1 || die "cert renew --cert --new-key: $(cat renew3.out)"
leaf_only r3.full r3.crt
[ "$(stat -c %a k3.pem)" = 600 ] || die "the new key must be mode 0600"
[ "$(openssl pkey -in k3.pem -pubout)" = "$(pub_of r3.crt)" ] || die "the successor must carry the new key"
[ "$(pub_of r3.crt)" != "$(pub_of r1.crt)" ] || die "--new-key kept the old key"
[ "$(subject_of r3.crt)" = "$(subject_of r1.crt)" ] && [ "$(sans_of r3.crt)" = "$(sans_of r1.crt)" ] || die "names of r3"
grep -q "key:         k3.pem (ecdsa-p256, never sent)" renew3.out || die "the CLI must name the new key: $(cat renew3.out)"
end=$(date -u -d "$(openssl x509 -in r3.crt -noout -enddate | cut -d= -f2)" +%s)
[ $((end - $(date +%s))) -le $((7 * 86400)) ] || die "--ttl 7d must give at most 7 days"
s3=$(serial_of r3.crt)
http GET "/v1/certificates/$s3" -H "Authorization: Bearer $PROV"
[ "$(echo "$OUT" | jq -r .renews)" = "$s2" ] || die "r3 renews r2: $OUT"
ok "cert renew --cert FILE --new-key FILE: a key made here (0600), the same subject and SANs, --ttl honoured"

# ---- a CSR for a new key (names in another order) ----
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k4.pem 2>/dev/null
openssl req -new -key k4.pem -subj "/CN=r1.updates.example.com" \
  -addext "subjectAltName=DNS:r1-alt.updates.example.com,DNS:r1.updates.example.com" -out k4.csr
cli cert renew "$s3" --csr k4.csr --out r4.full >/dev/null 2>renew4.err || die "cert renew --csr: $(cat renew4.err)"
leaf_only r4.full r4.crt
[ "$(openssl pkey -in k4.pem -pubout)" = "$(pub_of r4.crt)" ] || die "the successor must carry the CSR's key"
ok "cert renew --csr: the CSR's key, the same names in any order"

# ---- the API directly: same key, no body ----
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV"; expect 201 "" "POST renew without a body"
[ "$(echo "$OUT" | jq -r .renews)" = "$s1" ] && [ "$(echo "$OUT" | jq -r .ttl.asked)" = 2592000 ] || die "answer: $OUT"
ok "the answer names the renewed serial and the TTL asked"

# ---- refusals ----
n=$(certs)
openssl req -new -key k4.pem -subj "/CN=r1.updates.example.com" \
  -addext "subjectAltName=DNS:r1.updates.example.com,DNS:other.updates.example.com" -out other.csr
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV" -d "$(jq -n --rawfile c other.csr '{csr: $c}')"
expect 400 bad_request "a CSR asking for another name"
grep -q "asks for DNS:other.updates.example.com" <<<"$OUT" || die "the refusal must name the name: $OUT"
openssl req -new -key k4.pem -subj "/CN=r1.updates.example.com" -addext "subjectAltName=DNS:r1.updates.example.com" -out fewer.csr
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV" -d "$(jq -n --rawfile c fewer.csr '{csr: $c}')"
expect 400 bad_request "a CSR asking for fewer names"
grep -q "lacks DNS:r1-alt.updates.example.com" <<<"$OUT" || die "the refusal must name the missing name: $OUT"
set +e; cli cert renew "$s1" --csr other.csr --out nope.pem 2>other.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "keeps its names" other.err && [ ! -e nope.pem ] || die "CLI with a CSR for other names: rc $rc $(cat other.err)"
ok "the CLI reports it (exit 3, nothing written)"
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV" -d '{"ttl": "91d"}'
expect 422 policy "a TTL over the profile's maximum, as for issuance"
grep -q "TTL of 91 days exceeds the maximum of 90 days" <<<"$OUT" || die "the TTL refusal in days: $OUT"
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV" -d '{"profile": "device"}'
expect 400 bad_request "a body naming a profile (the profile is the certificate's)"
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV" -d '{"ttl": "soon"}'
expect 400 bad_request "a bad ttl"
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV" -d '{"csr": "junk"}'
expect 400 malformed "a CSR that does not parse"
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV" -d '[1'
expect 400 "" "a body that is not JSON"
http POST "/v1/certificates/0123456789abcdef/renew" -H "Authorization: Bearer $PROV"; expect 404 not_found "an unknown serial"
http POST "/v1/certificates/zz/renew" -H "Authorization: Bearer $PROV"; expect 404 not_found "a serial that is not hex"
http POST "/v1/certificates/$s1/renew"; expect 401 "" "no token"
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV_DEV"; expect 403 forbidden "a token scoped to other profiles"
grep -q "may not use profile 'firmware-endpoint'" <<<"$OUT" || die "the 403 must name the profile: $OUT"
set +e; "$IOTCA_CLI" --url "$BASE" --token "$PROV_DEV" cert renew --cert r1.crt 2>scope.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q forbidden scope.err || die "CLI with an out-of-scope token: rc $rc $(cat scope.err)"
http POST "/v1/certificates/$s1/revoke" -H "Authorization: Bearer $PROV" -d '{"reason": "superseded"}'; expect 200 "" "revoke the first"
http POST "/v1/certificates/$s1/renew" -H "Authorization: Bearer $PROV"; expect 409 revoked "a revoked certificate"
set +e; cli cert renew --cert r1.crt 2>revoked.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "revoked" revoked.err || die "CLI renewing a revoked certificate: rc $rc $(cat revoked.err)"
[ "$(certs)" = "$n" ] || die "refused renewals recorded certificates: $n before, $(certs) after"
ok "every refusal recorded nothing"
[ "$(sql "SELECT count(*) FROM audit WHERE action LIKE 'POST /v1/certificates/%/renew' AND outcome = '409'")" -ge 1 ] ||
  die "a refused renewal must be audited"
ok "refused renewals are audited"

# ---- bad flags: exit 2, nothing sent ----
n=$(certs)
flag_refused() { # flag_refused MESSAGE ARGS...: exit 2 with MESSAGE on stderr
  local want=$1; shift
  set +e; cli cert renew "$@" >/dev/null 2>flag.err; local rc=$?; set -e
  [ "$rc" = 2 ] && grep -q -- "$want" flag.err || die "cert renew $*: expected exit 2 and '$want', got $rc: $(cat flag.err)"
}
flag_refused "needs SERIAL or --cert FILE"
flag_refused "not both" "$s2" --cert r2.crt
flag_refused "not both" "$s2" --csr k4.csr --new-key k9.pem
flag_refused "applies only with --new-key" "$s2" --key-type ecdsa-p384
flag_refused "already exists" "$s2" --new-key k1.pem
flag_refused "already exists" "$s2" --out r2.full
flag_refused "hexadecimal" xyz
flag_refused "--ttl" "$s2" --ttl forever
flag_refused "--cert nothere.pem" --cert nothere.pem
flag_refused "does not take --profile" "$s2" --profile device
flag_refused "unexpected argument" "$s2" "$s3"
[ ! -e k9.pem ] || die "a refused command made a key"
[ "$(certs)" = "$n" ] || die "bad flags sent something"
ok "bad flags are refused before anything is made or sent"
echo "$CHECKS passed, 0 failed"
