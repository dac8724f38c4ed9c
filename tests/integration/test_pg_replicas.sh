#!/usr/bin/env bash
# Three iotcad replicas on one PostgreSQL behind a real nginx, round robin (issue 25). 8 clients issue 2,000
# certificates through nginx: 2,000 rows, 2,000 distinct serials, every returned certificate stored, every replica
# served some. A revocation through one replica is answered revoked by OCSP on the other two right after, though
# each had the good answer cached; CRL numbers only grow, whichever replica is asked. Exactly one replica leads the
# tick; SIGKILL of it hands the lead to another within seconds, and a staged issuer still activates on time.
# PostgreSQL stopped under load: 503s (never a certificate without its row), /readyz says not ready, and both
# recover when it returns without restarting a replica. SIGKILL of a replica under load loses no certificate a
# client received.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
# shellcheck source=tests/integration/pg_lib.sh
source "$HERE/pg_lib.sh"
command -v nginx >/dev/null || die "nginx is not installed (deploy/install-deps.sh installs nginx-light)"
PIDS=(); PORTS=(); NGINX_PID=""; CL=(); pids=()
die() {
  echo "FAIL - $*" >&2
  for i in 0 1 2; do [ -f "r$i.log" ] && { echo "--- r$i.log" >&2; tail -n 12 "r$i.log" >&2; }; done
  exit 1
}
finish() { # the client loops first: a failure while they run must not leave them, and `wait` with them, going
  for p in "${CL[@]}" "${pids[@]}" "${PIDS[@]}" "$NGINX_PID"; do [ -n "$p" ] && { kill "$p" 2>/dev/null || true; }; done
  wait 2>/dev/null || true
  stop_pg
  cleanup
}
trap finish EXIT

start_pg
ceremony
write_config
# the conninfo as an object of libpq's keywords
jq --argjson port "$PG_PORT" '.database = {conninfo: {host: "127.0.0.1", port: $port, dbname: "iotca", user: "iotca"},
  connect_timeout_s: 2, statement_timeout_ms: 10000}' iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json > init.out || die "iotcad init on PostgreSQL failed"
grep -q "schema version" init.out || die "init said: $(cat init.out)"
ok "iotcad init made the schema on PostgreSQL"
tokens
# a URL with a password (the private server trusts any): check-config passes and never prints the password
jq --arg db "postgresql://iotca:pw-s3cret@127.0.0.1:$PG_PORT/iotca" '.database = $db' iotcad.json > pw.json
"$IOTCAD" check-config --config pw.json > check.out 2>&1 || die "check-config on PostgreSQL: $(cat check.out)"
grep -q 'iotca:\*\*\*@127.0.0.1' check.out && ! grep -q pw-s3cret check.out ||
  die "check-config shows the database URL's password: $(cat check.out)"
ok "check-config on PostgreSQL passes, the URL's password masked: $(grep -o 'database [^ ]*' check.out)"
jq --arg db "host=127.0.0.1 port=$PG_PORT dbname=iotca user=iotca password='pw w0rds'" '.database = $db' iotcad.json > pw.json
"$IOTCAD" check-config --config pw.json > check.out 2>&1 || die "check-config with conninfo words: $(cat check.out)"
grep -q "password=\*\*\* " check.out && ! grep -q 'w0rds' check.out ||
  die "check-config shows the conninfo words' password: $(cat check.out)"
ok "and with libpq's words, a quoted password masked too"

# replica I on its own port, same config otherwise (same database, same shared key directory)
start_replica() {
  local i=$1
  [ -n "${PORTS[$i]:-}" ] || PORTS[i]=$(free_port)
  jq ".listen.port = ${PORTS[$i]}" iotcad.json > "r$i.json"
  "$IOTCAD" --config "r$i.json" >> "r$i.log" 2>&1 &
  PIDS[i]=$!
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:${PORTS[$i]}/healthz" >/dev/null 2>&1 && return 0
    kill -0 "${PIDS[$i]}" 2>/dev/null || die "replica $i exited at start"
    sleep 0.05
  done
  die "replica $i did not become healthy"
}
for i in 0 1 2; do start_replica "$i"; done
ok "three replicas serve one PostgreSQL database (ports ${PORTS[*]})"

NPORT=$(free_port)
nginx_conf nginx.conf warn 256 <<CONF
  upstream iotcad {
    server 127.0.0.1:${PORTS[0]} max_fails=0;
    server 127.0.0.1:${PORTS[1]} max_fails=0;
    server 127.0.0.1:${PORTS[2]} max_fails=0;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$NPORT;
    location / {
      proxy_pass http://iotcad;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream off;
    }
  }
CONF
nginx -t -c "$WORK/nginx.conf" -p "$WORK/ng" >/dev/null 2>&1 || die "nginx config: $(nginx -t -c "$WORK/nginx.conf" -p "$WORK/ng" 2>&1)"
nginx -c "$WORK/nginx.conf" -p "$WORK/ng" -g 'daemon off;' &
NGINX_PID=$!
wait_port "$NPORT"
BASE="http://127.0.0.1:$NPORT"
R() { echo "http://127.0.0.1:${PORTS[$1]}"; }

new_issuer int1
wait_issuer_state "$ISSUER_ID" active
INT1=$ISSUER_ID
ok "an issuer made and imported through nginx is active"

# -- 8 clients, 2,000 certificates, through nginx ---------------------------------------------------------------
make_csr load load.updates.example.com "DNS:load.updates.example.com"
jq -n --rawfile csr load.csr '{csr: $csr, profile: "firmware-endpoint"}' > req.json
# client N COUNT [tolerate]: issues COUNT certificates through BASE, each returned serial appended to got.N; the
# status of every answer to codes.N
client() {
  local n=$1 count=$2 st
  for _ in $(seq 1 "$count"); do
    st=$(curl -s -m 20 -o "resp.$n" -w '%{http_code}' -X POST "$BASE/v1/certificates" \
      -H "Authorization: Bearer $PROV" -H 'Content-Type: application/json' --data-binary @req.json) || st=000
    echo "$st" >> "codes.$n"
    # (sed, not a jq for each of 2,000 answers; the body ends without a newline, which sed keeps: echo adds it)
    if [ "$st" = 201 ]; then echo "$(sed -n 's/.*"serial": *"\([0-9a-f]*\)".*/\1/p' "resp.$n")" >> "got.$n"
    elif [ -z "${3:-}" ]; then echo "client $n: $st $(cat "resp.$n")" >&2; return 1; fi
  done
}
before=$(pg_sql 'SELECT count(*) FROM certificates')
pids=()
for n in 1 2 3 4 5 6 7 8; do client "$n" 250 & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || die "a client failed"; done
cat got.* > all.txt
[ "$(wc -l < all.txt)" = 2000 ] || die "clients received $(wc -l < all.txt) certificates"
[ "$(sort -u all.txt | wc -l)" = 2000 ] || die "duplicate serials returned"
rows=$(pg_sql 'SELECT count(*) FROM certificates')
[ $((rows - before)) = 2000 ] || die "the store has $((rows - before)) new rows"
[ "$(pg_sql 'SELECT count(DISTINCT serial) FROM certificates')" = "$rows" ] || die "serials in the store repeat"
pg_sql 'SELECT serial FROM certificates' | sort > stored.txt
comm -23 <(sort all.txt) stored.txt > lost.txt
[ ! -s lost.txt ] || die "$(wc -l < lost.txt) returned certificates are not in the store"
ok "8 clients x 250 through nginx: 2,000 new rows, 2,000 distinct serials, every returned certificate stored"
for i in 0 1 2; do
  n=$(BASE=$(R "$i") metric iotca_certificates_issued_total)
  [ "${n%.*}" -gt 100 ] || die "replica $i issued only $n of them: nginx did not spread the load"
done
ok "each replica issued a share of them (round robin)"
rm -f got.* codes.*

# -- revocation on one replica, OCSP on the others ---------------------------------------------------------------
status_at() { # status_at URL CERT: what openssl ocsp says of CERT asking URL (the answer verified)
  local oc
  oc=$(openssl ocsp -issuer int1.pem -cert "$2" -url "$1/ocsp" -CAfile roots.pem -verify_other int1.pem 2>&1) || true
  grep -q "Response verify OK" <<<"$oc" || die "the answer of $1 for $2 does not verify: $oc"
  echo "$oc" | sed -n "s/^$2: \([a-z]*\).*/\1/p"
}
crl_number() { # crl_number URL: the CRL number of int1's CRL fetched from URL
  curl -sf "$1/crl/$INT1.crl" -o crl.der || die "GET $1/crl/$INT1.crl failed"
  openssl crl -inform DER -in crl.der -noout -crlnumber | sed 's/crlNumber=0x//' | tr 'a-f' 'A-F' |
    (read -r h; echo "ibase=16; $h" | bc)
}
serial_hex() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
last_crl=0
for round in 0 1 2; do
  from=$round; a=$(((round + 1) % 3)); b=$(((round + 2) % 3))
  BASE=$(R "$from") issue_and_verify "leaf$round" "leaf$round issued by replica $from"
  for i in 0 1 2 0 1 2; do
    [ "$(status_at "$(R "$i")" "leaf$round.crt")" = good ] || die "replica $i should answer good before the revocation"
  done
  ok "leaf$round: every replica answers good (asked twice: cached)"
  BASE=$(R "$from") http POST "/v1/certificates/$(serial_hex "leaf$round.crt")/revoke" \
    -H "Authorization: Bearer $PROV" -d '{"reason": "keyCompromise"}'
  expect 200 "" "leaf$round revoked through replica $from"
  for i in $a $b; do
    s=$(status_at "$(R "$i")" "leaf$round.crt")
    [ "$s" = revoked ] || die "right after the revocation through replica $from, replica $i answers '$s'"
  done
  ok "leaf$round: right after, replicas $a and $b answer revoked (LISTEN/NOTIFY)"
  # CRL numbers: whichever replica is asked, never lower than one seen before; higher once this revocation is in
  for _ in $(seq 1 50); do
    seen=()
    for i in 0 1 2; do seen+=("$(crl_number "$(R "$i")")"); done
    for v in "${seen[@]}"; do [ "$v" -ge "$last_crl" ] || die "CRL number went back from $last_crl to $v"; done
    openssl crl -inform DER -in crl.der -noout -text | grep -qi "$(serial_hex "leaf$round.crt")" && break
    sleep 0.2
  done
  openssl crl -inform DER -in crl.der -noout -text | grep -qi "$(serial_hex "leaf$round.crt")" ||
    die "no replica's CRL lists leaf$round"
  new=$(printf '%s\n' "${seen[@]}" | sort -n | tail -1)
  [ "$new" -gt "$last_crl" ] || die "the CRL number did not grow past $last_crl after revoking leaf$round"
  last_crl=$new
  ok "leaf$round: its CRL lists it, number $new, and no replica served a lower one than before"
done

# -- the tick's leader ----------------------------------------------------------------------------------------------
leaders() { for i in 0 1 2; do [ -n "${PIDS[$i]}" ] && [ "$(BASE=$(R "$i") metric iotca_tick_leader)" = 1 ] && echo "$i"; done; true; }
for _ in $(seq 1 50); do [ "$(leaders | wc -l)" = 1 ] && break; sleep 0.2; done
[ "$(leaders | wc -l)" = 1 ] || die "replicas leading the tick: $(leaders | tr '\n' ' ') (want exactly one)"
LEAD=$(leaders)
[ "$(pg_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7460117 AND granted")" = 1 ] ||
  die "the tick's advisory lock is not held exactly once"
ok "exactly one replica (replica $LEAD) leads the tick, holding the advisory lock"

stage_issuer int2 6
INT2=$ISSUER_ID
kill -9 "${PIDS[$LEAD]}"; wait "${PIDS[$LEAD]}" 2>/dev/null || true; PIDS[LEAD]=""
killed_at=$(date +%s)
for _ in $(seq 1 50); do [ "$(leaders | wc -l)" = 1 ] && break; sleep 0.2; done
NEW=$(leaders)
[ "$(echo "$NEW" | wc -l)" = 1 ] && [ -n "$NEW" ] || die "no single replica took the tick's lead after SIGKILL: '$NEW'"
ok "SIGKILL of the leading replica: replica $NEW leads within $(( $(date +%s) - killed_at )) s"
BASE=$(R "$NEW") wait_issuer_state "$INT2" active
late=$(( $(date +%s) - killed_at - 6 ))
[ "$late" -le 4 ] || die "int2 activated $late s after its time"
ok "the issuer staged before the kill activated on time ($late s after its time, at most)"
BASE=$(R "$NEW") issue_and_verify after-kill "issuance after the leader's death"
openssl verify -CAfile roots.pem -untrusted int2.pem after-kill.crt >/dev/null 2>&1 ||
  die "the surviving replicas do not issue under the newly activated int2"
ok "every replica left issues under int2, activated by the new leader"
start_replica "$LEAD"

# -- PostgreSQL stopped under load ------------------------------------------------------------------------------
CL=()
for n in 1 2 3 4; do client "$n" 100000 tolerate & CL+=($!); done
sleep 2
pg_halt
sleep 3
for i in 0 1 2; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$(R "$i")/readyz")
  [ "$code" = 503 ] || die "replica $i /readyz answered $code with the database down"
done
ok "with PostgreSQL stopped, every replica's /readyz answers 503"
pg_resume
# ready again: three answers 200 in a row from each (each serving thread reconnects on its own, and a write probe
# that failed while PostgreSQL was starting keeps /readyz at 503 until the next tick's succeeds)
for i in 0 1 2; do
  streak=0
  for _ in $(seq 1 150); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$(R "$i")/readyz")" = 200 ]; then streak=$((streak + 1)); else streak=0; fi
    [ "$streak" -ge 3 ] && break
    sleep 0.2
  done
  [ "$streak" -ge 3 ] || die "replica $i not ready after PostgreSQL returned"
done
ok "PostgreSQL back: every replica is ready again, without a restart"
sleep 2
kill "${CL[@]}" 2>/dev/null; wait "${CL[@]}" 2>/dev/null || true
cat codes.* > codes.txt
others=$(grep -cvE '^(201|503)$' codes.txt || true)
[ "$others" = 0 ] || die "answers other than 201 and 503 during the outage: $(grep -vE '^(201|503)$' codes.txt | sort | uniq -c | tr '\n' ' ')"
[ "$(grep -c '^503$' codes.txt)" -gt 0 ] || die "no 503 while PostgreSQL was down"
ok "during the outage: $(grep -c '^503$' codes.txt) answers 503, the rest 201, nothing else"
tail -n 20 codes.txt | grep -q '^201$' || die "issuance did not recover after PostgreSQL returned"
ok "issuance recovered once PostgreSQL was back"
pg_sql 'SELECT serial FROM certificates' | sort > stored.txt
comm -23 <(cat got.* | sort -u) stored.txt > lost.txt
[ ! -s lost.txt ] || die "$(wc -l < lost.txt) certificates were answered without their row"
ok "no certificate answered without its row ($(cat got.* | wc -l) answered 201)"
rm -f got.* codes.*

# -- SIGKILL of a replica under load -------------------------------------------------------------------------------
CL=()
for n in 1 2 3 4; do BASE=$(R 1) client "$n" 100000 tolerate & CL+=($!); done
sleep 2
kill -9 "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true; PIDS[1]=""
sleep 0.5
kill "${CL[@]}" 2>/dev/null; wait "${CL[@]}" 2>/dev/null || true
received=$(cat got.* 2>/dev/null | sort -u | wc -l)
[ "$received" -gt 0 ] || die "no certificate was issued before the kill"
pg_sql 'SELECT serial FROM certificates' | sort > stored.txt
comm -23 <(cat got.* | sort -u) stored.txt > lost.txt
[ ! -s lost.txt ] || die "$(wc -l < lost.txt) certificates received before SIGKILL are missing"
ok "SIGKILL of a replica under load: all $received certificates it returned are in PostgreSQL"
start_replica 1
BASE=$(R 1) issue_and_verify restarted "the killed replica, restarted, issues again"
echo "$CHECKS passed, 0 failed"
