#!/usr/bin/env bash
# Secret files on disk (issue 19, point 12): a passphrase or share file that group or others can read is refused
# by iotca-root and iotcad, naming the file, its mode and the fix; --allow-readable-secrets uses it anyway with
# a warning; 0600 and 0400 are fine.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

refused() { # refused DESC OUTFILE: the command failed and said why
  grep -q "mode 0" "$2" && grep -q "chmod 600" "$2" && grep -q -- "--allow-readable-secrets" "$2" ||
    die "$1: the refusal must name the mode, chmod 600 and --allow-readable-secrets: $(cat "$2")"
  ok "$1: refused ($(head -c 160 "$2"))"
}

# ---- iotca-root: passphrase files ----
printf 'correct horse battery staple\n' > rootpass
for mode in 644 640 604 660 620; do
  chmod "$mode" rootpass
  rc=0; "$ROOT_TOOL" init --vault "v$mode" --name "Root $mode" --key ecdsa-p256 --passphrase-file rootpass > out 2>&1 || rc=$?
  [ "$rc" = 2 ] || die "iotca-root init with a $mode passphrase file: exit $rc, want 2: $(cat out)"
  [ ! -e "v$mode/root.key" ] || die "a refused init must not leave a root key behind"
  refused "iotca-root init, passphrase file mode $mode" out
done
chmod 644 rootpass
"$ROOT_TOOL" init --vault vloose --name "Root loose" --key ecdsa-p256 --passphrase-file rootpass \
  --allow-readable-secrets > out 2> err || die "--allow-readable-secrets must let init go on: $(cat err)"
grep -q "warning: .*rootpass" err || die "no warning about the readable passphrase file: $(cat err)"
ok "iotca-root init --allow-readable-secrets: made the vault, warned: $(head -1 err)"
for mode in 600 400; do
  chmod "$mode" rootpass
  "$ROOT_TOOL" init --vault "v$mode" --name "Root $mode" --key ecdsa-p256 --passphrase-file rootpass > out 2> err ||
    die "init with a $mode passphrase file must work: $(cat err)"
  ! grep -q warning err || die "no warning for mode $mode: $(cat err)"
  ok "iotca-root init, passphrase file mode $mode: accepted without a warning"
done
# a signing command reads it the same way
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out int.key 2>/dev/null
openssl req -new -key int.key -subj "/CN=Int" -out int.csr
chmod 644 rootpass
rc=0; "$ROOT_TOOL" sign-intermediate --vault v600 --csr int.csr --out int.pem --yes --passphrase-file rootpass > out 2>&1 || rc=$?
[ "$rc" = 2 ] && [ ! -e int.pem ] || die "sign-intermediate with a 644 passphrase file: exit $rc: $(cat out)"
refused "iotca-root sign-intermediate, passphrase file mode 644" out
chmod 600 rootpass

# ---- iotca-root: custodian share files ----
"$ROOT_TOOL" init --vault vs --name "Shared Root" --key ecdsa-p256 --shares 3 --threshold 2 > out 2>&1 ||
  die "init with shares: $(cat out)"
mapfile -t shares < <(find vs -name '*share*' -type f | sort)
[ "${#shares[@]}" -ge 3 ] || die "expected three share files in vs: $(ls -R vs)"
for s in "${shares[@]}"; do [ "$(stat -c %a "$s")" = 600 ] || die "$s is not 0600"; done
ok "share files are written 0600"
chmod 644 "${shares[0]}"
rc=0; "$ROOT_TOOL" crl --vault vs --out s.crl --yes --share "${shares[0]}" --share "${shares[1]}" > out 2>&1 || rc=$?
[ "$rc" = 2 ] && [ ! -e s.crl ] || die "crl with a 644 share file: exit $rc: $(cat out)"
refused "iotca-root crl, share file mode 644" out
"$ROOT_TOOL" crl --vault vs --out s.crl --yes --share "${shares[0]}" --share "${shares[1]}" --allow-readable-secrets \
  > out 2> err || die "crl with --allow-readable-secrets: $(cat err)"
grep -q "warning: .*share" err || die "no warning about the readable share: $(cat err)"
ok "iotca-root crl --allow-readable-secrets: used the share, warned"

# ---- iotcad: the key passphrase file ----
cat v600/root.pem > r1.pem
mkdir -p r1 r2 && cp v600/root.pem r1/root.pem && cp v400/root.pem r2/root.pem
write_config
chmod 644 keypass
rc=0; "$IOTCAD" init --config iotcad.json > out 2>&1 || rc=$?
[ "$rc" != 0 ] && [ ! -e iotca.db ] || die "iotcad init with a 644 key passphrase file: exit $rc: $(cat out)"
refused "iotcad init, key passphrase file mode 644" out
chmod 600 keypass
"$IOTCAD" init --config iotcad.json > out 2>&1 || die "iotcad init: $(cat out)"
chmod 640 keypass
rc=0; timeout 10 "$IOTCAD" --config iotcad.json > out 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || die "iotcad with a 640 key passphrase file must refuse to start (exit $rc): $(cat out)"
refused "iotcad (serve), key passphrase file mode 640" out
rc=0; "$IOTCAD" token create --config iotcad.json --role admin > out 2>&1 || rc=$?
[ "$rc" != 0 ] || die "iotcad token create with a 640 key passphrase file must refuse"
refused "iotcad token create, key passphrase file mode 640" out
# insisting: it starts and says so in its log
"$IOTCAD" --config iotcad.json --allow-readable-secrets >>daemon.log 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -sf "$BASE/healthz" >/dev/null || die "iotcad --allow-readable-secrets did not start"
grep '"level":"warn"' daemon.log | grep -q 'secret file readable by other users' ||
  die "iotcad must warn about the readable key passphrase file: $(head -5 daemon.log)"
! grep -q 'issuer keys at rest passphrase' daemon.log || die "the passphrase itself is in the log"
ok "iotcad --allow-readable-secrets: starts, warns, and the passphrase is not in the log"
stop_clean
rc=0; "$IOTCAD" --config iotcad.json --allow-readable-secrets --frobnicate > out 2>&1 || rc=$?
[ "$rc" = 2 ] || die "an unknown flag beside --allow-readable-secrets must be a usage error (exit $rc)"
ok "an unknown flag next to it is still a usage error"
echo "$CHECKS checks passed"
