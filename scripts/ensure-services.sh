#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer at DATABASE_URL / REDIS_URL. When they point at this
# machine and the Debian services are installed but stopped, start them; otherwise say why not.
set -euo pipefail

db_url=${DATABASE_URL:?DATABASE_URL must be set}
redis_url=${REDIS_URL:?REDIS_URL must be set}

hostport() {  # scheme://user@host:port/x -> "host port"
  python3 - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or int(sys.argv[2]))
PY
}

is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }

port_open() { python3 -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)" "$1" "$2" 2>/dev/null; }

read -r db_host db_port < <(hostport "$db_url" 5432)
read -r redis_host redis_port < <(hostport "$redis_url" 6379)

if ! port_open "$db_host" "$db_port"; then
  if is_local "$db_host" && command -v pg_ctlcluster >/dev/null; then
    version=$(ls /etc/postgresql | sort -n | tail -n 1)
    echo "PostgreSQL is not running; starting cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  else
    echo "PostgreSQL is not reachable at $db_host:$db_port and cannot be started here." >&2
    echo "Install it (apt-get install postgresql) or set DATABASE_URL to a running server." >&2
    exit 1
  fi
fi

if ! port_open "$redis_host" "$redis_port"; then
  if is_local "$redis_host" && command -v redis-server >/dev/null; then
    echo "Redis is not running; starting it on port $redis_port"
    redis-server --daemonize yes --port "$redis_port" --bind 127.0.0.1 --save ""
  else
    echo "Redis is not reachable at $redis_host:$redis_port and cannot be started here." >&2
    echo "Install it (apt-get install redis-server) or set REDIS_URL to a running server." >&2
    exit 1
  fi
fi

for _ in $(seq 1 30); do
  if port_open "$db_host" "$db_port" && port_open "$redis_host" "$redis_port"; then
    echo "PostgreSQL ($db_host:$db_port) and Redis ($redis_host:$redis_port) are reachable."
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL or Redis did not come up within 30 s." >&2
exit 1
