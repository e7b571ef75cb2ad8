#!/usr/bin/env bash
# Starts the Aspire dashboard, a local viewer for the scheduler's traces, metrics and logs.
#   UI:   http://127.0.0.1:18888        OTLP (gRPC): http://127.0.0.1:4317
# Then run the scheduler with:  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 dotnet run --project src/Scheduler.Host
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dotnet restore "$here/Dashboard.csproj" >/dev/null
packages="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')"
dashboard="${packages%/}/aspire.dashboard.sdk.linux-x64/13.6.5/tools/Aspire.Dashboard"
[[ -x "$dashboard" ]] || { echo "Aspire dashboard not found at $dashboard" >&2; exit 1; }
export ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://127.0.0.1:18888}"
export ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="${ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL:-http://127.0.0.1:4317}"
export ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true
export ASPIRE_ALLOW_UNSECURED_TRANSPORT=true
echo "Aspire dashboard: $ASPNETCORE_URLS (OTLP at $ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL)"
exec "$dashboard"
