#!/usr/bin/env python3
"""Reduce bundled third-party resource data to the built-in "inner-mongolia" demo series.

Produces a 14-day, hourly (336 rows) CSV of wind and solar capacity factors and outside
temperature for the three demo sites (horinger, ulanqab, baotou). See tools/README.md.

Usage:
    python3 tools/reduce_demo_data.py [SOURCE_DIR] [OUTPUT_CSV]

SOURCE_DIR defaults to ../shared/data relative to the repository root; files are looked up
in SOURCE_DIR/generation/ first, then SOURCE_DIR/. OUTPUT_CSV defaults to
src/Scheduler.Host/Demo/inner-mongolia-demo.csv under the repository root.

Python 3 standard library only. Deterministic: same inputs give byte-identical output.
"""

import csv
import datetime
import gzip
import io
import math
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SOURCE = os.path.join(REPO_ROOT, os.pardir, "shared", "data")
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, "src", "Scheduler.Host", "Demo", "inner-mongolia-demo.csv")

# Window: 14 days starting April 1 00:00 local time of each file's own year.
START_MONTH, START_DAY = 4, 1
DAYS = 14
HOURS = DAYS * 24  # 336

# Generic turbine power curve (no air-density correction).
CUT_IN = 3.0    # m/s
RATED = 12.0    # m/s
CUT_OUT = 25.0  # m/s

# (site id, WIND Toolkit .srw file, State Grid PV file, PV nominal capacity in MW)
SITES = [
    ("horinger",
     "41.939_-106.37_windtoolkit_2013_60min_80m_100m.srw",
     "cn_stategrid_solar_site1_50MW_2019-2020_15min.csv.gz", 50.0),
    ("ulanqab",
     "48.31388179591837_-108.28291585106385_windtoolkit_2012_60min_80m_100m.srw",
     "cn_stategrid_solar_site2_130MW_2019-2020_15min.csv.gz", 130.0),
    ("baotou",
     "35.2018863_-101.945027_windtoolkit_2012_60min_80m_100m.srw",
     "cn_stategrid_solar_site5_110MW_2019-2020_15min.csv.gz", 110.0),
]


def fail(msg):
    sys.exit("reduce_demo_data: " + msg)


def find_source(source_dir, name):
    for cand in (os.path.join(source_dir, "generation", name), os.path.join(source_dir, name)):
        if os.path.isfile(cand):
            return cand
    fail("source file not found: %s (looked in %s/generation and %s)" % (name, source_dir, source_dir))


def clip01(x):
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


def wind_cf(v):
    """Generic power curve: 0 below cut-in, cubic ramp to rated, 1 to cut-out, 0 above."""
    if v < CUT_IN or v > CUT_OUT:
        return 0.0
    if v >= RATED:
        return 1.0
    return clip01((v ** 3 - CUT_IN ** 3) / (RATED ** 3 - CUT_IN ** 3))


def read_srw(path):
    """Return (year, 100 m speeds, 100 m temperatures) for the demo window of a SAM .srw file.

    The .srw has 5 header lines (metadata, source, field names, units, heights) and no
    timestamps: data row i is hour i of the year in local standard time. Files hold 8760
    rows; for leap years (2012) NREL omits 29 February, so April 1 is row 90*24 = 2160 in
    both leap and non-leap years.
    """
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    meta = lines[0].split(",")
    year = int(meta[4])
    names = [s.strip() for s in lines[2].split(",")]
    heights = [s.strip() for s in lines[4].split(",")]
    try:
        i_speed = next(i for i, (n, h) in enumerate(zip(names, heights)) if n == "Speed" and h == "100")
        i_temp = next(i for i, (n, h) in enumerate(zip(names, heights)) if n == "Temperature" and h == "100")
    except StopIteration:
        fail("%s: no 100 m Speed/Temperature columns" % path)
    rows = [l for l in lines[5:] if l.strip()]
    if len(rows) != 8760:
        fail("%s: expected 8760 data rows, found %d" % (path, len(rows)))
    start_date = datetime.date(year, START_MONTH, START_DAY)
    doy = (start_date - datetime.date(year, 1, 1)).days
    if (datetime.date(year, 3, 1) - datetime.date(year, 2, 1)).days == 29 and start_date.month > 2:
        doy -= 1  # 29 February omitted from the 8760-row file
    start = doy * 24
    speeds, temps = [], []
    for line in rows[start:start + HOURS]:
        cells = line.split(",")
        v = float(cells[i_speed])
        t = float(cells[i_temp])
        if not (math.isfinite(v) and math.isfinite(t)) or v < 0:
            fail("%s: bad value in row %r" % (path, line))
        speeds.append(v)
        temps.append(t)
    return year, speeds, temps


def read_stategrid(path, capacity_mw):
    """Return (year, hourly PV capacity factors) for the demo window of a State Grid station file.

    Rows are 15-minute, local clock time. The window starts April 1 of the file's first year
    (2019); each hour is the mean of its four quarter-hours (hh:00, :15, :30, :45), divided by
    nominal capacity and clipped to [0, 1].
    """
    with gzip.open(path, "rb") as gz:
        reader = csv.reader(io.TextIOWrapper(gz, encoding="utf-8", newline=""))
        header = [h.strip() for h in next(reader)]
        try:
            i_time = next(i for i, h in enumerate(header) if h.startswith("Time"))
            i_power = header.index("Power (MW)")
        except (StopIteration, ValueError):
            fail("%s: unexpected header %r" % (path, header))
        first = next(reader)
        year = datetime.datetime.strptime(first[i_time], "%Y-%m-%d %H:%M:%S").year
        t0 = datetime.datetime(year, START_MONTH, START_DAY)
        t1 = t0 + datetime.timedelta(days=DAYS)
        quarter = datetime.timedelta(minutes=15)
        values = []
        expected = t0
        for row in [first] + [r for r in reader]:
            ts = datetime.datetime.strptime(row[i_time], "%Y-%m-%d %H:%M:%S")
            if ts < t0:
                continue
            if ts >= t1:
                break
            if ts != expected:
                fail("%s: gap or disorder at %s (expected %s)" % (path, ts, expected))
            p = float(row[i_power])
            if not math.isfinite(p):
                fail("%s: non-finite power at %s" % (path, ts))
            values.append(p)
            expected += quarter
    if len(values) != HOURS * 4:
        fail("%s: expected %d quarter-hours, found %d" % (path, HOURS * 4, len(values)))
    hourly = [clip01(sum(values[4 * h:4 * h + 4]) / 4.0 / capacity_mw) for h in range(HOURS)]
    return year, hourly


def fmt(x):
    x = round(x, 4)
    if x == 0.0:
        x = 0.0  # avoid "-0.0000"
    return "%.4f" % x  # '%' formatting ignores the locale


def main(argv):
    source_dir = argv[1] if len(argv) > 1 else DEFAULT_SOURCE
    output = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT
    header = ["hour"]
    columns = []
    for site, srw_name, pv_name, capacity in SITES:
        wind_year, speeds, temps = read_srw(find_source(source_dir, srw_name))
        pv_year, solar = read_stategrid(find_source(source_dir, pv_name), capacity)
        print("%-9s wind %s (%d-04-01 .. +14 d), solar %s (%d-04-01 .. +14 d)"
              % (site, srw_name, wind_year, pv_name, pv_year))
        header += [site + "_wind_cf", site + "_solar_cf", site + "_celsius"]
        columns += [[wind_cf(v) for v in speeds], solar, temps]

    out_dir = os.path.dirname(os.path.abspath(output))
    os.makedirs(out_dir, exist_ok=True)
    with open(output, "w", encoding="ascii", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for h in range(HOURS):
            f.write(",".join([str(h)] + [fmt(col[h]) for col in columns]) + "\n")

    print("wrote %s (%d rows)" % (os.path.normpath(output), HOURS))
    for name, col in zip(header[1:], columns):
        print("  mean %-18s %8.4f   min %8.4f   max %8.4f" % (name, sum(col) / len(col), min(col), max(col)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
