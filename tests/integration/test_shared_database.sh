#!/usr/bin/env bash
# Several iotcad processes on one database (issue 19, point 2): each keeps signed OCSP answers in memory, and a
# revocation through one must be answered "revoked" by every other at once, not after its cached "good" answer
# runs out. Two daemons on one SQLite file, each asked first (so each has the answer cached), then a revocation
# through one and, right after, the other asked -- both ways round, and for a burst of revocations.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
die() { # both daemons' logs on a failure
  echo "FAIL - $*" >&2
  for l in daemon.log daemon-b.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -n 15 "$l" >&2; }; done
  exit 1
}

ca_with_issuer int1
A=$BASE
PID_A=$DAEMON_PID
# the second process: the same config and database, its own port
PORT_B=$(free_port)
jq ".listen.port = $PORT_B" iotcad.json > iotcad-b.json
B="http://127.0.0.1:$PORT_B"
"$IOTCAD" --config iotcad-b.json >>daemon-b.log 2>&1 &
PID_B=$!
for _ in $(seq 1 100); do curl -sf "$B/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -sf "$B/healthz" >/dev/null || die "the second iotcad did not start: $(tail -5 daemon-b.log)"
ok "two iotcad processes serve one database ($A and $B)"
trap 'kill "$PID_B" 2>/dev/null || true; cleanup' EXIT

status_at() { # status_at URL CERT: what openssl ocsp says of CERT asking URL, the response verified
  local oc
  oc=$(openssl ocsp -issuer int1.pem -cert "$2" -url "$1/ocsp" -CAfile roots.pem -verify_other int1.pem 2>&1) || true
  grep -q "Response verify OK" <<<"$oc" || die "the answer of $1 for $2 does not verify: $oc"
  echo "$oc" | sed -n "s/^$2: \([a-z]*\).*/\1/p"
}
serial_hex() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
hits() { curl -s "$1/metrics" | awk '$1 ~ /^iotca_ocsp_cache_hits_total/ { n += $2 } END { print n + 0 }'; }

# revoke_through FROM OTHER NAME: a leaf, its answer cached by both, revoked through FROM; OTHER must say revoked
revoke_through() {
  local from=$1 other=$2 name=$3
  issue_and_verify "$name" "issue $name"
  for url in "$A" "$B" "$A" "$B"; do
    [ "$(status_at "$url" "$name.crt")" = good ] || die "$name: $url should answer good before the revocation"
  done
  ok "$name: both processes answer good (asked twice each, so each has the answer cached)"
  BASE=$from http POST "/v1/certificates/$(serial_hex "$name.crt")/revoke" -H "Authorization: Bearer $PROV" \
    -d '{"reason": "keyCompromise"}'
  expect 200 "" "$name: revoked through $from"
  local s
  s=$(status_at "$other" "$name.crt")
  [ "$s" = revoked ] || die "$name: right after the revocation through $from, $other answers '$s'"
  ok "$name: right after, the other process ($other) answers revoked"
  s=$(status_at "$from" "$name.crt")
  [ "$s" = revoked ] || die "$name: $from answers '$s' after its own revocation"
  ok "$name: and so does the one that revoked"
}
revoke_through "$A" "$B" leaf1
revoke_through "$B" "$A" leaf2

# a burst: five leaves cached by both, revoked through A; B answers revoked for every one at once
for i in 1 2 3 4 5; do
  issue_and_verify "burst$i" "issue burst$i"
  [ "$(status_at "$B" "burst$i.crt")" = good ] || die "burst$i: B should answer good first"
  [ "$(status_at "$B" "burst$i.crt")" = good ] || die "burst$i: B should answer good (cached)"
done
for i in 1 2 3 4 5; do
  BASE=$A http POST "/v1/certificates/$(serial_hex "burst$i.crt")/revoke" -H "Authorization: Bearer $PROV" -d '{}'
  expect 200 "" "revoke burst$i through A"
done
for i in 1 2 3 4 5; do
  s=$(status_at "$B" "burst$i.crt")
  [ "$s" = revoked ] || die "burst$i: B answers '$s' right after five revocations through A"
done
ok "after five revocations through A, B answers revoked for all five"
# a leaf nobody revoked is still answered good, and still from B's cache
issue_and_verify keep "issue a leaf that stays valid"
status_at "$B" keep.crt >/dev/null
h0=$(hits "$B")
[ "$(status_at "$B" keep.crt)" = good ] || die "the unrevoked leaf must stay good"
h1=$(hits "$B")
[ "$h1" -gt "$h0" ] || die "B did not answer the unrevoked leaf from its cache (hits $h0 -> $h1)"
ok "an unrevoked leaf is still answered good from B's cache"
grep -qE 'Sanitizer|runtime error' daemon-b.log && die "sanitizer report in the second daemon: $(grep -m3 -E 'Sanitizer|runtime error' daemon-b.log)"
kill "$PID_B"; wait "$PID_B" || die "the second iotcad did not stop cleanly"
stop_clean
# the signal file beside the database is what tells the others to look; a process that cannot map it would
# revoke without telling them, so it refuses to start
[ "$(stat -c %a "$WORK/iotca.db-revocations")" = 600 ] || die "the revocation signal file must be 0600"
ok "the revocation signal file beside the database is 0600"
rm "$WORK/iotca.db-revocations"
mkdir "$WORK/iotca.db-revocations"
rc=0; "$IOTCAD" --config iotcad.json > refused.log 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q 'iotca.db-revocations' refused.log ||
  die "iotcad must refuse to start without its revocation signal (exit $rc): $(cat refused.log)"
ok "without the revocation signal iotcad refuses to start: $(grep -m1 revocations refused.log)"
echo "$CHECKS checks passed"
