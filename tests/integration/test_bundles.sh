#!/usr/bin/env bash
# Trust bundles (SPEC §7, issue 5): every format GET /v1/ca/bundle serves is consumed by the real thing. The c
# header is compiled into programs that load it with mbedTLS and with wolfSSL and verify chains the daemon
# issued; the bearssl header is compiled against Debian's BearSSL and br_x509_minimal validates the same
# chains at explicit times; pem0 is parsed by mbedTLS with the NUL counted; the ESP-IDF blobs are decoded by
# a reader written from the layouts; der is a tar GNU tar lists; pins and the manifest match what openssl
# computes. `iotca bundle` online and offline give the same bytes. Roots: R1 ECDSA P-384 (the SPEC default)
# and R2 RSA-3072, so both kinds of BearSSL anchor key are exercised; R2's shorter name sorts first, so the
# ESP-IDF blobs must reorder what the config lists as R1, R2.
HERE=$(cd "$(dirname "$0")" && pwd)
COMPAT=$(cd "${IOTCA_SRC:-$HERE/../..}" && pwd)/tests/compat
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
READER="$IOTCA_BIN/tests/esp-bundle-reader"
PEM0="$IOTCA_BIN/tests/bundle-pem0-mbedtls"
CC=${CC:-cc}
for p in "$CC" openssl tar jq curl pkg-config certtool "$READER" "$PEM0"; do
  command -v "$p" >/dev/null 2>&1 || [ -x "$p" ] || die "required program $p is not available"
done
[ -f /usr/include/bearssl.h ] || die "BearSSL's header is missing (apt-get install libbearssl-dev)"
CFLAGS_T=(-std=c11 -Wall -Wextra -Werror -O2)

# ---- a CA with a P-384 and an RSA-3072 root, two issuers, a leaf under each --------------------------------
printf 'correct horse battery staple\n' > rootpass
chmod 600 rootpass
"$ROOT_TOOL" init --vault r1 --name "Test Root R1 primary" --key ecdsa-p384 --passphrase-file rootpass >/dev/null
"$ROOT_TOOL" init --vault r2 --name "Test Root R2" --key rsa-3072 --passphrase-file rootpass >/dev/null
cat r1/root.pem r2/root.pem > roots.pem
write_config
"$IOTCAD" init --config iotcad.json >/dev/null || die "iotcad init"
tokens
start_daemon
new_issuer int1 r1
int1_id=$ISSUER_ID
make_csr fw1 fw1.updates.example.com "DNS:fw1.updates.example.com"
issue fw1 firmware-endpoint "$PROV"; expect 201 "" "leaf under R1 (P-384)"
new_issuer int2 r2
for _ in $(seq 1 300); do
  http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
  [ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $ISSUER_ID) | .state")" = active ] && break
  sleep 0.1
done
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $ISSUER_ID) | .state")" = active ] || die "int2 not active: $OUT"
make_csr fw2 fw2.updates.example.com "DNS:fw2.updates.example.com"
issue fw2 firmware-endpoint "$PROV"; expect 201 "" "leaf under R2 (RSA-3072) after the tick activated int2"
openssl verify -CAfile r1/root.pem -untrusted fw1.chain fw1.crt >/dev/null || die "fw1 should chain to R1"
openssl verify -CAfile r2/root.pem -untrusted fw2.chain fw2.crt >/dev/null || die "fw2 should chain to R2"
ok "two chains issued by the daemon: fw1 -> int1 -> R1 (P-384), fw2 -> int2 -> R2 (RSA-3072)"
[ "$int1_id" != "$ISSUER_ID" ] || die "two issuers expected"
for n in fw1 fw2; do openssl x509 -in "$n.crt" -outform DER -out "$n.der"; openssl x509 -in "$n.chain" -outform DER -out "$n.int.der"; done

# a rogue chain whose root has R1's exact name but another key: found by name, must fail on the signature
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out rogue-root.key 2>/dev/null
openssl req -x509 -new -key rogue-root.key -subj "/CN=Test Root R1 primary" -days 3650 -out rogue-root.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out rogue-int.key 2>/dev/null
openssl req -new -key rogue-int.key -subj "/CN=Rogue Issuing CA" -out rogue-int.csr
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > int.ext
openssl x509 -req -in rogue-int.csr -CA rogue-root.pem -CAkey rogue-root.key -days 365 -extfile int.ext -out rogue-int.pem 2>/dev/null
make_csr rogue rogue.updates.example.com
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:rogue.updates.example.com\n' > leaf.ext
openssl x509 -req -in rogue.csr -CA rogue-int.pem -CAkey rogue-int.key -days 30 -extfile leaf.ext -out rogue.crt 2>/dev/null
cp rogue-int.pem rogue.chain
openssl x509 -in rogue.crt -outform DER -out rogue.der; openssl x509 -in rogue-int.pem -outform DER -out rogue.int.der
[ "$(openssl x509 -in rogue-int.pem -noout -issuer)" = "$(openssl x509 -in r1/root.pem -noout -subject | sed 's/^subject/issuer/')" ] ||
  die "the rogue intermediate should name R1 as its issuer"
ok "a rogue chain under a root named exactly like R1 (another key)"

# fetch FORMAT FILE: GET /v1/ca/bundle?format=FORMAT without a token; headers in FILE.hdr
fetch() {
  STATUS=$(curl -s -D "$2.hdr" -o "$2" -w '%{http_code}' "$BASE/v1/ca/bundle?format=$1") || STATUS=000
  [ "$STATUS" = 200 ] || die "GET bundle format=$1: HTTP $STATUS: $(head -c 300 "$2")"
  tr -d '\r' < "$2.hdr" > "$2.h"
}
header() { sed -n "s/^$1: //Ip" "$2.h" | head -1; }
declare -A CTYPE=([pem]=application/x-pem-file [pem0]=application/octet-stream [der]=application/x-tar
  [c]=text/x-c [bearssl]=text/x-c [esp]=application/octet-stream [esp-legacy]=application/octet-stream
  [pins]="text/plain; charset=utf-8")
for f in pem pem0 der c bearssl esp esp-legacy pins; do
  fetch "$f" "bundle.$f"
  [ "$(header Content-Type "bundle.$f")" = "${CTYPE[$f]}" ] || die "$f: content type $(header Content-Type "bundle.$f")"
  sum=$(sha256sum < "bundle.$f" | cut -d' ' -f1)
  [ "$(header X-Iotca-Bundle-Sha256 "bundle.$f")" = "$sum" ] || die "$f: X-Iotca-Bundle-Sha256 is not the body's SHA-256"
  [ "$(header ETag "bundle.$f")" = "\"${sum:0:32}\"" ] || die "$f: ETag"
  header Link "bundle.$f" | grep -F >/dev/null "</v1/ca/bundle?format=manifest&for=$f>; rel=\"describedby\"" || die "$f: Link to the manifest"
done
ok "all 8 formats served publicly (no token), with their content type, X-Iotca-Bundle-Sha256 = SHA-256 of the body, ETag and a Link to the manifest"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"$(sha256sum < bundle.c | cut -c1-32)\"" "$BASE/v1/ca/bundle?format=c")
[ "$STATUS" = 304 ] || die "If-None-Match with the ETag: $STATUS"
ok "a cached bundle revalidates: If-None-Match with its ETag -> 304"

# ---- c: compiled against the served header, loaded by mbedTLS and by wolfSSL ---------------------------------
mkdir -p inc && cp bundle.c inc/iotca_trust_anchors.h
"$CC" "${CFLAGS_T[@]}" -I inc "$COMPAT/bundle_c_mbedtls.c" -o c-mbedtls -lmbedx509 -lmbedcrypto 2> cc.err || { cat cc.err >&2; die "cc (mbedTLS consumer)"; }
# shellcheck disable=SC2046
"$CC" "${CFLAGS_T[@]}" -I inc "$COMPAT/bundle_c_wolfssl.c" -o c-wolfssl $(pkg-config --cflags --libs wolfssl) 2> cc.err || { cat cc.err >&2; die "cc (wolfSSL consumer)"; }
ok "the served c header compiles with -Wall -Wextra -Werror into an mbedTLS and a wolfSSL program"
for n in fw1 fw2; do
  out=$(./c-mbedtls "$n.crt" "$n.chain") || die "mbedTLS rejected $n: $out"
  echo "$out" | grep >/dev/null "loaded 2 anchors with mbedtls_x509_crt_parse_der; chain verified" || die "mbedTLS: $out"
  out=$(./c-wolfssl "$n.crt" "$n.chain") || die "wolfSSL rejected $n: $out"
  echo "$out" | grep >/dev/null "loaded 2 anchors .*chain verified" || die "wolfSSL: $out"
done
ok "mbedtls_x509_crt_parse_der loads both anchors and mbedtls_x509_crt_verify accepts fw1 (P-384 root) and fw2 (RSA root)"
ok "wolfSSL_CTX_load_verify_buffer / CertManagerLoadCABuffer load both anchors; the intermediates verify against them and the leaves verify"
set +e; out=$(./c-mbedtls rogue.crt rogue.chain); rc=$?; set -e
[ "$rc" = 1 ] && echo "$out" | grep >/dev/null "not correctly signed by the trusted CA" || die "mbedTLS and the rogue chain: $rc $out"
set +e; out=$(./c-wolfssl rogue.crt rogue.chain); rc=$?; set -e
[ "$rc" = 1 ] && echo "$out" | grep >/dev/null "intermediate rejected" || die "wolfSSL and the rogue chain: $rc $out"
ok "the rogue chain (issuer named like R1) is rejected by mbedTLS (not signed by the trusted CA) and wolfSSL"

# ---- bearssl: br_x509_minimal with TAs / TAs_NUM ------------------------------------------------------------
cp bundle.bearssl inc/iotca_bearssl_tas.h
grep -q "BR_EC_secp384r1" bundle.bearssl && grep -q "BR_KEYTYPE_RSA" bundle.bearssl && grep -q '^#define TAs_NUM   2$' bundle.bearssl ||
  die "bearssl header lacks the P-384 anchor, the RSA anchor or TAs_NUM"
"$CC" "${CFLAGS_T[@]}" -I inc "$COMPAT/bundle_bearssl.c" -o br-verify -lbearssl 2> cc.err || { cat cc.err >&2; die "cc (BearSSL consumer)"; }
ok "the served bearssl header compiles against Debian's BearSSL (an EC P-384 and an RSA anchor, TAs_NUM 2)"
now=$(date +%s)
for n in fw1 fw2; do
  out=$(./br-verify "$now" "$n.der" "$n.int.der") || die "BearSSL rejected $n: $out"
  [ "$out" = "bearssl: 2 trust anchors (TAs_NUM), end_chain = 0 (BR_ERR_OK)" ] || die "BearSSL: $out"
done
ok "br_x509_minimal validates fw1 (P-384 anchor) and fw2 (RSA anchor) now: end_chain = 0 (BR_ERR_OK)"
leaf_end=$(date -u -d "$(openssl x509 -in fw1.crt -noout -enddate | cut -d= -f2)" +%s)
set +e; out=$(./br-verify $((leaf_end + 86400)) fw1.der fw1.int.der); rc=$?; set -e
[ "$rc" = 1 ] && echo "$out" | grep >/dev/null "end_chain = 54 (BR_ERR_X509_EXPIRED)" || die "BearSSL a day after the leaf expires: $rc $out"
ok "at an explicit time a day after the leaf's notAfter BearSSL says BR_ERR_X509_EXPIRED (54)"
set +e; out=$(./br-verify "$now" rogue.der rogue.int.der); rc=$?; set -e
[ "$rc" = 1 ] && echo "$out" | grep >/dev/null "end_chain = 62 (BR_ERR_X509_NOT_TRUSTED)" || die "BearSSL and the rogue chain: $rc $out"
ok "the rogue chain: BR_ERR_X509_NOT_TRUSTED (62) although its issuer DN matches TA0"

# ---- pem and pem0 -------------------------------------------------------------------------------------------
[ "$(grep -c 'BEGIN CERTIFICATE' bundle.pem)" = 2 ] || die "pem: two certificates expected"
for n in 1 2; do
  openssl x509 -in r$n/root.pem -outform DER | cmp -s - <(awk -v k=$n '/BEGIN CERT/{i++} i==k' bundle.pem | openssl x509 -outform DER) ||
    die "pem: certificate $n is not root R$n"
  fp=$(openssl x509 -in r$n/root.pem -noout -fingerprint -sha256 | cut -d= -f2)
  grep -qx "# SHA-256:   $fp" bundle.pem || die "pem: comment with R$n's fingerprint missing"
done
for n in fw1 fw2; do openssl verify -CAfile bundle.pem -untrusted "$n.chain" "$n.crt" >/dev/null || die "openssl verify with bundle.pem ($n)"; done
certtool --verify --load-ca-certificate bundle.pem --infile <(cat fw2.crt fw2.chain) 2>&1 | grep >/dev/null "Chain verification output: Verified" ||
  die "GnuTLS certtool does not verify fw2 with bundle.pem"
ok "pem: R1 then R2 with commented fingerprints; openssl verify and GnuTLS certtool accept the chains with it"
[ "$(stat -c %s bundle.pem0)" = $(($(stat -c %s bundle.pem) + 1)) ] && head -c -1 bundle.pem0 | cmp -s - bundle.pem &&
  [ "$(tail -c 1 bundle.pem0 | od -An -tx1 | tr -d ' ')" = 00 ] || die "pem0 is not pem plus one NUL"
out=$("$PEM0" bundle.pem0 fw1.crt fw1.chain) || die "mbedTLS and pem0: $out"
echo "$out" | grep >/dev/null "NUL counted): 2 certificates" && echo "$out" | grep >/dev/null "chain verified" || die "pem0: $out"
"$PEM0" bundle.pem0 fw2.crt fw2.chain >/dev/null || die "pem0 does not verify fw2"
ok "pem0 = pem + NUL: mbedtls_x509_crt_parse with the NUL counted parses both roots and they verify fw1 and fw2"
set +e; out=$("$PEM0" bundle.pem0 --drop-nul); rc=$?; set -e
[ "$rc" = 3 ] || die "mbedTLS should refuse the buffer without its NUL: $rc $out"
ok "and with length - 1 (NUL not counted) mbedTLS refuses it: $out"

# ---- der: a tar of one DER file per root ----------------------------------------------------------------------
tar -tf bundle.der > der.list 2> tar.err && [ ! -s tar.err ] || die "tar -t: $(cat tar.err)"
[ "$(cat der.list)" = "$(printf '01-test-root-r1-primary.der\n02-test-root-r2.der')" ] || die "der members: $(cat der.list)"
mkdir der.x && tar -xf bundle.der -C der.x
cmp -s der.x/01-test-root-r1-primary.der <(openssl x509 -in r1/root.pem -outform DER) &&
  cmp -s der.x/02-test-root-r2.der <(openssl x509 -in r2/root.pem -outform DER) || die "der members differ from the roots"
ok "der: tar -t lists one file per root, each equal to openssl x509 -outform DER of that root"

# ---- esp and esp-legacy: decoded by a reader written from the layouts ---------------------------------------
# subject_der CERT OUT: the subject Name's DER (the 6th element of the TBSCertificate), cut out by offset
subject_der() {
  openssl x509 -in "$1" -outform DER -out "$2.crt.der"
  local line off hl len
  line=$(openssl asn1parse -inform DER -in "$2.crt.der" | sed -nE 's/^ *([0-9]+):d=2 +hl= *([0-9]+) +l= *([0-9]+) .*/\1 \2 \3/p' | sed -n 6p)
  read -r off hl len <<<"$line"
  dd if="$2.crt.der" of="$2" bs=1 skip="$off" count=$((hl + len)) status=none
}
for n in 1 2; do
  subject_der r$n/root.pem r$n.subject.der
  openssl x509 -in r$n/root.pem -pubkey -noout | openssl pkey -pubin -outform DER -out r$n.spki.der
done
# the order the binary search needs: subjects ascending by bytes (hex strings sort the same way under LC_ALL=C)
order=$(for n in 1 2; do printf '%s %s\n' "$(od -An -tx1 -v r$n.subject.der | tr -d ' \n')" "$n"; done | LC_ALL=C sort | cut -d' ' -f2 | tr '\n' ' ')
[ "$order" = "2 1 " ] || die "R2's shorter subject should sort first (order: $order)"
[ "$(od -An -tu4 -N4 --endian=little bundle.esp | tr -d ' ')" = 8 ] || die "esp: the first u32 LE offset must be 4 * 2"
[ "$(od -An -tu2 -N2 --endian=big bundle.esp-legacy | tr -d ' ')" = 2 ] || die "esp-legacy: the u16 BE count must be 2"
for layout in new:esp legacy:esp-legacy; do
  l=${layout%%:*} f=${layout#*:}
  mkdir -p "dump.$f"
  out=$("$READER" "$l" "bundle.$f" --dump "dump.$f" --verify int1.pem --verify int2.pem) || die "reader ($l) on $f: $out"
  echo "$out" | grep >/dev/null "2 entries, sorted by subject" || die "$f: $out"
  i=0
  for n in $order; do
    cmp -s "dump.$f/$i.name.der" r$n.subject.der || die "$f entry $i: name is not R$n's subject DER"
    cmp -s "dump.$f/$i.key.der" r$n.spki.der || die "$f entry $i: key is not R$n's SPKI DER"
    i=$((i + 1))
  done
  set +e; bad=$("$READER" "$l" "bundle.$f" --verify rogue-int.pem); rc=$?; set -e
  [ "$rc" = 1 ] && echo "$bad" | grep >/dev/null "matches the issuer name but its key does not verify" || die "$f and the rogue intermediate: $bad"
  ok "$f ($l layout): every entry decodes to a root's subject DER and SPKI DER (openssl), sorted by subject; the binary search finds int1's and int2's issuers and mbedTLS verifies them with the entry's key; the rogue intermediate is refused"
done
head -c -1 bundle.esp > esp.short
set +e; "$READER" new esp.short >/dev/null; rc=$?; set -e
[ "$rc" = 1 ] || die "the reader must refuse a truncated blob"
ok "the reader refuses a truncated esp blob (it checks, it does not just print)"

# ---- pins, pins-json and the manifest against openssl ---------------------------------------------------------
[ "$(wc -l < bundle.pins)" = 2 ] || die "pins: two lines expected"
fetch pins-json pins.json
fetch "manifest&for=c" manifest.json
for n in 1 2; do
  pin=$(openssl x509 -in r$n/root.pem -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
  end=$(date -u -d "$(openssl x509 -in r$n/root.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
  subj=$(jq -r ".roots[$((n - 1))].subject" manifest.json)
  [ "$(sed -n "${n}p" bundle.pins)" = "sha256/$pin $end $subj" ] || die "pins line $n: $(sed -n "${n}p" bundle.pins) (want sha256/$pin $end)"
  [ "$(jq -r ".pins[$((n - 1))].pin" pins.json)" = "sha256/$pin" ] && [ "$(jq -r ".pins[$((n - 1))].not_after" pins.json)" = "$end" ] ||
    die "pins-json entry $n"
  fp=$(openssl x509 -in r$n/root.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
  [ "$(jq -r ".roots[$((n - 1))].sha256_fingerprint" manifest.json)" = "$fp" ] || die "manifest fingerprint of R$n"
  [ "$(jq -r ".roots[$((n - 1))].pin" manifest.json)" = "sha256/$pin" ] && [ "$(jq -r ".roots[$((n - 1))].not_after" manifest.json)" = "$end" ] ||
    die "manifest pin or notAfter of R$n"
done
ok "pins: each line is sha256/\$(openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64), the root's notAfter and subject; pins-json says the same"
[ "$(jq -r .format manifest.json)/$(jq -r .format_version manifest.json)" = c/1 ] || die "manifest format"
[ "$(jq -r .bundle_sha256 manifest.json)" = "$(sha256sum < bundle.c | cut -d' ' -f1)" ] && [ "$(jq -r .bundle_bytes manifest.json)" = "$(stat -c %s bundle.c)" ] ||
  die "manifest bundle_sha256/bytes do not describe the c bundle"
gen=$(date -u -d "$(jq -r .generated_at manifest.json)" +%s)
[ $((gen - now)) -ge -5 ] && [ $((gen - now)) -le 120 ] || die "manifest generated_at"
ok "manifest (format=manifest&for=c): fingerprints equal openssl x509 -fingerprint -sha256; format c version 1, generated_at now, bundle_sha256 and size of the c bundle"

# ---- iotca bundle: online and offline give the same bytes ---------------------------------------------------
unset IOTCA_TOKEN
for f in pem pem0 der c bearssl esp esp-legacy pins; do
  "$IOTCA_CLI" --url "$BASE" bundle --format "$f" --out "cli-on.$f" >/dev/null || die "iotca bundle --format $f (online)"
  "$IOTCA_CLI" bundle --format "$f" --roots roots.pem --out "cli-off.$f" >/dev/null || die "iotca bundle --format $f --roots (offline)"
  cmp -s "cli-on.$f" "bundle.$f" && cmp -s "cli-off.$f" "bundle.$f" || die "$f: online, offline and curl bytes differ"
done
ok "iotca bundle online (no token) and offline (--roots roots.pem, no server) write the same bytes as the daemon serves, for all 8 formats"
"$IOTCA_CLI" --url "$BASE" bundle --format c > stdout.c && cmp -s stdout.c bundle.c || die "iotca bundle to stdout"
IOTCA_URL=http://127.0.0.1:1 "$IOTCA_CLI" bundle --format esp --roots roots.pem > stdout.esp && cmp -s stdout.esp bundle.esp ||
  die "offline must not contact the server"
"$IOTCA_CLI" --url "$BASE" bundle --format bearssl --out m-on.h --manifest-out m-on.json >/dev/null || die "--manifest-out online"
"$IOTCA_CLI" bundle --format bearssl --roots roots.pem --out m-off.h --manifest-out m-off.json >/dev/null || die "--manifest-out offline"
for m in m-on.json m-off.json; do
  [ "$(jq -r .bundle_sha256 $m)" = "$(sha256sum < bundle.bearssl | cut -d' ' -f1)" ] && [ "$(jq -r .format $m)" = bearssl ] || die "$m"
done
[ "$(jq -c '.roots' m-on.json)" = "$(jq -c '.roots' m-off.json)" ] || die "online and offline manifests list different roots"
ok "stdout output, and --manifest-out (online and offline) describing exactly the bytes written"

# ---- refusals ---------------------------------------------------------------------------------------------------
http GET "/v1/ca/bundle?format=zip"; expect 400 bad_format "an unknown format"
echo "$OUT" | jq -r .detail | grep >/dev/null "pem, pem0, der, c, bearssl, esp, esp-legacy, pins, pins-json, manifest" || die "400 must list the formats: $OUT"
ok "  ...and the 400 lists every format"
http GET "/v1/ca/bundle"; expect 400 bad_format "no format"
http GET "/v1/ca/bundle?format=manifest&for=zip"; expect 400 bad_format "a manifest for an unknown format"
http GET "/v1/ca/bundle?format=c&for=pem"; expect 400 bad_request "'for' without format=manifest"
http POST "/v1/ca/bundle?format=pem"; expect 405 method_not_allowed "POST to the bundle"
cli() { set +e; "$IOTCA_CLI" "$@" > cli.out 2> cli.err; RC=$?; set -e; }
cli --url "$BASE" bundle --format zip
[ "$RC" = 2 ] && grep -q "unknown bundle format 'zip'" cli.err || die "CLI unknown format: $RC $(cat cli.err)"
cli --url "$BASE" bundle
[ "$RC" = 2 ] && grep -q "needs --format" cli.err || die "CLI without --format: $RC"
ok "CLI: unknown or missing --format exit 2 (nothing sent)"
echo keep > exists.h
cli --url "$BASE" bundle --format c --out exists.h
[ "$RC" = 2 ] && [ "$(cat exists.h)" = keep ] && grep -q "never overwrites" cli.err || die "CLI overwrote or wrong code: $RC"
ok "CLI: an existing --out file is never overwritten (exit 2)"
cli bundle --format pem --roots int1.pem
[ "$RC" = 2 ] && grep -q "not a self-signed root" cli.err || die "CLI with an intermediate as root: $RC $(cat cli.err)"
cat r1/root.pem int1.pem > with-int.pem
cli bundle --format c --roots with-int.pem
[ "$RC" = 2 ] && grep -q "certificate 2 .* not a self-signed root" cli.err || die "CLI with an intermediate among the roots: $RC $(cat cli.err)"
cli bundle --format c --roots fw1.crt
[ "$RC" = 2 ] && grep -q "not a CA" cli.err || die "CLI with a leaf as root: $RC $(cat cli.err)"
ok "CLI offline refuses an intermediate or a leaf as a root (exit 2: devices trust roots only, SPEC §1)"
openssl x509 -inform DER -in "$COMPAT/../data/kat-ed25519-ca.der" > ed.pem
cat r1/root.pem ed.pem > with-ed.pem
cli bundle --format bearssl --roots with-ed.pem
[ "$RC" = 2 ] && grep -q "Ed25519 key, which BearSSL cannot use" cli.err || die "CLI bearssl with an Ed25519 root: $RC $(cat cli.err)"
cli bundle --format pem --roots with-ed.pem
[ "$RC" = 0 ] || die "an Ed25519 root is fine in pem: $RC"
ok "an Ed25519 root is refused for bearssl (exit 2, named) and accepted for pem"
: > empty.pem
cli bundle --format pem --roots empty.pem
[ "$RC" = 2 ] || die "CLI with an empty roots file: $RC"
cli bundle --format pem --roots no-such-file.pem
[ "$RC" = 2 ] || die "CLI with a missing roots file: $RC"
ok "CLI offline: empty or missing roots file exit 2"
cli --url http://127.0.0.1:1 bundle --format pem
[ "$RC" = 4 ] || die "CLI with no server: $RC"
ok "CLI online with no server listening: exit 4"
grep -q '"path":"/v1/ca/bundle"' daemon.log || die "bundle requests missing from the access log"
stop_daemon
echo "$CHECKS passed, 0 failed"
