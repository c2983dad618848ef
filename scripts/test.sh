#!/usr/bin/env bash
# Install the dependencies, build with AddressSanitizer and UBSan (the ci preset), run the
# libFuzzer targets for a bounded time on their seed corpus, then every test: Catch2 unit tests
# and the integration tests that drive the real binary against real servers on 127.0.0.1.
# Set SCLMAN_SKIP_DEPS=1 to skip the apt-get step, SCLMAN_FUZZ_SECONDS to change the fuzz time.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SCLMAN_SKIP_DEPS:-0}" != 1 ]; then
  bash scripts/deps.sh
fi
bash tests/fuzz/run.sh "${SCLMAN_FUZZ_SECONDS:-15}"
cmake --preset ci
cmake --build --preset ci -j"$(nproc)"
ctest --preset ci
