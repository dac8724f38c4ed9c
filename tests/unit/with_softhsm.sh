#!/usr/bin/env bash
# Runs a token unit test against SoftHSM2 (issue 26): a private token directory for the run with three tokens
# (iotca-a PIN 1234, iotca-b PIN 2345, and iotca-a0 PIN 3456, whose label has iotca-a as its prefix), the module's
# path in IOTCA_TEST_P11_MODULE and the directory in IOTCA_TEST_P11_DIR (tests/unit/test_token.c reads them), then
# the test binary given as arguments; the directory goes whatever the test does.
set -euo pipefail
command -v softhsm2-util >/dev/null || {
  echo "FAIL - softhsm2-util not found: install softhsm2 (deploy/install-deps.sh)" >&2
  exit 1
}
module=/usr/lib/softhsm/libsofthsm2.so
if [ ! -e "$module" ]; then
  module=$(dpkg -L softhsm2 libsofthsm2 2>/dev/null | grep 'libsofthsm2\.so$' | head -n1 || true)
fi
[ -n "$module" ] && [ -e "$module" ] || {
  echo "FAIL - the SoftHSM2 PKCS#11 module (libsofthsm2.so) not found: install softhsm2" >&2
  exit 1
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/iotca-softhsm.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/tokens"
cat >"$dir/softhsm2.conf" <<EOF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
EOF
export SOFTHSM2_CONF=$dir/softhsm2.conf

softhsm2-util --init-token --free --label iotca-a --pin 1234 --so-pin 5678 >/dev/null
softhsm2-util --init-token --free --label iotca-b --pin 2345 --so-pin 6789 >/dev/null
softhsm2-util --init-token --free --label iotca-a0 --pin 3456 --so-pin 7890 >/dev/null
# SoftHSM gives each initialised token a slot ID of its own (not 0, 1, 2): the log shows them
softhsm2-util --show-slots | grep -E 'Slot [0-9]|Label' || true

export IOTCA_TEST_P11_MODULE=$module
export IOTCA_TEST_P11_DIR=$dir
"$@"
