"""How long a small write plus fdatasync takes on this machine's disk (what a commit of
SQLite at synchronous=FULL, or of PostgreSQL's WAL, waits for): N times, p50 / p99 /
max in milliseconds. `python3 benches/fsync_latency.py [DIR] [N]`; benches/overload.sh
runs it unloaded and under its SPIN loops, to see what busy cores do to a commit."""

import os
import sys
import tempfile
import time

directory = sys.argv[1] if len(sys.argv) > 1 else "."
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
fd, path = tempfile.mkstemp(dir=directory)
try:
    took = []
    for i in range(count):
        start = time.perf_counter()
        os.pwrite(fd, b"x" * 4096, (i % 256) * 4096)
        os.fdatasync(fd)
        took.append((time.perf_counter() - start) * 1000)
finally:
    os.close(fd)
    os.unlink(path)
took.sort()
p = lambda q: took[min(len(took) - 1, int(len(took) * q))]
print(f"write+fdatasync x{count}: p50 {p(.5):.3f} p99 {p(.99):.3f} max {took[-1]:.3f} ms")
