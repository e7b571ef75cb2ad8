#!/usr/bin/env bash
# Regenerates docs/results.md and docs/results/*.{json,html}: replays each shipped scenario in full through the
# scheduler (Release build, in-process host) against the baselines and the offline optimum.
# Usage: tools/results/run.sh [scenario ...]   (default: all three; the full great-plains year takes the longest)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results
mkdir -p "$out"
scenarios=("$@")
if (( ${#scenarios[@]} == 0 )); then scenarios=(inner-mongolia winter-stress great-plains); fi
dotnet build -c Release src/Scheduler.Cli >/dev/null
for name in "${scenarios[@]}"; do
  echo "== $name (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  dotnet run -c Release --no-build --project src/Scheduler.Cli -- replay "$name" \
    --json "$out/$name.json" --html "$out/$name.html" 2> >(tee "$out/$name.log" >&2 | grep -v '%' >/dev/null)
done
python3 tools/results/render.py "$out" > docs/results.md
echo "wrote docs/results.md" >&2
