#!/usr/bin/env bash
# The vault ledger (SPEC §5): every run is recorded in a hash-chained JSON-lines file; editing, deleting, reordering,
# truncating or appending to it is detected, and a tampered vault signs nothing.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need jq

section "a vault with some history: init, two intermediates, a revocation, a CRL"
new_vault v "Ledger Root R1"
new_intermediate v int1 "/O=ACME Devices/CN=Ledger Issuer 1" --days 400
new_intermediate v int2 "/O=ACME Devices/CN=Ledger Issuer 2" --days 400
s1=$(serial_of int1.pem)
s2=$(serial_of int2.pem)
expect_ok "revoke int1 (keyCompromise)" "$ROOT" revoke-intermediate --vault v --serial "$s1" --reason keyCompromise --yes
expect_ok "crl" "$ROOT" crl --vault v --out crl.pem --yes --passphrase-file "$PASS"
expect_ok "ledger verify passes on the untouched vault" "$ROOT" ledger verify --vault v
expect_output 'ok'
assert_eq "the ledger has 5 lines" "$(line_count v/ledger.jsonl)" "5"
expect_ok "every ledger line is a JSON object" jq -e -s 'length == 5 and all(type == "object")' v/ledger.jsonl
run jq -r -s 'map(.op) | join(" ")' v/ledger.jsonl
assert_eq "operations in order" "$(cat "$OUT")" "init sign-intermediate sign-intermediate revoke crl"
run jq -r -s 'map(.seq) | join(" ")' v/ledger.jsonl
assert_eq "sequence numbers 1..5" "$(cat "$OUT")" "1 2 3 4 5"
assert_eq "line 2 records int1's serial" "$(sed -n 2p v/ledger.jsonl | jq -r .serial)" "$s1"
assert_eq "line 2 records int1's SHA-256 fingerprint" "$(sed -n 2p v/ledger.jsonl | jq -r .sha256)" \
    "$(openssl x509 -in int1.pem -outform DER | sha256sum | cut -d' ' -f1)"
# The chain: each "prev" is the SHA-256 of the previous line's bytes (without its newline).
prev_of_3=$(sed -n 2p v/ledger.jsonl | tr -d '\n' | sha256sum | cut -d' ' -f1)
assert_eq "line 3 chains to the hash of line 2" "$(sed -n 3p v/ledger.jsonl | jq -r .prev)" "$prev_of_3"
head=$(tail -n 1 v/ledger.jsonl | tr -d '\n' | sha256sum | cut -d' ' -f1)
assert_eq "vault.json records the hash of the last line as the head" "$(jq -r .ledger_head v/vault.json)" "$head"
assert_eq "vault.json records the number of lines" "$(jq -r .ledger_records v/vault.json)" "5"
expect_ok "ledger verify --head with the right head passes" "$ROOT" ledger verify --vault v --head "$head"

section "show --json lists the intermediates and the revocation"
expect_ok "show --json" "$ROOT" show --vault v --json
cp "$OUT" show.json
assert_eq "int1 is listed as a sign-intermediate" \
    "$(jq -r --arg s "$s1" '.issued[] | select(.serial == $s) | .kind' show.json)" "sign-intermediate"
assert_eq "int1 is revoked for keyCompromise" \
    "$(jq -r --arg s "$s1" '.issued[] | select(.serial == $s) | .revoked' show.json)" "keyCompromise"
assert_eq "int2 is listed and not revoked" \
    "$(jq -r --arg s "$s2" '.issued[] | select(.serial == $s) | .revoked' show.json)" "false"
assert_eq "show --json reports the CRL number" "$(jq -r .crl_number show.json)" "1"
assert_eq "show --json reports 5 ledger records" "$(jq -r .ledger_records show.json)" "5"
expect_ok "show (text)" "$ROOT" show --vault v
expect_output "$s1.*REVOKED"

# tampered NAME: a fresh copy of the vault to damage; prints its path.
tampered() {
    rm -rf "$1"
    cp -a v "$1"
}

# expect_tamper_detected DIR WHAT: ledger verify exits 1 with a FAILED message.
expect_tamper_detected() {
    run "$ROOT" ledger verify --vault "$1"
    [[ $RC -eq 1 ]] || fail "$2: ledger verify exited $RC, expected 1"
    grep -qi 'fail' "$ERR" || fail "$2: ledger verify gave no failure message"
    pass "$2 -> ledger verify exits 1: $(head -n 1 "$ERR")"
}

section "tampering is detected"
tampered t-edit
sed -i "2s/\"serial\":\"$s1\"/\"serial\":\"$s2\"/" t-edit/ledger.jsonl
assert_ne "the edit changed line 2" "$(sed -n 2p t-edit/ledger.jsonl)" "$(sed -n 2p v/ledger.jsonl)"
expect_tamper_detected t-edit "serial edited in line 2"

tampered t-edit-note
sed -i '2s/"op":"sign-intermediate"/"note":"harmless","op":"sign-intermediate"/' t-edit-note/ledger.jsonl
assert_ne "the edit changed line 2" "$(sed -n 2p t-edit-note/ledger.jsonl)" "$(sed -n 2p v/ledger.jsonl)"
expect_tamper_detected t-edit-note "a field added to line 2"

tampered t-del2
sed -i 2d t-del2/ledger.jsonl
expect_tamper_detected t-del2 "line 2 deleted"

tampered t-dellast
sed -i '$d' t-dellast/ledger.jsonl
expect_tamper_detected t-dellast "last line deleted"

tampered t-swap
{ sed -n 1p v/ledger.jsonl; sed -n 3p v/ledger.jsonl; sed -n 2p v/ledger.jsonl; sed -n '4,$p' v/ledger.jsonl; } \
    >t-swap/ledger.jsonl
assert_eq "swapped copy has the same lines" "$(sort t-swap/ledger.jsonl | sha256sum)" "$(sort v/ledger.jsonl | sha256sum)"
expect_tamper_detected t-swap "lines 2 and 3 swapped"

tampered t-append
forged=$(jq -c -n --arg prev "$head" --arg s "$s2" \
    '{op: "revoke", prev: $prev, reason: "superseded", reason_code: 4, revoked_at: 1700000000, seq: 6, serial: $s,
      time: "2026-01-01T00:00:00Z"}')
printf '%s\n' "$forged" >>t-append/ledger.jsonl
expect_tamper_detected t-append "a forged line appended (correct prev and seq)"

tampered t-trunc
truncate -s -1 t-trunc/ledger.jsonl
expect_tamper_detected t-trunc "the final newline cut off"

tampered t-head
jq --arg h "$prev_of_3" '.ledger_head = $h' v/vault.json >t-head/vault.json
expect_tamper_detected t-head "vault.json's recorded head changed"

# The strongest forgery: rewrite line 2, re-chain every later line and update
# vault.json. Only a head kept outside the vault can catch it (--head).
tampered t-rechain
prev=0000000000000000000000000000000000000000000000000000000000000000
: >t-rechain/ledger.jsonl
n=0
while IFS= read -r line; do
    n=$((n + 1))
    [[ $n -eq 2 ]] && line=${line//\"serial\":\"$s1\"/\"serial\":\"$s2\"}
    line=$(printf '%s' "$line" | sed -E "s/\"prev\":\"[0-9a-f]{64}\"/\"prev\":\"$prev\"/")
    printf '%s\n' "$line" >>t-rechain/ledger.jsonl
    prev=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
done <v/ledger.jsonl
jq --arg h "$prev" '.ledger_head = $h' v/vault.json >t-rechain/vault.json
assert_ne "the re-chained ledger differs" "$(sha256sum <t-rechain/ledger.jsonl)" "$(sha256sum <v/ledger.jsonl)"
run "$ROOT" ledger verify --vault t-rechain --head "$head"
[[ $RC -eq 1 ]] || fail "a re-chained ledger checked against the operator's recorded head: exit $RC, expected 1"
pass "a fully re-chained ledger is caught by ledger verify --head <recorded head> (exit 1)"

section "a tampered vault signs nothing"
for t in t-edit t-del2 t-append t-swap; do
    before=$(sha256sum <"$t/ledger.jsonl")
    run "$ROOT" sign-intermediate --vault "$t" --csr int1.csr --out "$t-int.pem" --yes --passphrase-file "$PASS"
    [[ $RC -ne 0 ]] || fail "sign-intermediate on $t succeeded"
    pass "sign-intermediate on $t refused (exit $RC): $(head -n 1 "$ERR")"
    assert_absent "$t-int.pem"
    expect_refused "crl on $t refused" "$ROOT" crl --vault "$t" --out "$t-crl.pem" --yes --passphrase-file "$PASS"
    assert_absent "$t-crl.pem"
    expect_refused "revoke-intermediate on $t refused" "$ROOT" revoke-intermediate --vault "$t" --serial "$s2" --yes
    assert_eq "$t: the damaged ledger was not appended to" "$(sha256sum <"$t/ledger.jsonl")" "$before"
done
expect_ok "the original vault still verifies" "$ROOT" ledger verify --vault v

finish
