#!/usr/bin/env bash
# Install the dependencies, build with AddressSanitizer and UBSan (the ci preset), run the
# libFuzzer targets for a bounded time on their seed corpus, build the .deb (scripts/package.sh),
# then every test: Catch2 unit tests and the integration tests that drive the real binary
# against real servers on 127.0.0.1.
# Set SCLMAN_SKIP_DEPS=1 to skip the apt-get step, SCLMAN_FUZZ_SECONDS to change the fuzz time.
set -euo pipefail
cd "$(dirname "$0")/.."
# On CI the OpenStack services are installed too (about 155 s more, 69 s for Octavia), so the
# OpenStack tests run there: with CI=true they fail instead of skipping when the services are
# missing.
if [ "${CI:-}" = true ]; then
  export SCLMAN_DEPS_OPENSTACK=${SCLMAN_DEPS_OPENSTACK:-yes}
fi
# stage NAME: print when each stage starts, so that a slow CI run says where its time went.
start=$SECONDS
stage() { echo "== $1 at $((SECONDS - start)) s ($(date -u +%H:%M:%S))"; }
if [ "${SCLMAN_SKIP_DEPS:-0}" != 1 ]; then
  stage deps
  bash scripts/deps.sh
fi
stage fuzz
bash tests/fuzz/run.sh "${SCLMAN_FUZZ_SECONDS:-15}"
stage build
cmake --preset ci
cmake --build --preset ci -j"$(nproc)"
stage package
# The .deb as Debian would build it (no sanitizers, no failpoints); test_package installs it.
bash scripts/package.sh build/package/deb
export SCLMAN_DEB_DIR=$PWD/build/package/deb
stage ctest
rc=0
# The integration tests mostly wait on servers, so ctest runs several at once (the ones that
# measure a cluster under load take turns: tests/CMakeLists.txt).
ctest --preset ci -j "${SCLMAN_TEST_JOBS:-4}" || rc=$?
# The OpenStack tests record how long the services took to come up (docs/OPENSTACK.md).
for f in build/ci/test-artifacts/openstack-*.txt; do
  [ -f "$f" ] && cat "$f"
done
stage done
exit $rc
