#!/usr/bin/env bash
# iotcad under pressure (issue 7): 10,000 idle connections do not stop it answering /healthz or issuing, and the
# timeout reaps them; per-token rate limits (429 + Retry-After, per token, public endpoints exempt, counted in
# /metrics); slow clients that trickle headers or a body are cut off after request_timeout_s while the daemon
# keeps answering; and the refusals of every new config key.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# cfg_set JQ-FILTER: edits iotcad.json in place
cfg_set() { jq "$1" iotcad.json > cfg.tmp && mv cfg.tmp iotcad.json; }

ceremony
write_config '"// note": "written by test_limits.sh"'
"$IOTCAD" init --config iotcad.json >/dev/null || die "iotcad init"
tokens
PROV2=$("$IOTCAD" token create --config iotcad.json --role provisioner)

# --- refusals of the new keys: iotcad init --config BAD exits 2 naming the key ---------------------------------
neg() { # neg REGEX DESC JQ-FILTER
  jq "$3" iotcad.json > neg.json
  local rc=0
  "$IOTCAD" init --config neg.json >/dev/null 2>neg.err || rc=$?
  [ "$rc" = 2 ] || die "config $2: expected exit 2, got $rc: $(cat neg.err)"
  grep -Eq -- "$1" neg.err || die "config $2: message does not match /$1/: $(cat neg.err)"
  ok "config refused: $2 ($(head -c 100 neg.err))"
}
RL='rate_limit\.per_token_per_second must be an integer from 1 to 100000'
BU='rate_limit\.burst must be an integer from 1 to 100000'
neg "rate_limit must be an object" "rate_limit not an object" '.rate_limit = 10'
neg "rate_limit: unknown key 'per_second'" "unknown key in rate_limit" '.rate_limit = {per_second: 5}'
neg "rate_limit\.per_token_per_second is required" "rate_limit without a rate" '.rate_limit = {burst: 5}'
neg "$RL" "rate 0" '.rate_limit = {per_token_per_second: 0}'
neg "$RL" "negative rate" '.rate_limit = {per_token_per_second: -5}'
neg "$RL" "huge rate" '.rate_limit = {per_token_per_second: 100001}'
neg "$RL" "rate as a string" '.rate_limit = {per_token_per_second: "10"}'
neg "$RL" "fractional rate" '.rate_limit = {per_token_per_second: 1.5}'
neg "$BU" "burst 0" '.rate_limit = {per_token_per_second: 5, burst: 0}'
neg "$BU" "negative burst" '.rate_limit = {per_token_per_second: 5, burst: -1}'
neg "$BU" "huge burst" '.rate_limit = {per_token_per_second: 5, burst: 4294967297}'
neg "log must be an object" "log not an object" '.log = "info"'
neg "log: unknown key 'file'" "unknown key in log" '.log = {file: "/tmp/x"}'
neg 'log\.level must be "info", "warn" or "error"' "unknown log level" '.log = {level: "debug"}'
neg "log\.level must be a non-empty string" "log level not a string" '.log = {level: 3}'
neg "limits\.max_connections must be an integer from 1 to 1048576" "max_connections 0" '.limits.max_connections = 0'
neg "limits\.max_connections must be an integer from 1 to 1048576" "max_connections over the cap" \
  '.limits.max_connections = 1048577'
neg "limits\.request_timeout_s must be an integer from 1 to 3600" "request_timeout_s 0" '.limits.request_timeout_s = 0'
jq '.rate_limit = null | .log = {level: "warn"} | .limits.max_connections = 1048576' iotcad.json > okcfg.json
"$IOTCAD" init --config okcfg.json >/dev/null 2>&1 || die "a config with rate_limit null, log.level warn, the cap: refused"
ok "rate_limit: null, log.level \"warn\" and max_connections 1048576 are accepted"

# --- 10,000 idle connections ---------------------------------------------------------------------------------
# The client needs a descriptor per connection too: raise this shell's soft limit to the hard one (the daemon
# raises its own at start-up and logs it).
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
WANT=10000
if [ "$HARD" -lt $((WANT + 300)) ]; then
  WANT=$((HARD - 300)) # the daemon keeps ~100 descriptors for itself, the client a few
  echo "# the hard descriptor limit is $HARD: $WANT idle connections instead of 10000"
fi
cfg_set '.limits.request_timeout_s = 15'
ulimit -Sn 1024 # the daemon starts with a low soft limit and must raise it itself
start_daemon
ulimit -n "$HARD"
new_issuer int1
grep '"msg":"file descriptor limit"' daemon.log | tail -1 | jq -e --argjson h "$HARD" \
  '.soft_before == 1024 and .soft == $h and .hard == $h' >/dev/null ||
  die "the daemon did not log its descriptor limit raised from 1024 to $HARD: $(grep 'descriptor' daemon.log)"
conns=$((HARD - 96 < 16384 ? HARD - 96 : 16384)) # the default, lowered to leave 64 + 8 per thread (4) descriptors
start_line=$(grep '"msg":"iotcad started"' daemon.log | tail -1)
echo "$start_line" | jq -e --argjson c "$conns" '.poller == "epoll" and .max_connections == $c' >/dev/null ||
  die "expected epoll and $conns connections: $start_line"
ok "start-up: descriptor limit raised from 1024 to the hard limit $HARD (logged), epoll, max_connections $conns"

cat > hold.py <<'PY'
import socket, sys, time, os
port, n, report, release = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks, err = [], ""
t0 = time.monotonic()
for i in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
    except OSError as e:
        err = str(e)
        break
with open(report + ".tmp", "w") as f:
    f.write("%d %.2f %s\n" % (len(socks), time.monotonic() - t0, err))
os.rename(report + ".tmp", report)
deadline = time.monotonic() + 90
while not os.path.exists(release) and time.monotonic() < deadline:
    time.sleep(0.1)
for s in socks:
    s.close()
PY
python3 hold.py "$PORT" "$WANT" held.txt release &
HOLDER=$!
for _ in $(seq 1 300); do [ -f held.txt ] && break; sleep 0.1; done
[ -f held.txt ] || die "the client did not open its connections within 30 s"
read -r held took err < held.txt
[ "$held" = "$WANT" ] || die "the client opened only $held of $WANT connections: $err"
for _ in $(seq 1 100); do # the kernel completes connections before the daemon has accepted them all
  open_now=$(metric iotca_http_connections)
  [ "$open_now" -ge "$WANT" ] && break
  sleep 0.1
done
[ "$open_now" -ge "$WANT" ] || die "the daemon holds $open_now connections, not the $WANT the client opened"
ok "$WANT idle connections opened in ${took}s; the daemon holds $open_now (iotca_http_connections)"
t=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}' "$BASE/healthz") || t="000 timeout"
[ "${t%% *}" = 200 ] || die "/healthz with $WANT idle connections open: $t"
ok "/healthz answers 200 in ${t#* }s with $WANT idle connections open"
make_csr busy busy.updates.example.com "DNS:busy.updates.example.com"
issue busy firmware-endpoint "$PROV"
[ "$STATUS" = 201 ] || die "issuance with $WANT idle connections open: $STATUS $OUT"
openssl verify -CAfile r1/root.pem -untrusted busy.chain busy.crt >/dev/null || die "openssl verify busy.crt"
ok "a certificate is issued (and verifies with openssl) with $WANT idle connections open"
echo "# daemon memory with $WANT connections: $(grep VmRSS /proc/"$DAEMON_PID"/status | tr -s ' ')"
# the connections stay idle: request_timeout_s (15) reaps them
reaped=0
for _ in $(seq 1 250); do
  [ "$(metric iotca_http_connections)" -le 5 ] && { reaped=1; break; }
  sleep 0.1
done
[ "$reaped" = 1 ] || die "idle connections not reaped: $(metric iotca_http_connections) still open"
ok "the idle connections are closed by the daemon after request_timeout_s"
touch release
wait "$HOLDER" || true
stop_clean

# --- per-token rate limit --------------------------------------------------------------------------------------
cfg_set '.limits.request_timeout_s = 3 | .rate_limit = {per_token_per_second: 1, burst: 3}'
start_daemon
# codes N TOKEN PATH: N requests on one connection, as fast as curl sends them; their statuses, one a line
codes() {
  local urls=() i
  for i in $(seq 1 "$1"); do urls+=(-o /dev/null "$BASE$3"); done
  curl -s -w '%{http_code}\n' -H "Authorization: Bearer $2" "${urls[@]}"
}
codes 8 "$PROV2" /v1/certificates > burst.txt
[ "$(head -3 burst.txt | sort -u)" = 200 ] || die "the first 3 requests (the burst) were not all 200: $(tr '\n' ' ' < burst.txt)"
limited=$(grep -c '^429$' burst.txt || true)
[ "$limited" -ge 1 ] || die "8 requests at once with a burst of 3 and 1/s: no 429: $(tr '\n' ' ' < burst.txt)"
ok "burst 3, 1/s: 8 requests at once get $(grep -c '^200$' burst.txt) x 200 then $limited x 429"
hdr=$(curl -s -D - -o rl.json -H "Authorization: Bearer $PROV2" "$BASE/v1/certificates")
status_line=${hdr%%$'\r'*}
[[ "$status_line" == *" 429"* ]] || die "still limited: expected 429, got $status_line"
retry=$(echo "$hdr" | tr -d '\r' | awk 'tolower($1) == "retry-after:" { print $2 }')
[[ "$retry" =~ ^[1-9][0-9]*$ ]] || die "429 without a Retry-After of whole seconds: $hdr"
jq -e '.error == "rate_limited" and (.detail | test("1 requests a second"))' rl.json >/dev/null ||
  die "429 body: $(cat rl.json)"
ok "429 carries Retry-After: $retry and {\"error\":\"rate_limited\",\"detail\":\"$(jq -r .detail rl.json)\"}"
limited=$((limited + 1))
http GET /v1/certificates -H "Authorization: Bearer $PROV_DEV"; expect 200 "" "another token is not limited by the first one's bucket"
for p in /healthz /readyz /v1/ca/roots "/crl/$ISSUER_ID.crl" /metrics; do
  [ "$(codes 6 "$PROV2" "$p" | sort -u)" = 200 ] || die "public $p was limited for a token over its limit"
done
ok "public endpoints (healthz, readyz, roots, CRL, metrics) answer 200 x 6 even with a limited token"
ocsp=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/ocsp-request' \
  -H "Authorization: Bearer $PROV2" --data-binary 'not-ocsp' "$BASE/ocsp")
[ "$ocsp" != 429 ] || die "OCSP was rate limited"
ok "OCSP is not token-limited (status $ocsp for a garbage request)"
make_csr rl rl.updates.example.com "DNS:rl.updates.example.com"
before=$(sql "SELECT count(*) FROM audit")
certs=$(sql "SELECT count(*) FROM certificates")
codes 4 "$PROV2" /v1/certificates > drain.txt # empty the bucket again, whatever time has passed
limited=$((limited + $(grep -c '^429$' drain.txt || true)))
issue rl firmware-endpoint "$PROV2"; expect 429 rate_limited "a POST over the limit is refused before it reaches the CA"
limited=$((limited + 1))
[ "$(sql "SELECT count(*) FROM audit")" = "$before" ] || die "a rate-limited request was written to the audit trail"
[ "$(sql "SELECT count(*) FROM certificates")" = "$certs" ] || die "a rate-limited POST left a certificate"
ok "a rate-limited POST leaves no certificate and no audit record (it is logged and counted)"
[ "$(metric iotca_http_rate_limited_total)" = "$limited" ] ||
  die "iotca_http_rate_limited_total is $(metric iotca_http_rate_limited_total), $limited were sent"
ok "iotca_http_rate_limited_total counts the $limited 429s"
sleep "$retry"
http GET /v1/certificates -H "Authorization: Bearer $PROV2"; expect 200 "" "after Retry-After seconds the token is served again"
grep -q '"status":429.*"error":"rate_limited"' daemon.log || die "no access log line for a 429"
if grep -qF "${PROV2##*_}" daemon.log; then die "a token secret is in the log"; fi
ok "429s are in the access log; no token secret is"

# --- slow clients: a trickle of header or body bytes is cut off after request_timeout_s (3) ------------------
cat > trickle.py <<'PY'
import socket, sys, time
port, mode, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
if mode == "headers":
    data = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
else:
    s.sendall(b"POST /v1/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1000\r\n\r\n")
    data = b"{" + b" " * 999
t0 = time.monotonic()
s.settimeout(0.5)
i = 0
while time.monotonic() - t0 < limit:
    try:
        s.send(data[i:i + 1])
        i += 1
        got = s.recv(1000)
        if got == b"":
            print("closed %.1f %d" % (time.monotonic() - t0, i)); sys.exit(0)
        print("answered %.1f %r" % (time.monotonic() - t0, got[:40])); sys.exit(1)
    except socket.timeout:
        time.sleep(0.5)  # one byte a second: libmicrohttpd's inactivity timeout alone never fires
    except OSError as e:
        print("closed %.1f %d %s" % (time.monotonic() - t0, i, e)); sys.exit(0)
print("open %.1f %d" % (time.monotonic() - t0, i)); sys.exit(1)
PY
python3 trickle.py "$PORT" headers 20 > slow_headers.txt &
SH=$!
python3 trickle.py "$PORT" body 20 > slow_body.txt &
SB=$!
sleep 1
served=0
for _ in $(seq 1 4); do
  [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] && served=$((served + 1))
  sleep 0.4
done
[ "$served" = 4 ] || die "while two clients trickle, /healthz answered $served of 4 times"
ok "while two clients trickle bytes, /healthz keeps answering (4 of 4)"
wait "$SH" || die "slow headers were not cut off: $(cat slow_headers.txt)"
wait "$SB" || die "a slow body was not cut off: $(cat slow_body.txt)"
for f in slow_headers slow_body; do
  read -r what secs sent _ < "$f.txt"
  [ "$what" = closed ] || die "$f: $(cat "$f.txt")"
  awk -v s="$secs" 'BEGIN { exit !(s >= 2.5 && s <= 8) }' || die "$f: cut off after ${secs}s, not about 3 s"
  ok "$f: one byte a second ($sent sent) is cut off after ${secs}s (request_timeout_s 3)"
done
[ "$(metric iotca_http_connections_timed_out_total)" -ge 2 ] ||
  die "iotca_http_connections_timed_out_total: $(metric iotca_http_connections_timed_out_total)"
ok "iotca_http_connections_timed_out_total counts them"
# a client that is merely slow but in time is served: the whole request within the timeout
make_csr slow slow.updates.example.com "DNS:slow.updates.example.com"
body=$(jq -n --rawfile csr slow.csr '{csr: $csr, profile: "firmware-endpoint"}')
{ printf 'POST /v1/certificates HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n' "$PROV"
  printf 'Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' "${#body}"
  sleep 0.7; printf '%s' "${body:0:100}"; sleep 0.7; printf '%s' "${body:100}"; } |
  timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for chunk in iter(lambda: sys.stdin.buffer.read1(65536), b""):
    s.sendall(chunk)
out = b""
for chunk in iter(lambda: s.recv(65536), b""):
    out += chunk
print(out.split(b"\r\n")[0].decode())' "$PORT" > inline.txt || true
# (1.4 s of pauses leave the 3 s timeout room on a loaded machine; 2 s left 1 s, the thinnest margin in
# this test, which failed once under ctest -j2 without saying which check)
grep -q ' 201' inline.txt || die "a request sent in pieces over 1.4 s (within the 3 s timeout) was not served: $(cat inline.txt)"
ok "a request sent in pieces over 1.4 s, within the timeout, is served (201)"
kill -0 "$DAEMON_PID" || die "the daemon died"
stop_clean
echo "all $CHECKS checks passed"
