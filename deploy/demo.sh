#!/usr/bin/env bash
# The README's first command: build everything and run a real root ceremony with iotca-root into ./demo.
# Makes two independent roots (primary R1 and offline backup R2, the latter split into 3-of-5 custodian
# shares), an issuing intermediate signed by R1, a cross-certificate of R2 by R1 for rollover, and R1's CRL,
# then checks every artifact with OpenSSL and GnuTLS.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build} bash deploy/build.sh
ROOT="$PWD/${BUILD_DIR:-build}/tools/iotca-root"
DEMO=${DEMO_DIR:-demo}
if [ -e "$DEMO" ]; then
  echo "demo: $DEMO exists from an earlier run; remove it (rm -rf $DEMO) to run the ceremony again" >&2
  exit 1
fi
mkdir -m 700 "$DEMO" && cd "$DEMO"

# A demo passphrase in a file; a real ceremony types it at the no-echo prompt.
umask 077
head -c 24 /dev/urandom | base64 > passphrase

echo "== 1. Primary root R1 (ECDSA P-384, 25 years)"
"$ROOT" init --vault r1 --name "Demo IoT Root R1" --org "Demo Devices" --passphrase-file passphrase --note "demo"
echo
echo "== 2. Backup root R2, its key split among 5 custodians (any 3 unlock it)"
"$ROOT" init --vault r2 --name "Demo IoT Root R2" --org "Demo Devices" --shares 5 --threshold 3 | head -9
echo
echo "== 3. Issuing intermediate: key and CSR on the online host, signed offline by R1"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out issuing-1.key 2>/dev/null
openssl req -new -key issuing-1.key -subj "/O=Demo Devices/CN=Demo Issuing CA 1" -out issuing-1.csr
"$ROOT" sign-intermediate --vault r1 --csr issuing-1.csr --out issuing-1.pem --days 1095 \
  --permit-dns example.com --name-constraints noncritical --eku server,client \
  --passphrase-file passphrase --yes --note "demo issuing CA"
echo
echo "== 4. Cross-certificate: R1 vouches for R2, so devices holding only R1 follow a later switch to R2"
"$ROOT" cross-sign --vault r1 --cert r2/root.pem --out r2-by-r1.pem --passphrase-file passphrase --yes | tail -4
echo
echo "== 5. R1's CRL (ARL)"
"$ROOT" crl --vault r1 --out r1.crl --passphrase-file passphrase --yes
echo
echo "== 6. Independent checks"
cat r1/root.pem r2/root.pem > roots.pem
openssl verify -CAfile roots.pem issuing-1.pem
openssl verify -CAfile r1/root.pem r2-by-r1.pem
openssl crl -in r1.crl -CAfile r1/root.pem -verify -noout
certtool --verify-chain --infile <(cat issuing-1.pem r1/root.pem) 2>/dev/null | grep -q "Chain verification output: Verified" && echo "certtool: issuing-1 chain verified by GnuTLS"
"$ROOT" ledger verify --vault r1
echo
"$ROOT" show --vault r1
cat <<MSG

Demo CA ready in $(pwd):
  roots.pem          both trust anchors, for device trust stores
  issuing-1.pem      the issuing intermediate (its key: issuing-1.key)
  r2-by-r1.pem       cross-certificate for rolling over from R1 to R2
  r1.crl             R1's revocation list
  r2/shares/         custodian shares of R2's key (hand out, then delete)
Inspect: openssl x509 -in issuing-1.pem -noout -text
The online daemon (iotcad) that issues leaves from issuing-1 is the next milestone.
MSG
