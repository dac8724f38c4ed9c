#!/usr/bin/env bash
# The README's first command, deploy/demo.sh, run on the binaries under test (IOTCA_BIN) in a temporary
# state directory: the ceremony must finish, the CA must answer and issue as the demo's closing message
# says, its secrets must be 0600 and the CA keys encrypted, a second run must leave the running daemon be,
# a run after a stop must restart it on the same state, and a port already taken or a config the daemon refuses
# must fail the run clearly with the state kept.
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=daemon_lib.sh
source "$SRC/tests/integration/daemon_lib.sh"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
D="$WORK/demo state" # a space: every path the demo writes and prints must survive it
demo() { DEMO_DIR=$D IOTCA_DEMO_PORT=$PORT IOTCA_BIN=$IOTCA_BIN bash "$SRC/deploy/demo.sh"; }
stop_demo() { # stops the demo's daemon and waits until it is gone
  kill "$DAEMON_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || return 0; sleep 0.1; done
  die "the demo's iotcad (pid $DAEMON_PID) did not stop"
}

# ---- the first run: the whole ceremony -------------------------------------------------------------------
demo > first.out 2>&1 || { cat first.out >&2; die "deploy/demo.sh exited non-zero"; }
DAEMON_PID=$(cat "$D/iotcad.pid")
kill -0 "$DAEMON_PID" 2>/dev/null || die "the demo's iotcad (pid $DAEMON_PID) is not running after the demo"
ok "deploy/demo.sh exits 0 and leaves iotcad running (pid in demo/iotcad.pid)"
grep -q '^fw1.pem: OK$' first.out || die "openssl did not verify the demo's first certificate: $(tail -20 first.out)"
grep -q '^certtool: chain verified by GnuTLS$' first.out || die "GnuTLS did not verify the demo's chain"
grep -q '^ledger ok: 4 records' first.out || die "the demo's ledger check did not report 4 records"
grep -q "^Demo CA running at $BASE, state in $D\.$" first.out || die "the closing message does not name $BASE and $D"
again=$(sed -n 's/.*Start again: //p' first.out)
[ "$again" = "IOTCA_DEMO_PORT=$PORT DEMO_DIR=$(printf %q "$D") IOTCA_BIN=$(printf %q "$IOTCA_BIN") $(printf %q "$SRC/deploy/demo.sh")" ] ||
  die "the closing message's start-again command does not carry the settings given: '$again'"
ok "the demo's own checks passed: openssl verify, certtool, ledger verify (4 records); it names the URL, the state and how to start it again"

[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] || die "/readyz is not 200"
curl -sf "$BASE/v1/ca/roots" > served-roots.json || die "GET /v1/ca/roots failed"
[ "$(jq '.roots | length' served-roots.json)" = 2 ] || die "GET /v1/ca/roots does not serve two roots: $(cat served-roots.json)"
for i in 0 1; do
  jq -r ".roots[$i].certificate" served-roots.json > "served$i.pem"
  pin=$(openssl x509 -in "served$i.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
  [ "$(jq -r ".roots[$i].spki_sha256" served-roots.json)" = "$pin" ] || die "root $i's spki_sha256 is not its key's SHA-256"
done
for r in r1 r2; do
  fp=$(openssl x509 -in "$D/$r/root.pem" -noout -fingerprint -sha256)
  [ "$(openssl x509 -in served0.pem -noout -fingerprint -sha256)" = "$fp" ] ||
    [ "$(openssl x509 -in served1.pem -noout -fingerprint -sha256)" = "$fp" ] || die "GET /v1/ca/roots does not serve the demo's root $r"
done
ok "/readyz answers 200; /v1/ca/roots serves both roots the ceremony made (R1 and the backup R2) with their SPKI pins"

# the closing message's curl recipe, as a newcomer would paste it
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \
  -subj /CN=fw3.updates.example.com -addext subjectAltName=DNS:fw3.updates.example.com -out dev.csr 2>/dev/null
status=$(curl -s -o issued.json -w '%{http_code}' -H "Authorization: Bearer $(cat "$D/provisioner.token")" \
  -d "$(jq -n --rawfile csr dev.csr '{csr: $csr, profile: "firmware-endpoint"}')" "$BASE/v1/certificates")
[ "$status" = 201 ] || die "the closing message's curl recipe got HTTP $status: $(cat issued.json)"
jq -r .certificate issued.json > dev.pem
jq -r .chain issued.json > dev.chain
openssl verify -CAfile "$D/roots.pem" -untrusted dev.chain dev.pem >/dev/null 2>&1 ||
  die "openssl does not verify the certificate issued with the closing message's recipe"
SERIAL=$(jq -r .serial issued.json)
ok "the closing message's curl recipe issues a certificate (201) that openssl verifies against demo/roots.pem"

# base_url: the demo's leaves name the demo's own OCSP responder and CRL, and both answer
ocsp_url=$(openssl x509 -in "$D/fw1.pem" -noout -ocsp_uri)
[ "$ocsp_url" = "$BASE/ocsp" ] || die "the demo's first certificate has no OCSP URL of the demo CA (AIA: '$ocsp_url')"
crl_url=$(openssl x509 -in "$D/fw1.pem" -noout -ext crlDistributionPoints | sed -n 's/^ *URI://p')
[[ "$crl_url" == "$BASE/crl/"*.crl ]] || die "the demo's first certificate has no CRL distribution point of the demo CA: '$crl_url'"
grep -qx "$BASE/ocsp" < <(openssl x509 -in dev.pem -noout -ocsp_uri) || die "a certificate issued with the curl recipe has no OCSP URL"
head -n "$(grep -n 'END CERTIFICATE' "$D/fw1.chain" | head -1 | cut -d: -f1)" "$D/fw1.chain" > fw1-issuer.pem
openssl ocsp -issuer fw1-issuer.pem -cert "$D/fw1.pem" -url "$ocsp_url" -CAfile "$D/roots.pem" -no_nonce \
  > ocsp.out 2>&1 || die "openssl ocsp against the leaf's own URL failed: $(cat ocsp.out)"
grep -q "^$D/fw1.pem: good$" ocsp.out && grep -q '^Response verify OK$' ocsp.out ||
  die "openssl ocsp against $ocsp_url did not answer good with a verified response: $(cat ocsp.out)"
curl -sf "$crl_url" -o fw1.crl || die "GET $crl_url (the leaf's CRL distribution point) failed"
grep -q 'verify OK' < <(openssl crl -inform DER -in fw1.crl -noout -CAfile <(cat fw1-issuer.pem "$D/roots.pem") 2>&1) ||
  die "the CRL at $crl_url does not verify against its issuer"
ok "the demo's leaves carry AIA OCSP $BASE/ocsp and a CRL distribution point; openssl ocsp there answers good (verified), the CRL verifies"

# ACME: the closing message names the directory, which answers; the EAB command it prints makes a key
grep -q "^  $BASE/acme/firmware-endpoint/directory$" first.out || die "the closing message does not name the ACME directory"
curl -sf "$BASE/acme/firmware-endpoint/directory" | jq -e --arg b "$BASE" '.newAccount == "\($b)/acme/firmware-endpoint/new-account"
  and .meta.externalAccountRequired == true' >/dev/null || die "the demo's ACME directory does not answer"
eab_cmd=$(grep -A1 "each server's account needs an EAB key" first.out | tail -1 | sed 's/^ *//')
eval "$eab_cmd" > eab.out || die "the closing message's EAB command failed: $eab_cmd: $(cat eab.out)"
grep -qE '^kid: eab-[0-9a-f]{16}$' eab.out && grep -qE '^hmac_key: [A-Za-z0-9_-]{43}$' eab.out ||
  die "the EAB command printed: $(cat eab.out)"
ok "the closing message names the ACME directory (it answers, EAB required) and its EAB command makes a key"

# the dashboard: the closing message names it, the admin token logs in, and its fleet risk shows the trust
# profile the demo registered (the browser test of every page is test_ui.sh)
grep -q "^The dashboard: $BASE/ui/ (log in with the admin token in $D/admin.token)$" first.out ||
  die "the closing message does not name the dashboard"
curl -s -c ui.jar -b ui.jar "$BASE/ui/login" -o login.html
pre=$(grep -o 'name="csrf" value="[0-9a-f]*"' login.html | grep -o '[0-9a-f]\{64\}')
[ "$(curl -s -o /dev/null -w '%{http_code}' -c ui.jar -b ui.jar --data-urlencode "token=$(cat "$D/admin.token")" \
  --data "csrf=$pre" "$BASE/ui/login")" = 303 ] || die "the demo's admin token does not log in to the dashboard"
curl -s -b ui.jar "$BASE/ui/risk" | grep -q 'data-profile="fleet-2026"' || die "the dashboard shows no fleet-2026 risk"
ok "the closing message names the dashboard; the admin token logs in and its fleet risk lists fleet-2026"

# secrets 0600 and the CA keys encrypted at rest, in a directory only its owner enters
[ "$(stat -c %a "$D")" = 700 ] || die "the state directory has mode $(stat -c %a "$D"), not 0700"
for f in "$D"/root-passphrase "$D"/issuer-key-passphrase "$D"/admin.token "$D"/provisioner.token "$D"/iotca.db \
  "$D"/r1/root.key "$D"/r2/root.key "$D"/keys/* "$D"/r2/shares/*; do
  [ -f "$f" ] || die "expected secret file ${f#"$D"/} is missing"
  [ "$(stat -c %a "$f")" = 600 ] || die "${f#"$D"/} has mode $(stat -c %a "$f"), not 0600"
done
for k in "$D"/r1/root.key "$D"/keys/*; do
  grep -q 'BEGIN ENCRYPTED PRIVATE KEY' "$k" || die "${k#"$D"/} is not an encrypted PKCS#8 key"
  openssl pkey -in "$k" -passin pass:wrong -noout 2>/dev/null && die "${k#"$D"/} opens with a wrong passphrase"
done
openssl pkey -in "$D/r1/root.key" -passin "file:$D/root-passphrase" -noout 2>/dev/null ||
  die "openssl cannot open R1's key with the demo's passphrase"
[ "$(find "$D/r2/shares" -type f | wc -l)" = 5 ] || die "the backup root's key is not split into 5 shares"
ok "state directory 0700; secrets 0600 (passphrases, tokens, database, root and issuer keys, 5 shares); keys are encrypted PKCS#8"

# ---- a second run while the daemon runs: nothing restarted ---------------------------------------------
demo > second.out 2>&1 || { cat second.out >&2; die "the second run exited non-zero"; }
grep -q "^iotcad already running (pid $DAEMON_PID)$" second.out || die "the second run did not report the running daemon: $(cat second.out)"
[ "$(cat "$D/iotcad.pid")" = "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" || die "the second run replaced the running daemon"
ok "a second run leaves the running daemon be (same pid) and exits 0"

# ---- a run after a stop: the same state, served again -----------------------------------------------
stop_demo
(cd / && eval "$again") > third.out 2>&1 || { cat third.out >&2; die "the printed start-again command exited non-zero"; }
NEW_PID=$(cat "$D/iotcad.pid")
[ "$NEW_PID" != "$DAEMON_PID" ] || die "the run after a stop did not start a new daemon"
DAEMON_PID=$NEW_PID
status=$(curl -s -o got.json -w '%{http_code}' -H "Authorization: Bearer $(cat "$D/provisioner.token")" "$BASE/v1/certificates/$SERIAL")
[ "$status" = 200 ] || die "the restarted demo does not know certificate $SERIAL (HTTP $status)"
[ "$(jq -r .certificate got.json)" = "$(cat dev.pem)" ] || die "the restarted demo serves a different certificate for $SERIAL"
ok "after a stop, the printed start-again command (run from /) restarts iotcad on the same state: the earlier certificate is still served"

# ---- refusals ------------------------------------------------------------------------------------------
stop_demo
openssl s_server -accept "$PORT" -cert dev.pem -key dev.key -quiet > /dev/null 2>&1 &
squatter=$!
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
rc=0
demo > taken.out 2>&1 || rc=$?
kill "$squatter" 2>/dev/null || true
wait "$squatter" 2>/dev/null || true
[ "$rc" != 0 ] || die "the demo started although port $PORT was taken"
grep -q "^demo: port $PORT is already in use" taken.out || die "no clear message when the port is taken: $(cat taken.out)"
[ "$(cat "$D/iotcad.pid")" = "$DAEMON_PID" ] || die "a run refused for a taken port started a daemon"
DAEMON_PID=""
[ -s "$D/iotca.db" ] && [ -s "$D/r1/ledger.jsonl" ] || die "the refused start lost the demo's state"
ok "a taken port fails the run (exit $rc, 'port $PORT is already in use'), no daemon started, state kept"

# a config the daemon refuses: its own message, the state kept
cp "$D/iotcad.json" good.json
jq '.listen.port = "not a port"' good.json > "$D/iotcad.json"
rc=0
demo > badcfg.out 2>&1 || rc=$?
[ "$rc" != 0 ] || die "the demo ran with a config iotcad must refuse"
grep -q 'listen.port' badcfg.out || die "the refusal does not name the bad setting: $(cat badcfg.out)"
[ -s "$D/iotca.db" ] && [ "$(sqlite3 "$D/iotca.db" 'SELECT count(*) FROM certificates')" = 2 ] ||
  die "the refused start lost certificates"
cp good.json "$D/iotcad.json"
ok "a config iotcad refuses fails the run (exit $rc) naming listen.port; both certificates still recorded"

rc=0
DEMO_DIR=$WORK/other IOTCA_DEMO_PORT=$PORT IOTCA_BIN=$WORK/nope bash "$SRC/deploy/demo.sh" > nobin.out 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "^demo: IOTCA_BIN=$WORK/nope is not a directory$" nobin.out ||
  die "IOTCA_BIN pointing nowhere: expected exit 2 and a clear message, got $rc: $(cat nobin.out)"
rc=0
DEMO_DIR=$WORK/other IOTCA_DEMO_PORT=$PORT IOTCA_BIN=$WORK bash "$SRC/deploy/demo.sh" > nobin.out 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "holds no built iotcad, iotca-root and iotca" nobin.out ||
  die "IOTCA_BIN without binaries: expected exit 2 and a clear message, got $rc: $(cat nobin.out)"
[ ! -e "$WORK/other" ] || die "a refused run made a state directory"
ok "IOTCA_BIN that is not a directory or holds no binaries: exit 2 with a clear message, nothing made"

echo "PASS test_demo: $CHECKS checks"
