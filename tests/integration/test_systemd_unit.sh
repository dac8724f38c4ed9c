#!/usr/bin/env bash
# The shipped systemd unit (deploy/systemd/iotcad.service) and the daemon agree (issue 19, point 1): iotcad runs
# under exactly the system call filter the unit asks for -- its SystemCallFilter= lines expanded with systemd's own
# lists (systemd-analyze syscall-filter) and systemd's rules, applied by tests/tools/seccomp_run.c with libseccomp
# -- and serves an issuance, a revocation and a reload. Once with the unit's own action (SystemCallErrorNumber=)
# and once with systemd's default action, killing the process on any call outside the list, so a call the daemon
# would lose to EPERM is found too. `systemd-analyze verify` passes on the unit.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
UNIT="$(cd "$(dirname "$0")/../.." && pwd)/deploy/systemd/iotcad.service"
SECCOMP_RUN="$IOTCA_BIN/tests/seccomp-run"
[ -x "$SECCOMP_RUN" ] || die "seccomp-run is not built"
command -v systemd-analyze >/dev/null || die "systemd-analyze is not installed (deploy/install-deps.sh installs systemd)"

# ---- the unit's filter, expanded as systemd does (src/core/load-fragment.c, systemd.exec(5)) ----
# expand NAME: a system call, or every call of a @group and of the groups it holds
expand() {
  case $1 in
    @*) systemd-analyze syscall-filter "$1" | awk 'NR > 1 && $1 !~ /^#/ && NF { print $1 }' |
          while read -r m; do expand "$m"; done ;;
    *) echo "$1" ;;
  esac
}
declare -A allowed=()
mode="" # allow: the first assignment was a list of calls to allow (systemd then allows @default too)
while IFS= read -r value; do
  invert=0
  case $value in ~*) invert=1; value=${value#\~} ;; esac
  if [ -z "$mode" ]; then
    [ "$invert" = 0 ] || die "the unit's first SystemCallFilter= is a deny list; this test models allow lists"
    mode=allow
    for c in $(expand @default); do allowed[$c]=1; done
  fi
  for item in $value; do
    for c in $(expand "$item"); do
      if [ "$invert" = 0 ]; then allowed[$c]=1; else unset "allowed[$c]"; fi
    done
  done
done < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
[ "$mode" = allow ] || die "the unit sets no SystemCallFilter="
printf '%s\n' "${!allowed[@]}" | sort > allow.list
for c in setpriority chown fchownat setuid; do
  echo "$c: $(grep -qx "$c" allow.list && echo allowed || echo denied)"
done
errno_name=$(sed -n 's/^SystemCallErrorNumber=//p' "$UNIT" | tail -1)
case $errno_name in
  "") unit_action=() ;;
  EPERM) unit_action=(--errno 1) ;;
  EACCES) unit_action=(--errno 13) ;;
  ENOSYS) unit_action=(--errno 38) ;;
  *) die "SystemCallErrorNumber=$errno_name: this test knows EPERM, EACCES and ENOSYS" ;;
esac
ok "the unit's filter expands to $(wc -l < allow.list) system calls (action: ${errno_name:-kill})"

# ---- the filter bites: a call the unit denies (chown is in @privileged) fails or kills ----
touch owned
rc=0; "$SECCOMP_RUN" --allow allow.list -- /bin/chown "$(id -u)" owned 2>chown.err || rc=$?
[ "$rc" = 159 ] || die "chown under the filter (kill) must die of SIGSYS (exit 159), got exit $rc: $(cat chown.err)"
ok "under the filter, chown dies of SIGSYS"
rc=0; "$SECCOMP_RUN" --allow allow.list --errno 1 -- /bin/chown "$(id -u)" owned 2>chown.err || rc=$?
[ "$rc" = 1 ] && grep -q 'not permitted' chown.err || die "chown under the filter (EPERM): exit $rc, $(cat chown.err)"
ok "with EPERM as the action, chown fails with 'Operation not permitted'"

# ---- iotcad under the filter: issuance, revocation, reload ----
ceremony
write_config
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
# The unit runs iotcad as its own unprivileged user (User=iotca). Run as root, SQLite would fchown its journal
# and WAL files to the database's owner -- a call in @privileged -- so a root test run drops to nobody too.
as_user=()
if [ "$(id -u)" = 0 ]; then
  chown -R nobody:nogroup "$WORK"
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
# unit_reload [seccomp-run action...]: what `systemctl reload` does -- the unit's ExecReload= lines in order, as
# the unit's user under its filter, stopping at the first that fails (its status is the reload's)
unit_reload() {
  local line cmd
  while IFS= read -r line; do
    cmd=${line//\/usr\/local\/bin\/iotcad/$IOTCAD}
    cmd=${cmd//\/etc\/iotca\/iotcad.json/$WORK/iotcad.json}
    cmd=${cmd//\$MAINPID/$DAEMON_PID}
    # shellcheck disable=SC2086 # the unit's command line, split into words as systemd does (no quotes in it)
    "${san_env[@]}" "${as_user[@]}" "$SECCOMP_RUN" --allow "$WORK/allow.list" "$@" -- $cmd >>reload.out 2>&1 || return 1
  done < <(sed -n 's/^ExecReload=//p' "$UNIT")
}
grep -q '^ExecReload=/usr/local/bin/iotcad check-config ' "$UNIT" || die "the unit's ExecReload must run check-config first"
# Sanitizer builds: LeakSanitizer needs ptrace, which the unit's filter forbids as it would in production,
# and the suite's report directory is not the unprivileged user's; reports of the filtered processes go to
# $WORK (theirs) and fail the test at the end.
san_env=()
if asan_build; then
  san_env=(env "ASAN_OPTIONS=detect_leaks=0:log_path=$WORK/asan-filtered"
    "UBSAN_OPTIONS=print_stacktrace=1:log_path=$WORK/ubsan-filtered")
fi
serial_hex() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
first=1
run_filtered() { # run_filtered LABEL [seccomp-run action...]
  local label=$1; shift
  : > daemon.log
  # setpriv and the launcher exec iotcad: DAEMON_PID is the daemon's own pid, and a SIGSYS ends it
  "${san_env[@]}" "${as_user[@]}" "$SECCOMP_RUN" --allow "$WORK/allow.list" "$@" -- "$IOTCAD" --config iotcad.json \
    >>daemon.log 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "$BASE/healthz" >/dev/null 2>&1 && break
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      local rc=0; wait "$DAEMON_PID" || rc=$?; DAEMON_PID=""
      die "$label: iotcad died at start-up under the unit's filter (exit $rc$([ "$rc" = 159 ] && echo ', SIGSYS'))"
    fi
    sleep 0.05
  done
  curl -sf "$BASE/healthz" >/dev/null || die "$label: iotcad did not answer /healthz"
  grep -q 'system calls allowed' daemon.log || die "$label: the launcher did not apply the filter"
  ok "$label: iotcad starts under the filter"
  if [ "$first" = 1 ]; then new_issuer int1; first=0; ok "$label: an issuer made, signed and imported"; fi
  issue_and_verify "leaf-$label" "$label: issuance"
  local s
  s=$(serial_hex "leaf-$label.crt")
  http POST "/v1/certificates/$s/revoke" -H "Authorization: Bearer $PROV" -d '{"reason": "keyCompromise"}'
  expect 200 "" "$label: revocation"
  local listed=0 # at once, or by the next tick (1 s) when the last CRL is under a second old
  for _ in $(seq 1 50); do
    curl -sf -o crl.der "$BASE/crl/$ISSUER_ID.crl" || die "$label: GET the CRL"
    openssl crl -inform DER -in crl.der -noout -text | grep -qi "Serial Number: $s" && { listed=1; break; }
    sleep 0.1
  done
  [ "$listed" = 1 ] || die "$label: the revoked serial $s is not in the CRL after 5 s"
  ok "$label: the revoked certificate is in the CRL"
  local before
  before=$(grep -c '"msg":"config reload"' daemon.log || true)
  unit_reload "$@" || die "$label: the unit's reload failed: $(cat reload.out)"
  grep -q '^config ok' reload.out || die "$label: ExecReload did not run check-config: $(cat reload.out)"
  for _ in $(seq 1 100); do
    [ "$(grep -c '"msg":"config reload"' daemon.log || true)" -gt "$before" ] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || die "$label: iotcad died on SIGHUP under the filter"
    sleep 0.05
  done
  grep '"msg":"config reload"' daemon.log | tail -1 | grep -q '"outcome":"ok"' ||
    die "$label: the reload was not applied: $(grep '"msg":"config reload"' daemon.log | tail -1)"
  ok "$label: a reload (the unit's ExecReload: check-config, then SIGHUP) is applied"
  # a broken config: check-config fails, so no signal is sent and the daemon keeps the config it has
  cp iotcad.json good.json
  jq '.profiles.device.max_ttl = "ninety days"' good.json > iotcad.json
  before=$(grep -c '"msg":"config reload"' daemon.log || true)
  : > reload.out
  if unit_reload "$@"; then die "$label: a reload of a broken config must fail"; fi
  grep -q 'check-config' reload.out && grep -q 'max_ttl' reload.out ||
    die "$label: the failed reload must say why: $(cat reload.out)"
  sleep 0.3
  [ "$(grep -c '"msg":"config reload"' daemon.log || true)" = "$before" ] || die "$label: SIGHUP was sent anyway"
  curl -sf "$BASE/healthz" >/dev/null || die "$label: the daemon stopped answering"
  ok "$label: a reload of a broken config fails with check-config's message and sends no signal"
  cp good.json iotcad.json
  issue_and_verify "after-$label" "$label: issuance after the reload"
  stop_clean
  ok "$label: SIGTERM stops it cleanly"
}
run_filtered unit-action "${unit_action[@]}"
run_filtered kill-on-any-other-call

if ls "$WORK"/asan-filtered* "$WORK"/ubsan-filtered* >/dev/null 2>&1; then
  die "sanitizer reports from iotcad under the filter: $(head -30 "$WORK"/*san-filtered*)"
fi

# ---- systemd-analyze verify on the unit, its binaries pointed at this build ----
mkdir -p unit
sed -e "s|/usr/local/bin/iotcad|$IOTCAD|g" "$UNIT" > unit/iotcad.service
systemd-analyze verify --man=no unit/iotcad.service > verify.out 2>&1 || die "systemd-analyze verify: $(cat verify.out)"
[ ! -s verify.out ] || die "systemd-analyze verify printed: $(cat verify.out)"
ok "systemd-analyze verify passes on the unit"
echo "$CHECKS checks passed"
