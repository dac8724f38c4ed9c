#!/usr/bin/env bash
# Which wolfSSL runs (issue 23, point 2; SPEC §14): the default build links deploy/wolfssl-sp.sh's SP build of
# Debian's source package; `iotcad --version`, the start-up log and /metrics say so, with the Debian version it
# came from. iotcad warns, and /metrics says, when dpkg's status shows a newer libwolfssl package than that
# (a security update the build lacks), and /readyz carries the warning: here with IOTCA_DPKG_STATUS pointing at copies of the status file.
# A build with -DIOTCA_SYSTEM_WOLFSSL=ON (tests/run.sh builds one) says "Debian's library" instead.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

debian=$(dpkg-query -W -f='${Version}' libwolfssl-dev)
version=$("$IOTCAD" --version)
if grep -q "Debian's library" <<<"$version"; then
  # the system-library build: generic ECC, no SP, nothing to compare
  grep -q 'generic ECC, no SP' <<<"$version" || die "the system build: $version"
  ok "iotcad --version of the system-library build: $(grep -o 'wolfSSL[^)]*)' <<<"$version")"
  echo "PASS: $CHECKS checks"
  exit 0
fi
grep -q "SP ECC with assembly, built from Debian's $debian" <<<"$version" || die "iotcad --version: $version"
for tool in "$ROOT_TOOL" "$IOTCA_CLI"; do
  "$tool" --version | grep -q "SP ECC with assembly" || die "$(basename "$tool") --version: $("$tool" --version)"
done
ok "--version of iotcad, iotca-root and iotca: SP ECC with assembly, built from Debian's $debian"

# dpkg status copies: the libwolfssl stanzas as installed, one newer, one older
awk 'BEGIN { RS = ""; ORS = "\n\n" } /Package: libwolfssl/' /var/lib/dpkg/status > status-same
[ -s status-same ] || die "no libwolfssl package in dpkg's status"
sed "s/^Version: .*/Version: ${debian}+iotca1/" status-same > status-newer # sorts after the build's version
printf 'Package: libwolfssl35\nStatus: install ok installed\nVersion: 5.5.4-1\n' > status-older

ca_with_issuer int1 # /readyz is ready only with an active issuer
grep '"msg":"crypto library"' daemon.log | jq -e --arg d "$debian" '.sp == true and .built_from == $d and
  .library == "wolfSSL" and (.build | test("SP ECC")) and .debian_installed == $d' >/dev/null ||
  die "start-up log: $(grep 'crypto library' daemon.log)"
! grep -q "newer than the source" daemon.log || die "a warning with the same version installed"
curl -s "$BASE/metrics" > m.txt
grep -q "^iotca_crypto_info{library=\"wolfSSL\",version=\"[0-9.]*\",sp=\"on\",built_from=\"$debian\"} 1$" m.txt ||
  die "/metrics: $(grep crypto m.txt)"
grep -q '^iotca_crypto_package_newer 0$' m.txt || die "/metrics package_newer: $(grep crypto m.txt)"
stop_clean
ok "start-up log and /metrics: wolfSSL with SP, built from Debian's $debian, which is what dpkg has installed"

for case in newer older missing; do
  : > daemon.log
  export IOTCA_DPKG_STATUS=$WORK/status-$case
  start_daemon
  unset IOTCA_DPKG_STATUS
  curl -s "$BASE/metrics" > m.txt
  case $case in
  newer)
    grep '"level":"warn"' daemon.log | grep -q "Debian's wolfSSL package is newer than the source of this SP build" ||
      die "no warning with ${debian}+iotca1 installed: $(grep crypto daemon.log)"
    grep 'newer than the source' daemon.log | grep -q 'deploy/wolfssl-sp.sh' || die "the warning names no command"
    grep -q '^iotca_crypto_package_newer 1$' m.txt || die "/metrics with a newer package: $(grep crypto m.txt)"
    curl -s "$BASE/readyz" | jq -e --arg v "${debian}+iotca1" '.status == "ready" and
      (.warnings[0] | contains($v) and contains("deploy/wolfssl-sp.sh"))' >/dev/null ||
      die "/readyz with a newer package: $(curl -s "$BASE/readyz")"
    ;;
  older)
    ! grep -q "newer than the source" daemon.log || die "a warning with an older package installed"
    grep -q '^iotca_crypto_package_newer 0$' m.txt || die "/metrics with an older package: $(grep crypto m.txt)"
    [ "$(curl -s "$BASE/readyz" | jq -c .)" = '{"status":"ready"}' ] || die "/readyz: $(curl -s "$BASE/readyz")"
    ;;
  missing) # no status file (not a Debian host): nothing to compare, no warning, no gauge
    ! grep -q "newer than the source" daemon.log || die "a warning without a status file"
    ! grep -q '^iotca_crypto_package_newer' m.txt || die "a gauge without a status file: $(grep crypto m.txt)"
    grep -q '^iotca_crypto_info' m.txt || die "no iotca_crypto_info without a status file"
    ;;
  esac
  stop_clean
done
ok "a newer Debian package warns in the log and /readyz (naming deploy/wolfssl-sp.sh), iotca_crypto_package_newer 1; older: 0; no status file: no gauge"
echo "PASS: $CHECKS checks"
