#!/usr/bin/env bash
# Audit trail (issue 7 item 3): issuance, refusal, revocation, issuer state changes and token creation each
# append a record (who, what, when, request id, outcome) to an append-only, hash-chained table;
# `iotcad audit verify` detects an edited, deleted or reordered record. `iotcad audit show` (issue 19, point
# 11) prints that trail, filtered by time, actor and action, verifying it as it goes; the request log lines
# carry client, token id, profile, serial and the refusing rule, failed authentications at warning level.
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
ADMIN_ID=${ADMIN#iotca_}; ADMIN_ID=${ADMIN_ID%%_*}
PROV_ID=${PROV#iotca_}; PROV_ID=${PROV_ID%%_*}
http GET /v1/issuers -H "Authorization: Bearer iotca_${PROV_ID}_$(printf '%064d' 0)"; expect 401 unauthorized "a wrong secret"
stop_daemon

# --- the request log (issue 19, point 11): client, token id, profile, serial, rule; failed authentication at warn --
logged() { grep '^{' daemon.log | jq -e -n "${@:1:$#-1}" "[inputs | select(${*: -1})] | length > 0" >/dev/null; }
logged --arg s "$serial" --arg t "$PROV_ID" '.msg == "request" and .method == "POST" and .path == "/v1/certificates"
  and .status == 201 and .client == "127.0.0.1" and .token == $t and .serial == $s and .profile == "firmware-endpoint"' ||
  die "the issuance's log line lacks client, token, serial or profile: $(grep -m1 '"status":201' daemon.log)"
ok "an issuance's log line: client, token id, profile and serial"
logged --arg t "$PROV_ID" '.msg == "request" and .path == "/v1/certificates" and .status == 422 and .token == $t
  and .profile == "firmware-endpoint" and (.rule | startswith("san.")) and (has("serial") | not)' ||
  die "the refusal's log line does not name the rule: $(grep '"status":422' daemon.log)"
ok "a refused issuance's log line names the rule ($(grep '"status":422' daemon.log | jq -r .rule))"
logged '.msg == "request" and .level == "warn" and .status == 401 and .path == "/v1/certificates" and .client == "127.0.0.1"
  and .auth_failure == "no Authorization header"' || die "an anonymous attempt is not a warning: $(grep '"status":401' daemon.log)"
logged --arg t "$PROV_ID" '.level == "warn" and .status == 401 and .token == $t and (.auth_failure | test("wrong secret"))' ||
  die "a wrong secret is not a warning naming the token id: $(grep '"status":401' daemon.log)"
logged '.level == "info" and .status == 201' || die "successful requests are at info"
grep -qF "$(printf '%064d' 0)" daemon.log && die "a presented secret is in the log"
for t in "$ADMIN" "$PROV"; do grep -qF "${t##*_}" daemon.log && die "a token secret is in the log"; done
ok "failed authentications are warnings saying why, with the token id and client, never the secret"

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

# --- iotcad audit show (issue 19, point 11): the trail it verifies, filtered -------------------------------------
"$IOTCAD" audit show --config iotcad.json > show.out 2>show.err || die "audit show: $(cat show.err)"
total=$(sql "SELECT count(*) FROM audit")
[ "$(grep -c '^[0-9]' show.out)" = "$total" ] || die "audit show prints $(grep -c '^[0-9]' show.out) of $total records"
grep -q "^audit trail ok: $total records verified, $total shown, head $head_hash$" show.out || die "audit show summary: $(tail -1 show.out)"
grep -q "token.create" show.out && grep -q "POST /v1/certificates" show.out && grep -q "issuer.activate" show.out ||
  die "audit show lacks records: $(cat show.out)"
ok "audit show prints all $total records and says the chain verifies (the head audit verify gave)"
"$IOTCAD" audit show --config iotcad.json --json > show.json || die "audit show --json"
jq -e --argjson n "$total" --arg h "$head_hash" '(.records | length) == $n and .chain.ok and .chain.head == $h and .shown == $n
  and (.records | all(.verified)) and (.records[0] | has("seq") and has("at") and has("actor") and has("action")
  and has("subject") and has("request_id") and has("outcome") and has("detail"))' show.json >/dev/null ||
  die "audit show --json: $(head -c 600 show.json)"
ok "audit show --json: every record with its fields, verified, and the chain's head"
n_tok=$("$IOTCAD" audit show --config iotcad.json --json --action token | jq '.records | length')
[ "$n_tok" = 3 ] || die "--action token: $n_tok records"
"$IOTCAD" audit show --config iotcad.json --json --action "POST /v1/certificates" |
  jq -e '(.records | length) == 4 and (.records | all(.action | startswith("POST /v1/certificates")))' >/dev/null ||
  die "--action 'POST /v1/certificates' should give the issuance, the two refusals and the revocation"
"$IOTCAD" audit show --config iotcad.json --json --action "POST /v1/cert" | jq -e '.records == []' >/dev/null ||
  die "--action matches a partial word"
"$IOTCAD" audit show --config iotcad.json --json --actor tick | jq -e '(.records | length) >= 1 and (.records | all(.actor == "tick"))' \
  >/dev/null || die "--actor tick"
"$IOTCAD" audit show --config iotcad.json --json --actor "token:$PROV_ID" --action "POST /v1/certificates" |
  jq -e '(.records | length) == 3' >/dev/null || die "--actor and --action together"
ok "audit show --action (the action and those under it) and --actor filter, alone and together"
t2=$(sql "SELECT at FROM audit WHERE seq = 2")
tlast=$(sql "SELECT max(at) FROM audit")
"$IOTCAD" audit show --config iotcad.json --json --until 2000-01-01 | jq -e '.records == [] and .chain.ok' >/dev/null || die "--until 2000"
"$IOTCAD" audit show --config iotcad.json --json --since 2100-01-01T00:00:00Z | jq -e '.records == []' >/dev/null || die "--since 2100"
"$IOTCAD" audit show --config iotcad.json --json --since "$(date -u -d "@$t2" +%Y-%m-%dT%H:%M:%SZ)" |
  jq -e --argjson t "$t2" --argjson n "$(sql "SELECT count(*) FROM audit WHERE at >= $t2")" \
    '(.records | length) == $n and (.records | all(.at | fromdateiso8601 >= $t))' >/dev/null || die "--since"
"$IOTCAD" audit show --config iotcad.json --json --since "$(date -u -d "@$t2" +%Y-%m-%dT%H:%M:%S+00:00)" \
  --until "$(date -u -d "@$tlast" +%Y-%m-%dT%H:%M:%S.5Z)" |
  jq -e --argjson n "$(sql "SELECT count(*) FROM audit WHERE at >= $t2 AND at <= $tlast")" '(.records | length) == $n' >/dev/null ||
  die "--since/--until with an offset and fractional seconds"
ok "audit show --since and --until (RFC 3339, offsets, fractions, dates)"
# a tampered copy: show prints, marks what cannot be trusted and fails
tamper edited_show "UPDATE audit SET outcome = '200' WHERE action = 'POST /v1/certificates' AND outcome = '422'"
set +e; "$IOTCAD" audit show --config edited_show.json > es.out 2> es.err; rc=$?
"$IOTCAD" audit show --config edited_show.json --json > es.json 2>/dev/null; rcj=$?; set -e
[ "$rc" = 1 ] && grep -q "verification FAILED: record [0-9]*: its content does not match its hash" es.err || die "show on an edited trail: $rc $(cat es.err)"
grep -q '^! ' es.out || die "records past the break are not marked: $(cat es.out)"
[ "$rcj" = 1 ] && jq -e '.chain.ok == false and (.chain.broken | test("edited")) and (.records | any(.verified == false))' es.json >/dev/null ||
  die "show --json on an edited trail: $(head -c 400 es.json)"
ok "audit show on an edited trail: exit 1, says which record broke the chain, marks every record from there"
expect_fail() { # expect_fail REGEX DESC ARGS...: audit exits 2 with REGEX on stderr
  local re=$1 desc=$2; shift 2
  set +e; "$IOTCAD" audit "$@" > /dev/null 2> f.err; local rc=$?; set -e
  [ "$rc" = 2 ] && grep -Eq -- "$re" f.err || die "$desc: exit $rc, $(cat f.err)"
}
expect_fail "--since: invalid time 'yesterday'" "--since yesterday" show --config iotcad.json --since yesterday
expect_fail "--until: invalid time '2030-13-01'" "--until month 13" show --config iotcad.json --until 2030-13-01
expect_fail "--since: invalid time" "--since without a zone" show --config iotcad.json --since 2030-01-01T00:00:00
expect_fail "is after --until" "--since after --until" show --config iotcad.json --since 2030-01-02 --until 2030-01-01
expect_fail "need a value" "--actor ''" show --config iotcad.json --actor ""
expect_fail "unknown or incomplete option '--bogus'" "audit show --bogus" show --config iotcad.json --bogus
expect_fail "unknown or incomplete option" "--since without its value" show --config iotcad.json --since
expect_fail "belongs to 'audit verify'" "audit show --head" show --config iotcad.json --head "$head_hash"
expect_fail "belong to 'audit show'" "audit verify --actor" verify --config iotcad.json --actor tick
expect_fail "unexpected argument" "audit show extra" show --config iotcad.json extra
expect_fail "unknown command 'audit frob'" "audit frob" frob --config iotcad.json
expect_fail "--config FILE is required" "audit show without --config" show
ok "audit show refuses bad times, empty filters, unknown and misplaced flags (exit 2)"
"$IOTCAD" audit verify --config iotcad.json --head "$head_hash" >/dev/null || die "show changed the trail"
set +e; "$IOTCAD" audit verify 2>/dev/null; rc=$?; set -e; [ "$rc" = 2 ] || die "missing --config"
set +e; "$IOTCAD" --config iotcad.json --head abc 2>/dev/null; rc=$?; set -e; [ "$rc" = 2 ] || die "--head outside audit verify"
ok "audit verify refuses bad flags"
echo "$CHECKS passed, 0 failed"
