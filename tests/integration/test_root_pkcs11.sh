#!/usr/bin/env bash
# The offline ceremony with the root key on a PKCS#11 token (issue 26): iotca-root init --pkcs11 makes the root
# key on a SoftHSM2 token (sensitive, never extractable; no root.key file), records the token, key id and public
# key fingerprint in vault.json and the ledger; sign-intermediate, cross-sign, revoke-intermediate and crl use the
# key there, and OpenSSL and GnuTLS verify what they signed. A vault whose PIN is split into custodian shares
# opens with enough of them and not with fewer. Wrong PIN, missing module and unknown token are refused.
set -euo pipefail
: "${IOTCA_BIN:?IOTCA_BIN must point at the build directory}"
ROOT="$IOTCA_BIN/tools/iotca-root"
WORK=$(mktemp -d /tmp/iotca-root-p11.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
die() { echo "FAIL - $*" >&2; exit 1; }

MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -e "$MODULE" ] || MODULE=$(dpkg -L softhsm2 libsofthsm2 2>/dev/null | grep 'libsofthsm2\.so$' | head -n1 || true)
[ -n "$MODULE" ] && [ -e "$MODULE" ] || die "the SoftHSM2 module is missing: install softhsm2 (deploy/install-deps.sh)"
mkdir -p hsm/tokens
printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK" > hsm/softhsm2.conf
export SOFTHSM2_CONF=$WORK/hsm/softhsm2.conf
softhsm2-util --init-token --free --label root-r1 --pin 11112222 --so-pin 99998888 >/dev/null
softhsm2-util --init-token --free --label root-r2 --pin 33334444 --so-pin 99998888 >/dev/null
(umask 077 && printf '11112222\n' > pin1 && printf '33334444\n' > pin2 && printf '00000000\n' > badpin)

"$ROOT" init --vault r1 --name "Test Root R1" --pkcs11 "$MODULE" --token-label root-r1 --passphrase-file pin1 > init1.out ||
  die "init --pkcs11: $(cat init1.out)"
grep -q "on PKCS#11 token 'root-r1'" init1.out || die "init does not say where the key is: $(cat init1.out)"
[ ! -e r1/root.key ] || die "a root key file was written"
ok "init --pkcs11 made the root key on token root-r1 and wrote no key file"
[ "$(jq -r .key_store r1/vault.json)" = pkcs11 ] && [ "$(jq -r .pkcs11.token_label r1/vault.json)" = root-r1 ] ||
  die "vault.json: $(cat r1/vault.json)"
keyid=$(jq -r .pkcs11.key_id r1/vault.json)
[ "${#keyid}" = 32 ] || die "the key id in vault.json is '$keyid'"
spki=$(openssl x509 -in r1/root.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
[ "$(jq -r .pkcs11.public_key_sha256 r1/vault.json)" = "$spki" ] || die "vault.json's public key fingerprint is not the root's"
head -1 r1/ledger.jsonl | jq -e --arg id "$keyid" '.op == "init" and .key_store == "pkcs11" and .pkcs11.key_id == $id and .pkcs11.token_label == "root-r1"' >/dev/null ||
  die "the ledger's init record lacks the token: $(head -1 r1/ledger.jsonl)"
ok "vault.json and the ledger record the token, key id $keyid and the public key's SHA-256"
objs=$(pkcs11-tool --module "$MODULE" --token-label root-r1 --pin 11112222 --list-objects 2>&1)
access=$(echo "$objs" | awk '/^Private Key Object/ { p = 1 } p && /Access:/ { print; exit }')
for w in 'sensitive' 'always sensitive' 'never extractable' 'local'; do
  echo "$access" | grep -q "$w" || die "the root key's Access lacks '$w': $objs"
done
echo "$objs" | grep -q "ID:.*$keyid" || die "no object with id $keyid: $objs"
ok "pkcs11-tool: the root key is on the token ($access)"
openssl verify -CAfile r1/root.pem r1/root.pem >/dev/null || die "the self-signed root does not verify"
certtool --verify --load-ca-certificate r1/root.pem --infile r1/root.pem >/dev/null 2>&1 || die "GnuTLS refuses the root"
ok "the self-signature made on the token verifies with OpenSSL and GnuTLS"
"$ROOT" show --vault r1 | grep -q "on PKCS#11 token 'root-r1' (key id $keyid" || die "show: $("$ROOT" show --vault r1)"
ok "show names the token and key id"

refuse_init() { # refuse_init TEXT ARGS...: init with ARGS exits 2 saying TEXT, and makes no vault
  local text=$1 rc=0
  shift
  "$ROOT" init --vault rx --name "Refused" "$@" > bad.out 2>&1 || rc=$?
  [ "$rc" = 2 ] || die "init $*: exit $rc: $(cat bad.out)"
  grep -q -- "$text" bad.out || die "init $*: $(cat bad.out)"
  [ ! -e rx/vault.json ] || die "init $* left a vault"
}
refuse_init '--pkcs11 needs --token-label or --token-serial' --pkcs11 "$MODULE" --passphrase-file pin1
refuse_init '--pkcs11 needs --token-label or --token-serial' --pkcs11 "$MODULE" --token-label root-r1 --token-serial 1234 --passphrase-file pin1
refuse_init '--token-label and --token-serial go with --pkcs11' --token-label root-r1 --passphrase-file pin1
refuse_init 'is ecdsa-p384 or ecdsa-p256, not rsa-3072' --pkcs11 "$MODULE" --token-label root-r1 --key rsa-3072 --passphrase-file pin1
ok "init refuses --pkcs11 without a token, with both label and serial, a token without --pkcs11, and an RSA key"

# -- sign-intermediate, cross-sign, revoke-intermediate, crl: all on the token -----------------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out int.key 2>/dev/null
openssl req -new -key int.key -subj "/CN=Test Issuer 1" -out int.csr
"$ROOT" sign-intermediate --vault r1 --csr int.csr --out int.pem --yes --passphrase-file pin1 >/dev/null ||
  die "sign-intermediate with the key on the token"
openssl verify -CAfile r1/root.pem int.pem >/dev/null || die "OpenSSL does not verify the intermediate"
certtool --verify --load-ca-certificate r1/root.pem --infile int.pem >/dev/null 2>&1 || die "GnuTLS does not verify it"
ok "sign-intermediate signs on the token; OpenSSL and GnuTLS verify the intermediate"
"$ROOT" sign-intermediate --vault r1 --csr int.csr --out bad.pem --yes --passphrase-file badpin > bad.out 2>&1 && die "a wrong PIN signed"
grep -q 'the token refused the PIN' bad.out || die "a wrong PIN: $(cat bad.out)"
[ ! -e bad.pem ] || die "a file was written with a wrong PIN"
ok "a wrong PIN is refused ($(grep "iotca-root:" bad.out)), nothing written"
"$ROOT" sign-intermediate --vault r1 --csr int.csr --out bad.pem --yes --passphrase-file pin1 --pkcs11 /nonexistent.so > bad.out 2>&1 &&
  die "a missing module signed"
grep -q 'cannot be loaded' bad.out || die "a missing module: $(cat bad.out)"
"$ROOT" sign-intermediate --vault r1 --csr int.csr --out bad.pem --yes --passphrase-file pin1 --token-label root-rX > bad.out 2>&1 &&
  die "an unknown token signed"
grep -q "no token is labelled 'root-rX'" bad.out || die "an unknown token: $(cat bad.out)"
ok "a missing module and an unknown token are refused with the reason"
"$ROOT" sign-intermediate --vault r1 --csr int.csr --out bad.pem --yes --passphrase-file pin2 --token-label root-r2 > bad.out 2>&1 &&
  die "a token without the vault's key signed"
grep -q 'holds no private key with id' bad.out || die "another token: $(cat bad.out)"
ok "another token (its own PIN) is refused: it holds no key with the vault's id"

# vault.json's record of the key, altered: refused with the reason, nothing signed
for bad in zz '' "$(printf '%066d' 0)"; do
  rm -rf r1bad && cp -r r1 r1bad
  jq --arg id "$bad" '.pkcs11.key_id = $id' r1/vault.json > r1bad/vault.json
  rc=0; "$ROOT" sign-intermediate --vault r1bad --csr int.csr --out bad.pem --yes --passphrase-file pin1 > bad.out 2>&1 || rc=$?
  [ "$rc" = 3 ] && grep -q 'key_id is not 1 to 32 bytes of hex' bad.out || die "key_id '$bad': exit $rc: $(cat bad.out)"
  [ ! -e bad.pem ] || die "signed with key_id '$bad'"
done
jq '.pkcs11.key_id = "00112233445566778899aabbccddeeff"' r1/vault.json > r1bad/vault.json
"$ROOT" sign-intermediate --vault r1bad --csr int.csr --out bad.pem --yes --passphrase-file pin1 > bad.out 2>&1 &&
  die "a key id the token does not hold signed"
grep -q 'holds no private key with id 00112233445566778899aabbccddeeff' bad.out || die "unknown key id: $(cat bad.out)"
jq 'del(.pkcs11.module)' r1/vault.json > r1bad/vault.json
"$ROOT" sign-intermediate --vault r1bad --csr int.csr --out bad.pem --yes --passphrase-file pin1 > bad.out 2>&1 &&
  die "a vault without its module signed"
grep -q 'lacks its module, token or key_id' bad.out || die "no module: $(cat bad.out)"
ok "vault.json with a bad, unknown or missing key record is refused with the reason, and nothing is signed"

"$ROOT" init --vault r2 --name "Test Root R2" --pkcs11 "$MODULE" --token-label root-r2 --passphrase-file pin2 >/dev/null ||
  die "init r2"
"$ROOT" cross-sign --vault r1 --cert r2/root.pem --out r2-by-r1.pem --yes --passphrase-file pin1 >/dev/null || die "cross-sign"
openssl verify -CAfile r1/root.pem r2-by-r1.pem >/dev/null || die "the cross-certificate does not verify under R1"
cmp -s <(openssl x509 -in r2-by-r1.pem -noout -pubkey) <(openssl x509 -in r2/root.pem -noout -pubkey) || die "cross-cert key"
ok "cross-sign signs R2 on R1's token; OpenSSL verifies it, with R2's key"

serial=$(openssl x509 -in int.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
"$ROOT" revoke-intermediate --vault r1 --serial "$serial" --reason keyCompromise --yes >/dev/null || die "revoke-intermediate"
"$ROOT" crl --vault r1 --out arl.pem --yes --passphrase-file pin1 >/dev/null || die "crl"
openssl crl -in arl.pem -CAfile r1/root.pem -noout 2>&1 | grep -q 'verify OK' || die "the root CRL does not verify"
openssl crl -in arl.pem -noout -text | grep -qi "$serial" || die "the root CRL does not list the intermediate"
certtool --crl-info --infile arl.pem >/dev/null 2>&1 || die "GnuTLS cannot read the root CRL"
openssl verify -crl_check -CRLfile arl.pem -CAfile r1/root.pem int.pem > v.out 2>&1 && die "the revoked intermediate verifies"
grep -q 'revoked' v.out || die "openssl -crl_check: $(cat v.out)"
ok "revoke-intermediate and crl: the ARL is signed on the token, lists the intermediate, and OpenSSL refuses it"
"$ROOT" ledger verify --vault r1 >/dev/null || die "ledger verify"
ok "the ledger verifies ($(wc -l < r1/ledger.jsonl) records)"

# -- the PIN in custodian shares -----------------------------------------------------------------------------------
softhsm2-util --init-token --free --label root-r3 --pin 55556666 --so-pin 99998888 >/dev/null
(umask 077 && printf '55556666\n' > pin3)
"$ROOT" init --vault r3 --name "Test Root R3" --pkcs11 "$MODULE" --token-label root-r3 --passphrase-file pin3 \
  --shares 3 --threshold 2 > init3.out || die "init with shares: $(cat init3.out)"
grep -q "unlock the token's PIN" init3.out || die "init does not say the shares hold the PIN: $(cat init3.out)"
mapfile -t shares < <(find r3/shares -type f | sort)
[ "${#shares[@]}" = 3 ] || die "${#shares[@]} share files"
chmod 600 "${shares[@]}"
grep -rq 55556666 r3 && die "the PIN is in the vault in clear"
"$ROOT" sign-intermediate --vault r3 --csr int.csr --out int3.pem --yes --share "${shares[0]}" --share "${shares[2]}" >/dev/null ||
  die "two of three shares do not unlock the token"
openssl verify -CAfile r3/root.pem int3.pem >/dev/null || die "the intermediate of r3 does not verify"
ok "2 of 3 custodian shares give back the PIN, and the key on the token signs"
"$ROOT" sign-intermediate --vault r3 --csr int.csr --out int3b.pem --yes --share "${shares[1]}" > bad.out 2>&1 &&
  die "one share unlocked the token"
grep -q '1 share(s) given; this vault needs 2' bad.out || die "one share: $(cat bad.out)"
ok "one share is refused: $(grep "iotca-root:" bad.out)"
echo "$CHECKS passed, 0 failed"
