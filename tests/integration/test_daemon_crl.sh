#!/usr/bin/env bash
# Per-issuer CRLs and root CRLs (issue 4): served as DER at exactly the URL the leaves carry, verified by
# openssl and GnuTLS, published within a bounded wait after a revocation (debounced: the revoking request
# or the next tick), so openssl verify -crl_check rejects the revoked leaf and accepts a good one;
# numbered monotonically across revocations and restarts; cacheable (ETag/304, Last-Modified, Expires);
# `iotca crl show`; root CRLs from iotca-root imported and served beside them.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ceremony
write_config
jq --arg u "$BASE" '.base_url = $u' iotcad.json > cfg.tmp && mv cfg.tmp iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1
for n in a b c d e; do
  make_csr "$n" "$n.updates.example.com" "DNS:$n.updates.example.com"
  for _ in $(seq 1 50); do issue "$n" firmware-endpoint "$PROV"; [ "$STATUS" = 201 ] && break; sleep 0.1; done
  [ "$STATUS" = 201 ] || die "issue $n: $STATUS $OUT"
done
serial() { openssl x509 -in "$1.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
SER() { serial "$1" | tr 'a-f' 'A-F'; } # as openssl crl -text prints it
cdp=$(openssl x509 -in a.crt -noout -ext crlDistributionPoints | sed -n 's/^ *URI://p')
[ "$cdp" = "$BASE/crl/$ISSUER_ID.crl" ] || die "the leaf's CRL distribution point is '$cdp'"
ok "leaves carry the CRL distribution point $cdp"

fetch() { STATUS=$(curl -s -o "$1" -D "$1.hdr" -w '%{http_code}' "$BASE/crl/$2" "${@:3}") || STATUS=000; }
crlnum() { openssl crl -inform DER -in "$1" -noout -crlnumber | cut -d= -f2; }
# wait_listed FILE SERIAL...: fetch until the CRL lists every serial (the debounce publishes within a tick)
wait_listed() {
  local f=$1 s missing; shift
  for _ in $(seq 1 100); do
    fetch "$f" "$ISSUER_ID.crl"
    if [ "$STATUS" = 200 ]; then
      openssl crl -inform DER -in "$f" -noout -text > "$f.txt"
      missing=0; for s in "$@"; do grep -q "Serial Number: $s" "$f.txt" || missing=1; done
      [ $missing = 0 ] && return 0
    fi
    sleep 0.2
  done
  die "the CRL does not list $* after 20 s"
}
cat int1.pem roots.pem > cachain.pem
fetch c1.der "$(basename "$cdp")"; [ "$STATUS" = 200 ] || die "GET $cdp: $STATUS"
grep -qi '^content-type: application/pkix-crl' c1.der.hdr || die "content type: $(cat c1.der.hdr)"
openssl crl -inform DER -in c1.der -CAfile cachain.pem -verify -noout 2>&1 | grep >/dev/null "verify OK" || die "openssl crl -verify"
openssl crl -inform DER -in c1.der -noout -text | grep >/dev/null "No Revoked Certificates" || die "an empty CRL lists entries"
n1=$(crlnum c1.der)
ok "the CRL at the leaves' URL is DER and verifies with openssl; empty so far (number $n1)"

# HEAD (monitoring probes, caches): GET's status and headers, no body (RFC 9110 §9.3.2)
STATUS=$(curl -s -I -o h1.hdr -w '%{http_code} %{size_download}' "$cdp") || STATUS=000
[ "$STATUS" = "200 0" ] || die "HEAD $cdp: $STATUS"
grep -qi '^content-type: application/pkix-crl' h1.hdr || die "HEAD content type: $(cat h1.hdr)"
grep -qi "^content-length: $(stat -c %s c1.der)"$'\r'"\?$" h1.hdr || die "HEAD content length: $(cat h1.hdr)"
[ "$(grep -i '^etag' h1.hdr)" = "$(grep -i '^etag' c1.der.hdr)" ] || die "HEAD ETag differs from GET's"
ok "HEAD of the CRL answers 200 with GET's type, length and ETag and no body"

http POST "/v1/certificates/$(serial a)/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'
expect 200 "" "revoke leaf a (keyCompromise)"
wait_listed c2.der "$(SER a)"
grep -A4 "Serial Number: $(SER a)" c2.der.txt | grep >/dev/null "Key Compromise" || die "reason: $(cat c2.der.txt)"
grep -q "X509v3 CRL Number" c2.der.txt && grep -q "X509v3 Authority Key Identifier" c2.der.txt || die "extensions"
n2=$(crlnum c2.der)
[ $((n2)) -gt $((n1)) ] || die "CRL number did not increase ($n1 -> $n2)"
openssl crl -inform DER -in c2.der -CAfile cachain.pem -verify -noout 2>&1 | grep >/dev/null "verify OK" || die "crl -verify after revoke"
ok "within a bounded wait the CRL lists leaf a with Key Compromise, AKID and a higher number ($n2)"
openssl crl -inform DER -in c2.der -out c2.pem
set +e; openssl verify -crl_check -CRLfile c2.pem -CAfile roots.pem -untrusted int1.pem a.crt > va.out 2>&1; rca=$?; set -e
[ "$rca" != 0 ] && grep -q "certificate revoked" va.out || die "revoked leaf accepted: $(cat va.out)"
openssl verify -crl_check -CRLfile c2.pem -CAfile roots.pem -untrusted int1.pem b.crt >/dev/null || die "good leaf rejected with -crl_check"
ok "openssl verify -crl_check rejects the revoked leaf (certificate revoked) and accepts a good one"
certtool --crl-info --inder --infile c2.der > ct.out 2>&1 || die "certtool --crl-info: $(cat ct.out)"
grep -q "Revoked certificates (1)" ct.out || die "certtool: $(cat ct.out)"
openssl x509 -in int1.pem -outform DER -out int1.der # --inder applies to the CA certificate too
certtool --verify-crl --inder --infile c2.der --load-ca-certificate int1.der > ctv.out 2>&1 || die "certtool --verify-crl: $(cat ctv.out)"
ok "GnuTLS certtool reads the CRL and verifies its signature"

etag=$(grep -i '^etag:' c2.der.hdr | cut -d' ' -f2 | tr -d '\r')
for h in 'cache-control: max-age=' 'last-modified:' 'expires:' 'etag:'; do grep -qi "^$h" c2.der.hdr || die "no $h header: $(cat c2.der.hdr)"; done
fetch c3.der "$ISSUER_ID.crl" -H "If-None-Match: $etag"; [ "$STATUS" = 304 ] || die "If-None-Match: $STATUS"
[ ! -s c3.der ] || die "a 304 carries a body"
fetch c3.der "$ISSUER_ID.crl" -H "If-None-Match: \"x\", W/$etag"; [ "$STATUS" = 304 ] || die "If-None-Match list: $STATUS"
fetch c3.der "$ISSUER_ID.crl" -H 'If-None-Match: "other"'; [ "$STATUS" = 200 ] || die "a stale ETag: $STATUS"
ok "caching headers (Cache-Control, Last-Modified, Expires, ETag); 304 for the current ETag, 200 otherwise"

# a burst of revocations is debounced, not lost
http POST "/v1/certificates/$(serial c)/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"superseded"}'; expect 200 "" "revoke leaf c"
http POST "/v1/certificates/$(serial d)/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"unspecified"}'; expect 200 "" "revoke leaf d at once"
wait_listed c4.der "$(SER a)" "$(SER c)" "$(SER d)"
grep -A4 "Serial Number: $(SER d)" c4.der.txt | grep >/dev/null "Reason Code" && die "an unspecified reason is written (RFC 5280 §5.3.1)"
n4=$(crlnum c4.der)
[ $((n4)) -gt $((n2)) ] || die "CRL number did not increase ($n2 -> $n4)"
ok "two revocations in a row both appear ($n4), unspecified without a reasonCode"

"$IOTCA_CLI" --url "$BASE" crl show "$ISSUER_ID" > show.txt || die "iotca crl show: $(cat show.txt)"
grep -q "CRL number: *$((n4))" show.txt && grep -q "Revoked: *3" show.txt && grep -q "$(serial a) .*keyCompromise" show.txt \
  && grep -q "verified here" show.txt || die "iotca crl show: $(cat show.txt)"
"$IOTCA_CLI" --url "$BASE" --json crl show "$ISSUER_ID" --out show.der > show.json || die "iotca --json crl show"
[ "$(jq -r .count show.json)" = 3 ] && [ "$(jq -r --arg s "$(serial c)" '.entries[] | select(.serial == $s) | .reason' show.json)" = superseded ] \
  || die "crl show --json: $(cat show.json)"
cmp -s show.der c4.der || die "--out did not save the served DER"
set +e; "$IOTCA_CLI" --url "$BASE" crl show ../1 >/dev/null 2>&1; rc=$?; set -e; [ "$rc" = 2 ] || die "crl show ../1: exit $rc"
ok "iotca crl show prints number, dates, entries with reasons; --json and --out work"

stop_daemon; start_daemon
fetch c5.der "$ISSUER_ID.crl"; [ "$(crlnum c5.der)" = "$n4" ] || die "a restart alone made a new CRL"
http POST "/v1/certificates/$(serial b)/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"cessationOfOperation"}'; expect 200 "" "revoke leaf b after a restart"
wait_listed c6.der "$(SER b)"
n6=$(crlnum c6.der)
[ $((n6)) -gt $((n4)) ] || die "CRL number reused after restart ($n4 -> $n6)"
[ "$(grep -c 'Serial Number' c6.der.txt)" = 4 ] || die "four entries expected"
ok "numbers keep increasing across restarts ($n4 -> $n6)"
[ "$(find crl -name "$ISSUER_ID-*.crl" | wc -l)" -le 2 ] || die "old CRL files are not pruned: $(ls crl)"
[ -f "crl/$ISSUER_ID-$((n6)).crl" ] && cmp -s "crl/$ISSUER_ID-$((n6)).crl" c6.der || die "the served CRL is not crl/$ISSUER_ID-$((n6)).crl"
ok "the CRL is the file crl/$ISSUER_ID-$((n6)).crl next to the database; older ones are pruned"

for bad in 99.crl abc.crl 0.crl 01.crl "$ISSUER_ID.crl.bak" "$ISSUER_ID" root-9.crl root-1.crl root-0.crl .crl; do
  fetch x.der "$bad"; [ "$STATUS" = 404 ] || die "/crl/$bad: $STATUS"
done
for bad in '/crl/../x' '/crl/%2e%2e' '/crl/1.crl/x' '/crl/'; do
  STATUS=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$BASE$bad"); [ "$STATUS" = 404 ] || die "$bad: $STATUS"
done
http POST /v1/issuers -H "Authorization: Bearer $ADMIN"; pending=$(echo "$OUT" | jq -r .id)
fetch x.der "$pending.crl"; [ "$STATUS" = 404 ] || die "a pending issuer has no CRL: $STATUS"
ok "404 for unknown, malformed, traversal, pending and not-yet-imported CRL names"

curl -s "$BASE/metrics" > metrics.txt
grep -q "^iotca_crl_next_update_seconds{issuer=\"[^\"]*\",id=\"$ISSUER_ID\"} [0-9]" metrics.txt \
  && grep -q "^iotca_crl_entries{issuer=\"[^\"]*\",id=\"$ISSUER_ID\"} 4$" metrics.txt || die "CRL metrics: $(grep crl metrics.txt)"
ok "/metrics: seconds to each CRL's nextUpdate and its entries"

# root CRLs from the offline ceremony
"$ROOT_TOOL" revoke-intermediate --vault r1 --serial "$(openssl x509 -in int1.pem -noout -serial | cut -d= -f2)" --reason superseded --yes >/dev/null
"$ROOT_TOOL" crl --vault r1 --out r1.crl --passphrase-file rootpass --yes >/dev/null
http PUT /v1/ca/root-crl -H "Authorization: Bearer $PROV" --data-binary @r1.crl; expect 403 forbidden "provisioners cannot import"
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary @r1.crl; expect 200 "" "import R1's CRL"
[ "$(echo "$OUT" | jq -r .url)" = /crl/root-1.crl ] || die "root CRL url: $OUT"
fetch root1.der root-1.crl; [ "$STATUS" = 200 ] || die "GET root CRL"
cmp -s root1.der <(openssl crl -in r1.crl -outform DER) || die "served root CRL differs from the imported one"
openssl crl -inform DER -in root1.der -CAfile r1/root.pem -verify -noout 2>&1 | grep >/dev/null "verify OK" || die "root CRL verify"
certtool --crl-info --inder --infile root1.der 2>/dev/null | grep >/dev/null "Revoked certificates (1)" || die "certtool root CRL"
"$IOTCA_CLI" --url "$BASE" crl show root-1 | grep >/dev/null "Revoked: *1" || die "iotca crl show root-1"
ok "the root CRL is served at /crl/root-1.crl byte for byte, verifies against R1, reads in certtool and iotca"
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary @r1.crl; expect 409 stale_crl "importing the same CRL number again"
"$ROOT_TOOL" init --vault r3 --name "Stranger Root" --key ecdsa-p256 --passphrase-file rootpass >/dev/null
"$ROOT_TOOL" crl --vault r3 --out r3.crl --passphrase-file rootpass --yes >/dev/null
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary @r3.crl; expect 422 policy "a CRL from a root not configured"
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary @c6.der; expect 422 policy "an issuer's CRL offered as a root CRL"
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary 'garbage'; expect 400 "" "garbage"
# bytes that are not UTF-8 in a PEM label (found by fuzz_api): a 400 with a JSON detail, not a bare 500
printf -- '-----BEGIN \xa0-----\n' > badlabel.pem
http PUT /v1/ca/root-crl -H "Authorization: Bearer $ADMIN" --data-binary @badlabel.pem; expect 400 "" "a PEM label that is not UTF-8"
echo "$OUT" | jq -e '.detail | length > 0' >/dev/null || die "no detail for a non-UTF-8 PEM label: $OUT"
echo "$CHECKS passed, 0 failed"
