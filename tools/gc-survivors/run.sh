#!/usr/bin/env bash
# Which types a running .NET process's young collections keep: traces it for SECONDS and prints the kept bytes by type.
#   tools/gc-survivors/run.sh PID [SECONDS=40] [TOP_TYPES=30]
# PID is the dotnet process itself (for the bench: the `dotnet …scheduler.dll bench` process, not a `timeout` around it).
# Installs dotnet-trace into tools/gc-survivors/.tools on first use. Tracing slows the process: read its figures for what
# is kept, not for latency.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pid="${1:?usage: run.sh PID [SECONDS] [TOP_TYPES]}"
seconds="${2:-40}"
top="${3:-30}"
tools="$here/.tools"
[[ -x "$tools/dotnet-trace" ]] || dotnet tool install dotnet-trace --version 10.0.750501 --tool-path "$tools" >/dev/null
trace="$(mktemp -d)/survivors.nettrace"
# GC keyword (0x1) at Verbose: allocation samples; 0x400000: the ranges each collection kept or moved.
"$tools/dotnet-trace" collect -p "$pid" --providers "Microsoft-Windows-DotNETRuntime:0x400001:5" \
    --duration "00:00:00:$seconds" -o "$trace" >/dev/null
dotnet run -c Release --project "$here/GcSurvivors.csproj" -- "$trace" "$top"
