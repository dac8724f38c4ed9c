#!/usr/bin/env bash
# bench/floor.c (iotca-floor), the do-nothing responder bench/run measures the one-client OCSP floor with:
# it must answer every whole request with exactly the asked-for body (else the floor would be measured on
# something else), read pipelined requests one by one, and refuse bad input by closing the connection.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need curl
FLOOR=$IOTCA_BIN/bench/iotca-floor

section "usage errors"
expect_fail 2 "$FLOOR"
expect_stderr 'usage: iotca-floor BODY_BYTES'
expect_fail 2 "$FLOOR" 12x
expect_fail 2 "$FLOOR" -- -1
expect_fail 2 "$FLOOR" 65537
expect_fail 2 "$FLOOR" 10 20

section "answers"
"$FLOOR" 777 > "$T/port" 2>"$T/floor.err" &
FPID=$!
trap 'kill $FPID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
P=$(awk '/^port/ {print $2}' "$T/port")
[[ $P =~ ^[0-9]+$ ]] || fail "no port printed: $(cat "$T/port" "$T/floor.err")"
pass "listening on 127.0.0.1:$P"

head -c 300 /dev/urandom > "$T/req.bin"
run curl -s -o "$T/a.bin" -w '%{http_code} %{size_download} %{content_type}' --data-binary @"$T/req.bin" \
  -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$P/ocsp"
assert_eq "a POST gets 200 with a 777-byte OCSP-typed body" "$(cat "$OUT")" "200 777 application/ocsp-response"
run curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$P/"
assert_eq "a GET without a body is answered too" "$(cat "$OUT")" "200 777"
run curl -s -w '%{num_connects} ' -o /dev/null -o /dev/null -o /dev/null "http://127.0.0.1:$P/a" "http://127.0.0.1:$P/b" "http://127.0.0.1:$P/c"
assert_eq "keep-alive: three requests on one connection" "$(cat "$OUT")" "1 0 0 "

# raw requests over bash's /dev/tcp: what comes back before the server closes (RAW=closed) or goes quiet
# for a second (RAW=open). A server that closes with part of the request still unread makes the kernel
# send a reset rather than a FIN: cat then fails ("Connection reset by peer"), and that is closed too;
# only timeout's own 124 means the connection stayed open.
raw() {
  exec 3<>"/dev/tcp/127.0.0.1/$P"
  printf '%b' "$1" >&3 2>/dev/null || true # a reset may come before all of it is written
  local rc=0
  timeout 1 cat <&3 > "$T/raw.out" 2>/dev/null || rc=$?
  RAW=closed
  [ "$rc" = 124 ] && RAW=open
  exec 3<&- 3>&-
}
# closed_unanswered DESC: the last raw request got no byte back and its connection was closed
closed_unanswered() {
  assert_eq "$1: nothing answered" "$(wc -c < "$T/raw.out" | tr -d ' ')" 0
  assert_eq "  ...and the connection closed" "$RAW" closed
}
raw 'POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPOST /y HTTP/1.1\r\ncontent-length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n'
assert_eq "three pipelined requests (any header case) get three answers" "$(grep -o 'HTTP/1.1 200 OK' "$T/raw.out" | wc -l | tr -d ' ')" 3
raw 'POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab'
assert_eq "a request whose body has not all arrived is not answered yet" "$(wc -c < "$T/raw.out" | tr -d ' ')" 0
assert_eq "  ...and its connection stays open" "$RAW" open

section "bad input closes the connection, unanswered, and the server goes on"
raw 'POST /x HTTP/1.1\r\nContent-Length: zz\r\n\r\n'
closed_unanswered "a Content-Length that is not a number"
raw 'POST /x HTTP/1.1\r\nContent-Length: -4\r\n\r\n'
closed_unanswered "a negative Content-Length"
raw 'POST /x HTTP/1.1\r\nContent-Length: 65537\r\n\r\n'
closed_unanswered "a body over 64 KiB"
head -c 17000 /dev/zero | tr '\0' 'a' > "$T/long"
raw "GET / HTTP/1.1\r\nX-Long: $(cat "$T/long")"
closed_unanswered "a head over 16 KiB with no blank line"
run curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$P/"
assert_eq "still answering after all of that" "$(cat "$OUT")" "200 777"
kill -0 "$FPID" 2>/dev/null || fail "iotca-floor exited"
pass "iotca-floor still runs"

finish
