#!/usr/bin/env bash
# iotcad over HTTPS (libmicrohttpd's TLS) driven by the iotca CLI: cert issue with a local key, show, list,
# revoke; plain HTTP refused on the TLS port; plain HTTP on a public address refused without the explicit
# flag; the example config loads.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ceremony
write_config
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -days 30 -out tls.pem 2>/dev/null
jq --arg c "$WORK/tls.pem" --arg k "$WORK/tls.key" '.listen.tls = {cert: $c, key: $k}' iotcad.json > t.json && mv t.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
BASE="https://127.0.0.1:$PORT"
"$IOTCAD" --config iotcad.json >>daemon.log 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do curl -sf --cacert tls.pem "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -sf --cacert tls.pem "$BASE/healthz" | grep >/dev/null ok || die "HTTPS healthz"
ok "iotcad serves HTTPS with its own certificate (curl --cacert)"
if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then die "plain HTTP answered on the TLS port"; fi
if curl -sf "$BASE/healthz" >/dev/null 2>&1; then die "TLS verified without the CA"; fi
ok "plain HTTP and unverified TLS are refused"

export IOTCA_URL="$BASE"
cli() { "$IOTCA_CLI" --cacert tls.pem "$@"; }
IOTCA_TOKEN=$ADMIN cli issuers new --csr-out i.csr >/dev/null
id=$(IOTCA_TOKEN=$ADMIN cli --json issuers list | jq -r '.issuers[0].id')
"$ROOT_TOOL" sign-intermediate --vault r1 --csr i.csr --out i.pem --yes --passphrase-file rootpass >/dev/null
IOTCA_TOKEN=$ADMIN cli issuers import "$id" i.pem | grep >/dev/null "state active" || die "CLI import"
ok "issuers new / sign offline / issuers import through the CLI over HTTPS"

export IOTCA_TOKEN="$PROV"
cli cert issue --profile firmware-endpoint --key-out k.pem --cn fw.updates.example.com --dns fw.updates.example.com \
  --out leaf.pem --chain-out chain.pem >/dev/null || die "cert issue"
[ "$(stat -c %a k.pem)" = 600 ] || die "key file mode"
openssl verify -CAfile roots.pem -untrusted chain.pem leaf.pem >/dev/null || die "verify"
cmp -s <(openssl x509 -in leaf.pem -pubkey -noout) <(openssl pkey -in k.pem -pubout) || die "leaf is not for the local key"
keyb64=$(sed -n 2p k.pem)
grep -qF "$keyb64" daemon.log && die "the private key reached the daemon log"
sqlite3 iotca.db .dump | grep -F >/dev/null "$keyb64" && die "the private key reached the database"
ok "cert issue --key-out: key 0600, never sent; the leaf verifies and carries that key"
serial=$(openssl x509 -in leaf.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
cli cert show "$serial" | grep -i >/dev/null "valid" || die "cert show"
cli --json cert list --expiring 400d | jq -e --arg s "$serial" '.certificates[] | select(.serial == $s)' >/dev/null || die "list --expiring 400d"
[ "$(cli --json cert list --expiring 1d | jq '.certificates | length')" = 0 ] || die "list --expiring 1d"
cli cert revoke "$serial" --reason keyCompromise >/dev/null || die "revoke"
cli --json cert show "$serial" | jq -e '.status == "revoked" and .reason == "keyCompromise"' >/dev/null || die "revoked status"
set +e; cli cert revoke "$serial" --reason keyCompromise 2>r.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "already_revoked" r.err || die "second revoke: $rc"
set +e; cli cert issue --profile firmware-endpoint --key-out k2.pem --cn x.example.org --dns x.example.org 2>i.err; rc=$?; set -e
[ "$rc" = 3 ] && grep -q "san.dns" i.err && [ ! -e k2.pem ] || die "refusal through the CLI: $rc"
ok "cert show / list --expiring / revoke / refusals through the CLI; a refused key file is removed"
stop_daemon

# plain HTTP on a public address needs the explicit flag
jq '.listen = {address: "0.0.0.0", port: '"$(free_port)"'}' iotcad.json > pub.json
set +e; "$IOTCAD" --config pub.json 2>pub.err; rc=$?; set -e
[ "$rc" = 2 ] && grep -q "allow_plain_http_on_public_address" pub.err || die "public plain HTTP: $rc $(cat pub.err)"
ok "plain HTTP on 0.0.0.0 is refused without allow_plain_http_on_public_address"
# the example config loads once its paths point somewhere real
jq --arg w "$WORK" '.database = "\($w)/ex.db" | .key_dir = "\($w)/exkeys" | .key_passphrase_file = "\($w)/keypass"
   | .roots = ["\($w)/r1/root.pem", "\($w)/r2/root.pem"] | .listen.tls = {cert: "\($w)/tls.pem", key: "\($w)/tls.key"}' \
  "$IOTCA_SRC/deploy/config/iotcad.example.json" > example.json
"$IOTCAD" init --config example.json | grep >/dev/null "schema version" || die "the example config does not load"
ok "deploy/config/iotcad.example.json loads"
echo "$CHECKS passed, 0 failed"
