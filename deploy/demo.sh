#!/usr/bin/env bash
# The README's first command: build everything and start a working CA on the embedded default (SQLite,
# loopback), with a demo hierarchy made by the real ceremony tool:
#   - two independent roots: R1 (passphrase) and the offline backup R2 (key split into 3-of-5 custodian shares)
#   - iotcad makes its first issuing key and CSR; iotca-root signs it offline with R1; iotcad imports it
#   - R1 cross-signs R2 for a later rollover, and publishes its CRL
#   - a first certificate is issued with the iotca CLI and checked with OpenSSL
# Running it again restarts the daemon of the existing ./demo (remove ./demo for a new ceremony).
#   IOTCA_DEMO_PORT=8443  DEMO_DIR=demo (the state; a relative path starts at the source tree)
#   IOTCA_BIN=DIR  use the binaries already built in DIR instead of building ./build (the test suite's
#                  tests/integration/test_demo.sh runs the demo this way)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
if [ -n "${IOTCA_BIN:-}" ]; then
  BIN=$(cd "$IOTCA_BIN" 2>/dev/null && pwd) || { echo "demo: IOTCA_BIN=$IOTCA_BIN is not a directory" >&2; exit 2; }
  [ -x "$BIN/server/iotcad" ] && [ -x "$BIN/tools/iotca-root" ] && [ -x "$BIN/tools/iotca" ] ||
    { echo "demo: IOTCA_BIN=$IOTCA_BIN holds no built iotcad, iotca-root and iotca" >&2; exit 2; }
else
  BUILD_DIR=${BUILD_DIR:-build} bash deploy/build.sh
  BIN="$SRC/${BUILD_DIR:-build}"
fi
ROOT="$BIN/tools/iotca-root" IOTCAD="$BIN/server/iotcad" IOTCA="$BIN/tools/iotca"
DEMO=${DEMO_DIR:-demo}
PORT=${IOTCA_DEMO_PORT:-8443}
# the command that starts this demo again, with the settings it was given
# (each part shell-quoted, so a path with spaces pastes as it is)
AGAIN=$(printf '%q' "$SRC/deploy/demo.sh")
[ -z "${IOTCA_BIN:-}" ] || AGAIN="IOTCA_BIN=$(printf '%q' "$BIN") $AGAIN"
[ -z "${DEMO_DIR:-}" ] || AGAIN="DEMO_DIR=$(printf '%q' "$DEMO_DIR") $AGAIN"
[ -z "${IOTCA_DEMO_PORT:-}" ] || AGAIN="IOTCA_DEMO_PORT=$(printf '%q' "$PORT") $AGAIN"
export IOTCA_URL="http://127.0.0.1:$PORT"

start_daemon() {
  if [ -f iotcad.pid ] && kill -0 "$(cat iotcad.pid)" 2>/dev/null; then
    echo "iotcad already running (pid $(cat iotcad.pid))"
    return
  fi
  # another process on the port would answer the readiness check below for a daemon that failed to bind
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "demo: port $PORT is already in use (another demo or service?); pick another with IOTCA_DEMO_PORT" >&2
    exit 1
  fi
  nohup "$IOTCAD" --config iotcad.json >>iotcad.log 2>&1 &
  echo $! > iotcad.pid
  for _ in $(seq 1 100); do
    # alive, not ready: a CA is ready once it has an issuer that can sign (step 4 of a first run)
    curl -sf "$IOTCA_URL/healthz" >/dev/null 2>&1 && return
    kill -0 "$(cat iotcad.pid)" 2>/dev/null || { tail -5 iotcad.log >&2; echo "demo: iotcad failed to start" >&2; exit 1; }
    sleep 0.1
  done
  echo "demo: iotcad did not start answering" >&2
  exit 1
}

if [ -f "$DEMO/iotcad.json" ]; then
  cd "$DEMO"
  "$IOTCAD" init --config iotcad.json >/dev/null # applies schema migrations of a newer build; keeps all data
  start_daemon
  echo "Demo CA running at $IOTCA_URL (state in $(pwd)); stop it with: kill \$(cat $(pwd)/iotcad.pid)"
  echo "Dashboard: $IOTCA_URL/ui/ (log in with the admin token in $(pwd)/admin.token)"
  exit 0
fi
mkdir -p "$DEMO" && chmod 700 "$DEMO" && cd "$DEMO"
umask 077
# Demo passphrases in files; a real ceremony types the root passphrase at the no-echo prompt.
head -c 24 /dev/urandom | base64 > root-passphrase
head -c 24 /dev/urandom | base64 > issuer-key-passphrase

echo "== 1. Offline: primary root R1 (ECDSA P-384, 25 years)"
"$ROOT" init --vault r1 --name "Demo IoT Root R1" --org "Demo Devices" --passphrase-file root-passphrase | sed -n 1,8p
echo
echo "== 2. Offline: backup root R2, its key split among 5 custodians (any 3 unlock it)"
"$ROOT" init --vault r2 --name "Demo IoT Root R2" --org "Demo Devices" --shares 5 --threshold 3 | sed -n 1,9p
cat r1/root.pem r2/root.pem > roots.pem
echo
echo "== 3. Online: configure and start iotcad on $IOTCA_URL (SQLite, loopback only; leaves point at its OCSP and CRLs)"
cat > iotcad.json <<JSON
{
  "listen": {"address": "127.0.0.1", "port": $PORT},
  "base_url": "$IOTCA_URL",
  "database": "$PWD/iotca.db",
  "key_dir": "$PWD/keys",
  "key_passphrase_file": "$PWD/issuer-key-passphrase",
  "roots": ["$PWD/r1/root.pem", "$PWD/r2/root.pem"],
  "tick_interval_s": 10,
  "profiles": {
    "firmware-endpoint": {"key_types": ["ecdsa-p256", "ecdsa-p384"], "max_ttl": "90d", "default_ttl": "90d",
      "eku": ["server"], "dns_suffixes": ["updates.example.com"], "require_san": true, "cn_in_san": true},
    "device": {"key_types": ["ecdsa-p256"], "max_ttl": "3650d", "default_ttl": "3650d", "eku": ["client"],
      "uri_prefixes": ["urn:dev:demo:"], "require_san": true, "cn_in_san": true, "subject": "cn"}
  },
  "acme": {"profiles": {"firmware-endpoint": {"eab_required": true}}}
}
JSON
"$IOTCAD" init --config iotcad.json
"$IOTCAD" token create --config iotcad.json --role admin > admin.token
"$IOTCAD" token create --config iotcad.json --role provisioner > provisioner.token
start_daemon
echo "iotcad is running (pid $(cat iotcad.pid)); tokens in admin.token and provisioner.token"
echo
echo "== 4. The issuing CA: key made by iotcad, certificate signed offline by R1"
IOTCA_TOKEN=$(cat admin.token) "$IOTCA" issuers new --csr-out issuing-1.csr
id=$(IOTCA_TOKEN=$(cat admin.token) "$IOTCA" --json issuers list | jq -r '.issuers[-1].id')
"$ROOT" sign-intermediate --vault r1 --csr issuing-1.csr --out issuing-1.pem --days 1095 \
  --eku server,client --passphrase-file root-passphrase --yes --note "demo issuing CA" | tail -3
IOTCA_TOKEN=$(cat admin.token) "$IOTCA" issuers import "$id" issuing-1.pem
IOTCA_TOKEN=$(cat admin.token) "$IOTCA" issuers list
echo
echo "== 5. Offline: R1 cross-signs R2 (for a later rollover) and publishes its CRL"
"$ROOT" cross-sign --vault r1 --cert r2/root.pem --out r2-by-r1.pem --passphrase-file root-passphrase --yes | tail -3
"$ROOT" crl --vault r1 --out r1.crl --passphrase-file root-passphrase --yes | tail -1
echo
echo "== 6. A first certificate, issued with the iotca CLI (the key never leaves this machine)"
IOTCA_TOKEN=$(cat provisioner.token) "$IOTCA" cert issue --profile firmware-endpoint \
  --key-out fw1.key --cn fw1.updates.example.com --dns fw1.updates.example.com --out fw1.pem --chain-out fw1.chain
openssl verify -CAfile roots.pem -untrusted fw1.chain fw1.pem
certtool --verify-chain --infile <(cat fw1.pem fw1.chain r1/root.pem) 2>/dev/null \
  | grep "Chain verification output: Verified" >/dev/null && echo "certtool: chain verified by GnuTLS"
"$ROOT" ledger verify --vault r1
echo
echo "== 7. The fleet in the field: the trust store its devices ship with (R1 and R2), registered for fleet checks"
# devices in service for two years: rotation preflight checks every issuer change until then
curl -sf -H "Authorization: Bearer $(cat admin.token)" -H 'Content-Type: application/json' \
  -d "$(jq -n --rawfile p roots.pem --arg until "$(date -u -d '+2 years' +%Y-%m-%d)" \
    '{name: "fleet-2026", pem: $p, stack: "mbedtls", until: $until}')" \
  "$IOTCA_URL/v1/trust-profiles" | jq -c '{name, stack, until}'
cat <<MSG

Demo CA running at $IOTCA_URL, state in $(pwd).

Issue a certificate with the CLI:
  export IOTCA_URL=$IOTCA_URL IOTCA_TOKEN=\$(cat $(pwd)/provisioner.token)
  $IOTCA cert issue --profile firmware-endpoint --key-out my.key --cn fw2.updates.example.com \\
      --dns fw2.updates.example.com --out my.pem

Or with curl and an OpenSSL CSR:
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \\
      -subj /CN=fw3.updates.example.com -addext subjectAltName=DNS:fw3.updates.example.com -out dev.csr
  curl -s -H "Authorization: Bearer \$(cat $(pwd)/provisioner.token)" \\
      -d "\$(jq -n --rawfile csr dev.csr '{csr: \$csr, profile: "firmware-endpoint"}')" \\
      $IOTCA_URL/v1/certificates | jq -r .certificate

Or with an ACME client (certbot, lego) on a server: the directory is
  $IOTCA_URL/acme/firmware-endpoint/directory
  and each server's account needs an EAB key, made (and shown once) by
  $(printf '%q' "$IOTCAD") acme eab create --config $(printf '%q' "$PWD/iotcad.json") --profile firmware-endpoint
  then, on a host a name under updates.example.com resolves to (http-01 on port 80):
  certbot certonly --standalone --key-type ecdsa -d fw4.updates.example.com \\
      --server $IOTCA_URL/acme/firmware-endpoint/directory --eab-kid KID --eab-hmac-key KEY

The dashboard: $IOTCA_URL/ui/ (log in with the admin token in $(pwd)/admin.token)
Trust anchors for devices: $(pwd)/roots.pem (or curl $IOTCA_URL/v1/ca/roots)
Logs: $(pwd)/iotcad.log    Stop: kill \$(cat $(pwd)/iotcad.pid)    Start again: $AGAIN
MSG
