#!/usr/bin/env bash
# The module boundaries of STYLE.md, checked on what the compiler made: every call a module's objects make
# (their undefined symbols, from nm) must be one that module may make. The third-party libraries each
# belong to one module (SQLite to lib/store, wolfSSL to lib/issuer, Jansson to lib/json, lib/acme, server/ and
# the tools, libmicrohttpd to server/, libcurl to tools/iotca and lib/validate (with c-ares), libgfshare to iotca-root), server/ never calls the
# store or touches key material, and the tools never call the CA service or the store.
#
#   boundaries.sh BUILD_DIR        check the built objects (the `boundaries` build target runs this, so a
#                                  wrong call fails the build; the suite runs it again)
#   boundaries.sh --self-test      plant calls that break each kind of rule in a scratch tree shaped like a
#                                  build directory and require the check to name every one (ctest)
# Test programs, compat verifiers and benchmarks are not modules and are not checked.
set -euo pipefail

# target (CMake's name, as in BUILD/**/CMakeFiles/<target>.dir) -> extended regexes of the symbols it may
# not reference
declare -A FORBID
third_party_all='^(sqlite3_|wc_|wolfSSL_|wolfCrypt_|json_|MHD_|curl_|gfshare_|PQ)'
not_store='^(sqlite3_|PQ)'
not_issuer='^(wc_|wolfSSL_|wolfCrypt_)'
not_json='^json_'
not_http='^MHD_'
not_curl='^curl_'
not_shares='^gfshare_'
# key material and signing (server/ and the client may parse and hash, never hold a CA key or sign)
keys='^iotca_key_(generate|from_pkcs8|to_pkcs8|spki|sigalg|sign|sign_digest|encrypt_pem|decrypt_pem|free|matches_spki)$|^iotca_(cert|crl|ocsp_response)_sign$|^iotca_crl_stream_'
store_api='^iotca_store_'
ca_api='^iotca_ca_'
for t in iotca_core iotca_records iotca_ui; do FORBID[$t]="$third_party_all|^iotca_(key|cert|csr|crl|store|ca|policy|fleet|bundle)_"; done
FORBID[iotca_issuer]="$not_store|$not_json|$not_http|$not_curl|$not_shares|$store_api|$ca_api"
FORBID[iotca_store]="$not_issuer|$not_json|$not_http|$not_curl|$not_shares|^iotca_key_|$ca_api"
for t in iotca_policy iotca_fleet iotca_bundle; do
  FORBID[$t]="$not_store|$not_issuer|$not_json|$not_http|$not_curl|$not_shares|$store_api|$ca_api"
done
FORBID[iotca_json]="$not_store|$not_issuer|$not_http|$not_curl|$not_shares|$store_api|$ca_api"
# ACME's JWS and EAB: JSON from outside, verified through lib/issuer (iotca_verify, HMAC), never wolfSSL itself
FORBID[iotca_acme]="$not_store|$not_issuer|$not_http|$not_curl|$not_shares|$store_api|$ca_api"
FORBID[iotca_validate]="$not_store|$not_issuer|$not_json|$not_http|$not_shares|$store_api|$ca_api"
FORBID[iotca_ca]="$not_store|$not_issuer|$not_json|$not_http|$not_curl|$not_shares"
for t in iotcad_http iotcad; do FORBID[$t]="$not_store|$not_issuer|$not_curl|$not_shares|$store_api|$keys"; done
FORBID[iotca]="$not_store|$not_issuer|$not_http|$not_shares|$store_api|$ca_api"
for t in iotca_rootvault iotca-root; do FORBID[$t]="$not_store|$not_issuer|$not_http|$not_curl|$store_api|$ca_api"; done

# check DIR [all]: prints one line per forbidden reference; with "all", a target with no objects is an
# error too (a renamed target would otherwise go unchecked)
check() {
  local dir=$1 want_all=${2:-} bad=0 t objs
  for t in "${!FORBID[@]}"; do
    mapfile -t objs < <(find "$dir" -path "*/CMakeFiles/$t.dir/*" -name '*.o' 2>/dev/null | sort)
    if [ ${#objs[@]} -eq 0 ]; then
      [ "$want_all" = all ] && { echo "no objects of module $t under $dir: is the target renamed?"; bad=1; }
      continue
    fi
    local o sym
    for o in "${objs[@]}"; do
      while read -r sym _; do
        [[ $sym =~ ${FORBID[$t]} ]] || continue
        echo "$t: ${o#"$dir"/} calls $sym, which module $t may not call (STYLE.md's module table)"
        bad=1
      done < <(nm -u -P "$o")
    done
  done
  return $bad
}

if [ "${1:-}" = --self-test ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  plant() { # plant TARGET CODE: one object of TARGET calling what CODE calls
    mkdir -p "$scratch/x/CMakeFiles/$1.dir"
    printf '%s\n' "$2" >"$scratch/p.c"
    cc -c -o "$scratch/x/CMakeFiles/$1.dir/planted.c.o" "$scratch/p.c"
  }
  plant iotcad_http 'int sqlite3_open(const char *, void **); int iotca_store_open(void); int iotca_key_sign(void);
    int wc_ecc_sign_hash(void); int f(void) { return sqlite3_open(0, 0) + iotca_store_open() + iotca_key_sign() + wc_ecc_sign_hash(); }'
  plant iotca_ca 'int json_object(void); int MHD_run(void); int f(void) { return json_object() + MHD_run(); }'
  plant iotca 'int iotca_ca_issue(void); int f(void) { return iotca_ca_issue(); }'
  plant iotca_store 'int wolfSSL_Init(void); int f(void) { return wolfSSL_Init(); }'
  plant iotca_fleet 'int iotca_cert_parse(void); int f(void) { return iotca_cert_parse(); }' # allowed
  out=$(check "$scratch/x" || true)
  status=0
  for want in 'iotcad_http: .* sqlite3_open' 'iotcad_http: .* iotca_store_open' 'iotcad_http: .* iotca_key_sign' \
    'iotcad_http: .* wc_ecc_sign_hash' 'iotca_ca: .* json_object' 'iotca_ca: .* MHD_run' 'iotca: .* iotca_ca_issue' \
    'iotca_store: .* wolfSSL_Init'; do
    grep -qE "$want" <<<"$out" || { echo "FAIL: the check missed a planted call ($want)"; status=1; }
  done
  grep -q iotca_cert_parse <<<"$out" && { echo "FAIL: the check refused an allowed call (iotca_fleet -> iotca_cert_parse)"; status=1; }
  [ $status -eq 0 ] && echo "ok: every planted call was named ($(wc -l <<<"$out") findings) and the allowed one was not"
  exit $status
fi

[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 BUILD_DIR | --self-test" >&2; exit 2; }
if out=$(check "$1" all); then
  echo "module boundaries hold: ${#FORBID[@]} modules checked"
else
  echo "$out" >&2
  echo "module boundaries broken: see STYLE.md; call the owning module's API instead" >&2
  exit 1
fi
