#!/usr/bin/env bash
# wolfSSL with its curve-specialised SP code (SPEC §14), built from Debian's own source package of the installed
# libwolfssl-dev version: Debian's patches applied (its security fixes included), the configure flags of its
# debian/rules and its hardening build flags, plus --enable-sp --enable-sp-asm (and --disable-fpecc, below).
# Installed into a prefix cached per Debian version, so it is built once; prints the prefix (only) on stdout.
#
#   deploy/wolfssl-sp.sh            the prefix, building it first if needed
#   deploy/wolfssl-sp.sh --rebuild  build again (after Debian's package was updated: iotcad warns of that)
#
# The deb-src entries are the machine's own deb entries (deb822 and one-line lists) turned into deb-src, in a
# private apt directory under the cache: the machine's apt configuration and lists are not touched.
# IOTCA_WOLFSSL_CACHE moves the cache (default ~/.cache/iotca/wolfssl).
set -euo pipefail
log() { echo "wolfssl-sp: $*" >&2; }
die() { log "$*"; exit 1; }

rebuild=0
case "${1:-}" in
"") ;;
--rebuild) rebuild=1 ;;
*) die "usage: deploy/wolfssl-sp.sh [--rebuild]" ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
for p in libwolfssl-dev dpkg-dev autoconf automake libtool make gcc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2 ||
    { $SUDO apt-get update -qq >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2; }
fi

version=$(dpkg-query -W -f='${Version}' libwolfssl-dev)
[[ $version =~ ^[0-9A-Za-z.+~:-]+$ ]] || die "unexpected libwolfssl-dev version '$version'"
cache=${IOTCA_WOLFSSL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/iotca/wolfssl}
prefix=$cache/${version//:/_}-sp2 # -sp2: the flags changed (--disable-fpecc); an older prefix is not reused
if [ "$rebuild" = 0 ] && [ -f "$prefix/.iotca-built" ]; then
  echo "$prefix"
  exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/.lock" # two builds at once (parallel test runs) wait for each other
flock 9
if [ "$rebuild" = 0 ] && [ -f "$prefix/.iotca-built" ]; then echo "$prefix"; exit 0; fi

work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt_dir=$work/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
: > "$apt_dir/sources.list"
for f in /etc/apt/sources.list.d/*.sources; do # deb822 stanzas: their Types line says deb-src instead
  [ -f "$f" ] || continue
  awk 'BEGIN { RS = ""; ORS = "\n\n" } /(^|\n)Types:[^\n]*deb([ \t\n]|$)/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' \
    "$f" > "$apt_dir/sources.list.d/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do # one-line entries
  [ -f "$f" ] || continue
  sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >> "$apt_dir/sources.list"
done
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "APT::Sandbox::User=root" -qq)
log "fetching Debian's source of wolfssl $version"
apt-get "${apt_opts[@]}" update >&2 || die "apt-get update of the deb-src entries failed"
(cd "$work" && apt-get "${apt_opts[@]}" source "wolfssl=$version" >&2) ||
  die "apt-get source wolfssl=$version failed (is the version still in the archive? see deploy/wolfssl-sp.sh)"
src=$(find "$work" -maxdepth 1 -type d -name 'wolfssl-*' | head -n 1)
[ -n "$src" ] && [ -f "$src/debian/rules" ] || die "no unpacked source with debian/rules"

# Debian's own configure flags: the arguments of dh_auto_configure in debian/rules
mapfile -t debian_flags < <(awk '/dh_auto_configure[ \t]+--/ { on = 1 }
  on { for (i = 1; i <= NF; i++) if ($i ~ /^--/ && $i != "--") print $i; if ($0 !~ /\\[ \t]*$/) on = 0 }' \
  "$src/debian/rules")
printf '%s\n' "${debian_flags[@]}" | grep -qx -- '--enable-distro' ||
  die "debian/rules no longer configures --enable-distro: read it and adapt deploy/wolfssl-sp.sh"
log "configuring with Debian's ${debian_flags[*]} plus --enable-sp --enable-sp-asm"
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
# (each step checked: `set -e` does not reach into a subshell on the left of ||)
cd "$src"
autoreconf -fi > "$work/autoreconf.log" 2>&1 || { tail -20 "$work/autoreconf.log" >&2; die "autoreconf failed"; }
# --disable-fpecc: Debian's --enable-distro turns on the fixed-point ECC cache, which with SP is a thread-local
# table of about 1.4 MB that glibc zeroes in every thread iotcad starts (29 by default: 43 MB of idle RSS, against
# 4 MB without). SP's own code is as fast without it where CSRs differ (bench/README.md, issue 23).
./configure --prefix="$prefix" "${debian_flags[@]}" --enable-sp --enable-sp-asm --disable-fpecc --with-pic \
  > "$work/configure.log" 2>&1 ||
  { tail -20 "$work/configure.log" >&2; die "configure failed"; }
make -j"$(nproc)" > "$work/make.log" 2>&1 || { grep -m20 -E 'error|Error' "$work/make.log" >&2; die "make failed"; }
rm -rf "$prefix"
make install > "$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; die "make install failed"; }
# a distro build does not install options.h; Debian's packaging does (debian/libwolfssl-dev.install)
install -m 644 wolfssl/options.h "$prefix/include/wolfssl/options.h"
[ ! -f cyassl/options.h ] || install -m 644 cyassl/options.h "$prefix/include/cyassl/options.h"
cd - >/dev/null
grep -q 'define WOLFSSL_HAVE_SP_ECC' "$prefix/include/wolfssl/options.h" ||
  die "the built wolfSSL has no SP ECC (WOLFSSL_HAVE_SP_ECC)"
! grep -q 'define FP_ECC' "$prefix/include/wolfssl/options.h" || die "the built wolfSSL still has FP_ECC"
[ -f "$prefix/lib/libwolfssl.a" ] || die "the build made no static library"
# what the build came from: iotcad compares it with the installed package and warns when Debian's is newer
printf '%s\n' "$version" > "$prefix/debian-version"
touch "$prefix/.iotca-built"
log "built wolfSSL $version with SP into $prefix"
echo "$prefix"
