#!/usr/bin/env bash
# bench/run, the benchmark of issue 6, end to end with tiny sizes: every section runs against the real
# peers (cfssl serve, cfssl ocspserve, openssl ca -gencrl, pebble with lego; a private PostgreSQL and nginx for the
# replicas; a SoftHSM2 token for the issuer key) with the build under test, and the report it
# writes must hold every figure the issue asks for, each with a value, and no errors. It checks the
# harness, not the speed: the figures of a one-second run on a busy test machine mean nothing.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need wrk cfssl cfssljson jq sqlite3 curl /usr/bin/time nginx psql softhsm2-util
RUN=$IOTCA_SRC/bench/run
REPORT=$IOTCA_SRC/bench/report
tiny=(BENCH_SECONDS=1 BENCH_OCSP_SECONDS=1 BENCH_ROUNDS=1 BENCH_FLEET_CSRS=12 BENCH_CRL_SIZES=1000
  BENCH_INVENTORY_ROWS=2000 BENCH_LIMIT_SECONDS=0.3 BENCH_ACME_CLIENTS=2 BENCH_ACME_ORDERS=1)

# expect_fail CODE CMD... is lib.sh's; here the environment is part of the command
section "usage errors"
run env IOTCA_BIN="$IOTCA_BIN" BENCH_ONLY="issue bogus" BENCH_RESULTS_DIR="$T/r0" bash "$RUN"
[ "$RC" = 2 ] || fail "an unknown section: exit $RC, expected 2"
grep -q "unknown section 'bogus'" "$ERR" || fail "the unknown section is not named"
[ ! -e "$T/r0" ] || fail "an unknown section still ran something: $(ls "$T/r0")"
pass "an unknown section is refused before anything runs (exit 2, named)"
run env IOTCA_BIN="$IOTCA_BIN" BENCH_ONLY=acme BENCH_ACME_CLIENTS=0 BENCH_RESULTS_DIR="$T/r0" bash "$RUN"
[ "$RC" = 2 ] && grep -q "BENCH_ACME_CLIENTS and BENCH_ACME_ORDERS must be positive" "$ERR" || fail "0 ACME clients: exit $RC"
[ ! -e "$T/r0" ] || fail "0 ACME clients still ran something: $(ls "$T/r0")"
run env IOTCA_BIN="$IOTCA_BIN" bash "$IOTCA_SRC/bench/acme_bench.sh" "$T" 2 x
[ "$RC" = 2 ] && grep -q "must be positive integers" "$ERR" || fail "bench/acme_bench.sh with ORDERS x: exit $RC"
pass "ACME clients or orders that are not positive integers are refused before anything runs (exit 2)"
run env IOTCA_BIN="$T/nowhere" BENCH_ONLY=crl BENCH_RESULTS_DIR="$T/r0" bash "$RUN"
[ "$RC" = 2 ] && grep -q "is not a directory" "$ERR" || fail "a missing IOTCA_BIN: exit $RC"
mkdir "$T/empty"
run env IOTCA_BIN="$T/empty" BENCH_ONLY=crl BENCH_RESULTS_DIR="$T/r0" bash "$RUN"
[ "$RC" = 2 ] && grep -q "holds no built iotcad" "$ERR" || fail "an IOTCA_BIN without binaries: exit $RC"
pass "IOTCA_BIN that is missing or holds no build is refused (exit 2)"
run env BENCH_RESULTS_DIR="$T/r0" bash "$REPORT" "$T/empty" "issue ocsp"
[ "$RC" != 0 ] || fail "the report of an empty collection succeeded"
[ ! -e "$T/r0" ] || fail "the report of an empty collection wrote $(ls "$T/r0")"
pass "the report of a run that collected nothing fails and writes no JSON (exit $RC)"
run env BENCH_RESULTS_DIR="$T/r0" bash "$REPORT" "$T/empty" acme
[ "$RC" != 0 ] && grep -q "no ACME figures" "$ERR" || fail "the ACME report of an empty collection: exit $RC"
[ ! -e "$T/r0" ] || fail "the ACME report of an empty collection wrote $(ls "$T/r0")"
pass "so does the ACME section's report (exit $RC, 'no ACME figures')"

section "every section, tiny sizes"
run env IOTCA_BIN="$IOTCA_BIN" BENCH_RESULTS_DIR="$T/results" "${tiny[@]}" bash "$RUN"
[ "$RC" = 0 ] || fail "bench/run failed"
files=("$T"/results/*.json)
[ ${#files[@]} = 1 ] && [ -s "${files[0]}" ] || fail "expected one JSON report, found: $(ls "$T/results")"
J=${files[0]}
jq -e '.machine.cores >= 1 and (.commit | length > 0) and (.wolfssl | length > 0) and (.rows | length > 100)' "$J" \
  >/dev/null || fail "report header or rows missing: $(head -c 400 "$J")"
pass "one JSON report with the machine, commit, wolfSSL version and $(jq '.rows | length' "$J") rows"
jq -e '.wolfssl | test("^wolfSSL [0-9.]+ [(]")' "$J" >/dev/null || fail "the report's wolfssl is not the build's: $(jq .wolfssl "$J")"
if [ -n "${IOTCA_SYSTEM_BIN:-}" ]; then # tests/run.sh builds Debian's-wolfSSL variant and passes it
  for kt in p256 p384; do
    jq -e --arg f "issue $kt limit, this build / Debian's wolfSSL; incl. post-sign verify" \
      '.rows[] | select(.figure == $f) | .iotca | test("^[0-9.]+; [0-9.]+$")' "$J" >/dev/null ||
      fail "no $kt limit ratio against Debian's wolfSSL: $(jq -c '.rows[] | select(.figure | test("Debian"))' "$J")"
  done
  pass "the limit on Debian's wolfSSL ($IOTCA_SYSTEM_BIN) beside the build's, with their ratio"
fi
# the table printed is the same rows
[ "$(grep -c . "$OUT")" = "$(( $(jq '.rows | length' "$J") + 2 ))" ] ||
  fail "the printed table ($(grep -c . "$OUT") lines) does not match the JSON rows"
pass "the printed table has a line per JSON row (plus header and 'written:')"

# value FIGURE-REGEX FIELD: the one row's value
value() { jq -r --arg f "$1" --arg k "$2" '[.rows[] | select(.figure | test($f))] |
  if length == 1 then .[0][$k] else "rows:\(length)" end' "$J"; }
num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v v="$1" 'BEGIN { exit !(v > 0) }'; }
# the figures issue 6 names, each present once with a positive number for iotca (and the peer where it has one)
for kt in p256 p384; do
  for c in 1 2 8 32; do
    for f in "req/s" "p50 ms" "p99 ms" "server CPU \\(cores\\)"; do
      v=$(value "^issue $kt c=$c $f\$" iotca) p=$(value "^issue $kt c=$c $f\$" peer)
      num "$v" && num "$p" || fail "issue $kt c=$c $f: iotca '$v', cfssl '$p'"
    done
    [ "$(value "^issue $kt c=$c errors\$" iotca)" = 0 ] && [ "$(value "^issue $kt c=$c errors\$" peer)" = 0 ] ||
      fail "issue $kt c=$c: errors"
    rec=$(value "^issue $kt c=$c recorded / answered\$" iotca)
    [[ $rec =~ ^([0-9]+)\ /\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[2]}" -gt 0 ] &&
      [ "${BASH_REMATCH[1]}" -ge "${BASH_REMATCH[2]}" ] || fail "issue $kt c=$c recorded / answered: '$rec'"
  done
  v=$(value "^issue $kt c=8, distinct CSRs, req/s\$" iotca)
  num "$v" || fail "issue $kt fleet: '$v'"
  for f in "limit \\(verify CSR \\+ sign" "limit incl. post-sign verify"; do
    v=$(value "^issue $kt $f" iotca)
    num "$v" || fail "issue $kt $f: '$v'"
  done
  v=$(value "^RSS idle MB \\($kt run\\)\$" iotca) q=$(value "^RSS 2 s after the load MB \\($kt run\\)\$" iotca)
  num "$v" && num "$q" || fail "RSS rows ($kt): '$v' '$q'"
done
pass "issuance: P-256 and P-384 issuers at 1, 2, 8 and 32 clients: req/s, p50, p99, CPU for both, no errors, all recorded"
pass "issuance: the fleet rows, the wolfSSL limit with and without the post-sign verify, RSS idle and after the load"
for f in "issue p256 target \\(1.5x cfssl" "issue p384 target \\(5x cfssl"; do
  v=$(value "^$f" iotca)
  num "$v" || fail "$f: '$v'"
  [ "$(value "^$f" target)" = "<= 1 to be reachable" ] || fail "$f: target column"
done
for st in good revoked; do # issue 23: one client at 0.95 of the loopback floor
  num "$(value "^ocsp $st c=1 / floor\$" iotca)" && [ "$(value "^ocsp $st c=1 / floor\$" target)" = ">= 0.95" ] ||
    fail "ocsp $st c=1 / floor: $(value "^ocsp $st c=1 / floor\$" iotca) $(value "^ocsp $st c=1 / floor\$" target)"
done
[ "$(value "^issue p256 c=8 req/s\$" target)" = ">= 1.5x cfssl" ] &&
  [ "$(value "^issue p256 c=8 / limit incl. post-sign verify\$" target)" = ">= 0.60" ] &&
  [ "$(value "^issue p256 c=8, distinct CSRs, req/s\$" target)" = ">= 1.2x cfssl" ] ||
  fail "issue 23's issuance targets are not the report's"
pass "issue 23's targets; each that may lie beyond the machine set against its ceiling (crypto limit, loopback floor)"
for st in good revoked; do
  for c in 1 8; do
    v=$(value "^ocsp $st c=$c req/s\$" iotca) p=$(value "^ocsp $st c=$c req/s\$" peer)
    num "$v" && num "$p" || fail "ocsp $st c=$c: iotca '$v', cfssl '$p'"
    num "$(value "^ocsp $st c=$c p99 ms\$" iotca)" || fail "ocsp $st c=$c p99"
    [ "$(value "^ocsp $st c=$c errors\$" iotca)" = 0 ] || fail "ocsp $st c=$c errors"
  done
done
pass "OCSP: good and revoked, 1 and 8 clients, against cfssl ocspserve, no errors"
v=$(value "^CRL 1000 entries: seconds" iotca) p=$(value "^CRL 1000 entries: seconds" peer)
# /usr/bin/time counts in hundredths: a 1,000-entry CRL may take "0.00" s
[[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ $p =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "CRL: '$v' vs '$p'"
num "$(value "^CRL 1000 entries: peak MB" iotca)" || fail "CRL peak MB"
pass "CRL: time and peak memory against openssl ca -gencrl"
for f in "^inventory \\(2000 rows\\): GET by serial p99 ms" "^inventory \\(2000 rows\\): filtered page of 100 p99 ms" \
  "^start-up with 2000 certificates, s" "^RSS idle with 2000 certificates, MB"; do
  num "$(value "$f" iotca)" || fail "$f: '$(value "$f" iotca)'"
done
pass "inventory: p99 by serial and of a filtered page under issuance load, start-up time, RSS"
# ACME: 2 lego clients x 1 order against iotcad and against pebble, every certificate checked by the bench
for f in "acme dns-01, 2 lego x 1 orders: issuances/s \\(peer: pebble\\)" "acme dns-01: order latency p50 s" \
  "acme dns-01: p50 s challenge answered -> valid"; do
  v=$(value "^$f" iotca) p=$(value "^$f" peer) r=$(value "^$f" ratio)
  # the ratio may round to 0.00 (a challenge iotcad validates at once against one lego polled for)
  num "$v" && num "$p" && [[ $r =~ ^[0-9]+\.[0-9]+$ ]] || fail "$f: iotcad '$v', pebble '$p', ratio '$r'"
done
# CPU in clock ticks (10 ms): two orders may take none
for w in iotca peer; do
  [[ $(value "^acme dns-01: server CPU ms an issuance" $w) =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "acme server CPU ($w)"
done
for f in "certificates verified \\(openssl\\) / orders" "certificates the server knows / orders"; do
  [ "$(value "^acme dns-01: $f" iotca)" = "2 / 2" ] && [ "$(value "^acme dns-01: $f" peer)" = "2 / 2" ] ||
    fail "acme $f: iotcad '$(value "^acme dns-01: $f" iotca)', pebble '$(value "^acme dns-01: $f" peer)'"
done
jq -e '(.lego | length > 0) and (.pebble | length > 0)' "$J" >/dev/null || fail "the report does not name lego's and pebble's versions"
pass "ACME: lego against iotcad and pebble: issuances/s, ratio, latency, challenge phase, CPU; every certificate verified and known"
# PostgreSQL (the pg section): one replica against SQLite, two behind nginx against one, at 1 and 8 clients
exact() { jq -r --arg f "$1" --arg k "$2" '[.rows[] | select(.figure == $f)] |
  if length == 1 then .[0][$k] else "rows:\(length)" end' "$J"; }
for c in 1 8; do
  f="issue p256 c=$c on PostgreSQL"
  for r in "1 replica: req/s (peer: SQLite)" "1 replica: p99 ms (peer: SQLite)" "1 replica + nginx: req/s (peer: 1 replica)" \
    "2 replicas + nginx: req/s (peer: 1 replica)" "2 replicas + nginx: p99 ms (peer: 1 replica)" \
    "1 replica: CPU ms an issuance (peer: SQLite)" "2 replicas + nginx: CPU ms an issuance (peer: 1 replica)"; do
    v=$(exact "$f, $r" iotca) p=$(exact "$f, $r" peer) q=$(exact "$f, $r" ratio)
    num "$v" && num "$p" && num "$q" || fail "$f, $r: '$v', peer '$p', ratio '$q'"
  done
  [[ $(exact "$f, 1 replica: cores iotcad / PostgreSQL (peer: SQLite)" iotca) =~ ^[0-9.]+\ /\ [0-9.]+$ ]] &&
    [[ $(exact "$f, 2 replicas + nginx: cores iotcad / PostgreSQL / nginx" iotca) =~ ^[0-9.]+\ /\ [0-9.]+\ /\ [0-9.]+$ ]] ||
    fail "$f: CPU cores: '$(exact "$f, 1 replica: cores iotcad / PostgreSQL (peer: SQLite)" iotca)'," \
      "'$(exact "$f, 2 replicas + nginx: cores iotcad / PostgreSQL / nginx" iotca)'"
  [ "$(exact "$f: errors, 1 replica / + nginx / 2 replicas (peer: SQLite)" iotca)" = "0 / 0 / 0" ] &&
    [ "$(exact "$f: errors, 1 replica / + nginx / 2 replicas (peer: SQLite)" peer)" = 0 ] || fail "$f: errors"
  for r in "$f, 1 replica" "$f, 1 replica + nginx" "$f, 2 replicas + nginx" "issue p256 c=$c on SQLite, the PostgreSQL rows' peer"; do
    rec=$(exact "$r: recorded / answered" iotca)
    [[ $rec =~ ^([0-9]+)\ /\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[2]}" -gt 0 ] &&
      [ "${BASH_REMATCH[1]}" -ge "${BASH_REMATCH[2]}" ] || fail "$r: recorded / answered: '$rec'"
  done
done
for r in "1 replica: req/s each round (peer: SQLite)" "2 replicas + nginx: req/s each round (peer: 1 replica)"; do
  [[ $(exact "issue p256 c=8 on PostgreSQL, $r" iotca) =~ ^[0-9.]+(\ /\ [0-9.]+)*$ ]] ||
    fail "c=8 $r: '$(exact "issue p256 c=8 on PostgreSQL, $r" iotca)'"
done
pass "PostgreSQL: 1 replica against SQLite, 2 replicas behind nginx against 1, at 1 and 8 clients: req/s, p99, CPU, no errors, all in the database"
# PKCS#11 (the pkcs11 section): the issuer key on a SoftHSM2 token against the same iotcad with its key in a file
for c in 1 8; do
  f="issue p256 c=$c, issuer key on a SoftHSM2 token"
  for r in "req/s" "p99 ms" "CPU ms an issuance" "iotcad CPU cores"; do
    v=$(exact "$f: $r (peer: key file)" iotca) p=$(exact "$f: $r (peer: key file)" peer) q=$(exact "$f: $r (peer: key file)" ratio)
    num "$v" && num "$p" && num "$q" || fail "$f: $r: '$v', peer '$p', ratio '$q'"
  done
  [ "$(exact "$f: errors (peer: key file)" iotca)" = 0 ] && [ "$(exact "$f: errors (peer: key file)" peer)" = 0 ] &&
    [ "$(exact "$f: errors (peer: key file)" met)" = yes ] || fail "$f: errors"
  # bench/run dies unless every answered certificate is in its database; these rows are that check's counts
  for r in "$f" "issue p256 c=$c with the key file, the token rows' peer"; do
    rec=$(exact "$r: recorded / answered" iotca)
    [[ $rec =~ ^([0-9]+)\ /\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[2]}" -gt 0 ] &&
      [ "${BASH_REMATCH[1]}" -ge "${BASH_REMATCH[2]}" ] || fail "$r: recorded / answered: '$rec'"
  done
done
v=$(exact "issue p256 c=8, issuer key on a SoftHSM2 token: req/s each round (peer: key file)" iotca)
p=$(exact "issue p256 c=8, issuer key on a SoftHSM2 token: req/s each round (peer: key file)" peer)
[[ $v =~ ^[0-9.]+(\ /\ [0-9.]+)*$ ]] && [[ $p =~ ^[0-9.]+(\ /\ [0-9.]+)*$ ]] || fail "pkcs11 c=8 rounds: '$v', peer '$p'"
jq -e '.softhsm2 | length > 0' "$J" >/dev/null || fail "the report does not name SoftHSM2's version"
pass "PKCS#11: the issuer key on a SoftHSM2 token against a key file, at 1 and 8 clients: req/s, p99, CPU, no errors, all in the database"
# 'met' is yes or NO exactly where a target is, and - elsewhere
bad=$(jq -r '.rows[] | select((.target == "-") != (.met == "-") and (.target | test("reachable") | not)) | .figure' "$J")
[ -z "$bad" ] || fail "rows whose target and met columns disagree: $bad"
pass "every row with a target says met yes or NO; no other row does"

finish
