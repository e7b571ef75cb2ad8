#!/usr/bin/env bash
# A local Orleans cluster: one Redis and N silos of the real host on this machine (loopback), optionally behind a
# stateless gateway.
#
#   tools/cluster/run.sh [N] [--gateway] [--detach]
#       start Redis and N silos (default 3), print their addresses, stop all on Ctrl+C (or return with --detach)
#       --gateway: the gateway topology: one gateway (src/Scheduler.Gateway) serves gRPC on 5000 and health on 5001,
#       the silos serve no gRPC (--no-grpc)
#   tools/cluster/run.sh stop           stop a detached cluster (the gateway, the silos by SIGTERM, then Redis)
#
# Co-hosted: silo i serves gRPC on 5000+2i and /healthz on 5001+2i. With --gateway: the gateway 5000/5001, silo i
# /healthz on 5003+2i. Orleans uses 11111+i and 30000+i. State (Redis AOF) and logs live in data/cluster/, so a restart
# finds every job again. Needs redis-server (apt-get install redis-server).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
dir="data/cluster"
redis_port="${REDIS_PORT:-6379}"

stop_cluster() {
  if [ -f "$dir/gateway.pid" ]; then
    pid="$(cat "$dir/gateway.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    rm -f "$dir/gateway.pid"
    echo "gateway stopped"
  fi
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
count=3; detach=""; gateway=""
for arg in "$@"; do
  case "$arg" in
    --detach) detach="--detach" ;;
    --gateway) gateway="--gateway" ;;
    *) if [[ "$arg" =~ ^[1-9][0-9]?$ ]]; then count="$arg"; else echo "usage: $0 [N] [--gateway] [--detach] | stop" >&2; exit 2; fi ;;
  esac
done
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
if [ -n "$gateway" ]; then
  echo "building the gateway..."
  dotnet build src/Scheduler.Gateway -c Release -v quiet -nologo >/dev/null
  gateway_dll="src/Scheduler.Gateway/bin/Release/net10.0/Scheduler.Gateway.dll"
fi
# Behind a gateway the silos serve no gRPC, and their health ports move up by one pair to leave 5000/5001 to it.
silo_args=(); offset=0
if [ -n "$gateway" ]; then silo_args=(--no-grpc); offset=1; fi

# One signing key for every silo, so a token minted by one is accepted by all (each silo would otherwise generate
# its own development key). Kept with the cluster's state; each silo still writes its operator token for its own
# address to the user's credential file, which the CLI reads.
[ -f "$dir/signing-key" ] || head -c 32 /dev/urandom | base64 > "$dir/signing-key"
key="$(cat "$dir/signing-key")"

: > "$dir/silo.pids"
for i in $(seq 0 $((count - 1))); do
  # From the build output, so the host finds its appsettings.json (the content root is the working directory).
  (cd "$(dirname "$host")" && exec dotnet Scheduler.Host.dll --no-demo "${silo_args[@]}" --data-dir "$root/$dir/silo$i" \
      --grpc-port $((5000 + 2 * (i + offset))) --http-port $((5001 + 2 * (i + offset))) --silo-port $((11111 + i)) --gateway-port $((30000 + i)) \
      --Cluster:Mode=Redis "--Cluster:RedisConnectionString=127.0.0.1:$redis_port" \
      --Scheduler:Auth:SigningKeys:0:Id=local-cluster "--Scheduler:Auth:SigningKeys:0:Key=$key" > "$root/$dir/silo$i.log" 2>&1) &
  echo $! >> "$dir/silo.pids"
done
if [ -n "$gateway" ]; then
  # The gateway validates the silos' tokens with the same key; it finds the silos in Redis by itself, whenever they start.
  (cd "$(dirname "$gateway_dll")" && exec dotnet Scheduler.Gateway.dll --grpc-port 5000 --http-port 5001 \
      --redis "127.0.0.1:$redis_port" \
      --Scheduler:Auth:SigningKeys:0:Id=local-cluster "--Scheduler:Auth:SigningKeys:0:Key=$key" > "$root/$dir/gateway.log" 2>&1) &
  echo $! > "$dir/gateway.pid"
fi
if [ "$detach" != "--detach" ]; then trap 'echo; stop_cluster; exit 0' INT TERM; fi

for i in $(seq 0 $((count - 1))); do
  for _ in $(seq 120); do curl -fs "http://127.0.0.1:$((5001 + 2 * (i + offset)))/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
done
echo
if [ -n "$gateway" ]; then
  for _ in $(seq 120); do curl -fs "http://127.0.0.1:5001/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
  echo "cluster of $count silos on Redis 127.0.0.1:$redis_port behind a gateway:"
  echo "  gateway: http://localhost:5000   (live http://localhost:5001/healthz, ready http://localhost:5001/readyz, log $dir/gateway.log)"
  for i in $(seq 0 $((count - 1))); do
    echo "  silo $i: no gRPC   (health http://localhost:$((5003 + 2 * i))/healthz, log $dir/silo$i.log)"
  done
  echo
  echo "try:  dotnet run --project src/Scheduler.Cli -- fleet"
  echo "      (the gateway wrote its operator token for http://127.0.0.1:5000 to ~/.config/green-scheduler/credentials.json)"
else
  echo "cluster of $count silos on Redis 127.0.0.1:$redis_port; gRPC addresses (any of them serves every job):"
  for i in $(seq 0 $((count - 1))); do
    echo "  silo $i: http://localhost:$((5000 + 2 * i))   (health http://localhost:$((5001 + 2 * i))/healthz, log $dir/silo$i.log)"
  done
  echo
  echo "try:  dotnet run --project src/Scheduler.Cli -- --address http://127.0.0.1:5000 fleet"
  echo "      (every silo accepts that silo's token from ~/.config/green-scheduler/credentials.json; for another silo's"
  echo "      address pass it with --token or SCHEDULER_TOKEN: the silos write that file at the same moment, so it may"
  echo "      hold only one of their entries)"
fi
if [ "$detach" = "--detach" ]; then echo "stop: $0 stop"; exit 0; fi
echo "Ctrl+C stops ${gateway:+the gateway, }the silos and Redis (state stays in $dir)."
wait
