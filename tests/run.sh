#!/usr/bin/env bash
# The README's test command: install dependencies, build, run every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-test} BUILD_TYPE=Debug bash deploy/build.sh
cd "${BUILD_DIR:-build-test}"
ctest --output-on-failure -j"$(nproc)"
