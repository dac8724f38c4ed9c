#!/usr/bin/env bash
# iotcad's own inputs (SPEC §6): the config file and its refusals, the command line, the database schema guard,
# HTTPS with its own certificate (curl, openssl s_client, a full issuance with iotca --cacert), plain HTTP on a
# public address, the limits (body size, request timeout, connection limit) and the access log (one JSON line per
# request, no token, no CSR).
#
# Checks that do not depend on each other (the config and command-line refusals, the limits) are reported one by
# one and the script goes on after a failure; the last line says how many passed and failed.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
unset IOTCA_URL IOTCA_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
FAILED=0
# bad DESC: a failed check that does not stop the script.
bad() { FAILED=$((FAILED + 1)); echo "FAIL - $*" >&2; }
# run CMD...: exit code in RC, stdout in run.out, stderr in run.err; never aborts the script.
run() {
  RC=0
  "$@" </dev/null >run.out 2>run.err || RC=$?
}
# expect_run CODE REGEX DESC CMD...: CMD exits with CODE ("nz": any non-zero code) and its stderr matches REGEX.
expect_run() {
  local code=$1 re=$2 desc=$3
  shift 3
  run "$@"
  if [ "$code" = nz ] && [ "$RC" != 0 ]; then code=$RC; fi
  if [ "$RC" != "$code" ]; then bad "$desc: expected exit ${code/nz/non-zero}, got $RC: $(head -c 300 run.err)"
  elif ! grep -Eq -- "$re" run.err; then bad "$desc: exit $code but stderr does not match /$re/: $(head -c 300 run.err)"
  else ok "$desc (exit $code: $(grep -E -- "$re" run.err | head -1 | cut -c1-110))"; fi
}

printf 'issuer keys at rest passphrase\n' > keypass
chmod 600 keypass
PROFILES='{
    "firmware-endpoint": {"key_types": ["ecdsa-p256", "ecdsa-p384"], "max_ttl": "90d", "default_ttl": "30d",
      "eku": ["server"], "dns_suffixes": ["updates.example.com"], "require_san": true, "cn_in_san": true},
    "device": {"key_types": ["ecdsa-p256"], "max_ttl": "3650d", "eku": ["client"],
      "uri_prefixes": ["urn:dev:acme:"], "require_san": true, "subject": "cn"}
  }'
# cfg FILE PORT [LISTEN-MEMBERS] [LIMITS-OBJECT]: a config modelled on daemon_lib's write_config.
# $ADDR (default 127.0.0.1) is the listen address and $DB (default $WORK/iotca.db) the database.
cfg() {
  local limits=${4:-'{"max_body_bytes": 65536}'}
  cat > "$1" <<JSON
{
  "// about": "written by test_daemon_config.sh",
  "listen": {"address": "${ADDR:-127.0.0.1}", "port": $2${3:+, $3}},
  "database": "${DB:-$WORK/iotca.db}",
  "key_dir": "$WORK/keys",
  "key_passphrase_file": "$WORK/keypass",
  "roots": ["$WORK/r1/root.pem", "$WORK/r2/root.pem"],
  "tick_interval_s": 1,
  "limits": $limits,
  "profiles": $PROFILES
}
JSON
}
# launch LOG CONFIG URL [curl args...]: starts iotcad, waits until URL/healthz answers; sets DAEMON_PID.
launch() {
  local log=$1 conf=$2 url=$3
  shift 3
  ln -sf "$log" daemon.log # daemon_lib's die shows the tail of daemon.log
  "$IOTCAD" --config "$conf" >>"$log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 200); do
    curl -sf -m 2 "$@" "$url/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || die "iotcad --config $conf exited at start: $(tail -3 "$log")"
    sleep 0.05
  done
  die "iotcad --config $conf did not become healthy at $url"
}
# is_json_lines FILE: every line of FILE is one JSON object.
is_json_lines() { jq -e 'type == "object"' "$1" >/dev/null 2>&1 && [ "$(jq -c . "$1" | wc -l)" = "$(wc -l < "$1")" ]; }

ceremony
P0=$(free_port)
cfg base.json "$P0"

# --- config refusals: iotcad init --config BAD exits non-zero naming the problem, and creates nothing ------------
DB=$WORK/neg.db cfg neg.json "$P0"
mut() { jq "$1" neg.json > "$2"; } # mut JQ-FILTER OUT: a broken variant of neg.json
neg() { # neg CODE REGEX DESC FILE
  expect_run "$1" "$2" "config: $3" "$IOTCAD" init --config "$4"
  if [ "$RC" != 0 ] && [ -e neg.db ]; then bad "config: $3: a refused config created the database"; fi
  rm -f neg.db*
}
neg 1 "cannot open .*nosuch\.json" "file missing" "$WORK/nosuch.json"
printf 'listen: 127.0.0.1\n' > notjson.json
neg 1 "notjson\.json line 1" "not JSON" notjson.json
sed 's/"tick_interval_s": 1,/"tick_interval_s": 1, "tick_interval_s": 2,/' neg.json > dup.json
[ "$(grep -o '"tick_interval_s"' dup.json | wc -l)" = 2 ] || die "dup.json lacks the duplicate key"
neg 1 "duplicate object key.*tick_interval_s" "duplicate key" dup.json
mut '.colour = "red"' unk.json
neg 2 "unknown key 'colour'" "unknown top-level key" unk.json
mut '.profiles.device.colour = "red"' unkp.json
neg 2 "profiles\.device: unknown key 'colour'" "unknown key inside a profile" unkp.json
mut '.listen.colour = "red"' unkl.json
neg 2 "listen: unknown key 'colour'" "unknown key inside listen" unkl.json
mut 'del(.database)' nodb.json
neg 2 "database is required" "missing database" nodb.json
mut 'del(.roots)' noroots.json
neg 2 "roots must list at least one" "missing roots" noroots.json
printf 'no certificate in here\n' > hello.pem
mut ".roots = [\"$WORK/hello.pem\"]" rootsnocert.json
neg nz "hello\.pem.*(no|not).*certificate|certificate.*hello\.pem" "roots file that holds no certificate" rootsnocert.json
mut ".roots = [\"$WORK/r1/root.pem\", \"$WORK/missing-root.pem\"]" rootsmissing.json
neg nz "missing-root\.pem" "roots file that does not exist" rootsmissing.json
mut '.listen.port = 0' port0.json
neg 2 "listen\.port must be an integer from 1 to 65535" "port 0" port0.json
mut '.listen.port = 70000' port70k.json
neg 2 "listen\.port must be an integer from 1 to 65535" "port 70000" port70k.json
mut '.listen.port = "8443"' portstr.json
neg 2 "listen\.port" "port as a string" portstr.json
mut '.profiles.device.max_ttl = "ninety days"' dur.json
neg 2 "profiles\.device\.max_ttl.*ninety days" "bad duration \"ninety days\"" dur.json
mut '.profiles["firmware-endpoint"].default_ttl = "91d"' ttl.json
neg 2 "default_ttl" "default_ttl > max_ttl" ttl.json
mut '.profiles.device.key_types = ["dsa-1024"]' kt.json
neg 2 "key_types.*dsa-1024" "unknown key type in a profile" kt.json
mut '.issuer_key_type = "rsa-1024"' ikt.json
neg 2 "issuer_key_type.*rsa-1024" "unknown issuer_key_type" ikt.json
mut '.profiles.device.eku = ["teleport"]' eku.json
neg 2 "eku.*teleport" "unknown eku" eku.json
mut '.profiles.device.ip_ranges = ["10.0.0.1/8"]' ip.json
neg 2 "ip_ranges.*10\.0\.0\.1/8" "bad ip range 10.0.0.1/8 (host bits set)" ip.json
mut ".listen.tls = {cert: \"$WORK/x.pem\"}" tlsnokey.json
neg 2 "listen\.tls\.key is required" "tls with cert but no key" tlsnokey.json
mut '.limits.max_body_bytes = 100' body.json
neg 2 "limits\.max_body_bytes must be an integer from 1024" "max_body_bytes too small" body.json
mut '.limits.workers = 0' work0.json
neg 2 "limits\.workers must be an integer from 1 to 256" "limits.workers 0" work0.json
mut '.limits.workers = 257' work257.json
neg 2 "limits\.workers must be an integer from 1 to 256" "limits.workers 257" work257.json
mut '.limits.workers = "many"' workstr.json
neg 2 "limits\.workers must be an integer" "limits.workers a string" workstr.json
mut '.limits.speed = 1' unkli.json
neg 2 "limits: unknown key 'speed'" "unknown key inside limits" unkli.json
mut '.listen.address = "localhost"' addr.json
neg 2 "listen\.address must be an IPv4 or IPv6 address" "listen.address not an IP address" addr.json
mut '.profiles = {}' noprof.json
neg 2 "profiles must be an object with 1" "no profiles" noprof.json

# comment keys ("//...") are accepted wherever keys are checked
mut '.["// top"] = "c" | .listen["// l"] = 1 | .limits["//"] = [1] | .profiles.device["// why"] = {a: 1}
     | .listen.tls = {"// t": "c", cert: "unused.pem", key: "unused.key"}' comments.json
run "$IOTCAD" init --config comments.json
if [ "$RC" = 0 ] && grep -q "schema version" run.out && [ -f neg.db ]; then ok "keys starting with // are accepted as comments"
else bad "comment keys: exit $RC: $(cat run.err)"; fi
rm -f neg.db*

# the example config loads once its paths are rewritten into this directory
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -days 30 -out server.pem 2>/dev/null
jq --arg w "$WORK" '.database = "\($w)/example.db" | .key_dir = "\($w)/example-keys"
   | .key_passphrase_file = "\($w)/keypass" | .roots = ["\($w)/r1/root.pem", "\($w)/r2/root.pem"]
   | .listen.tls = {cert: "\($w)/server.pem", key: "\($w)/server.key"}' \
  "${IOTCA_SRC:-$(dirname "$0")/../..}/deploy/config/iotcad.example.json" > example.json
run "$IOTCAD" init --config example.json
if [ "$RC" = 0 ] && grep -q "schema version" run.out && [ -f example.db ] && [ "$(stat -c %a example-keys)" = 700 ]; then
  ok "deploy/config/iotcad.example.json (paths rewritten with jq) passes iotcad init"
else bad "example config: exit $RC: $(cat run.err)"; fi

# --- iotcad's command line ---------------------------------------------------------------------------------------
"$IOTCAD" init --config base.json | grep >/dev/null "schema version" || die "iotcad init base.json"
[ "$(stat -c %a keys)" = 700 ] || die "key_dir mode $(stat -c %a keys)"
ok "iotcad init --config creates the database and a 0700 key directory"
run "$IOTCAD" init --config base.json
[ "$RC" = 0 ] || bad "a second init of the same database fails: $(cat run.err)"
expect_run 2 "unknown command 'frobnicate'" "unknown command" "$IOTCAD" frobnicate --config base.json
expect_run 2 "unknown or incomplete option '--bogus'" "unknown flag" "$IOTCAD" --config base.json --bogus
expect_run 2 "unknown or incomplete option" "--config without its value" "$IOTCAD" --config
expect_run 2 "--config FILE is required" "missing --config (run)" "$IOTCAD"
expect_run 2 "--config FILE is required" "missing --config (init)" "$IOTCAD" init
expect_run 2 "--config FILE is required" "missing --config (token create)" "$IOTCAD" token create --role admin
expect_run 2 "unexpected argument" "stray argument" "$IOTCAD" --config base.json extra
expect_run 2 "unknown command 'token'" "token without create" "$IOTCAD" token --config base.json --role admin
tokens_before=$(sql "SELECT count(*) FROM tokens")
expect_run 2 "--role must be admin or provisioner" "token create --role bogus" \
  "$IOTCAD" token create --config base.json --role bogus
expect_run 2 "--role must be admin or provisioner" "token create without --role" \
  "$IOTCAD" token create --config base.json
expect_run 2 "unknown profile 'nosuch'" "token create --profiles nosuch" \
  "$IOTCAD" token create --config base.json --role provisioner --profiles nosuch
expect_run 2 "unknown profile 'nosuch'" "token create --profiles device,nosuch" \
  "$IOTCAD" token create --config base.json --role provisioner --profiles device,nosuch
expect_run 2 "belong to 'token create'" "--role without token create (run)" "$IOTCAD" --config base.json --role admin
expect_run 2 "belong to 'token create'" "--role without token create (init)" "$IOTCAD" init --config base.json --role admin
expect_run 2 "belong to 'token create'" "--profiles without token create" "$IOTCAD" init --config base.json --profiles device
[ "$(sql "SELECT count(*) FROM tokens")" = "$tokens_before" ] || bad "a refused token create stored a token"
if [ "$tokens_before" = 0 ]; then ok "no refused command stored a token"; else bad "tokens before any token create: $tokens_before"; fi
run "$IOTCAD" --help
if [ "$RC" = 0 ] && grep -q "iotcad token create" run.out; then ok "iotcad --help prints the usage (exit 0)"; else bad "iotcad --help: $RC"; fi

ADMIN=$("$IOTCAD" token create --config base.json --role admin)
PROV=$("$IOTCAD" token create --config base.json --role provisioner)
[[ $ADMIN =~ ^iotca_[0-9a-f]+_[0-9a-f]+$ ]] || die "admin token format: $ADMIN"
secret=${ADMIN##*_}
if sqlite3 iotca.db .dump | grep -iF >/dev/null "$secret"; then bad "the token secret is stored in the database"
else ok "token create prints the token; the database holds only its hash (secret not in sqlite3 .dump)"; fi
[ "$(sql "SELECT role FROM tokens ORDER BY created_at, rowid" | tr '\n' ,)" = "admin,provisioner," ] || bad "token roles"

# --- the database schema guard -----------------------------------------------------------------------------------
PS=$(free_port)
DB=$WORK/schema.db cfg schema.json "$PS"
"$IOTCAD" init --config schema.json >/dev/null || die "init schema.db"
sqlite3 schema.db 'PRAGMA user_version=99'
expect_run 1 "newer" "a database from a newer iotcad (user_version 99) is refused at start" \
  timeout 10 "$IOTCAD" --config schema.json
expect_run 1 "newer" "... and by token create" timeout 10 "$IOTCAD" token create --config schema.json --role admin
expect_run 1 "newer" "... and by init (no downgrade)" timeout 10 "$IOTCAD" init --config schema.json
[ "$(sqlite3 schema.db 'PRAGMA user_version')" = 99 ] || bad "a refused start changed the schema version"
rm -f schema.db*
head -c 16384 /dev/urandom > schema.db
expect_run 1 "schema\.db.*not a database|not a database.*schema\.db" "a garbage database file is refused clearly" \
  timeout 10 "$IOTCAD" --config schema.json
rm -f schema.db*
expect_run 1 "schema\.db.*run iotcad init" "no database: start says to run iotcad init" \
  timeout 10 "$IOTCAD" --config schema.json
[ ! -e schema.db ] || bad "starting without a database created one"
expect_run 1 "run iotcad init" "no database: token create says to run iotcad init" \
  timeout 10 "$IOTCAD" token create --config schema.json --role admin
DB=$WORK/schema.db cfg schema.json "$PS"
"$IOTCAD" init --config schema.json >/dev/null || die "init schema.db"
jq ".roots = [\"$WORK/hello.pem\"]" schema.json > schema-roots.json
expect_run 1 "hello\.pem holds no PEM certificate" "starting with a roots file that holds no certificate is refused" \
  timeout 10 "$IOTCAD" --config schema-roots.json

# --- HTTPS with the daemon's own certificate ---------------------------------------------------------------------
PT=$(free_port)
cfg https.json "$PT" "\"tls\": {\"cert\": \"$WORK/server.pem\", \"key\": \"$WORK/server.key\"}"
launch https.log https.json "https://127.0.0.1:$PT" --cacert server.pem
curl -s --cacert server.pem -o hz.json -w '%{http_code}' "https://127.0.0.1:$PT/healthz" > hz.status
[ "$(cat hz.status)" = 200 ] || die "HTTPS healthz: HTTP $(cat hz.status)"
jq -e '.status == "ok"' hz.json >/dev/null || die "HTTPS healthz body: $(cat hz.json)"
ok "curl --cacert server.pem https://127.0.0.1:$PT/healthz answers 200 {\"status\":\"ok\"}"
run curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PT/healthz"
if [ "$RC" = 0 ] || [ "$(cat run.out)" = 200 ]; then die "plain HTTP on the TLS port answered: $(cat run.out)"; fi
ok "plain curl http://127.0.0.1:$PT/healthz fails (curl exit $RC)"
run curl -s -m 5 -o /dev/null "https://127.0.0.1:$PT/healthz"
[ "$RC" = 60 ] || die "HTTPS without the CA: curl exit $RC, want 60 (certificate problem)"
ok "HTTPS without --cacert is not trusted (curl exit 60)"
timeout 10 openssl s_client -connect "127.0.0.1:$PT" -servername 127.0.0.1 -showcerts </dev/null > sclient.txt 2>&1 || true
openssl x509 -in sclient.txt -noout -fingerprint -sha256 > served.fp 2>/dev/null || die "s_client shows no certificate"
[ "$(cat served.fp)" = "$(openssl x509 -in server.pem -noout -fingerprint -sha256)" ] || die "s_client: another certificate"
grep -q "subject=.*CN *= *127.0.0.1" sclient.txt || die "s_client subject: $(grep subject sclient.txt)"
ok "openssl s_client -connect 127.0.0.1:$PT shows server.pem (same SHA-256 fingerprint)"

# a full issuance over HTTPS with iotca --cacert
export IOTCA_URL="https://127.0.0.1:$PT"
tcli() { RC=0; "$IOTCA_CLI" --cacert server.pem "$@" </dev/null >cli.out 2>cli.err || RC=$?; }
IOTCA_TOKEN=$ADMIN tcli issuers new --csr-out int1.csr
[ "$RC" = 0 ] || die "issuers new over HTTPS: $RC $(cat cli.err)"
ISSUER_ID=$(IOTCA_TOKEN=$ADMIN "$IOTCA_CLI" --cacert server.pem --json issuers list | jq -r '.issuers[0].id')
"$ROOT_TOOL" sign-intermediate --vault r1 --csr int1.csr --out int1.pem --yes --passphrase-file rootpass >/dev/null
IOTCA_TOKEN=$ADMIN tcli issuers import "$ISSUER_ID" int1.pem
[ "$RC" = 0 ] || die "issuers import over HTTPS: $RC $(cat cli.err)"
grep -q "state active" cli.out || die "issuers import over HTTPS did not activate: $(cat cli.out)"
IOTCA_TOKEN=$PROV tcli cert issue --profile firmware-endpoint --key-out tls-leaf.key --cn fw.updates.example.com \
  --dns fw.updates.example.com --out tls-leaf.pem --chain-out tls-chain.pem
[ "$RC" = 0 ] || die "cert issue over HTTPS: $RC $(cat cli.err)"
openssl verify -CAfile roots.pem -untrusted tls-chain.pem tls-leaf.pem >/dev/null || die "verify the HTTPS-issued leaf"
TLS_SERIAL=$(openssl x509 -in tls-leaf.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
IOTCA_TOKEN=$PROV tcli --json cert show "$TLS_SERIAL"
jq -e '.status == "valid"' cli.out >/dev/null || die "cert show over HTTPS"
ok "over HTTPS with iotca --cacert: issuers new, sign offline, import, cert issue; openssl verify accepts the leaf"
env -u IOTCA_TOKEN "$IOTCA_CLI" roots >cli.out 2>cli.err && RC=0 || RC=$?
[ "$RC" = 4 ] || die "iotca without --cacert: exit $RC, want 4: $(cat cli.err)"
grep -q "TLS verification of https://127.0.0.1:$PT.* failed" cli.err || die "iotca without --cacert: $(cat cli.err)"
ok "iotca without --cacert refuses the unverified HTTPS server (exit 4, names TLS verification)"
stop_daemon
grep -q '"msg":"iotcad started".*"tls":true' https.log || bad "the start line does not say tls true"
unset IOTCA_URL

# a TLS key that does not parse fails at start, with a message
printf 'not a key\n' > broken.key
chmod 600 broken.key # a secret file others can read is refused before its contents are
cfg https-broken.json "$(free_port)" "\"tls\": {\"cert\": \"$WORK/server.pem\", \"key\": \"$WORK/broken.key\"}"
expect_run 1 "cannot listen on 127.0.0.1 port [0-9]+.*TLS" "a broken listen.tls.key is refused at start" timeout 10 "$IOTCAD" --config https-broken.json

# a port another program listens on (bench/floor.c's responder) fails at start, naming the port and the reason
"$IOTCA_BIN/bench/iotca-floor" 10 > holder.port &
HOLDER=$!
for _ in $(seq 50); do [ -s holder.port ] && break; sleep 0.1; done
BUSY=$(awk '/^port/ {print $2}' holder.port)
cfg busy.json "$BUSY"
expect_run 1 "cannot listen on 127.0.0.1 port $BUSY: Address already in use" "a port in use is refused at start" \
  timeout 10 "$IOTCAD" --config busy.json
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true

# an IPv6 listen address: iotcad opens the socket itself (server/http.c, listen_on)
if grep -q '^00000000000000000000000000000001 .* lo$' /proc/net/if_inet6 2>/dev/null; then
  P6=$(free_port)
  ADDR=::1 cfg v6.json "$P6"
  "$IOTCAD" --config v6.json >v6.log 2>&1 &
  V6=$!
  for _ in $(seq 100); do curl -sf -g "http://[::1]:$P6/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
  [ "$(curl -s -g -o /dev/null -w '%{http_code}' "http://[::1]:$P6/healthz")" = 200 ] || bad "listening on ::1: $(tail -3 v6.log)"
  kill "$V6"; wait "$V6" || bad "iotcad on ::1 did not stop cleanly"
  ok "listen.address ::1: /healthz answers on [::1]:$P6"
else
  echo "skip - no IPv6 loopback here (/proc/net/if_inet6 has no ::1 on lo)"
fi

# --- plain HTTP on a non-loopback address needs the explicit flag -------------------------------------------------
PP=$(free_port)
ADDR=0.0.0.0 cfg public.json "$PP"
expect_run 2 "tls.*allow_plain_http_on_public_address|allow_plain_http_on_public_address.*tls" \
  "plain HTTP on 0.0.0.0 without allow_plain_http_on_public_address is refused" timeout 10 "$IOTCAD" --config public.json
grep -q "0.0.0.0" run.err || bad "the refusal does not name the address: $(cat run.err)"
ADDR=0.0.0.0 cfg public-false.json "$PP" '"allow_plain_http_on_public_address": false'
expect_run 2 "allow_plain_http_on_public_address" "... also with the flag false" timeout 10 "$IOTCAD" --config public-false.json
ADDR=0.0.0.0 cfg public-ok.json "$PP" '"allow_plain_http_on_public_address": true'
launch public.log public-ok.json "http://127.0.0.1:$PP"
ok "with allow_plain_http_on_public_address: true iotcad starts on 0.0.0.0:$PP and serves"
stop_daemon
ADDR=127.0.0.2 cfg lo2.json "$PP"
run timeout 10 "$IOTCAD" init --config lo2.json
if [ "$RC" = 0 ]; then ok "plain HTTP on another loopback address (127.0.0.2) needs no flag"; else bad "127.0.0.2 refused: $(cat run.err)"; fi

# --- limits: body size, and the access log ----------------------------------------------------------------------
PL=$(free_port)
BASE="http://127.0.0.1:$PL"
cfg limits.json "$PL" "" '{"max_body_bytes": 2048}'
launch limits.log limits.json "$BASE"
: > sent.txt # request_id method path status of every request this test sends, for the log check
req() { # req METHOD PATH [curl args...]: like daemon_lib's http, and records the request id
  local m=$1 p=$2
  shift 2
  STATUS=$(curl -s -D hdr.txt -o "$WORK/out.json" -w '%{http_code}' -X "$m" "$BASE$p" "$@") || STATUS=000
  OUT=$(cat "$WORK/out.json")
  local id
  id=$(tr -d '\r' < hdr.txt | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: *//p')
  [ -n "$id" ] || die "$m $p: no X-Request-Id header"
  printf '%s %s %s %s\n' "$id" "$m" "${p%%\?*}" "$STATUS" >> sent.txt
}
head -c 3000 /dev/zero | tr '\0' 'a' > body3000.txt
req POST /v1/certificates -H "Authorization: Bearer $PROV" -H 'Content-Type: application/json' --data-binary @body3000.txt
if [ "$STATUS" = 413 ] && echo "$OUT" | jq -e '.error == "too_large" and (.detail | test("2048"))' >/dev/null; then
  ok "a 3000-byte body over max_body_bytes 2048: HTTP 413 {\"error\":\"too_large\"}"
else bad "3000-byte body: HTTP $STATUS $OUT"; fi
head -c 2000 /dev/zero | tr '\0' 'a' > body2000.txt
req POST /v1/certificates -H "Authorization: Bearer $PROV" --data-binary @body2000.txt
if [ "$STATUS" = 400 ] && echo "$OUT" | jq -e '.error == "malformed_json"' >/dev/null; then
  ok "a 2000-byte body under the limit is read and judged (400 malformed_json, not 413)"
else bad "2000-byte body: HTTP $STATUS $OUT"; fi
req GET /healthz
if [ "$STATUS" = 200 ]; then ok "the daemon keeps serving after the 413"; else bad "healthz after 413: $STATUS"; fi

# requests for the log check: authorized, refused, issued, not found
make_csr logleaf log.updates.example.com "DNS:log.updates.example.com"
jq -n --rawfile csr logleaf.csr '{csr: $csr, profile: "firmware-endpoint"}' > issue.json
req POST /v1/certificates -H "Authorization: Bearer $PROV" -H 'Content-Type: application/json' --data-binary @issue.json
[ "$STATUS" = 201 ] || die "issue for the log check: $STATUS $OUT"
LOG_SERIAL=$(echo "$OUT" | jq -r .serial)
req GET "/v1/certificates/$LOG_SERIAL" -H "Authorization: Bearer $PROV"
req GET "/v1/issuers" -H "Authorization: Bearer $ADMIN"
req GET "/v1/issuers" -H "Authorization: Bearer $PROV"
req POST /v1/certificates -H "Authorization: Bearer iotca_0000000000000000_deadbeef" --data-binary @issue.json
req GET "/v1/certificates?limit=1&profile=firmware-endpoint" -H "Authorization: Bearer $PROV"
req GET /nope
req DELETE /v1/certificates
[ "$(cut -d' ' -f4 sent.txt | tr '\n' ' ')" = "413 400 200 201 200 200 403 401 200 404 405 " ] ||
  bad "statuses of the log-check requests: $(cut -d' ' -f4 sent.txt | tr '\n' ' ')"
stop_daemon
if is_json_lines limits.log; then ok "every line of the daemon log is one JSON object"
else bad "non-JSON lines in the log: $(jq -R 'fromjson? // "BAD: \(.)"' limits.log | grep '^"BAD' | head -3)"; fi
missing=0
while read -r id m p st; do
  n=$(jq -c --arg id "$id" 'select(.request_id == $id)' limits.log | wc -l)
  line=$(jq -c --arg id "$id" 'select(.request_id == $id)' limits.log)
  if [ "$n" != 1 ]; then bad "request $id ($m $p): $n log lines"; missing=1; continue; fi
  echo "$line" | jq -e --arg m "$m" --arg p "$p" --argjson st "$st" \
    '.msg == "request" and .method == $m and .path == $p and .status == $st' >/dev/null ||
    { bad "log line of $id does not say $m $p $st: $line"; missing=1; }
done < sent.txt
[ "$(jq -c 'select(.msg == "request" and (.path | startswith("/healthz") | not))' limits.log | wc -l)" = \
  "$(grep -vc ' /healthz ' sent.txt)" ] || { bad "the log has request lines for requests this test did not send"; missing=1; }
[ "$missing" = 0 ] && ok "each of the $(wc -l < sent.txt) requests has exactly one log line with its request_id, method, path and status"

# --- limits: request timeout ------------------------------------------------------------------------------------
PR=$(free_port)
cfg timeout.json "$PR" "" '{"max_body_bytes": 65536, "request_timeout_s": 1}'
launch timeout.log timeout.json "http://127.0.0.1:$PR"
# stalled_close WHAT DATA: sends DATA and stalls; true if the server closes within 6 s (the reader sees EOF).
stalled_close() {
  exec 3<>"/dev/tcp/127.0.0.1/$PR"
  printf '%b' "$2" >&3
  local rc=0
  timeout 6 cat <&3 >stall.out 2>/dev/null || rc=$?
  exec 3<&- 3>&-
  [ "$rc" != 124 ] # 124: timeout had to stop the reader, the server kept the connection open
}
if stalled_close headers 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'; then
  ok "request_timeout_s 1: a connection that sends half a request head and stalls is closed by the server (< 6 s)"
else bad "a stalled half request head was not closed within 6 s"; fi
if stalled_close body 'POST /v1/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"csr": "'; then
  ok "request_timeout_s 1: a body that stops half way is closed by the server (< 6 s)"
else bad "a stalled half body was not closed within 6 s"; fi
if curl -sf -m 5 "http://127.0.0.1:$PR/healthz" >/dev/null && kill -0 "$DAEMON_PID"; then
  ok "the daemon serves after closing the stalled connections"
else bad "no answer after the stalled connections"; fi
stop_daemon

# --- limits: connection limit -----------------------------------------------------------------------------------
PC=$(free_port)
cfg conns.json "$PC" "" '{"max_body_bytes": 65536, "max_connections": 2, "request_timeout_s": 30}'
launch conns.log conns.json "http://127.0.0.1:$PC"
served=0
for _ in $(seq 1 10); do
  [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PC/healthz")" = 200 ] && served=$((served + 1))
done
if [ "$served" = 10 ]; then ok "max_connections 2: 10 requests one after another are all served"
else bad "max_connections 2: only $served of 10 sequential requests (one connection at a time) were served"; fi
exec 4<>"/dev/tcp/127.0.0.1/$PC"
exec 5<>"/dev/tcp/127.0.0.1/$PC"
sleep 0.5
exec 4<&- 4>&- 5<&- 5>&-
recovered=0
for _ in $(seq 1 50); do
  curl -sf -m 2 "http://127.0.0.1:$PC/healthz" >/dev/null 2>&1 && { recovered=1; break; }
  sleep 0.1
done
if [ "$recovered" = 1 ] && kill -0 "$DAEMON_PID"; then
  ok "max_connections 2: after 2 idle connections were held and closed, it serves again"
else bad "max_connections 2: no answer within 5 s after the idle connections closed"; fi
stop_daemon
is_json_lines conns.log || bad "non-JSON lines in conns.log"

# --- the log stays JSON whatever the configured thread count ------------------------------------------------------
PH=$(free_port)
cfg threads1.json "$PH" "" '{"max_body_bytes": 65536, "threads": 1}'
launch threads1.log threads1.json "http://127.0.0.1:$PH"
stop_daemon
if is_json_lines threads1.log; then ok "limits.threads 1: every log line is JSON"
else bad "limits.threads 1 puts non-JSON lines in the log: $(jq -R 'fromjson? // "BAD: \(.)"' threads1.log | grep '^"BAD' | head -2)"; fi

# --- the largest limits.threads: as many serving and crypto threads, and an issuance through them -------------
PM=$(free_port)
cfg threadsmax.json "$PM" "" '{"max_body_bytes": 65536, "threads": 256}'
launch threadsmax.log threadsmax.json "http://127.0.0.1:$PM"
# the serving threads may answer /healthz before the main thread has logged its start line
for _ in $(seq 1 50); do grep -q '"iotcad started"' threadsmax.log && break; sleep 0.1; done
grep -q '"threads":256,"workers":16,"crypto_threads":256' threadsmax.log ||
  die "limits.threads 256: the start line says $(grep started threadsmax.log)"
make_csr maxth maxth.updates.example.com "DNS:maxth.updates.example.com"
body=$(jq -n --rawfile csr maxth.csr '{csr: $csr, profile: "firmware-endpoint"}')
code=$(curl -s -o maxth.json -w '%{http_code}' -X POST "http://127.0.0.1:$PM/v1/certificates" \
  -H "Authorization: Bearer $PROV" -H 'Content-Type: application/json' -d "$body")
[ "$code" = 201 ] || die "limits.threads 256: issuance got $code: $(cat maxth.json)"
stop_daemon
ok "limits.threads 256 (the largest): 256 serving and 256 crypto threads start, and an issuance gets 201"

# --- without limits.threads and limits.workers: one serving thread a core, 16 pool threads ---------------------
PD=$(free_port)
cfg threadsdef.json "$PD"
launch threadsdef.log threadsdef.json "http://127.0.0.1:$PD"
stop_daemon
if grep -q "\"threads\":$(nproc),\"workers\":16," threadsdef.log; then ok "defaults: $(nproc) serving threads (one a core) and 16 workers, as the start line says"
else bad "default threads/workers: $(grep -o '"threads":[0-9]*,"workers":[0-9]*' threadsdef.log) (expected $(nproc) and 16)"; fi

# --- no secret and no CSR in any log ----------------------------------------------------------------------------
logs=(https.log public.log limits.log timeout.log conns.log threads1.log threadsmax.log threadsdef.log)
leak=0
for t in "$ADMIN" "$PROV"; do
  if grep -qF "$t" "${logs[@]}" || grep -F >/dev/null "${t##*_}" "${logs[@]}"; then bad "a token (Authorization value) is in a log"; leak=1; fi
done
if grep -qF "Bearer" "${logs[@]}"; then bad "an Authorization header is in a log"; leak=1; fi
grep -hv -- '-----' logleaf.csr > csrbody.txt
grep -hv -- '-----' int1.csr >> csrbody.txt
if grep -qFf csrbody.txt "${logs[@]}"; then bad "CSR base64 is in a log"; leak=1; fi
if grep -q "CERTIFICATE REQUEST" "${logs[@]}"; then bad "a CSR PEM header is in a log"; leak=1; fi
[ "$leak" = 0 ] && ok "no log holds a token, an Authorization header or any line of a CSR"

echo "$CHECKS passed, $FAILED failed"
[ "$FAILED" = 0 ]
