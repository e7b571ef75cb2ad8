#!/usr/bin/env bash
# Where a running .NET process spends its CPU: samples it with perf for SECONDS and prints the share of samples by
# part of the system (thread-pool spinning, the load tool's client, grains, gRPC, storage, ...) and the top methods.
#   tools/cpu-profile/run.sh PID [SECONDS=30] [TOP=30]
# Managed frames get names only if the process was started with DOTNET_PerfMapEnabled=1 and
# DOTNET_EnableWriteXorExecute=0 (the runtime then writes /tmp/perf-PID.map for code it does not double-map), e.g.
#   DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 dotnet src/Scheduler.Cli/bin/Release/net10.0/scheduler.dll bench ...
# perf's cpu-clock event works in VMs without hardware counters. Sampling at 499 Hz costs the process little.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pid="${1:?usage: run.sh PID [SECONDS] [TOP]}"
seconds="${2:-30}"
top="${3:-30}"
command -v perf >/dev/null || { echo "perf not found (Debian: apt-get install linux-perf)" >&2; exit 2; }
[[ -f "/tmp/perf-$pid.map" ]] || echo "warning: no /tmp/perf-$pid.map: managed frames will show as [unknown] (see the header of $0)" >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
perf record -e cpu-clock -F 499 -g -p "$pid" -o "$work/perf.data" -- sleep "$seconds" 2>/dev/null
perf script -i "$work/perf.data" 2>/dev/null | python3 "$here/summarise.py" "$top"
