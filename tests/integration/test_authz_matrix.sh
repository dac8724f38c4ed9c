#!/usr/bin/env bash
# Authorization matrix (issue 7 item 4): every endpoint x every role — no token, a wrong token, a provisioner
# scoped to another profile, a provisioner, an admin — with the exact status each must get.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"

ca_with_issuer int1
WRONG="iotca_0123456789abcdef_$(printf 'f%.0s' $(seq 64))"
for n in p a o; do make_csr "c$n" "c$n.updates.example.com" "DNS:c$n.updates.example.com"; done
# certificates for the per-role revoke and get cells
serials=()
for n in p a o; do issue "c$n" firmware-endpoint "$PROV"; [ "$STATUS" = 201 ] || die "setup issue"; serials+=("$(echo "$OUT" | jq -r .serial)"); done
jq -n --rawfile csr cp.csr '{csr: $csr, profile: "firmware-endpoint"}' > issue.json
jq -n --rawfile s roots.pem '{trust_store: $s}' > lint.json
jq -n --rawfile s roots.pem --arg u "$(date -u -d '+400 days' +%Y-%m-%d)" '{trust_store: $s, until: $u}' > check.json
openssl ocsp -issuer int1.pem -cert cp.crt -reqout ocsp.der -no_nonce >/dev/null 2>&1

ROLES=(none wrong other prov admin)
auth() {
  case $1 in
    none) ;;
    wrong) printf '%s\n' -H "Authorization: Bearer $WRONG" ;;
    other) printf '%s\n' -H "Authorization: Bearer $PROV_DEV" ;;
    prov) printf '%s\n' -H "Authorization: Bearer $PROV" ;;
    admin) printf '%s\n' -H "Authorization: Bearer $ADMIN" ;;
  esac
}
# cell METHOD PATH EXPECTED(none wrong other prov admin) [curl args...]
cell() {
  local m=$1 p=$2; shift 2
  local -a want; read -r -a want <<< "$1"; shift
  for i in "${!ROLES[@]}"; do
    local r=${ROLES[$i]} path=${p//@ROLE@/$i}
    mapfile -t a < <(auth "$r")
    local st
    st=$(curl -s -o /dev/null -w '%{http_code}' -X "$m" "${a[@]}" "$@" "$BASE$path") || st=000
    [ "$st" = "${want[$i]}" ] || die "$m $path as $r: expected ${want[$i]}, got $st"
  done
  ok "$m $p: ${want[*]}"
}
S0=${serials[0]} S1=${serials[1]}
#                                   none wrong other prov admin
cell GET /healthz                   "200 200 200 200 200"
cell GET /readyz                    "200 200 200 200 200"
cell GET /metrics                   "200 200 200 200 200"
cell GET /v1/ca/roots               "200 200 200 200 200"
cell GET /v1/ca/chain               "200 200 200 200 200"
cell GET "/v1/ca/bundle?format=c"   "200 200 200 200 200"
cell POST /ocsp                     "200 200 200 200 200" -H 'Content-Type: application/ocsp-request' --data-binary @ocsp.der
cell GET /crl/1.crl                 "200 200 200 200 200"
cell PUT /v1/ca/root-crl            "401 401 403 403 400" --data-binary 'garbage'
cell GET /v1/issuers                "401 401 403 403 200"
cell POST /v1/issuers               "401 401 403 403 201" -d '{}'
cell PUT /v1/issuers/1/certificate  "401 401 403 403 400" --data-binary 'garbage'
cell POST /v1/certificates          "401 401 403 201 201" -d @issue.json
cell GET "/v1/certificates/$S0"     "401 401 404 200 200"
cell GET "/v1/certificates?profile=firmware-endpoint" "401 401 403 200 200"
cell GET "/v1/certificates?profile=device"            "401 401 200 200 200"
cell POST /v1/lint                  "401 401 200 200 200" -d @lint.json
cell POST /v1/fleet/check           "401 401 200 200 200" -d @check.json
cell GET /v1/trust-profiles         "401 401 403 403 200"
cell POST /v1/trust-profiles        "401 401 403 403 400" -d '{"name": "x"}'
# renewal: as issuance, a token scoped to another profile is refused (403); each allowed role renews
cell POST "/v1/certificates/${serials[2]}/renew" "401 401 403 201 201"
# revocation: a scoped token cannot see another profile's certificate; each allowed role revokes its own
cell POST "/v1/certificates/$S0/revoke" "401 401 404 200 409" -d '{"reason": "superseded"}'
http POST "/v1/certificates/$S1/revoke" -H "Authorization: Bearer $ADMIN" -d '{}'; expect 200 "" "admin revokes"
echo "$CHECKS passed, 0 failed"
