#!/usr/bin/env python3
"""Self-test of peng-qemu-icount: checks icount.py's counts for selftest.c.

Runs `icount.py --baseline 0 -- selftest 1000` (builds nothing: the riscv64
selftest binary and the plugin come from the build) and checks, at each VLEN,
that the baseline-subtracted counts are exactly 1000 times the per-iteration
counts documented in selftest.c, in both plugin modes (scalar runs, and one
callback per instruction), and that `total` lies within a small window above
1000 x 24 (strtol parsing "1000" instead of "0"). Exit status 0 on success.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ITERATIONS = 1000
# Per iteration of the asm loop in selftest.c.
PER_ITER = {
    "vector": 19,
    "vset": 4,
    "vsetvl_unknown": 1,
    "vload": 6,
    "vstore": 4,
    "lmul_weighted": 34,
}
PER_ITER_TOTAL = 24
PER_ITER_SCALAR = PER_ITER_TOTAL - PER_ITER["vector"]
# Instructions outside the loop that differ between the two runs (argument parsing).
WINDOW = 200


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--selftest", required=True, help="the riscv64 selftest binary")
    ap.add_argument("--plugin", required=True, help="peng-qemu-icount.so")
    ap.add_argument("--sysroot", required=True, help="riscv64 sysroot")
    ap.add_argument("--qemu", default="qemu-riscv64")
    ap.add_argument("--vlen", default="128,256,512")
    args = ap.parse_args()

    failures = []
    for mode in ("run", "insn"):
        cmd = [sys.executable, os.path.join(HERE, "icount.py"), "--vlen", args.vlen,
               "--sysroot", args.sysroot, "--plugin", args.plugin, "--qemu", args.qemu,
               "--plugin-mode", mode, "--quiet", "--baseline", "0",
               "--", args.selftest, str(ITERATIONS)]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            print("FAIL: icount.py exited with status %d" % proc.returncode)
            return 1
        doc = json.loads(proc.stdout)
        for vlen, entry in doc["results"].items():
            net = entry["net"]
            where = "mode=%s VLEN=%s" % (mode, vlen)
            print("%s: net %s" % (where, json.dumps(net, sort_keys=True)))
            for key, per in PER_ITER.items():
                want = per * ITERATIONS
                if net[key] != want:
                    failures.append("%s: %s = %d, expected %d" % (where, key, net[key], want))
            lo = PER_ITER_TOTAL * ITERATIONS
            if not lo <= net["total"] <= lo + WINDOW:
                failures.append("%s: total = %d, expected %d..%d" % (where, net["total"], lo, lo + WINDOW))
            lo = PER_ITER_SCALAR * ITERATIONS
            if not lo <= net["scalar"] <= lo + WINDOW:
                failures.append("%s: scalar = %d, expected %d..%d" % (where, net["scalar"], lo, lo + WINDOW))
            if net["scalar"] != net["total"] - net["vector"]:
                failures.append("%s: scalar != total - vector" % where)
    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
