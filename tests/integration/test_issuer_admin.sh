#!/usr/bin/env bash
# Pending issuers (issue 19, point 9): a pending issuer's CSR can be fetched again (GET /v1/issuers/{id}/csr,
# iotca issuers csr ID) and signed from that copy; a pending issuer can be abandoned (DELETE /v1/issuers/{id},
# iotca issuers abandon ID): its key file is wiped and removed, the row stays as `abandoned` with its history,
# the audit trail says who; only pending ones. New issuers get a unique default name (subject CN) when the
# request names none. Refusals: unknown ids 404, an active or staged issuer 409, wrong role 403, bad ids 404.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

start_ca
A=(-H "Authorization: Bearer $ADMIN")
export IOTCA_URL="$BASE" IOTCA_TOKEN="$ADMIN"
subject_cn() { openssl req -in "$1" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p'; }

# unique default names: two issuers made without a name, in the same group and on the same day, differ
http POST /v1/issuers "${A[@]}" -d '{}'; expect 201 "" "a first pending issuer, no name given"
p1=$(echo "$OUT" | jq -r .id); echo "$OUT" | jq -j .csr > p1.csr
http POST /v1/issuers "${A[@]}" -d '{}'; expect 201 "" "a second pending issuer, no name given"
p2=$(echo "$OUT" | jq -r .id); echo "$OUT" | jq -j .csr > p2.csr
cn1=$(subject_cn p1.csr); cn2=$(subject_cn p2.csr)
today=$(date -u +%Y-%m-%d)
[[ "$cn1" =~ ^default\ Issuer\ $today\ [0-9a-f]{6}$ ]] || die "default name '$cn1' is not 'default Issuer $today <hex>'"
[ "$cn1" != "$cn2" ] || die "two default names are the same: $cn1"
ok "default names are unique: '$cn1', '$cn2'"
http POST /v1/issuers "${A[@]}" -d '{"common_name": "ACME Named Issuer"}'; expect 201 "" "a named issuer"
echo "$OUT" | jq -j .csr > named.csr
[ "$(subject_cn named.csr)" = "ACME Named Issuer" ] || die "a given name must be kept: $(subject_cn named.csr)"
ok "a name given is kept as it is"

# the CSR fetched again is the one made, and signs into an issuer
http GET "/v1/issuers/$p1/csr" "${A[@]}"; expect 200 "" "fetch pending issuer $p1's CSR again"
[ "$(echo "$OUT" | jq -j .csr)" = "$(cat p1.csr)" ] && [ "$(echo "$OUT" | jq -r .state)" = pending ] || die "not the same CSR: $OUT"
ok "the CSR is the one POST /v1/issuers answered"
"$IOTCA_CLI" issuers csr "$p1" --csr-out again.csr > csr.out || die "iotca issuers csr: $(cat csr.out)"
cmp -s again.csr p1.csr || die "iotca issuers csr --csr-out wrote another CSR"
"$IOTCA_CLI" issuers csr "$p1" > stdout.csr || die "iotca issuers csr to stdout"
cmp -s stdout.csr p1.csr || die "iotca issuers csr printed another CSR"
openssl req -in again.csr -noout -verify 2>/dev/null || die "the CSR does not verify with openssl"
ok "iotca issuers csr prints it and --csr-out writes it; openssl verifies it"
"$ROOT_TOOL" sign-intermediate --vault r1 --csr again.csr --out p1.pem --yes --passphrase-file rootpass >/dev/null
"$IOTCA_CLI" issuers import "$p1" p1.pem >/dev/null || die "import of the certificate signed from the fetched CSR"
ok "the certificate signed from the fetched CSR imports"
http GET "/v1/issuers/$p1/csr" "${A[@]}"; expect 409 not_pending "the CSR of an imported (active) issuer"
echo "$OUT" | jq -r .detail | grep -q "is active" || die "the refusal must name the state: $OUT"

# abandoning a pending issuer: key wiped and removed, row kept, audited
key2=$(sql "SELECT key_ref FROM issuers WHERE id = $p2")
[ -f "$key2" ] || die "the pending issuer's key file $key2 should exist"
"$IOTCA_CLI" issuers abandon "$p2" > ab.out || die "iotca issuers abandon: $(cat ab.out)"
grep -q "abandoned issuer $p2" ab.out || die "iotca issuers abandon: $(cat ab.out)"
[ ! -e "$key2" ] || die "the key file $key2 is still there"
ok "iotca issuers abandon removes the key file"
[ "$(sql "SELECT state FROM issuers WHERE id = $p2")" = abandoned ] || die "the row must stay, abandoned"
[ "$(sql "SELECT from_state || '>' || to_state FROM issuer_events WHERE issuer_id = $p2 ORDER BY id DESC LIMIT 1")" = "pending>abandoned" ] ||
  die "the event is not recorded"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'issuer.abandon' AND subject = 'issuer $p2' AND outcome = 'abandoned' AND actor LIKE 'token:%' AND detail LIKE '%wiped%'")" = 1 ] ||
  die "the abandonment is not in the audit trail: $(sql "SELECT action, subject, outcome, detail FROM audit ORDER BY seq DESC LIMIT 2")"
ok "the row stays (abandoned), with its event, and the audit trail records who abandoned it"
http GET /v1/issuers "${A[@]}"
[ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $p2) | .state")" = abandoned ] || die "GET /v1/issuers: $OUT"
"$IOTCA_CLI" issuers list | grep -E "^$p2 .* abandoned" >/dev/null || die "iotca issuers list does not show it abandoned"
ok "GET /v1/issuers and iotca issuers list show it as abandoned"
# the wipe: a key file the daemon cannot read any more is zeros before it goes (a copy taken first shows the
# bytes were there; the file is gone, so the check is that the abandon answered only after removing it)
http POST /v1/issuers "${A[@]}" -d '{}'; p3=$(echo "$OUT" | jq -r .id); echo "$OUT" | jq -j .csr > p3.csr
key3=$(sql "SELECT key_ref FROM issuers WHERE id = $p3")
ln "$key3" key3.link # a second name for the same inode: shows what the wipe left in it
http DELETE "/v1/issuers/$p3" "${A[@]}"; expect 200 "" "DELETE /v1/issuers/$p3"
[ "$(echo "$OUT" | jq -r .state)" = abandoned ] || die "answer: $OUT"
[ ! -e "$key3" ] && [ -s key3.link ] && ! tr -d '\0' < key3.link | grep -q . || die "the key's bytes were not overwritten with zeros"
ok "the key file's bytes are overwritten with zeros before it is removed"

# refusals
http DELETE "/v1/issuers/$p3" "${A[@]}"; expect 409 not_pending "abandon an issuer abandoned already"
http DELETE "/v1/issuers/$p1" "${A[@]}"; expect 409 not_pending "abandon the active issuer"
echo "$OUT" | jq -r .detail | grep -q "is active" || die "the refusal must name the state: $OUT"
[ "$(sql "SELECT state FROM issuers WHERE id = $p1")" = active ] && [ -f "$(sql "SELECT key_ref FROM issuers WHERE id = $p1")" ] ||
  die "the refused abandonment changed the active issuer"
ok "the active issuer and its key are untouched"
http POST /v1/issuers "${A[@]}" -d '{}'; p4=$(echo "$OUT" | jq -r .id); echo "$OUT" | jq -j .csr > p4.csr
"$ROOT_TOOL" sign-intermediate --vault r1 --csr p4.csr --out p4.pem --yes --passphrase-file rootpass >/dev/null
http PUT "/v1/issuers/$p4/certificate" "${A[@]}" -d "$(jq -n --rawfile c p4.pem --arg at "$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)" '{certificate: $c, activate_at: $at}')"
expect 200 "" "stage an issuer for next month"
http DELETE "/v1/issuers/$p4" "${A[@]}"; expect 409 not_pending "abandon a staged issuer"
http GET "/v1/issuers/$p4/csr" "${A[@]}"; expect 409 not_pending "the CSR of a staged issuer"
http GET "/v1/issuers/$p3/csr" "${A[@]}"; expect 409 not_pending "the CSR of an abandoned issuer"
http PUT "/v1/issuers/$p3/certificate" "${A[@]}" --data-binary @p1.pem; expect 422 policy "import into an abandoned issuer"
http GET /v1/issuers/999/csr "${A[@]}"; expect 404 not_found "the CSR of an unknown issuer"
http DELETE /v1/issuers/999 "${A[@]}"; expect 404 not_found "abandon an unknown issuer"
http DELETE /v1/issuers/abc "${A[@]}"; expect 404 not_found "abandon a non-numeric id"
http DELETE /v1/issuers/-1 "${A[@]}"; expect 404 not_found "abandon id -1"
http GET /v1/issuers/99999999999999999999999/csr "${A[@]}"; expect 404 not_found "an id past 64 bits"
http POST /v1/issuers "${A[@]}" -d '{}'; p5=$(echo "$OUT" | jq -r .id)
http DELETE "/v1/issuers/$p5" -H "Authorization: Bearer $PROV"; expect 403 forbidden "a provisioner cannot abandon"
http GET "/v1/issuers/$p5/csr" -H "Authorization: Bearer $PROV"; expect 403 forbidden "a provisioner cannot fetch a CSR"
http DELETE "/v1/issuers/$p5"; expect 401 unauthorized "no token"
[ "$(sql "SELECT state FROM issuers WHERE id = $p5")" = pending ] && [ -f "$(sql "SELECT key_ref FROM issuers WHERE id = $p5")" ] ||
  die "a refused abandonment changed issuer $p5"
ok "refused abandonments leave the pending issuer and its key"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'DELETE /v1/issuers/$p5' AND outcome = '403'")" = 1 ] ||
  die "a refused abandonment is not in the audit trail"
ok "a refused abandonment is in the audit trail"
cli_refuses() { # cli_refuses WHAT ARGS...: exit 2 with a message, nothing sent
  local what=$1; shift
  set +e; "$IOTCA_CLI" "$@" >cli.out 2>cli.err; local rc=$?; set -e
  [ "$rc" = 2 ] && [ -s cli.err ] || die "$what: exit $rc, $(cat cli.err)"
  ok "$what: exit 2 ($(head -n 1 cli.err))"
}
cli_refuses "issuers abandon without an ID" issuers abandon
cli_refuses "issuers abandon x" issuers abandon x
cli_refuses "issuers csr 0" issuers csr 0
cli_refuses "issuers csr --csr-out over an existing file" issuers csr "$p5" --csr-out p1.csr
set +e; "$IOTCA_CLI" issuers abandon "$p1" 2>cli.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "not_pending" cli.err || die "iotca issuers abandon of the active issuer: $rc $(cat cli.err)"
ok "iotca issuers abandon of the active issuer: exit 3 (not_pending)"
# a new issuer after abandoned ones still gets a fresh name and key file
http POST /v1/issuers "${A[@]}" -d '{}'; expect 201 "" "a new issuer after the abandoned ones"
"$IOTCAD" audit verify --config iotcad.json >/dev/null || die "the audit trail does not verify"
ok "iotcad audit verify passes"
stop_clean
echo "$CHECKS passed, 0 failed"
