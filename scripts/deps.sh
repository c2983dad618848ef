#!/usr/bin/env bash
# Install everything sclman needs to build, test and run, from Debian 12's packages. Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# Package scripts must not start services (nginx would listen on port 80): a policy-rc.d that
# refuses, only if none is there already, removed afterwards.
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  ours=1
fi
trap '[ $ours = 1 ] && rm -f "$policy"' EXIT

apt-get -o DPkg::Lock::Timeout=600 update
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
  g++ cmake make pkg-config git ca-certificates \
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev catch2 libsqlite3-dev \
  libcurl4-openssl-dev libexpected-dev libyaml-cpp-dev \
  nginx-light sqlite3 jq curl procps util-linux python3 groff-base chromium prometheus prometheus-node-exporter \
  mandoc man-db systemd dpkg-dev clang libclang-rt-14-dev \
  libssl-dev openssl goiardi python3-cryptography openssh-client openssh-server \
  lintian adduser file binutils zsh tidy python3-selenium chromium-driver \
  libcpp-httplib-dev python3-jsonschema prometheus-alertmanager wrk libpq-dev postgresql-15

# OpenStack's services (Keystone, Placement, Glance, Neutron, Nova, RabbitMQ; Octavia with
# MariaDB) for tests/integration/test_openstack_*.sh: about 350 packages, 155 s on a fresh
# machine plus 69 s for Octavia's 22.
# SCLMAN_DEPS_OPENSTACK=yes installs them (scripts/test.sh sets it when CI=true); without them
# those tests skip loudly (exit 77), except on CI.
if [ "${SCLMAN_DEPS_OPENSTACK:-no}" = yes ]; then
  t0=$SECONDS
  bash "$(dirname "$0")/../tests/support/openstack_install.sh"
  echo "deps: OpenStack packages installed in $((SECONDS - t0)) s"
fi
