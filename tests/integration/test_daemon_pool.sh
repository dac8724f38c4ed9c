#!/usr/bin/env bash
# Requests that wait for the disk, with one serving thread, one pool thread and one crypto thread
# (server/http.c). Issuances are started by the serving thread, signed by the crypto thread and answered once
# the group commit has recorded them, with no thread waiting; the other state-changing requests (revocations
# here) and the audit records of refused issuances run on the pool, a serving thread suspending the connection
# and the pool thread resuming it. A burst of each must be answered, recorded and verifiable, reads must be
# answered meanwhile, and a daemon stopped in the middle of a burst must answer or refuse each request cleanly
# and exit 0.
# shellcheck source=daemon_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon_lib.sh"

start_ca '.limits.threads = 1 | .limits.workers = 1'
grep -q '"threads":1,"workers":1' daemon.log || die "the start line does not report 1 thread and 1 worker: $(grep started daemon.log)"
ok "started with 1 serving thread and 1 worker (the start line says so)"
new_issuer int1

# bodies: 24 distinct CSRs
"$IOTCA_BIN/bench/iotca-csrs" 24 > fleet.pem
jq -Rsc 'split("-----END CERTIFICATE REQUEST-----\n")[:-1][] | . + "-----END CERTIFICATE REQUEST-----\n" |
  {csr: ., profile: "firmware-endpoint"}' fleet.pem > bodies.jsonl
mkdir bodies && split -l 1 -d -a 3 bodies.jsonl bodies/b
export BASE PROV
burst() { # burst OUTDIR: every body posted, 6 at a time; one "CODE SERIAL" line per request in OUTDIR/codes
  mkdir -p "$1"
  # shellcheck disable=SC2016
  find bodies -type f | xargs -P 6 -n 1 sh -c 'curl -s -m 20 -o "$0/$(basename "$1").json" -w "%{http_code}\n" \
      -X POST "$BASE/v1/certificates" -H "Authorization: Bearer $PROV" -H "Content-Type: application/json" \
      --data-binary @"$1" || true' "$1" > "$1/codes"
}

# reads_during PID WHAT: health checks until PID ends, each answered 200; their count in READS
reads_during() {
  READS=0
  while kill -0 "$1" 2>/dev/null; do
    [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] || die "healthz failed during $2"
    READS=$((READS + 1))
  done
  wait "$1"
}

before=$(sql "SELECT count(*) FROM certificates")
burst run1 &
# reads are answered on the serving thread while it starts issuances
reads_during $! "the burst"
[ "$(grep -c '^201$' run1/codes)" = 24 ] || die "not every issuance got 201: $(sort run1/codes | uniq -c | tr '\n' ' ')"
ok "24 issuances from 6 clients on one serving thread and one crypto thread: all 201 ($READS health checks answered meanwhile)"
[ $(($(sql "SELECT count(*) FROM certificates") - before)) = 24 ] || die "not all 24 are recorded"
for f in run1/b*.json; do
  s=$(jq -r .serial "$f")
  [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$s'")" = 1 ] || die "answered serial $s is not recorded"
  jq -r .certificate "$f" > one.crt
  jq -r .chain "$f" > one.chain
  openssl verify -CAfile roots.pem -untrusted one.chain one.crt >/dev/null || die "certificate $s does not verify"
done
ok "each answer's serial is recorded once and its certificate verifies with openssl"

# a burst of revocations, 6 at a time: each waits for its record and audit record on the one pool thread
ls run1/b*.json | xargs -n 1 jq -r .serial > serials
# shellcheck disable=SC2016
xargs -P 6 -n 1 sh -c 'curl -s -m 20 -o /dev/null -w "%{http_code}\n" -X POST "$BASE/v1/certificates/$0/revoke" \
  -H "Authorization: Bearer $PROV" -H "Content-Type: application/json" -d "{\"reason\": \"superseded\"}"' \
  < serials > revoke_codes &
reads_during $! "the revocations"
[ "$(grep -c '^200$' revoke_codes)" = 24 ] || die "not every revocation got 200: $(sort revoke_codes | uniq -c | tr '\n' ' ')"
[ "$(sql "SELECT count(*) FROM certificates WHERE status = 'revoked'")" = 24 ] || die "not all 24 revocations are recorded"
[ "$(sql "SELECT count(*) FROM audit WHERE action LIKE 'POST /v1/certificates/%/revoke' AND outcome = '200'")" = 24 ] ||
  die "not all 24 revocations are audited"
ok "24 revocations from 6 clients through one pool thread: all 200, recorded and audited ($READS health checks answered meanwhile)"
# refused issuances go through the pool, for their audit records, with their own answers
http POST /v1/certificates -H "Authorization: Bearer $PROV" -d '{"csr": "nope", "profile": "firmware-endpoint"}'
expect 400 "" "a malformed CSR through the pool"
http POST /v1/certificates -H "Authorization: Bearer $PROV" -d '{not json'
expect 400 malformed_json "a malformed body through the pool"
http POST /v1/certificates -d '{}'
expect 401 unauthorized "no token, through the pool"

# clients that give up while their issuance is in flight: the daemon keeps serving, issues the next request
# normally, and (under ASan, at stop_clean) leaks nothing of the answers nobody took
# shellcheck disable=SC2016
find bodies -type f | xargs -P 12 -n 1 sh -c 'curl -s -m 0.02 -o /dev/null -X POST "$BASE/v1/certificates" \
  -H "Authorization: Bearer $PROV" -H "Content-Type: application/json" --data-binary @"$0" || true'
make_csr later later.updates.example.com "DNS:later.updates.example.com"
issue later firmware-endpoint "$PROV"
expect 201 "" "an issuance after 24 clients gave up while theirs were in flight"
openssl verify -CAfile roots.pem -untrusted later.chain later.crt >/dev/null || die "that certificate does not verify"

# stopped in the middle of a burst (the 24 bodies ten times over): the daemon exits 0 (no sanitizer report),
# every request got an answer or a refused connection, and what was recorded was answered (the daemon waits
# for the issuances it started and sends their answers before the connections close)
originals=(bodies/b*)
for i in $(seq 1 9); do for f in "${originals[@]}"; do cp "$f" "$f.$i"; done; done
before=$(sql "SELECT count(*) FROM certificates")
burst run2 &
bp=$!
sleep 0.1
stop_clean
wait "$bp" || true
answered=$(grep -c '^201$' run2/codes || true)
[ "$(wc -l < run2/codes)" = 240 ] || die "expected 240 outcomes, got $(wc -l < run2/codes)"
[ "$answered" -lt 240 ] || die "all 240 were answered before the stop: the stop did not fall in the burst"
recorded=$(($(sql "SELECT count(*) FROM certificates") - before))
[ "$recorded" = "$answered" ] || die "$answered answered 201 but $recorded recorded (each request taken must be answered)"
for f in run2/b*.json; do
  [ -s "$f" ] && jq -e .serial "$f" >/dev/null 2>&1 || continue
  s=$(jq -r .serial "$f")
  [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$s'")" = 1 ] || die "answered serial $s is not recorded"
done
ok "SIGTERM during a burst: exit 0, $answered answered 201, each of them recorded ($recorded recorded)"
echo "PASS: $CHECKS checks"
