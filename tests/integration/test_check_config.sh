#!/usr/bin/env bash
# --version on the three tools and `iotcad check-config` (issue 19, point 13): every tool says its version and
# the libraries it runs on (the crypto build among them); check-config accepts what iotcad starts with, refuses
# each thing start-up refuses with a message naming it, never binds the port nor changes the database, and
# takes the usual negative flags.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
want=$(sed -n 's/^project(iotca VERSION \([0-9.]*\).*/\1/p' "$SRC_DIR/CMakeLists.txt")
[ -n "$want" ] || die "no project version in CMakeLists.txt"

# ---- --version ----
for tool in "$IOTCAD" "$IOTCA_CLI" "$ROOT_TOOL"; do
  name=$(basename "$tool")
  "$tool" --version > v.out 2>&1 || die "$name --version exited non-zero: $(cat v.out)"
  [ "$(head -1 v.out)" = "$name $want" ] || die "$name --version first line: '$(head -1 v.out)', want '$name $want'"
  grep -Eq "^  crypto: wolfSSL [0-9]+\.[0-9]+\.[0-9]+ \((SP ECC|SP ECC with assembly|generic ECC, no SP)(, built from Debian's [^)]+|, Debian's library)\)\$" v.out ||
    die "$name --version must name the wolfSSL build: $(cat v.out)"
  ok "$name --version: $(head -1 v.out), $(grep crypto v.out | sed 's/^ *//')"
done
grep -Eq '^  store: SQLite 3\.[0-9.]+ \(schema [0-9]+\)$' <("$IOTCAD" --version) || die "iotcad --version: no store line"
grep -Eq '^  http: libmicrohttpd [0-9.]+$' <("$IOTCAD" --version) || die "iotcad --version: no http line"
grep -Eq '^  http client: libcurl [0-9.]+$' <("$IOTCA_CLI" --version) || die "iotca --version: no libcurl line"
ok "iotcad names SQLite (with its schema) and libmicrohttpd; iotca names libcurl"

# ---- check-config on a good config, before and after init ----
ceremony
write_config
rc=0; "$IOTCAD" check-config --config iotcad.json > out 2> err || rc=$?
[ "$rc" = 1 ] && grep -q 'iotcad init creates it' err || die "before init: exit $rc, $(cat out err)"
ok "before init, check-config says to run iotcad init ($(cat err))"
"$IOTCAD" init --config iotcad.json >/dev/null
"$IOTCAD" check-config --config iotcad.json > out 2> err || die "check-config of a good config: $(cat err)"
grep -q "^config ok: iotcad.json: listen 127.0.0.1:$PORT (http), 2 profile(s), 2 root file(s)" out ||
  die "check-config's summary: $(cat out)"
ok "a good config: $(cat out)"

# it neither binds nor writes: it passes while the daemon holds the port, and the database is unchanged
tokens
start_daemon
sum_before=$(sha256sum iotca.db | cut -d' ' -f1)
"$IOTCAD" check-config --config iotcad.json > out 2> err || die "check-config beside a running daemon: $(cat err)"
[ "$(sha256sum iotca.db | cut -d' ' -f1)" = "$sum_before" ] || die "check-config changed the database"
curl -sf "$BASE/healthz" >/dev/null || die "the daemon stopped answering"
ok "beside a running daemon on the same port: ok, and the database is unchanged"
stop_clean

# ---- what start-up refuses, check-config refuses (exit 1), naming it ----
cp iotcad.json good.json
bad() { # bad DESC REGEX [--arg NAME VALUE] JQ_FILTER
  local d=$1 re=$2
  shift 2
  jq "$@" good.json > iotcad.json
  set -- "$d" "$re"
  rc=0; "$IOTCAD" check-config --config iotcad.json > out 2> err || rc=$?
  [ "$rc" = 1 ] || die "$1: exit $rc, want 1: $(cat out err)"
  grep -Eq "$2" err || die "$1: the message must match /$2/: $(cat err)"
  [ ! -s out ] || die "$1: nothing on stdout when it fails: $(cat out)"
  # iotcad itself refuses the same config
  rc=0; timeout 10 "$IOTCAD" --config iotcad.json > start.out 2>&1 || rc=$?
  [ "$rc" != 0 ] && [ "$rc" != 124 ] || die "$1: iotcad started with a config check-config refused (exit $rc)"
  ok "$1: refused ($(head -c 150 err))"
}
bad "an unknown key" 'frobnicate' '.frobnicate = 1'
bad "a bad duration" 'max_ttl' '.profiles.device.max_ttl = "ninety days"'
# bridge certificates (issue 24): short-lived by design, never past the profile's own max_ttl
bad "a bridge_max_ttl over 30 days" 'bridge_max_ttl must be at most max_ttl and at most 30 days' '.profiles.device.bridge_max_ttl = "31d"'
bad "a bridge_max_ttl over max_ttl" 'bridge_max_ttl must be at most max_ttl' '.profiles["firmware-endpoint"].max_ttl = "2d" | .profiles["firmware-endpoint"].default_ttl = "1d" | .profiles["firmware-endpoint"].bridge_max_ttl = "3d"'
bad "a bridge_max_ttl of zero" 'bridge_max_ttl must be positive' '.profiles.device.bridge_max_ttl = 0'
bad "a bridge_max_ttl that is no duration" 'bridge_max_ttl' '.profiles.device.bridge_max_ttl = true'
# rehearsal endpoints (issue 24): one port a scenario, a DNS name for the leaves, a short leaf life
RH='.rehearsal = {base_port: 40000, name: "bench.updates.example.com"}'
bad "a rehearsal without base_port" 'rehearsal.base_port is required' '.rehearsal = {name: "bench.updates.example.com"}'
bad "a rehearsal without name" 'rehearsal.name is required' '.rehearsal = {base_port: 40000}'
bad "rehearsal ports over 65535" 'rehearsal.base_port must be an integer' "$RH | .rehearsal.base_port = 65530"
bad "rehearsal ports holding listen.port" 'hold listen.port' "$RH | .rehearsal.base_port = .listen.port - 3"
bad "a rehearsal name that is no DNS name" "rehearsal name 'Bench_1'" "$RH | .rehearsal.name = \"Bench_1\""
bad "a rehearsal leaf_ttl over a day" 'leaf_ttl' "$RH | .rehearsal.leaf_ttl = \"2d\""
bad "a rehearsal leaf_ttl under 5 minutes" 'leaf_ttl' "$RH | .rehearsal.leaf_ttl = 60"
bad "a rehearsal address that is no address" 'rehearsal.address' "$RH | .rehearsal.address = \"bench.local\""
bad "an unknown rehearsal key" "unknown key 'ports'" "$RH | .rehearsal.ports = [1]"
bad "require_passed_next that is no list" 'require_passed_next' "$RH | .rehearsal.require_passed_next = \"fw\""
# the database (issue 25): a SQLite file, PostgreSQL conninfo, or an object with conninfo and its settings
bad "a PostgreSQL database nobody serves" 'connecting to PostgreSQL' '.database = "postgresql://iotca@127.0.0.1:1/iotca"'
bad "a PostgreSQL URL with a password, nobody serving it" 'connecting to PostgreSQL' '.database = "postgresql://iotca:s3cr3t-pw@127.0.0.1:1/iotca"'
! grep -q 's3cr3t-pw' err start.out || die "the password in the database URL was printed: $(cat err start.out)"
ok "the password in the database URL is in neither the refusal nor iotcad's log"
bad "a database that is neither string nor object" 'database is required' '.database = 5'
bad "a database object without conninfo" 'database.conninfo is required' '.database = {connect_timeout_s: 5}'
bad "a database object with a SQLite path" 'is not PostgreSQL conninfo' '.database = {conninfo: "/tmp/x.db"}'
bad "a password in the conninfo object" 'keep the password out of the config' '.database = {conninfo: {host: "127.0.0.1", dbname: "iotca", password: "hunter2"}}'
bad "a conninfo keyword that is none" "'Host!' is not a libpq keyword" '.database = {conninfo: {"Host!": "x", dbname: "iotca"}}'
bad "conninfo words naming neither host nor dbname" 'must name dbname or host' '.database = {conninfo: {port: 5432}}'
bad "a conninfo value that is a list" 'database.conninfo.host must be a string or an integer' '.database = {conninfo: {host: ["a"]}}'
bad "a read replica that is a SQLite file" 'database.read_conninfo is not PostgreSQL conninfo' '.database = {conninfo: "postgresql://127.0.0.1:1/iotca", read_conninfo: "/tmp/r.db"}'
bad "an unknown database key" "database: unknown key 'pool'" '.database = {conninfo: "postgresql://127.0.0.1:1/iotca", pool: 4}'
bad "a connect timeout of zero" 'database.connect_timeout_s must be an integer from 1 to 300' '.database = {conninfo: "postgresql://127.0.0.1:1/iotca", connect_timeout_s: 0}'
bad "a negative statement timeout" 'database.statement_timeout_ms must be an integer' '.database = {conninfo: "postgresql://127.0.0.1:1/iotca", statement_timeout_ms: -1}'
# issuer keys on a PKCS#11 token (issue 26)
P11='.keys = {store: "pkcs11", module: "/usr/lib/softhsm/libsofthsm2.so", token_label: "iotca", pin_file: "/tmp/pin"}'
bad "keys that are no object" 'keys must be an object' '.keys = "pkcs11"'
bad "a key store that is neither file nor pkcs11" 'keys.store must be "file" or "pkcs11"' '.keys = {store: "hsm"}'
bad "keys without a store" 'keys.store must be' '.keys = {module: "/x.so"}'
bad "an unknown keys key" "keys: unknown key 'slot'" "$P11 | .keys.slot = 1"
bad "a pkcs11 store without a module" 'keys.module' "$P11 | del(.keys.module)"
bad "a module path that is relative" 'absolute path' "$P11 | .keys.module = \"libsofthsm2.so\""
bad "a pkcs11 store naming no token" 'token_label or token_serial' "$P11 | del(.keys.token_label)"
bad "a token named by label and serial" 'token_label or token_serial' "$P11 | .keys.token_serial = \"1234\""
bad "a token label over 32 bytes" 'keys.token_label must be a non-empty string of at most 32 bytes' "$P11 | .keys.token_label = \"$(printf 'x%.0s' $(seq 1 33))\""
bad "a token serial over 16 bytes" 'keys.token_serial must be' "$P11 | del(.keys.token_label) | .keys.token_serial = \"12345678901234567\""
bad "a pkcs11 store without a PIN file" 'keys.pin_file' "$P11 | del(.keys.pin_file)"
bad "an OCSP responder neither software nor token" 'keys.ocsp_responder must be "software"' "$P11 | .keys.ocsp_responder = \"hsm\""
bad "a file store with a module" 'keys.module is for store "pkcs11"' '.keys = {store: "file", module: "/x.so"}'
bad "a pool of one connection" 'database.pool_size must be an integer from 2 to 10000' '.database = {conninfo: "postgresql://127.0.0.1:1/iotca", pool_size: 1}'
bad "a pool size as a string" 'database.pool_size must be an integer' '.database = {conninfo: "postgresql://127.0.0.1:1/iotca", pool_size: "8"}'
bad "a pool size too large" 'database.pool_size must be an integer from 2 to 10000' '.database = {conninfo: "postgresql://127.0.0.1:1/iotca", pool_size: 10001}'
bad "a missing root file" 'nosuch.pem' ".roots = [\"$WORK/nosuch.pem\"]"
bad "a root file with no certificate" 'no PEM certificate' ".roots = [\"$WORK/keypass\"]"
# cross-certificates (alternate chains through an older root): each must certify a configured root
"$ROOT_TOOL" init --vault r3 --name "Test Root R3" --key ecdsa-p256 --passphrase-file rootpass >/dev/null
"$ROOT_TOOL" cross-sign --vault r1 --cert r3/root.pem --out cross-r3.pem --yes --passphrase-file rootpass >/dev/null
"$ROOT_TOOL" cross-sign --vault r1 --cert r2/root.pem --out cross-r2.pem --yes --passphrase-file rootpass >/dev/null
jq ".cross_certificates = [\"$WORK/cross-r2.pem\"]" good.json > iotcad.json
"$IOTCAD" check-config --config iotcad.json > out 2> err || die "a cross-certificate of R2 by R1: $(cat err)"
ok "a cross-certificate of a configured root is accepted"
bad "a root as a cross-certificate" 'cross-certificate 1 is self-signed' ".cross_certificates = [\"$WORK/r1/root.pem\"]"
bad "a cross-certificate of no configured root" 'cross-certificate 2: no configured root has its subject and key' \
  ".cross_certificates = [\"$WORK/cross-r2.pem\", \"$WORK/cross-r3.pem\"]"
bad "a cross-certificate file with no certificate" 'no PEM certificate' ".cross_certificates = [\"$WORK/keypass\"]"
bad "cross_certificates not a list" 'cross_certificates' '.cross_certificates = "x.pem"'
# EST: profiles that exist, secret hashes as `iotcad est hash-secret` prints them, a default among them
H=$(printf 'an enrollment secret\n' | "$IOTCAD" est hash-secret | sed -n 's/^secret_hash: //p')
jq --arg h "$H" '.est = {profiles: {device: {secret_hash: $h}}, default_profile: "device"}' good.json > iotcad.json
"$IOTCAD" check-config --config iotcad.json > out 2> err || die "an EST profile with its hash: $(cat err)"
ok "an EST profile with its secret hash is accepted"
bad "EST for no such profile" "est.profiles.nosuch: no profile named" --arg h "$H" '.est = {profiles: {nosuch: {secret_hash: $h}}}'
bad "an EST profile that is no object" "est.profiles.device must be an object" '.est = {profiles: {device: 1}}'
bad "an unknown key in an EST profile" "est.profiles.device" --arg h "$H" \
  '.est = {profiles: {device: {secret_hash: $h, colour: "red"}}}'
bad "ACME for no such profile" "acme.profiles.nosuch: no profile named" '.acme = {profiles: {nosuch: {}}}'
bad "an ACME profile that is no object" "acme.profiles.device must be an object" '.acme = {profiles: {device: []}}'
bad "an unknown key in an ACME profile" "acme.profiles.device" '.acme = {profiles: {device: {eab: false}}}'
bad "an EST secret given in clear" "est.profiles.device.secret_hash: not an enrollment secret hash" \
  '.est = {profiles: {device: {secret_hash: "hunter2hunter2"}}}'
bad "an EST profile without its secret hash" "secret_hash" '.est = {profiles: {device: {}}}'
bad "an EST default profile it does not serve" "est.default_profile" --arg h "$H" \
  '.est = {profiles: {device: {secret_hash: $h}}, default_profile: "firmware-endpoint"}'
bad "an unknown EST key" "frob" '.est = {profiles: {}, frob: 1}'
bad "a missing database" 'iotcad init creates it' ".database = \"$WORK/none.db\""
bad "a missing key directory" 'key_dir .*iotcad init creates it' ".key_dir = \"$WORK/nokeys\""
bad "a missing TLS certificate" 'nosuch.crt' ".listen.tls = {cert: \"$WORK/nosuch.crt\", key: \"$WORK/keypass\"}"
cp "$WORK/r1/root.pem" tls.crt
printf 'not a key\n' > tls.key; chmod 600 tls.key
bad "a TLS key file with no key" 'no PEM private key' ".listen.tls = {cert: \"$WORK/tls.crt\", key: \"$WORK/tls.key\"}"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out tls.key 2>/dev/null
chmod 644 tls.key
bad "a TLS key others can read" 'tls.key .*mode 0644' ".listen.tls = {cert: \"$WORK/tls.crt\", key: \"$WORK/tls.key\"}"
grep -q 'mode 0644' start.out || die "iotcad itself must refuse the readable TLS key: $(cat start.out)"
chmod 644 keypass
bad "a key passphrase file others can read" 'mode 0644.*chmod 600' '.'
"$IOTCAD" check-config --config iotcad.json --allow-readable-secrets > out 2> err ||
  die "check-config --allow-readable-secrets: $(cat err)"
grep -q 'secret file readable by other users' err || die "no warning with --allow-readable-secrets: $(cat err)"
ok "--allow-readable-secrets: ok, with the warning"
chmod 600 keypass
chmod 755 keys
bad "a key directory others can reach" 'key_dir .*mode 0755.*chmod 700' '.'
chmod 700 keys
printf '{"listen": ' > iotcad.json
rc=0; "$IOTCAD" check-config --config iotcad.json > out 2> err || rc=$?
[ "$rc" = 1 ] && grep -q 'check-config' err || die "truncated JSON: exit $rc: $(cat err)"
ok "truncated JSON: refused ($(head -c 120 err))"
cp good.json iotcad.json

# ---- its own usage errors (exit 2) ----
usage() { rc=0; "$IOTCAD" check-config "$@" > out 2>&1 || rc=$?; [ "$rc" = 2 ] || die "check-config $*: exit $rc, want 2"; ok "check-config $*: usage error"; }
usage
usage --config
usage --config iotcad.json --frobnicate
usage --config iotcad.json extra
rc=0; "$IOTCAD" check-config --config nosuch.json > out 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'nosuch.json' out || die "a missing config file: exit $rc: $(cat out)"
ok "a missing config file: exit 1 naming it"
echo "$CHECKS checks passed"
