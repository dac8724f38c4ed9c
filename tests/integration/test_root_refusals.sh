#!/usr/bin/env bash
# iotca-root refuses what it must: re-init, overwriting, wrong secrets, bad CSRs, bad flags, unconfirmed signing
# (SPEC §5); every refusal has the documented exit code, a message, and leaves no trace.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# sign VAULT CSR OUT [args...]: sign-intermediate with the usual arguments.
sign() {
    "$ROOT" sign-intermediate --vault "$1" --csr "$2" --out "$3" --yes --passphrase-file "$PASS" "${@:4}"
}

new_vault v "Refusals Root R1"
ec_key int.key
make_csr int.key int.csr "/O=ACME Devices/CN=Refusals Issuer"

section "a vault holds exactly one root"
tree_digest v >before.txt
expect_fail 2 "$ROOT" init --vault v --name "Second Root" --key ecdsa-p256 --passphrase-file "$PASS"
expect_message
tree_digest v >after.txt
expect_ok "the vault is unchanged (paths, modes, SHA-256 of every file)" cmp before.txt after.txt
mkdir notempty
echo "someone's notes" >notempty/notes.txt
expect_fail 2 "$ROOT" init --vault notempty --name "Root" --key ecdsa-p256 --passphrase-file "$PASS"
expect_message
assert_absent notempty/root.key notempty/root.pem notempty/vault.json notempty/ledger.jsonl
assert_eq "the existing file is untouched" "$(cat notempty/notes.txt)" "someone's notes"

section "never overwrites an output file"
echo "precious" >existing.pem
ledger_lines=$(line_count v/ledger.jsonl)
expect_fail 2 sign v int.csr existing.pem
expect_stderr 'exists'
assert_eq "existing.pem is unchanged" "$(cat existing.pem)" "precious"
assert_eq "nothing appended to the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"
expect_fail 2 "$ROOT" crl --vault v --out existing.pem --yes --passphrase-file "$PASS"
assert_eq "existing.pem is unchanged after crl" "$(cat existing.pem)" "precious"

section "wrong passphrase"
expect_fail 4 "$ROOT" sign-intermediate --vault v --csr int.csr --out wrong.pem --yes --passphrase-file "$WRONG_PASS"
expect_stderr 'wrong passphrase'
assert_absent wrong.pem
assert_eq "nothing appended to the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"
expect_ok "ledger still verifies" "$ROOT" ledger verify --vault v

section "bad flags are usage errors (exit 2) with a message"
expect_fail 2 "$ROOT" init --vault new1 --name "Root" --key ecdsa-p256 --passphrase-file "$PASS" --frobnicate
expect_stderr 'frobnicate'
expect_fail 2 "$ROOT" frobnicate --vault v
expect_message
expect_fail 2 sign v int.csr days0.pem --days 0
expect_stderr 'days'
expect_fail 2 sign v int.csr daysabc.pem --days abc
expect_stderr 'days'
expect_fail 2 sign v int.csr daysneg.pem --days -5
expect_stderr 'days'
expect_fail 2 "$ROOT" init --vault new2 --name "Root" --key dsa --passphrase-file "$PASS"
expect_stderr 'dsa'
expect_fail 2 sign v int.csr ncbogus.pem --permit-dns example.com --name-constraints bogus
expect_stderr 'critical'
expect_fail 2 sign v int.csr hostbits.pem --permit-ip 10.0.0.1/8
expect_stderr '10\.0\.0\.1/8'
expect_fail 2 sign v int.csr badip.pem --permit-ip 10.0.0.300/24
expect_message
expect_fail 2 sign v int.csr ekubogus.pem --eku bogus
expect_message
expect_fail 2 "$ROOT" init --vault new3 --name "Root" --key ecdsa-p256 --shares 3
expect_stderr 'threshold'
expect_fail 2 "$ROOT" init --vault new4 --name "Root" --key ecdsa-p256 --shares 3 --threshold 4
expect_stderr 'threshold'
printf 'too short\n' >short-pass
chmod 600 short-pass
expect_fail 2 "$ROOT" init --vault new5 --name "Root" --key ecdsa-p256 --passphrase-file short-pass
expect_stderr '12'
expect_fail 2 "$ROOT" sign-intermediate --vault v --out nocsr.pem --yes --passphrase-file "$PASS"
expect_stderr 'csr'
expect_fail 2 "$ROOT" sign-intermediate --vault v --csr int.csr --yes --passphrase-file "$PASS"
expect_stderr 'out'
for d in new1 new2 new3 new4 new5; do
    assert_absent "$d/root.key" "$d/vault.json"
done
assert_absent days0.pem daysabc.pem daysneg.pem ncbogus.pem hostbits.pem badip.pem ekubogus.pem nocsr.pem
assert_eq "nothing appended to the ledger by any of them" "$(line_count v/ledger.jsonl)" "$ledger_lines"

section "signing needs confirmation: without --yes and without a terminal nothing is signed"
expect_fail 2 setsid -w "$ROOT" sign-intermediate --vault v --csr int.csr --out unconfirmed.pem \
    --passphrase-file "$PASS"
expect_stderr 'yes|terminal|confirm'
assert_absent unconfirmed.pem
assert_eq "nothing appended to the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"
if [[ -d v/issued ]]; then
    assert_eq "nothing under issued/" "$(find v/issued -type f | wc -l)" "0"
fi

section "malformed CSRs are parse errors (exit 3); nothing signed or recorded"
head -c 700 /dev/urandom >garbage.csr
expect_fail 3 sign v garbage.csr garbage.pem
expect_stderr 'garbage\.csr'
head -n 4 int.csr >truncated.csr
expect_fail 3 sign v truncated.csr truncated.pem
expect_message
: >empty.csr
expect_fail 3 sign v empty.csr empty.pem
expect_message
openssl req -in int.csr -outform DER -out int.csr.der
head -c 100 int.csr.der >cut.der
expect_fail 3 sign v cut.der cut.pem
expect_message
assert_absent garbage.pem truncated.pem empty.pem cut.pem
assert_eq "nothing appended to the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"

section "CSRs with keys iotca does not accept are policy errors (exit 6)"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out weak-rsa.key 2>/dev/null
make_csr weak-rsa.key weak-rsa.csr "/CN=RSA 2048 Issuer"
expect_fail 6 sign v weak-rsa.csr weak-rsa.pem
expect_stderr '3072|4096'
ec_key big-curve.key P-521
make_csr big-curve.key big-curve.csr "/CN=P-521 Issuer"
expect_fail 6 sign v big-curve.csr big-curve.pem
expect_stderr 'P-256|P-384|curve'
assert_absent weak-rsa.pem big-curve.pem
assert_eq "nothing appended to the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"

section "a CSR whose self-signature does not verify is refused (exit 4)"
# Flip one bit of the last byte of the DER: the last byte of the signature BIT STRING (inside the ECDSA s value).
size=$(stat -c %s int.csr.der)
openssl asn1parse -inform DER -in int.csr.der >int.csr.asn1
read -r sig_off sig_hl sig_len < <(sed -nE 's/^ *([0-9]+):d=1 +hl= *([0-9]+) +l= *([0-9]+) +prim: BIT STRING.*/\1 \2 \3/p' int.csr.asn1 | tail -n 1)
assert_eq "the signature BIT STRING ends the CSR" "$((sig_off + sig_hl + sig_len))" "$size"
last=$(od -An -tu1 -j $((size - 1)) -N 1 int.csr.der | tr -d ' ')
head -c $((size - 1)) int.csr.der >badsig.der
# shellcheck disable=SC2059 # the format is an octal escape built on purpose
printf "\\$(printf '%03o' $((last ^ 1)))" >>badsig.der
differing=$(cmp -l int.csr.der badsig.der | wc -l || true) # cmp exits 1 when files differ
assert_eq "exactly one byte differs" "$differing" "1"
der_to_pem "CERTIFICATE REQUEST" badsig.der badsig.csr
run openssl req -in badsig.csr -verify -noout
expect_output 'verify failure'
expect_fail 4 sign v badsig.csr badsig.pem
expect_stderr 'signature'
assert_absent badsig.pem
assert_eq "nothing appended to the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"

section "after all refusals, the vault still works"
expect_ok "ledger verify" "$ROOT" ledger verify --vault v
expect_ok "sign-intermediate" sign v int.csr good.pem
openssl_verify_ok "openssl verifies it" -CAfile v/root.pem good.pem
assert_eq "exactly one record appended" "$(line_count v/ledger.jsonl)" "$((ledger_lines + 1))"

finish
