"""Summarizes `perf sched timehist` (stdin) for the threads of some processes, each
named on the command line as LABEL=PID (a bare PID is the server): per process and
thread kind, how long a woken thread waited for a core ("sch delay": wake-up to
running) and how long each run lasted, p50 / p99 / max in milliseconds. Used by
benches/overload.sh with SCHED_TRACE=1 (the server, the measuring wrk, the flood's)."""

import re
import sys
from collections import defaultdict

labels = {}
for arg in sys.argv[1:]:
    label, _, pid = arg.rpartition("=")
    labels[pid] = label
# "  79371.874569 [0001]  tokio-runtime-w[1234/1200]   0.014   0.003   1.148", or
# "name[1200]" for a process's first thread (and a kernel thread): tid = pid.
line = re.compile(r"^\s*[\d.]+\s+\[\d+\]\s+(.+?)\[(\d+)(?:/(\d+))?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")
delays = defaultdict(list)
runs = defaultdict(list)
for text in sys.stdin:
    m = line.match(text)
    pid = m and (m.group(3) or m.group(2))
    if pid not in labels:
        continue
    label = labels[pid]
    kind = f"{label} {m.group(1)}" if label else m.group(1)
    delays[kind].append(float(m.group(5)))
    runs[kind].append(float(m.group(6)))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


for kind in sorted(delays):
    d, r = delays[kind], runs[kind]
    print(
        f"  sched {kind}: {len(d)} runs, {sum(r):.0f} ms on a core in all; wait for a core"
        f" p50 {pct(d, .5):.3f} p99 {pct(d, .99):.3f} max {max(d):.3f} ms; run p50"
        f" {pct(r, .5):.3f} p99 {pct(r, .99):.3f} max {max(r):.3f} ms"
    )
