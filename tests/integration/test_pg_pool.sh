#!/usr/bin/env bash
# database.pool_size (issue 25): iotcad on PostgreSQL opens at most pool_size connections for its work, however
# many serving, worker and crypto threads it runs; 8 clients issuing at once share them. When every one is lent
# (here: two revocations stuck behind a lock another session holds, and the tick's own), a request waits
# connect_timeout_s for one, then answers 503 (the log says why) without losing anything; once the lock goes,
# everything answers again without a restart. /metrics shows the pool.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
# shellcheck source=tests/integration/pg_lib.sh
source "$HERE/pg_lib.sh"
LOCKER=""
trap 'kill "$LOCKER" 2>/dev/null || true; stop_pg; cleanup' EXIT

start_pg
ceremony
write_config
# 4 serving threads, 16 workers and 4 crypto threads: without a pool, each thread working at once holds one
jq --arg db "$PG_URL" '.database = {conninfo: $db, pool_size: 3, connect_timeout_s: 2, statement_timeout_ms: 30000}
  | .limits.workers = 16' iotcad.json > c.json && mv c.json iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null || die "iotcad init on PostgreSQL failed"
tokens
start_daemon
new_issuer int1
wait_issuer_state "$ISSUER_ID" active
pm() { curl -s "$BASE/metrics" | sed -n "s/^$1{database=\"primary\"} //p"; }
[ "$(pm iotca_db_pool_size)" = 3 ] || die "/metrics iotca_db_pool_size is '$(pm iotca_db_pool_size)'"
ok "/metrics shows the pool: size $(pm iotca_db_pool_size), $(pm iotca_db_pool_open) open"

conns() { pg_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'iotcad'"; }
make_csr load load.updates.example.com "DNS:load.updates.example.com"
jq -n --rawfile csr load.csr '{csr: $csr, profile: "firmware-endpoint"}' > req.json
client() { # client N COUNT: COUNT issuances, each answer's status appended to codes.N
  local st
  for _ in $(seq 1 "$2"); do
    st=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/certificates" \
      -H "Authorization: Bearer $PROV" -H 'Content-Type: application/json' --data-binary @req.json) || st=000
    echo "$st" >> "codes.$1"
  done
}
before=$(pg_sql 'SELECT count(*) FROM certificates')
pids=()
for n in 1 2 3 4 5 6 7 8; do client "$n" 40 & pids+=($!); done
most=0
while kill -0 "${pids[0]}" 2>/dev/null; do
  c=$(conns); [ "$c" -gt "$most" ] && most=$c
  sleep 0.05
done
for p in "${pids[@]}"; do wait "$p"; done
codes=$(cat codes.* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$(grep -c '^201$' codes.*  | awk -F: '{s += $2} END {print s}')" = 320 ] || die "not every issuance succeeded: $codes"
[ "$(pg_sql 'SELECT count(*) FROM certificates')" = $((before + 320)) ] || die "the database lacks rows"
ok "8 clients issued 320 certificates, every one 201 and stored"
# the pool's 3, the group commit's writer and the revocation listener: never more
[ "$most" -ge 2 ] && [ "$most" -le 5 ] || die "iotcad held $most connections to PostgreSQL under load"
[ "$(pm iotca_db_pool_open)" -le 3 ] || die "the pool has $(pm iotca_db_pool_open) open"
ok "under load iotcad held at most $most connections (pool_size 3 + writer + listener); $(pm iotca_db_pool_waits_total) lends waited"

# -- every connection lent: 503 after connect_timeout_s, then recovery ------------------------------------------
issue_and_verify r1 "issue r1"
issue_and_verify r2 "issue r2"
issue_and_verify r3 "issue r3"
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
# another session takes the revocations' turn lock and keeps it: a revocation waits for it on its connection
mkfifo hold.in
psql -X -q -d "$PG_URL" < hold.in > hold.out 2>&1 &
LOCKER=$!
exec 7> hold.in
echo "SELECT pg_advisory_lock(7460115); SELECT 'locked';" >&7
for _ in $(seq 1 100); do grep -q locked hold.out && break; sleep 0.1; done
grep -q locked hold.out || die "the other session did not take the lock: $(cat hold.out)"
revoke() { # revoke CERT N: the status to rev.N
  curl -s -m 40 -o "rev.$2.body" -w '%{http_code}' -X POST "$BASE/v1/certificates/$(serial_of "$1")/revoke" \
    -H "Authorization: Bearer $PROV" -H 'Content-Type: application/json' -d '{"reason": "keyCompromise"}' > "rev.$2"
}
revoke r1.crt 1 & RV1=$!
revoke r2.crt 2 & RV2=$!
for _ in $(seq 1 100); do [ "$(pm iotca_db_pool_lent)" = 3 ] && break; sleep 0.1; done
[ "$(pm iotca_db_pool_lent)" = 3 ] || die "the pool has $(pm iotca_db_pool_lent) lent, not 3 (tick + 2 revocations)"
t0=$(date +%s%N)
http GET "/v1/certificates/$(serial_of r3.crt)" -H "Authorization: Bearer $PROV"
ms=$((($(date +%s%N) - t0) / 1000000))
expect 503 unavailable "a read with every connection lent"
[ "$ms" -ge 1500 ] || die "the 503 came after $ms ms, not after waiting connect_timeout_s (2 s)"
grep -q 'all 3 database connections of this process were busy' daemon.log || die "the log does not say why"
[ "$(pm iotca_db_pool_timeouts_total)" -ge 1 ] || die "iotca_db_pool_timeouts_total did not count it"
ok "with all 3 lent, a request waited ${ms} ms, answered 503, and the log names pool_size"
kill -0 "$RV1" 2>/dev/null && kill -0 "$RV2" 2>/dev/null || die "the revocations ended while the lock was held"
echo "SELECT pg_advisory_unlock_all();" >&7
exec 7>&-
wait "$LOCKER" || true
LOCKER=""
wait "$RV1"; wait "$RV2"
[ "$(cat rev.1)" = 200 ] && [ "$(cat rev.2)" = 200 ] || die "revocations once the lock went: $(cat rev.1) $(cat rev.2)"
ok "both revocations completed once the other session let go of the lock"
http GET "/v1/certificates/$(serial_of r3.crt)" -H "Authorization: Bearer $PROV"
expect 200 "" "the same read once connections are free"
[ "$(pg_sql "SELECT count(*) FROM certificates WHERE status = 'revoked'")" = 2 ] || die "revocations not stored"
[ "$(pm iotca_db_pool_lent)" -le 1 ] || die "connections still lent after the requests: $(pm iotca_db_pool_lent)"
ok "nothing is left lent but the tick's: $(pm iotca_db_pool_lent)"
stop_clean
echo "$CHECKS passed, 0 failed"
