#!/usr/bin/env bash
# The iotca client's refusals that need no server: bad or missing flags exit 2 before anything is sent or created,
# an unreachable server exits 4 naming the URL, and the API token never shows in any output.
#
# Self-contained (it does not source lib.sh, whose fixtures need iotca-root and openssl), so it runs right after
# `make iotca`. Run by hand with: IOTCA_BIN=build bash tests/integration/test_cli_flags.sh
set -euo pipefail
umask 022
export LC_ALL=C

IOTCA_BIN=$(cd "${IOTCA_BIN:-$(dirname "$0")/../../build}" && pwd)
IOTCA=$IOTCA_BIN/tools/iotca
[[ -x $IOTCA ]] || {
    echo "FAIL  $IOTCA is not built (make iotca)" >&2
    exit 1
}

# No ambient configuration may leak in: no server, no token, no proxy in front of 127.0.0.1.
unset IOTCA_URL IOTCA_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

T=$(mktemp -d "${TMPDIR:-/tmp}/iotca-cli-flags.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
OUT=$T/.stdout
ERR=$T/.stderr
RC=0
CHECKS=0
LAST=""
DEAD=http://127.0.0.1:1 # nothing listens on port 1: connection refused at once

pass() {
    CHECKS=$((CHECKS + 1))
    printf 'ok    %s\n' "$*"
}
fail() {
    printf 'FAIL  %s\n      last command (exit %s): %s\n' "$1" "$RC" "$LAST" >&2
    sed 's/^/      stdout| /' "$OUT" | head -n 20 >&2
    sed 's/^/      stderr| /' "$ERR" | head -n 20 >&2
    exit 1
}
# run CMD...: runs CMD with stdin from /dev/null, capturing stdout, stderr and the exit code.
run() {
    LAST="$*"
    LAST=${LAST//$IOTCA/iotca}
    RC=0
    "$@" </dev/null >"$OUT" 2>"$ERR" || RC=$?
}
# expect CODE REGEX CMD...: CMD exits with exactly CODE and its stderr matches REGEX (grep -E, any case).
expect() {
    local code=$1 re=$2
    shift 2
    run "$@"
    [[ $RC -eq $code ]] || fail "expected exit $code"
    grep -qiE -- "$re" "$ERR" || fail "exit $code, but stderr does not match /$re/"
    pass "exit $code /$re/: $LAST"
}
# never_shows TEXT: TEXT appears neither on stdout nor on stderr of the last run.
never_shows() {
    if grep -qF -- "$1" "$OUT" "$ERR"; then fail "the output of the last command shows '$1'"; fi
    pass "  ...and its output does not show '$1'"
}

printf '\n== usage errors exit 2 with a message\n'
expect 2 'no command' "$IOTCA"
expect 2 'no command' "$IOTCA" --url "$DEAD" --json
expect 2 "unknown command 'frobnicate'" "$IOTCA" frobnicate
expect 2 "unknown command 'cert frobnicate'" "$IOTCA" cert frobnicate
expect 2 "'cert' needs a subcommand" "$IOTCA" cert
expect 2 "unknown option '--frobnicate'" "$IOTCA" --url "$DEAD" cert list --frobnicate
expect 2 "--profile needs a value" "$IOTCA" cert issue --profile
expect 2 "does not take --reason" "$IOTCA" --url "$DEAD" cert show 0a --reason keyCompromise
expect 2 "--profile given more than once" "$IOTCA" cert issue --profile a --profile b --csr x.csr
expect 2 "needs --profile" "$IOTCA" --url "$DEAD" cert issue --key-out k.pem --cn dev1
expect 2 "not both" "$IOTCA" --url "$DEAD" cert issue --profile device --csr x.csr --key-out k.pem --cn dev1
expect 2 "needs --csr FILE, or --key-out" "$IOTCA" --url "$DEAD" cert issue --profile device
expect 2 "--key-out needs --cn" "$IOTCA" --url "$DEAD" cert issue --profile device --key-out k.pem
expect 2 "apply only with --key-out" "$IOTCA" --url "$DEAD" cert issue --profile device --csr x.csr --dns a.example
expect 2 "--ttl: invalid duration 'soon'" "$IOTCA" --url "$DEAD" cert issue --profile device --key-out k.pem \
    --cn dev1 --ttl soon
expect 2 "--ttl: invalid duration '-5d'" "$IOTCA" --url "$DEAD" cert issue --profile device --key-out k.pem \
    --cn dev1 --ttl -5d
expect 2 "--key-type: unknown key type 'dsa-1024'" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --key-out k.pem --cn dev1 --key-type dsa-1024
expect 2 "--ip: '300.1.2.3' is not an IPv4 or IPv6 address" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --key-out k.pem --cn dev1 --ip 300.1.2.3
expect 2 "--ip: 'not-an-ip' is not an IPv4 or IPv6 address" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --key-out k.pem --cn dev1 --ip not-an-ip
expect 2 "--ip takes one address, not a range" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --key-out k.pem --cn dev1 --ip 192.0.2.0/24
expect 2 "--uri .* needs a scheme" "$IOTCA" --url "$DEAD" cert issue --profile device --key-out k.pem --cn dev1 \
    --uri no-scheme
expect 2 "name attribute longer than 64" "$IOTCA" --url "$DEAD" cert issue --profile device --key-out k.pem \
    --cn "$(printf 'x%.0s' {1..65})"
expect 2 "must name different files" "$IOTCA" --url "$DEAD" cert issue --profile device --key-out same.pem \
    --cn dev1 --out same.pem
[[ ! -e k.pem && ! -e same.pem ]] || fail "a refused cert issue left a key file behind"
pass "no refused cert issue created a key file"
expect 2 "--expiring takes a duration" "$IOTCA" --url "$DEAD" cert list --expiring bogus
expect 2 "--status must be valid or revoked" "$IOTCA" --url "$DEAD" cert list --status expired
expect 2 "--limit must be a number from 1 to 1000" "$IOTCA" --url "$DEAD" cert list --limit 0
expect 2 "--cursor must be hexadecimal" "$IOTCA" --url "$DEAD" cert list --cursor 'zz/../x'
expect 2 "SERIAL must be hexadecimal" "$IOTCA" --url "$DEAD" cert show '../issuers'
expect 2 "missing argument: usage: iotca cert revoke SERIAL" "$IOTCA" --url "$DEAD" cert revoke
expect 2 "unknown revocation reason 'because'" "$IOTCA" --url "$DEAD" cert revoke 0a --reason because
expect 2 "issuer ID must be a positive number" "$IOTCA" --url "$DEAD" issuers import abc cert.pem
expect 2 "--activate-at must be RFC 3339" "$IOTCA" --url "$DEAD" issuers import 3 cert.pem --activate-at tomorrow
expect 2 "unexpected argument 'extra'" "$IOTCA" --url "$DEAD" roots extra

printf '\n== the server URL and token are checked before anything is sent\n'
expect 2 "no server URL: pass --url URL or set IOTCA_URL" "$IOTCA" cert list
expect 2 "no server URL" "$IOTCA" cert issue --profile device --key-out k.pem --cn dev1
[[ ! -e k.pem ]] || fail "cert issue without a server URL created its key file"
pass "  ...and made no key file"
expect 2 "must start with https:// or http://" "$IOTCA" --url ftp://127.0.0.1/ roots
expect 2 "must start with https:// or http://" "$IOTCA" --url 127.0.0.1:8443 roots
expect 2 "plain base URL" "$IOTCA" --url "$DEAD/?x=1" roots
expect 2 "--cacert .* cannot be read" "$IOTCA" --url "https://127.0.0.1:1" --cacert missing.pem roots

printf '\n== existing output files are never overwritten, and nothing is sent for them\n'
printf 'precious key material\n' >existing.key
before=$(sha256sum existing.key)
expect 2 "--key-out existing.key already exists" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --key-out existing.key --cn dev1
[[ $(sha256sum existing.key) == "$before" ]] || fail "cert issue changed the existing --key-out file"
pass "  ...and existing.key is unchanged"
printf 'old certificate\n' >existing.pem
expect 2 "--out existing.pem already exists" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --key-out new.key --cn dev1 --out existing.pem
[[ ! -e new.key ]] || fail "cert issue made a key although --out already existed"
pass "  ...and no new key was made"
expect 2 "--chain-out existing.pem already exists" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --key-out new.key --cn dev1 --chain-out existing.pem
expect 2 "--csr-out existing.pem already exists" "$IOTCA" --url "$DEAD" issuers new --csr-out existing.pem
expect 2 "--out existing.pem already exists" "$IOTCA" --url "$DEAD" roots --out existing.pem

printf '\n== input files are checked before anything is sent\n'
expect 2 "--csr: .*(No such file|not exist|cannot)" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --csr missing.csr
printf 'this is not a CSR\n' >garbage.csr
expect 2 "garbage.csr" "$IOTCA" --url "$DEAD" cert issue --profile device --csr garbage.csr
expect 2 "not a certificate" "$IOTCA" --url "$DEAD" issuers import 3 garbage.csr

printf '\n== an unreachable server exits 4 and names the URL\n'
expect 4 "cannot reach http://127\.0\.0\.1:1/v1/certificates\?profile=device" "$IOTCA" --url "$DEAD" cert list \
    --profile device
expect 4 "cannot reach http://127\.0\.0\.1:1/v1/ca/roots" env IOTCA_URL="$DEAD/" "$IOTCA" roots
expect 4 "cannot reach http://127\.0\.0\.1:1/v1/certificates" "$IOTCA" --url "$DEAD" cert issue --profile device \
    --key-out fresh.key --cn dev1 --dns dev1.example.com --ip 192.0.2.7 --uri urn:dev:1 --ttl 30d
grep -qiE "removed the new key fresh.key" "$ERR" || fail "cert issue did not say it removed its key"
[[ ! -e fresh.key ]] || fail "cert issue left fresh.key behind although no certificate came back"
pass "  ...and the new key made for it was removed"
expect 4 "cannot reach https://127\.0\.0\.1:1/ca/v1/issuers" "$IOTCA" --url "https://ops:hunter2@127.0.0.1:1/ca" \
    issuers list
never_shows hunter2

printf '\n== the token never shows\n'
TOKEN=iotca-tok-Zq7VbN3kR8wX2pLm
export IOTCA_TOKEN=$TOKEN
expect 4 "cannot reach" "$IOTCA" --url "$DEAD" cert show 0a1b
never_shows "$TOKEN"
expect 4 "cannot reach" "$IOTCA" --url "$DEAD" --json cert revoke 0a1b --reason keyCompromise
never_shows "$TOKEN"
expect 2 "no server URL" "$IOTCA" cert list
never_shows "$TOKEN"
expect 4 "cannot reach" "$IOTCA" --url "$DEAD" --token "$TOKEN" issuers list
never_shows "$TOKEN"
export IOTCA_TOKEN=$'first-line\nX-Injected: 1'
expect 2 "token contains spaces or control characters" "$IOTCA" --url "$DEAD" cert list
never_shows "first-line"
unset IOTCA_TOKEN

printf '\n== help\n'
run "$IOTCA" --help
[[ $RC -eq 0 ]] || fail "--help should exit 0"
grep -qE 'cert issue --profile P' "$OUT" || fail "--help does not show cert issue"
grep -qE 'Exit codes' "$OUT" || fail "--help does not document the exit codes"
pass "--help exits 0 and documents the commands and exit codes"

printf '\nPASS  test_cli_flags: %d checks\n' "$CHECKS"
