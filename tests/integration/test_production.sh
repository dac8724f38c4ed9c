#!/usr/bin/env bash
# The README's "Running it in production" section, run as written: its blocks (each after a
# `<!-- production: NAME -->` line) run in this shell with the system paths redirected into a temp dir and
# useradd, chown, sudo -u iotca, systemctl replaced by functions doing the equivalent as the current user
# (systemctl start runs the unit's ExecStart in the background, reload its ExecReload lines, stop SIGTERMs).
# Then: the daemon answers HTTPS with the certificate iotca issued it, issuance works, a backup restores into
# a working CA on a wiped machine, and the upgrade step brings a database one migration behind up to date.
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
README=${README_FILE:-$SRC/README.md}
# shellcheck source=tests/integration/daemon_lib.sh
source "$SRC/tests/integration/daemon_lib.sh"

# ---- the README points at nothing outside the repository -------------------------------------------------
if grep -nE '\.\./shared|SPEC\.md|STYLE\.md|SPEC §' "$README" > outside.txt; then
  die "README.md points at files outside the repository: $(cat outside.txt)"
fi
ok "README.md names no file outside the repository (../shared, SPEC.md, STYLE.md)"

# ---- the blocks ------------------------------------------------------------------------------------------
NAMES="setup offline-root config issuer tls backup restore upgrade"
awk -v dir="$WORK" '/^<!-- production: [a-z-]+ -->$/ { name = $3; want = 1; next }
  want && /^```sh$/ { out = dir "/block-" name ".sh"; inblock = 1; want = 0; next }
  inblock && /^```$/ { inblock = 0; close(out); next }
  inblock { print > out } { want = want && /^$/ }' "$README"
for n in $NAMES; do [ -s "block-$n.sh" ] || die "README.md has no <!-- production: $n --> sh block"; done
[ "$(grep -c '^<!-- production: ' "$README")" = "$(echo $NAMES | wc -w)" ] || die "README.md has production blocks this test does not run"
ok "README.md has the production blocks: $NAMES"

# ---- the machine, redirected ----------------------------------------------------------------------------
mkdir -p sys/etc sys/state sys/bin sys/units media home backup
export ETC=$WORK/sys/etc/iotca STATE=$WORK/sys/state/iotca BIN=$WORK/sys/bin UNITS=$WORK/sys/units
export BUILD=$IOTCA_BIN MEDIA=$WORK/media VAULT=$WORK/vault HOME=$WORK/home BACKUP=$WORK/backup/one
export CA_HOST=localhost CA_ADDR=127.0.0.1 CA_PORT=$(free_port)
export PATH="$BIN:$PATH"
printf 'root passphrase for the test ceremony\n' > rootpass && chmod 600 rootpass
USERADDED=""
useradd() { [[ " $* " == *" --system "* && "${!#}" == iotca ]] || die "useradd $*: not a system user iotca"; USERADDED=1; }
chown() { # the owner must be one the section created; everything already belongs to the current user
  [ -n "$USERADDED" ] || die "chown $* before useradd"
  local a; for a in "$@"; do case $a in -R) ;; root:iotca | iotca:iotca) ;; /*) [ -e "$a" ] || die "chown: no $a" ;; *) die "chown $*: unexpected owner $a" ;; esac; done
}
sudo() { [ "$1" = -u ] && [ "$2" = iotca ] || die "sudo $*: expected sudo -u iotca"; shift 2; "$@"; }
iotca-root() { "$ROOT_TOOL" "$@" --passphrase-file "$WORK/rootpass" $([ "$1" = init ] || echo --yes); } # no prompts here
unit_lines() { # unit_lines KEY: the unit's KEY= lines with its paths mapped to the redirected ones
  [ -f "$UNITS/iotcad.service" ] || die "systemctl: $UNITS/iotcad.service is not installed"
  sed -n "s/^$1=//p" "$UNITS/iotcad.service" | sed "s#/usr/local/bin#$BIN#g; s#/etc/iotca#$ETC#g"
}
systemctl() {
  local verb=$1; shift
  [ "$verb" = enable ] && [ "${1:-}" = --now ] && { shift; verb=start; }
  case $verb in
    daemon-reload) [ -f "$UNITS/iotcad.service" ] || die "daemon-reload without the unit installed" ;;
    start)
      [ "$1" = iotcad ] || die "systemctl start $1"
      local cmd; cmd=$(unit_lines ExecStart)
      [ -n "$cmd" ] || die "the unit has no ExecStart"
      (umask 077; eval "exec $cmd" >>"$WORK/daemon.log" 2>&1) &
      DAEMON_PID=$! ;;
    stop)
      [ -n "$DAEMON_PID" ] || return 0
      kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID="" ;;
    restart) systemctl stop "$1"; systemctl start "$1" ;;
    reload)
      local line; while IFS= read -r line; do
        eval "${line//\$MAINPID/$DAEMON_PID}" || return 1
      done < <(unit_lines ExecReload) ;;
    *) die "systemctl $verb: not stubbed" ;;
  esac
}
run_block() {
  echo "# running the README's production block '$1'"
  cd "$SRC" # the README's commands run from the source tree
  # shellcheck disable=SC1090
  source "$WORK/block-$1.sh" > "$WORK/block-$1.out" 2>&1 || { cat "$WORK/block-$1.out" >&2; die "the README's '$1' block failed"; }
  cd "$WORK"
}
ROOTS=$ETC/roots/r1.pem
api() { curl -s --cacert "$ROOTS" -o "$WORK/out.json" -w '%{http_code}' "$@"; }

# ---- install, ceremony, config, service, issuer ----------------------------------------------------------
run_block setup
[ -x "$BIN/iotcad" ] && [ -x "$BIN/iotca" ] || die "setup did not install the binaries into \$BIN"
[ "$(stat -c %a "$STATE")" = 700 ] && [ "$(stat -c %a "$ETC/issuer-key-passphrase")" = 600 ] ||
  die "modes: state $(stat -c %a "$STATE"), passphrase $(stat -c %a "$ETC/issuer-key-passphrase")"
ok "setup: binaries installed, user made, $STATE 0700, the issuer keys' passphrase 0600"
run_block offline-root
run_block config
kill -0 "$DAEMON_PID" 2>/dev/null || die "iotcad is not running after the config block"
[ "$(stat -c %a "$STATE/keys")" = 700 ] || die "key_dir mode $(stat -c %a "$STATE/keys")"
ok "offline root, config from the example, iotcad init (key_dir 0700), tokens, the unit started"
run_block issuer
run_block tls
[ "$(stat -c %a "$ETC/tls/iotcad.key")" = 600 ] || die "the TLS key has mode $(stat -c %a "$ETC/tls/iotcad.key")"
BASE="https://$CA_HOST:$CA_PORT"
[ "$(api "$BASE/readyz")" = 200 ] || die "GET /readyz over HTTPS with --cacert the root: $(cat out.json)"
echo | openssl s_client -connect "127.0.0.1:$CA_PORT" -servername "$CA_HOST" -CAfile "$ROOTS" -verify_return_error \
  -showcerts > sclient.out 2>&1 || die "openssl s_client does not verify the daemon: $(tail -5 sclient.out)"
grep -q 'Verify return code: 0 (ok)' sclient.out || die "s_client: $(grep 'Verify return' sclient.out)"
served=$(openssl x509 -in sclient.out -noout -fingerprint -sha256)
[ "$served" = "$(openssl x509 -in "$ETC/tls/iotcad.crt" -noout -fingerprint -sha256)" ] || die "the daemon serves another certificate"
TLS_SERIAL=$(openssl x509 -in "$ETC/tls/iotcad.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
export IOTCA_TOKEN; IOTCA_TOKEN=$(cat "$HOME/iotca-provisioner.token")
[ "$(api "$BASE/v1/certificates/$TLS_SERIAL" -H "Authorization: Bearer $IOTCA_TOKEN")" = 200 ] ||
  die "the daemon's own certificate is not in iotca's inventory"
ok "iotcad answers HTTPS with the certificate iotca issued it (curl --cacert the root, s_client verify 0, serial $TLS_SERIAL in the inventory)"

IOTCA_URL=$BASE iotca --cacert "$ROOTS" cert issue --profile firmware-endpoint --key-out fw1.key \
  --cn fw1.updates.example.com --dns fw1.updates.example.com --out fw1.pem --chain-out fw1.chain > issue.out 2>&1 ||
  die "issuance over HTTPS failed: $(cat issue.out)"
openssl verify -CAfile "$ROOTS" -untrusted fw1.chain fw1.pem >/dev/null || die "the leaf does not verify"
[ "$(openssl x509 -in fw1.pem -noout -ocsp_uri)" = "$BASE/ocsp" ] || die "the leaf has no OCSP URL from base_url"
FW1=$(openssl x509 -in fw1.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
systemctl reload iotcad || die "systemctl reload (check-config, then SIGHUP) failed on the README's config"
ok "issuance over HTTPS: the leaf verifies and names $BASE/ocsp; systemctl reload runs check-config and SIGHUP"

# ---- backup, then a lost machine, then restore --------------------------------------------------------
run_block backup
[ -s "$BACKUP/iotca.db" ] && [ -d "$BACKUP/keys" ] && [ -s "$BACKUP/etc/issuer-key-passphrase" ] || die "backup incomplete"
[ "$(stat -c %a "$BACKUP/iotca.db")" = 600 ] || die "the database backup has mode $(stat -c %a "$BACKUP/iotca.db")"
ok "backup: the database (online, 0600), the issuer keys, $ETC"
IOTCA_URL=$BASE iotca --cacert "$ROOTS" cert issue --profile firmware-endpoint --key-out late.key \
  --cn late.updates.example.com --dns late.updates.example.com --out late.pem >/dev/null 2>&1 || die "issuance after the backup"
LATE=$(openssl x509 -in late.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
systemctl stop iotcad
cp "$ROOTS" saved-root.pem
rm -rf "$WORK/sys" && mkdir -p "$BIN" "$UNITS" "$(dirname "$ETC")" "$(dirname "$STATE")"
USERADDED=""
ROOTS=$WORK/saved-root.pem
run_block setup
run_block restore
ROOTS=$ETC/roots/r1.pem
for s in "$TLS_SERIAL" "$FW1"; do
  [ "$(api "$BASE/v1/certificates/$s" -H "Authorization: Bearer $IOTCA_TOKEN")" = 200 ] || die "restored CA lacks $s"
done
[ "$(api "$BASE/v1/certificates/$LATE" -H "Authorization: Bearer $IOTCA_TOKEN")" = 404 ] || die "a certificate after the backup is in it?"
IOTCA_URL=$BASE iotca --cacert "$ROOTS" cert issue --profile firmware-endpoint --key-out fw2.key \
  --cn fw2.updates.example.com --dns fw2.updates.example.com --out fw2.pem --chain-out fw2.chain > issue2.out 2>&1 ||
  die "issuance after restore failed: $(cat issue2.out)"
openssl verify -CAfile "$ROOTS" -untrusted fw2.chain fw2.pem >/dev/null || die "the leaf after restore does not verify"
ok "restore on a wiped machine: HTTPS up, certificates from before the backup served, the later one absent (404), issuance works"

# ---- upgrade: a database one migration behind -------------------------------------------------------------
systemctl stop iotcad
current=$(sqlite3 "$STATE/iotca.db" 'PRAGMA user_version')
# the latest migration is schema/0021_rehearsals.sql (rehearsal leaves and results): undone by dropping its
# tables and their indexes
sqlite3 "$STATE/iotca.db" "DROP INDEX rehearsal_results_pair; DROP TABLE rehearsal_results;
  DROP INDEX rehearsal_leaves_not_after; DROP TABLE rehearsal_leaves; PRAGMA user_version = $((current - 1));" ||
  die "could not roll the database back one migration"
rc=0; "$BIN/iotcad" check-config --config "$ETC/iotcad.json" > behind.out 2>&1 || rc=$?
[ "$rc" != 0 ] || die "check-config accepted a database one migration behind"
systemctl start iotcad # so the block's stop has a daemon to stop
sleep 0.5
run_block upgrade
[ "$(sqlite3 "$STATE/iotca.db" 'PRAGMA user_version')" = "$current" ] || die "the upgrade left the schema at $(sqlite3 "$STATE/iotca.db" 'PRAGMA user_version'), not $current"
sqlite3 "$STATE/iotca.db" 'SELECT count(*) FROM rehearsal_results' >/dev/null || die "migration $current was not applied"
[ "$(api "$BASE/v1/certificates/$FW1" -H "Authorization: Bearer $IOTCA_TOKEN")" = 200 ] || die "data lost by the upgrade"
IOTCA_URL=$BASE iotca --cacert "$ROOTS" cert renew "$FW1" --out fw1b.pem > renew.out 2>&1 || die "renewal failed after the upgrade: $(cat renew.out)"
sudo -u iotca "$BIN/iotcad" acme eab list --config "$ETC/iotcad.json" > eab.out 2>&1 || die "the ACME tables do not answer: $(cat eab.out)"
[ "$(api "$BASE/v1/bridges" -H "Authorization: Bearer $(cat "$HOME/iotca-admin.token")")" = 200 ] || die "GET /v1/bridges does not answer after the upgrade"
ok "upgrade: a database one migration behind (check-config refused it: $(head -c 120 behind.out)) is at schema $current after the block; data kept, renewal works, the rehearsal tables (migration $current) are back, bridges and ACME answer"
systemctl stop iotcad
echo "PASS test_production: $CHECKS checks"
