#!/usr/bin/env python3
"""Count a riscv64 program's dynamic instructions under qemu-riscv64 at several VLENs.

Runs PROGRAM under qemu-riscv64 with the peng-qemu-icount TCG plugin once per
VLEN and prints one JSON document on stdout. With --baseline, the same program
also runs with the baseline arguments, and the baseline counts are subtracted
("net"), so a driver's own set-up and tear-down cancel. With --ideal-fma M,N,K,
each VLEN also gets the f32 GEMM figure of merit of
shared/notes/rvv-matmul-schedule.md:

    ideal      = M*N*K / (VLEN/32)                      (LMUL-1 FMAs)
    cost       = scalar + vset + lmul_weighted          (on the net counts)
    efficiency = ideal / cost

(`scalar` excludes vset*, which the plugin files under `vector`; the note counts
vset* as scalar cost, so they are added back.)

The program's own stdout and stderr go to this script's stderr (or nowhere with
--quiet), so stdout holds only the JSON. Standard library only.

Example:
    icount.py --vlen 128,256,512 --baseline "1 1 1" --ideal-fma 256,256,256 \\
        -- ./sgemm-rv 256 256 256
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
PLUGIN_NAME = "peng-qemu-icount.so"
COUNT_KEYS = ("total", "scalar", "vector", "vset", "vsetvl_unknown", "vload", "vstore",
              "lmul_weighted")


class Failure(Exception):
    pass


def default_plugin():
    env = os.environ.get("PENG_QEMU_ICOUNT_PLUGIN")
    if env:
        return env
    candidates = [os.path.join(HERE, PLUGIN_NAME)]
    build = os.path.join(REPO, "build")
    if os.path.isdir(build):
        for preset in sorted(os.listdir(build)):
            candidates.append(os.path.join(build, preset, "bench", "qemu-icount", PLUGIN_NAME))
    for c in candidates:
        if os.path.isfile(c):
            return c
    return None


def parse_vlens(text):
    vlens = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            v = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError("bad VLEN %r" % part)
        if v < 128 or v > 65536 or v & (v - 1):
            raise argparse.ArgumentTypeError(
                "VLEN %d: QEMU 7.2 takes a power of two from 128 to 65536" % v)
        vlens.append(v)
    if not vlens:
        raise argparse.ArgumentTypeError("no VLEN given")
    return vlens


def parse_mnk(text):
    try:
        m, n, k = (int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("--ideal-fma takes M,N,K, e.g. 256,256,256")
    if min(m, n, k) <= 0:
        raise argparse.ArgumentTypeError("--ideal-fma: M, N, K must be positive")
    return (m, n, k)


def run_once(args, vlen, argv, outdir, tag):
    out = os.path.join(outdir, "counts-%d-%s.json" % (vlen, tag))
    plugin_arg = "%s,out=%s" % (args.plugin, out)
    if args.plugin_mode:
        plugin_arg += ",mode=" + args.plugin_mode
    cpu = "rv64,v=true,vlen=%d,elen=64,vext_spec=v1.0" % vlen
    if args.cpu_extra:
        cpu += "," + args.cpu_extra
    cmd = [args.qemu, "-L", args.sysroot, "-cpu", cpu, "-plugin", plugin_arg, "-d", "plugin"]
    cmd += argv
    if args.quiet:
        sink = subprocess.DEVNULL
    else:
        sink = sys.stderr
        sys.stderr.flush()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=sink,
                              stderr=subprocess.PIPE, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        raise Failure("timed out after %ss: %s" % (args.timeout, shlex.join(cmd)))
    except OSError as e:
        raise Failure("cannot run %s: %s" % (args.qemu, e))
    err = proc.stderr.decode(errors="replace")
    if err and not args.quiet:
        sys.stderr.write(err)
    if proc.returncode != 0:
        why = ("killed by signal %d" % -proc.returncode if proc.returncode < 0
               else "exit status %d" % proc.returncode)
        tail = "\n".join(err.strip().splitlines()[-10:])
        raise Failure("the run failed at VLEN %d (%s): the program, qemu or the plugin\n"
                      "  command: %s%s" % (vlen, why, shlex.join(cmd),
                                          ("\n  stderr:\n" + tail) if tail else ""))
    try:
        with open(out) as f:
            counts = json.load(f)
    except FileNotFoundError:
        raise Failure("the plugin wrote no counts at VLEN %d (did it load?)\n  command: %s\n  stderr: %s"
                      % (vlen, shlex.join(cmd), err.strip()[-2000:]))
    except ValueError as e:
        raise Failure("unreadable plugin output %s: %s" % (out, e))
    missing = [k for k in COUNT_KEYS if k not in counts]
    if missing:
        raise Failure("plugin output lacks %s" % ", ".join(missing))
    return {k: int(counts[k]) for k in COUNT_KEYS}


def main():
    ap = argparse.ArgumentParser(
        description="Dynamic RISC-V/RVV instruction counts under qemu-riscv64, per VLEN.",
        usage="%(prog)s [options] -- PROGRAM [ARGS...]")
    ap.add_argument("--vlen", type=parse_vlens, default=[128, 256, 512],
                    help="comma-separated VLENs in bits (default 128,256,512)")
    ap.add_argument("--sysroot", default=os.environ.get(
        "PENG_RISCV64_SYSROOT", os.path.join(REPO, ".cache", "riscv64-sysroot")),
        help="riscv64 sysroot for qemu -L (default: $PENG_RISCV64_SYSROOT or .cache/riscv64-sysroot)")
    ap.add_argument("--plugin", default=None,
                    help="path to peng-qemu-icount.so (default: $PENG_QEMU_ICOUNT_PLUGIN, "
                         "else the first build/*/bench/qemu-icount/ that has one)")
    ap.add_argument("--qemu", default=os.environ.get("PENG_QEMU_RISCV64", "qemu-riscv64"),
                    help="qemu-user binary (default qemu-riscv64; qemu-riscv64-static cannot load plugins)")
    ap.add_argument("--baseline", metavar='"ARGS..."', default=None,
                    help="arguments for a baseline run of the same program, subtracted from the counts")
    ap.add_argument("--ideal-fma", metavar="M,N,K", type=parse_mnk, default=None,
                    help="add ideal = M*N*K/(VLEN/32) and efficiency = ideal/cost per VLEN")
    ap.add_argument("--plugin-mode", choices=("run", "insn"), default=None,
                    help="plugin counting mode (default run; insn is slower, for cross-checks)")
    ap.add_argument("--cpu-extra", default="", help="extra -cpu properties, comma-separated")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per QEMU run (default 3600)")
    ap.add_argument("--quiet", action="store_true", help="discard the program's output")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- PROGRAM ARGS...")
    args = ap.parse_args()

    command = args.command
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        ap.error("no program given (put it after --)")

    try:
        qemu = shutil.which(args.qemu)
        if qemu is None:
            raise Failure("qemu not found: %s (Debian: apt install qemu-user)" % args.qemu)
        args.qemu = qemu
        if args.plugin is None:
            args.plugin = default_plugin()
            if args.plugin is None:
                raise Failure("no plugin: pass --plugin or set PENG_QEMU_ICOUNT_PLUGIN "
                              "(build target peng_qemu_icount)")
        args.plugin = os.path.abspath(args.plugin)
        if not os.path.isfile(args.plugin):
            raise Failure("plugin not found: %s" % args.plugin)
        if not os.path.isdir(args.sysroot):
            raise Failure("riscv64 sysroot not found: %s (scripts/ make it; or pass --sysroot)"
                          % args.sysroot)
        if "," in args.plugin:
            raise Failure("the plugin path may not contain a comma: %s" % args.plugin)
        program = command[0]
        if os.sep not in program and not os.path.exists(program):
            found = shutil.which(program)
            if found:
                program = found
        if not os.path.isfile(program):
            raise Failure("program not found: %s" % command[0])
        argv = [program] + command[1:]
        base_argv = None
        if args.baseline is not None:
            base_argv = [program] + shlex.split(args.baseline)

        doc = {
            "program": program,
            "args": command[1:],
            "baseline_args": base_argv[1:] if base_argv else None,
            "qemu": args.qemu,
            "plugin": args.plugin,
            "ideal_fma": list(args.ideal_fma) if args.ideal_fma else None,
            "results": {},
        }
        with tempfile.TemporaryDirectory(prefix="peng-icount-") as tmp:
            for vlen in args.vlen:
                entry = {"counts": run_once(args, vlen, argv, tmp, "run")}
                net = entry["counts"]
                if base_argv is not None:
                    base = run_once(args, vlen, base_argv, tmp, "baseline")
                    entry["baseline"] = base
                    net = {k: entry["counts"][k] - base[k] for k in COUNT_KEYS}
                    entry["net"] = net
                if args.ideal_fma:
                    m, n, k = args.ideal_fma
                    ideal = m * n * k / (vlen / 32)
                    cost = net["scalar"] + net["vset"] + net["lmul_weighted"]
                    entry["ideal"] = ideal
                    entry["cost"] = cost
                    entry["efficiency"] = (ideal / cost) if cost > 0 else None
                doc["results"][str(vlen)] = entry
    except Failure as e:
        sys.stderr.write("icount.py: error: %s\n" % e)
        return 2
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
