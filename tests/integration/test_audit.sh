#!/usr/bin/env bash
# Audit trail (issue 7 item 3): issuance, refusal, revocation, issuer state changes and token creation each
# append a record (who, what, when, request id, outcome) to an append-only, hash-chained table;
# `iotcad audit verify` detects an edited, deleted or reordered record.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
make_csr ok1 ok1.updates.example.com "DNS:ok1.updates.example.com"
issue ok1 firmware-endpoint "$PROV"; expect 201 "" "issue"
serial=$(echo "$OUT" | jq -r .serial)
make_csr bad bad.example.org "DNS:bad.example.org"
issue bad firmware-endpoint "$PROV"; expect 422 policy "a refusal"
http POST /v1/certificates -d '{}'; expect 401 unauthorized "an anonymous attempt"
http POST "/v1/certificates/$serial/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'; expect 200 "" "revoke"
stop_daemon

q() { sql "SELECT count(*) FROM audit WHERE $1"; }
[ "$(q "action = 'token.create'")" = 3 ] || die "token creation not audited"
[ "$(q "action = 'POST /v1/issuers' AND outcome = '201' AND actor LIKE 'token:%'")" = 1 ] || die "issuer creation"
[ "$(q "action LIKE 'PUT /v1/issuers/%/certificate' AND outcome = '200'")" = 1 ] || die "issuer import"
[ "$(q "actor = 'tick' AND action = 'issuer.activate' AND outcome = 'ok'")" = 1 ] || die "activation by the tick"
[ "$(q "action = 'POST /v1/certificates' AND outcome = '201' AND subject LIKE 'certificate $serial%'")" = 1 ] || die "issuance"
[ "$(q "action = 'POST /v1/certificates' AND outcome = '422' AND detail = 'policy'")" = 1 ] || die "refusal"
[ "$(q "actor = 'anonymous' AND outcome = '401'")" = 1 ] || die "anonymous refusal"
[ "$(q "action LIKE 'POST /v1/certificates/%/revoke' AND outcome = '200'")" = 1 ] || die "revocation"
[ "$(q "request_id = ''")" = 0 ] || die "records without request id"
ok "issuance, refusals, revocation, issuer changes and token creation are all in the audit trail"
for t in "$ADMIN" "$PROV" "$PROV_DEV"; do sqlite3 iotca.db .dump | grep -F >/dev/null "${t##*_}" && die "a token secret is in the database"; done
ok "no token secret is stored, in the audit trail or elsewhere"

"$IOTCAD" audit verify --config iotcad.json > v.out || die "verify: $(cat v.out)"
grep -q "audit trail ok: " v.out || die "verify output"
head_hash=$(sed -n 's/.*head \([0-9a-f]*\)$/\1/p' v.out)
ok "iotcad audit verify: $(cut -d: -f2 v.out | cut -d, -f1 | xargs), intact"
set +e; sqlite3 iotca.db "UPDATE audit SET detail = 'x' WHERE seq = 2" 2>u.err; rc=$?; set -e
[ "$rc" != 0 ] && grep -q "append-only" u.err || die "UPDATE should be refused by the trigger"
set +e; sqlite3 iotca.db "DELETE FROM audit WHERE seq = 2" 2>/dev/null; rc=$?; set -e
[ "$rc" != 0 ] || die "DELETE should be refused by the trigger"
ok "updates and deletes are refused by triggers"

# an attacker with the database file drops the triggers and edits history
tamper() { # tamper NAME SQL -> runs audit verify on a tampered copy; sets VRC and VOUT
  cp iotca.db "$1.db"
  sqlite3 "$1.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $2"
  jq --arg d "$WORK/$1.db" '.database = $d' iotcad.json > "$1.json"
  set +e; VOUT=$("$IOTCAD" audit verify --config "$1.json" ${3:+--head "$3"} 2>&1); VRC=$?; set -e
}
tamper edited "UPDATE audit SET outcome = '200' WHERE action = 'POST /v1/certificates' AND outcome = '422'"
[ "$VRC" = 1 ] && echo "$VOUT" | grep >/dev/null "edited" || die "edit not detected: $VOUT"
ok "an edited record is detected ($(echo "$VOUT" | grep -o 'record [0-9]*'))"
tamper deleted "DELETE FROM audit WHERE seq = 3"
[ "$VRC" = 1 ] && echo "$VOUT" | grep >/dev/null "sequence gap" || die "deletion not detected: $VOUT"
ok "a deleted record is detected"
tamper reordered "UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -1"
[ "$VRC" = 1 ] || die "reordering not detected: $VOUT"
ok "reordered records are detected"
tamper truncated "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)" "$head_hash"
[ "$VRC" = 1 ] && echo "$VOUT" | grep >/dev/null "removed from the end" || die "truncation not detected with --head: $VOUT"
ok "removing the newest record is detected against the recorded head"
"$IOTCAD" audit verify --config iotcad.json --head "$head_hash" >/dev/null || die "the original still verifies"
set +e; "$IOTCAD" audit verify 2>/dev/null; rc=$?; set -e; [ "$rc" = 2 ] || die "missing --config"
set +e; "$IOTCAD" --config iotcad.json --head abc 2>/dev/null; rc=$?; set -e; [ "$rc" = 2 ] || die "--head outside audit verify"
ok "audit verify refuses bad flags"
echo "$CHECKS passed, 0 failed"
