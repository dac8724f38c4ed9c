#!/usr/bin/env bash
# Issue 18: every error iotcad sends is SPEC §6's JSON {error, detail}, the ones libmicrohttpd makes by itself
# included (414, 431, 400, 505: server/http/mhd_errors.c), and the engine refuses, before any handler runs, a
# header with a control byte (a NUL after a valid token was accepted: the header was read as a C string),
# an HTTP/1.1 request without Host, and two different Content-Length headers (RFC 9112 §3.2, §6.3). HEAD is
# answered on the public GET endpoints as GET without a body. Raw requests go through bash's /dev/tcp, so the
# bytes are exactly the ones written here.
source "$(dirname "${BASH_SOURCE[0]}")/daemon_lib.sh"
ca_with_issuer errs
trap '' PIPE # the server may answer and close before a long request is all written

# raw REQUEST-BYTES (printf format): sends them on a fresh connection; the whole answer in RAW, its status in
# RSTATUS, its body (after the blank line) in RBODY, its Content-Type in RTYPE
raw() {
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  # shellcheck disable=SC2059
  printf "$1" >&3 2>/dev/null || true
  RAW=$(timeout 10 cat <&3 | tr -d '\r') || true
  exec 3<&-
  RSTATUS=$(sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' <<<"$RAW")
  RTYPE=$(sed -n 's/^[Cc]ontent-[Tt]ype: *//p' <<<"$RAW" | head -1)
  RBODY=$(sed '1,/^$/d' <<<"$RAW")
}
# raw_json STATUS CODE WHAT: the answer has that status and is the JSON error CODE
raw_json() {
  [ "$RSTATUS" = "$1" ] || die "$3: expected HTTP $1, got '${RSTATUS}': $(head -c 300 <<<"$RAW")"
  [ "$RTYPE" = application/json ] || die "$3: Content-Type '$RTYPE', not application/json: $(head -c 300 <<<"$RAW")"
  [ "$(jq -r .error <<<"$RBODY" 2>/dev/null)" = "$2" ] || die "$3: body is not the JSON error $2: $(head -c 300 <<<"$RBODY")"
  jq -e '.detail | length > 0' <<<"$RBODY" >/dev/null || die "$3: no detail: $RBODY"
  ok "$3 ($1 $2, JSON)"
}

raw_200() { # raw_200 WHAT: the answer is a 200
  [ "$RSTATUS" = 200 ] || die "$1: expected 200, got '$RSTATUS': $(head -c 300 <<<"$RAW")"
  ok "$1 (200)"
}

long=$(head -c 40000 /dev/zero | tr '\0' a)
raw "GET /v1/ca/roots?x=$long HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
raw_json 414 uri_too_long "a 40 KB request line (refused by libmicrohttpd)"
hdrs=""
for i in $(seq 1 40); do hdrs+="X-Filler-$i: $(head -c 1000 /dev/zero | tr '\0' b)\r\n"; done
raw "GET /v1/ca/roots HTTP/1.1\r\nHost: t\r\n${hdrs}Connection: close\r\n\r\n"
raw_json 431 headers_too_large "40 KB of headers (refused by libmicrohttpd)"
raw "GET /v1/ca/roots HTTP/2.0\r\nHost: t\r\nConnection: close\r\n\r\n"
raw_json 505 http_version "HTTP/2.0 on a request line (refused by libmicrohttpd)"
raw "GET /v1/ca/roots HTTP/1.1\r\nHost: t\r\nBroken header line without a colon\r\n\r\n"
raw_json 400 bad_request "a header line without a colon (refused by libmicrohttpd)"

raw "GET /v1/issuers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${ADMIN}\\000trailing\r\nConnection: close\r\n\r\n"
raw_json 400 bad_header "a NUL byte after a valid admin token"
raw "GET /v1/issuers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${ADMIN}\r\nConnection: close\r\n\r\n"
raw_200 "the same token without the NUL is accepted"
raw "GET /v1/ca/roots HTTP/1.1\r\nHost: t\r\nX-Note: a\\001b\r\nConnection: close\r\n\r\n"
raw_json 400 bad_header "a 0x01 byte in any header"
grep -q 'X-Note' <<<"$RBODY" || die "the refusal does not name the header: $RBODY"
ok "the refusal names the header"
raw "GET /v1/ca/roots HTTP/1.1\r\nHost: t\r\nX-Note: a\tb\r\nConnection: close\r\n\r\n"
raw_200 "a tab in a header value is allowed (RFC 9110 §5.5)"

raw "GET /v1/ca/roots HTTP/1.1\r\nConnection: close\r\n\r\n"
raw_json 400 bad_request "HTTP/1.1 without Host"
raw "GET /v1/ca/roots HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"
raw_json 400 bad_request "HTTP/1.1 with two Host headers"
raw "GET /v1/ca/roots HTTP/1.0\r\n\r\n"
raw_200 "HTTP/1.0 without Host is answered"
raw "GET /v1/ca/roots HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nHELLOGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
raw_json 400 bad_request "two different Content-Length headers"
grep -q 'Content-Length' <<<"$RBODY" || die "the refusal does not say why: $RBODY"
grep -qi '^connection: close' <<<"$RAW" || die "the connection is not closed after two Content-Lengths: $RAW"
ok "the connection is closed after it (Connection: close)"
n=$(grep -c '^HTTP/1' <<<"$RAW")
[ "$n" = 1 ] || die "$n answers on a connection whose framing was in doubt"
ok "nothing after the refused request was answered"
raw "GET /v1/ca/roots HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
raw_200 "two equal Content-Length headers are not a framing error"
raw "GET /v1/ca/roots HTTP/1.1\nHost: t\nConnection: close\n\n"
raw_json 400 bad_header "bare LF line endings (RFC 9112 §2.2 lets a server refuse them; a NUL would hide behind them)"

# HEAD answers as GET, without a body (RFC 9110 §9.3.2)
head_like_get() { # head_like_get PATH
  local g h
  g=$(curl -s -D - -o /dev/null "$BASE$1" | tr -d '\r' | grep -iE '^(HTTP/|content-type|content-length|etag)' | sort)
  h=$(curl -s -I "$BASE$1" | tr -d '\r' | grep -iE '^(HTTP/|content-type|content-length|etag)' | sort)
  grep -q ' 200' <<<"$h" || die "HEAD $1: $h"
  [ "$g" = "$h" ] || die "HEAD $1 differs from GET: [$h] vs [$g]"
  raw "HEAD $1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
  [ "$RSTATUS" = 200 ] && [ -z "$RBODY" ] || die "HEAD $1 sent a body (or no 200): $(head -c 200 <<<"$RAW")"
  ok "HEAD $1: 200, the headers of GET, no body"
}
head_like_get "/crl/$ISSUER_ID.crl"
head_like_get /v1/ca/roots
head_like_get /v1/ca/chain
head_like_get "/v1/ca/bundle?format=pem"
echo "PASS test_http_errors: $CHECKS checks"
