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
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
trace="$work/survivors.nettrace"
# dotnet-trace takes dd:hh:mm:ss, each field in its own range.
duration="$(printf '00:%02d:%02d:%02d' $((seconds / 3600)) $((seconds / 60 % 60)) $((seconds % 60)))"
# GC keyword (0x1) at Verbose: allocation samples; 0x400000: the ranges each collection kept or moved.
"$tools/dotnet-trace" collect -p "$pid" --providers "Microsoft-Windows-DotNETRuntime:0x400001:5" \
    --duration "$duration" -o "$trace" >/dev/null
dotnet run -c Release --project "$here/GcSurvivors.csproj" -- "$trace" "$top"
