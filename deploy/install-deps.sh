#!/usr/bin/env bash
# Installs every Debian package iotca needs to build, run and test. Idempotent, non-interactive.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config valgrind
  libwolfssl-dev          # all crypto, keys, X.509 parsing and verification
  dpkg-dev autoconf automake libtool  # deploy/wolfssl-sp.sh: wolfSSL with SP, built from Debian's source package
  libsqlite3-dev sqlite3  # embedded store
  libpq-dev               # PostgreSQL client library: the PostgreSQL store (issue 25)
  postgresql              # server programs for the tests' private PostgreSQL (tests/integration/pg_lib.sh)
  libmicrohttpd-dev       # HTTP(S) server
  libjansson-dev          # JSON, also the config format
  check                   # unit tests
  softhsm2 opensc         # a PKCS#11 token and pkcs11-tool for the token key tests (tests/unit/with_softhsm.sh)
  libgfshare-dev          # Shamir secret sharing for root-key custodian shares
  libcurl4-openssl-dev    # outbound HTTP for the iotca CLI and for ACME http-01 validation (lib/validate)
  libc-ares-dev           # DNS for ACME validation against the configured resolvers (lib/validate): A/AAAA and TXT
  openssl gnutls-bin      # independent verification in tests (openssl, certtool)
  faketime                # runs the real TLS stacks at future dates (tests/integration/test_stack_agreement.sh)
  libmbedtls-dev          # embedded-stack compatibility test program
  clang                   # libFuzzer targets (tests/fuzz)
  cppcheck                # static analysis gate (tests/lint/cppcheck.sh)
  curl ca-certificates jq bc sqlite3 time
  libbearssl-dev          # BearSSL: the bearssl trust-bundle format is compiled and used in tests
  nginx-light             # OCSP stapling test against a real web server # jq: integration tests read JSON answers
  libseccomp-dev systemd  # the systemd unit's syscall filter, applied to iotcad (tests/integration/test_systemd_unit.sh)
  wrk golang-cfssl        # bench/run: the load generator and the peer CA (tests/integration/test_bench_run.sh)
  certbot lego pebble knot knot-dnsutils python3-certbot-dns-rfc2136 python3-certbot-nginx  # ACME clients, DNS, peer
  python3-josepy python3-acme  # tests/data/jws/make.py: JWS fixtures from the library certbot signs with
  chromium chromium-driver python3-selenium fonts-dejavu-core  # the dashboard in a real browser (tests/integration/test_ui.sh)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
