# shellcheck shell=bash
# Shared helpers for tests/integration/test_*.sh: paths, a per-test temp dir, exact-exit-code and content assertions.
#
# Every check prints one "ok" line saying what it checked; the first failed
# check prints "FAIL", the captured output of the command involved, and exits
# non-zero. CTest runs each script as `bash script` with IOTCA_BIN (the build
# directory) and IOTCA_SRC (the source directory) set. Run one by hand with
#   IOTCA_BIN=build IOTCA_SRC=. bash tests/integration/test_ledger.sh
# and IOTCA_KEEP=1 to keep the temp dir of a failed run for inspection.

set -euo pipefail
umask 022

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IOTCA_SRC=$(cd "${IOTCA_SRC:-$LIB_DIR/../..}" && pwd)
IOTCA_BIN=$(cd "${IOTCA_BIN:-$IOTCA_SRC/build}" && pwd)
ROOT=$IOTCA_BIN/tools/iotca-root
LEAF=$IOTCA_BIN/tests/iotca-test-leaf
MBED=$IOTCA_BIN/tests/mbedtls-verify
export LC_ALL=C

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/iotca-$TEST_NAME.XXXXXX")
OUT=$T/.stdout # stdout of the last `run`
ERR=$T/.stderr # stderr of the last `run`
RC=0           # exit code of the last `run`
LAST_CMD=""
CHECKS=0

cleanup() {
    local rc=$?
    trap - ERR
    if [[ $rc -ne 0 && -n ${IOTCA_KEEP:-} ]]; then
        echo "kept the work directory $T" >&2
    else
        rm -rf "$T"
    fi
    return "$rc"
}
trap cleanup EXIT
# A command that fails outside any check (set -e) still says where it was.
set -E
trap 'printf "FAIL  unexpected error (exit %s) at %s line %s: %s\n" "$?" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR
cd "$T"
: >"$OUT"
: >"$ERR"

# ---- messages --------------------------------------------------------------

# section TEXT: a heading for a group of checks.
section() { printf '\n== %s\n' "$*"; }

# pass TEXT: records one successful check.
pass() {
    CHECKS=$((CHECKS + 1))
    printf 'ok    %s\n' "$*"
}

# fail TEXT: reports the failed check with the last command's output and exits.
fail() {
    printf 'FAIL  %s\n' "$*" >&2
    if [[ -n $LAST_CMD ]]; then
        printf '      last command (exit %s): %s\n' "$RC" "$LAST_CMD" >&2
        [[ -s $OUT ]] && head -n 40 "$OUT" | sed 's/^/      stdout| /' >&2
        [[ -s $ERR ]] && head -n 40 "$ERR" | sed 's/^/      stderr| /' >&2
    fi
    exit 1
}

# finish: the last line of every test script.
finish() { printf '\nPASS  %s: %d checks\n' "$TEST_NAME" "$CHECKS"; }

# need PROGRAM...: fails early (not silently skipping) when a peer tool is missing.
need() {
    local p
    for p in "$@"; do
        [[ -x $p ]] || command -v "$p" >/dev/null 2>&1 || fail "required program $p is not available"
    done
}
need "$ROOT" "$LEAF" openssl

# short CMD...: the command line with the temp dir and build paths shortened, for messages.
short() {
    local s="$*"
    s=${s//$ROOT/iotca-root}
    s=${s//$LEAF/iotca-test-leaf}
    s=${s//$MBED/mbedtls-verify}
    s=${s//$T\//}
    printf '%s' "$s"
}

# ---- running commands ------------------------------------------------------

# run CMD...: runs CMD (stdin /dev/null) capturing stdout in $OUT, stderr in
# $ERR and the exit code in $RC. Never fails by itself.
run() {
    LAST_CMD=$(short "$@")
    RC=0
    "$@" </dev/null >"$OUT" 2>"$ERR" || RC=$?
}

# expect_ok DESC CMD...: CMD must exit 0.
expect_ok() {
    local desc=$1
    shift
    run "$@"
    [[ $RC -eq 0 ]] || fail "$desc: expected exit 0, got $RC"
    pass "$desc"
}

# expect_fail CODE CMD...: CMD must exit with exactly CODE.
expect_fail() {
    local code=$1
    shift
    run "$@"
    [[ $RC -eq $code ]] || fail "expected exit $code, got $RC: $(short "$@")"
    pass "exit $code: $(short "$@")"
}

# expect_refused DESC CMD...: CMD must exit non-zero (any code); for peers
# whose exact codes are not ours to define (openssl, certtool).
expect_refused() {
    local desc=$1
    shift
    run "$@"
    [[ $RC -ne 0 ]] || fail "$desc: expected a non-zero exit, got 0"
    pass "$desc (exit $RC)"
}

# expect_output REGEX: stdout or stderr of the last run matches (grep -E, case-insensitive).
expect_output() {
    grep -qiE -- "$1" "$OUT" "$ERR" || fail "output of the last command does not match /$1/"
    pass "  ...and its output says /$1/"
}

# expect_stderr REGEX: stderr of the last run matches (grep -E, case-insensitive).
expect_stderr() {
    grep -qiE -- "$1" "$ERR" || fail "stderr of the last command does not match /$1/"
    pass "  ...and its stderr says /$1/"
}

# expect_message: the last (failed) run explained itself on stderr.
expect_message() {
    [[ -s $ERR ]] || fail "the last command failed without a message on stderr"
    pass "  ...with a message: $(head -n 1 "$ERR")"
}

# ---- assertions on files and values ----------------------------------------

# assert_grep DESC REGEX FILE: FILE has a line matching REGEX (grep -E).
assert_grep() {
    grep -qE -- "$2" "$3" || {
        sed 's/^/      | /' "$3" | head -n 80 >&2
        fail "$1: /$2/ not found in $(short "$3")"
    }
    pass "$1"
}

# assert_no_grep DESC REGEX FILE: no line of FILE matches REGEX.
assert_no_grep() {
    [[ -f $3 ]] || fail "$1: $(short "$3") does not exist"
    if grep -qE -- "$2" "$3"; then
        grep -nE -- "$2" "$3" | sed 's/^/      | /' >&2
        fail "$1: /$2/ unexpectedly found in $(short "$3")"
    fi
    pass "$1"
}

# assert_eq DESC ACTUAL EXPECTED: equal and not empty. (A helper that fails
# inside $(...) only ends that subshell and leaves an empty string; refusing
# empty values keeps two failed extractions from "matching".)
assert_eq() {
    [[ -n "$2" && -n "$3" ]] || fail "$1: empty value (got '$2', expected '$3')"
    [[ "$2" == "$3" ]] || fail "$1: got '$2', expected '$3'"
    pass "$1"
}

# assert_ne DESC A B: different and neither empty.
assert_ne() {
    [[ -n "$2" && -n "$3" ]] || fail "$1: empty value ('$2' vs '$3')"
    [[ "$2" != "$3" ]] || fail "$1: both are '$2'"
    pass "$1"
}

# assert_absent FILE...: none of the files exists.
assert_absent() {
    local f
    for f in "$@"; do
        [[ ! -e $f ]] || fail "$(short "$f") exists but should not"
    done
    pass "not created: $(short "$@")"
}

# assert_mode FILE MODE: octal permission bits, e.g. 600.
assert_mode() {
    local m
    m=$(stat -c '%a' "$1")
    [[ $m == "$2" ]] || fail "$(short "$1") has mode $m, expected $2"
    pass "$(short "$1") has mode $2"
}

# tree_digest DIR: one line per file (path, mode, SHA-256), sorted; for "unchanged" checks.
tree_digest() {
    (cd "$1" && find . -type f -printf '%p %m\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# line_count FILE
line_count() { wc -l <"$1" | tr -d ' '; }

# ---- fixtures ----------------------------------------------------------------

# The passphrase every vault in the tests uses, and a wrong one.
PASS=$T/pass
printf 'correct horse battery staple\n' >"$PASS"
WRONG_PASS=$T/wrong-pass
printf 'incorrect horse battery staple\n' >"$WRONG_PASS"
chmod 600 "$PASS" "$WRONG_PASS" # secret files other users can read are refused

# ec_key FILE [CURVE]: an EC private key (PKCS#8 PEM, as openssl genpkey writes it).
ec_key() {
    openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${2:-P-256}" -out "$1" 2>/dev/null ||
        fail "openssl genpkey failed for $1"
}

# make_csr KEY CSR SUBJECT: a PKCS#10 request from openssl.
make_csr() {
    openssl req -new -key "$1" -subj "$3" -out "$2" 2>/dev/null || fail "openssl req failed for $2"
}

# new_vault DIR NAME [init args...]: an ECDSA P-256 vault with the test passphrase.
new_vault() {
    local dir=$1 name=$2
    shift 2
    expect_ok "init vault $(short "$dir") ($name)" "$ROOT" init --vault "$dir" --name "$name" --key ecdsa-p256 \
        --passphrase-file "$PASS" "$@"
}

# new_intermediate VAULT BASE SUBJECT [sign-intermediate args...]: makes
# BASE.key and BASE.csr with openssl and has the vault sign BASE.pem.
new_intermediate() {
    local vault=$1 base=$2 subj=$3
    shift 3
    ec_key "$base.key"
    make_csr "$base.key" "$base.csr" "$subj"
    expect_ok "sign-intermediate $(short "$base.pem") ($subj)" "$ROOT" sign-intermediate --vault "$vault" \
        --csr "$base.csr" --out "$base.pem" --yes --passphrase-file "$PASS" "$@"
    [[ -s $base.pem ]] || fail "sign-intermediate reported success but wrote no $(short "$base.pem")"
}

# new_leaf ISSUER_BASE BASE SUBJECT [iotca-test-leaf args...]: BASE.key, BASE.csr, BASE.pem issued by ISSUER_BASE.pem/.key.
new_leaf() {
    local issuer=$1 base=$2 subj=$3
    shift 3
    ec_key "$base.key"
    make_csr "$base.key" "$base.csr" "$subj"
    expect_ok "issue leaf $(short "$base.pem") ($subj $*)" "$LEAF" --issuer-cert "$issuer.pem" \
        --issuer-key "$issuer.key" --csr "$base.csr" --out "$base.pem" "$@"
}

# serial_of CERT: the serial in lower-case hex without leading zero octets, as iotca-root prints it.
serial_of() {
    local s
    s=$(openssl x509 -in "$1" -noout -serial) || fail "cannot read the serial of $1"
    s=${s#serial=}
    s=$(printf '%s' "$s" | tr 'A-F' 'a-f')
    while [[ ${#s} -gt 2 && ${s:0:2} == 00 ]]; do s=${s:2}; done
    printf '%s' "$s"
}

# der_field FILE INDEX: the hex of the INDEX-th (1-based) element directly
# inside the first inner SEQUENCE of a PEM certificate or CSR, i.e. of the
# TBSCertificate (1 version, 2 serial, 3 sigalg, 4 issuer, 5 validity,
# 6 subject, 7 SPKI) or CertificationRequestInfo (1 version, 2 subject,
# 3 SPKI). The bytes are the exact DER TLV, so equal output means equal bytes.
der_field() {
    local file=$1 index=$2 der line off hl len
    der=$T/.der_field.der
    if grep -q 'BEGIN CERTIFICATE REQUEST' "$file"; then
        openssl req -in "$file" -outform DER -out "$der" 2>/dev/null || fail "cannot convert $file to DER"
    else
        openssl x509 -in "$file" -outform DER -out "$der" 2>/dev/null || fail "cannot convert $file to DER"
    fi
    line=$(openssl asn1parse -inform DER -in "$der" | sed -nE 's/^ *([0-9]+):d=2 +hl= *([0-9]+) +l= *([0-9]+) .*/\1 \2 \3/p' |
        sed -n "${index}p")
    [[ -n $line ]] || fail "no element $index in the first SEQUENCE of $file"
    read -r off hl len <<<"$line"
    od -An -tx1 -v -j "$off" -N "$((hl + len))" "$der" | tr -d ' \n'
}

# der_to_pem LABEL IN OUT: wraps DER bytes in a PEM block with LABEL.
der_to_pem() {
    {
        printf -- '-----BEGIN %s-----\n' "$1"
        base64 -w 64 "$2"
        printf -- '-----END %s-----\n' "$1"
    } >"$3"
}

# ---- peers -------------------------------------------------------------------

# openssl_verify_ok DESC ARGS...: `openssl verify ARGS` exits 0 and says OK.
openssl_verify_ok() {
    local desc=$1
    shift
    run openssl verify "$@"
    [[ $RC -eq 0 ]] || fail "$desc: openssl verify exited $RC"
    grep -qE ': OK$' "$OUT" || fail "$desc: openssl verify did not print OK"
    pass "$desc"
}

# openssl_verify_rejects DESC REGEX ARGS...: `openssl verify ARGS` fails with an error matching REGEX.
openssl_verify_rejects() {
    local desc=$1 why=$2
    shift 2
    run openssl verify "$@"
    [[ $RC -ne 0 ]] || fail "$desc: openssl verify accepted it"
    grep -qiE -- "$why" "$OUT" "$ERR" || fail "$desc: openssl verify failed, but not with /$why/"
    pass "$desc (openssl: $(grep -hiE -- "$why" "$OUT" "$ERR" | head -n 1))"
}

# gnutls_chain DESC verified|rejected FILE...: `certtool --verify-chain` on the
# concatenation of FILEs (leaf first, self-signed root last). certtool exits 0
# either way, so the verdict line is what is checked.
gnutls_chain() {
    local desc=$1 want=$2 chain=$T/.gnutls-chain.pem
    shift 2
    cat "$@" >"$chain"
    run certtool --verify-chain --infile "$chain"
    local verdict
    verdict=$(grep -h '^Chain verification output:' "$OUT" "$ERR" | head -n 1 || true)
    verdict=${verdict%"${verdict##*[![:space:]]}"}
    [[ -n $verdict ]] || fail "$desc: certtool printed no chain verdict"
    if [[ $want == verified ]]; then
        [[ $verdict == *": Verified."* ]] || fail "$desc: GnuTLS says '$verdict'"
    else
        [[ $verdict == *"Not verified"* ]] || fail "$desc: GnuTLS says '$verdict', expected a rejection"
    fi
    pass "$desc (GnuTLS: ${verdict#Chain verification output: })"
}

# x509_text CERT OUTFILE: `openssl x509 -text` of CERT into OUTFILE (fails the test if it does not parse).
x509_text() {
    openssl x509 -in "$1" -noout -text >"$2" 2>&1 || fail "openssl cannot parse $(short "$1")"
}
