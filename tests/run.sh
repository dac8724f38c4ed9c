#!/usr/bin/env bash
# The README's test command: install dependencies, build, run every unit and integration test; check that
# the Release and MinSizeRel builds compile; the unit tests and four integration tests on Debian's own wolfSSL
# (the default links deploy/wolfssl-sp.sh's SP build); then the same tests built with AddressSanitizer +
# UndefinedBehaviorSanitizer (daemon reports collected and failing the run), the unit tests under Valgrind,
# and a short smoke run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD_DIR=${BUILD_DIR:-build-test}
# Tests work in their own temporary directories; a file one leaves in the source tree (outside the ignored build
# directories) fails the run, so a scratch file cannot slip into a commit. Outside a git checkout (a tarball)
# there is nothing to compare and the check passes.
tree_state() { git -C "$SRC" status --porcelain --untracked-files=all 2>/dev/null | sort || true; }
tree_before=$(tree_state)
tree_unchanged() {
  local now
  now=$(tree_state)
  [ "$now" = "$tree_before" ] && return 0
  echo "the source tree changed during the tests ($1): a test writing outside its temporary directory?" >&2
  diff <(echo "$tree_before") <(echo "$now") | sed -n 's/^> //p' | head -20 >&2
  exit 1
}
# took WHAT: how long the phase that just ended took (the suite's budget is about 20 minutes on 2 cores; these
# lines say where it goes)
phase_start=$SECONDS
took() { echo "== took $((SECONDS - phase_start)) s: $1"; phase_start=$SECONDS; }
BUILD_DIR=$BUILD_DIR BUILD_TYPE=Debug bash deploy/build.sh
log=$(mktemp)
# Debian's own wolfSSL stays supported (the default links deploy/wolfssl-sp.sh's SP build): built here, its unit
# tests run below, and bench/run's smoke test (test_bench_run) measures its limit beside the SP build's
SYS_DIR=${BUILD_DIR}-system
BUILD_DIR=$SYS_DIR BUILD_TYPE=Debug CMAKE_ARGS=-DIOTCA_SYSTEM_WOLFSSL=ON bash deploy/build.sh > "$log" 2>&1 ||
  { grep -m20 -E 'error|warning' "$log" >&2; echo "the system-wolfSSL build does not compile" >&2; exit 1; }
export IOTCA_SYSTEM_BIN=$SRC/$SYS_DIR
took "the Debug and system-wolfSSL builds"
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$(nproc)") | tee "$log"
passed=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
[ -n "$passed" ] || { echo "could not read the ctest result" >&2; exit 1; }

tree_unchanged "ctest"
took "ctest"

if [ "${IOTCA_QUICK:-}" = 1 ]; then echo "summary: $passed passed, 0 failed"; exit 0; fi

echo "== the optimised build types compile (-Werror): packagers build Release, and -O3's inlining finds warnings -O2's does not"
for bt in Release MinSizeRel; do
  BUILD_DIR=${BUILD_DIR}-$bt BUILD_TYPE=$bt bash deploy/build.sh > "$log" 2>&1 ||
    { grep -m20 -E 'error|warning' "$log" >&2; echo "build type $bt does not compile" >&2; exit 1; }
  echo "compiles: $bt"
  bt_ok=$((${bt_ok:-0} + 1))
done
took "the Release and MinSizeRel builds"

echo "== Debian's own wolfSSL (-DIOTCA_SYSTEM_WOLFSSL=ON) stays supported: the unit tests, the ceremony, the daemon"
(cd "$SYS_DIR" && ctest --output-on-failure -j"$(nproc)" -L unit) | tee "$log"
sys_passed=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
[ -n "$sys_passed" ] || { echo "the unit tests fail on the system wolfSSL" >&2; exit 1; }
(cd "$SYS_DIR" && ctest --output-on-failure -j"$(nproc)" -R 'integration_test_(crypto_build|daemon_api|daemon_memory|root_ceremony)$') |
  tee "$log"
sys_int=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
[ "$sys_int" = 4 ] || { echo "the daemon fails on the system wolfSSL" >&2; exit 1; }
took "the tests on Debian's own wolfSSL"

# (test_acme_harness runs no iotca program: only certbot, lego, Knot, nginx and pebble; once is enough;
# test_pg_replicas and test_pg_pool are load tests like test_daemon_load: ASan sees the PostgreSQL store's paths in
# test_pg_copy, test_pg_read_replica and the store's unit tests on PostgreSQL, and the pool in unit_store_pool_pg;
# test_stack_agreement holds the fleet models against real libraries: the models' memory is checked by
# unit_fleet and unit_fleet_path under both ASan and valgrind)
echo "== sanitizers (ASan + UBSan): unit and integration tests"
ASAN_DIR="$SRC/${BUILD_DIR}-asan"
BUILD_DIR=${BUILD_DIR}-asan BUILD_TYPE=Debug CMAKE_ARGS=-DIOTCA_SANITIZE=ON bash deploy/build.sh
reports=$(mktemp -d)
(cd "$ASAN_DIR" && ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan" UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan" \
  ctest --output-on-failure -j"$(nproc)" -E 'daemon_load|bench_run|acme_harness|pg_replicas|pg_pool|stack_agreement') | tee "$log"
asan_passed=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
if ls "$reports"/* >/dev/null 2>&1; then
  echo "sanitizer reports from processes the tests started:" >&2
  head -40 "$reports"/* >&2
  exit 1
fi
echo "no sanitizer reports"
took "the sanitizer build and its tests"

echo "== valgrind: unit tests"
# one valgrind a core (each is single-threaded CPU work): xargs stops with status 123 when any of them failed
vg_one() {
  local wrap=() # the token test needs its SoftHSM2 tokens
  [ "$(basename "$1")" = test_token ] && wrap=(bash "$SRC/tests/unit/with_softhsm.sh")
  CK_FORK=no "${wrap[@]}" valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite "$1" >/dev/null ||
    { echo "valgrind: $(basename "$1") has memory errors" >&2; return 1; }
  echo "valgrind clean: $(basename "$1")"
}
export -f vg_one
export SRC
vg_list=$(find "$SRC/$BUILD_DIR/tests" -maxdepth 1 -name 'test_*' -type f -executable | sort)
[ -n "$vg_list" ] || { echo "valgrind: no unit test binaries found" >&2; exit 1; }
echo "$vg_list" | xargs -P "$(nproc)" -I{} bash -c 'vg_one "$1"' _ {} | tee "$log" ||
  { echo "valgrind: a unit test has memory errors (above)" >&2; exit 1; }
vg=$(grep -c '^valgrind clean: ' "$log")
[ "$vg" = "$(echo "$vg_list" | wc -l)" ] || { echo "valgrind: $vg of $(echo "$vg_list" | wc -l) clean" >&2; exit 1; }
took "valgrind"
echo "== fuzz smoke: every libFuzzer target for ${IOTCA_FUZZ_SECONDS:-5}s"
bash tests/fuzz/run "${IOTCA_FUZZ_SECONDS:-5}" | tee "$log"
fz=$(sed -n 's/^fuzz: \([0-9]*\) passed, 0 failed$/\1/p' "$log")
tree_unchanged "sanitizers, valgrind, fuzz"
took "the fuzz build and smoke"
echo "summary: $((passed + bt_ok + sys_passed + sys_int + asan_passed + vg + fz)) passed, 0 failed"
