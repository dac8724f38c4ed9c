#!/usr/bin/env bash
# Config reload on SIGHUP (issue 7): profiles, rate limits and the log level change live; a change to what needs a
# restart (listen, TLS, database, keys, roots, ...) or an invalid file is refused whole with a warning naming the
# key, and the running config stays; reloads under concurrent issuance never yield a 5xx; every attempt is in the
# hash-chained audit trail with the SHA-256 of the file, and `iotcad audit verify` still passes.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

cfg_set() { jq "$1" iotcad.json > cfg.tmp && mv cfg.tmp iotcad.json; } # cfg_set JQ-FILTER
attempts() { echo $(($(metric 'iotca_config_reloads_total{outcome="ok"}') + $(metric 'iotca_config_reloads_total{outcome="refused"}'))); }
HUPS=0
# hup: SIGHUP, then wait until the daemon has counted the attempt; its log line in RL
hup() {
  local before
  before=$(attempts)
  kill -HUP "$DAEMON_PID"
  HUPS=$((HUPS + 1))
  for _ in $(seq 1 200); do [ "$(attempts)" -gt "$before" ] && break; sleep 0.05; done
  [ "$(attempts)" -gt "$before" ] || die "SIGHUP: no reload attempt counted within 10 s"
  RL=$(grep '"msg":"config reload"' daemon.log | tail -1)
}
# reload_is ok|refused REGEX DESC: the last attempt's outcome, and its log line matches REGEX
reload_is() {
  echo "$RL" | jq -e --arg o "$1" '.outcome == $o and .level == (if $o == "ok" then "info" else "warn" end)' \
    >/dev/null || die "$3: expected a reload $1: $RL"
  [ -z "$2" ] || echo "$RL" | grep -E >/dev/null -- "$2" || die "$3: the log line does not match /$2/: $RL"
  local sha=-
  [ -f iotcad.json ] && sha=$(sha256sum iotcad.json | cut -d' ' -f1)
  [ "$(echo "$RL" | jq -r .sha256)" = "$sha" ] || die "$3: the log line's sha256 is not the file's ($sha): $RL"
  ok "$3: reload $1${2:+ (/$2/)}"
}
serving() { # serving DESC: the daemon answers on its port, unchanged
  kill -0 "$DAEMON_PID" || die "$1: the daemon died"
  [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] || die "$1: /healthz does not answer"
}
# codes N TOKEN PATH: N requests on one connection as fast as curl sends them; their statuses, one a line
codes() {
  local urls=() i
  for i in $(seq 1 "$1"); do urls+=(-o /dev/null "$BASE$3"); done
  curl -s -w '%{http_code}\n' -H "Authorization: Bearer $2" "${urls[@]}"
}
# ttl_ok DESC: a 120-day certificate is issued (the profile allows 180d); ttl_refused DESC: it is refused (90d)
N=0
ttl_try() {
  N=$((N + 1))
  make_csr "t$N" "t$N.updates.example.com" "DNS:t$N.updates.example.com"
  issue "t$N" firmware-endpoint "$PROV" 120d
}
ttl_ok() {
  ttl_try
  [ "$STATUS" = 201 ] || die "$1: a 120d certificate was refused: $STATUS $OUT"
  local days
  days=$(( ($(date -d "$(echo "$OUT" | jq -r .not_after)" +%s) - $(date +%s)) / 86400 ))
  [ "$days" -ge 119 ] && [ "$days" -le 120 ] || die "$1: not_after is $days days away, not 120"
  ok "$1: a 120d certificate is issued (max_ttl 180d)"
}
ttl_refused() {
  ttl_try
  [ "$STATUS" = 422 ] && echo "$OUT" | grep >/dev/null ttl || die "$1: expected a 422 naming the ttl rule: $STATUS $OUT"
  ok "$1: a 120d certificate is refused by the ttl rule (max_ttl 90d)"
}

ceremony
write_config '"rate_limit": {"per_token_per_second": 1, "burst": 2}'
"$IOTCAD" init --config iotcad.json >/dev/null || die "iotcad init"
tokens
PROV2=$("$IOTCAD" token create --config iotcad.json --role provisioner)
start_daemon
new_issuer int1

# --- what a reload changes live ------------------------------------------------------------------------------
ttl_refused "before any reload"
[ "$(codes 6 "$PROV2" /v1/certificates | grep -c 429)" -ge 1 ] || die "burst 2, 1/s: 6 requests at once had no 429"
ok "before any reload: burst 2 at 1/s, 6 requests at once meet 429s"
cfg_set '.profiles["firmware-endpoint"].max_ttl = "180d" | .rate_limit = {per_token_per_second: 1000, burst: 1000}'
hup; reload_is ok '"profiles":2' "max_ttl 90d -> 180d and rate 1/s -> 1000/s"
ttl_ok "after the reload"
sleep 0.1 # the bucket refills at the new rate
[ "$(codes 20 "$PROV2" /v1/certificates | sort -u)" = 200 ] || die "after the reload 20 requests at once still met a 429"
ok "after the reload: 20 requests at once are all 200 (1000/s, burst 1000)"
cp iotcad.json good.json

cfg_set '.log = {level: "warn"}'
hup; reload_is ok "" "log.level info -> warn"
lines=$(grep -c '"msg":"request"' daemon.log)
curl -sf "$BASE/healthz" >/dev/null
# a serving thread writes its lines at the end of the turn that answered (log_hold): give it that moment
sleep 0.3
[ "$(grep -c '"msg":"request"' daemon.log)" = "$lines" ] || die "log.level warn: a request still logged at info"
cp good.json iotcad.json
hup; reload_is ok "" "log.level warn -> info (the reload line is logged whatever the level)"
curl -sf "$BASE/healthz" >/dev/null
for _ in $(seq 50); do [ "$(grep -c '"msg":"request"' daemon.log)" -gt "$lines" ] && break; sleep 0.1; done
[ "$(grep -c '"msg":"request"' daemon.log)" -gt "$lines" ] || die "log.level info again: requests are not logged"
ok "the log level changes live: request lines stop at warn and come back at info"

# --- what needs a restart: refused whole, naming the key; the running config stays ---------------------------
NEWPORT=$(free_port)
# restart KEY JQ-FILTER: the change plus a profile change (which must not be applied either) is refused
restart() {
  cp good.json iotcad.json
  cfg_set "$2 | .profiles[\"firmware-endpoint\"].max_ttl = \"90d\""
  hup; reload_is refused "\"key\":\"$1\".*takes a restart|takes a restart.*\"key\":\"$1\"" "changing $1"
  serving "after refusing $1"
}
restart listen.port ".listen.port = $NEWPORT"
if (exec 3<>"/dev/tcp/127.0.0.1/$NEWPORT") 2>/dev/null; then die "something listens on the refused new port"; fi
ttl_ok "after the refused port change (its profile change was not applied either)"
restart listen.address '.listen.address = "127.0.0.2"'
restart listen.tls.cert '.listen.tls = {cert: "/nonexistent.crt", key: "/nonexistent.key"}'
restart listen.allow_plain_http_on_public_address '.listen.allow_plain_http_on_public_address = true'
restart database ".database = \"$WORK/other.db\""
restart key_dir ".key_dir = \"$WORK/otherkeys\""
restart key_passphrase_file ".key_passphrase_file = \"$WORK/rootpass\""
restart roots '.roots = [.roots[0]]'
restart issuer_key_type '.issuer_key_type = "ecdsa-p384"'
restart default_group '.default_group = "other"'
restart base_url '.base_url = "http://ca.example"'
restart limits.request_timeout_s '.limits.request_timeout_s = 7'
restart limits.max_connections '.limits.max_connections = 100'
restart limits.threads '.limits.threads = 2'
restart limits.workers '.limits.workers = 3'
restart tick_interval_s '.tick_interval_s = 5'

# --- invalid files: refused, the daemon keeps serving with the running config ---------------------------------
printf '{ "listen": ' > iotcad.json
hup; reload_is refused '"detail":"config: .*iotcad\.json line 1' "a truncated JSON file"
serving "after a truncated file"
invalid() { # invalid REGEX DESC JQ-FILTER
  cp good.json iotcad.json
  cfg_set "$3"
  hup; reload_is refused "$1" "$2"
  serving "after $2"
}
invalid 'rate_limit\.burst must be an integer from 1 to 100000' "rate_limit.burst 0" '.rate_limit.burst = 0'
invalid 'rate_limit\.per_token_per_second must be an integer' "a negative rate" '.rate_limit.per_token_per_second = -1'
invalid "rate_limit: unknown key 'brust'" "a misspelt rate_limit key" '.rate_limit.brust = 5'
invalid 'log\.level must be' "log.level debug" '.log = {level: "debug"}'
invalid 'default_ttl' "a profile with default_ttl over max_ttl" '.profiles.device.default_ttl = "3651d"'
invalid "unknown key 'colour'" "an unknown top-level key" '.colour = "red"'
invalid "profiles must be an object with 1" "no profiles" '.profiles = {}'
rm iotcad.json
hup; reload_is refused '"detail":"cannot read the config file' "a missing file"
serving "after a missing file"
ttl_ok "after every refusal the running config (max_ttl 180d) still applies"
[ "$(codes 20 "$PROV2" /v1/certificates | sort -u)" = 200 ] || die "after the refusals the rate limit changed"
ok "after every refusal the running rate limit (1000/s) still applies"

# --- back to max_ttl 90d: the profile table really is swapped ---------------------------------------------------
cp good.json iotcad.json
cfg_set '.profiles["firmware-endpoint"].max_ttl = "90d"'
cp iotcad.json good90.json
hup; reload_is ok "" "max_ttl 180d -> 90d"
ttl_refused "after the reload back"

# --- reloads while requests run: no 5xx, no half-swapped config -----------------------------------------------
cat > load.sh <<'SH'
# issues 60-day certificates (valid under both configs) and lists, until the file "stop" exists
i=0
while [ ! -f stop ] && [ "$i" -lt 400 ]; do
  i=$((i + 1))
  body=$(jq -n --rawfile csr load.csr '{csr: $csr, profile: "firmware-endpoint", ttl: "60d"}')
  curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    -d "$body" "$2/v1/certificates"
  curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $1" "$2/v1/certificates?limit=5"
done
SH
make_csr load load.updates.example.com "DNS:load.updates.example.com"
bash load.sh "$PROV" "$BASE" > load1.txt &
L1=$!
bash load.sh "$PROV_DEV" "$BASE" > load2.txt & # scoped to "device": 403 for firmware-endpoint, 200 for lists
L2=$!
for k in $(seq 1 10); do
  cp good.json iotcad.json; hup
  cp good90.json iotcad.json; hup
done
touch stop
wait "$L1" "$L2"
[ "$(attempts)" = "$HUPS" ] || die "$HUPS SIGHUPs but $(attempts) reload attempts counted"
[ "$(metric 'iotca_config_reloads_total{outcome="ok"}')" -ge 24 ] || die "the 20 reloads under load were not all ok"
bad=$(cat load1.txt load2.txt | grep -vc '^\(200\|201\|403\)$' || true)
[ "$bad" = 0 ] || die "under reloads: $bad answers other than 200/201/403: $(sort load1.txt load2.txt | uniq -c | tr '\n' ' ')"
[ "$(grep -c '^201$' load1.txt)" -ge 1 ] || die "no certificate issued during the reloads"
ok "20 reloads during $(cat load1.txt load2.txt | wc -l) concurrent requests: $(grep -c '^201$' load1.txt) issued, no 5xx"
serving "after the reloads under load"

# --- the audit trail: one record per attempt, with the file's SHA-256 -----------------------------------------
q() { sql "SELECT $1 FROM audit WHERE action = 'config.reload' ORDER BY seq"; }
outcomes=$(q outcome)
details=$(q detail)
[ "$(q 'count(*)')" = "$HUPS" ] || die "$HUPS SIGHUPs but $(q 'count(*)') config.reload audit records"
[ "$(q 'DISTINCT actor')" = "operator:SIGHUP" ] || die "reload records' actor: $(q 'DISTINCT actor')"
[ "$(q "DISTINCT subject")" = "$WORK/iotcad.json" ] || die "reload records' subject: $(q 'DISTINCT subject')"
[ "$(q "DISTINCT request_id")" = "-" ] || die "reload records' request id: $(q 'DISTINCT request_id')"
[ "$(head -1 <<< "$outcomes")" = ok ] || die "first reload record: $(head -1 <<< "$outcomes")"
for o in 'refused: listen.port' 'refused: roots' 'refused: invalid' 'refused: unreadable'; do
  grep -qx "$o" <<< "$outcomes" || die "no '$o' record: $(sort -u <<< "$outcomes" | tr '\n' ',')"
done
grep -q "^sha256=$(sha256sum good90.json | cut -d' ' -f1)$" <<< "$details" || die "no record with the SHA-256 of good90.json"
grep -q '^sha256=[0-9a-f]\{64\}; listen.port changed' <<< "$details" || die "the port refusal's detail: $details"
ok "$HUPS config.reload audit records: actor operator:SIGHUP, the path, outcome ok/refused: KEY, sha256 of the file"
stop_clean
cp good90.json iotcad.json
"$IOTCAD" audit verify --config iotcad.json > verify.out || die "iotcad audit verify: $(cat verify.out)"
grep -q "audit trail ok" verify.out || die "audit verify: $(cat verify.out)"
ok "iotcad audit verify passes: $(cat verify.out)"
echo "all $CHECKS checks passed"
