# Shared by the iotcad integration tests: a real ceremony (two roots, an intermediate signed by
# iotca-root), a config, the real daemon on a free loopback port, tokens, and assertion helpers.
# shellcheck shell=bash
set -euo pipefail
: "${IOTCA_BIN:?IOTCA_BIN must point at the build directory}"
ROOT_TOOL="$IOTCA_BIN/tools/iotca-root"
IOTCAD="$IOTCA_BIN/server/iotcad"
IOTCA_CLI="$IOTCA_BIN/tools/iotca"
WORK=$(mktemp -d /tmp/iotcad-test.XXXXXX)
DAEMON_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
cd "$WORK"

CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
die() { echo "FAIL - $*" >&2; [ -f daemon.log ] && tail -n 20 daemon.log >&2; exit 1; }
# expect_status CODE FILE: the last curl wrote the status to FILE.status
http() { # http METHOD PATH [curl args...] -> body in $OUT, status in $STATUS
  local m=$1 p=$2; shift 2
  STATUS=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -X "$m" "$BASE$p" "$@") || STATUS=000
  OUT=$(cat "$WORK/out.json")
}
expect() { # expect STATUS ERRORCODE-or-empty description
  [ "$STATUS" = "$1" ] || die "$3: expected HTTP $1, got $STATUS: $OUT"
  if [ -n "$2" ]; then echo "$OUT" | grep >/dev/null "\"error\":\"$2\"" || die "$3: expected error $2, got $OUT"; fi
  ok "$3 ($1${2:+ $2})"
}
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+) that client sockets use
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free port"
}
# sql QUERY: read the daemon's database beside it; wait up to 10 s for its write lock (the CLI's default is not to
# wait: "database is locked" was seen under the sanitizer stage's load)
sql() { sqlite3 -cmd '.timeout 10000' "$WORK/iotca.db" "$1"; }

# ceremony: roots R1 and R2, passphrase files
ceremony() {
  printf 'correct horse battery staple\n' > rootpass
  chmod 600 rootpass # secret files other users can read are refused
  "$ROOT_TOOL" init --vault r1 --name "Test Root R1" --key ecdsa-p256 --passphrase-file rootpass >/dev/null
  "$ROOT_TOOL" init --vault r2 --name "Test Root R2" --key ecdsa-p256 --passphrase-file rootpass >/dev/null
  cat r1/root.pem r2/root.pem > roots.pem
}

# write_config [extra top-level JSON members]
write_config() {
  PORT=$(free_port)
  BASE="http://127.0.0.1:$PORT"
  printf 'issuer keys at rest passphrase\n' > keypass
  chmod 600 keypass
  cat > iotcad.json <<JSON
{
  "listen": {"address": "127.0.0.1", "port": $PORT},
  "database": "$WORK/iotca.db",
  "key_dir": "$WORK/keys",
  "key_passphrase_file": "$WORK/keypass",
  "roots": ["$WORK/r1/root.pem", "$WORK/r2/root.pem"],
  "tick_interval_s": 1,
  "limits": {"max_body_bytes": 65536, "threads": 4},
  "profiles": {
    "firmware-endpoint": {"key_types": ["ecdsa-p256", "ecdsa-p384"], "max_ttl": "90d", "default_ttl": "30d",
      "eku": ["server"], "dns_suffixes": ["updates.example.com"], "require_san": true, "cn_in_san": true},
    "device": {"key_types": ["ecdsa-p256"], "max_ttl": "3650d", "eku": ["client"],
      "uri_prefixes": ["urn:dev:acme:"], "require_san": true, "subject": "cn"}
  }${1:+,
  $1}
}
JSON
}

start_daemon() {
  "$IOTCAD" --config iotcad.json >>daemon.log 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "$BASE/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || die "iotcad exited at start"
    sleep 0.05
  done
  die "iotcad did not become healthy"
}
# asan_build: true when iotcad is built with AddressSanitizer. grep reads all of ldd's output: with -q it
# would exit at the first match, ldd would die of SIGPIPE, and pipefail would make the answer false.
asan_build() { ldd "$IOTCAD" | grep libasan >/dev/null; }
# stop_clean: stops the daemon; it must exit 0 with no sanitizer report in its log (ASan/UBSan builds)
stop_clean() {
  local rc=0
  kill "$DAEMON_PID"
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=""
  [ "$rc" = 0 ] || die "iotcad exited $rc on SIGTERM"
  if grep -qE 'Sanitizer|runtime error' daemon.log; then die "sanitizer report: $(grep -E -m3 'Sanitizer|runtime error' daemon.log)"; fi
}
metric() { # metric NAME: its value in /metrics (0 when absent)
  curl -s -m 5 "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}
stop_daemon() { kill "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=""; }

tokens() {
  ADMIN=$("$IOTCAD" token create --config iotcad.json --role admin)
  PROV=$("$IOTCAD" token create --config iotcad.json --role provisioner)
  PROV_DEV=$("$IOTCAD" token create --config iotcad.json --role provisioner --profiles device)
}

# start_ca [JQ_FILTER]: two roots, the default config (changed by JQ_FILTER if given), the database, the three
# tokens and a running daemon, with no issuer yet
start_ca() {
  ceremony
  write_config
  if [ -n "${1:-}" ]; then jq "$1" iotcad.json > c.json && mv c.json iotcad.json; fi
  "$IOTCAD" init --config iotcad.json >/dev/null
  tokens
  start_daemon
}

# ca_with_issuer NAME: the CA most tests start from: start_ca and an active issuer NAME (signed by r1)
ca_with_issuer() {
  start_ca
  new_issuer "$1"
}

# new_issuer NAME [--vault r1]: POST /v1/issuers, sign with iotca-root, PUT it back; sets ISSUER_ID
new_issuer() {
  local vault=${2:-r1}
  http POST /v1/issuers -H "Authorization: Bearer $ADMIN" -d '{}'
  [ "$STATUS" = 201 ] || die "POST /v1/issuers: $STATUS $OUT"
  ISSUER_ID=$(echo "$OUT" | jq -r .id)
  echo "$OUT" | jq -r .csr > "$1.csr"
  "$ROOT_TOOL" sign-intermediate --vault "$vault" --csr "$1.csr" --out "$1.pem" --yes --passphrase-file rootpass >/dev/null
  http PUT "/v1/issuers/$ISSUER_ID/certificate" -H "Authorization: Bearer $ADMIN" --data-binary @"$1.pem"
  [ "$STATUS" = 200 ] || die "PUT certificate: $STATUS $OUT"
}

# stage_issuer NAME SECONDS [VAULT]: the next issuer, its CSR signed by root VAULT (default r1; NAME.csr, NAME.pem)
# and imported to activate SECONDS from now (the tick activates it then); its id in ISSUER_ID, the import's answer
# in OUT
stage_issuer() {
  local at
  http POST /v1/issuers -H "Authorization: Bearer $ADMIN"; expect 201 "" "make the next issuer"
  ISSUER_ID=$(echo "$OUT" | jq -r .id)
  echo "$OUT" | jq -r .csr > "$1.csr"
  "$ROOT_TOOL" sign-intermediate --vault "${3:-r1}" --csr "$1.csr" --out "$1.pem" --yes --passphrase-file rootpass >/dev/null
  at=$(date -u -d "+$2 seconds" +%Y-%m-%dT%H:%M:%SZ)
  http PUT "/v1/issuers/$ISSUER_ID/certificate" -H "Authorization: Bearer $ADMIN" \
    -d "$(jq -n --rawfile c "$1.pem" --arg at "$at" '{certificate: $c, activate_at: $at}')"
  expect 200 "" "import $1 with its activation $2 s ahead"
}

# wait_issuer_state ID STATE: polls GET /v1/issuers (30 s at most) until issuer ID is in STATE; dies otherwise
wait_issuer_state() {
  for _ in $(seq 1 150); do
    http GET /v1/issuers -H "Authorization: Bearer $ADMIN"
    [ "$(echo "$OUT" | jq -r ".issuers[] | select(.id == $1) | .state")" = "$2" ] && return 0
    sleep 0.2
  done
  die "issuer $1 did not become $2: $OUT"
}

# make_csr NAME CN SAN-spec [curve]
make_csr() {
  openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${4:-P-256}" -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "/CN=$2" ${3:+-addext "subjectAltName=$3"} -out "$1.csr"
}

# issue NAME PROFILE TOKEN [ttl]: posts NAME.csr; on 201 writes NAME.crt and NAME.chain
issue() {
  local body
  body=$(jq -n --rawfile csr "$1.csr" --arg p "$2" --arg t "${4:-}" \
    'if $t == "" then {csr: $csr, profile: $p} else {csr: $csr, profile: $p, ttl: $t} end')
  http POST /v1/certificates -H "Authorization: Bearer $3" -H 'Content-Type: application/json' -d "$body"
  if [ "$STATUS" = 201 ]; then
    echo "$OUT" | jq -r .certificate > "$1.crt"
    echo "$OUT" | jq -r .chain > "$1.chain"
  fi
}

# issue_and_verify NAME WHAT: a fresh CSR for NAME.updates.example.com issued under firmware-endpoint with the
# provisioner's token; WHAT must get 201 and a certificate openssl verifies against the roots
issue_and_verify() {
  make_csr "$1" "$1.updates.example.com" "DNS:$1.updates.example.com"
  issue "$1" firmware-endpoint "$PROV"
  expect 201 "" "$2"
  openssl verify -CAfile roots.pem -untrusted "$1.chain" "$1.crt" >/dev/null || die "$2: the certificate does not verify"
  ok "$2: it verifies with openssl"
}

# flip_byte FILE N: XOR the N-th byte from the end with 0x5a, in place.
flip_byte() {
  local size off b
  size=$(stat -c %s "$1"); off=$((size - $2))
  b=$(od -An -tu1 -j "$off" -N1 "$1" | tr -d ' ')
  printf "\\$(printf '%03o' $((b ^ 0x5a)))" | dd of="$1" bs=1 seek="$off" conv=notrunc status=none
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (at most 15 s, then the test fails).
wait_port() {
  for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  die "nothing listens on port $1"
}

# nginx_conf FILE LOG_LEVEL WORKER_CONNECTIONS < HTTP_BLOCK: an nginx config for a test (or bench/run) run as
# `nginx -c FILE -p $WORK/ng`: one worker, its pid, log and temporary files under $WORK/ng, no access log, and the
# http block's body (upstreams, servers) read from stdin
nginx_conf() {
  mkdir -p "$WORK/ng"
  {
    printf 'worker_processes 1;\npid %s/ng/nginx.pid;\nerror_log %s/ng/error.log %s;\n' "$WORK" "$WORK" "$2"
    printf 'events { worker_connections %s; }\nhttp {\n  access_log off;\n' "$3"
    for t in body proxy fastcgi uwsgi scgi; do printf '  %s_temp_path %s/ng/%s;\n' "${t/#body/client_body}" "$WORK" "$t"; done
    cat
    printf '}\n'
  } > "$1"
}
