#!/usr/bin/env python3
"""Ratios and targets from peng-bench-opencl's JSON output.

    peng-bench-opencl --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \\
        --benchmark_out_format=json --benchmark_out=opencl.json
    python3 bench/opencl/compare.py opencl.json [more.json ...] [--check]

Reads one or more JSON files written by --benchmark_format=json or
--benchmark_out. Per benchmark it uses the median aggregate when the run had
repetitions, else the median over the iteration entries; over several files,
the median of those. Prints the machine and device, one table per launch
family with every implementation's ratio to raw_opencl, the sgemm table (per
size Peng's and CLBlast's GFLOP/s and Peng/CLBlast; a benchmark that failed,
a wrong result included, shows as FAILED), then the targets. With --check the
exit status is 1 when a target fails or cannot be evaluated. Standard library
only.
"""

import argparse
import json
import os
import re
import sys

# The JSON loader and number format are bench/runtime's.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runtime"))
from compare import fmt, load  # noqa: E402

# Target (issue 15): launch overhead through Peng at most 1.5x raw OpenCL's,
# same device, same run. Checked for the graph built once (`peng`); the
# fresh-graph rows add graph building and are shown for information.
PENG_VS_RAW_MAX = 1.5
BASELINE = "raw_opencl"

# Target (issue 15): sgemm through Peng at least as fast as CLBlast on the
# same device, same run, at 1024^3.
SGEMM_TARGET_N = 1024
PENG_VS_CLBLAST_MIN = 1.0
SGEMM = re.compile(r"sgemm_(\d+)$")

FAMILIES = [
    # family, what one iteration is
    ("launch_one", "one launch, submit to completion known on the host"),
    ("launch_10k", "independent launches enqueued together, one wait"),
]
EXTRAS = ["build_ns_per_launch", "run_ns_per_launch"]
LABELS = {"build_ns_per_launch": "build ns", "run_ns_per_launch": "run ns"}


def print_family(values, family, what):
    rows = sorted((impl, c) for (fam, impl), c in values.items() if fam == family)
    if not rows:
        return
    base = values.get((family, BASELINE), {}).get("ns_per_launch")
    shown = [e for e in EXTRAS if any(e in c for _, c in rows)]
    print(f"{family}: {what}")
    print(f"{'':22}{'ns/launch':>12}" + "".join(f"{LABELS[e]:>12}" for e in shown)
          + f"{'x ' + BASELINE:>16}")
    for impl, c in rows:
        v = c.get("ns_per_launch")
        line = f"  {impl:20}{fmt(v):>12}" + "".join(f"{fmt(c.get(e)):>12}" for e in shown)
        if base and v is not None:
            line += f"{v / base:>15.2f}x"
        print(line)
    print()


def failures(paths):
    """{(family, impl): error message} of the benchmarks that failed (load()
    only warns about them and leaves them out)."""
    failed = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            parts = b.get("run_name", b.get("name", "")).split("/")
            if b.get("error_occurred") and len(parts) >= 2:
                failed[(parts[0], parts[1])] = b.get("error_message", "error")
    return failed


def gflops(values, n, impl):
    return values.get((f"sgemm_{n}", impl), {}).get("GFLOP/s")


def gfmt(value):
    """GFLOP/s: two decimals, since a naive kernel runs below 1."""
    return fmt(value) if value is None or value >= 100 else f"{value:.2f}"


def without_clblast(context):
    return context.get("clblast", "").startswith("absent")


def print_sgemm(values, failed, context):
    sizes = sorted({int(m.group(1)) for fam, _ in list(values) + list(failed)
                    if (m := SGEMM.match(fam))})
    if not sizes:
        return
    print("sgemm: C = A * B, f32, N x N x N, one whole C per iteration "
          "(GFLOP/s = 2 N^3 / time)")
    print(f"{'N':>8}{'peng GFLOP/s':>16}{'clblast GFLOP/s':>18}{'peng/clblast':>15}")

    def cell(n, impl, width):
        if (f"sgemm_{n}", impl) in failed:
            return f"{'FAILED':>{width}}"
        return f"{gfmt(gflops(values, n, impl)):>{width}}"

    for n in sizes:
        peng, clblast = gflops(values, n, "peng"), gflops(values, n, "clblast")
        ratio = f"{peng / clblast:>14.2f}x" if peng and clblast else f"{'-':>15}"
        print(f"{n:>8}{cell(n, 'peng', 16)}{cell(n, 'clblast', 18)}{ratio}")
    for (family, impl), message in sorted(failed.items()):
        if SGEMM.match(family):
            print(f"  FAILED {family}/{impl}: {message}")
    if not any(impl == "clblast" for _, impl in values) and without_clblast(context):
        print("  no clblast rows: the binary was built without CLBlast (libclblast-dev)")
    print()


def sgemm_target(values, failed, context):
    """(passed or None, text) for Peng against CLBlast at SGEMM_TARGET_N."""
    n = SGEMM_TARGET_N
    name = f"sgemm {n}^3"
    peng, clblast = gflops(values, n, "peng"), gflops(values, n, "clblast")
    if peng and clblast:
        r = peng / clblast
        return r >= PENG_VS_CLBLAST_MIN, (
            f"{name}: peng {gfmt(peng)} / clblast {gfmt(clblast)} GFLOP/s = {r:.2f}x "
            f"(target >= {PENG_VS_CLBLAST_MIN:.1f}x)")
    why = [f"{impl} failed" for impl in ("peng", "clblast") if (f"sgemm_{n}", impl) in failed]
    if without_clblast(context):
        why.append("built without CLBlast (libclblast-dev)")
    return None, f"{name}: peng vs clblast: missing data ({', '.join(why) or 'not run'})"


def targets(values, failed, context):
    """Yields (passed or None, text)."""
    for family, _ in FAMILIES:
        peng = values.get((family, "peng"), {}).get("ns_per_launch")
        raw = values.get((family, BASELINE), {}).get("ns_per_launch")
        if peng and raw:
            r = peng / raw
            yield r <= PENG_VS_RAW_MAX, (
                f"{family}: peng {fmt(peng)} / {BASELINE} {fmt(raw)} ns/launch = {r:.2f}x "
                f"(target <= {PENG_VS_RAW_MAX:.1f}x)")
        else:
            yield None, f"{family}: peng vs {BASELINE}: missing data"
    yield sgemm_target(values, failed, context)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+", help="peng-bench-opencl JSON output")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a target fails or is missing")
    parser.add_argument("--skip-missing", action="store_true",
                        help="exit 77 (ctest's skip) when no JSON file exists: the benchmark "
                             "skipped a machine without an OpenCL device")
    args = parser.parse_args()
    if args.skip_missing and not any(os.path.exists(p) for p in args.json):
        print("no JSON output (no OpenCL device?): skipped")
        return 77
    values, context, _ = load(args.json)
    failed = failures(args.json)
    if not values and not failed:
        print("no benchmark results found", file=sys.stderr)
        return 1
    keys = ["date", "host_name", "num_cpus", "mhz_per_cpu", "load_avg", "peng_bench_tasks",
            "peng_bench_gemm_sizes"]
    print("machine: " + "  ".join(f"{k}={context[k]}" for k in keys if k in context))
    device = [context.get(k) for k in ("opencl_platform", "opencl_device", "opencl_driver")]
    print(f"device:  {' / '.join(d for d in device if d)}  "
          f"(peng: opencl:0 of {os.path.basename(context.get('peng_platform', '?'))}; "
          f"clblast {context.get('clblast', '?')})")
    print()
    for family, what in FAMILIES:
        print_family(values, family, what)
    print_sgemm(values, failed, context)
    print("targets")
    ok = True
    for passed, text in targets(values, failed, context):
        mark = {True: "PASS", False: "FAIL", None: "n/a "}[passed]
        ok = ok and passed is True
        print(f"  [{mark}] {text}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
