#!/usr/bin/env bash
# Install the dependencies, build with AddressSanitizer and UBSan (the ci preset), and run every
# test: Catch2 unit tests and the integration tests that drive the real binary against real nginx
# processes on 127.0.0.1. Set SCLMAN_SKIP_DEPS=1 to skip the apt-get step.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SCLMAN_SKIP_DEPS:-0}" != 1 ]; then
  bash scripts/deps.sh
fi
cmake --preset ci
cmake --build --preset ci -j"$(nproc)"
ctest --preset ci
