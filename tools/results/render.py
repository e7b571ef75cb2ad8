#!/usr/bin/env python3
"""Renders docs/results.md from the replay JSON files in the given directory (written by tools/results/run.sh)."""
import json
import sys
from pathlib import Path

ROWS = [
    ("greenAvailableMWh", "Green available", "MWh", "{:,.0f}"),
    ("greenUsedMWh", "Green used", "MWh", "{:,.0f}"),
    ("greenShare", "Green share", "%", "{:.1%}"),
    ("curtailedMWh", "Curtailed", "MWh", "{:,.0f}"),
    ("gridImportMWh", "Grid import", "MWh", "{:,.0f}"),
    ("exportMWh", "Export", "MWh", "{:,.1f}"),
    ("batteryThroughputMWh", "Battery throughput", "MWh", "{:,.0f}"),
    ("deadlineMisses", "Deadline misses", "jobs", "{:,}"),
    ("completedJobs", "Completed jobs", "jobs", "{:,}"),
    ("relocations", "Relocations", "moves", "{:,}"),
    ("relocatedGB", "Relocated", "GB", "{:,.0f}"),
    ("relocationMWh", "Relocation energy", "MWh", "{:,.1f}"),
    ("costCny", "Energy cost", "CNY", "{:,.0f}"),
    ("co2Kg", "CO2 emitted", "kg", "{:,.0f}"),
    ("tokensPerKwh", "Tokens per kWh", "tokens/kWh", "{:,.0f}"),
]
ORDER = ["scheduler", "greedy", "agnostic", "optimum"]


def section(path: Path) -> str:
    r = json.loads(path.read_text())
    policies = [p for p in ORDER if p in r["policies"]]
    lines = [f"## {r['scenario']}", "",
             f"{r['from']} to {r['to']}, step {r['step']}, {r['jobs']:,} jobs; replay took {r['elapsedSeconds']:.0f} s. "
             f"Plots: [`results/{path.stem}.html`](results/{path.stem}.html).", "",
             "| figure | unit | " + " | ".join(policies) + " |", "|---|---|" + "---:|" * len(policies)]
    for key, label, unit, fmt in ROWS:
        lines.append(f"| {label} | {unit} | " + " | ".join(fmt.format(r["policies"][p][key]) for p in policies) + " |")
    agnostic = r["policies"].get("agnostic")
    curtail = ""
    if agnostic and "scheduler" in r["policies"]:
        ours, theirs = r["policies"]["scheduler"]["curtailedMWh"], agnostic["curtailedMWh"]
        curtail = f"; curtailment {ours / theirs:.2f} × agnostic's" if theirs > 0 else ""
    lines += ["", f"**ratioToOptimum {r['ratioToOptimum']:.3f}** (target ≥ 0.95: {'met' if r['ratioToOptimum'] >= 0.95 else 'missed'}), "
                  f"capturedGain {r['capturedGain']:.3f}{curtail}.", ""]
    return "\n".join(lines)


def targets(reports: list) -> str:
    lines = ["## Targets", "", "| scenario | ratioToOptimum ≥ 0.95 | curtailment ≤ ½ agnostic's (optimum's own) | export 0 | deadline misses (agnostic's) | replay time |",
             "|---|---|---|---|---|---|"]
    for r in reports:
        p = r["policies"]
        ours, agn, opt = p["scheduler"], p["agnostic"], p["optimum"]
        ratio = f"{r['ratioToOptimum']:.3f} {'met' if r['ratioToOptimum'] >= 0.95 else 'missed'}"
        c = ours["curtailedMWh"] / agn["curtailedMWh"] if agn["curtailedMWh"] > 0 else 0
        co = opt["curtailedMWh"] / agn["curtailedMWh"] if agn["curtailedMWh"] > 0 else 0
        curtail = f"{c:.2f} {'met' if c <= 0.5 else 'missed'} ({co:.2f})"
        export = "met" if all(v["exportMWh"] == 0 for v in p.values()) else "MISSED"
        timing = f"{r['elapsedSeconds']:.0f} s" + (f" ({'met' if r['elapsedSeconds'] < 60 else 'missed'}: target < 60 s)" if r["scenario"] == "great-plains" else "")
        lines.append(f"| {r['scenario']} | {ratio} | {curtail} | {export} | {ours['deadlineMisses']:,} ({agn['deadlineMisses']:,}) | {timing} |")
    tail = Path(__file__).with_name("results-tail.md")
    return "\n".join(lines) + "\n\n" + (tail.read_text() if tail.exists() else "")


def main() -> None:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/results")
    files = sorted(directory.glob("*.json"), key=lambda p: ["inner-mongolia", "great-plains", "winter-stress"].index(p.stem)
                   if p.stem in ("inner-mongolia", "great-plains", "winter-stress") else 99)
    head = Path(__file__).with_name("results-head.md").read_text()
    print(head.rstrip() + "\n")
    for f in files:
        print(section(f))
    print(targets([json.loads(f.read_text()) for f in files]))


if __name__ == "__main__":
    main()
