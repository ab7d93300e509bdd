#!/usr/bin/env python3
"""RVV f32 matmul efficiency from dynamic instruction counts (DESIGN.md §8).

Runs one kernel of a module.peng through peng-run-kernel under qemu-riscv64
with the peng-qemu-icount plugin at several VLENs (bench/qemu-icount/icount.py),
subtracting a run that skips the kernel, and reports per VLEN:
  efficiency = ideal / cost, ideal = M*N*K / (VLEN/32) LMUL-1 FMAs,
  cost = scalar + vset + LMUL-weighted vector instructions;
and the vector-op ratio between consecutive VLENs (ideally 2).

  efficiency.py --module mm.peng --kernel matmul_256 --mnk 256,256,256 \\
      --runner build/riscv64/bench/qemu-icount/peng-run-kernel [--check]

--check fails (exit 1) unless efficiency at VLEN 256 >= --min-efficiency
(default 0.5) and vector ops halve per VLEN doubling within --halving-tolerance
(default 10%). Instruction counts are deterministic: this is a regression
check on the code, not a timing.

--emu-runner (the release build's bench/emu/peng-emu-icount) counts the same
kernel again on an emulated NPU (backends/emu: the device server under QEMU,
driven through its rings), one dispatch minus none, and reports its
efficiency beside board mode's; --check then also wants the two within
--emu-tolerance (default 2%) of each other: it is the same code.
"""
import tempfile
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--module", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--mnk", required=True, help="M,N,K")
    p.add_argument("--runner", required=True, help="riscv64 peng-run-kernel")
    p.add_argument("--vlen", default="128,256,512")
    p.add_argument("--plugin", help="peng-qemu-icount.so (default: icount.py's search)")
    p.add_argument("--sysroot")
    p.add_argument("--json", help="also write the raw counts here")
    p.add_argument("--check", action="store_true")
    p.add_argument("--min-efficiency", type=float, default=0.5)
    p.add_argument("--halving-tolerance", type=float, default=0.10)
    p.add_argument("--emu-runner", help="x86-64 peng-emu-icount: count on an emulated NPU too")
    p.add_argument("--emu-tolerance", type=float, default=0.02)
    a = p.parse_args()

    cmd = [sys.executable, os.path.join(HERE, "..", "qemu-icount", "icount.py"),
           "--vlen", a.vlen, "--quiet", "--ideal-fma", a.mnk,
           "--baseline", f"{a.module} {a.kernel} --skip"]
    if a.plugin:
        cmd += ["--plugin", a.plugin]
    if a.sysroot:
        cmd += ["--sysroot", a.sysroot]
    cmd += ["--", a.runner, a.module, a.kernel]
    run = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if run.returncode != 0:
        print(f"efficiency.py: icount.py failed ({run.returncode})", file=sys.stderr)
        return 2
    data = json.loads(run.stdout)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(data, f, indent=1)

    vlens = [int(v) for v in a.vlen.split(",")]
    rows = []
    print(f"{a.kernel} ({a.mnk}), one module, VLEN-agnostic code")
    print(f"{'VLEN':>6} {'total':>10} {'scalar':>10} {'vset':>8} {'vector':>10} {'LMUL-wtd':>10} "
          f"{'ideal':>10} {'efficiency':>10} {'vec ratio':>9}")
    ok = True
    prev = None
    for v in vlens:
        r = data["results"][str(v)]
        n = r["net"]
        ratio = prev / n["vector"] if prev else None
        print(f"{v:>6} {n['total']:>10} {n['scalar']:>10} {n['vset']:>8} {n['vector']:>10} "
              f"{n['lmul_weighted']:>10} {int(r['ideal']):>10} {r['efficiency']:>10.3f} "
              f"{(f'{ratio:.3f}' if ratio else '-'):>9}")
        if a.check:
            if v == 256 and r["efficiency"] < a.min_efficiency:
                print(f"FAIL: efficiency {r['efficiency']:.3f} at VLEN 256 < {a.min_efficiency}")
                ok = False
            if ratio is not None and abs(ratio - 2.0) > 2.0 * a.halving_tolerance:
                print(f"FAIL: vector ops fell by {ratio:.3f}x from VLEN {v // 2} to {v}, "
                      f"not 2x within {a.halving_tolerance:.0%}")
                ok = False
        prev = n["vector"]
    if a.emu_runner:
        ok = emu_efficiency(a, data, vlens) and ok
    if a.check:
        print("PASS" if ok else "FAILED")
    return 0 if ok else 1


def emu_counts(a, vlen, dispatches, out):
    plugin = a.plugin or data_plugin()
    cmd = [a.emu_runner, a.module, a.kernel, "--dispatches", str(dispatches), "--vlen", str(vlen),
           "--qemu-args", f"-plugin {plugin},out={out} -d plugin"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def data_plugin():
    sys.exit("efficiency.py: --emu-runner needs --plugin")


def emu_efficiency(a, board, vlens):
    """The kernel on an emulated NPU: efficiency per VLEN beside board mode's."""
    m, n, k = (int(x) for x in a.mnk.split(","))
    ok = True
    print(f"{a.kernel} on an emulated NPU (backends/emu), one dispatch minus none")
    print(f"{'VLEN':>6} {'scalar':>10} {'vset':>8} {'LMUL-wtd':>10} {'efficiency':>10} "
          f"{'board':>10} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for v in vlens:
            base = emu_counts(a, v, 0, os.path.join(tmp, f"base{v}.json"))
            run = emu_counts(a, v, 1, os.path.join(tmp, f"run{v}.json"))
            net = {key: run[key] - base[key] for key in run}
            cost = net["scalar"] + net["vset"] + net["lmul_weighted"]
            eff = (m * n * k / (v / 32)) / cost
            board_eff = board["results"][str(v)]["efficiency"]
            ratio = eff / board_eff
            print(f"{v:>6} {net['scalar']:>10} {net['vset']:>8} {net['lmul_weighted']:>10} "
                  f"{eff:>10.3f} {board_eff:>10.3f} {ratio:>7.3f}")
            if a.check and abs(ratio - 1.0) > a.emu_tolerance:
                print(f"FAIL: at VLEN {v} the emulated NPU's efficiency {eff:.3f} is not board "
                      f"mode's {board_eff:.3f} within {a.emu_tolerance:.0%}")
                ok = False
    return ok


if __name__ == "__main__":
    sys.exit(main())
