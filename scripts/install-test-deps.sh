#!/usr/bin/env bash
# Installs the system tools the end-to-end tests and the benchmark drive: skopeo, buildah, umoci,
# docker-registry (CNCF Distribution, the reference), wrk, curl, prometheus (the metrics tests run
# promtool and a Prometheus server), Ceph's S3 gateway (radosgw with a monitor and an OSD, which
# ../shared/s3/ceph-rgw.sh runs) and PostgreSQL (the tests start throwaway clusters with its
# initdb/pg_ctl, which Debian keeps in /usr/lib/postgresql/*/bin) and haproxy (the three-replica test
# balances over its servers with it). Does nothing (quickly) when all
# are present. Needs root for apt-get; as another user it stops at once with the command to run.
set -euo pipefail

# command name → Debian package that provides it
declare -A package_for=(
  [skopeo]=skopeo
  [buildah]=buildah
  [umoci]=umoci
  [docker-registry]=docker-registry
  [wrk]=wrk
  [curl]=curl
  [radosgw]=radosgw
  [ceph-mon]=ceph-mon
  [ceph-osd]=ceph-osd
  [ceph]=ceph-common
  [promtool]=prometheus
  [haproxy]=haproxy
)
tools=(skopeo buildah umoci docker-registry wrk curl promtool radosgw ceph-mon ceph-osd ceph haproxy)

missing_packages=()
for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    missing_packages+=("${package_for[$tool]}")
  fi
done

has_postgres() { compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; }
if ! has_postgres; then
  missing_packages+=(postgresql)
fi

if [ "${#missing_packages[@]}" -eq 0 ]; then
  exit 0
fi

install_command="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing_packages[*]}"

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing test tools: ${missing_packages[*]}" >&2
  echo "install-test-deps: run this as root, then try again:" >&2
  echo "  sudo sh -c '$install_command'" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing_packages[*]} and no apt-get on this machine; install them by hand" >&2
  exit 1
fi

echo "install-test-deps: installing ${missing_packages[*]}" >&2
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_packages[@]}"

# The Debian package starts a system registry on :5000, which is also Wharf's default port. The
# tests and the benchmark start their own docker-registry on a free port, so the packaged
# service is only in the way: stop it, but only when this script is what installed it.
if [[ " ${missing_packages[*]} " == *" docker-registry "* ]]; then
  if [ -d /run/systemd/system ] && systemctl is-active --quiet docker-registry.service; then
    systemctl disable --now docker-registry.service
    echo "install-test-deps: stopped and disabled the packaged docker-registry service (it held :5000)" >&2
  elif command -v service >/dev/null 2>&1 && service docker-registry status >/dev/null 2>&1; then
    service docker-registry stop || true
    echo "install-test-deps: stopped the packaged docker-registry service (it held :5000)" >&2
  fi
fi

# Like docker-registry, the package starts a system cluster on :5432; the tests start their own.
if [[ " ${missing_packages[*]} " == *" postgresql "* ]]; then
  if [ -d /run/systemd/system ] && systemctl is-active --quiet postgresql.service; then
    systemctl disable --now postgresql.service
  elif command -v service >/dev/null 2>&1 && service postgresql status >/dev/null 2>&1; then
    service postgresql stop || true
  fi
fi

# Likewise the packaged Prometheus service (:9090): the tests start their own server.
if [[ " ${missing_packages[*]} " == *" prometheus "* ]]; then
  if [ -d /run/systemd/system ] && systemctl is-active --quiet prometheus.service; then
    systemctl disable --now prometheus.service
    echo "install-test-deps: stopped and disabled the packaged prometheus service" >&2
  elif command -v service >/dev/null 2>&1 && service prometheus status >/dev/null 2>&1; then
    service prometheus stop || true
    echo "install-test-deps: stopped the packaged prometheus service" >&2
  fi
fi

for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-test-deps: $tool is still missing after apt-get install" >&2
    exit 1
  fi
done
if ! has_postgres; then
  echo "install-test-deps: PostgreSQL (/usr/lib/postgresql/*/bin/pg_ctl) is still missing after apt-get install" >&2
  exit 1
fi
