#!/usr/bin/env python3
"""GFLOP/s tables and Peng's ratios from peng-bench-kernels' JSON output.

    peng-bench-kernels --benchmark_repetitions=3 \\
        --benchmark_out_format=json --benchmark_out=kernels.json
    python3 bench/kernels/compare.py kernels.json [more.json ...]

Reads one or more JSON files written by --benchmark_out (or
--benchmark_format=json). Per benchmark it takes the GFLOP/s counter: the
median aggregate when the run had repetitions, else the median over the
iteration entries; with several files, the median of those. Prints one table
per family and size: each implementation's GFLOP/s and milliseconds per
iteration, then Peng/OpenBLAS and Peng/oneDNN (above 1: Peng is faster).
Benchmarks that failed (error_occurred) are listed on stderr and left out.
Exit status 1 when no result could be read. Standard library only.
"""

import argparse
import json
import statistics
import sys

IMPLS = ["openblas", "onednn", "peng"]          # column order
BASELINES = [("openblas", "OpenBLAS"), ("onednn", "oneDNN")]
COUNTER = "GFLOP/s"


def load(paths):
    """Returns ({(family, n): {impl: {"gflops", "ms", "cv", "lo", "hi"},
    "ratios": {baseline: ratio}}}, contexts, errors)."""
    per_file = []  # one {(family, n, impl): {"gflops", "ms", "cv"}} per file
    contexts, errors = [], []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        contexts.append((path, data.get("context", {})))
        medians, iterations = {}, {}
        for b in data.get("benchmarks", []):
            name = b.get("run_name", b.get("name", ""))
            parts = name.split("/")
            if len(parts) < 3 or not parts[2].isdigit():
                continue
            key = (parts[0], int(parts[2]), parts[1])
            if b.get("error_occurred"):
                errors.append(f"{path}: {name}: {b.get('error_message', 'error')}")
                continue
            if COUNTER not in b:
                continue
            ms = to_ms(b.get("real_time"), b.get("time_unit", "ns"))
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    medians.setdefault(key, {}).update({"gflops": b[COUNTER], "ms": ms})
                elif b.get("aggregate_name") == "cv":
                    medians.setdefault(key, {})["cv"] = b[COUNTER]
                continue
            entry = iterations.setdefault(key, {"gflops": [], "ms": []})
            entry["gflops"].append(b[COUNTER])
            entry["ms"].append(ms)
        for key, entry in iterations.items():
            if "gflops" not in medians.get(key, {}):
                medians.setdefault(key, {}).update(
                    {k: statistics.median(v) for k, v in entry.items()})
        per_file.append({k: v for k, v in medians.items() if "gflops" in v})

    table = {}
    keys = {k for values in per_file for k in values}
    for family, n, impl in keys:
        got = [values[(family, n, impl)] for values in per_file if (family, n, impl) in values]
        row = {}
        for field in ("gflops", "ms", "cv"):
            v = [g[field] for g in got if g.get(field) is not None]
            if v:
                row[field] = statistics.median(v)
        if len(got) > 1:
            row["lo"] = min(g["gflops"] for g in got)
            row["hi"] = max(g["gflops"] for g in got)
        table.setdefault((family, n), {})[impl] = row
    # Ratios within each file (one run, one machine state), then the median.
    for (family, n), row in table.items():
        row["ratios"] = {}
        for base, _ in BASELINES:
            r = [values[(family, n, "peng")]["gflops"] / values[(family, n, base)]["gflops"]
                 for values in per_file
                 if (family, n, "peng") in values and (family, n, base) in values
                 and values[(family, n, base)]["gflops"]]
            if r:
                row["ratios"][base] = statistics.median(r)
    return table, contexts, errors


def to_ms(value, unit):
    if value is None:
        return None
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}.get(unit, 1e-6)
    return value * scale


def fmt(value, spec, width):
    text = "-" if value is None else format(value, spec)
    return text.rjust(width)


def print_table(family, n, results):
    print(f"{family} {n}x{n}x{n} (f32, GFLOP/s = 2*M*N*K / wall time)")
    ratios = results.get("ratios", {})
    impls = [i for i in IMPLS if i in results]
    impls += sorted(set(results) - set(IMPLS) - {"ratios"})
    print(f"  {'implementation':<16}{'GFLOP/s':>10}{'ms/iter':>12}{'cv':>8}{'runs':>16}")
    for impl in impls:
        r = results[impl]
        cv = r.get("cv")
        runs = f"{r['lo']:.1f}..{r['hi']:.1f}" if "lo" in r else "-"
        print(f"  {impl:<16}{fmt(r.get('gflops'), '.2f', 10)}{fmt(r.get('ms'), '.3f', 12)}"
              f"{fmt(None if cv is None else 100 * cv, '.1f', 7)}{'%' if cv is not None else ' '}"
              f"{runs:>16}")
    for base, label in BASELINES:
        print(f"  {'peng/' + label:<16}{fmt(ratios.get(base), '.3f', 10)}")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json", nargs="+", help="Google Benchmark JSON output(s)")
    args = parser.parse_args()

    table, contexts, errors = load(args.json)
    for path, ctx in contexts:
        threads = ctx.get("peng_bench_threads", "?")
        load_avg = ctx.get("load_avg")
        load_text = ", ".join(f"{x:.2f}" for x in load_avg) if load_avg else "?"
        print(f"{path}: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs, "
              f"--threads {threads} (OpenBLAS {ctx.get('openblas_threads', '?')}, "
              f"oneDNN OpenMP {ctx.get('onednn_omp_threads', '?')}, "
              f"Peng cpu0 {ctx.get('peng_cpu_threads', '?')}), load average {load_text}")
    print()
    for e in errors:
        print(f"failed: {e}", file=sys.stderr)
    if not table:
        print("no GFLOP/s results found", file=sys.stderr)
        return 1
    for family, n in sorted(table):
        print_table(family, n, table[(family, n)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
