#!/usr/bin/env bash
# Concurrency and durability: 8 clients issue 2,000 certificates together (2,000 rows, 2,000 distinct serials,
# every returned certificate in the store); then SIGKILL in the middle of a load, restart, integrity_check,
# and every certificate a client received is still there.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
make_csr load load.updates.example.com "DNS:load.updates.example.com"
jq -n --rawfile csr load.csr '{csr: $csr, profile: "firmware-endpoint"}' > req.json

# client N: issue COUNT certificates, append each returned serial to got.N (only after a 201)
client() {
  local n=$1 count=$2 st
  for _ in $(seq 1 "$count"); do
    st=$(curl -s -o "resp.$n" -w '%{http_code}' -X POST "$BASE/v1/certificates" \
      -H "Authorization: Bearer $PROV" -H 'Content-Type: application/json' --data-binary @req.json) || st=000
    if [ "$st" = 201 ]; then jq -r .serial "resp.$n" >> "got.$n"; elif [ -n "${3:-}" ]; then return 0; else echo "client $n: $st" >&2; return 1; fi
  done
}
start=$(date +%s.%N)
pids=()
for n in 1 2 3 4 5 6 7 8; do client "$n" 250 & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || die "a client failed"; done
secs=$(echo "$(date +%s.%N) - $start" | bc)
cat got.* > all.txt
[ "$(wc -l < all.txt)" = 2000 ] || die "clients received $(wc -l < all.txt) certificates"
[ "$(sort -u all.txt | wc -l)" = 2000 ] || die "duplicate serials returned"
[ "$(sql 'SELECT count(*) FROM certificates')" = 2000 ] || die "store has $(sql 'SELECT count(*) FROM certificates') rows"
[ "$(sql 'SELECT count(DISTINCT serial) FROM certificates')" = 2000 ] || die "distinct serials in store"
sql 'SELECT serial FROM certificates' | sort > stored.txt
sort all.txt | cmp -s - stored.txt || die "returned and stored serials differ"
ok "8 clients x 250: 2000 rows, 2000 distinct serials, every returned certificate stored (${secs}s)"

# durability: SIGKILL during a load
rm -f got.*
for n in 1 2 3 4; do client "$n" 400 tolerate & done
sleep 1.5
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""
wait || true
received=$(cat got.* 2>/dev/null | sort -u | wc -l)
[ "$received" -gt 0 ] || die "no certificate was issued before the kill"
[ "$(sql 'PRAGMA integrity_check')" = ok ] || die "integrity_check after SIGKILL"
ok "PRAGMA integrity_check is ok after SIGKILL ($received certificates were received before it)"
start_daemon
missing=0
while read -r s; do [ "$(sql "SELECT count(*) FROM certificates WHERE serial='$s'")" = 1 ] || missing=$((missing + 1)); done < <(cat got.* | sort -u)
[ "$missing" = 0 ] || die "$missing received certificates are missing after the crash"
ok "every certificate a client received survived the crash"
issue load firmware-endpoint "$PROV"; expect 201 "" "issuing again after restart"
echo "$CHECKS passed, 0 failed"
