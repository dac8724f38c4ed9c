#!/usr/bin/env bash
# deploy/wolfssl-sp.sh's refusals and its cache (issue 23, point 1), without building wolfSSL: a wrong argument;
# a version from dpkg that is no Debian version (it would reach apt-get and a path); a version Debian's archive
# does not hold (the deb-src path runs for real, in its private apt directory, and fails cleanly: nothing left in
# the cache, the machine's apt configuration and lists untouched); and a built prefix in the cache, printed as
# the only line on stdout without building again. KEEP=1 keeps the work directory (the scripts' output).
set -euo pipefail
SRC=${IOTCA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SCRIPT=$SRC/deploy/wolfssl-sp.sh
WORK=$(mktemp -d /tmp/iotca-wolfssl-sp.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); echo "ok $CHECKS - $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
# run NAME ARGS...: the script's stdout in NAME.out, stderr in NAME.err, exit status in RC
run() {
  local name=$1
  shift
  set +e
  "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"
  RC=$?
  set -e
}

run usage bash "$SCRIPT" --rebiuld
[ "$RC" -ne 0 ] || die "an unknown argument was accepted"
[ ! -s "$WORK/usage.out" ] || die "an unknown argument printed a prefix: $(cat "$WORK/usage.out")"
grep -q 'usage: deploy/wolfssl-sp.sh \[--rebuild\]' "$WORK/usage.err" || die "no usage line: $(cat "$WORK/usage.err")"
ok "an unknown argument: usage on stderr, nothing on stdout, exit $RC"

# a dpkg-query that says every package is installed and reports the version we choose
mkdir "$WORK/bin"
cat > "$WORK/bin/dpkg-query" <<'EOF'
#!/bin/sh
case "$*" in
*Status*) printf 'install ok installed' ;;
*Version*) printf '%s' "$FAKE_VERSION" ;;
esac
EOF
chmod +x "$WORK/bin/dpkg-query"

FAKE_VERSION='5.5.4-2;touch /tmp/iotca-injected' PATH="$WORK/bin:$PATH" IOTCA_WOLFSSL_CACHE="$WORK/cache-bad" \
  run badversion bash "$SCRIPT"
[ "$RC" -ne 0 ] || die "a version with shell characters was accepted"
grep -q "unexpected libwolfssl-dev version '5.5.4-2;touch /tmp/iotca-injected'" "$WORK/badversion.err" ||
  die "no clear refusal: $(cat "$WORK/badversion.err")"
{ [ ! -e "$WORK/cache-bad" ] && [ ! -e /tmp/iotca-injected ]; } || die "the refused version reached the cache or a shell"
[ ! -s "$WORK/badversion.out" ] || die "a refused version printed a prefix"
ok "a version that is no Debian version: refused before the cache or apt-get sees it"

# a well-formed version Debian's archive does not hold: apt-get update in the private directory, then
# apt-get source fails. The machine's sources and lists must be as they were.
snapshot() { { md5sum /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || :; ls -l --time-style=full-iso /var/lib/apt/lists/ 2>/dev/null || :; } | sort; }
snapshot > "$WORK/apt-before"
FAKE_VERSION='0.0.1-1' PATH="$WORK/bin:$PATH" IOTCA_WOLFSSL_CACHE="$WORK/cache-missing" run missing bash "$SCRIPT"
snapshot > "$WORK/apt-after"
[ "$RC" -ne 0 ] || die "a version the archive does not hold was built"
if grep -q "apt-get update of the deb-src entries failed" "$WORK/missing.err"; then
  die "the private apt-get update failed (no access to Debian's archive?): $(tail -5 "$WORK/missing.err")"
fi
grep -q "apt-get source wolfssl=0.0.1-1 failed (is the version still in the archive?" "$WORK/missing.err" ||
  die "no clear refusal: $(tail -5 "$WORK/missing.err")"
[ -z "$(find "$WORK/cache-missing" -mindepth 1 -maxdepth 1 ! -name .lock)" ] ||
  die "a failed fetch left something in the cache: $(ls -a "$WORK/cache-missing")"
cmp -s "$WORK/apt-before" "$WORK/apt-after" || die "the machine's apt sources or lists changed: $(diff "$WORK/apt-before" "$WORK/apt-after")"
[ ! -s "$WORK/missing.out" ] || die "a failed fetch printed a prefix"
ok "a version the archive does not hold: apt-get source fails clearly, the cache holds nothing, the machine's apt is untouched"

# a built prefix in the cache is printed as is: nothing is fetched or built
version=$(dpkg-query -W -f='${Version}' libwolfssl-dev)
prefix="$WORK/cache-hit/${version//:/_}-sp2"
mkdir -p "$prefix"
touch "$prefix/.iotca-built"
IOTCA_WOLFSSL_CACHE="$WORK/cache-hit" run hit bash "$SCRIPT"
[ "$RC" -eq 0 ] || die "a cached prefix: exit $RC: $(cat "$WORK/hit.err")"
[ "$(cat "$WORK/hit.out")" = "$prefix" ] || die "stdout is not the prefix alone: $(cat "$WORK/hit.out")"
[ ! -s "$WORK/hit.err" ] || die "a cache hit said something: $(cat "$WORK/hit.err")"
ok "a built prefix: printed alone on stdout, nothing fetched or said"
echo "PASS: $CHECKS checks"
