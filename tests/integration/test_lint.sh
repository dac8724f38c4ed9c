#!/usr/bin/env bash
# iotca lint, offline on files (SPEC §7, issue 5 item 2): the trust stores that stranded real fleets are
# flagged with a non-zero exit; a store of two roots passes. Certificates come from the real ceremony tool.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ceremony
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out int.key 2>/dev/null
openssl req -new -key int.key -subj "/CN=Issuing CA 1" -out int.csr
"$ROOT_TOOL" sign-intermediate --vault r1 --csr int.csr --out int.pem --yes --passphrase-file rootpass >/dev/null
"$ROOT_TOOL" sign-intermediate --vault r1 --csr int.csr --out int-nc.pem --permit-dns example.com \
  --name-constraints critical --yes --passphrase-file rootpass >/dev/null
lint() { LOUT=$("$IOTCA_CLI" lint "$@" 2>&1) && LRC=0 || LRC=$?; }

lint --trust-store roots.pem --until 2040-01-01
[ "$LRC" = 0 ] && echo "$LOUT" | grep >/dev/null "0 error(s)" || die "two roots should pass: $LRC $LOUT"
ok "a store of two independent roots passes"
lint --trust-store int.pem
[ "$LRC" = 5 ] && echo "$LOUT" | grep >/dev/null "store.not_root: CN=Issuing CA 1: pins an intermediate; breaks at the next rotation" || die "intermediate: $LRC $LOUT"
ok "a store pinning the intermediate is an error (exit 5) naming the certificate"
lint --trust-store r1/root.pem
[ "$LRC" = 5 ] && echo "$LOUT" | grep >/dev/null "store.single_root" || die "single root: $LOUT"
ok "a single root is an error"
lint --trust-store roots.pem --until 2099-01-01 --json
[ "$LRC" = 5 ] || die "roots expiring before 2099: $LRC"
[ "$(echo "$LOUT" | jq '[.findings[] | select(.code == "root.expires")] | length')" = 2 ] || die "expected two root.expires: $LOUT"
ok "roots expiring before the device's end of life are errors (--json lists both)"
lint --trust-store roots.pem --stack mbedtls --chain int-nc.pem
[ "$LRC" = 5 ] && echo "$LOUT" | grep >/dev/null "chain.critical_ext: CN=Issuing CA 1: mbedtls: mbedTLS 2.28 cannot process a critical nameConstraints extension" || die "mbedtls NC: $LOUT"
lint --trust-store roots.pem --stack bearssl --chain int-nc.pem
[ "$LRC" = 5 ] && echo "$LOUT" | grep >/dev/null "chain.critical_ext: .*BearSSL 0.6 cannot process a critical nameConstraints" || die "bearssl NC: $LOUT"
for st in openssl openssl102 wolfssl gnutls; do
  lint --trust-store roots.pem --stack "$st" --chain int-nc.pem
  [ "$LRC" = 0 ] || die "$st handles critical nameConstraints: $LOUT"
done
ok "critical nameConstraints in the served chain: an error for mbedTLS and BearSSL naming the extension, fine for the others"
# the lint and the fleet check judge critical extensions by one table: they agree stack by stack
for st in openssl openssl102 mbedtls wolfssl bearssl gnutls; do
  lint --trust-store roots.pem --stack "$st" --chain int-nc.pem
  FOUT=$("$IOTCA_CLI" fleet check --trust-store roots.pem --until "$(date -u -d +30days +%Y-%m-%d)" --stack "$st" --chain int-nc.pem 2>&1) && FRC=0 || FRC=$?
  [ "$LRC" = "$FRC" ] || die "$st: lint exit $LRC, fleet check exit $FRC: $LOUT / $FOUT"
done
ok "lint and fleet check agree on the critical nameConstraints for all six stacks"
"$ROOT_TOOL" init --vault r3 --name "Stranger Root" --key ecdsa-p256 --passphrase-file rootpass >/dev/null
"$ROOT_TOOL" sign-intermediate --vault r3 --csr int.csr --out int-r3.pem --yes --passphrase-file rootpass >/dev/null
lint --trust-store roots.pem --chain int-r3.pem
[ "$LRC" = 5 ] && echo "$LOUT" | grep >/dev/null "chain.no_anchor" || die "no anchor: $LOUT"
ok "a served chain leading to no root in the store is an error"
# bad input: a clear message and exit 2, nothing else
lint; [ "$LRC" = 2 ] && echo "$LOUT" | grep >/dev/null "needs --trust-store" || die "missing --trust-store: $LOUT"
lint --trust-store roots.pem --stack schannel; [ "$LRC" = 2 ] && echo "$LOUT" | grep >/dev/null "unknown stack" || die "bad stack"
lint --trust-store roots.pem --until tomorrow; [ "$LRC" = 2 ] && echo "$LOUT" | grep >/dev/null "'tomorrow' is not a date" || die "bad date"
lint --trust-store nosuch.pem; [ "$LRC" = 2 ] || die "missing file: $LRC"
printf 'not a certificate\n' > junk.pem
lint --trust-store junk.pem; [ "$LRC" = 2 ] && echo "$LOUT" | grep >/dev/null "holds no certificate" || die "junk file: $LOUT"
lint --trust-store roots.pem --profile x; [ "$LRC" = 2 ] || die "option of another command accepted"
ok "bad flags and files: exit 2 with a message"

# the same lint through the API, against the chains the running CA serves
write_config
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer served
lintapi() { http POST /v1/lint -H "Authorization: Bearer $PROV" -d "$1"; }
lintapi "$(jq -n --rawfile s roots.pem '{trust_store: $s, stack: "mbedtls", until: "2040-01-01"}')"
expect 200 "" "POST /v1/lint with two roots"
[ "$(echo "$OUT" | jq .errors)" = 0 ] && [ "$(echo "$OUT" | jq .served_cas)" = 1 ] || die "api lint of roots: $OUT"
ok "the API lints the store against the 1 CA certificate it serves: no errors"
lintapi "$(jq -n --rawfile s served.pem '{trust_store: $s}')"
expect 200 "" "POST /v1/lint with the served intermediate as the store"
echo "$OUT" | jq -e '.findings[] | select(.code == "store.not_root")' >/dev/null || die "api lint: $OUT"
ok "the API flags a store that pins the served intermediate"
lintapi "$(jq -n --rawfile s r3/root.pem '{trust_store: $s}')"
echo "$OUT" | jq -e '.findings[] | select(.code == "chain.no_anchor")' >/dev/null || die "no anchor via API: $OUT"
ok "the API flags a store whose roots do not anchor the served chain"
lintapi '{"trust_store": "x", "stack": "schannel"}'; expect 400 bad_request "unknown stack"
lintapi '{"stack": "openssl"}'; expect 400 bad_request "missing trust_store"
lintapi "$(jq -n '{trust_store: "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"}')"; expect 400 malformed "garbage certificate"
http POST /v1/lint -d '{"trust_store": "x"}'; expect 401 unauthorized "lint needs a token"
echo "$CHECKS passed, 0 failed"
