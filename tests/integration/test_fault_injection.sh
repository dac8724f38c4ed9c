#!/usr/bin/env bash
# Fault injection (issue 7 item 5): SQLITE_BUSY, SQLITE_IOERR and SQLITE_FULL at each store step of issuance
# and revocation, injected into an unmodified iotcad by an LD_PRELOAD shim; then a real full disk (tmpfs).
# Every fault gets a clear 503, no certificate is returned that is not recorded, no serial is reused, and the
# daemon serves again once the fault clears.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
SHIM="$IOTCA_BIN/tests/libiotca_fault_shim.so"
[ -f "$SHIM" ] || die "fault shim not built"

ceremony
write_config
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
FAULT="$WORK/fault"
: > "$FAULT"
start_faulty() {
  LD_PRELOAD="$SHIM" IOTCA_FAULT_FILE="$FAULT" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    "$IOTCAD" --config iotcad.json >>daemon.log 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null 2>&1 && return; sleep 0.05; done
  die "iotcad did not start"
}
start_faulty
new_issuer int1
make_csr d d.updates.example.com "DNS:d.updates.example.com"
jq -n --rawfile csr d.csr '{csr: $csr, profile: "firmware-endpoint"}' > req.json
returned=()
post() { http POST /v1/certificates -H "Authorization: Bearer $PROV" --data-binary @req.json; if [ "$STATUS" = 201 ]; then returned+=("$(echo "$OUT" | jq -r .serial)"); fi; }

for code in 5 10 13; do   # SQLITE_BUSY, SQLITE_IOERR, SQLITE_FULL
  for step in "FROM issuers" "INSERT INTO serials" "INSERT INTO certificates" "INSERT INTO audit"; do
    before=$(sql "SELECT count(*) FROM certificates")
    echo "$code $step" > "$FAULT"
    post
    : > "$FAULT"
    [ "$STATUS" = 503 ] || die "issuance with $code at '$step': expected 503, got $STATUS $OUT"
    echo "$OUT" | jq -e '.error == "unavailable" and (.detail | test("request id"))' >/dev/null || die "unclear 503: $OUT"
    after=$(sql "SELECT count(*) FROM certificates")
    case $step in
      "INSERT INTO audit") [ "$after" -le $((before + 1)) ] || die "rows" ;; # recorded, never returned
      *) [ "$after" = "$before" ] || die "a partial record after $code at '$step'" ;;
    esac
    post
    [ "$STATUS" = 201 ] || die "the daemon did not recover after $code at '$step': $STATUS $OUT"
  done
  ok "issuance: SQLite error $code at each step -> 503, no partial record, and the next request succeeds"
  # the pre-signed OCSP answer is written by the tick, off the issuance path: a fault there does not stop
  # issuance, and the answer appears once the fault clears
  echo "$code INSERT INTO ocsp_responses" > "$FAULT"
  post
  [ "$STATUS" = 201 ] || die "issuance with $code at the OCSP write: expected 201, got $STATUS $OUT"
  s=$(echo "$OUT" | jq -r .serial)
  sleep 1.5 # a tick (tick_interval_s 1) tried and failed
  [ "$(sql "SELECT count(*) FROM ocsp_responses WHERE serial = '$s' AND next_update > 0")" = 0 ] || die "an OCSP answer was written despite the fault"
  : > "$FAULT"
  for _ in $(seq 1 300); do [ "$(sql "SELECT count(*) FROM ocsp_responses WHERE serial = '$s' AND next_update > 0")" = 1 ] && break; sleep 0.1; done
  [ "$(sql "SELECT count(*) FROM ocsp_responses WHERE serial = '$s' AND next_update > 0")" = 1 ] || die "the tick did not pre-sign the OCSP answer after the fault cleared"
  ok "OCSP pre-signing: SQLite error $code in the tick's write -> issuance unaffected, the answer is signed once it clears"
done

# revocation
for code in 5 10 13; do
  post; s=$(echo "$OUT" | jq -r .serial)
  echo "$code UPDATE certificates" > "$FAULT"
  http POST "/v1/certificates/$s/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'
  : > "$FAULT"
  [ "$STATUS" = 503 ] || die "revoke with $code: $STATUS $OUT"
  [ "$(sql "SELECT status FROM certificates WHERE serial = '$s'")" = valid ] || die "half-revoked"
  # the revocation lands, but signing its OCSP answer fails: the responder must still never say good
  echo "$code INSERT INTO ocsp_responses" > "$FAULT"
  http POST "/v1/certificates/$s/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'
  : > "$FAULT"
  [ "$(sql "SELECT status FROM certificates WHERE serial = '$s'")" = revoked ] || die "revocation not recorded"
  echo "$OUT" | jq -r .certificate > /dev/null
  http GET "/v1/certificates/$s" -H "Authorization: Bearer $PROV"; echo "$OUT" | jq -r .certificate > "r$code.crt"
  openssl ocsp -issuer int1.pem -cert "r$code.crt" -url "$BASE/ocsp" -CAfile roots.pem -verify_other int1.pem 2>&1 | grep >/dev/null ": revoked" \
    || die "OCSP says good for a revoked certificate after a failed re-sign ($code)"
done
ok "revocation: faults -> 503 and no half-revocation; if only the OCSP re-sign fails, OCSP still says revoked"

# serials: every one returned is recorded, none twice
for s in "${returned[@]}"; do [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$s'")" = 1 ] || die "returned $s not recorded"; done
[ "$(sql "SELECT count(*) FROM serials")" = "$(sql "SELECT count(DISTINCT serial) FROM serials")" ] || die "serial reused"
ok "all ${#returned[@]} returned certificates are recorded; no serial was used twice"

# readiness: a database that does not answer makes /readyz 503 (liveness stays 200), and 200 once it does
http GET /readyz; expect 200 "" "readyz before the fault"
echo "10 PRAGMA user_version" > "$FAULT"
http GET /readyz; expect 503 unavailable "readyz while the database fails (SQLITE_IOERR)"
http GET /healthz; expect 200 "" "healthz (liveness) meanwhile"
: > "$FAULT"
http GET /readyz; expect 200 "" "readyz once the fault clears"
stop_daemon

# a real full disk: the database on a 4 MiB tmpfs filled up
if mkdir -p tfs && mount -t tmpfs -o size=4m tmpfs tfs 2>/dev/null; then
  trap 'mountpoint -q "$WORK/tfs" && { umount "$WORK/tfs" || umount -l "$WORK/tfs"; }; cleanup' EXIT
  cp iotca.db tfs/ 2>/dev/null || die "copy to tmpfs"
  jq --arg d "$WORK/tfs/iotca.db" '.database = $d' iotcad.json > full.json && cp full.json iotcad.json
  start_faulty
  post; [ "$STATUS" = 201 ] || die "tmpfs start: $STATUS $OUT"
  dd if=/dev/zero of=tfs/filler bs=64k 2>/dev/null || true
  n503=0
  for _ in $(seq 1 5); do post; [ "$STATUS" = 503 ] && n503=$((n503 + 1)); [ "$STATUS" = 201 ] || [ "$STATUS" = 503 ] || die "full disk: $STATUS $OUT"; done
  [ "$n503" -ge 1 ] || die "a full disk never produced a 503"
  rm -f tfs/filler
  post; [ "$STATUS" = 201 ] || die "no recovery after the disk was freed: $STATUS $OUT"
  [ "$(sqlite3 tfs/iotca.db 'PRAGMA integrity_check')" = ok ] || die "integrity after a full disk"
  for s in "${returned[@]}"; do [ "$(sqlite3 tfs/iotca.db "SELECT count(*) FROM certificates WHERE serial = '$s'")" = 1 ] || die "lost $s"; done
  ok "a full disk (tmpfs): 503 while full, integrity ok, every returned certificate kept, serving again once freed"
  stop_daemon
  umount tfs 2>/dev/null || umount -l tfs
else
  echo "skip - cannot mount a tmpfs here (the shim's SQLITE_FULL cases above still ran)"
fi
echo "$CHECKS passed, 0 failed"
