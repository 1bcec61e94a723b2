#!/usr/bin/env bash
# Start or stop the throw-away PostgreSQL and Redis servers the test suite runs on.
#   scripts/test-services.sh start   -> writes .test-services/env (TEST_DATABASE_URL, TEST_REDIS_URL)
#   scripts/test-services.sh stop
# Both listen on 127.0.0.1 only, on free ports, with data under a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${TEST_SERVICES_STATE:-.test-services}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  stop >/dev/null 2>&1 || true
  mkdir -p "$STATE"
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
  command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
  local dir pg_port redis_port
  dir=$(mktemp -d /tmp/contentflow-test.XXXXXX)
  chmod 755 "$dir"
  mkdir -p "$dir/pg" "$dir/redis"
  [ "$(id -u)" = "0" ] && chown postgres:postgres "$dir/pg"
  pg_port=$(free_port)
  redis_port=$(free_port)
  as_postgres "$PG_BIN/initdb" -D "$dir/pg/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
  # Durability settings off: this cluster lives for one test run.
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 start \
    -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres contentflow_test
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir/redis" --daemonize yes --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log"
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cat >"$STATE/env" <<ENV
export TEST_SERVICES_DIR=$dir
export TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$pg_port/contentflow_test
export TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0
export TEST_PG_BIN=$PG_BIN
ENV
  echo "test services up: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($dir)"
}

stop() {
  [ -f "$STATE/env" ] || return 0
  # shellcheck disable=SC1091
  . "$STATE/env"
  if [ -d "$TEST_SERVICES_DIR/pg/data" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$TEST_SERVICES_DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -f "$TEST_SERVICES_DIR/redis/redis.pid" ]; then
    kill "$(cat "$TEST_SERVICES_DIR/redis/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$TEST_SERVICES_DIR" "$STATE/env"
  echo "test services stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
