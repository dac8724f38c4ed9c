#!/usr/bin/env bash
# The ceremony notices a second CA under one name (issue 19, point 9): iotca-root sign-intermediate records the
# key it signed for (spki_sha256) in the ledger, and warns (stderr, and a "warning" in the ledger entry) when it
# signs a CA certificate with a subject it already signed for another key: stacks that pick an issuer by name
# (BearSSL, ESP-IDF) may take the wrong one. Re-signing the same key is no reuse. Issuers iotcad names itself
# get unique names, so a CA rebuilt from an empty database (counting from 1 again) does not collide.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

start_ca
export IOTCA_URL="$BASE" IOTCA_TOKEN="$ADMIN"
spki_of() { openssl req -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
sign() { # sign CSR OUT: iotca-root sign-intermediate with r1; stderr in sign.err
  "$ROOT_TOOL" sign-intermediate --vault r1 --csr "$1" --out "$2" --yes --passphrase-file rootpass >sign.out 2>sign.err ||
    die "sign-intermediate $1: $(cat sign.err)"
}
last() { tail -n 1 r1/ledger.jsonl | jq -r "$1"; }

"$IOTCA_CLI" issuers new --cn "ACME Fleet Issuer" --csr-out a.csr >/dev/null 2>&1 || die "issuers new a"
sign a.csr a.pem
serial_a=$(last .serial)
! grep -qi warning sign.err || die "a first signature warns: $(cat sign.err)"
[ "$(last .spki_sha256)" = "$(spki_of a.csr)" ] || die "the ledger does not record the key: $(tail -n 1 r1/ledger.jsonl)"
[ "$(last .warning)" = null ] || die "a first signature has a warning in the ledger"
ok "the ledger records the SPKI SHA-256 of the key signed for, as openssl computes it; no warning"

sign a.csr a2.pem
! grep -qi warning sign.err && [ "$(last .warning)" = null ] || die "re-signing the same key warns: $(cat sign.err)"
ok "signing the same subject and key again is no reuse: no warning"

"$IOTCA_CLI" issuers new --cn "ACME Fleet Issuer" --csr-out b.csr >/dev/null 2>&1 || die "issuers new b"
sign b.csr b.pem
grep -q "WARNING: this vault already signed a CA certificate with subject \"CN=ACME Fleet Issuer\" for another key: serial $serial_a" sign.err ||
  die "no warning on stderr for a second key under one subject: $(cat sign.err)"
ok "a second key under the subject CN=ACME Fleet Issuer: iotca-root warns on stderr, naming the earlier serial"
last .warning | grep -q "serial $serial_a" || die "the ledger entry carries no warning: $(tail -n 1 r1/ledger.jsonl)"
[ "$(last .spki_sha256)" = "$(spki_of b.csr)" ] || die "the ledger does not record the second key"
ok "the ledger entry of the second signature carries the warning and its own key"
[ -s b.pem ] && openssl verify -CAfile r1/root.pem b.pem >/dev/null || die "the warned signature must still be made"
ok "the certificate is still signed (a warning, not a refusal) and openssl verifies it"
"$ROOT_TOOL" ledger verify --vault r1 >/dev/null || die "ledger verify after the warning"
ok "ledger verify passes"

# a CSR made with openssl under another vault's subject is no reuse in r1 by a different subject
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out c.key 2>/dev/null
openssl req -new -key c.key -subj "/CN=ACME Fleet Issuer 2" -out c.csr
sign c.csr c.pem
! grep -qi warning sign.err || die "a different subject warns: $(cat sign.err)"
ok "a different subject: no warning"

# names iotcad chooses: unique, even for a CA rebuilt from an empty database
"$IOTCA_CLI" issuers new --csr-out d1.csr >/dev/null 2>&1 || die "issuers new d1"
sign d1.csr d1.pem
! grep -qi warning sign.err || die "a default-named issuer warns: $(cat sign.err)"
stop_clean
jq '.database = "'"$WORK"'/rebuilt.db" | .key_dir = "'"$WORK"'/keys2"' iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
ADMIN2=$("$IOTCAD" token create --config iotcad.json --role admin)
start_daemon
IOTCA_TOKEN="$ADMIN2" "$IOTCA_CLI" issuers new --csr-out d2.csr >/dev/null 2>&1 || die "issuers new on the rebuilt CA"
[ "$(openssl req -in d1.csr -noout -subject)" != "$(openssl req -in d2.csr -noout -subject)" ] || die "the rebuilt CA reused the name"
sign d2.csr d2.pem
! grep -qi warning sign.err || die "the rebuilt CA's first issuer collides: $(cat sign.err)"
ok "the first issuer of a CA rebuilt from an empty database gets a name of its own: signed without a warning"
echo "$CHECKS passed, 0 failed"
