#!/usr/bin/env bash
# Build the .deb as Debian builds its packages: the package preset (no tests, no failpoints)
# with dpkg-buildflags' hardening (PIE, RELRO, BIND_NOW, stack protector, FORTIFY), a stripped
# binary and its -dbgsym package, then check both with lintian (errors and warnings fail it;
# packaging/lintian-overrides says why each remaining tag is right).
# Usage: scripts/package.sh [OUTPUT_DIR]   (default build/package/deb)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/package/deb}
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
eval "$(dpkg-buildflags --export=sh)"
# CMake reads CXXFLAGS and LDFLAGS, not CPPFLAGS (where _FORTIFY_SOURCE is).
export CXXFLAGS="$CPPFLAGS $CXXFLAGS"
step() { echo "== package: $1 at $SECONDS s"; }
step configure
mkdir -p build
cmake --preset package --fresh > build/package-configure.log 2>&1 \
  || { cat build/package-configure.log; exit 1; }
rm -f build/package-configure.log
step build
cmake --build --preset package -j"$(nproc)"
step cpack
rm -rf "$out"
mkdir -p "$out"
(cd build/package && cpack -G DEB -B "$PWD/cpack" > cpack.log 2>&1) \
  || { cat build/package/cpack.log; exit 1; }
cp build/package/cpack/sclman_*.deb build/package/cpack/sclman-dbgsym_*.ddeb "$out"/
step lintian
# --fail-on warning: an error or a warning fails the build; an override names its reason.
lintian --fail-on error,warning --display-info --tag-display-limit 0 "$out"/sclman_*.deb \
  | tee "$out/lintian.txt"
ls -l "$out"
