#!/usr/bin/env bash
# Custodian shares (SPEC §5): a root key split M-of-N unlocks with any M distinct shares of its own vault and with
# nothing less, nothing altered and nothing foreign.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# share files the test makes (copies, altered ones) are private, as custodians keep them: a readable one
# would be refused for its mode before the check each section is about
umask 077
need jq

S=v/shares
section "init with --shares 5 --threshold 3"
expect_ok "init --shares 5 --threshold 3" "$ROOT" init --vault v --name "Shares Root R1" --key ecdsa-p256 \
    --shares 5 --threshold 3
for k in 1 2 3 4 5; do
    [[ -s $S/share-$k-of-5.json ]] || fail "share file $S/share-$k-of-5.json is missing"
    assert_mode "$S/share-$k-of-5.json" 600
done
assert_eq "exactly five share files" "$(find "$S" -type f | wc -l)" "5"
assert_mode v/root.key 600
assert_grep "root.key is an encrypted PKCS#8 PEM" '^-----BEGIN ENCRYPTED PRIVATE KEY-----$' v/root.key
assert_eq "vault.json says 3 of 5" "$(jq -r '"\(.threshold) of \(.shares)"' v/vault.json)" "3 of 5"
run jq -r -s 'map(.share) | unique | length' "$S"/share-*.json
assert_eq "the five shares are all different" "$(cat "$OUT")" "5"

ec_key int.key
make_csr int.key int.csr "/O=ACME Devices/CN=Shares Issuer"

# sign OUT SHARE_FILE...: sign-intermediate unlocked with the given shares.
sign() {
    local out=$1 f args=()
    shift
    for f in "$@"; do args+=(--share "$f"); done
    "$ROOT" sign-intermediate --vault v --csr int.csr --out "$out" --yes "${args[@]}"
}

section "any three distinct shares unlock the key"
expect_ok "sign-intermediate with shares 1, 2, 3" sign int-123.pem "$S/share-1-of-5.json" "$S/share-2-of-5.json" \
    "$S/share-3-of-5.json"
openssl_verify_ok "openssl verifies the result" -CAfile v/root.pem int-123.pem
expect_ok "sign-intermediate with shares 5, 1, 4 (any order)" sign int-514.pem "$S/share-5-of-5.json" \
    "$S/share-1-of-5.json" "$S/share-4-of-5.json"
openssl_verify_ok "openssl verifies the result" -CAfile v/root.pem int-514.pem
expect_ok "sign-intermediate with four shares" sign int-2345.pem "$S/share-2-of-5.json" "$S/share-3-of-5.json" \
    "$S/share-4-of-5.json" "$S/share-5-of-5.json"
openssl_verify_ok "openssl verifies the result" -CAfile v/root.pem int-2345.pem
ledger_lines=$(line_count v/ledger.jsonl)
assert_eq "three signatures recorded" "$ledger_lines" "4"

section "fewer than three shares are refused"
expect_fail 2 sign two.pem "$S/share-1-of-5.json" "$S/share-2-of-5.json"
expect_stderr 'needs 3'
expect_fail 2 sign one.pem "$S/share-4-of-5.json"
expect_stderr 'needs 3'
expect_fail 2 sign none.pem
expect_message

section "the same share three times is refused"
expect_refused "share 2 given three times" sign dup.pem "$S/share-2-of-5.json" "$S/share-2-of-5.json" \
    "$S/share-2-of-5.json"
expect_stderr 'twice|duplicate|same'
cp "$S/share-2-of-5.json" copy-of-2.json
expect_refused "share 2 and a renamed copy of it" sign dup2.pem "$S/share-2-of-5.json" copy-of-2.json \
    "$S/share-3-of-5.json"
expect_stderr 'twice|duplicate|same'

section "an altered share is refused with a crypto error"
jq -c '.share |= (.[0:10] + (if .[10:12] == "00" then "ff" else "00" end) + .[12:])' "$S/share-3-of-5.json" \
    >altered-3.json
assert_ne "the altered share differs" "$(jq -r .share altered-3.json)" "$(jq -r .share "$S/share-3-of-5.json")"
expect_fail 4 sign altered.pem "$S/share-1-of-5.json" "$S/share-2-of-5.json" altered-3.json
expect_message
jq -c '.share |= ascii_upcase | .share |= (.[0:2] + (if .[2:3] == "A" then "B" else "A" end) + .[3:])' \
    "$S/share-4-of-5.json" >altered-4.json
expect_fail 4 sign altered2.pem altered-4.json "$S/share-5-of-5.json" "$S/share-1-of-5.json"
expect_message

section "lowering the threshold written in share files does not help"
for k in 1 2; do jq -c '.threshold = 2' "$S/share-$k-of-5.json" >"low-$k.json"; done
expect_refused "two shares claiming threshold 2" sign low.pem low-1.json low-2.json
expect_message

section "a share of another vault is refused"
expect_ok "init a second vault with shares" "$ROOT" init --vault other --name "Other Root" --key ecdsa-p256 \
    --shares 5 --threshold 3
expect_refused "shares 1, 2 of this vault and share 3 of the other" sign foreign.pem "$S/share-1-of-5.json" \
    "$S/share-2-of-5.json" other/shares/share-3-of-5.json
expect_stderr 'another vault|other vault|different vault|not .*this vault'
expect_refused "three shares of the other vault" sign foreign3.pem other/shares/share-1-of-5.json \
    other/shares/share-2-of-5.json other/shares/share-3-of-5.json
expect_message

section "other ways in are closed"
expect_fail 2 "$ROOT" sign-intermediate --vault v --csr int.csr --out passfile.pem --yes --passphrase-file "$PASS"
expect_stderr 'share'
echo "not a share" >junk.json
expect_refused "a junk share file" sign junk.pem "$S/share-1-of-5.json" "$S/share-2-of-5.json" junk.json
expect_message
expect_refused "a missing share file" sign missing.pem "$S/share-1-of-5.json" "$S/share-2-of-5.json" nosuch.json
expect_message

assert_absent two.pem one.pem none.pem dup.pem dup2.pem altered.pem altered2.pem low.pem foreign.pem foreign3.pem \
    passfile.pem junk.pem missing.pem
assert_eq "no refused attempt reached the ledger" "$(line_count v/ledger.jsonl)" "$ledger_lines"
expect_ok "ledger verify" "$ROOT" ledger verify --vault v

section "shares also unlock crl"
expect_ok "crl with shares 2, 4, 5" "$ROOT" crl --vault v --out crl.pem --yes --share "$S/share-2-of-5.json" \
    --share "$S/share-4-of-5.json" --share "$S/share-5-of-5.json"
run openssl crl -in crl.pem -CAfile v/root.pem -verify -noout
expect_output 'verify OK'

finish
