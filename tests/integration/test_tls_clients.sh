#!/usr/bin/env bash
# Devices over the network: the three embedded-stack TLS clients (tests/compat/tls_client_*.c: mbedTLS 2.28,
# wolfSSL as iotca builds it, BearSSL 0.6) connect to openssl s_server endpoints on loopback, check the chain and
# the server name against their trust store, and GET a path. Each must accept a good chain, from the root R or
# from the intermediate I pinned alone, and refuse (exit 1, "fail:" with its own reason) an unknown root, a wrong
# server name, a server that leaves out its intermediate and an expired leaf; a usage error or a closed port is
# exit 2. Only openssl and faketime (to date certificates in the past) besides the clients: no iotca daemon.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
STACKS=(mbedtls wolfssl bearssl)
for s in "${STACKS[@]}"; do
  [ -x "$IOTCA_BIN/tests/tls-client-$s" ] ||
    die "tls-client-$s is not built (the mbedTLS and BearSSL ones need libmbedtls-dev and libbearssl-dev)"
done
command -v faketime >/dev/null || die "faketime is missing (deploy/install-deps.sh installs it)"
export TZ=UTC

# Why each stack refuses, by case: the stack's own words, so a refusal for another reason fails the test.
# mbedTLS: exactly one verify flag (0x08 NOT_TRUSTED, 0x04 CN_MISMATCH, 0x01 EXPIRED); wolfSSL: ASN_NO_SIGNER_E,
# DOMAIN_NAME_MISMATCH, ASN_AFTER_DATE_E; BearSSL: the X.509 engine's code.
declare -A UNTRUSTED=([mbedtls]='verify flags 0x00000008:' [wolfssl]='\(-188\)' [bearssl]='BR_ERR_X509_NOT_TRUSTED')
declare -A BAD_NAME=([mbedtls]='verify flags 0x00000004:' [wolfssl]='\(-322\)' [bearssl]='BR_ERR_X509_BAD_SERVER_NAME')
declare -A EXPIRED=([mbedtls]='verify flags 0x00000001:' [wolfssl]='\(-151\)' [bearssl]='BR_ERR_X509_EXPIRED')

# ---- certificates: root R (RSA, so BearSSL's RSA anchors are used too), intermediate I (pathlen 0), leaves for
# dev.test, an unrelated root W. The CAs start 60 days back, so that the expired leaf lies inside its issuer's life.
AGO="faketime -f -60d"
printf '%s\n' '[req]' 'distinguished_name=dn' '[dn]' '[v3]' 'basicConstraints=critical,CA:TRUE' \
  'keyUsage=critical,keyCertSign,cRLSign' 'subjectKeyIdentifier=hash' >root.cnf # no dependence on openssl.cnf
printf '%s\n' 'basicConstraints=critical,CA:TRUE,pathlen:0' 'keyUsage=critical,keyCertSign,cRLSign' \
  'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' >int.ext
printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' \
  'subjectAltName=DNS:dev.test' 'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' >leaf.ext
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null || die "genpkey $1"; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out r.key 2>/dev/null || die "genpkey r.key"
ec_key w.key
ec_key int.key
ec_key leaf.key
for r in r w; do
  $AGO openssl req -x509 -new -config root.cnf -extensions v3 -key $r.key -subj "/CN=Device Test Root ${r^^}" \
    -days 3650 -out $r.pem 2>/dev/null || die "root ${r^^}"
done
openssl req -new -key int.key -subj "/CN=Device Test Intermediate I" -out int.csr 2>/dev/null || die "int.csr"
$AGO openssl x509 -req -in int.csr -CA r.pem -CAkey r.key -set_serial 0x1001 -days 1825 -extfile int.ext \
  -out int.pem 2>/dev/null || die "intermediate I"
openssl req -new -key leaf.key -subj "/CN=dev.test" -out leaf.csr 2>/dev/null || die "leaf.csr"
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -set_serial 0x2001 -days 30 -extfile leaf.ext \
  -out leaf.pem 2>/dev/null || die "leaf"
# valid from 30 days ago for 2 days: expired 28 days ago (OpenSSL 3.0's x509 has no -not_before, so faketime)
faketime -f -30d openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -set_serial 0x2002 -days 2 \
  -extfile leaf.ext -out expired.pem 2>/dev/null || die "expired leaf"
openssl verify -CAfile r.pem -untrusted int.pem leaf.pem >/dev/null || die "openssl does not verify the good chain"
if openssl x509 -in expired.pem -noout -checkend 0 >/dev/null; then die "faketime did not date the leaf back"; fi
ok "certificates: root R (RSA), intermediate I (pathlen 0), leaf dev.test, expired leaf, unrelated root W"

# ---- endpoints ------------------------------------------------------------------------------------------------
# serve CERT [s_server args...]: openssl s_server on a free loopback port with $WORK/CERT and leaf.key, run in
# the current directory, in the background until the test ends (daemon_lib's cleanup kills the shell's jobs);
# sets PORT once it accepts connections
serve() {
  local cert=$1 pid
  shift
  PORT=$(free_port)
  openssl s_server -accept "127.0.0.1:$PORT" -cert "$WORK/$cert" -key "$WORK/leaf.key" -quiet "$@" \
    >"$WORK/s_server.$PORT.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || die "openssl s_server exited at start: $(tail -n 5 "$WORK/s_server.$PORT.log")"
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  die "openssl s_server does not answer on port $PORT"
}
serve leaf.pem -cert_chain "$WORK/int.pem" -www
GOOD=$PORT
serve leaf.pem -www # leaf only: the intermediate left out
BARE=$PORT
serve expired.pem -cert_chain "$WORK/int.pem" -www
OLD=$PORT
mkdir www && echo "hello from dev.test" >www/hello.txt
cd www # -WWW serves the files of its working directory, by the path asked for
serve leaf.pem -cert_chain "$WORK/int.pem" -WWW
FILES=$PORT
cd "$WORK"
CLOSED=$(free_port)

# ---- the clients ----------------------------------------------------------------------------------------------
# client STACK ARGS...: runs tls-client-STACK; exit code in RC, stdout in client.out, stderr in client.err
client() {
  local stack=$1
  shift
  RC=0
  "$IOTCA_BIN/tests/tls-client-$stack" "$@" </dev/null >client.out 2>client.err || RC=$?
}
# check WANT_RC REGEX STACK ARGS...: the exit code is WANT_RC, and REGEX matches stdout (for exit 0 and 1: the
# verdict line) or stderr (for exit 2, when stdout must hold no verdict at all). Adds the verdict to SEEN.
check() {
  local want=$1 re=$2 stack=$3 where=client.out
  shift 3
  client "$stack" "$@"
  local what="tls-client-$stack $*"
  what=${what//$WORK\//}
  [ "$RC" = "$want" ] || die "$what: expected exit $want, got $RC; stdout: $(cat client.out); stderr: $(cat client.err)"
  if [ "$want" = 2 ]; then
    where=client.err
    [ ! -s client.out ] || die "$what: exit 2 with a verdict on stdout: $(cat client.out)"
  fi
  grep -qE -- "$re" "$where" || die "$what: $where does not match /$re/: $(cat "$where")"
  SEEN+="
    $stack: $(head -n 1 "$where")"
}
# group DESC: one ok line for the checks since the last group, with each stack's output
group() {
  ok "$1$SEEN"
  SEEN=""
}
SEEN=""

for s in "${STACKS[@]}"; do check 0 '^ok: HTTP/1\.0 200 ok; body: ' "$s" r.pem 127.0.0.1 "$GOOD" dev.test; done
group "trust store R: the chain (leaf, I) is accepted (exit 0)"

for s in "${STACKS[@]}"; do
  check 0 '^ok: HTTP/1\.0 200 ok' "$s" int.pem 127.0.0.1 "$GOOD" dev.test
  check 0 '^ok: HTTP/1\.0 200 ok' "$s" int.pem 127.0.0.1 "$BARE" dev.test
done
group "trust store I only (a pinned intermediate): accepted, whether the server sends I or not (exit 0)"

for s in "${STACKS[@]}"; do
  check 0 '^ok: HTTP/1\.0 200 ok; body: hello from dev\.test$' "$s" r.pem 127.0.0.1 "$FILES" dev.test /hello.txt
  check 0 "^ok: HTTP/1\\.0 200 ok; body: Error opening 'absent\\.txt'" "$s" r.pem 127.0.0.1 "$FILES" dev.test \
    /absent.txt
done
group "PATH: GET /hello.txt gets that file's first line, GET /absent.txt the server's error (exit 0)"

for s in "${STACKS[@]}"; do check 1 "^fail: handshake: .*${UNTRUSTED[$s]}" "$s" w.pem 127.0.0.1 "$GOOD" dev.test; done
group "trust store W (an unrelated root): refused (exit 1)"

for s in "${STACKS[@]}"; do check 1 "^fail: handshake: .*${BAD_NAME[$s]}" "$s" r.pem 127.0.0.1 "$GOOD" other.test; done
group "server name other.test against a certificate for dev.test: refused (exit 1)"

for s in "${STACKS[@]}"; do check 1 "^fail: handshake: .*${UNTRUSTED[$s]}" "$s" r.pem 127.0.0.1 "$BARE" dev.test; done
group "a server that leaves out the intermediate, trust store R: refused (exit 1)"

for s in "${STACKS[@]}"; do check 1 "^fail: handshake: .*${EXPIRED[$s]}" "$s" r.pem 127.0.0.1 "$OLD" dev.test; done
group "an expired leaf (the chain otherwise good): refused (exit 1)"

for s in "${STACKS[@]}"; do
  check 2 '^usage: tls-client-' "$s"
  check 2 '^usage: tls-client-' "$s" r.pem 127.0.0.1
  check 2 "PORT must be a number from 1 to 65535, not 'x'" "$s" r.pem 127.0.0.1 x dev.test
  check 2 "PORT must be a number" "$s" r.pem 127.0.0.1 70000 dev.test
  check 2 "trust store|cannot read" "$s" absent.pem 127.0.0.1 "$GOOD" dev.test
done
group "usage errors: no or too few arguments, a bad port, no trust store file (exit 2)"

for s in "${STACKS[@]}"; do check 2 "connect.*(refused|failed)" "$s" r.pem 127.0.0.1 "$CLOSED" dev.test; done
group "a closed port: a connect error, not a verdict (exit 2)"

echo "$CHECKS passed, 0 failed"
