"""One block per sweep run: its speed, its best val-subset evaluations and how it ended (sweep.sh)."""
import re
import sys

for path in sys.argv[1:]:
    lines = open(path).read().splitlines()
    vals = [(float(m.group(2)), l) for l in lines if (m := re.search(r"\[val\] step=(\d+) .*?pooledIoU@\S+=([\d.]+)", l))]
    steps = [l for l in lines if re.search(r" step=\d+ t=", l) and "[val]" not in l]
    print(f"== {path}: {len(vals)} evaluations")
    if steps:
        print("  last step:", steps[-1][:170])
    for _, l in sorted(vals, reverse=True)[:3]:
        print("  best:", l[:170])
    for l in lines:
        if re.search(r"ensemble|done|exit|error|Traceback", l):
            print("  ", l[:200])
