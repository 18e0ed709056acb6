#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the servers the registry tests start
# themselves on 127.0.0.1 (Redis 7, etcd 3.4, ZooKeeper 3.8 with a JRE) and openssl for the TLS tests.
# Installs only what is missing; never starts a system service.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v etcd >/dev/null || need+=(etcd-server)
command -v etcdctl >/dev/null || need+=(etcd-client)
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
[ -f /usr/share/java/slf4j-simple.jar ] || need+=(libslf4j-java)
command -v java >/dev/null || need+=(default-jre-headless)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]} == 0)); then
  echo "[deps] all present" >&2
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "[deps] missing packages (${need[*]}) and not root" >&2; exit 1; }
echo "[deps] installing: ${need[*]}" >&2
# Debian's postinst scripts would try to start redis/etcd on their default ports; forbid that while installing.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
rc=0
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; } >&2 || rc=$?
((made_policy)) && rm -f /usr/sbin/policy-rc.d
exit $rc
