#!/usr/bin/env bash
# ACME issuance with a real client, iotcad side by side with Debian's pebble in one run on this machine: CLIENTS
# lego clients at once (Debian's lego), each with its own account (EAB) making ORDERS orders in turn for distinct
# names. The same challenge for both servers: dns-01, lego's rfc2136 provider putting each TXT record into one
# Knot DNS server (TSIG) that both servers ask when they validate (http-01 or tls-alpn-01 would put every lego on
# one port: pebble validates them all at its one httpPort/tlsPort). Both serve ACME over HTTPS with a P-256
# certificate; the set-up is the tests' (tests/integration/acme_lib.sh, test_acme_issue.sh).
# Writes DIR/acme-iotca.json and DIR/acme-pebble.json and prints a line for each: issuances/s of the whole batch
# (from the first lego's start to the last one's exit), each order's latency (one lego run) and its phases (from
# lego's log, every line stamped as it arrives), the CPU the server, lego and Knot used. After each batch every
# certificate is checked: it names its name and `openssl verify` takes it to that server's root through the chain
# lego saved; for iotcad its serial is in the store with a valid ACME order, for pebble its management API knows it.
#   IOTCA_BIN=build bench/acme_bench.sh DIR [CLIENTS [ORDERS]]     (default 8 clients, 3 orders each)
# Installs lego, pebble and knot from Debian when missing (acme_deps). bench/README.md says what the time is.
set -euo pipefail
: "${IOTCA_BIN:?IOTCA_BIN must point at the build directory}"
IOTCA_BIN=$(cd "$IOTCA_BIN" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
[ -d "${1:-}" ] || { echo "usage: bench/acme_bench.sh DIR [CLIENTS [ORDERS]] (DIR: an existing directory)" >&2; exit 2; }
DEST=$(cd "$1" && pwd) # not OUT: daemon_lib.sh's http() sets that
CLIENTS=${2:-8}
ORDERS=${3:-3}
[[ $CLIENTS =~ ^[1-9][0-9]*$ && $ORDERS =~ ^[1-9][0-9]*$ ]] ||
  { echo "acme_bench: CLIENTS and ORDERS must be positive integers, not '$CLIENTS' '$ORDERS'" >&2; exit 2; }
# shellcheck source=tests/integration/daemon_lib.sh
source "$here/../tests/integration/daemon_lib.sh"
# shellcheck source=tests/integration/acme_lib.sh
source "$here/../tests/integration/acme_lib.sh"
ok() { :; } # check_issued's lines: this prints one summary a server
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # CPU time of a process (all its threads), in clock ticks
acme_deps
acme_init
start_dns acme.test
DNS_PID=${ACME_PIDS[0]}
lego_rfc2136_env

# ---- pebble: acme_lib.sh's (EAB required, no validation sleeps, no rejected nonces, no authorization reuse) ----
start_pebble
PEBBLE_PID=${ACME_PIDS[-1]}
PEBBLE_DIRECTORY=$ACME_DIRECTORY PEBBLE_CA_BUNDLE=$ACME_CA_BUNDLE PEBBLE_ROOTS=$ACME_ROOTS
# pebble takes its one configured EAB key for every account
for i in $(seq $((CLIENTS + 1))); do echo "$EAB_KID $EAB_HMAC" > "$ACME_TMP/pebble.eab.$i"; done

# ---- iotcad: test_acme_issue.sh's ACME set-up, over HTTPS, with the shipped threads ----
ceremony
write_config
acme_tls_cert "$WORK"
export CURL_CA_BUNDLE=$WORK/tls-ca.pem # daemon_lib.sh's curl calls (start_daemon, new_issuer) over HTTPS
BASE=https://127.0.0.1:$PORT
jq --arg b "$BASE" --arg c "$WORK/tls.pem" --arg k "$WORK/tls.key" --arg dns "127.0.0.1:$DNS_PORT" \
  --argjson port "$HTTP01_PORT" --argjson tls "$TLSALPN01_PORT" '.base_url = $b | .listen.tls = {cert: $c, key: $k}
  | del(.limits.threads) | .tick_interval_s = 60
  | .profiles.web = {key_types: ["ecdsa-p256", "ecdsa-p384"], max_ttl: "90d", eku: ["server"],
                     dns_suffixes: ["acme.test"], require_san: true}
  | .acme = {profiles: {web: {}},
             validation: {resolvers: [$dns], http_port: $port, tls_port: $tls, allowed_ranges: ["127.0.0.0/8"],
                          timeout_s: 5}}' iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1
# one EAB key an account (iotcad's are single-use), and one for the warm-up
for i in $(seq $((CLIENTS + 1))); do
  "$IOTCAD" acme eab create --config iotcad.json --profile web --json | jq -r '"\(.kid) \(.hmac_key)"' > "$ACME_TMP/iotca.eab.$i"
done

# client SERVER I [N]: one lego client: its account (the EAB key in SERVER.eab.I, registered by its first run), then
# N (default ORDERS) orders in turn for oK.cI.SERVER.acme.test, each one lego run. Appends a line an order to
# SERVER/cI.orders (client, order, name, start, end, stamped log) and writes SERVER/cI.cpu: the CPU ticks its lego
# runs used (this subshell's waited-for children: lego, and the log stamping, a read and a printf a line).
client() {
  local s=$1 i=$2 k name kid hmac a
  mkdir -p "$ACME_TMP/$s"
  read -r kid hmac < "$ACME_TMP/$s.eab.$i"
  for k in $(seq "${3:-$ORDERS}"); do
    name=o$k.c$i.$s.acme.test
    a=$EPOCHREALTIME
    LEGO_DIR=$ACME_TMP/$s/c$i LEGO_LOG=$ACME_TMP/$s/c$i.o$k.log LEGO_STAMP=1 lego_run --eab --kid "$kid" --hmac "$hmac" \
      --key-type ec256 --domains "$name" "${LEGO_DNS_ARGS[@]}" run || { echo "$ACME_LAST_LOG" > "$ACME_TMP/$s/failed.$i"; return 1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$k" "$name" "$a" "$EPOCHREALTIME" "$ACME_LAST_LOG" >> "$ACME_TMP/$s/c$i.orders"
  done
  awk '{print $16 + $17}' "/proc/$BASHPID/stat" > "$ACME_TMP/$s/c$i.cpu"
}

# batch SERVER PID: CLIENTS clients at once against ACME_DIRECTORY; writes SERVER.batch: the batch's start and end,
# and the CPU ticks the server (PID) and Knot used meanwhile.
batch() {
  local s=$1 pid=$2 i t0 c0 k0 pids=() failed=""
  c0=$(ticks "$pid") k0=$(ticks "$DNS_PID")
  t0=$EPOCHREALTIME
  for i in $(seq "$CLIENTS"); do
    client "$s" "$i" &
    pids+=("$!")
  done
  for i in $(seq "$CLIENTS"); do
    wait "${pids[$((i - 1))]}" ||
      failed+=" client $i: $(tail -n 3 "$(cat "$ACME_TMP/$s/failed.$i" 2>/dev/null || echo /dev/null)" | tr '\n' ' ')"
  done
  echo "$t0 $EPOCHREALTIME $(($(ticks "$pid") - c0)) $(($(ticks "$DNS_PID") - k0))" > "$ACME_TMP/$s.batch"
  [[ -z $failed ]] || die "lego against $s failed:$failed"
}

# check SERVER: every certificate of the batch names its name and verifies to ACME_ROOTS through the chain lego
# saved (check_issued), and each order got its own (distinct serials); SERVER.serials lists them.
check() {
  local s=$1 i k name d n
  : > "$ACME_TMP/$s.serials"
  while IFS=$'\t' read -r i k name _; do
    d=$ACME_TMP/$s/c$i/certificates
    check_issued "$d/$name.crt" "$d/$name.issuer.crt" "$name"
    cert_serial "$d/$name.crt" >> "$ACME_TMP/$s.serials"
  done < <(cat "$ACME_TMP/$s"/c*.orders)
  n=$(sort -u "$ACME_TMP/$s.serials" | grep -c .)
  [[ $n == $((CLIENTS * ORDERS)) ]] || die "$s: $n distinct certificates for $((CLIENTS * ORDERS)) orders"
}

# summary SERVER KNOWN: SERVER's figures as DIR/acme-SERVER.json (KNOWN: how many certificates the server itself
# says it issued: in iotcad's store, known to pebble's management API). An order's phases, from its stamped log:
# start (lego's start-up, the directory, the account: registered by each client's first order, loaded after),
# order (newOrder, the authorization, the TXT record set through RFC 2136), propagation (lego's sleep before it
# looks for its record: RFC2136_POLLING_INTERVAL), challenge (lego's look at the record, the challenge answered,
# the server's validation, lego's polls of the authorization and its sleeps between them), cleanup (the TXT record
# removed), finalize (the CSR, finalize, lego's polls of the order when it was not valid at once, the download)
# and exit (the files written). waiting_share: the part of all orders' time that lego spent in its propagation
# sleep, the challenge phase (for a server that validates after answering: mostly lego's sleep before it polls)
# and its polls for the certificate ("Wait for certificate": the finalize answer was not valid yet).
summary() {
  local s=$1 known=$2 line i k name a b log t0 t1 server_ticks dns_ticks
  while IFS=$'\t' read -r i k name a b log; do
    line=$(awk '/Obtaining bundled SAN certificate/ {o = $1} /Trying to solve DNS-01/ {t = $1}
      /Wait for propagation/ {p = $1} /The server validated our request/ {v = $1}
      /Validations succeeded; requesting certificates/ {r = $1} /Wait for certificate/ {w = $1}
      /Server responded with a certificate/ {c = $1}
      END {if (o && t && p && v && r && c) print o, t, p, v, r, c, (w == "" ? 0 : w)}' "$log")
    [[ -n $line ]] || die "$log lacks one of the lines the phases are measured by (another lego version?): $(cat "$log")"
    printf '%s %s %s %s\n' "$k" "$a" "$b" "$line"
  done < <(cat "$ACME_TMP/$s"/c*.orders) > "$ACME_TMP/$s.phases"
  read -r t0 t1 server_ticks dns_ticks < "$ACME_TMP/$s.batch"
  jq -Rn --arg server "$s" --argjson clients "$CLIENTS" --argjson orders "$ORDERS" --argjson t0 "$t0" --argjson t1 "$t1" \
    --argjson hz "$HZ" --argjson st "$server_ticks" --argjson dt "$dns_ticks" --argjson known "$known" \
    --argjson verified "$(grep -c . "$ACME_TMP/$s.serials")" \
    --argjson lt "$(cat "$ACME_TMP/$s"/c*.cpu | awk '{n += $1} END {print n + 0}')" '
    def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def r3: . * 1000 | round / 1000;
    [inputs | split(" ") | map(tonumber) | {k: .[0], a: .[1], b: .[2], o: .[3], t: .[4], p: .[5], v: .[6], r: .[7],
      c: .[8], w: .[9]}] as $o
    | ($o | length) as $n | ($t1 - $t0) as $wall
    | {server: $server, clients: $clients, orders: $orders, issued: $n, wall_s: ($wall | r3),
       per_s: ($n / $wall | . * 100 | round / 100),
       latency_p50_s: ($o | map(.b - .a) | med | r3), latency_max_s: ($o | map(.b - .a) | max | r3),
       first_order_p50_s: ($o | map(select(.k == 1) | .b - .a) | med | r3),
       phases_p50_s: {start: ($o | map(.o - .a) | med | r3), order: ($o | map(.t - .o) | med | r3),
         propagation: ($o | map(.p - .t) | med | r3), challenge: ($o | map(.v - .p) | med | r3),
         cleanup: ($o | map(.r - .v) | med | r3), finalize: ($o | map(.c - .r) | med | r3),
         exit: ($o | map(.b - .c) | med | r3)},
       challenge_max_s: ($o | map(.v - .p) | max | r3),
       orders_challenge_over_1s: ($o | map(select(.v - .p > 1)) | length),
       orders_certificate_polled: ($o | map(select(.w > 0)) | length),
       waiting_share: (($o | map((.p - .t) + (.v - .p) + (if .w > 0 then .c - .w else 0 end)) | add)
         / ($o | map(.b - .a) | add) | . * 100 | round / 100),
       server_cpu_ms_per_issuance: ($st / $hz * 1000 / $n | . * 10 | round / 10),
       lego_cpu_ms_per_order: ($lt / $hz * 1000 / $n | . * 10 | round / 10),
       dns_cpu_ms_per_order: ($dt / $hz * 1000 / $n | . * 10 | round / 10),
       verified: $verified, known: $known}' < "$ACME_TMP/$s.phases" > "$DEST/acme-$s.json"
  jq -r '"acme \(.server): \(.issued) issuances (\(.clients) lego x \(.orders) orders, dns-01) in \(.wall_s) s" +
    " = \(.per_s)/s;\n  order p50 \(.latency_p50_s) s, phases p50 (s): " +
    (.phases_p50_s | to_entries | map("\(.key) \(.value)") | join(", ")) +
    ";\n  lego waiting \(.waiting_share * 100 | round)% of the order time (\(.orders_challenge_over_1s) challenges" +
    " over 1 s, \(.orders_certificate_polled) certificates polled for);\n  CPU an order: server" +
    " \(.server_cpu_ms_per_issuance) ms, lego \(.lego_cpu_ms_per_order) ms, Knot \(.dns_cpu_ms_per_order) ms;" +
    " \(.verified) verified, \(.known) known to the server"' \
    "$DEST/acme-$s.json"
}

# warm-up SERVER: one account and one order before the batch, not counted: lego's binary in the page cache, and
# what a server does once per process (iotcad derives its EAB master key with PBKDF2 at the first registration:
# about 0.5 s of CPU, which two clients registering at once both waited for)
warm_up() {
  cp "$ACME_TMP/$1.eab.$((CLIENTS + 1))" "$ACME_TMP/$1-warm.eab.1"
  client "$1-warm" 1 1 || die "the warm-up order against $1 failed: $(tail -n 5 "$ACME_LAST_LOG")"
}

# ---- iotcad ----
ACME_DIRECTORY=$BASE/acme/web/directory ACME_CA_BUNDLE=$WORK/tls-ca.pem ACME_ROOTS=$WORK/roots.pem
warm_up iotca
batch iotca "$DAEMON_PID"
check iotca
# each serial is in the store, under the profile, with the valid ACME order that made it
sql "SELECT lower(ltrim(c.serial, '0')) FROM certificates c JOIN acme_orders o ON o.serial = c.serial
  WHERE o.status = 'valid' AND c.profile = 'web'" | sort -u > "$ACME_TMP/iotca.stored"
unstored=$(sort -u "$ACME_TMP/iotca.serials" | comm -23 - "$ACME_TMP/iotca.stored")
[[ -z $unstored ]] || die "certificates lego got from iotcad that its store does not hold with a valid order: $unstored"
summary iotca "$(sort -u "$ACME_TMP/iotca.serials" | comm -12 - "$ACME_TMP/iotca.stored" | grep -c .)"

# ---- pebble ----
ACME_DIRECTORY=$PEBBLE_DIRECTORY ACME_CA_BUNDLE=$PEBBLE_CA_BUNDLE ACME_ROOTS=$PEBBLE_ROOTS
warm_up pebble
batch pebble "$PEBBLE_PID"
check pebble
known=0
while read -r serial; do
  st=$(curl -sf --cacert "$ACME_CA_BUNDLE" "$ACME_MGMT/cert-status-by-serial/$serial" | jq -r .Status) ||
    die "pebble does not know serial $serial"
  [[ $st == Valid ]] || die "pebble says serial $serial is $st"
  known=$((known + 1))
done < "$ACME_TMP/pebble.serials"
summary pebble "$known"
