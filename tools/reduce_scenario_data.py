#!/usr/bin/env python3
"""Reduce redistributable third-party data to the copies bundled with src/Scheduler.Scenarios/data/.

Each output stays in its source's own format (so the same C# readers read the original and the copy):
fewer columns, hourly instead of 15-minute, one year instead of two, gzip. See docs/scenarios.md and NOTICE.

  * NREL WIND Toolkit .srw (3 sites): the 5 header lines and every row, Direction columns dropped
    (Temperature, Pressure, Speed at 80 m and 100 m kept; cells byte-identical).
  * NREL NSRDB PSM3 .csv (3 sites): metadata lines cut to the first 10 keys (Source .. Local Time Zone),
    data columns Year, Month, Day, Hour, Minute, GHI, DHI, DNI, Wind Speed, Temperature (cells byte-identical).
  * Chinese State Grid PV stations 1, 2, 5: calendar year 2019, hourly means of the four quarter-hours
    (labelled with the hour's start), columns Time, Total solar irradiance, Global horizontal irradiance,
    Air temperature, Power (MW);
    header text verbatim.
  * Azure LLM inference trace (conversation): every request, timestamps cut from 100 ns to 1 ms.

Never reduces or bundles the Alibaba, Solcast, WattTime or Let's-Wait-Awhile files (their terms do not allow it).

Usage:
    python3 tools/reduce_scenario_data.py [SOURCE_DIR] [OUTPUT_DIR]

SOURCE_DIR defaults to ../shared/data relative to the repository root (files are looked up in its
generation/ and workload/ folders, then in SOURCE_DIR itself); OUTPUT_DIR to src/Scheduler.Scenarios/data.
Python 3 standard library only. Deterministic: gzip headers carry no name or time, so reruns are byte-identical.
"""

import gzip
import io
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SOURCE = os.path.join(REPO_ROOT, os.pardir, "shared", "data")
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, "src", "Scheduler.Scenarios", "data")

SRW = [
    "35.2018863_-101.945027_windtoolkit_2012_60min_80m_100m.srw",
    "41.939_-106.37_windtoolkit_2013_60min_80m_100m.srw",
    "48.31388179591837_-108.28291585106385_windtoolkit_2012_60min_80m_100m.srw",
]
PSM3 = [
    "35.2018863_-101.945027_psmv3_60_2012.csv",
    "41.939_-106.37_psmv3_60_2013.csv",
    "48.31388179591837_-108.28291585106385_psmv3_60_2012.csv",
]
PSM3_COLUMNS = ["Year", "Month", "Day", "Hour", "Minute", "GHI", "DHI", "DNI", "Wind Speed", "Temperature"]
PSM3_META_KEYS = 10
STATEGRID = [
    ("cn_stategrid_solar_site1_50MW_2019-2020_15min.csv.gz", "cn_stategrid_solar_site1_50MW_2019_60min.csv.gz"),
    ("cn_stategrid_solar_site2_130MW_2019-2020_15min.csv.gz", "cn_stategrid_solar_site2_130MW_2019_60min.csv.gz"),
    ("cn_stategrid_solar_site5_110MW_2019-2020_15min.csv.gz", "cn_stategrid_solar_site5_110MW_2019_60min.csv.gz"),
]
STATEGRID_COLUMNS = ["Time", "Total solar irradiance", "Global horizontal irradiance", "Air temperature", "Power (MW)"]
STATEGRID_YEAR = "2019"
AZURE = ("AzureLLMInferenceTrace_conv.csv", "AzureLLMInferenceTrace_conv.csv.gz")


def fail(msg):
    sys.exit("reduce_scenario_data: " + msg)


def find_source(source_dir, name):
    for sub in ("generation", "workload", ""):
        cand = os.path.join(source_dir, sub, name)
        if os.path.isfile(cand):
            return cand
    fail("source file not found: %s (looked in %s/{generation,workload,.})" % (name, source_dir))


def read_lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        return [l for l in f.read().splitlines() if l != ""]


def write_gz(path, lines):
    data = ("\n".join(lines) + "\n").encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return len(data), len(buf.getvalue())


def pick(cells, idx):
    return ",".join(cells[i] for i in idx)


def reduce_srw(src):
    lines = read_lines(src)
    fields = [s.strip() for s in lines[2].split(",")]
    keep = [i for i, f in enumerate(fields) if f != "Direction"]
    out = lines[:2] + [pick(l.split(","), keep) for l in lines[2:]]
    if len(out) - 5 != 8760:
        fail("%s: expected 8760 rows" % src)
    return out


def reduce_psm3(src):
    lines = read_lines(src)
    meta_keys = lines[0].split(",")[:PSM3_META_KEYS]
    meta_vals = lines[1].split(",")[:PSM3_META_KEYS]
    header = lines[2].split(",")
    try:
        keep = [header.index(c) for c in PSM3_COLUMNS]
    except ValueError:
        fail("%s: missing one of %s" % (src, PSM3_COLUMNS))
    return [",".join(meta_keys), ",".join(meta_vals), pick(header, keep)] + [pick(l.split(","), keep) for l in lines[3:]]


def fmt(x):
    s = "%.4f" % round(x, 4)
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return "0" if s in ("-0", "") else s


def reduce_stategrid(src):
    lines = read_lines(src)
    header = lines[0].split(",")
    idx = []
    for name in STATEGRID_COLUMNS:
        i = next((i for i, h in enumerate(header) if h.strip().startswith(name)), None)
        if i is None:
            fail("%s: no column starting with %r" % (src, name))
        idx.append(i)
    out = [pick(header, idx)]
    hour, acc = None, []

    def flush():
        if acc:
            if len(acc) != 4:
                fail("%s: hour %s has %d quarter-hours, expected 4" % (src, hour, len(acc)))
            means = [sum(r[k] for r in acc) / len(acc) for k in range(len(idx) - 1)]
            out.append(hour + ":00:00," + ",".join(fmt(m) for m in means))

    for line in lines[1:]:
        c = line.split(",")
        t = c[idx[0]]
        if not t.startswith(STATEGRID_YEAR):
            continue
        h = t[:13]  # yyyy-mm-dd HH
        if h != hour:
            flush()
            hour, acc = h, []
        acc.append([float(c[i]) for i in idx[1:]])
    flush()
    if len(out) - 1 != 8760:
        fail("%s: expected 8760 hours in %s, got %d" % (src, STATEGRID_YEAR, len(out) - 1))
    return out


def reduce_azure(src):
    lines = read_lines(src)
    out = [lines[0]]
    for l in lines[1:]:
        t, rest = l.split(",", 1)
        date, _, frac = t.partition(".")
        out.append(date + ("." + frac[:3] if frac else "") + "," + rest)
    return out


def main(argv):
    source_dir = argv[1] if len(argv) > 1 else DEFAULT_SOURCE
    output_dir = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT
    os.makedirs(output_dir, exist_ok=True)
    jobs = [(n, n + ".gz", reduce_srw) for n in SRW]
    jobs += [(n, n + ".gz", reduce_psm3) for n in PSM3]
    jobs += [(s, d, reduce_stategrid) for s, d in STATEGRID]
    jobs += [(AZURE[0], AZURE[1], reduce_azure)]
    total = 0
    for src_name, dst_name, reduce in jobs:
        src = find_source(source_dir, src_name)
        raw, packed = write_gz(os.path.join(output_dir, dst_name), reduce(src))
        total += packed
        print("%-72s %9d B text %8d B gz  (source %9d B)" % (dst_name, raw, packed, os.path.getsize(src)))
    print("total %d bytes (%.2f MB)" % (total, total / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
