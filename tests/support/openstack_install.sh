#!/usr/bin/env bash
# Install OpenStack Zed's Python services from Debian 12 (no service packages: they want
# debconf and systemd), and extract the api-paste.ini files of nova, glance and neutron into
# /usr/local/share/sclman-openstack/. Idempotent; run as root. About 155 s on a fresh machine,
# plus 69 s for Octavia's 22 packages (python3-octavia ships octavia-api, octavia-worker and
# octavia-db-manage; mariadb-server because Octavia's migrations cannot run on SQLite; see
# docs/OPENSTACK.md).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

pkgs="python3-nova python3-keystone python3-placement python3-neutron python3-glance
  rabbitmq-server uwsgi-core uwsgi-plugin-python3 sqlite3 python3-yaml curl
  python3-octavia mariadb-server python3-pymysql openssl"
paste=/usr/local/share/sclman-openstack

need=0
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' > /dev/null || need=1
done
for f in nova glance neutron; do
  [ -s "$paste/$f/api-paste.ini" ] || need=1
done
[ $need = 1 ] || exit 0

# Package scripts must not start services (rabbitmq would listen on 0.0.0.0, mariadb on port
# 3306): a policy-rc.d that refuses, only if none is there already, removed afterwards.
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  ours=1
fi
trap '[ $ours = 1 ] && rm -f "$policy"' EXIT

if ! apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $pkgs; then
  apt-get -o DPkg::Lock::Timeout=600 update
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $pkgs
fi

tmp=$(mktemp -d)
(
  cd "$tmp"
  apt-get download nova-common glance-common neutron-common >/dev/null
  for d in nova-common glance-common neutron-common; do
    dpkg-deb -x "$d"_*.deb "x-$d"
  done
)
mkdir -p "$paste/nova" "$paste/glance" "$paste/neutron"
cp "$(find "$tmp"/x-nova-common -name api-paste.ini | head -n1)" "$paste/nova/api-paste.ini"
cp "$(find "$tmp"/x-glance-common -name glance-api-paste.ini | head -n1)" "$paste/glance/api-paste.ini"
cp "$(find "$tmp"/x-neutron-common -name api-paste.ini | head -n1)" "$paste/neutron/api-paste.ini"
# Keep the rest of those packages' /etc for reference (policy files, rootwrap).
rm -rf "$paste/extracted" && mkdir -p "$paste/extracted"
cp -r "$tmp"/x-* "$paste/extracted/"
rm -rf "$tmp"
