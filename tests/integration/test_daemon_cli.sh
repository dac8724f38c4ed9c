#!/usr/bin/env bash
# The iotca CLI (SPEC §8) against the real iotcad: issuers new / sign offline / import / list, cert issue with a
# key made here (never sent) and with an openssl CSR, show, list (--expiring, --all paging), revoke, the refusals
# (exit 3, "iotca: <error>: <detail>"), and roots with SPKI pins checked by openssl. Server and token come from the
# environment (IOTCA_URL, IOTCA_TOKEN) and from --url/--token flags.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
unset IOTCA_URL IOTCA_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# cli ARGS...: runs iotca; exit code in RC, stdout in cli.out, stderr in cli.err (never aborts the script).
cli() {
  RC=0
  "$IOTCA_CLI" "$@" </dev/null >cli.out 2>cli.err || RC=$?
}
# want CODE DESC: the last cli call exited with CODE.
want() {
  [ "$RC" = "$1" ] || die "$2: expected exit $1, got $RC: $(cat cli.err) $(head -c 400 cli.out)"
}
# refused ERRORCODE DESC: the last cli call was refused by the server: exit 3, "iotca: ERRORCODE: <detail>".
refused() {
  want 3 "$2"
  grep -Eq "^iotca: $1: .+" cli.err || die "$2: stderr is not 'iotca: $1: <detail>': $(cat cli.err)"
}
# pem_body FILE: the base64 lines of a PEM file (no BEGIN/END lines).
pem_body() { grep -v -- '-----' "$1"; }
# spki_pin FILE: SHA-256 of the DER SubjectPublicKeyInfo of a certificate, as openssl computes it.
spki_pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
# lower-case hex serial of a certificate file (its first certificate)
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }

ceremony
write_config ""
"$IOTCAD" init --config iotcad.json >/dev/null || die "iotcad init"
tokens
start_daemon
ok "daemon up on $BASE with two roots"

# --- issuers: new (admin), sign offline, import, list -----------------------------------------------------------
export IOTCA_URL="$BASE"
IOTCA_TOKEN=$ADMIN cli issuers new --csr-out int1.csr
want 0 "issuers new"
grep -q "created issuer" cli.out || die "issuers new does not say what it created: $(cat cli.out)"
openssl req -in int1.csr -noout -verify 2>&1 | grep >/dev/null "verify OK" || die "issuers new CSR does not verify"
ok "iotca issuers new (IOTCA_TOKEN admin) writes a CSR that openssl req -verify accepts"
IOTCA_TOKEN=$ADMIN cli --json issuers list
want 0 "issuers list --json"
ISSUER_ID=$(jq -er '.issuers[] | select(.state == "pending") | .id' cli.out) || die "no pending issuer: $(cat cli.out)"
ok "iotca --json issuers list parses with jq and shows the pending issuer $ISSUER_ID"

"$ROOT_TOOL" sign-intermediate --vault r1 --csr int1.csr --out int1.pem --yes --passphrase-file rootpass >/dev/null
# import through --url/--token flags, with the environment pointing nowhere: the flags win
IOTCA_URL=http://127.0.0.1:1 IOTCA_TOKEN=bogus cli --url "$BASE" --token "$ADMIN" issuers import "$ISSUER_ID" int1.pem
want 0 "issuers import"
grep -q "state active" cli.out || die "import did not make the issuer active: $(cat cli.out)"
ok "iotca --url --token issuers import ID FILE (flags win over the environment): state active"
IOTCA_TOKEN=$ADMIN cli issuers list
want 0 "issuers list"
grep -Eq "^${ISSUER_ID}[[:space:]].*[[:space:]]active[[:space:]]" cli.out || die "issuers list does not show $ISSUER_ID active: $(cat cli.out)"
IOTCA_TOKEN=$ADMIN cli --json issuers list
jq -e --argjson id "$ISSUER_ID" '.issuers[] | select(.id == $id) | .state == "active"' cli.out >/dev/null ||
  die "issuers list --json: $ISSUER_ID not active: $(cat cli.out)"
ok "iotca issuers list shows issuer $ISSUER_ID active (table and --json)"
IOTCA_TOKEN=$PROV cli issuers list
refused forbidden "provisioner lists issuers"
ok "a provisioner token is refused the issuer list (exit 3, iotca: forbidden: ...)"

# --- cert issue with a key made here: leaf alone + --chain-out ---------------------------------------------------
export IOTCA_TOKEN="$PROV"
cli cert issue --profile firmware-endpoint --key-out k.pem --cn fw.updates.example.com --dns fw.updates.example.com \
  --out c.pem --chain-out chain.pem
want 0 "cert issue --key-out --out --chain-out"
grep -q "never sent" cli.out || die "issue summary: $(cat cli.out)"
[ "$(stat -c %a k.pem)" = 600 ] || die "k.pem mode $(stat -c %a k.pem), want 600"
openssl pkey -in k.pem -noout || die "openssl pkey cannot read k.pem"
head -1 k.pem | grep >/dev/null "BEGIN PRIVATE KEY" || die "k.pem is not PKCS#8"
ok "--key-out k.pem: mode 0600, PKCS#8 that openssl pkey opens"
[ "$(grep -c 'BEGIN CERTIFICATE' c.pem)" = 1 ] || die "--out with --chain-out must hold the leaf alone"
[ "$(grep -c 'BEGIN CERTIFICATE' chain.pem)" = 1 ] || die "--chain-out must hold the one intermediate"
openssl verify -CAfile roots.pem -untrusted chain.pem c.pem >/dev/null || die "openssl verify leaf + chain-out"
[ "$(openssl x509 -in chain.pem -noout -fingerprint -sha256)" = "$(openssl x509 -in int1.pem -noout -fingerprint -sha256)" ] ||
  die "the chain is not the imported issuer"
if openssl verify -CAfile roots.pem c.pem >/dev/null 2>&1; then die "the leaf verified without its intermediate"; fi
ok "leaf (--out) + intermediate (--chain-out): openssl verify -CAfile roots.pem -untrusted chain.pem c.pem"
cmp -s <(openssl x509 -in c.pem -pubkey -noout) <(openssl pkey -in k.pem -pubout) || die "cert key != k.pem key"
openssl x509 -in c.pem -noout -ext subjectAltName | grep >/dev/null "DNS:fw.updates.example.com" || die "SAN missing"
ok "the certificate carries k.pem's public key and the requested DNS name"
SERIAL1=$(serial_of c.pem)

# the private key never reaches the daemon: not in its log, not in its database
pem_body k.pem > keybody.txt
[ -s keybody.txt ] || die "no key body"
if grep -qFf keybody.txt daemon.log; then die "private key material in daemon.log"; fi
sqlite3 iotca.db .dump > db.dump
grep -q "$SERIAL1" db.dump || die "database dump does not hold the certificate (dump broken?)"
if grep -qFf keybody.txt db.dump; then die "private key material in the database"; fi
for f in iotca.db iotca.db-wal; do
  [ -f "$f" ] || continue
  if grep -qaFf keybody.txt "$f"; then die "private key material in the raw $f file"; fi
done
ok "no line of k.pem's base64 body appears in daemon.log, sqlite3 .dump or the raw database files"

# --- cert issue, full-chain --out form, flags instead of the environment ----------------------------------------
env -u IOTCA_URL -u IOTCA_TOKEN "$IOTCA_CLI" --url "$BASE" --token "$PROV" cert issue --profile firmware-endpoint \
  --key-out k2.pem --cn fw2.updates.example.com --dns fw2.updates.example.com --out full.pem >cli.out 2>cli.err ||
  die "cert issue with --url/--token and no environment: $(cat cli.err)"
[ "$(grep -c 'BEGIN CERTIFICATE' full.pem)" = 2 ] || die "full chain --out must be leaf + 1 intermediate"
awk '/BEGIN CERT/{n++} n==1' full.pem > full_leaf.pem
awk '/BEGIN CERT/{n++} n>=2' full.pem > full_rest.pem
cmp -s <(openssl x509 -in full_leaf.pem -pubkey -noout) <(openssl pkey -in k2.pem -pubout) || die "leaf is not first"
openssl verify -CAfile roots.pem -untrusted full.pem full.pem >/dev/null || die "verify the full-chain file"
openssl verify -CAfile roots.pem -untrusted full_rest.pem full_leaf.pem >/dev/null || die "verify split full chain"
for f in r1/root.pem r2/root.pem; do
  if grep -qF "$(pem_body "$f" | head -2 | tail -1)" full.pem; then die "the full chain carries a root ($f)"; fi
done
[ "$(stat -c %a k2.pem)" = 600 ] || die "k2.pem mode"
ok "--out without --chain-out: leaf first then the intermediate, no root; openssl verify accepts it (--url/--token)"
SERIAL2=$(serial_of full.pem)

# --- cert issue --csr with an openssl-made CSR (PEM, then DER) --------------------------------------------------
make_csr ext fw3.updates.example.com "DNS:fw3.updates.example.com"
cli cert issue --profile firmware-endpoint --csr ext.csr --out ext.pem --chain-out ext.chain
want 0 "cert issue --csr"
openssl verify -CAfile roots.pem -untrusted ext.chain ext.pem >/dev/null || die "verify --csr leaf"
cmp -s <(openssl x509 -in ext.pem -pubkey -noout) <(openssl pkey -in ext.key -pubout) || die "--csr cert key"
ok "cert issue --csr FILE (openssl req PEM) issues for that CSR's key, and openssl verify accepts it"
SERIAL3=$(serial_of ext.pem)
make_csr extd fw4.updates.example.com "DNS:fw4.updates.example.com"
openssl req -in extd.csr -outform DER -out extd.der
cli cert issue --profile firmware-endpoint --csr extd.der --out extd.pem
want 0 "cert issue --csr DER"
openssl verify -CAfile roots.pem -untrusted extd.pem extd.pem >/dev/null || die "verify DER-CSR leaf"
ok "cert issue --csr FILE also takes a DER CSR"
SERIAL4=$(serial_of extd.pem)
cli cert issue --profile firmware-endpoint --key-out k5.pem --cn fw5.updates.example.com --dns fw5.updates.example.com
want 0 "cert issue to stdout"
grep -c "BEGIN CERTIFICATE" cli.out | grep -x >/dev/null 2 || die "without --out the full chain goes to stdout"
SERIAL5=$(openssl x509 -in cli.out -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
ok "cert issue without --out writes the full chain to stdout"

# --- show, list, --expiring, --all paging -----------------------------------------------------------------------
cli cert show "$SERIAL1"
want 0 "cert show"
for re in "Serial:[[:space:]]+$SERIAL1" "Status:[[:space:]]+valid" "Profile:[[:space:]]+firmware-endpoint"; do
  grep -Eq "$re" cli.out || die "cert show lacks /$re/: $(cat cli.out)"
done
cli cert show "$(echo "$SERIAL1" | tr 'a-f' 'A-F' | sed 's/../&:/g; s/:$//')"
want 0 "cert show with an upper-case colon serial"
grep -q "$SERIAL1" cli.out || die "colon serial"
cli --json cert show "$SERIAL1"
jq -e --arg s "$SERIAL1" '.serial == $s and .status == "valid" and .profile == "firmware-endpoint"' cli.out >/dev/null ||
  die "cert show --json: $(cat cli.out)"
[ "$(jq -r .certificate cli.out | openssl x509 -outform DER | sha256sum)" = "$(openssl x509 -in c.pem -outform DER | sha256sum)" ] || die "cert show --json certificate differs from the issued one"
ok "cert show SERIAL (human, A:B:.. form, --json) shows the certificate valid in firmware-endpoint"

cli cert list
want 0 "cert list"
for s in "$SERIAL1" "$SERIAL2" "$SERIAL3" "$SERIAL4" "$SERIAL5"; do grep -q "^$s " cli.out || die "cert list lacks $s"; done
head -1 cli.out | grep >/dev/null "SERIAL" || die "cert list header"
cli --json cert list
[ "$(jq '.certificates | length' cli.out)" = 5 ] || die "cert list --json: $(cat cli.out)"
ok "cert list (table) and cert list --json list all 5 certificates"
cli --json cert list --expiring 400d
want 0 "list --expiring 400d"
jq -e --arg s "$SERIAL1" '[.certificates[].serial] | index($s) != null' cli.out >/dev/null || die "--expiring 400d lacks it"
cli --json cert list --expiring 1d
want 0 "list --expiring 1d"
[ "$(jq '.certificates | length' cli.out)" = 0 ] || die "--expiring 1d lists: $(cat cli.out)"
cli cert list --expiring 1d
grep -q "no certificates match" cli.out || die "human --expiring 1d: $(cat cli.out)"
ok "cert list --expiring 400d includes it, --expiring 1d does not (30-day certificates)"

for i in 6 7; do
  cli cert issue --profile firmware-endpoint --key-out "k$i.pem" --cn "fw$i.updates.example.com" \
    --dns "fw$i.updates.example.com" --out "c$i.pem"
  want 0 "issue $i"
done
cli --json cert list --limit 2
want 0 "one page of 2"
[ "$(jq '.certificates | length' cli.out)" = 2 ] || die "page of 2: $(cat cli.out)"
[ "$(jq -r .next_cursor cli.out)" != null ] || die "no next_cursor: $(cat cli.out)"
cli cert list --limit 2
grep -q "more certificates follow; continue with --cursor" cli.err || die "no paging hint: $(cat cli.err)"
ok "cert list --limit 2 prints one page and says more follow"
cli --json cert list --all --limit 2
want 0 "cert list --all --limit 2"
jq -r '.certificates[].serial' cli.out | sort > all.txt
sqlite3 iotca.db "SELECT serial FROM certificates" | sort > db_serials.txt
[ "$(wc -l < all.txt)" -ge 7 ] || die "--all returned $(wc -l < all.txt) certificates"
[ -z "$(uniq -d all.txt)" ] || die "--all repeats serials: $(uniq -d all.txt)"
cmp -s all.txt db_serials.txt || die "--all differs from the database: $(diff all.txt db_serials.txt)"
cli cert list --all --limit 2
[ "$(grep -Ec '^[0-9a-f]{16,40} ' cli.out)" = 7 ] || die "human --all rows: $(cat cli.out)"
ok "cert list --all --limit 2 pages through all $(wc -l < all.txt) certificates, each serial exactly once"

# --- revoke ------------------------------------------------------------------------------------------------------
cli cert revoke "$SERIAL1" --reason keyCompromise
want 0 "revoke"
grep -q "revoked $SERIAL1 (keyCompromise)" cli.out || die "revoke output: $(cat cli.out)"
cli cert show "$SERIAL1"
for re in "Status:[[:space:]]+revoked" "Reason:[[:space:]]+keyCompromise"; do
  grep -Eq "$re" cli.out || die "show after revoke lacks /$re/: $(cat cli.out)"
done
cli --json cert show "$SERIAL1"
jq -e '.status == "revoked" and .reason == "keyCompromise" and (.revoked_at | type == "string")' cli.out >/dev/null ||
  die "show --json after revoke: $(cat cli.out)"
ok "cert revoke SERIAL --reason keyCompromise; show says revoked with the reason"
cli cert revoke "$SERIAL1" --reason keyCompromise
refused already_revoked "revoke twice"
ok "revoking again exits 3 with iotca: already_revoked: ..."
cli --json cert list --status revoked
[ "$(jq -r '[.certificates[].serial] | join(",")' cli.out)" = "$SERIAL1" ] || die "--status revoked: $(cat cli.out)"
ok "cert list --status revoked lists exactly the revoked one"
cli cert revoke 00ff --reason keyCompromise
refused not_found "revoke unknown serial"
cli cert revoke "$SERIAL2" --reason bogus
want 2 "unknown reason is a usage error"
cli --json cert show "$SERIAL2"
jq -e '.status == "valid"' cli.out >/dev/null || die "a refused revoke changed $SERIAL2"
ok "revoking an unknown serial exits 3 (not_found); an unknown --reason exits 2 and sends nothing"

# --- refusals: exit 3, "iotca: <error>: <detail>" ---------------------------------------------------------------
before=$(sql "SELECT count(*) FROM certificates")
cli cert issue --profile firmware-endpoint --key-out evil.pem --cn evil.example.org --dns evil.example.org --out evil.crt
refused policy "DNS outside the profile"
grep -q "san.dns" cli.err || die "refusal does not name the rule: $(cat cli.err)"
[ ! -e evil.pem ] || die "the key file of a refused request was left behind"
[ ! -e evil.crt ] || die "a certificate file was written for a refused request"
grep -q "removed the new key evil.pem" cli.err || die "no word about the removed key: $(cat cli.err)"
ok "DNS outside the profile: exit 3, iotca: policy: ...san.dns...; the --key-out file is removed"
cli --token "iotca_0000000000000000_$(printf '0%.0s' $(seq 64))" cert issue --profile firmware-endpoint \
  --key-out wt.pem --cn fw.updates.example.com --dns fw.updates.example.com --out wt.crt
refused unauthorized "wrong token"
[ ! -e wt.pem ] || die "key left behind after a wrong token"
ok "wrong token: exit 3, iotca: unauthorized: ... and no key left behind"
IOTCA_TOKEN=$PROV_DEV cli cert issue --profile firmware-endpoint --csr ext.csr --out sc.crt
refused forbidden "scoped token on firmware-endpoint"
grep -q "firmware-endpoint" cli.err || die "forbidden detail should name the profile: $(cat cli.err)"
ok "token scoped to 'device' (iotcad token create --profiles device) on firmware-endpoint: exit 3, iotca: forbidden: ..."
cli cert issue --profile nosuch --csr ext.csr --out ns.crt
refused unknown_profile "unknown profile"
env -u IOTCA_TOKEN "$IOTCA_CLI" cert issue --profile firmware-endpoint --csr ext.csr --out nt.crt >cli.out 2>cli.err && RC=0 || RC=$?
refused unauthorized "no token"
grep -q "hint: set IOTCA_TOKEN or pass --token" cli.err || die "no token hint: $(cat cli.err)"
ok "unknown profile and a missing token are refused with exit 3 (the latter with a hint)"
[ "$(sql "SELECT count(*) FROM certificates")" = "$before" ] || die "a refused request left a row behind"
for t in "$ADMIN" "$PROV" "$PROV_DEV"; do
  if grep -qF "${t#iotca_*_}" daemon.log; then die "a token secret reached the daemon log"; fi
done
ok "no refusal left a certificate row; no token secret in daemon.log"

# --- roots with SPKI pins ----------------------------------------------------------------------------------------
cli roots
want 0 "roots"
[ "$(grep -c 'BEGIN CERTIFICATE' cli.out)" = 2 ] || die "roots prints $(grep -c 'BEGIN CERTIFICATE' cli.out) roots"
awk '/BEGIN CERT/{n++} n==1 && /^-----|^[A-Za-z0-9+\/=]+$/' cli.out > root_a.pem
awk '/BEGIN CERT/{n++} n==2 && /^-----|^[A-Za-z0-9+\/=]+$/' cli.out > root_b.pem
grep '^# SPKI SHA-256:' cli.out | awk '{print $4}' > printed_pins.txt
[ "$(wc -l < printed_pins.txt)" = 2 ] || die "roots prints $(wc -l < printed_pins.txt) pins"
{ spki_pin root_a.pem; spki_pin root_b.pem; } > computed_pins.txt
cmp -s printed_pins.txt computed_pins.txt || die "printed pins $(cat printed_pins.txt) != openssl $(cat computed_pins.txt)"
{ spki_pin r1/root.pem; spki_pin r2/root.pem; } | sort > vault_pins.txt
sort printed_pins.txt | cmp -s - vault_pins.txt || die "the roots printed are not R1 and R2"
ok "iotca roots prints 2 roots whose SPKI pins equal openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256sum"
cli --json roots
[ "$(jq -r '.roots[].spki_sha256' cli.out | sort)" = "$(cat vault_pins.txt)" ] || die "roots --json pins"
env -u IOTCA_TOKEN "$IOTCA_CLI" roots --out roots_cli.pem >cli.out 2>cli.err || die "roots without a token"
[ "$(grep -c 'BEGIN CERTIFICATE' roots_cli.pem)" = 2 ] || die "roots --out"
openssl verify -CAfile roots_cli.pem -untrusted chain.pem c.pem >/dev/null || die "verify against roots --out"
ok "roots --json carries the same pins; roots --out works without a token and verifies the issued leaf"

stop_daemon
echo "$CHECKS passed, 0 failed"
