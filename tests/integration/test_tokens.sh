#!/usr/bin/env bash
# API tokens (issue 19, point 6): `iotcad token list` shows id, role, profiles, created, last used and expiry
# (never the secret nor its hash), `iotcad token revoke ID` takes effect in the running daemon at its next
# request (401, the same answer as an unknown token, and a warning log line saying why without the secret),
# `--expires` (a duration or an RFC 3339 time) makes a token that the daemon refuses once it has expired,
# and the audit trail records create and revoke by the local operator. Bad ids, bad --expires values and
# unknown flags are refused with a clear message and change nothing.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

start_ca
id_of() { local t=${1#iotca_}; echo "${t%%_*}"; }
# logged [--arg NAME VALUE]... FILTER: some line of daemon.log matches the jq FILTER
logged() { grep '^{' daemon.log | jq -e -n "${@:1:$#-1}" "[inputs | select(${*: -1})] | length > 0" >/dev/null; }
# run CMD...: exit code in RC, stdout in run.out, stderr in run.err; never aborts the script
run() { RC=0; "$@" </dev/null >run.out 2>run.err || RC=$?; }
expect_rc() { # expect_rc CODE REGEX DESC CMD...: exit CODE and stderr matching REGEX
  local code=$1 re=$2 desc=$3; shift 3
  run "$@"
  [ "$RC" = "$code" ] || die "$desc: expected exit $code, got $RC: $(cat run.err run.out | head -c 400)"
  grep -Eq -- "$re" run.err || die "$desc: stderr does not match /$re/: $(head -c 400 run.err)"
  ok "$desc (exit $code: $(grep -E -- "$re" run.err | head -1 | cut -c1-100))"
}

# --- list: every token, its facts, never its secret or hash -------------------------------------------------
http GET /v1/certificates -H "Authorization: Bearer $PROV"; expect 200 "" "the provisioner token works"
sleep 2.5 # a tick (tick_interval_s 1) writes the last use remembered in memory
run "$IOTCAD" token list --config iotcad.json
[ "$RC" = 0 ] || die "token list: $RC $(cat run.err)"
cp run.out list.txt
head -1 list.txt | grep -q "ID.*ROLE.*CREATED.*LAST USED.*EXPIRES.*STATUS.*PROFILES" || die "list header: $(head -1 list.txt)"
[ "$(tail -n +2 list.txt | wc -l)" = 3 ] || die "three tokens expected: $(cat list.txt)"
grep -q "^$(id_of "$ADMIN") *admin .*never *never *active *(all)$" list.txt || die "admin row: $(cat list.txt)"
grep -q "^$(id_of "$PROV_DEV") *provisioner .*never *active *device$" list.txt || die "scoped row: $(cat list.txt)"
grep -q "^$(id_of "$PROV") *provisioner *[0-9TZ:-]* *20[0-9-]*T[0-9:]*Z *never *active" list.txt ||
  die "the used token shows no last use: $(cat list.txt)"
ok "token list: id, role, created, last used (written by the tick), expiry, status and profiles"
run "$IOTCAD" token list --config iotcad.json --json
jq -e 'length == 3 and (map(.id) | sort) == ([$a, $b, $c] | sort)' --arg a "$(id_of "$ADMIN")" \
  --arg b "$(id_of "$PROV")" --arg c "$(id_of "$PROV_DEV")" run.out >/dev/null || die "token list --json: $(cat run.out)"
jq -e --arg p "$(id_of "$PROV")" '.[] | select(.id == $p) | .last_used != null and .expires == null and .revoked == null' \
  run.out >/dev/null || die "list --json fields: $(cat run.out)"
jq -e '.[] | select(.profiles == ["device"]) | .role == "provisioner"' run.out >/dev/null || die "list --json profiles"
cat run.out >> list.txt
for t in "$ADMIN" "$PROV" "$PROV_DEV"; do
  grep -qiF "${t##*_}" list.txt && die "token list prints a secret"
  h=$(sql "SELECT hex(hash) FROM tokens WHERE id = '$(id_of "$t")'")
  grep -qiF "$h" list.txt && die "token list prints a secret's hash"
done
ok "token list (text and --json) never prints a secret or its hash"

# --- revoke: the running daemon refuses the token at its next request -------------------------------------------
http GET /v1/certificates -H "Authorization: Bearer $PROV"; expect 200 "" "before the revocation"
run "$IOTCAD" token revoke --config iotcad.json "$(id_of "$PROV")"
[ "$RC" = 0 ] && grep -q "token $(id_of "$PROV") revoked at" run.out || die "token revoke: $RC $(cat run.out run.err)"
ok "iotcad token revoke ID: $(cut -c1-80 run.out)"
http GET /v1/certificates -H "Authorization: Bearer $PROV"; expect 401 unauthorized "a revoked token, same daemon, no restart"
revoked_body=$OUT
http GET /v1/certificates -H "Authorization: Bearer iotca_0123456789abcdef_$(printf '%064d' 0)"
expect 401 unauthorized "an unknown token"
[ "$revoked_body" = "$OUT" ] || die "a revoked token is answered differently from an unknown one: $revoked_body vs $OUT"
ok "a revoked token gets exactly the answer an unknown token gets"
sleep 0.2
logged --arg id "$(id_of "$PROV")" '.msg == "request" and .level == "warn" and .status == 401 and .token == $id
  and (.auth_failure | test("revoked")) and .client == "127.0.0.1"' ||
  die "no warning saying the token was revoked: $(grep '"status":401' daemon.log | tail -2)"
grep -qiF "${PROV##*_}" daemon.log && die "the revoked token's secret is in the log"
ok "the daemon logs a warning naming the token id, the client and 'revoked', without the secret"
run "$IOTCAD" token list --config iotcad.json
grep -q "^$(id_of "$PROV") .* revoked " run.out || die "list does not show the revocation: $(cat run.out)"
ok "token list shows it revoked"

# a leaked token, pasted whole, is revoked in one command too
run "$IOTCAD" token revoke --config iotcad.json "$PROV_DEV"
[ "$RC" = 0 ] || die "revoke by the whole token: $RC $(cat run.err)"
http GET /v1/certificates -H "Authorization: Bearer $PROV_DEV"; expect 401 unauthorized "a leaked token revoked by pasting it"

# --- expiry ------------------------------------------------------------------------------------------------------
SHORT=$("$IOTCAD" token create --config iotcad.json --role provisioner --expires 3s)
LATER=$("$IOTCAD" token create --config iotcad.json --role admin --expires "$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)")
http GET /v1/certificates -H "Authorization: Bearer $SHORT"; expect 200 "" "a token before its expiry"
run "$IOTCAD" token list --config iotcad.json --json
jq -e --arg s "$(id_of "$SHORT")" '.[] | select(.id == $s) | .expires != null and .status == "active"' run.out >/dev/null ||
  die "expiry not listed: $(cat run.out)"
sleep 3.5
http GET /v1/certificates -H "Authorization: Bearer $SHORT"; expect 401 unauthorized "a token after its expiry (--expires 3s)"
[ "$revoked_body" = "$OUT" ] || die "an expired token is answered differently from an unknown one"
sleep 0.2
logged --arg id "$(id_of "$SHORT")" '.msg == "request" and .level == "warn" and .status == 401 and .token == $id
  and (.auth_failure | test("expired"))' || die "no warning saying the token expired"
http GET /v1/issuers -H "Authorization: Bearer $LATER"; expect 200 "" "a token with an RFC 3339 expiry 30 days ahead"
run "$IOTCAD" token list --config iotcad.json
grep -q "^$(id_of "$SHORT") .* expired " run.out || die "list does not show the expiry: $(cat run.out)"
ok "token list shows the expired token as expired"

# --- the audit trail records create and revoke by the local operator -------------------------------------------
me="local:$(id -un)"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'token.revoke' AND actor LIKE '$me%' AND subject = '$(id_of "$PROV")'")" = 1 ] ||
  die "revocation not audited with actor $me: $(sql "SELECT actor, action, subject FROM audit WHERE action LIKE 'token.%'")"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'token.create' AND actor LIKE '$me%'")" = 5 ] || die "creation not audited"
sql "SELECT detail FROM audit WHERE action = 'token.create' AND subject = '$(id_of "$SHORT")'" | grep -q "expires 20" ||
  die "the expiry is not in the creation's audit record"
"$IOTCAD" audit verify --config iotcad.json >/dev/null || die "the audit trail does not verify"
ok "create (with its expiry) and revoke are in the audit trail as $me, and the trail verifies"

# --- refusals: bad ids, bad --expires, unknown flags; nothing changes ------------------------------------------
before=$(sql "SELECT count(*) || '/' || count(revoked_at) FROM tokens")
audit_before=$(sql "SELECT count(*) FROM audit")
expect_rc 2 "not a token id" "revoke xyz" "$IOTCAD" token revoke --config iotcad.json xyz
expect_rc 2 "not a token id" "revoke an id with upper case" "$IOTCAD" token revoke --config iotcad.json "$(id_of "$ADMIN" | tr a-f A-F)"
expect_rc 2 "not a token id" "revoke an id one digit short" "$IOTCAD" token revoke --config iotcad.json 0123456789abcde
expect_rc 1 "no token with id 0000000000000000" "revoke an unknown id" "$IOTCAD" token revoke --config iotcad.json 0000000000000000
expect_rc 1 "already revoked" "revoke twice" "$IOTCAD" token revoke --config iotcad.json "$(id_of "$PROV")"
expect_rc 2 "exactly one token ID" "revoke without an id" "$IOTCAD" token revoke --config iotcad.json
expect_rc 2 "exactly one token ID" "revoke two ids" "$IOTCAD" token revoke --config iotcad.json "$(id_of "$ADMIN")" "$(id_of "$LATER")"
expect_rc 2 "--config FILE is required" "revoke without --config" "$IOTCAD" token revoke "$(id_of "$ADMIN")"
for bad in 0d -5d 90x 90dd 1.5d d 99999999d "" "2020-01-01T00:00:00Z" "2030-13-01" "2030-02-30T00:00:00Z" \
           "2030-01-01T25:00:00Z" "2030-01-01T00:00:00" "2030-01-01 00:00:00Z" "tomorrow"; do
  expect_rc 2 "expir|duration|time" "token create --expires '$bad'" \
    "$IOTCAD" token create --config iotcad.json --role admin --expires "$bad"
done
expect_rc 2 "unknown or incomplete option '--bogus'" "token list --bogus" "$IOTCAD" token list --config iotcad.json --bogus
expect_rc 2 "unknown or incomplete option" "token create --expires without its value" \
  "$IOTCAD" token create --config iotcad.json --role admin --expires
expect_rc 2 "belong to 'token create'" "token list --role" "$IOTCAD" token list --config iotcad.json --role admin
expect_rc 2 "belong to 'token create'" "token revoke --expires" "$IOTCAD" token revoke --config iotcad.json --expires 1d "$(id_of "$ADMIN")"
expect_rc 2 "belongs to 'token list'" "token create --json" "$IOTCAD" token create --config iotcad.json --role admin --json
expect_rc 2 "unexpected argument" "token list with an argument" "$IOTCAD" token list --config iotcad.json extra
expect_rc 2 "unknown command 'token frob'" "token frob" "$IOTCAD" token frob --config iotcad.json
[ "$(sql "SELECT count(*) || '/' || count(revoked_at) FROM tokens")" = "$before" ] || die "a refused command changed the tokens"
[ "$(sql "SELECT count(*) FROM audit")" = "$audit_before" ] || die "a refused command wrote to the audit trail"
ok "no refused command created, revoked or audited anything"
http GET /v1/issuers -H "Authorization: Bearer $ADMIN"; expect 200 "" "the other tokens still work"
stop_clean
echo "$CHECKS passed, 0 failed"
