# Shared by the ACME integration tests: a real DNS server, nginx, an ACME server (pebble now, iotcad later) and
# the real clients certbot and lego, all on loopback in one temporary directory and all stopped by the EXIT trap.
# shellcheck shell=bash
#
# Usage: `source acme_lib.sh`, then `acme_deps`, `start_dns ZONE`, `start_pebble`, and drive the clients with
# `certbot_run` / `lego_run`. The clients only see ACME_DIRECTORY (the directory URL), ACME_CA_BUNDLE (the
# certificate that signs the server's HTTPS certificate) and EAB_KID/EAB_HMAC: a function that starts iotcad's
# ACME server and sets those four is all it takes to point the same tests at iotcad.
#
# A test that also needs daemon_lib.sh sources it first: its ok/die are kept, and acme_cleanup (the EXIT trap
# from then on) calls its cleanup after stopping what this file started.
set -euo pipefail
export LC_ALL=C

# The validation ports: where the ACME server connects for http-01 and tls-alpn-01 (pebble's httpPort and
# tlsPort) and therefore where the clients' standalone servers listen (certbot --http-01-port/--https-port,
# lego --http.port/--tls.port). Chosen by acme_init, or set by the caller before it.
HTTP01_PORT=${HTTP01_PORT:-}
TLSALPN01_PORT=${TLSALPN01_PORT:-}
ACME_EMAIL=${ACME_EMAIL:-acme-test@example.org}
ACME_PIDS=()   # processes started here, stopped by acme_cleanup
ACME_PORTS=" " # ports handed out by acme_free_port, so two calls never return the same one

declare -F ok >/dev/null || {
  CHECKS=0
  # ok TEXT: records one successful check.
  ok() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
}
# die TEXT: reports a failed check and exits (daemon_lib.sh's, if it was sourced first).
declare -F die >/dev/null || die() { echo "FAIL - $*" >&2; exit 1; }

# acme_cleanup: stops every process started here, runs daemon_lib.sh's cleanup if there is one, and removes the
# temp dir (kept with IOTCA_KEEP=1 when the test failed).
acme_cleanup() {
  local rc=$? pid
  for pid in "${ACME_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${ACME_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if declare -F cleanup >/dev/null; then cleanup; fi
  if [[ $rc -ne 0 && -n ${IOTCA_KEEP:-} ]]; then
    echo "kept the work directory $ACME_TMP" >&2
  else
    rm -rf "$ACME_TMP"
  fi
  return "$rc"
}
ACME_TMP=$(mktemp -d "${TMPDIR:-/tmp}/iotca-acme.XXXXXX")
trap acme_cleanup EXIT

# acme_free_port: prints a loopback TCP port nothing listens on and that no earlier call returned.
acme_free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+) that client sockets use
    [[ $ACME_PORTS == *" $p "* ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    ACME_PORTS+="$p "
    echo "$p"
    return 0
  done
  die "no free port"
}

# acme_wait_port PORT PID WHAT [LOG]: until something accepts on 127.0.0.1:PORT; dies (with LOG) if PID exits
# or after 15 s.
acme_wait_port() {
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || die "$3 exited at start: $(tail -n 20 "${4:-/dev/null}")"
    sleep 0.1
  done
  die "$3 does not listen on port $1: $(tail -n 20 "${4:-/dev/null}")"
}

# acme_deps: installs the peers this file drives, only those missing, quietly (apt-get, noninteractive).
acme_deps() {
  # package:program pairs; a package is installed when its program is missing. knot-dnsutils brings
  # kdig and knsupdate (the nsupdate of Knot).
  local want=(certbot:certbot python3-certbot-dns-rfc2136:/usr/lib/python3/dist-packages/certbot_dns_rfc2136
    python3-certbot-nginx:/usr/lib/python3/dist-packages/certbot_nginx lego:lego nginx-light:nginx
    knot:knotd knot-dnsutils:kdig pebble:pebble)
  local missing=() w
  for w in "${want[@]}"; do
    command -v "${w#*:}" >/dev/null 2>&1 || [[ -e ${w#*:} ]] || missing+=("${w%%:*}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$ACME_TMP/apt.log" 2>&1 ||
    die "apt-get install ${missing[*]} failed: $(tail -n 20 "$ACME_TMP/apt.log")"
}

# acme_init: picks HTTP01_PORT and TLSALPN01_PORT unless the caller set them.
acme_init() {
  [[ -n $HTTP01_PORT ]] || HTTP01_PORT=$(acme_free_port)
  [[ -n $TLSALPN01_PORT ]] || TLSALPN01_PORT=$(acme_free_port)
}

# ---- DNS -------------------------------------------------------------------------------------------------
# Knot rather than BIND: one short config file that takes every path (rundir, storage, journal) from us, no
# rndc key or named-checkconf step, starts in well under a second, and Debian confines named with an AppArmor
# profile that allows /etc/bind and /var/cache/bind, not a zone in /tmp.

# start_dns ZONE: knotd authoritative for ZONE on 127.0.0.1:DNS_PORT (UDP and TCP); every name in ZONE has
# A 127.0.0.1 (a wildcard) so the ACME server's validation reaches the clients on loopback; updates
# (RFC 2136) are allowed only when signed with the TSIG key (hmac-sha256). Sets DNS_ZONE, DNS_PORT,
# TSIG_NAME, TSIG_SECRET.
start_dns() {
  local d=$ACME_TMP/dns
  DNS_ZONE=$1
  DNS_PORT=$(acme_free_port)
  TSIG_NAME=acme-update-key.
  TSIG_SECRET=$(openssl rand -base64 32)
  mkdir -p "$d"
  cat >"$d/$DNS_ZONE.zone" <<ZONE
\$ORIGIN $DNS_ZONE.
\$TTL 1
@   SOA ns hostmaster 1 60 60 600 1
@   NS  ns
ns  A   127.0.0.1
@   A   127.0.0.1
*   A   127.0.0.1
ZONE
  cat >"$d/knot.conf" <<CONF
server:
    rundir: "$d"
    listen: 127.0.0.1@$DNS_PORT
    udp-workers: 2
    tcp-workers: 2
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "$d"
key:
  - id: $TSIG_NAME
    algorithm: hmac-sha256
    secret: $TSIG_SECRET
acl:
  - id: tsig-update
    key: $TSIG_NAME
    action: update
zone:
  - domain: $DNS_ZONE
    storage: "$d"
    file: "$DNS_ZONE.zone"
    zonefile-sync: -1
    acl: tsig-update
CONF
  knotd -c "$d/knot.conf" >"$d/knot.log" 2>&1 &
  ACME_PIDS+=("$!")
  acme_wait_port "$DNS_PORT" "$!" knotd "$d/knot.log"
  # listening is not yet serving: wait until the zone is loaded.
  for _ in $(seq 1 50); do
    [[ -n $(kdig +short @127.0.0.1 -p "$DNS_PORT" SOA "$DNS_ZONE" 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  die "knotd does not serve $DNS_ZONE: $(tail -n 20 "$d/knot.log")"
}

# dns_txt NAME: prints the TXT strings of NAME (unquoted, one a line) as the test DNS server answers them.
dns_txt() { kdig +short +tcp @127.0.0.1 -p "$DNS_PORT" TXT "$1" | tr -d '"'; }

# dns_update [--no-key] COMMAND...: sends one RFC 2136 update (knsupdate commands, "send" added) to the test
# DNS server, signed with the TSIG key unless --no-key; exit status is knsupdate's.
dns_update() {
  local key=(-y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET")
  if [[ ${1:-} == --no-key ]]; then key=(); shift; fi
  { printf 'server 127.0.0.1 %s\nzone %s.\n' "$DNS_PORT" "$DNS_ZONE"; printf '%s\n' "$@" send; } |
    knsupdate "${key[@]}"
}

# ---- nginx -------------------------------------------------------------------------------------------------

# start_nginx NAME [PORT]: nginx (the master in the foreground of a background job) with server_name NAME on
# 127.0.0.1:PORT (default HTTP01_PORT: certbot --nginx answers http-01 from this server block, so it must be
# where the ACME server validates). Its config, pid file, logs and temp dirs are under NGINX_ROOT, the
# directory certbot's --nginx-server-root takes. Sets NGINX_ROOT, NGINX_CONF, NGINX_PORT.
start_nginx() {
  NGINX_ROOT=$ACME_TMP/nginx
  NGINX_CONF=$NGINX_ROOT/nginx.conf
  NGINX_PORT=${2:-$HTTP01_PORT}
  local r=$NGINX_ROOT
  mkdir -p "$r/html" "$r/tmp"
  echo "nginx for $1" >"$r/html/index.html"
  # Absolute paths only: certbot runs `nginx -c nginx.conf` without -p, so nginx's prefix is its compiled-in one.
  # user root: the workers must read files in the 0700 temp dir.
  cat >"$NGINX_CONF" <<CONF
daemon off;
user root;
worker_processes 1;
pid $r/nginx.pid;
error_log $r/error.log;
events { worker_connections 64; }
http {
    access_log $r/access.log;
    client_body_temp_path $r/tmp/body;
    proxy_temp_path $r/tmp/proxy;
    fastcgi_temp_path $r/tmp/fastcgi;
    uwsgi_temp_path $r/tmp/uwsgi;
    scgi_temp_path $r/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        server_name $1;
        root $r/html;
    }
}
CONF
  nginx -c "$NGINX_CONF" >"$r/stderr.log" 2>&1 &
  NGINX_PID=$!
  ACME_PIDS+=("$NGINX_PID")
  acme_wait_port "$NGINX_PORT" "$NGINX_PID" nginx "$r/error.log"
}

# stop_nginx: stops the nginx start_nginx started (and frees its port for the next user of HTTP01_PORT).
stop_nginx() {
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
}

# ---- the ACME server -------------------------------------------------------------------------------------

# acme_tls_cert DIR: a throwaway CA (DIR/tls-ca.pem) and the HTTPS certificate it signs for 127.0.0.1 and
# localhost (DIR/tls.pem, DIR/tls.key). Debian's pebble package ships no certificate (`dpkg -L pebble`: the
# binaries, README and two example configs that name test/certs/localhost/*.pem, a path of the source tree).
acme_tls_cert() {
  local d=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=ACME test TLS CA" \
    -keyout "$d/tls-ca.key" -out "$d/tls-ca.pem" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign >"$d/openssl.log" 2>&1 || die "TLS CA: $(cat "$d/openssl.log")"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
    -CA "$d/tls-ca.pem" -CAkey "$d/tls-ca.key" -keyout "$d/tls.key" -out "$d/tls.pem" \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost -addext extendedKeyUsage=serverAuth \
    >"$d/openssl.log" 2>&1 || die "TLS certificate: $(cat "$d/openssl.log")"
}

# start_pebble: pebble on 127.0.0.1 with EAB required (one key, EAB_KID/EAB_HMAC), validating http-01 at
# HTTP01_PORT and tls-alpn-01 at TLSALPN01_PORT, resolving names (A and TXT) at the test DNS server; no
# validation sleeps, no rejected nonces. Sets ACME_DIRECTORY, ACME_CA_BUNDLE (what signs its HTTPS
# certificate), ACME_MGMT (its management API) and ACME_ROOTS (the issuing root, from /roots/0).
start_pebble() {
  local d=$ACME_TMP/pebble port mgmt pid
  [[ -n ${DNS_PORT:-} ]] || die "start_pebble: start_dns first (pebble resolves the names to validate there)"
  acme_init
  mkdir -p "$d"
  acme_tls_cert "$d"
  port=$(acme_free_port)
  mgmt=$(acme_free_port)
  EAB_KID=kid-acme-test
  # pebble takes the MAC key as base64url without padding, and so do --eab-hmac-key and --hmac.
  EAB_HMAC=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')
  jq -n --arg listen "127.0.0.1:$port" --arg mgmt "127.0.0.1:$mgmt" --arg cert "$d/tls.pem" \
    --arg key "$d/tls.key" --argjson http "$HTTP01_PORT" --argjson tls "$TLSALPN01_PORT" \
    --arg kid "$EAB_KID" --arg mac "$EAB_HMAC" '{pebble: {listenAddress: $listen,
      managementListenAddress: $mgmt, certificate: $cert, privateKey: $key, httpPort: $http, tlsPort: $tls,
      ocspResponderURL: "", externalAccountBindingRequired: true, externalAccountMACKeys: {($kid): $mac}}}' \
    >"$d/pebble.json"
  # -strict false: the README asks integration tests to pin it (its default is to change).
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
    pebble -config "$d/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT" -strict=false >"$d/pebble.log" 2>&1 &
  pid=$!
  ACME_PIDS+=("$pid")
  acme_wait_port "$port" "$pid" pebble "$d/pebble.log"
  acme_wait_port "$mgmt" "$pid" pebble "$d/pebble.log"
  ACME_DIRECTORY=https://127.0.0.1:$port/dir
  ACME_CA_BUNDLE=$d/tls-ca.pem
  ACME_MGMT=https://127.0.0.1:$mgmt
  ACME_ROOTS=$d/roots.pem
  curl -sf --cacert "$ACME_CA_BUNDLE" -o "$ACME_ROOTS" "$ACME_MGMT/roots/0" ||
    die "pebble's root: GET $ACME_MGMT/roots/0 failed"
  curl -sf --cacert "$ACME_CA_BUNDLE" -o "$d/intermediate.pem" "$ACME_MGMT/intermediates/0" ||
    die "pebble's intermediate: GET $ACME_MGMT/intermediates/0 failed"
}

# ---- the clients ---------------------------------------------------------------------------------------

# certbot_run ARGS...: certbot against ACME_DIRECTORY, trusting ACME_CA_BUNDLE (REQUESTS_CA_BUNDLE), with its
# config/work/log dirs in CERTBOT_DIR (default the temp dir's certbot/), never prompting. Output in
# ACME_LAST_LOG (CERTBOT_DIR/last.log); the exit status is certbot's.
certbot_run() {
  local d=${CERTBOT_DIR:-$ACME_TMP/certbot}
  mkdir -p "$d"
  ACME_LAST_LOG=$d/last.log
  REQUESTS_CA_BUNDLE=$ACME_CA_BUNDLE certbot --config-dir "$d/config" --work-dir "$d/work" --logs-dir "$d/logs" \
    --server "$ACME_DIRECTORY" --non-interactive --agree-tos -m "$ACME_EMAIL" "$@" >"$d/last.log" 2>&1
}

# lego_run ARGS...: lego against ACME_DIRECTORY, trusting ACME_CA_BUNDLE (LEGO_CA_CERTIFICATES), its state in
# LEGO_DIR (default the temp dir's lego/; without --path lego writes ./.lego). Output in ACME_LAST_LOG (LEGO_LOG
# if set, else LEGO_DIR.log); with LEGO_STAMP=1 each line of it starts with the time it arrived (acme_stamp: lego's
# own log times are whole seconds). The exit status is lego's.
lego_run() {
  local d=${LEGO_DIR:-$ACME_TMP/lego}
  local cmd=(lego --server "$ACME_DIRECTORY" --accept-tos --email "$ACME_EMAIL" --path "$d" "$@")
  ACME_LAST_LOG=${LEGO_LOG:-$d.log}
  if [[ -n ${LEGO_STAMP:-} ]]; then
    # pipefail (set above): the pipeline fails when lego does
    LEGO_CA_CERTIFICATES=$ACME_CA_BUNDLE "${cmd[@]}" 2>&1 | acme_stamp >"$ACME_LAST_LOG"
  else
    LEGO_CA_CERTIFICATES=$ACME_CA_BUNDLE "${cmd[@]}" >"$ACME_LAST_LOG" 2>&1
  fi
}

# acme_stamp: copies its input to its output, each line prefixed with the time it was read (EPOCHREALTIME:
# seconds since the epoch, to the microsecond) and a space.
acme_stamp() {
  local line
  while IFS= read -r line || [[ -n $line ]]; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done
}

# lego_rfc2136_env: exports what lego's rfc2136 DNS provider reads to update the test DNS server, and sets
# LEGO_DNS_ARGS: the provider, the resolver lego uses to find the zone and check the record, and no "complete
# propagation" check (that one asks every NS of the zone, found by name through the system resolver, on port 53).
lego_rfc2136_env() {
  # shellcheck disable=SC2034 # read by the tests
  LEGO_DNS_ARGS=(--dns rfc2136 --dns.resolvers "127.0.0.1:$DNS_PORT" --dns.disable-cp)
  export RFC2136_NAMESERVER=127.0.0.1:$DNS_PORT RFC2136_TSIG_KEY=$TSIG_NAME RFC2136_TSIG_SECRET=$TSIG_SECRET
  export RFC2136_TSIG_ALGORITHM=hmac-sha256. RFC2136_PROPAGATION_TIMEOUT=30 RFC2136_POLLING_INTERVAL=1 RFC2136_TTL=1
  # Two names that share one TXT owner (x and *.x) are solved in turn, 60 s apart by default.
  export RFC2136_SEQUENCE_INTERVAL=1
}

# client_ok DESC CMD...: CMD (certbot_run or lego_run ...) must exit 0; else the test fails with its log.
client_ok() {
  local desc=$1 rc=0 t0=$EPOCHREALTIME
  shift
  "$@" || rc=$?
  [[ $rc -eq 0 ]] || die "$desc: exit $rc: $(tail -n 25 "$ACME_LAST_LOG")"
  ok "$desc ($(acme_since "$t0") s)"
}

# client_refused DESC REGEX CMD...: CMD must exit non-zero and its log match REGEX (grep -E, case-insensitive).
client_refused() {
  local desc=$1 why=$2 rc=0
  shift 2
  "$@" || rc=$?
  [[ $rc -ne 0 ]] || die "$desc: expected a refusal, got exit 0: $(tail -n 25 "$ACME_LAST_LOG")"
  grep -qiE -- "$why" "$ACME_LAST_LOG" || die "$desc: exit $rc but no /$why/ in: $(tail -n 25 "$ACME_LAST_LOG")"
  ok "$desc (exit $rc, /$why/)"
}

# acme_since T0: seconds (one decimal) since EPOCHREALTIME was T0; printed for the record, never asserted on.
acme_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# certbot_rfc2136_ini FILE: writes certbot-dns-rfc2136's credentials file (mode 0600: certbot warns otherwise).
certbot_rfc2136_ini() {
  (umask 077 && cat >"$1" <<INI
dns_rfc2136_server = 127.0.0.1
dns_rfc2136_port = $DNS_PORT
dns_rfc2136_name = $TSIG_NAME
dns_rfc2136_secret = $TSIG_SECRET
dns_rfc2136_algorithm = HMAC-SHA256
INI
  )
}

# ---- checks on what was issued -------------------------------------------------------------------------

# check_issued CERT CHAIN NAME... : CERT (a PEM leaf) names exactly NAME... in its SAN, and openssl verifies it
# to ACME_ROOTS through CHAIN (the intermediates the client saved) for TLS server use.
check_issued() {
  local cert=$1 chain=$2 sans want
  shift 2
  [[ -s $cert ]] || die "no certificate at $cert"
  sans=$(openssl x509 -in "$cert" -noout -ext subjectAltName | sed -n 's/^ *//; 2p' | tr -d ' ' | tr ',' '\n' | sort)
  want=$(printf 'DNS:%s\n' "$@" | sort)
  [[ $sans == "$want" ]] || die "${cert##*/}: SAN is $(echo "$sans" | tr '\n' ' '), expected $*"
  openssl verify -purpose sslserver -CAfile "$ACME_ROOTS" -untrusted "$chain" "$cert" >"$ACME_TMP/verify.log" 2>&1 ||
    die "${cert##*/} does not verify to the ACME server's root: $(cat "$ACME_TMP/verify.log")"
  ok "certificate for $* verifies to the ACME root ($(openssl x509 -in "$cert" -noout -issuer | sed 's/^issuer=//'))"
}

# cert_serial CERT: the serial in lower-case hex, as pebble's /cert-status-by-serial/ takes it.
cert_serial() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=0*//' | tr 'A-F' 'a-f'; }
