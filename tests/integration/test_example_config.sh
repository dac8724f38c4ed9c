#!/usr/bin/env bash
# deploy/config/iotcad.example.json documents every key iotcad's config parser accepts: each key listed in
# server/config.c's allowed-key arrays has a "// key" comment in the object it belongs to (a profile key in
# at least one profile), and `iotcad check-config` accepts the example once its paths point at a temp dir.
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$SRC/tests/integration/daemon_lib.sh"
EXAMPLE=${EXAMPLE_CONFIG:-$SRC/deploy/config/iotcad.example.json}

# server/config.c: static const char *const NAME[] = {"a", "b", ..., NULL}; -> "NAME a b ..."
perl -0ne 'while (/static const char \*const (\w+)\[\] = \{(.*?)\};/sg) {
  my ($n, $b) = ($1, $2); my @k = $b =~ /"([^"]+)"/g; print "$n @k\n" }' "$SRC/server/config.c" > lists.txt
[ "$(wc -l < lists.txt)" -ge 7 ] || die "found only $(wc -l < lists.txt) key lists in server/config.c: $(cat lists.txt)"
total=0 missing=""
while read -r list keys; do
  case $list in # the JSON object each list governs, as a jq path to the objects that must document it
    top) objs='.' ;;
    listen_keys) objs='.listen' ;;
    tls_keys) objs='.listen.tls' ;;
    limit_keys) objs='.limits' ;;
    rate_keys) objs='.rate_limit' ;;
    log_keys) objs='.log' ;;
    keys) objs='.profiles[]' ;;
    acme_keys) objs='.acme' ;;
    acme_profile_keys) objs='.acme.profiles[]' ;;
    validation_keys) objs='.acme.validation' ;;
    est_keys) objs='.est' ;;
    est_profile_keys) objs='.est.profiles[]' ;;
    rehearsal_keys) objs='.rehearsal' ;;
    *) die "server/config.c has a key list '$list' this test does not know: map it to its JSON object" ;;
  esac
  for k in $keys; do
    total=$((total + 1))
    jq -e --arg c "// $k" "[$objs | objects | has(\$c)] | any" "$EXAMPLE" >/dev/null ||
      missing="$missing $([ "$objs" = . ] || echo "${objs#.}.")$k"
  done
done < lists.txt
[ -z "$missing" ] || die "deploy/config/iotcad.example.json does not document (no \"// key\" comment where it belongs):$missing"
[ "$total" -ge 40 ] || die "only $total keys extracted from server/config.c: the extraction is broken"
ok "every one of the $total keys server/config.c accepts has its \"// key\" comment in the example config"

# the example's comment keys name real keys (a typo in a comment key would document nothing)
jq -r 'paths(objects) as $p | getpath($p) | keys[] | select(startswith("// ")) | ltrimstr("// ")' "$EXAMPLE" |
  sort -u > documented.txt
cut -d' ' -f2- lists.txt | tr ' ' '\n' | sort -u > accepted.txt
extra=$(comm -23 documented.txt accepted.txt | grep -vx 'iotcad-tls' || true)
[ -z "$extra" ] || die "the example documents keys server/config.c does not accept: $extra"
ok "every \"// key\" comment in the example names a key iotcad accepts"

# check-config accepts the example with its paths in a temp dir
ceremony
printf 'issuer keys at rest passphrase\n' > keypass && chmod 600 keypass
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -days 30 -out tls.pem 2>/dev/null
chmod 600 tls.key
jq --arg w "$WORK" '.database = "\($w)/ex.db" | .key_dir = "\($w)/exkeys" | .key_passphrase_file = "\($w)/keypass"
   | .roots = ["\($w)/r1/root.pem", "\($w)/r2/root.pem"] | .listen.tls.cert = "\($w)/tls.pem"
   | .listen.tls.key = "\($w)/tls.key"' "$EXAMPLE" > example.json
"$IOTCAD" init --config example.json > init.out 2>&1 || die "iotcad init refuses the example: $(cat init.out)"
"$IOTCAD" check-config --config example.json > check.out 2>&1 || die "check-config refuses the example: $(cat check.out)"
ok "iotcad init and check-config accept the example config (paths pointed at $WORK)"

# and the check above can fail: a misspelt key in the example is refused by check-config
jq '.profiles.device.cn_in_sans = true' example.json > typo.json
rc=0; "$IOTCAD" check-config --config typo.json > typo.out 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "unknown key 'cn_in_sans'" typo.out || die "check-config accepted an unknown key: $rc $(cat typo.out)"
ok "check-config refuses a misspelt profile key (exit $rc, names it)"
echo "PASS test_example_config: $CHECKS checks"
