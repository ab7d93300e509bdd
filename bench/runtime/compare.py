#!/usr/bin/env python3
"""Ratios and targets from peng-bench-runtime's JSON output.

    peng-bench-runtime --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \\
        --benchmark_out_format=json --benchmark_out=runtime.json
    python3 bench/runtime/compare.py runtime.json [--check]

Reads one or more JSON files written by --benchmark_format=json or
--benchmark_out. Per benchmark it uses the median aggregate when the run had
repetitions, else the median over the iteration entries. Prints one table per
family with Peng's ratio to every other implementation, then the targets.
With --check the exit status is 1 when a target is missed or cannot be
evaluated. Standard library only.
"""

import argparse
import json
import statistics
import sys

# Targets, checked against this run's numbers (see README.md).
EMPTY_VS_FLOW_GRAPH_MAX = 1.25   # peng ns/task <= 1.25 x tbb_flow_graph
EMPTY_VS_STARPU_MAX = 1.0        # peng ns/task < starpu
CHAIN_NS_PER_TASK_MAX = 500.0    # peng chain ns/task (build + run)
BYTES_PER_TASK_MAX = 512.0       # peng queued bytes/task, worst variant

FAMILIES = [
    # family, primary counter, unit label, extra counters shown
    ("empty_tasks", "ns_per_task", "ns/task", ["build_ns_per_task", "run_ns_per_task"]),
    ("chain", "ns_per_task", "ns/task", ["build_ns_per_task", "run_ns_per_task"]),
    ("graph_rerun", "ns_per_run", "ns/run", ["ns_per_task"]),
    ("queued_memory", "bytes_per_task", "B/task", ["rss_bytes_per_task", "graph_bytes_per_task"]),
]


def load(paths):
    """Returns ({(family, impl): {counter: value}}, context, labels).

    Each file contributes one sample per benchmark and counter: its median
    aggregate when it has one, else every iteration entry. With several files
    (runs made at different times) the result is the median of the samples.
    """
    samples = {}
    labels = {}
    context = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        context = data.get("context", context)
        medians, iterations = {}, {}
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                print(f"warning: {b.get('name')}: {b.get('error_message', 'error')}",
                      file=sys.stderr)
                continue
            parts = b.get("run_name", b.get("name", "")).split("/")
            if len(parts) < 2:
                continue
            key = (parts[0], parts[1])
            if b.get("label"):
                labels[key] = b["label"]
            numeric = {k: v for k, v in b.items() if isinstance(v, (int, float))
                       and not isinstance(v, bool)}
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    medians.setdefault(key, {}).update(numeric)
                continue
            for k, v in numeric.items():
                iterations.setdefault(key, {}).setdefault(k, []).append(v)
        for key, counters in iterations.items():
            if key in medians:
                continue
            for k, v in counters.items():
                samples.setdefault(key, {}).setdefault(k, []).extend(v)
        for key, counters in medians.items():
            for k, v in counters.items():
                samples.setdefault(key, {}).setdefault(k, []).append(v)
    values = {key: {k: statistics.median(v) for k, v in counters.items()}
              for key, counters in samples.items()}
    return values, context, labels


LABELS = {
    "ns_per_task": "ns/task",
    "build_ns_per_task": "build ns/task",
    "run_ns_per_task": "run ns/task",
    "rss_bytes_per_task": "rss B/task",
    "graph_bytes_per_task": "graph B/task",
}


def fmt(value):
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def print_family(values, labels, family, counter, unit, extras):
    rows = sorted((impl, c) for (fam, impl), c in values.items() if fam == family)
    if not rows:
        return
    peng = [c.get(counter) for impl, c in rows if impl.startswith("peng")]
    peng_ref = max((p for p in peng if p is not None), default=None)
    shown = [e for e in extras if any(e in c for _, c in rows)]
    header = f"{'':18}{unit:>12}" + "".join(f"{LABELS.get(e, e):>15}" for e in shown)
    if peng_ref is not None:
        header += f"{'peng/this':>12}"
    print(f"{family}")
    print(header)
    for impl, c in rows:
        v = c.get(counter)
        line = f"  {impl:16}{fmt(v):>12}" + "".join(f"{fmt(c.get(e)):>15}" for e in shown)
        if peng_ref is not None and v is not None and v >= 1:  # < 1: nothing measured
            line += f"{peng_ref / v:>11.2f}x"
        if (family, impl) in labels:
            line += f"  ({labels[(family, impl)]})"
        print(line)
    print()


def get(values, family, impl, counter):
    return values.get((family, impl), {}).get(counter)


def targets(values):
    """Yields (passed or None, text)."""
    peng = get(values, "empty_tasks", "peng", "ns_per_task")
    fg = get(values, "empty_tasks", "tbb_flow_graph", "ns_per_task")
    if peng and fg:
        r = peng / fg
        yield r <= EMPTY_VS_FLOW_GRAPH_MAX, (
            f"empty tasks: peng {peng:.0f} / tbb_flow_graph {fg:.0f} ns/task = {r:.2f}x "
            f"(target <= {EMPTY_VS_FLOW_GRAPH_MAX:.2f}x)")
    else:
        yield None, "empty tasks: peng vs tbb_flow_graph: missing data"
    sp = get(values, "empty_tasks", "starpu", "ns_per_task")
    if peng and sp:
        r = peng / sp
        yield r < EMPTY_VS_STARPU_MAX, (
            f"empty tasks: peng {peng:.0f} / starpu {sp:.0f} ns/task = {r:.2f}x (target < 1)")
    else:
        yield None, "empty tasks: peng vs starpu: missing data (built without StarPU?)"
    chain = get(values, "chain", "peng", "ns_per_task")
    if chain:
        run = get(values, "chain", "peng", "run_ns_per_task")
        extra = f", of which submit+wait {run:.0f}" if run else ""
        yield chain <= CHAIN_NS_PER_TASK_MAX, (
            f"chain: peng {chain:.0f} ns/task{extra} (target <= {CHAIN_NS_PER_TASK_MAX:.0f})")
    else:
        yield None, "chain: peng: missing data"
    mem = [(impl, c["bytes_per_task"]) for (fam, impl), c in values.items()
           if fam == "queued_memory" and impl.startswith("peng") and "bytes_per_task" in c]
    if mem:
        impl, worst = max(mem, key=lambda x: x[1])
        yield worst <= BYTES_PER_TASK_MAX, (
            f"queued memory: peng {worst:.0f} bytes/task (worst: {impl}; "
            f"target <= {BYTES_PER_TASK_MAX:.0f})")
    else:
        yield None, "queued memory: peng: missing data"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+", help="peng-bench-runtime JSON output")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a target is missed or missing")
    args = parser.parse_args()
    values, context, labels = load(args.json)
    if not values:
        print("no benchmark results found", file=sys.stderr)
        return 1
    keys = ["date", "host_name", "num_cpus", "load_avg", "peng_bench_tasks",
            "peng_bench_threads", "peng_policy", "tbb_version", "starpu_version"]
    print("  ".join(f"{k}={context[k]}" for k in keys if k in context))
    print()
    for family, counter, unit, extras in FAMILIES:
        print_family(values, labels, family, counter, unit, extras)
    print("targets")
    ok = True
    for passed, text in targets(values):
        mark = {True: "PASS", False: "MISS", None: "n/a "}[passed]
        ok = ok and passed is True
        print(f"  [{mark}] {text}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
