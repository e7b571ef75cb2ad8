#!/usr/bin/env bash
# A local Orleans cluster: one Redis and N silos of the real host on this machine (loopback).
#
#   tools/cluster/run.sh [N]            start Redis and N silos (default 3), print their addresses, stop all on Ctrl+C
#   tools/cluster/run.sh N --detach     start them and return; stop later with `tools/cluster/run.sh stop`
#   tools/cluster/run.sh stop           stop a detached cluster (silos by SIGTERM, then Redis)
#
# Silo i serves gRPC on 5000+2i and /healthz on 5001+2i; Orleans uses 11111+i and 30000+i. State (Redis AOF) and logs
# live in data/cluster/, so a restart finds every job again. Needs redis-server (apt-get install redis-server).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
dir="data/cluster"
redis_port="${REDIS_PORT:-6379}"

stop_cluster() {
  if [ -f "$dir/silo.pids" ]; then
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done < "$dir/silo.pids"
    while read -r pid; do while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; done < "$dir/silo.pids"
    rm -f "$dir/silo.pids"
    echo "silos stopped"
  fi
  if [ -f "$dir/redis.pid" ]; then
    # SHUTDOWN rewrites nothing and keeps the AOF; the next start replays it.
    redis-cli -p "$redis_port" shutdown >/dev/null 2>&1 || kill -TERM "$(cat "$dir/redis.pid")" 2>/dev/null || true
    rm -f "$dir/redis.pid"
    echo "redis stopped"
  fi
}

if [ "${1:-}" = "stop" ]; then stop_cluster; exit 0; fi
count="${1:-3}"
detach="${2:-}"
if ! [[ "$count" =~ ^[1-9][0-9]?$ ]]; then echo "usage: $0 [N] [--detach] | stop" >&2; exit 2; fi
command -v redis-server >/dev/null || { echo "redis-server not found: apt-get install -y redis-server" >&2; exit 1; }
if [ -f "$dir/silo.pids" ]; then echo "a cluster is already running (see $dir); stop it with: $0 stop" >&2; exit 1; fi

mkdir -p "$dir/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$(pwd)/$dir/redis" --appendonly yes --appendfsync everysec \
  --daemonize yes --pidfile "$(pwd)/$dir/redis.pid" --logfile "$(pwd)/$dir/redis.log"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "redis on 127.0.0.1:$redis_port (AOF in $dir/redis)"

echo "building the host..."
dotnet build src/Scheduler.Host -c Release -v quiet -nologo >/dev/null
host="src/Scheduler.Host/bin/Release/net10.0/Scheduler.Host.dll"

# One signing key for every silo, so a token minted by one is accepted by all (each silo would otherwise generate
# its own development key). Kept with the cluster's state; each silo still writes its operator token for its own
# address to the user's credential file, which the CLI reads.
[ -f "$dir/signing-key" ] || head -c 32 /dev/urandom | base64 > "$dir/signing-key"
key="$(cat "$dir/signing-key")"

: > "$dir/silo.pids"
for i in $(seq 0 $((count - 1))); do
  # From the build output, so the host finds its appsettings.json (the content root is the working directory).
  (cd "$(dirname "$host")" && exec dotnet Scheduler.Host.dll --no-demo --data-dir "$root/$dir/silo$i" \
      --grpc-port $((5000 + 2 * i)) --http-port $((5001 + 2 * i)) --silo-port $((11111 + i)) --gateway-port $((30000 + i)) \
      --Cluster:Mode=Redis "--Cluster:RedisConnectionString=127.0.0.1:$redis_port" \
      --Scheduler:Auth:SigningKeys:0:Id=local-cluster "--Scheduler:Auth:SigningKeys:0:Key=$key" > "$root/$dir/silo$i.log" 2>&1) &
  echo $! >> "$dir/silo.pids"
done
if [ "$detach" != "--detach" ]; then trap 'echo; stop_cluster; exit 0' INT TERM; fi

for i in $(seq 0 $((count - 1))); do
  for _ in $(seq 120); do curl -fs "http://127.0.0.1:$((5001 + 2 * i))/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
done
echo
echo "cluster of $count silos on Redis 127.0.0.1:$redis_port; gRPC addresses (any of them serves every job):"
for i in $(seq 0 $((count - 1))); do
  echo "  silo $i: http://localhost:$((5000 + 2 * i))   (health http://localhost:$((5001 + 2 * i))/healthz, log $dir/silo$i.log)"
done
echo
echo "try:  dotnet run --project src/Scheduler.Cli -- --address http://127.0.0.1:5000 fleet"
echo "      (every silo accepts that silo's token from ~/.config/green-scheduler/credentials.json; for another silo's"
echo "      address pass it with --token or SCHEDULER_TOKEN: the silos write that file at the same moment, so it may"
echo "      hold only one of their entries)"
if [ "$detach" = "--detach" ]; then echo "stop: $0 stop"; exit 0; fi
echo "Ctrl+C stops the silos and Redis (state stays in $dir)."
wait
