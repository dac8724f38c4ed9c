#!/usr/bin/env bash
# Static analysis gate (CTest lint_cppcheck): cppcheck over lib/, server/ and tools/ with the Jansson macros
# described (tests/lint/jansson.cfg); any finding fails. A false positive is mended in the code so that the
# analyser and the reader both see why it cannot happen, or suppressed inline with a reason.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cppcheck >/dev/null || { echo "cppcheck is missing (deploy/install-deps.sh installs it)" >&2; exit 1; }
# twice: without include paths (each file alone, as a reviewer's plain `cppcheck --enable=...` sees it) and
# with them (declarations known, so it follows values across files); they find different things
common=(-q --error-exitcode=1 --enable=warning,portability --inconclusive --inline-suppr --std=c11
  --library=tests/lint/jansson.cfg)
cppcheck "${common[@]}" lib server tools
incs=(); for d in lib/*/include; do incs+=(-I "$d"); done
cppcheck "${common[@]}" "${incs[@]}" -I server -I tools/iotca -I tools/iotca-root -D__GNUC__ lib server tools
echo "cppcheck: no findings"
