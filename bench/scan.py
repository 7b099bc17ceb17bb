#!/usr/bin/env python3
"""The scan benchmark: Bantay's `bantay scan` beside the same 4.1 + 4.2 analysis written as
SQL in DuckDB (bench/scan_duckdb.py), in one run, on the same CSV files, each in its own
process so that its wall time and peak memory (max RSS) are its own. Prints both sides,
the ratios, and whether the finding counts are identical; exits 1 if they are not.

usage: bench/scan.py [--persons 1000000] [--grants-per-person 11] [--runs 3] [--dir DIR]

Generates the organisation with `bantay demo generate` unless DIR already holds one.
Needs the release binary (cargo build --release) and the `duckdb` Python package.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BANTAY = os.path.join(ROOT, "target", "release", "bantay")
AT = "2026-07-01"


def measure(cmd, stdout):
    """Runs cmd; returns (seconds, peak RSS in MiB, exit code)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    err = proc.stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({code}):\n{err}")
    return seconds, usage.ru_maxrss / 1024, code


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--grants-per-person", type=int, default=11)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir")
    args = ap.parse_args()
    if not os.path.exists(BANTAY):
        sys.exit(f"{BANTAY} is missing: run `cargo build --release -p bantay` first")
    work = tempfile.mkdtemp(prefix="bantay-scan-bench-")
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work):
    data = args.dir or os.path.join(work, "org")
    if not os.path.exists(os.path.join(data, "grants.csv")):
        subprocess.run([BANTAY, "demo", "generate", "--out", data, "--persons", str(args.persons),
                        "--grants-per-person", str(args.grants_per_person), "--as-of", AT], check=True)
    size = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.endswith(".csv"))
    coverage = os.path.join(work, "coverage.csv")
    with open(coverage, "w") as out:
        subprocess.run([BANTAY, "policy", "table"], stdout=out, check=True)

    bantay_runs, duck_runs = [], []
    bantay_counts = duck_counts = None
    for _ in range(args.runs):
        out_path = os.path.join(work, "bantay.json")
        with open(out_path, "w") as out:
            bantay_runs.append(measure([BANTAY, "scan", data, "--at", AT, "--output", "json",
                                        "--threads", str(args.threads)], out))
        # Read only the summary at the head of the output: this process forks the next
        # run, and a child's peak memory counts what it inherited before exec.
        with open(out_path) as f:
            head = f.read(1 << 16)
        prefix = '{"summary":'
        if not head.startswith(prefix):
            sys.exit(f"unexpected bantay scan output: {head[:200]}")
        summary, _ = json.JSONDecoder().raw_decode(head[len(prefix):])
        by_clause = summary["findings_by_clause"]
        # 4.3 forbids standing datacenter entry: to DuckDB's table those are unjustified too.
        bantay_counts = {"unjustified": by_clause.get("4.1", 0) + by_clause.get("4.3", 0),
                         "separation_of_duties": by_clause.get("4.2", 0)}
        duck_out = os.path.join(work, "duck")
        os.makedirs(duck_out, exist_ok=True)
        result = os.path.join(work, "duck.json")
        with open(result, "w") as out:
            duck_runs.append(measure([sys.executable, os.path.join(ROOT, "bench", "scan_duckdb.py"), data,
                                      coverage, AT, duck_out, str(args.threads)], out))
        with open(result) as f:
            duck_counts = json.load(f)

    med = lambda runs, i: statistics.median(r[i] for r in runs)
    b_t, b_m, d_t, d_m = med(bantay_runs, 0), med(bantay_runs, 1), med(duck_runs, 0), med(duck_runs, 1)
    with open(os.path.join(data, "grants.csv")) as f:
        grants = sum(1 for _ in f) - 1
    print(f"scan: {args.persons} persons, {grants} grants, {size / 1e6:.0f} MB of CSV; "
          f"{args.threads} threads each; median of {args.runs} runs")
    print(f"  {'':24} {'wall':>9} {'peak memory':>13} {'unjustified':>12} {'4.2 breaches':>13}")
    print(f"  {'Bantay (bantay scan)':24} {b_t:8.2f}s {b_m:10.0f} MiB {bantay_counts['unjustified']:>12} {bantay_counts['separation_of_duties']:>13}")
    print(f"  {'DuckDB (SQL, 2 threads)':24} {d_t:8.2f}s {d_m:10.0f} MiB {duck_counts['unjustified']:>12} {duck_counts['separation_of_duties']:>13}")
    print(f"  Bantay is {d_t / b_t:.1f}x faster and uses {d_m / b_m:.1f}x less memory; "
          f"finding counts {'identical' if bantay_counts == duck_counts else 'DIFFER'}")
    sys.exit(0 if bantay_counts == duck_counts else 1)


if __name__ == "__main__":
    main()

